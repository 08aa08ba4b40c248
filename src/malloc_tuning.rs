//! How glibc's allocator keeps freed memory, set once at start-up.
//!
//! Every chunk a request reads or writes is a buffer of `chunk_size`
//! (1 MiB by default). With glibc's defaults, such a buffer comes from
//! `mmap` until the first one is freed, and later ones from an arena whose
//! free top is handed back to the kernel (`madvise(MADV_DONTNEED)`, `brk`)
//! as soon as it passes twice that size. A GET at a few chunks in flight
//! crosses that line all the time, so each chunk read faulted in and zeroed
//! fresh pages: about 8 % of the gateway's CPU in a profile of cached 8 ×
//! 64 MiB GETs (`docs/benchmarks.md`, "Where the time goes").
//!
//! Buffers up to [`MMAP_THRESHOLD`] now come from the arenas, and an arena
//! keeps up to [`TRIM_THRESHOLD`] of free memory at its top. Memory in use
//! stays bounded by the request path's own limits; what this adds to the
//! resident size is at most the free top each arena keeps (glibc makes up
//! to 8 arenas per core; `MALLOC_ARENA_MAX` lowers that).
//!
//! glibc's own `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_` in the
//! environment win: when either is set, nothing here is changed.

/// Allocations below this size come from an arena, not from `mmap`: above
/// the largest chunk size (8 MiB) with its allocator header, and below the
/// upper limit mallopt(3) gives (32 MiB on 64-bit hosts).
pub const MMAP_THRESHOLD: usize = 16 << 20;

/// Free memory an arena keeps at its top before returning it.
pub const TRIM_THRESHOLD: usize = 32 << 20;

const ENV_OVERRIDES: [&str; 2] = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"];

/// Applies the thresholds unless the environment sets glibc's own.
/// Returns whether it did.
pub fn apply() -> bool {
    if ENV_OVERRIDES
        .iter()
        .any(|name| std::env::var_os(name).is_some())
    {
        return false;
    }
    set_thresholds()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_thresholds() -> bool {
    let (Ok(mmap), Ok(trim)) = (
        libc::c_int::try_from(MMAP_THRESHOLD),
        libc::c_int::try_from(TRIM_THRESHOLD),
    ) else {
        return false;
    };
    // SAFETY: mallopt takes the allocator's own lock and changes only its
    // parameters; it reads and writes no memory of ours.
    let set = |param, value| unsafe { libc::mallopt(param, value) } == 1;
    set(libc::M_MMAP_THRESHOLD, mmap) && set(libc::M_TRIM_THRESHOLD, trim)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Chunks the allocator holds from `mmap` right now (whole process).
    #[allow(unsafe_code)]
    fn mapped_chunks() -> usize {
        // SAFETY: mallinfo2 returns a plain struct by value.
        unsafe { libc::mallinfo2() }.hblks
    }

    #[test]
    fn a_chunk_buffer_comes_from_an_arena() {
        assert!(set_thresholds(), "glibc refused the thresholds");
        let before = mapped_chunks();
        let buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let during = mapped_chunks();
        drop(buf);
        // With glibc's start-up threshold (128 KiB), this 1 MiB buffer
        // would be a fresh mapping of its own.
        assert!(during <= before, "mapped chunks {before} -> {during}");
    }
}
