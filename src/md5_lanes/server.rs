//! One thread hashes the large pieces of every upload in the gateway, up to
//! 16 uploads side by side in the lanes of [`super::avx512`]. An upload
//! hands over a piece and its chaining value and gets the new value back.
//! On a CPU without AVX-512 there is no such thread and callers hash alone.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::OnceLock;

use bytes::Bytes;

#[cfg(target_arch = "x86_64")]
use super::avx512::{compress16, States, LANES};

/// A piece of whole blocks to hash from `state` on.
struct Job {
    state: [u32; 4],
    data: Bytes,
    reply: SyncSender<[u32; 4]>,
}

static SERVER: OnceLock<Option<Sender<Job>>> = OnceLock::new();

/// Hands `data` (whole 64-byte blocks) to the hashing thread. `None` when
/// there is no such thread (no AVX-512, or it could not start or died): the
/// caller then hashes itself.
pub(super) fn submit(state: [u32; 4], data: Bytes) -> Option<Receiver<[u32; 4]>> {
    debug_assert_eq!(data.len() % 64, 0);
    let server = SERVER.get_or_init(start).as_ref()?;
    let (reply, answer) = sync_channel(1);
    server.send(Job { state, data, reply }).ok()?;
    Some(answer)
}

#[cfg(target_arch = "x86_64")]
fn start() -> Option<Sender<Job>> {
    if !super::avx512::available() {
        return None;
    }
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("s3gw-md5".into())
        .spawn(move || serve(rx))
        .ok()?;
    Some(tx)
}

#[cfg(not(target_arch = "x86_64"))]
fn start() -> Option<Sender<Job>> {
    None
}

/// Blocks a lane runs before newcomers may join (16 KiB).
#[cfg(target_arch = "x86_64")]
const STRIDE: usize = 256;

#[cfg(target_arch = "x86_64")]
struct Lane {
    job: Job,
    /// Bytes of `job.data` hashed so far.
    done: usize,
}

#[cfg(target_arch = "x86_64")]
fn serve(jobs: Receiver<Job>) {
    let mut lanes: [Option<Lane>; LANES] = Default::default();
    let mut states = States::default();
    loop {
        if lanes.iter().all(Option::is_none) {
            match jobs.recv() {
                Ok(job) => place(&mut lanes, &mut states, job),
                Err(_) => return,
            }
        }
        while lanes.iter().any(Option::is_none) {
            match jobs.try_recv() {
                Ok(job) => place(&mut lanes, &mut states, job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let blocks = lanes
            .iter()
            .flatten()
            .map(|l| (l.job.data.len() - l.done) / 64)
            .min()
            .unwrap_or(0)
            .min(STRIDE);
        if blocks == 0 {
            continue;
        }
        let mut inputs: [&[u8]; LANES] = [&[]; LANES];
        for (input, lane) in inputs.iter_mut().zip(&lanes) {
            if let Some(l) = lane {
                *input = &l.job.data[l.done..l.done + 64 * blocks];
            }
        }
        let mut busy = inputs.iter().enumerate().filter(|(_, i)| !i.is_empty());
        match (busy.next(), busy.next()) {
            // One upload alone: the scalar function is faster than one
            // lane of sixteen.
            (Some((lane, input)), None) => {
                let mut state = states.get(lane);
                super::scalar::compress(&mut state, input);
                states.set(lane, state);
            }
            _ => compress16(&mut states, inputs, blocks),
        }
        for (i, lane) in lanes.iter_mut().enumerate() {
            let Some(l) = lane else { continue };
            l.done += 64 * blocks;
            if l.done == l.job.data.len() {
                // The submitter may have gone; then nobody needs the value.
                let _ = l.job.reply.send(states.get(i));
                *lane = None;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn place(lanes: &mut [Option<Lane>; LANES], states: &mut States, job: Job) {
    if job.data.is_empty() {
        let _ = job.reply.send(job.state);
        return;
    }
    if let Some((i, free)) = lanes.iter_mut().enumerate().find(|(_, l)| l.is_none()) {
        states.set(i, job.state);
        *free = Some(Lane { job, done: 0 });
    }
}
