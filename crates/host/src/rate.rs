//! Per-member rate limiting: a token bucket per member, refilled continuously.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use statement::MemberId;

/// Token buckets keyed by member.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<MemberId, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` statements per second sustained, `burst` at once.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes `n` tokens for `member` at `now`; false (and nothing taken) if there are not
    /// enough.
    pub fn take(&self, member: &MemberId, n: usize, now: Instant) -> bool {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, last) = buckets.entry(member.clone()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        let n = n as f64;
        if *tokens >= n {
            *tokens -= n;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bucket_refills_at_the_rate() {
        let r = RateLimiter::new(10, 20);
        let m = MemberId::new("cert-a").unwrap();
        let t0 = Instant::now();
        assert!(r.take(&m, 20, t0));
        assert!(!r.take(&m, 1, t0));
        assert!(r.take(&m, 10, t0 + Duration::from_secs(1)));
        assert!(!r.take(&m, 1, t0 + Duration::from_secs(1)));
    }
}
