//! Datetimes as upstreams write them, read into UTC instants (pure; shared by the
//! upstream parsers).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// An ISO 8601 date or datetime: with an offset (kept exactly: `+02:00` is two hours
/// ahead of UTC), without one (read as UTC), or a bare date (midnight UTC).
pub fn instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // RFC 3339 with a space, or an offset without a colon (`+0200`).
    for format in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `y-mo-d h:mi:s` UTC, for the tests of the parsers.
#[cfg(test)]
pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_keep_their_offset() {
        let check = |s: &str, expected: Option<DateTime<Utc>>| {
            assert_eq!(instant(s), expected, "{s:?}");
        };
        check(
            "2024-03-31T23:30:00+02:00",
            Some(utc(2024, 3, 31, 21, 30, 0)),
        );
        check("2024-01-15T08:00:00+01:00", Some(utc(2024, 1, 15, 7, 0, 0)));
        check("2024-01-15T08:00:00Z", Some(utc(2024, 1, 15, 8, 0, 0)));
        check("2024-01-15 08:00:00+0100", Some(utc(2024, 1, 15, 7, 0, 0)));
        check("2024-01-15T08:00:00", Some(utc(2024, 1, 15, 8, 0, 0)));
        check("2024-01-15", Some(utc(2024, 1, 15, 0, 0, 0)));
        check(
            "2099-12-31T23:59:59+01:00",
            Some(utc(2099, 12, 31, 22, 59, 59)),
        );
        check("15/01/2024", None);
        check("demain", None);
        let micro = instant("2024-01-15T08:00:00.123456+02:00").expect("parsed");
        assert_eq!(micro.timestamp_subsec_micros(), 123_456);
    }
}
