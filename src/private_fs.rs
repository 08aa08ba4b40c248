//! Files and directories only the gateway's own user may read: the data
//! directory, the records, blob files and the stored root credentials hold
//! every object and the key to all of them.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Mode of the directories the gateway creates.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of the files the gateway creates.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents, owner-only. An existing
/// directory keeps its mode (see [`shared_with_others`]).
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Opens `path` for writing, creating it owner-only if it does not exist;
/// an existing file is neither truncated nor changed in mode.
pub(crate) fn open_for_write(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
}

/// Creates a new file owner-only; fails if it exists.
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Whether users other than the owner may read or enter `path`.
pub(crate) fn shared_with_others(path: &Path) -> io::Result<bool> {
    Ok(std::fs::metadata(path)?.mode() & 0o077 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().mode() & 0o777
    }

    #[test]
    fn created_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&tmp.path().join("a")), DIR_MODE);
        assert!(!shared_with_others(&dir).unwrap());
        let f = dir.join("f");
        open_for_write(&f).unwrap();
        assert_eq!(mode(&f), FILE_MODE);
        let g = dir.join("g");
        create_new(&g).unwrap();
        assert_eq!(mode(&g), FILE_MODE);
        assert!(create_new(&g).is_err());

        // An existing file or directory keeps its mode; the check tells.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_for_write(&f).unwrap();
        assert_eq!(mode(&f), 0o644);
        assert!(shared_with_others(&f).unwrap());
    }
}
