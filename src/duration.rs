//! Call durations as shown in the timeline ("45s", "15m", "1h 05m").
//! Must never panic, whatever number a server sends.

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

#[cfg(test)]
mod tests {
    use super::*;

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
