//! How long a request body may keep the gateway waiting: at most `idle`
//! for any one piece, and in all at most `grace` plus one second for every
//! `min_rate` bytes received (the model of Apache's mod_reqtimeout,
//! `body=20,MinRate=500`). A body that stalls, or trickles in, is cut with a
//! `TimedOut` error, which the handlers answer with `400 RequestTimeout`
//! before anything is committed.
//!
//! Only time spent waiting on the client counts: while the gateway itself
//! is busy with a body (storing, hashing, waiting for a buffer slot) the
//! clock stops, and bytes the client sent meanwhile arrive at once.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use tokio::time::Instant;

/// The limits on waiting for a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyPace {
    /// The longest wait for any next piece of the body.
    pub idle: Duration,
    /// Waiting allowed before the rate applies.
    pub grace: Duration,
    /// Bytes per second of waiting, averaged over the whole body; 0 for
    /// no minimum (then only `idle` applies).
    pub min_rate: u64,
}

/// Which limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    Idle,
    Rate,
}

impl BodyPace {
    /// The longest the next wait may last after `waited` in all for
    /// `received` bytes, and the limit that sets it.
    fn budget(&self, waited: Duration, received: u64) -> (Duration, Limit) {
        if self.min_rate == 0 {
            return (self.idle, Limit::Idle);
        }
        let bought = Duration::from_millis(received.saturating_mul(1000) / self.min_rate);
        let left = self.grace.saturating_add(bought).saturating_sub(waited);
        if left < self.idle {
            (left, Limit::Rate)
        } else {
            (self.idle, Limit::Idle)
        }
    }

    fn exceeded(&self, limit: Limit) -> std::io::Error {
        let what = match limit {
            Limit::Idle => format!("request body idle for {:?}", self.idle),
            Limit::Rate => format!(
                "request body slower than {} B/s after a grace of {:?}",
                self.min_rate, self.grace
            ),
        };
        std::io::Error::new(std::io::ErrorKind::TimedOut, what)
    }
}

struct Waiting<S> {
    frames: S,
    /// Time spent waiting on the client so far.
    waited: Duration,
    received: u64,
}

/// `frames` held to `pace`. After a timeout the stream ends.
pub(crate) fn paced<S>(
    frames: S,
    pace: BodyPace,
) -> BoxStream<'static, Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let start = Waiting {
        frames: frames.boxed(),
        waited: Duration::ZERO,
        received: 0,
    };
    stream::unfold(Some(start), move |state| async move {
        let mut w = state?;
        let (budget, limit) = pace.budget(w.waited, w.received);
        let began = Instant::now();
        // A piece already there is taken even when the budget is spent.
        let next = tokio::time::timeout(budget, w.frames.next()).await;
        w.waited += began.elapsed();
        match next {
            Ok(Some(Ok(data))) => {
                w.received += data.len() as u64;
                Some((Ok(data), Some(w)))
            }
            Ok(Some(Err(e))) => Some((Err(e), Some(w))),
            Ok(None) => None,
            Err(_) => Some((Err(pace.exceeded(limit)), None)),
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn pace(idle: u64, grace: u64, min_rate: u64) -> BodyPace {
        BodyPace {
            idle: S * idle as u32,
            grace: S * grace as u32,
            min_rate,
        }
    }

    #[test]
    fn budget_table() {
        let ms = Duration::from_millis;
        // (pace, waited, received) -> budget, limit
        let cases = [
            (pace(60, 20, 0), S * 500, 0, S * 60, Limit::Idle),
            (pace(60, 20, 500), Duration::ZERO, 0, S * 20, Limit::Rate),
            (pace(60, 20, 500), S * 19, 1, ms(1002), Limit::Rate),
            (pace(60, 20, 500), S * 25, 0, Duration::ZERO, Limit::Rate),
            // 1 MB received bought 2000 s: the idle timeout governs.
            (pace(60, 20, 500), S * 100, 1_000_000, S * 60, Limit::Idle),
            (pace(60, 20, 500), S * 1990, 1_000_000, S * 30, Limit::Rate),
            // Absurd sizes saturate rather than overflow.
            (pace(60, 20, 1), S * 5, u64::MAX, S * 60, Limit::Idle),
        ];
        for (p, waited, received, want, limit) in cases {
            assert_eq!(
                p.budget(waited, received),
                (want, limit),
                "{p:?} {waited:?} {received}"
            );
        }
    }

    fn pieces(n: usize, every: Duration) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        stream::iter(0..n).then(move |_| async move {
            tokio::time::sleep(every).await;
            Ok(Bytes::from_static(b"x"))
        })
    }

    async fn drain(
        mut s: BoxStream<'static, Result<Bytes, std::io::Error>>,
        pause: Duration,
    ) -> Result<usize, std::io::Error> {
        let mut n = 0;
        while let Some(piece) = s.next().await {
            n += piece?.len();
            tokio::time::sleep(pause).await;
        }
        Ok(n)
    }

    fn ms_pace(idle: u64, grace: u64, min_rate: u64) -> BodyPace {
        BodyPace {
            idle: Duration::from_millis(idle),
            grace: Duration::from_millis(grace),
            min_rate,
        }
    }

    #[tokio::test]
    async fn a_body_that_stops_is_cut_at_the_idle_timeout() {
        let body = pieces(2, Duration::ZERO).chain(stream::pending());
        let e = drain(paced(body, ms_pace(100, 60_000, 0)), Duration::ZERO).await;
        let e = e.expect_err("cut");
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("idle"), "{e}");
    }

    #[tokio::test]
    async fn a_trickle_is_cut_after_the_grace() {
        // A byte every 50 ms is 20 B/s, under 1000 B/s; never idle 1 s.
        let t = Instant::now();
        let e = drain(
            paced(
                pieces(100, Duration::from_millis(50)),
                ms_pace(1000, 300, 1000),
            ),
            Duration::ZERO,
        )
        .await;
        let e = e.expect_err("cut");
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("slower than 1000 B/s"), "{e}");
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
    }

    #[tokio::test]
    async fn time_the_gateway_spends_elsewhere_does_not_count() {
        // The reader pauses 100 ms after each piece, 400 ms in all, past
        // the 200 ms grace; the client never keeps it waiting.
        let body = paced(pieces(4, Duration::ZERO), ms_pace(1000, 200, 1_000_000));
        assert_eq!(
            drain(body, Duration::from_millis(100))
                .await
                .expect("whole body"),
            4
        );
    }

    #[tokio::test]
    async fn a_body_above_the_rate_is_never_cut() {
        // 1 KiB every 20 ms is about 50 KB/s, over 10 KB/s, for 0.4 s,
        // twice the grace.
        let body = stream::iter(0..20).then(|_| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Bytes::from(vec![0u8; 1024]))
        });
        let n = drain(paced(body, ms_pace(1000, 200, 10_000)), Duration::ZERO).await;
        assert_eq!(n.expect("whole body"), 20 * 1024);
    }
}
