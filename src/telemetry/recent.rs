//! The last ten minutes of this gateway's traffic, second by second: what
//! its heartbeat tells the dashboard (rates, error rate, p99 latency and
//! the throughput chart). Prometheus gets the same events as counters and
//! histograms; this window exists because a dashboard must not need a
//! Prometheus server to show the last minutes.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Seconds kept.
const SECONDS: usize = 600;
/// Latency buckets: bucket i holds latencies below `FIRST_EDGE_US * GROWTH^i`
/// (0.5 ms … about 90 s in steps of 25 %); the last one holds the rest.
const BUCKETS: usize = 56;
const FIRST_EDGE_US: f64 = 500.0;
const GROWTH: f64 = 1.25;
/// The window the rates and the p99 cover.
pub(crate) const RATE_WINDOW_SECS: i64 = 10;
/// Width of one point of the throughput series.
pub(crate) const STEP_SECS: i64 = 5;

#[derive(Clone, Copy)]
struct Slot {
    /// The second (Unix time) this slot holds; older data is stale.
    sec: i64,
    requests: u64,
    errors: u64,
    bytes_in: u64,
    bytes_out: u64,
    latency: [u32; BUCKETS],
}

impl Slot {
    const EMPTY: Slot = Slot {
        sec: i64::MIN,
        requests: 0,
        errors: 0,
        bytes_in: 0,
        bytes_out: 0,
        latency: [0; BUCKETS],
    };
}

/// Rates over the last [`RATE_WINDOW_SECS`] complete seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rates {
    pub requests_per_s: f64,
    pub errors_per_s: f64,
    /// Errors ÷ requests (0 without requests).
    pub error_rate: f64,
    /// The 99th percentile latency (the upper edge of its bucket, so at
    /// most 25 % high); `None` without requests.
    pub p99_ms: Option<f64>,
    pub bytes_in_per_s: f64,
    pub bytes_out_per_s: f64,
}

/// One point of the throughput series: rates over `STEP_SECS` seconds
/// ending at `t_ms` (exclusive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Point {
    pub t_ms: i64,
    pub requests_per_s: f64,
    pub errors_per_s: f64,
    pub bytes_in_per_s: f64,
    pub bytes_out_per_s: f64,
}

/// Per-second counters of the last ten minutes.
pub struct Recent {
    slots: Mutex<Vec<Slot>>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            slots: Mutex::new(vec![Slot::EMPTY; SECONDS]),
        }
    }
}

fn bucket_of(latency: Duration) -> usize {
    let us = latency.as_secs_f64() * 1e6;
    if us < FIRST_EDGE_US {
        return 0;
    }
    let i = ((us / FIRST_EDGE_US).ln() / GROWTH.ln()).floor() as usize + 1;
    i.min(BUCKETS - 1)
}

/// The upper edge of bucket `i`, in ms (the last bucket reports its lower edge).
fn upper_edge_ms(i: usize) -> f64 {
    let i = i.min(BUCKETS - 2);
    FIRST_EDGE_US * GROWTH.powi(i as i32) / 1000.0
}

impl Recent {
    /// Runs `f` on the slot of second `sec`, clearing it first if it held
    /// an older second.
    fn with_slot(&self, sec: i64, f: impl FnOnce(&mut Slot)) {
        let mut slots = match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let slot = &mut slots[sec.rem_euclid(SECONDS as i64) as usize];
        if slot.sec != sec {
            *slot = Slot { sec, ..Slot::EMPTY };
        }
        f(slot);
    }

    pub(crate) fn add_bytes_in(&self, now_s: i64, n: u64) {
        self.with_slot(now_s, |s| s.bytes_in += n);
    }

    pub(crate) fn add_bytes_out(&self, now_s: i64, n: u64) {
        self.with_slot(now_s, |s| s.bytes_out += n);
    }

    /// Counts one finished request.
    pub(crate) fn request(&self, now_s: i64, error: bool, latency: Duration) {
        let b = bucket_of(latency);
        self.with_slot(now_s, |s| {
            s.requests += 1;
            s.errors += u64::from(error);
            s.latency[b] = s.latency[b].saturating_add(1);
        });
    }

    /// Sums the slots of seconds `from..to`.
    fn sum(&self, from: i64, to: i64) -> Slot {
        let slots = match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut total = Slot::EMPTY;
        for s in slots.iter().filter(|s| s.sec >= from && s.sec < to) {
            total.requests += s.requests;
            total.errors += s.errors;
            total.bytes_in += s.bytes_in;
            total.bytes_out += s.bytes_out;
            for (t, v) in total.latency.iter_mut().zip(s.latency.iter()) {
                *t = t.saturating_add(*v);
            }
        }
        total
    }

    /// Rates over the complete seconds of the window before `now_s`.
    pub(crate) fn rates(&self, now_s: i64) -> Rates {
        let t = self.sum(now_s - RATE_WINDOW_SECS, now_s);
        let secs = RATE_WINDOW_SECS as f64;
        Rates {
            requests_per_s: t.requests as f64 / secs,
            errors_per_s: t.errors as f64 / secs,
            error_rate: if t.requests == 0 {
                0.0
            } else {
                t.errors as f64 / t.requests as f64
            },
            p99_ms: percentile_ms(&t.latency, 0.99),
            bytes_in_per_s: t.bytes_in as f64 / secs,
            bytes_out_per_s: t.bytes_out as f64 / secs,
        }
    }

    /// The throughput series: `count` points of `STEP_SECS`, oldest first,
    /// the last one ending at the start of the current step.
    pub(crate) fn series(&self, now_s: i64, count: usize) -> Vec<Point> {
        let end = now_s - now_s.rem_euclid(STEP_SECS);
        let secs = STEP_SECS as f64;
        (0..count as i64)
            .rev()
            .map(|k| {
                let to = end - k * STEP_SECS;
                let t = self.sum(to - STEP_SECS, to);
                Point {
                    t_ms: to * 1000,
                    requests_per_s: t.requests as f64 / secs,
                    errors_per_s: t.errors as f64 / secs,
                    bytes_in_per_s: t.bytes_in as f64 / secs,
                    bytes_out_per_s: t.bytes_out as f64 / secs,
                }
            })
            .collect()
    }
}

fn percentile_ms(latency: &[u32; BUCKETS], q: f64) -> Option<f64> {
    let total: u64 = latency.iter().map(|&v| u64::from(v)).sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0u64;
    for (i, &v) in latency.iter().enumerate() {
        seen += u64::from(v);
        if seen >= rank {
            return Some(upper_edge_ms(i));
        }
    }
    Some(upper_edge_ms(BUCKETS - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_grow_by_a_quarter() {
        assert_eq!(bucket_of(Duration::from_micros(100)), 0);
        assert_eq!(bucket_of(Duration::from_micros(500)), 1);
        assert_eq!(bucket_of(Duration::from_micros(624)), 1);
        assert_eq!(bucket_of(Duration::from_micros(626)), 2);
        assert_eq!(bucket_of(Duration::from_secs(3600)), BUCKETS - 1);
        // Every latency is at most its bucket's upper edge, and above 80 % of it.
        for ms in [0.7, 3.0, 42.0, 950.0, 12_000.0] {
            let b = bucket_of(Duration::from_secs_f64(ms / 1000.0));
            let edge = upper_edge_ms(b);
            assert!(
                ms <= edge && ms > edge / GROWTH,
                "{ms} ms in bucket {b} (edge {edge})"
            );
        }
    }

    #[test]
    fn rates_cover_the_last_complete_seconds() {
        let r = Recent::default();
        let now = 1_000_000;
        for i in 0..99 {
            r.request(now - 1 - (i % 10), false, Duration::from_millis(2));
        }
        r.request(now - 3, true, Duration::from_millis(400));
        r.request(now, false, Duration::from_secs(9)); // current second: not counted
        r.request(now - 11, false, Duration::from_secs(9)); // before the window
        r.add_bytes_in(now - 2, 5000);
        r.add_bytes_out(now - 2, 1000);
        let rates = r.rates(now);
        assert_eq!(rates.requests_per_s, 10.0);
        assert_eq!(rates.errors_per_s, 0.1);
        assert_eq!(rates.error_rate, 0.01);
        assert_eq!(rates.bytes_in_per_s, 500.0);
        assert_eq!(rates.bytes_out_per_s, 100.0);
        // 99 of 100 at 2 ms: the 99th is in 2 ms's bucket.
        let p99 = rates.p99_ms.unwrap_or_default();
        assert!((2.0..2.5).contains(&p99), "p99 {p99}");
        assert_eq!(Recent::default().rates(now).p99_ms, None);
    }

    #[test]
    fn old_seconds_are_forgotten_and_series_steps_align() {
        let r = Recent::default();
        let now = 1_000_003; // step of 5 s starts at 1_000_000
        r.request(999_996, false, Duration::from_millis(1));
        r.request(999_999, false, Duration::from_millis(1));
        r.add_bytes_out(999_995, 50);
        let s = r.series(now, 3);
        assert_eq!(s.len(), 3);
        assert_eq!(s[2].t_ms, 1_000_000_000);
        assert_eq!(s[2].requests_per_s, 2.0 / 5.0);
        assert_eq!(s[2].bytes_out_per_s, 10.0);
        assert_eq!(s[1].requests_per_s, 0.0);
        // The same slot ten minutes later holds only the new second.
        r.request(999_996 + SECONDS as i64, false, Duration::from_millis(1));
        let later = r.series(999_996 + SECONDS as i64 + 4, 1);
        assert_eq!(later[0].requests_per_s, 1.0 / 5.0);
    }
}
