//! Formatting of wall-clock time for keep-alive comments, without a clock: the caller passes
//! the time in.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats a time like Python's `str(datetime.now(timezone.utc))`:
/// `2026-11-24 00:26:49.932501+00:00`, with the `.ffffff` part left out when the microsecond is 0.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use mcp_sse_core::transport::format_utc_python;
/// let t = UNIX_EPOCH + Duration::from_micros(1_795_480_009_932_501);
/// assert_eq!(format_utc_python(t), "2026-11-24 00:26:49.932501+00:00");
/// assert_eq!(format_utc_python(UNIX_EPOCH), "1970-01-01 00:00:00+00:00");
/// ```
pub fn format_utc_python(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let micros = d.subsec_micros();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if micros == 0 {
        format!("{y:04}-{m:02}-{day:02} {hh:02}:{mm:02}:{ss:02}+00:00")
    } else {
        format!("{y:04}-{m:02}-{day:02} {hh:02}:{mm:02}:{ss:02}.{micros:06}+00:00")
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn leap_day() {
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_utc_python(t), "2000-02-29 00:00:00+00:00");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 1_000);
        assert_eq!(format_utc_python(t), "2023-11-14 22:13:20.000001+00:00");
    }
}
