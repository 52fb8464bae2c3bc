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
    fn rome_codes_are_read() {
        assert_eq!(rome_code(" g1602 "), Ok("G1602".to_owned()));
        assert!(rome_code("G160").is_err());
        assert!(rome_code("12345").is_err());
    }
}
