//! Call durations: shown in the timeline ("45s", "15m", "1h 05m") and typed in the editor
//! and the CLI ("15m", "1h30m", "1:30"). Must never panic, whatever a server sends or a person types.

/// Seconds in a minute and minutes in an hour.
const SIXTY: u64 = 60;

/// A call's length for display: seconds under a minute, otherwise rounded to the
/// nearest minute, with hours from 60 minutes on ("45s", "15m", "1h 05m").
pub fn format_duration(seconds: u32) -> String {
    if u64::from(seconds) < SIXTY {
        return format!("{seconds}s");
    }
    // u64 so that rounding up u32::MAX cannot overflow.
    let minutes = (u64::from(seconds) + SIXTY / 2) / SIXTY;
    if minutes < SIXTY {
        format!("{minutes}m")
    } else {
        format!("{}h {:02}m", minutes / SIXTY, minutes % SIXTY)
    }
}

/// Why a typed duration was refused; `Display` is the message shown under the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing recognisable: empty, unknown words, stray characters, too long.
    #[error("a duration like 15m, 1h30m or 1:30")]
    Invalid,
    #[error("the duration must be more than zero")]
    Zero,
    #[error("a duration can't be negative")]
    Negative,
    /// Also used when a number is too big to even hold, so `99999…h` reads naturally.
    #[error("longer than 24 hours — check the duration")]
    TooLong,
    /// Digits from other scripts (Arabic-Indic, fullwidth…) look right but are not accepted.
    #[error("use the digits 0-9")]
    NonAsciiDigits,
    #[error("after the colon use 00 to 59, like 1:30")]
    ClockField,
    #[error("use the units h, m and s, like 1h30m")]
    UnknownUnit,
    #[error("each unit once, hours first, like 1h30m")]
    UnitOrder,
    #[error("that isn't a whole number of seconds")]
    NotWholeSeconds,
}

/// The longest duration accepted: a call longer than a day is a typo.
pub const MAX_DURATION_SECONDS: u32 = 24 * 60 * 60;

/// The longest input worth reading ("1 hour 30 minutes 15 seconds" is 28). Checked first so
/// that pasted walls of text are refused without being scanned.
const MAX_INPUT_LEN: usize = 40;

/// Hours, minutes and seconds, ordered so that a later part must be a smaller unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Second,
    Minute,
    Hour,
}

impl Unit {
    fn seconds(self) -> u64 {
        match self {
            Unit::Second => 1,
            Unit::Minute => SIXTY,
            Unit::Hour => SIXTY * SIXTY,
        }
    }

    fn from_word(word: &str) -> Option<Unit> {
        match word {
            "h" | "hr" | "hrs" | "hour" | "hours" => Some(Unit::Hour),
            "m" | "min" | "mins" | "minute" | "minutes" => Some(Unit::Minute),
            "s" | "sec" | "secs" | "second" | "seconds" => Some(Unit::Second),
            _ => None,
        }
    }

    /// The unit a bare trailing number takes after this one: "1h30" is 1h30m, "2m30" is 2m30s.
    fn next_smaller(self) -> Option<Unit> {
        match self {
            Unit::Hour => Some(Unit::Minute),
            Unit::Minute => Some(Unit::Second),
            Unit::Second => None,
        }
    }
}

/// A decimal number as typed: whole part and the digits after the point (trailing zeros
/// dropped). Values too big for u64 become `None` so that they report "longer than 24 hours".
#[derive(Debug, Clone, Copy)]
struct Number {
    whole: Option<u64>,
    fraction: u64,
    fraction_digits: u32,
}

impl Number {
    /// `unit_seconds` × this number, exactly, or an error when it is not whole seconds.
    fn times(self, unit_seconds: u64) -> Result<u64, DurationError> {
        let whole = self
            .whole
            .and_then(|w| w.checked_mul(unit_seconds))
            .ok_or(DurationError::TooLong)?;
        if self.fraction_digits == 0 {
            return Ok(whole);
        }
        let scale = 10u64
            .checked_pow(self.fraction_digits)
            .ok_or(DurationError::NotWholeSeconds)?;
        let scaled = self
            .fraction
            .checked_mul(unit_seconds)
            .ok_or(DurationError::NotWholeSeconds)?;
        if scaled % scale != 0 {
            return Err(DurationError::NotWholeSeconds);
        }
        whole
            .checked_add(scaled / scale)
            .ok_or(DurationError::TooLong)
    }
}

/// Parses a call duration typed by a person into seconds (1 ..= 24 h).
///
/// Grammar (ASCII only, case-insensitive, surrounding whitespace ignored):
/// - a bare number means minutes: `15`, `1.5`;
/// - `H:MM` or `H:MM:SS`, minutes and seconds as two digits 00-59: `1:30`, `0:45:30`;
/// - parts `<number> [space] <unit>`, optionally separated by spaces, each unit at most once and
///   largest first (`30m1h` is refused rather than guessed): `1h30m`, `1 hr 30 min`, `90 sec`.
///   Units: h/hr/hrs/hour/hours, m/min/mins/minute/minutes, s/sec/secs/second/seconds. A last
///   bare number takes the next smaller unit: `1h30` is 1h30m, `2m30` is 2m30s;
/// - a decimal point only in a single-part duration, and only when it gives whole seconds:
///   `1.5h` is 90 minutes, `0.1m` is 6 s, `0.01m` is refused.
pub fn parse_duration(input: &str) -> Result<u32, DurationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(DurationError::Invalid);
    }
    if text.len() > MAX_INPUT_LEN {
        return Err(DurationError::Invalid);
    }
    if !text.is_ascii() {
        return Err(if text.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
            DurationError::NonAsciiDigits
        } else {
            DurationError::Invalid
        });
    }
    // From here on every character is one byte, so byte offsets are char boundaries.
    let text = text.to_ascii_lowercase();
    if let Some(rest) = text.strip_prefix('-') {
        // Only call it negative when the rest is a duration; "-x" is simply not one.
        return Err(match parse_positive(rest.trim_start()) {
            Ok(_) | Err(DurationError::TooLong) => DurationError::Negative,
            Err(e) => e,
        });
    }
    parse_positive(&text)
}

/// Parses lowercase ASCII without a sign and applies the 1 ..= 24 h range.
fn parse_positive(text: &str) -> Result<u32, DurationError> {
    let seconds = if text.contains(':') {
        parse_clock(text)?
    } else {
        parse_units(text)?
    };
    if seconds == 0 {
        return Err(DurationError::Zero);
    }
    u32::try_from(seconds)
        .ok()
        .filter(|s| *s <= MAX_DURATION_SECONDS)
        .ok_or(DurationError::TooLong)
}

/// `H:MM` or `H:MM:SS`.
fn parse_clock(text: &str) -> Result<u64, DurationError> {
    let fields: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&fields.len())
        || fields
            .iter()
            .any(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DurationError::Invalid);
    }
    let hours = digits_value(fields[0]).ok_or(DurationError::TooLong)?;
    let mut total = hours
        .checked_mul(Unit::Hour.seconds())
        .ok_or(DurationError::TooLong)?;
    for (field, unit) in fields[1..].iter().zip([Unit::Minute, Unit::Second]) {
        // Exactly two digits: "1:5" is more likely a typo for 1:05 or 1:50 than either.
        let value = digits_value(field).filter(|v| field.len() == 2 && *v < SIXTY);
        let value = value.ok_or(DurationError::ClockField)?;
        total = total
            .checked_add(value * unit.seconds())
            .ok_or(DurationError::TooLong)?;
    }
    Ok(total)
}

/// The value of a non-empty run of ASCII digits; `None` when it does not fit in u64.
fn digits_value(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// `<number> [unit]` parts; see `parse_duration` for the rules.
fn parse_units(text: &str) -> Result<u64, DurationError> {
    let bytes = text.as_bytes();
    let mut parts: Vec<(Number, Option<Unit>)> = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let (number, next) = read_number(text, i)?;
        i = next;
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_lowercase) {
            i += 1;
        }
        let unit = if start == i {
            None
        } else {
            Some(Unit::from_word(&text[start..i]).ok_or(DurationError::UnknownUnit)?)
        };
        parts.push((number, unit));
    }

    let has_fraction = parts.iter().any(|(n, _)| n.fraction_digits > 0);
    if parts.is_empty() || (has_fraction && parts.len() > 1) {
        return Err(DurationError::Invalid);
    }
    let mut total: u64 = 0;
    let mut previous: Option<Unit> = None;
    for (index, (number, unit)) in parts.iter().enumerate() {
        let unit = match (unit, previous) {
            (Some(unit), None) => *unit,
            (Some(unit), Some(prev)) if *unit < prev => *unit,
            (Some(_), Some(_)) => return Err(DurationError::UnitOrder),
            // A lone bare number is minutes; otherwise a bare number is allowed only last.
            (None, None) if parts.len() == 1 => Unit::Minute,
            (None, None) => return Err(DurationError::Invalid),
            (None, Some(prev)) if index + 1 == parts.len() => {
                prev.next_smaller().ok_or(DurationError::Invalid)?
            }
            (None, Some(_)) => return Err(DurationError::Invalid),
        };
        total = total
            .checked_add(number.times(unit.seconds())?)
            .ok_or(DurationError::TooLong)?;
        previous = Some(unit);
    }
    Ok(total)
}

/// Reads `digits[.digits]` at byte `start` of ASCII `text`; returns it and the next offset.
fn read_number(text: &str, start: usize) -> Result<(Number, usize), DurationError> {
    let bytes = text.as_bytes();
    let run_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |n| from + n)
    };
    let whole_end = run_end(start);
    if whole_end == start {
        return Err(DurationError::Invalid);
    }
    let whole = digits_value(&text[start..whole_end]);
    if bytes.get(whole_end) != Some(&b'.') {
        return Ok((
            Number {
                whole,
                fraction: 0,
                fraction_digits: 0,
            },
            whole_end,
        ));
    }
    let fraction_end = run_end(whole_end + 1);
    // "1." and "1.h" are refused: a point must have digits on both sides.
    let fraction_text = text[whole_end + 1..fraction_end].trim_end_matches('0');
    if fraction_end == whole_end + 1 {
        return Err(DurationError::Invalid);
    }
    let fraction = digits_value(fraction_text).ok_or(DurationError::NotWholeSeconds)?;
    let fraction_digits =
        u32::try_from(fraction_text.len()).map_err(|_| DurationError::NotWholeSeconds)?;
    Ok((
        Number {
            whole,
            fraction,
            fraction_digits,
        },
        fraction_end,
    ))
}

/// A duration as the editor should prefill it, in a form `parse_duration` reads back exactly:
/// "45s", "15m", "1m30s", "1h", "1h05m", "1h00m05s". Zero gives "0s", which the parser
/// refuses, as it should: a zero-length call is not a call.
pub fn format_duration_input(seconds: u32) -> String {
    let hours = seconds / 3600;
    let minutes = seconds % 3600 / 60;
    let secs = seconds % 60;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
        // Minutes are written (zero-padded) whenever something follows, so "1h05m" reads
        // like a clock.
        if minutes > 0 || secs > 0 {
            out.push_str(&format!("{minutes:02}m"));
        }
    } else if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if secs > 0 || seconds == 0 {
        if out.is_empty() {
            out.push_str(&format!("{secs}s"));
        } else {
            out.push_str(&format!("{secs:02}s"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u32 = 3600;
    const M: u32 = 60;

    #[test]
    fn every_documented_form_parses_to_the_right_number_of_seconds() {
        let cases: &[(&str, u32)] = &[
            ("15m", 15 * M),
            ("15 m", 15 * M),
            ("15min", 15 * M),
            ("15 mins", 15 * M),
            ("15 minutes", 15 * M),
            ("1 minute", M),
            ("15M", 15 * M),
            ("  15m\t\n", 15 * M),
            ("1h", H),
            ("1 hr", H),
            ("2 hrs", 2 * H),
            ("2 hours", 2 * H),
            ("1 HOUR", H),
            ("1h30m", H + 30 * M),
            ("1h 30m", H + 30 * M),
            ("1 h 30 m", H + 30 * M),
            ("1H30M", H + 30 * M),
            ("1h30", H + 30 * M),
            ("1h 30", H + 30 * M),
            ("2m30", 2 * M + 30),
            ("1h30m15", H + 30 * M + 15),
            ("90s", 90),
            ("90 sec", 90),
            ("90 seconds", 90),
            ("1m30s", 90),
            ("1h0m1s", H + 1),
            ("1h5s", H + 5),
            ("1:30", H + 30 * M),
            ("0:45", 45 * M),
            ("1:30:00", H + 30 * M),
            ("0:00:01", 1),
            ("24:00", 24 * H),
            ("15", 15 * M),
            ("015", 15 * M),
            ("1440", 24 * H),
            ("24h", 24 * H),
            ("86400s", 24 * H),
            ("1.5h", 90 * M),
            ("0.25h", 15 * M),
            ("1.5", 90),
            ("0.1m", 6),
            ("2.0h", 2 * H),
            ("1h00m", H),
            ("0h15m", 15 * M),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration(input), Ok(*expected), "input {input:?}");
        }
    }

    #[test]
    fn every_bad_input_gives_the_right_error() {
        use DurationError::*;
        let long = "1".repeat(10_000) + "m";
        let long_spaces = " ".repeat(5_000) + "x" + &" ".repeat(5_000);
        let cases: Vec<(&str, DurationError)> = vec![
            ("", Invalid),
            ("   ", Invalid),
            ("m", Invalid),
            ("h30m", Invalid),
            ("0", Zero),
            ("0m", Zero),
            ("0:00", Zero),
            ("0h 0m 0s", Zero),
            ("-0", Zero),
            ("-5m", Negative),
            ("- 5m", Negative),
            ("-1:30", Negative),
            ("-99999h", Negative),
            ("25h", TooLong),
            ("24h1s", TooLong),
            ("99999h", TooLong),
            ("1441", TooLong),
            ("86401s", TooLong),
            ("25:00", TooLong),
            ("999999999999999999999m", TooLong),
            ("99999999999999999999:00", TooLong),
            ("1:99", ClockField),
            ("1:60", ClockField),
            ("1:5", ClockField),
            ("1:30:75", ClockField),
            ("1:30:5", ClockField),
            ("1:", Invalid),
            (":30", Invalid),
            ("1:30:00:00", Invalid),
            ("1: 30", Invalid),
            ("1:3a", Invalid),
            ("15x", UnknownUnit),
            ("15 mn", UnknownUnit),
            ("1d", UnknownUnit),
            ("1h2h", UnitOrder),
            ("30m1h", UnitOrder),
            ("1s1m", UnitOrder),
            ("1m 1m", UnitOrder),
            ("30 1h", Invalid),
            ("1m30s15", Invalid),
            ("1h 30 15", Invalid),
            ("1 5m", Invalid),
            ("1.5h30m", Invalid),
            ("1.", Invalid),
            (".5h", Invalid),
            ("1.h", Invalid),
            ("1..5h", Invalid),
            ("0.5s", NotWholeSeconds),
            ("0.01m", NotWholeSeconds),
            ("0.0000000000000000000000001h", NotWholeSeconds),
            ("١٥m", NonAsciiDigits),
            ("１５m", NonAsciiDigits),
            ("15m😀", Invalid),
            ("15\u{0}m", Invalid),
            ("1\u{1b}[31mh", Invalid),
            ("15\tm", Invalid),
            ("+15m", Invalid),
            ("15m,", Invalid),
            (&long, Invalid),
            (&long_spaces, Invalid),
        ];
        for (input, expected) in cases {
            let shown: String = input.chars().take(40).collect();
            assert_eq!(parse_duration(input), Err(expected), "input {shown:?}");
        }
    }

    #[test]
    fn error_messages_are_short_enough_to_sit_under_a_field() {
        for error in [
            DurationError::Invalid,
            DurationError::Zero,
            DurationError::Negative,
            DurationError::TooLong,
            DurationError::NonAsciiDigits,
            DurationError::ClockField,
            DurationError::UnknownUnit,
            DurationError::UnitOrder,
            DurationError::NotWholeSeconds,
        ] {
            let message = error.to_string();
            assert!(
                !message.is_empty() && message.chars().count() <= 45,
                "{message}"
            );
            assert!(!message.ends_with('.'), "{message}");
        }
        assert_eq!(
            DurationError::Invalid.to_string(),
            "a duration like 15m, 1h30m or 1:30"
        );
    }

    #[test]
    fn the_editor_prefill_looks_like_what_a_person_would_type() {
        assert_eq!(format_duration_input(45), "45s");
        assert_eq!(format_duration_input(60), "1m");
        assert_eq!(format_duration_input(90), "1m30s");
        assert_eq!(format_duration_input(15 * 60), "15m");
        assert_eq!(format_duration_input(3600), "1h");
        assert_eq!(format_duration_input(3600 + 5 * 60), "1h05m");
        assert_eq!(format_duration_input(3600 + 5), "1h00m05s");
        assert_eq!(format_duration_input(24 * 3600), "24h");
        assert_eq!(format_duration_input(0), "0s");
    }

    #[test]
    fn every_prefill_from_one_second_to_a_day_parses_back_to_the_same_seconds() {
        for seconds in 1..=MAX_DURATION_SECONDS {
            let text = format_duration_input(seconds);
            assert_eq!(parse_duration(&text), Ok(seconds), "{text:?}");
        }
    }

    #[test]
    fn the_prefill_of_zero_or_of_more_than_a_day_is_refused_when_read_back() {
        assert_eq!(
            parse_duration(&format_duration_input(0)),
            Err(DurationError::Zero)
        );
        assert_eq!(
            parse_duration(&format_duration_input(MAX_DURATION_SECONDS + 1)),
            Err(DurationError::TooLong)
        );
        assert_eq!(
            parse_duration(&format_duration_input(u32::MAX)),
            Err(DurationError::TooLong)
        );
    }

    /// A random string built from the pieces durations are made of, plus hostile ones.
    fn random_input(rng: &mut fastrand::Rng) -> String {
        const PIECES: &[&str] = &[
            "0",
            "1",
            "5",
            "9",
            "15",
            "30",
            "59",
            "60",
            "99",
            "24",
            "1440",
            "86400",
            "99999999999999999999",
            ":",
            ":",
            " ",
            "  ",
            "-",
            "+",
            ".",
            "h",
            "m",
            "s",
            "d",
            "min",
            "hr",
            "hours",
            "sec",
            "ago",
            "now",
            "yesterday",
            "today",
            "x",
            "T",
            "Z",
            "2026-11-20",
            "14:00",
            "١٥",
            "１５",
            "é",
            "😀",
            "\u{0}",
            "\u{1b}[2J",
            "\t",
            "\n",
            "\u{7f}",
            "\u{200b}",
            "\u{a0}",
        ];
        let mut out = String::new();
        let parts = if rng.u8(..50) == 0 {
            // Now and then a long run, to check that long input stays cheap and safe.
            rng.usize(100..3000)
        } else {
            rng.usize(0..8)
        };
        for _ in 0..parts {
            out.push_str(PIECES[rng.usize(..PIECES.len())]);
        }
        out
    }

    #[test]
    fn random_strings_never_panic_and_anything_accepted_is_between_a_second_and_a_day() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_d0a7);
        let mut accepted = 0;
        for _ in 0..50_000 {
            let input = random_input(&mut rng);
            if let Ok(seconds) = parse_duration(&input) {
                assert!(
                    (1..=MAX_DURATION_SECONDS).contains(&seconds),
                    "{input:?} gave {seconds}"
                );
                accepted += 1;
            }
        }
        // Guards the generator: if nothing were ever accepted the range check above would be
        // vacuous.
        assert!(
            accepted > 500,
            "only {accepted} random inputs were accepted"
        );
    }

    #[test]
    fn zero_is_zero_seconds() {
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn under_a_minute_is_shown_in_seconds() {
        assert_eq!(format_duration(1), "1s");
        assert_eq!(format_duration(45), "45s");
        assert_eq!(format_duration(59), "59s");
    }

    #[test]
    fn one_minute_exactly_switches_to_minutes() {
        assert_eq!(format_duration(60), "1m");
    }

    #[test]
    fn minutes_round_to_the_nearest_with_halves_going_up() {
        assert_eq!(format_duration(89), "1m");
        assert_eq!(format_duration(90), "2m");
        assert_eq!(format_duration(15 * 60 + 29), "15m");
        assert_eq!(format_duration(15 * 60 + 30), "16m");
    }

    #[test]
    fn just_under_an_hour_rounds_up_to_one_hour() {
        assert_eq!(format_duration(3569), "59m");
        assert_eq!(format_duration(3570), "1h 00m");
        assert_eq!(format_duration(3599), "1h 00m");
    }

    #[test]
    fn hours_show_minutes_with_two_digits() {
        assert_eq!(format_duration(3600), "1h 00m");
        assert_eq!(format_duration(3660), "1h 01m");
        assert_eq!(format_duration(3600 + 5 * 60), "1h 05m");
        assert_eq!(format_duration(2 * 3600 + 59 * 60), "2h 59m");
    }

    #[test]
    fn a_full_day_stays_in_hours() {
        assert_eq!(format_duration(24 * 3600), "24h 00m");
    }

    #[test]
    fn the_largest_value_does_not_overflow() {
        // 4_294_967_295 s = 71_582_788.25 min → 1_193_046 h 28 min.
        assert_eq!(format_duration(u32::MAX), "1193046h 28m");
    }
}
