//! [`FsTiles`]: the read path in a local directory.
//!
//! Every write follows the durable sequence: write a temporary file in the target's
//! directory, fsync it, rename it over the target, then fsync the directory — once per
//! directory per batch — so that after `Ok` the file survives a power loss and a reader
//! never sees half of it (rename is atomic on POSIX filesystems). Directories created on
//! the way are made durable by fsyncing their parents too.
//!
//! The one exception is the checkpoint: it is replaced through a temporary file and a
//! rename all the same, but not fsynced, as [`TileStore::publish_checkpoint`] allows. Its
//! durable copy is the state store's head; that saves two of the ten or so fsyncs of a
//! small batch.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{StoreError, TileStore};

/// A tlog-tiles directory on the local filesystem.
#[derive(Debug)]
pub struct FsTiles {
    root: PathBuf,
    counter: AtomicU64,
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl FsTiles {
    /// Opens (creating if needed) the directory `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<FsTiles, StoreError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        Ok(FsTiles {
            root,
            counter: AtomicU64::new(0),
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn resolve(&self, path: &str) -> Result<PathBuf, StoreError> {
        if !valid_path(path) {
            return Err(StoreError::BadPath(path.chars().take(100).collect()));
        }
        Ok(self.root.join(path))
    }

    /// Writes one file through a temporary file, fsynced if `durable`; adds the
    /// directories to fsync to `dirs`.
    fn write_one(
        &self,
        target: &Path,
        bytes: &[u8],
        dirs: &mut BTreeSet<PathBuf>,
        durable: bool,
    ) -> Result<(), StoreError> {
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        self.create_dirs(&parent, dirs)?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(".tmp-{}-{n}", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io(&tmp, e))?;
        file.write_all(bytes).map_err(|e| io(&tmp, e))?;
        if durable {
            file.sync_all().map_err(|e| io(&tmp, e))?;
        }
        drop(file);
        fs::rename(&tmp, target).map_err(|e| io(target, e))?;
        if durable {
            dirs.insert(parent);
        }
        Ok(())
    }

    /// Creates `dir` and its missing ancestors, remembering each new directory's parent,
    /// whose entry for it must be made durable too.
    fn create_dirs(&self, dir: &Path, dirs: &mut BTreeSet<PathBuf>) -> Result<(), StoreError> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.create_dirs(parent, dirs)?;
            match fs::create_dir(dir) {
                Ok(()) => {
                    dirs.insert(parent.to_path_buf());
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(dir, e)),
            }
        }
        Ok(())
    }
}

fn sync_dirs(dirs: &BTreeSet<PathBuf>) -> Result<(), StoreError> {
    for dir in dirs {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    Ok(())
}

/// The paths this store holds: `checkpoint`, tlog-tiles tile and entry-bundle paths, and
/// `blob/<64 lowercase hex>`.
pub(crate) fn valid_path(path: &str) -> bool {
    if path == "checkpoint" {
        return true;
    }
    if let Some(hex) = path.strip_prefix("blob/") {
        return statement::Digest::parse(hex).is_ok();
    }
    tlog::tile::parse_path(path).is_ok()
}

impl TileStore for FsTiles {
    fn write_files(&self, files: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut dirs = BTreeSet::new();
        for (path, bytes) in files {
            let target = self.resolve(path)?;
            self.write_one(&target, bytes, &mut dirs, true)?;
        }
        sync_dirs(&dirs)
    }

    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StoreError> {
        let target = self.resolve("checkpoint")?;
        // The root exists, so no directory is created and none needs an fsync.
        self.write_one(&target, note, &mut BTreeSet::new(), false)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let target = self.resolve(path)?;
        match fs::read(&target) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&target, e)),
        }
    }
}
