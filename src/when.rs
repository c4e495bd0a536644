//! The "When" of a note or call, as typed in the editor and in `--at`: "now", "-2h",
//! "30m ago", "yesterday 14:00", "14:30", "2026-11-20 14:00" or RFC 3339 → an instant.
//! Calendar and time-zone math is jiff's, so DST gaps and folds are handled the same everywhere.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp, Zoned};

/// Why a typed time was refused; `Display` is the message shown under the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Nothing recognisable: unknown words, stray characters, too long.
    #[error("a time like now, -2h, 30m ago, yesterday 14:00, 14:30 or 2026-11-20T14:00:00Z")]
    Invalid,
    /// The API refuses notes dated in the future, so this is caught before sending.
    #[error("that's in the future — calls and notes are logged after they happen")]
    Future,
    #[error("more than 10 years ago — check the date")]
    TooOld,
    /// Digits from other scripts (Arabic-Indic, fullwidth…) look right but are not accepted.
    #[error("use the digits 0-9")]
    NonAsciiDigits,
    #[error("not a time of day — use 00:00 to 23:59")]
    BadClock,
    #[error("not a date on the calendar")]
    BadDate,
}

/// How far ahead of `now` a time may be and still be taken as "now": the user's clock and
/// the server's disagree a little, and typing "14:03" at 14:02:30 is not a mistake.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(60);

/// Older than this is almost certainly a typo in the year.
const MAX_AGE_YEARS: i16 = 10;

/// An upper bound on relative amounts, in days, checked before any calendar math so that
/// huge numbers never reach jiff's span limits (which would be a confusing error).
const MAX_RELATIVE_DAYS: i64 = 11 * 366;

/// The longest input worth reading: RFC 3339 with nanoseconds and an offset is 35 bytes;
/// a bracketed zone name can add ~30. Checked first so pasted text is refused at once.
const MAX_INPUT_LEN: usize = 72;

/// Resolves what the user typed into an instant that is not in the future and at most
/// 10 years ago. `now` and `tz` are passed in so the result is testable and consistent.
///
/// Grammar (ASCII only, case-insensitive, surrounding whitespace ignored):
/// - empty, `now` or `today` → `now`;
/// - relative: `-<amount>` or `<amount> ago`, where amount is parts `<n> [space] <unit>`,
///   each unit once, largest first: `-2h`, `-1h30m`, `30 min ago`, `1 day ago`. Units:
///   w/wk/week(s), d/day(s), h/hr/hour(s), m/min/minute(s), s/sec/second(s). Days and weeks
///   are calendar days in `tz` (`-1d` is the same clock time yesterday, even across DST).
///   `+2h` is understood, and refused as being in the future;
/// - `yesterday` alone → yesterday at the current time of day;
/// - `[today|yesterday] [at] H:MM[:SS]` → that clock time in `tz` (today if no day is given);
/// - `YYYY-MM-DD[ |T]H:MM[:SS]` → that civil time in `tz`;
/// - `YYYY-MM-DD` alone → that day at 12:00 in `tz` (noon sits clear of midnight and of
///   the night-time DST changes); for today before noon, `now` instead;
/// - RFC 3339 with an offset: `2026-11-20T14:02:00Z`, `2026-11-20T15:02:00+01:00`.
///
/// A clock time in a DST gap or fold resolves like jiff's `Compatible` (later side of a
/// gap, first occurrence in a fold). A time later than `now` by at most a minute is taken
/// as `now`; later than that is an error, never silently moved to yesterday.
pub fn parse_when(input: &str, now: Timestamp, tz: &TimeZone) -> Result<Timestamp, WhenError> {
    let text = input.trim();
    if text.len() > MAX_INPUT_LEN {
        return Err(WhenError::Invalid);
    }
    if !text.is_ascii() {
        return Err(if text.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
            WhenError::NonAsciiDigits
        } else {
            WhenError::Invalid
        });
    }
    if text.bytes().any(|b| b.is_ascii_control()) {
        return Err(WhenError::Invalid);
    }
    // From here on every character is one byte, so byte offsets are char boundaries.
    let lower = text.to_ascii_lowercase();
    let at = resolve(&lower, text, now, tz)?;
    within_bounds(at, now, tz)
}

/// Turns lowercase ASCII input into an instant, without the future/too-old checks.
/// `original` is the same text with its case kept, for jiff's RFC 3339 parser.
fn resolve(
    lower: &str,
    original: &str,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Timestamp, WhenError> {
    let today = now.to_zoned(tz.clone());
    match lower {
        "" | "now" | "today" => return Ok(now),
        "yesterday" => {
            return Ok(today
                .yesterday()
                .map_err(|_| WhenError::TooOld)?
                .timestamp());
        }
        _ => {}
    }
    if let Some(rest) = lower.strip_prefix('-') {
        let (days, seconds) = parse_amount(rest.trim_start())?;
        return shift(&today, -days, -seconds);
    }
    if let Some(rest) = lower.strip_prefix('+') {
        let (days, seconds) = parse_amount(rest.trim_start())?;
        return shift(&today, days, seconds);
    }
    if let Some(rest) = lower.strip_suffix("ago") {
        let (days, seconds) = parse_amount(rest.trim_end())?;
        return shift(&today, -days, -seconds);
    }
    if let Some((day, rest)) = day_word(lower) {
        let date = if day == DayWord::Today {
            today.date()
        } else {
            today.date().yesterday().map_err(|_| WhenError::TooOld)?
        };
        let rest = rest.strip_prefix("at ").unwrap_or(rest).trim_start();
        return civil_to_instant(date.to_datetime(parse_clock(rest)?), now, tz);
    }
    if lower.len() >= 10 && lower.as_bytes()[4] == b'-' {
        return parse_dated(lower, original, now, tz);
    }
    if lower.contains(':') {
        return civil_to_instant(today.date().to_datetime(parse_clock(lower)?), now, tz);
    }
    Err(WhenError::Invalid)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayWord {
    Today,
    Yesterday,
}

/// Splits "today …" / "yesterday …" into the day and the rest; the word must be followed by
/// a space so that "todayx" is not taken for it.
fn day_word(lower: &str) -> Option<(DayWord, &str)> {
    for (word, day) in [
        ("today ", DayWord::Today),
        ("yesterday ", DayWord::Yesterday),
    ] {
        if let Some(rest) = lower.strip_prefix(word) {
            return Some((day, rest.trim_start()));
        }
    }
    None
}

/// Moves `from` by whole calendar days and then by seconds (days first, as jiff does, so
/// "-1d" keeps the clock time across a DST change).
fn shift(from: &Zoned, days: i64, seconds: i64) -> Result<Timestamp, WhenError> {
    // Amounts are capped by `parse_amount`, so this fails only at the ends of jiff's range.
    let out_of_range = if days > 0 || seconds > 0 {
        WhenError::Future
    } else {
        WhenError::TooOld
    };
    let span = Span::new()
        .try_days(days)
        .and_then(|s| s.try_seconds(seconds))
        .map_err(|_| out_of_range.clone())?;
    from.checked_add(span)
        .map(|z| z.timestamp())
        .map_err(|_| out_of_range)
}

/// Relative amount: `<digits> [space] <unit>` parts, largest unit first, each at most once.
/// Returns whole days and seconds, both at most `MAX_RELATIVE_DAYS` worth (more is `TooOld`).
fn parse_amount(text: &str) -> Result<(i64, i64), WhenError> {
    const DAY: i64 = 24 * 60 * 60;
    // (unit rank for ordering, days per unit, seconds per unit)
    let unit = |word: &str| -> Option<(u8, i64, i64)> {
        Some(match word {
            "w" | "wk" | "wks" | "week" | "weeks" => (4, 7, 0),
            "d" | "day" | "days" => (3, 1, 0),
            "h" | "hr" | "hrs" | "hour" | "hours" => (2, 0, 3600),
            "m" | "min" | "mins" | "minute" | "minutes" => (1, 0, 60),
            "s" | "sec" | "secs" | "second" | "seconds" => (0, 0, 1),
            _ => return None,
        })
    };
    let bytes = text.as_bytes();
    let (mut days, mut seconds) = (0i64, 0i64);
    let mut last_rank: Option<u8> = None;
    let mut i = 0;
    loop {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if start == i {
            return Err(WhenError::Invalid);
        }
        // Anything that does not fit is far more than 10 years in any unit.
        let n: i64 = text[start..i].parse().map_err(|_| WhenError::TooOld)?;
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        let word_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_lowercase) {
            i += 1;
        }
        let (rank, unit_days, unit_seconds) =
            unit(&text[word_start..i]).ok_or(WhenError::Invalid)?;
        if last_rank.is_some_and(|last| rank >= last) {
            return Err(WhenError::Invalid);
        }
        last_rank = Some(rank);
        days = n
            .checked_mul(unit_days)
            .and_then(|d| d.checked_add(days))
            .ok_or(WhenError::TooOld)?;
        seconds = n
            .checked_mul(unit_seconds)
            .and_then(|s| s.checked_add(seconds))
            .ok_or(WhenError::TooOld)?;
        if days > MAX_RELATIVE_DAYS || seconds > MAX_RELATIVE_DAYS * DAY {
            return Err(WhenError::TooOld);
        }
    }
    if last_rank.is_none() {
        return Err(WhenError::Invalid);
    }
    Ok((days, seconds))
}

/// `H:MM`, `HH:MM`, `H:MM:SS` or `HH:MM:SS`, 00:00 to 23:59:59.
fn parse_clock(text: &str) -> Result<Time, WhenError> {
    let fields: Vec<&str> = text.split(':').collect();
    let shaped = (2..=3).contains(&fields.len())
        && (1..=2).contains(&fields[0].len())
        && fields[1..].iter().all(|f| f.len() == 2)
        && fields.iter().all(|f| f.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return Err(WhenError::Invalid);
    }
    // At most two ASCII digits each, so these parses cannot fail or overflow.
    let number = |f: &str| f.parse::<i8>().map_err(|_| WhenError::Invalid);
    let hour = number(fields[0])?;
    let minute = number(fields[1])?;
    let second = fields.get(2).map_or(Ok(0), |f| number(f))?;
    Time::new(hour, minute, second, 0).map_err(|_| WhenError::BadClock)
}

/// Forms starting with a date: `YYYY-MM-DD`, with a clock time after a space or `T`, or a
/// full RFC 3339 timestamp (anything after the clock time goes to jiff's parser).
fn parse_dated(
    lower: &str,
    original: &str,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Timestamp, WhenError> {
    let (date_text, rest) = lower.split_at(10);
    let date = parse_date(date_text)?;
    if rest.is_empty() {
        let noon = civil_to_instant(date.at(12, 0, 0, 0), now, tz)?;
        let today = now.to_zoned(tz.clone()).date();
        // Today's date before noon means "today": earlier than now, not a future error.
        return Ok(if date == today && noon > now {
            now
        } else {
            noon
        });
    }
    let rest = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('t'))
        .ok_or(WhenError::Invalid)?;
    // The clock time runs up to an offset or fraction, if any.
    let clock_end = rest
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b':'))
        .unwrap_or(rest.len());
    let time = parse_clock(&rest[..clock_end])?;
    if clock_end == rest.len() {
        return civil_to_instant(date.to_datetime(time), now, tz);
    }
    original
        .parse::<Timestamp>()
        .map_err(|_| WhenError::Invalid)
}

/// `YYYY-MM-DD` with exactly those digit counts, checked against the calendar.
fn parse_date(text: &str) -> Result<Date, WhenError> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(WhenError::Invalid);
    }
    // Four and two ASCII digits: these parses cannot fail or overflow.
    let year: i16 = text[..4].parse().map_err(|_| WhenError::Invalid)?;
    let month: i8 = text[5..7].parse().map_err(|_| WhenError::Invalid)?;
    let day: i8 = text[8..].parse().map_err(|_| WhenError::Invalid)?;
    Date::new(year, month, day).map_err(|_| WhenError::BadDate)
}

/// A wall-clock time in `tz` as an instant; gaps and folds resolve as `Compatible`.
/// Only dates at the very ends of jiff's range (years ±9999) fail; they are reported as
/// being in the future or too old, whichever side of `now` they are on.
fn civil_to_instant(dt: DateTime, now: Timestamp, tz: &TimeZone) -> Result<Timestamp, WhenError> {
    tz.to_zoned(dt).map(|z| z.timestamp()).map_err(|_| {
        if dt > now.to_zoned(tz.clone()).datetime() {
            WhenError::Future
        } else {
            WhenError::TooOld
        }
    })
}

/// Refuses the future (beyond the clock-skew allowance, which is clamped to `now`) and
/// anything more than 10 years before `now`.
fn within_bounds(at: Timestamp, now: Timestamp, tz: &TimeZone) -> Result<Timestamp, WhenError> {
    if at > now {
        return if at.duration_since(now) <= CLOCK_SKEW {
            Ok(now)
        } else {
            Err(WhenError::Future)
        };
    }
    // Near jiff's minimum timestamp there is no "10 years before"; then nothing is too old.
    let oldest = now
        .to_zoned(tz.clone())
        .checked_sub(Span::new().years(MAX_AGE_YEARS))
        .map_or(Timestamp::MIN, |z| z.timestamp());
    if at < oldest {
        return Err(WhenError::TooOld);
    }
    Ok(at)
}

/// A short description of `at` for the editor's summary line: "now" (within a minute
/// either way), "25m ago", "2h ago" (earlier today), "yesterday 14:00", else
/// "2026-11-03 14:00". Every result is accepted back by `parse_when`.
pub fn describe_when(at: Timestamp, now: Timestamp, tz: &TimeZone) -> String {
    let ago = now.duration_since(at);
    if ago.abs() < SignedDuration::from_secs(60) {
        return "now".to_string();
    }
    let at_zoned = at.to_zoned(tz.clone());
    let now_date = now.to_zoned(tz.clone()).date();
    let clock = at_zoned.strftime("%H:%M");
    if ago.is_positive() {
        if ago < SignedDuration::from_hours(1) {
            return format!("{}m ago", ago.as_secs() / 60);
        }
        if at_zoned.date() == now_date {
            return format!("{}h ago", ago.as_secs() / 3600);
        }
        if now_date.yesterday().is_ok_and(|d| d == at_zoned.date()) {
            return format!("yesterday {clock}");
        }
    }
    at_zoned.strftime("%Y-%m-%d %H:%M").to_string()
}

/// A time cut to the whole second below it: APIs keep seconds, and rounding up could put
/// "now" in the future, which they refuse.
pub fn whole_seconds(at: Timestamp) -> Timestamp {
    Timestamp::from_second(at.as_second()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::{MAX_DURATION_SECONDS, parse_duration};

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Friday 2026-11-20 14:02:00 UTC, the "now" of most tests.
    fn now() -> Timestamp {
        ts("2026-11-20T14:02:00Z")
    }

    /// Europe/London's rules as a POSIX string, so the tests don't depend on the system tzdb:
    /// GMT in winter, BST (+1) from the last Sunday of March 01:00 UTC to the last Sunday of
    /// October 01:00 UTC.
    fn london() -> TimeZone {
        TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").unwrap()
    }

    #[test]
    fn every_documented_form_resolves_to_the_right_instant() {
        let tz = TimeZone::UTC;
        let cases: &[(&str, &str)] = &[
            ("", "2026-11-20T14:02:00Z"),
            ("   ", "2026-11-20T14:02:00Z"),
            ("now", "2026-11-20T14:02:00Z"),
            (" NOW ", "2026-11-20T14:02:00Z"),
            ("today", "2026-11-20T14:02:00Z"),
            ("-2h", "2026-11-20T12:02:00Z"),
            ("-90m", "2026-11-20T12:32:00Z"),
            ("-45s", "2026-11-20T14:01:15Z"),
            ("- 2h", "2026-11-20T12:02:00Z"),
            ("-1d", "2026-11-19T14:02:00Z"),
            ("-1w", "2026-11-13T14:02:00Z"),
            ("-1h30m", "2026-11-20T12:32:00Z"),
            ("-1d 2h", "2026-11-19T12:02:00Z"),
            ("-0m", "2026-11-20T14:02:00Z"),
            ("2h ago", "2026-11-20T12:02:00Z"),
            ("30m ago", "2026-11-20T13:32:00Z"),
            ("30 min ago", "2026-11-20T13:32:00Z"),
            ("30 minutes ago", "2026-11-20T13:32:00Z"),
            ("1 day ago", "2026-11-19T14:02:00Z"),
            ("3 days ago", "2026-11-17T14:02:00Z"),
            ("1 hour 30 min ago", "2026-11-20T12:32:00Z"),
            ("2hago", "2026-11-20T12:02:00Z"),
            ("yesterday", "2026-11-19T14:02:00Z"),
            ("Yesterday", "2026-11-19T14:02:00Z"),
            ("yesterday 14:00", "2026-11-19T14:00:00Z"),
            ("yesterday 23:59", "2026-11-19T23:59:00Z"),
            ("yesterday at 9:05", "2026-11-19T09:05:00Z"),
            ("today 9:30", "2026-11-20T09:30:00Z"),
            ("today at 00:00", "2026-11-20T00:00:00Z"),
            ("9:30", "2026-11-20T09:30:00Z"),
            ("09:30", "2026-11-20T09:30:00Z"),
            ("14:01:59", "2026-11-20T14:01:59Z"),
            ("14:02", "2026-11-20T14:02:00Z"),
            // Up to a minute ahead is clock skew, taken as now.
            ("14:03", "2026-11-20T14:02:00Z"),
            ("+30s", "2026-11-20T14:02:00Z"),
            ("2026-11-20 14:00", "2026-11-20T14:00:00Z"),
            ("2026-11-20T14:00", "2026-11-20T14:00:00Z"),
            ("2026-11-20 9:00:30", "2026-11-20T09:00:30Z"),
            ("2026-11-20", "2026-11-20T12:00:00Z"),
            ("2026-11-03", "2026-11-03T12:00:00Z"),
            ("2017-01-01", "2017-01-01T12:00:00Z"),
            ("2026-11-20T14:02:00Z", "2026-11-20T14:02:00Z"),
            ("2026-11-20t14:00:00z", "2026-11-20T14:00:00Z"),
            ("2026-11-20T15:00:00+01:00", "2026-11-20T14:00:00Z"),
            ("2026-11-20T09:00:00-05:00", "2026-11-20T14:00:00Z"),
            ("2026-11-20T14:00:00.5Z", "2026-11-20T14:00:00.5Z"),
            ("2026-11-20 14:00:00Z", "2026-11-20T14:00:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_when(input, now(), &tz), Ok(ts(expected)), "{input:?}");
        }
    }

    #[test]
    fn clock_times_and_dates_are_read_in_the_given_time_zone() {
        let tz = TimeZone::fixed(jiff::tz::offset(-5));
        let cases: &[(&str, &str)] = &[
            // 14:02Z is 09:02 at -05:00.
            ("9:00", "2026-11-20T14:00:00Z"),
            ("yesterday 14:00", "2026-11-19T19:00:00Z"),
            ("2026-11-19 22:00", "2026-11-20T03:00:00Z"),
            ("2026-11-19", "2026-11-19T17:00:00Z"),
            ("2026-11-20T14:02:00Z", "2026-11-20T14:02:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_when(input, now(), &tz), Ok(ts(expected)), "{input:?}");
        }
        assert_eq!(parse_when("10:00", now(), &tz), Err(WhenError::Future));
    }

    #[test]
    fn todays_date_before_noon_means_now_rather_than_the_future() {
        let morning = ts("2026-11-20T09:00:00Z");
        assert_eq!(
            parse_when("2026-11-20", morning, &TimeZone::UTC),
            Ok(morning)
        );
        assert_eq!(
            parse_when("2026-11-19", morning, &TimeZone::UTC),
            Ok(ts("2026-11-19T12:00:00Z"))
        );
    }

    #[test]
    fn every_bad_input_gives_the_right_error() {
        use WhenError::*;
        let tz = TimeZone::UTC;
        let long = "1".repeat(10_000);
        let long_ago = "-".to_string() + &"9".repeat(10_000) + "d";
        let cases: Vec<(&str, WhenError)> = vec![
            ("tomorrow", Invalid),
            ("later", Invalid),
            ("2h", Invalid),
            ("90", Invalid),
            ("-", Invalid),
            ("-2", Invalid),
            ("-2x", Invalid),
            ("ago", Invalid),
            ("2h ago ago", Invalid),
            ("-1h2h", Invalid),
            ("-30m1h", Invalid),
            ("-1.5h", Invalid),
            ("yesterday 2pm", Invalid),
            ("yesterday14:00", Invalid),
            ("todayy", Invalid),
            ("14:00 yesterday", Invalid),
            ("1:5", Invalid),
            ("14:000", Invalid),
            ("123:00", Invalid),
            ("14:00:", Invalid),
            ("2026-11-20 x", Invalid),
            ("2026-11-20x14:00", Invalid),
            ("2026-11-20T14:00:00Q", Invalid),
            ("2026-11-20T14:00:00Z[", Invalid),
            ("26-11-20", Invalid),
            ("2026-1-20 14:00", Invalid),
            ("now\u{0}", Invalid),
            ("yesterday\t14:00", Invalid),
            ("\u{1b}[2J14:00", Invalid),
            ("14:00😀", Invalid),
            (&long, Invalid),
            ("25:00", BadClock),
            ("24:00", BadClock),
            ("99:99", BadClock),
            ("12:60", BadClock),
            ("yesterday 12:00:61", BadClock),
            ("2026-11-20 25:00", BadClock),
            ("2026-02-30", BadDate),
            ("2026-13-01", BadDate),
            ("2026-00-10", BadDate),
            ("2026-02-30T10:00:00Z", BadDate),
            ("١٤:٠٠", NonAsciiDigits),
            ("１４:００", NonAsciiDigits),
            ("-２h", NonAsciiDigits),
            // Now is 14:02: typing a later clock time is refused, not moved to yesterday.
            ("14:04", Future),
            ("23:59", Future),
            ("today 15:00", Future),
            ("+2h", Future),
            ("2026-11-21", Future),
            ("2026-11-21T00:00:00Z", Future),
            ("2026-11-20T14:03:01Z", Future),
            ("9999-12-31 23:59", Future),
            ("9999-12-31", Future),
            ("-9999-01-01", Invalid),
            ("-99999999d", TooOld),
            ("-999999999999999999999999d", TooOld),
            ("99999999999999999999 weeks ago", TooOld),
            ("-9223372036854775807s", TooOld),
            ("-3660d", TooOld),
            ("11000 days ago", TooOld),
            ("2015-01-01", TooOld),
            ("0000-01-01 00:00", TooOld),
            ("1970-01-01T00:00:00Z", TooOld),
            (&long_ago, Invalid),
        ];
        for (input, expected) in cases {
            let shown: String = input.chars().take(40).collect();
            assert_eq!(parse_when(input, now(), &tz), Err(expected), "{shown:?}");
        }
    }

    #[test]
    fn exactly_ten_years_ago_is_accepted_and_a_day_more_is_not() {
        let tz = TimeZone::UTC;
        assert_eq!(
            parse_when("2016-11-20 14:02", now(), &tz),
            Ok(ts("2016-11-20T14:02:00Z"))
        );
        assert_eq!(parse_when("2016-11-19", now(), &tz), Err(WhenError::TooOld));
    }

    #[test]
    fn a_clock_time_in_the_spring_forward_gap_lands_after_it() {
        // 2026-03-29: London's clocks jump from 01:00 to 02:00 GMT→BST.
        let now = ts("2026-03-29T12:00:00Z");
        // 01:30 does not exist; Compatible reads it as 02:30 BST = 01:30 UTC.
        assert_eq!(
            parse_when("01:30", now, &london()),
            Ok(ts("2026-03-29T01:30:00Z"))
        );
        assert_eq!(
            parse_when("00:30", now, &london()),
            Ok(ts("2026-03-29T00:30:00Z"))
        );
        assert_eq!(
            parse_when("02:30", now, &london()),
            Ok(ts("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn a_clock_time_in_the_fall_back_fold_takes_its_first_occurrence() {
        // 2026-10-25: London's clocks go from 02:00 BST back to 01:00 GMT.
        let now = ts("2026-10-25T12:00:00Z");
        assert_eq!(
            parse_when("01:30", now, &london()),
            Ok(ts("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn yesterday_and_minus_a_day_keep_the_clock_time_across_a_dst_change() {
        // 13:00 BST on the day clocks went forward; yesterday 13:00 was GMT, 23 hours earlier.
        let now = ts("2026-03-29T12:00:00Z");
        let expected = Ok(ts("2026-03-28T13:00:00Z"));
        assert_eq!(parse_when("yesterday", now, &london()), expected);
        assert_eq!(parse_when("-1d", now, &london()), expected);
        assert_eq!(parse_when("1 day ago", now, &london()), expected);
        // Hours are elapsed time, not clock time.
        assert_eq!(
            parse_when("-24h", now, &london()),
            Ok(ts("2026-03-28T12:00:00Z"))
        );
    }

    #[test]
    fn error_messages_are_short_sentences_for_under_a_field() {
        for error in [
            WhenError::Invalid,
            WhenError::Future,
            WhenError::TooOld,
            WhenError::NonAsciiDigits,
            WhenError::BadClock,
            WhenError::BadDate,
        ] {
            let message = error.to_string();
            assert!(
                !message.is_empty() && message.chars().count() <= 80,
                "{message}"
            );
            assert!(!message.ends_with('.'), "{message}");
        }
    }

    #[test]
    fn descriptions_get_coarser_the_further_back_they_go() {
        let tz = TimeZone::UTC;
        let cases: &[(&str, &str)] = &[
            ("2026-11-20T14:02:00Z", "now"),
            ("2026-11-20T14:01:01Z", "now"),
            ("2026-11-20T14:02:59Z", "now"),
            ("2026-11-20T14:01:00Z", "1m ago"),
            ("2026-11-20T13:37:00Z", "25m ago"),
            ("2026-11-20T13:02:01Z", "59m ago"),
            ("2026-11-20T13:02:00Z", "1h ago"),
            ("2026-11-20T11:30:00Z", "2h ago"),
            ("2026-11-20T00:00:00Z", "14h ago"),
            ("2026-11-19T23:59:00Z", "yesterday 23:59"),
            ("2026-11-19T14:00:00Z", "yesterday 14:00"),
            ("2026-11-19T00:00:00Z", "yesterday 00:00"),
            ("2026-11-18T23:59:00Z", "2026-11-18 23:59"),
            ("2026-11-03T14:00:00Z", "2026-11-03 14:00"),
            // The future (beyond skew) is shown plainly, not as "ago".
            ("2026-11-20T15:00:00Z", "2026-11-20 15:00"),
        ];
        for (at, expected) in cases {
            assert_eq!(describe_when(ts(at), now(), &tz), *expected, "{at}");
        }
    }

    #[test]
    fn descriptions_use_the_local_date_and_clock() {
        // At -05:00 it is 09:02 on the 20th; 03:00Z on the 20th was 22:00 on the 19th.
        let tz = TimeZone::fixed(jiff::tz::offset(-5));
        assert_eq!(
            describe_when(ts("2026-11-20T03:00:00Z"), now(), &tz),
            "yesterday 22:00"
        );
        assert_eq!(
            describe_when(ts("2026-11-20T03:00:00Z"), now(), &TimeZone::UTC),
            "11h ago"
        );
    }

    #[test]
    fn every_description_of_a_past_time_reads_back_to_within_its_precision() {
        let mut rng = fastrand::Rng::with_seed(7);
        let now = now();
        for tz in [
            TimeZone::UTC,
            london(),
            TimeZone::fixed(jiff::tz::offset(9)),
        ] {
            for _ in 0..5_000 {
                // Anywhere in the last ~9 years, to the second.
                let back = SignedDuration::from_secs(rng.i64(0..9 * 365 * 86_400));
                let at = now.checked_sub(back).unwrap();
                let text = describe_when(at, now, &tz);
                let read = parse_when(&text, now, &tz)
                    .unwrap_or_else(|e| panic!("{text:?} for {at} is refused: {e}"));
                let error = read.duration_since(at).abs();
                let minute = SignedDuration::from_secs(60);
                let hour = SignedDuration::from_hours(1);
                let ok = if text.ends_with("h ago") {
                    error < hour
                } else {
                    // "Nm ago" and clock times drop the seconds. A clock time in the second
                    // pass through a DST fold reads back as the first one, an hour earlier.
                    error < minute || (error >= hour && error < hour + minute)
                };
                assert!(ok, "{text:?} for {at} read back as {read}");
            }
        }
    }

    /// A random string built from the pieces times and durations are made of, plus hostile
    /// ones: other scripts' digits, emoji, control characters, escape sequences.
    fn random_input(rng: &mut fastrand::Rng) -> String {
        const PIECES: &[&str] = &[
            "0",
            "1",
            "2",
            "5",
            "9",
            "12",
            "14",
            "15",
            "23",
            "24",
            "30",
            "59",
            "60",
            "99",
            "2026",
            "2016",
            "1440",
            "86400",
            "99999999999999999999",
            ":",
            ":",
            ":",
            " ",
            " ",
            "-",
            "-",
            "+",
            ".",
            "h",
            "m",
            "s",
            "d",
            "w",
            "min",
            "hr",
            "days",
            "sec",
            " ago",
            "ago",
            "now",
            "yesterday ",
            "today ",
            "at ",
            "T",
            "Z",
            "z",
            "+01:00",
            "2026-11-20",
            "2026-11-19",
            "2026-02-30",
            "14:00",
            "9:30",
            "x",
            "١٤",
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
            rng.usize(0..6)
        };
        for _ in 0..parts {
            out.push_str(PIECES[rng.usize(..PIECES.len())]);
        }
        out
    }

    #[test]
    fn random_strings_never_panic_and_every_accepted_time_is_past_and_recent() {
        let mut rng = fastrand::Rng::with_seed(0x0c0f_fee5);
        let now = now();
        // Ten calendar years are never more than 3653 days.
        let oldest = now
            .checked_sub(SignedDuration::from_hours(3653 * 24))
            .unwrap();
        let zones = [
            TimeZone::UTC,
            london(),
            TimeZone::fixed(jiff::tz::offset(14)),
        ];
        let (mut times, mut durations) = (0, 0);
        for round in 0..40_000 {
            let input = random_input(&mut rng);
            let tz = &zones[round % zones.len()];
            if let Ok(at) = parse_when(&input, now, tz) {
                assert!(at <= now && at >= oldest, "{input:?} gave {at}");
                times += 1;
            }
            if let Ok(seconds) = parse_duration(&input) {
                assert!(
                    (1..=MAX_DURATION_SECONDS).contains(&seconds),
                    "{input:?} gave {seconds}"
                );
                durations += 1;
            }
        }
        // Guards the generator: the checks above must not be vacuous.
        assert!(times > 1_000, "only {times} random times were accepted");
        assert!(
            durations > 500,
            "only {durations} random durations were accepted"
        );
    }
}
