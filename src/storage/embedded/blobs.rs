//! Blob files of the embedded backend: one file per blob under
//! `blobs/<hh>/<blob>`, chunk `i` at offset `i * chunk_size`.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::private_fs;
use crate::storage::records::{BlobId, ChunkAddr};

pub(super) struct BlobFiles {
    root: PathBuf,
}

impl BlobFiles {
    /// Creates the 256 shard directories once and makes them durable.
    pub(super) fn open(root: PathBuf) -> io::Result<Self> {
        private_fs::create_dir_all(&root)?;
        for shard in 0..=255u8 {
            private_fs::create_dir_all(&root.join(format!("{shard:02x}")))?;
        }
        sync_dir(&root)?;
        Ok(BlobFiles { root })
    }

    fn shard_dir(&self, blob: BlobId) -> PathBuf {
        let name = blob.to_string();
        self.root.join(&name[..2])
    }

    fn path(&self, blob: BlobId) -> PathBuf {
        self.shard_dir(blob).join(blob.to_string())
    }

    pub(super) fn write_chunk(&self, addr: ChunkAddr, data: &[u8]) -> io::Result<()> {
        let file = private_fs::open_for_write(&self.path(addr.blob))?;
        file.write_all_at(data, addr.offset())?;
        start_writeback(&file, addr.offset(), data.len());
        Ok(())
    }

    /// fsync of the file and of its directory entry (most of the data is
    /// already on its way to disk: see `start_writeback`), then the file's
    /// pages leave the page cache (`drop_cached`).
    pub(super) fn seal(&self, blob: BlobId) -> io::Result<()> {
        let file = private_fs::open_for_write(&self.path(blob))?;
        file.sync_all()?;
        drop_cached(&file);
        sync_dir(&self.shard_dir(blob))
    }

    /// Reads up to one chunk; shorter only at the end of the blob.
    pub(super) fn read_chunk(&self, addr: ChunkAddr) -> io::Result<Option<Bytes>> {
        let mut file = match File::open(self.path(addr.blob)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let want = u64::from(addr.chunk_size);
        // Read straight into the buffer's unwritten capacity: `read_to_end`
        // does not zero it first, and `take` stops it at the chunk's end,
        // so the buffer never grows past one chunk.
        let mut buf = Vec::with_capacity(addr.chunk_size as usize);
        file.seek(SeekFrom::Start(addr.offset()))?;
        file.take(want).read_to_end(&mut buf)?;
        Ok(Some(Bytes::from(buf)))
    }

    pub(super) fn remove(&self, blob: BlobId) -> io::Result<()> {
        match fs::remove_file(self.path(blob)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The length of a blob's file; `None` if it has none.
    pub(super) fn len(&self, blob: BlobId) -> io::Result<Option<u64>> {
        match std::fs::metadata(self.path(blob)) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every blob file present on disk.
    pub(super) fn list(&self) -> io::Result<Vec<BlobId>> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.root)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(shard.path())? {
                let entry = entry?;
                if let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| uuid::Uuid::try_parse(n).ok())
                {
                    out.push(BlobId(id));
                }
            }
        }
        Ok(out)
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Asks the kernel to start writing a chunk just written back to disk,
/// without waiting (`sync_file_range(SYNC_FILE_RANGE_WRITE)`), so the disk
/// works while the rest of the body arrives and `seal`'s fsync finds little
/// left to do. Only a hint: the fsync in `seal` is what makes data durable,
/// so a failure here is ignored.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn start_writeback(file: &File, offset: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor is open for the duration of the call, and
    // sync_file_range reads no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Tells the kernel it may drop the (clean, just synced) pages of a sealed
/// blob (`posix_fadvise(POSIX_FADV_DONTNEED)`), as MinIO's O_DIRECT writes
/// never cache them. With written data kept in the page cache, each later
/// write got slower: 395, 348, 241, 290 MB/s for four 256 MiB PUTs in a
/// row on one gateway, its CPU per PUT 0.9 to 1.6 s, with the kernel's
/// copy into the cache at 29 % of it. Only a hint; a failure is ignored.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn drop_cached(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call, and
    // posix_fadvise reads no memory of ours.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

/// Elsewhere the hints are not given: the fsync in `seal` is what counts.
#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: usize) {}

#[cfg(not(target_os = "linux"))]
fn drop_cached(_file: &File) {}
