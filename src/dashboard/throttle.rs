//! Failed dashboard logins, per client address. The first
//! [`FREE_FAILURES`] cost nothing; after that each attempt must wait
//! 2^(n - FREE_FAILURES) seconds after the last failure, at most
//! [`MAX_WAIT`], so a guesser gets about one try per five minutes. An
//! address is forgotten [`FORGET_AFTER`] after its last failure, and a
//! successful login clears it.
//!
//! The address is the TCP peer: behind Nginx that is Nginx for everyone,
//! so one guesser also slows the real admin down; Nginx limits logins per
//! client itself (`deploy/nginx/s3gw.conf`). The table is per gateway and
//! holds at most [`MAX_TRACKED`] addresses; past that, new addresses share
//! one entry, so a flood of addresses throttles itself rather than growing
//! the table.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) const FREE_FAILURES: u32 = 5;
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(300);
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
pub(crate) const MAX_TRACKED: usize = 4096;
/// The shared entry of addresses that found the table full.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// When the next attempt is allowed.
    fn next_allowed(&self) -> Instant {
        let over = self.count.saturating_sub(FREE_FAILURES - 1);
        if over == 0 {
            return self.last;
        }
        let wait = Duration::from_secs(1u64 << (over - 1).min(20)).min(MAX_WAIT);
        self.last + wait
    }
}

#[derive(Default)]
pub(crate) struct Throttle {
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl Throttle {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // A panic while holding the lock cannot leave the table invalid.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `addr` must still wait before it may try again, if at all.
    pub(crate) fn wait(&self, addr: IpAddr, now: Instant) -> Option<Duration> {
        let table = self.table();
        let entry = table.get(&addr).or_else(|| {
            (table.len() >= MAX_TRACKED)
                .then(|| table.get(&OVERFLOW))
                .flatten()
        })?;
        let allowed = entry.next_allowed();
        (allowed > now).then(|| allowed - now)
    }

    pub(crate) fn failed(&self, addr: IpAddr, now: Instant) {
        let mut table = self.table();
        if !table.contains_key(&addr) && table.len() >= MAX_TRACKED {
            table.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
        }
        let key = if table.contains_key(&addr) || table.len() < MAX_TRACKED {
            addr
        } else {
            OVERFLOW
        };
        let entry = table.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    pub(crate) fn succeeded(&self, addr: IpAddr) {
        self.table().remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn waits_double_after_the_free_failures_and_stop_at_the_cap() {
        let t = Throttle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            t.failed(A, start);
            assert_eq!(t.wait(A, start), None);
        }
        let mut expected = Vec::new();
        for n in 0..12 {
            t.failed(A, start);
            expected.push(Duration::from_secs(1 << n).min(MAX_WAIT));
            assert_eq!(t.wait(A, start), expected.last().copied(), "failure {n}");
        }
        assert_eq!(expected.last().copied(), Some(MAX_WAIT));
        assert_eq!(t.wait(B, start), None, "another address is not slowed");
        assert_eq!(t.wait(A, start + MAX_WAIT), None, "the wait ends");
    }

    #[test]
    fn success_clears_and_old_failures_are_forgotten() {
        let t = Throttle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES + 3 {
            t.failed(A, start);
        }
        assert!(t.wait(A, start).is_some());
        t.succeeded(A);
        assert_eq!(t.wait(A, start), None);
        for _ in 0..FREE_FAILURES + 3 {
            t.failed(A, start);
        }
        let later = start + FORGET_AFTER;
        t.failed(A, later);
        assert_eq!(t.wait(A, later), None, "counting starts again");
    }

    #[test]
    fn a_full_table_makes_new_addresses_share_one_entry() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..MAX_TRACKED as u32 {
            t.failed(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)), now);
        }
        for i in 0..FREE_FAILURES {
            t.failed(IpAddr::V4(std::net::Ipv4Addr::from(0x0b00_0000 + i)), now);
        }
        assert!(t.table().len() <= MAX_TRACKED + 1);
        let fresh = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
        assert!(t.wait(fresh, now).is_some(), "the shared entry is slowed");
    }
}
