//! Value parsers shared by the flags of several commands: the request settings every
//! upstream takes (timeout, retries, body cap) and ROME codes. Each refuses a value
//! that cannot work with a message saying what is allowed.

/// Longest timeout accepted, in seconds (a day).
const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// Most retries accepted for one request: with the backoff capped at two minutes, more
/// would hang a run for hours on a dead upstream.
const MAX_RETRIES: u32 = 20;
/// Most pages of one listing asked at once.
const MAX_CONCURRENCY: usize = 64;
/// Largest body cap accepted, in MiB.
const MAX_RESPONSE_MB: u64 = 4096;

/// A request timeout: seconds, more than 0 (and not so small it rounds to nothing),
/// finite, at most a day. Used by every `*_TIMEOUT` setting.
pub fn timeout_secs(s: &str) -> Result<std::time::Duration, String> {
    let allowed =
        || format!("must be a number of seconds greater than 0 and at most {MAX_TIMEOUT_SECS}");
    let v: f64 = s.trim().parse().map_err(|_| allowed())?;
    match std::time::Duration::try_from_secs_f64(v) {
        Ok(d) if !d.is_zero() && v <= MAX_TIMEOUT_SECS => Ok(d),
        _ => Err(allowed()),
    }
}

/// Retries of one request: a whole number from 0 to [`MAX_RETRIES`]. Used by every
/// `*_MAX_RETRIES` setting.
pub fn retries(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n <= MAX_RETRIES => Ok(n),
        _ => Err(format!(
            "must be a whole number of retries from 0 to {MAX_RETRIES}"
        )),
    }
}

/// Pages of a listing asked at once: a whole number from 1 to [`MAX_CONCURRENCY`]. Used
/// by every `--concurrency`.
pub fn concurrency(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number of pages from 1 to {MAX_CONCURRENCY}"
        )),
    }
}

/// The body cap: a whole number of MiB from 1 to [`MAX_RESPONSE_MB`].
pub fn response_mb(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_RESPONSE_MB).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number of MiB from 1 to {MAX_RESPONSE_MB}"
        )),
    }
}

/// Most rows one list command shows (`--limit`): a table holds them all in memory.
pub const MAX_LIST_LIMIT: u64 = 10_000_000;
/// Deepest `categories tree --depth`.
const MAX_DEPTH: u64 = 1_000;

/// A whole number from `min` to `max`, or a message saying so in words.
fn whole(s: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number of {what} from {} to {}",
            crate::commands::table::count(min),
            crate::commands::table::count(max)
        )),
    }
}

/// `--limit` of a list: a whole number of rows from 1 to [`MAX_LIST_LIMIT`].
pub fn list_limit(s: &str) -> Result<u64, String> {
    whole(s, 1, MAX_LIST_LIMIT, "rows")
}

/// `--offset` of a list: the rows skipped, a whole number from 0.
pub fn offset(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| "must be a whole number of rows to skip: 0 or more".to_owned())
}

/// `categories tree --depth`: levels shown, from 1 to [`MAX_DEPTH`].
pub fn depth(s: &str) -> Result<u32, String> {
    whole(s, 1, MAX_DEPTH, "levels").map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Pages of a run at most (`--max-pages`): a whole number from 1.
pub fn max_pages(s: &str) -> Result<u32, String> {
    whole(s, 1, u64::from(u32::MAX), "pages").map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Products per page asked of the B2B API (`--page-size`): 1 to 10,000.
pub fn page_size(s: &str) -> Result<u32, String> {
    whole(s, 1, 10_000, "products").map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// A latency in milliseconds (`bench --latencies-ms`): 1 to 60,000.
pub fn latency_ms(s: &str) -> Result<u64, String> {
    whole(s, 1, 60_000, "milliseconds")
}

/// A number of items to generate or show (`bench --products`, `rome show --skills`):
/// a whole number from 0 to 100,000,000.
pub fn count(s: &str) -> Result<usize, String> {
    whole(s, 0, 100_000_000, "items").map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// An id given as a flag (`--structure`): a whole number.
pub fn id(s: &str) -> Result<i64, String> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| "must be an id: a whole number".to_owned())
}

/// A ROME code (`G1602`; case and spaces forgiven), for `rome`, `match-skills` and
/// `offers search --rome`.
pub fn rome_code(s: &str) -> Result<String, String> {
    crate::skills::rome_code(s)
        .ok_or_else(|| format!("{s:?} is not a ROME code (a letter and 4 digits, e.g. G1602)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_cannot_work_are_refused() {
        for ok in ["30", "0.5", "86400", " 2 "] {
            assert!(timeout_secs(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "0", "-1", "NaN", "inf", "-inf", "1e-12", "86401", "", "soon",
        ] {
            let err = timeout_secs(bad).expect_err(bad);
            assert!(err.contains("greater than 0"), "{bad:?}: {err}");
        }
        assert_eq!(retries("0"), Ok(0));
        assert_eq!(retries("20"), Ok(20));
        for bad in ["21", "-1", "1000000", "three"] {
            assert!(retries(bad).is_err(), "{bad:?}");
        }
        assert_eq!(response_mb("64"), Ok(64));
        for bad in ["0", "4097", "-1", "1.5"] {
            assert!(response_mb(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_flags_say_what_they_take_in_words() {
        assert_eq!(list_limit("50"), Ok(50));
        assert_eq!(
            list_limit("0"),
            Err("must be a whole number of rows from 1 to 10,000,000".to_owned())
        );
        assert!(list_limit("10000001").is_err());
        assert_eq!(offset("0"), Ok(0));
        assert!(offset("-1").expect_err("negative").contains("0 or more"));
        assert_eq!(depth("2"), Ok(2));
        assert!(depth("0").expect_err("zero").contains("from 1 to 1,000"));
        assert_eq!(id("-3"), Ok(-3));
        assert!(id("x").is_err());
    }

    #[test]
    fn rome_codes_are_read() {
        assert_eq!(rome_code(" g1602 "), Ok("G1602".to_owned()));
        assert!(rome_code("G160").is_err());
        assert!(rome_code("12345").is_err());
    }
}
