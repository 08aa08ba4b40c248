//! Latencies, the server's memory and CPU (from `/proc`), and a progress
//! line on an interactive terminal.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a scenario did.
#[derive(Debug, Default)]
pub struct Tally {
    pub bytes: AtomicU64,
    pub ops: AtomicU64,
    pub errors: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
    first_error: Mutex<Option<String>>,
}

impl Tally {
    pub fn done(&self, bytes: u64, took: Duration) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(took);
    }

    pub fn failed(&self, error: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(error);
        }
    }

    /// Bytes moved so far (for the progress line).
    pub fn moved(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The latency at quantile `q` (nearest rank), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let mut l = self
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if l.is_empty() {
            return 0.0;
        }
        l.sort();
        let rank = ((q * l.len() as f64).ceil() as usize).clamp(1, l.len());
        l[rank - 1].as_secs_f64() * 1000.0
    }
}

/// Resident memory and CPU time of processes, from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
struct ProcSample {
    rss_bytes: u64,
    cpu_ticks: u64,
}

fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(ProcSample {
        rss_bytes: rss_kb * 1024,
        cpu_ticks: utime + stime,
    })
}

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// Samples processes every 50 ms while a scenario runs.
pub struct ProcWatch {
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<u64>>,
    pids: Vec<u32>,
    start_ticks: u64,
}

/// The server's figures over a scenario.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcFigures {
    /// Highest resident memory of any one process.
    pub peak_rss_mib: f64,
    /// CPU seconds of all of them together.
    pub cpu_secs: f64,
}

impl ProcWatch {
    pub fn start(pids: &[u32]) -> ProcWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let start_ticks = pids
            .iter()
            .filter_map(|p| sample(*p))
            .map(|s| s.cpu_ticks)
            .sum();
        let task = (!pids.is_empty()).then(|| {
            let stop = stop.clone();
            let pids = pids.to_vec();
            tokio::spawn(async move {
                let mut peak = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for p in &pids {
                        if let Some(s) = sample(*p) {
                            peak = peak.max(s.rss_bytes);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                peak
            })
        });
        ProcWatch {
            stop,
            task,
            pids: pids.to_vec(),
            start_ticks,
        }
    }

    pub async fn finish(mut self) -> Option<ProcFigures> {
        self.stop.store(true, Ordering::Relaxed);
        let peak = self.task.take()?.await.ok()?;
        let end: u64 = self
            .pids
            .iter()
            .filter_map(|p| sample(*p))
            .map(|s| s.cpu_ticks)
            .sum();
        Some(ProcFigures {
            peak_rss_mib: peak as f64 / (1024.0 * 1024.0),
            cpu_secs: end.saturating_sub(self.start_ticks) as f64 / TICKS_PER_SEC,
        })
    }
}

/// A progress line on stderr while a scenario runs, when stderr is a
/// terminal.
pub struct Progress {
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub fn start(name: &str, total_bytes: u64, tally: Arc<Tally>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let task = std::io::stderr().is_terminal().then(|| {
            let stop = stop.clone();
            let name = name.to_owned();
            tokio::spawn(async move {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let moved = tally.moved();
                    let secs = started.elapsed().as_secs_f64().max(1e-9);
                    let share = if total_bytes > 0 {
                        (moved as f64 / total_bytes as f64).min(1.0)
                    } else {
                        0.0
                    };
                    let filled = (share * 30.0) as usize;
                    let bar = format!("{}{}", "#".repeat(filled), ".".repeat(30 - filled));
                    let mut err = std::io::stderr().lock();
                    let _ = write!(
                        err,
                        "\r{name:<14} [{bar}] {:>5.1}% {:>8.1} MB/s {:>6} ops",
                        share * 100.0,
                        moved as f64 / secs / 1e6,
                        tally.ops.load(Ordering::Relaxed)
                    );
                    let _ = err.flush();
                }
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r{:80}\r", "");
                let _ = err.flush();
            })
        });
        Progress { stop, task }
    }

    pub async fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let t = Tally::default();
        for ms in 1..=100 {
            t.done(0, Duration::from_millis(ms));
        }
        assert_eq!(t.quantile_ms(0.5), 50.0);
        assert_eq!(t.quantile_ms(0.99), 99.0);
        assert_eq!(t.quantile_ms(0.999), 100.0);
    }

    #[test]
    fn reads_this_process() {
        let s = sample(std::process::id()).expect("own /proc entry");
        assert!(s.rss_bytes > 0);
    }
}
