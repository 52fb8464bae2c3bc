//! Brute-force protection of logins, in memory (per server process): failures are
//! counted per account (its email key) and per client address (the TCP peer). After
//! [`ThrottleRules::free_failures`] failures each further failed attempt is answered
//! after a delay that doubles (from `base_delay` up to `max_delay`); at
//! `account_lock_after` failures on an account, or `address_lock_after` from an
//! address, that key is locked for `lock_for`: every login on it is refused (429 with
//! `Retry-After`) without looking at the password, and unlocks by itself afterwards.
//! A success clears the account's count, not the address's. Counts are forgotten
//! `forget_after` after their last failure.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The thresholds; [`ThrottleRules::default`] is what `serve --accounts` uses.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRules {
    pub free_failures: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub account_lock_after: u32,
    pub address_lock_after: u32,
    pub lock_for: Duration,
    pub forget_after: Duration,
}

impl Default for ThrottleRules {
    fn default() -> Self {
        ThrottleRules {
            free_failures: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            account_lock_after: 5,
            address_lock_after: 20,
            lock_for: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

/// Most keys remembered; past it, forgotten ones are dropped first, then unlocked ones.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

/// What a login may be asked about: its account key and its client address.
#[derive(Debug)]
pub struct Throttle {
    rules: ThrottleRules,
    entries: Mutex<HashMap<String, Entry>>,
}

/// The key of an account (its lower-cased email).
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// The key of a client address.
pub fn address_key(ip: std::net::IpAddr) -> String {
    format!("address:{ip}")
}

impl Throttle {
    pub fn new(rules: ThrottleRules) -> Self {
        Throttle {
            rules,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn rules(&self) -> ThrottleRules {
        self.rules
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(wait)` when one of `keys` is locked at `now`: how long until it unlocks.
    pub fn check(&self, keys: &[&str], now: Instant) -> Result<(), Duration> {
        let mut entries = self.entries();
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(e) = entries.get(*key).copied() {
                match e.locked_until {
                    Some(until) if until > now => wait = wait.max(until - now),
                    Some(_) => {
                        entries.remove(*key);
                    }
                    None => {}
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Counts a failure on each key; the delay to wait before answering it.
    pub fn failed(&self, account: &str, address: &str, now: Instant) -> Duration {
        let r = self.rules;
        let mut entries = self.entries();
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, e| now.duration_since(e.last_failure) < r.forget_after);
            if entries.len() >= MAX_KEYS {
                entries.retain(|_, e| e.locked_until.is_some());
            }
        }
        let mut most = 0;
        for (key, lock_after) in [
            (account, r.account_lock_after),
            (address, r.address_lock_after),
        ] {
            let e = entries.entry(key.to_owned()).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            if now.duration_since(e.last_failure) >= r.forget_after {
                e.failures = 0;
            }
            e.failures += 1;
            e.last_failure = now;
            if e.failures >= lock_after {
                e.locked_until = Some(now + r.lock_for);
            }
            most = most.max(e.failures);
        }
        self.delay(most)
    }

    /// The delay after the `failures`-th failure: none up to `free_failures`, then
    /// `base_delay` doubling up to `max_delay`.
    pub fn delay(&self, failures: u32) -> Duration {
        let r = self.rules;
        let Some(over) = failures.checked_sub(r.free_failures + 1) else {
            return Duration::ZERO;
        };
        r.base_delay
            .saturating_mul(1u32 << over.min(16))
            .min(r.max_delay)
    }

    /// A successful login clears the account's count.
    pub fn succeeded(&self, account: &str) {
        self.entries().remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_the_account_locks_and_unlocks_after_lock_for() {
        let t = Throttle::new(ThrottleRules::default());
        let now = Instant::now();
        let (acc, addr) = ("account:a@b.fr", "address:127.0.0.1");
        let delays: Vec<u64> = (0..4)
            .map(|_| t.failed(acc, addr, now).as_millis() as u64)
            .collect();
        assert_eq!(delays, [0, 0, 0, 500]);
        assert!(t.check(&[acc, addr], now).is_ok());
        t.failed(acc, addr, now);
        let wait = t.check(&[acc], now).expect_err("locked");
        assert_eq!(wait, Duration::from_secs(900));
        assert!(t.check(&[addr], now).is_ok(), "the address has room left");
        let later = now + Duration::from_secs(901);
        assert!(t.check(&[acc], later).is_ok(), "unlocked after lock_for");
    }

    #[test]
    fn an_address_locks_across_accounts_and_a_success_does_not_clear_it() {
        let t = Throttle::new(ThrottleRules::default());
        let now = Instant::now();
        for i in 0..20 {
            let acc = format!("account:{i}@b.fr");
            t.failed(&acc, "address:10.0.0.1", now);
            t.succeeded(&acc);
        }
        assert!(t.check(&["address:10.0.0.1"], now).is_err());
        assert!(t.check(&["address:10.0.0.2"], now).is_ok());
        assert_eq!(t.delay(100), Duration::from_secs(4));
    }
}
