//! Runs a list of jobs on a fixed set of workers (each with its own
//! connection or handle) and tallies every job's bytes and latency.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::measure::Tally;

/// Runs `jobs` on `workers`, `f(worker, job)` at a time per worker; each
/// job returns the bytes it moved, or an error (counted, not fatal).
pub async fn drive<W, J, F, Fut>(workers: Vec<W>, jobs: Vec<J>, tally: Arc<Tally>, f: F)
where
    W: Send + 'static,
    J: Send + 'static,
    F: Fn(W, J) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (W, Result<u64, String>)> + Send,
{
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let f = Arc::new(f);
    let mut handles = Vec::new();
    for worker in workers {
        let queue = queue.clone();
        let f = f.clone();
        let tally = tally.clone();
        handles.push(tokio::spawn(async move {
            let mut worker = worker;
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(job) = next else { break };
                let started = Instant::now();
                let (back, result) = f(worker, job).await;
                worker = back;
                match result {
                    Ok(bytes) => tally.done(bytes, started.elapsed()),
                    Err(e) => tally.failed(e),
                }
            }
        }));
    }
    for h in handles {
        if let Err(e) = h.await {
            tally.failed(format!("worker panicked: {e}"));
        }
    }
}
