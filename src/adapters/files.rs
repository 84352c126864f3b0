//! The workspace's files: listing what a pattern could match, hashing subjects, and writing
//! audit files atomically.
//!
//! Hashing streams each file through a fixed buffer (memory does not grow with file size) and
//! spreads files across cores with rayon. A large file is read on a second thread while this
//! one hashes, so the copy out of the page cache overlaps the (SHA-NI) compression instead of
//! adding to it: one 1 GiB subject hashes faster than `openssl dgst -sha256` (see
//! `benches/hashing.rs`). Writes go to a temp file in the target directory,
//! are fsynced, then renamed over the target (and the folder fsynced), so an interrupted run
//! leaves either the old file or the new one, never half of one. Files are `0644`, folders
//! `0755` whatever the umask, and as root they are given to the workspace's owner ([`Owner`]).
//! Which files to write, and when, is the mode's decision, not this module's.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

const BUF_SIZE: usize = 1 << 20;
/// Files at least this large get a reader thread; below it a thread costs more than it saves.
const PIPELINE_MIN_BYTES: u64 = 32 << 20;
/// Buffers in flight between the reader and the hasher (memory: this times `BUF_SIZE`).
const PIPELINE_BUFFERS: usize = 3;

/// Regular files (and symlinks to them) below `roots`, as `/`-separated workspace-relative
/// paths. `.git` directories are not entered. A root that does not exist lists nothing.
pub fn list_files(workspace: &Path, roots: &[String]) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for root in roots {
        let dir = if root.is_empty() {
            workspace.to_path_buf()
        } else {
            workspace.join(root)
        };
        if !dir.is_dir() {
            continue;
        }
        let walker = walkdir::WalkDir::new(&dir)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| !(e.file_type().is_dir() && e.file_name() == ".git"));
        for entry in walker {
            let entry = entry.map_err(io::Error::other)?;
            let is_file = entry.file_type().is_file()
                || (entry.file_type().is_symlink()
                    && std::fs::metadata(entry.path())
                        .map(|m| m.is_file())
                        .unwrap_or(false));
            if !is_file {
                continue;
            }
            if let Ok(rel) = entry.path().strip_prefix(workspace) {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(rel.join("/"));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// SHA-256 of one file and its length, streamed through `buf` (or, for a large file, through
/// a reader thread's buffers).
pub fn sha256_file(path: &Path, buf: &mut [u8]) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    if f.metadata()?.len() >= PIPELINE_MIN_BYTES {
        return sha256_pipelined(f);
    }
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        let n = match f.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(h.finalize()), total))
}

/// Fill `buf` as far as the file allows; 0 only at end of file.
fn read_chunk(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Read on a scoped thread, hash on this one; buffers circulate through two bounded channels,
/// so memory stays at `PIPELINE_BUFFERS * BUF_SIZE` whatever the file size.
fn sha256_pipelined(mut f: File) -> io::Result<(String, u64)> {
    std::thread::scope(|s| {
        let (full_tx, full_rx) = sync_channel::<io::Result<(Vec<u8>, usize)>>(PIPELINE_BUFFERS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(PIPELINE_BUFFERS);
        for _ in 0..PIPELINE_BUFFERS {
            let _ = empty_tx.send(vec![0u8; BUF_SIZE]);
        }
        s.spawn(move || {
            // Ends at end of file, on an error (passed on), or when the hasher hangs up.
            while let Ok(mut buf) = empty_rx.recv() {
                match read_chunk(&mut f, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if full_tx.send(Ok((buf, n))).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        // `empty_tx` and `full_rx` are owned here: returning early drops them, which stops
        // the reader before the scope joins it.
        let mut h = Sha256::new();
        let mut total = 0u64;
        for msg in full_rx {
            let (buf, n) = msg?;
            h.update(&buf[..n]);
            total += n as u64;
            let _ = empty_tx.send(buf);
        }
        Ok((hex::encode(h.finalize()), total))
    })
}

/// Progress of a hashing run, reported to the caller's callback.
#[derive(Debug, Clone, Copy)]
pub struct HashProgress {
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub elapsed_secs: f64,
}

impl HashProgress {
    pub fn mb_per_sec(&self) -> f64 {
        if self.elapsed_secs <= 0.0 {
            return 0.0;
        }
        self.bytes_done as f64 / 1_000_000.0 / self.elapsed_secs
    }
}

/// Hash `paths` (relative to `workspace`) in parallel, in input order. `progress` is called
/// at most every `every` seconds and once at the end. The first unreadable file is the error.
pub fn hash_files(
    workspace: &Path,
    paths: &[String],
    every: f64,
    progress: &(dyn Fn(HashProgress) + Sync),
) -> Result<Vec<String>, (String, io::Error)> {
    let start = Instant::now();
    let files_done = AtomicU64::new(0);
    let bytes_done = AtomicU64::new(0);
    // Milliseconds since start of the last report; one thread wins the right to report.
    let last_report = AtomicU64::new(0);
    let report = |force: bool| {
        let now_ms = start.elapsed().as_millis() as u64;
        let last = last_report.load(Ordering::Relaxed);
        if force
            || (now_ms.saturating_sub(last) as f64 >= every * 1000.0
                && last_report
                    .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok())
        {
            progress(HashProgress {
                files_done: files_done.load(Ordering::Relaxed),
                files_total: paths.len() as u64,
                bytes_done: bytes_done.load(Ordering::Relaxed),
                elapsed_secs: start.elapsed().as_secs_f64(),
            });
        }
    };
    let digests = paths
        .par_iter()
        .map_init(
            || vec![0u8; BUF_SIZE],
            |buf, rel| {
                let (hex, n) =
                    sha256_file(&workspace.join(rel), buf).map_err(|e| (rel.clone(), e))?;
                files_done.fetch_add(1, Ordering::Relaxed);
                bytes_done.fetch_add(n, Ordering::Relaxed);
                report(false);
                Ok(hex)
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    report(true);
    Ok(digests)
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Read a file that may not exist yet. A path through a non-folder (`NotADirectory`) cannot
/// exist either: that is for the write to report, not the read.
pub fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Who owns what the action creates: the owner (uid, gid) of `GITHUB_WORKSPACE`.
///
/// A container action runs as root, but the steps after it run as the runner user, who must
/// be able to read, `git add` and delete the audit files. So when a file or folder we create
/// comes out owned by root (we run as euid 0) and the workspace belongs to someone else, it
/// is given to the workspace's owner. Running as anyone else, nothing is chowned: an
/// unprivileged process cannot give files away, and its files are already the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

impl Owner {
    /// The owner of `workspace`.
    pub fn of(workspace: &Path) -> io::Result<Self> {
        let m = std::fs::metadata(workspace)?;
        Ok(Self {
            uid: m.uid(),
            gid: m.gid(),
        })
    }
}

/// Mode of every audit file: readable by the runner user and by `git`.
pub const FILE_MODE: u32 = 0o644;
/// Mode of every folder we create.
pub const DIR_MODE: u32 = 0o755;

/// Give `path` (just created by us) to `owner` if we created it as root. The euid is the
/// owner of what we just created, which avoids asking the OS (and `unsafe`) for it.
fn adopt(path: &Path, owner: Option<Owner>) -> io::Result<()> {
    let Some(owner) = owner else { return Ok(()) };
    let m = std::fs::symlink_metadata(path)?;
    if m.uid() == 0 && (m.uid(), m.gid()) != (owner.uid, owner.gid) {
        std::os::unix::fs::lchown(path, Some(owner.uid), Some(owner.gid))?;
    }
    Ok(())
}

/// `create_dir_all` with the folders' mode (whatever the umask) and owner set on each
/// folder it creates; folders that already exist are left as they are.
pub fn create_dirs(dir: &Path, owner: Option<Owner>) -> io::Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => {}
            // Created meanwhile by someone else: theirs, not ours to chmod.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => continue,
            Err(e) => return Err(e),
        }
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(DIR_MODE))?;
        adopt(d, owner)?;
    }
    Ok(())
}

/// Prefix of every temporary file: hidden, and never a name the manifest or the SHA-256 log
/// points at, so a crash can leave a stray `.tmp-*` but never a half-written audit file.
pub const TEMP_PREFIX: &str = ".tmp-";

/// New content for `target`, complete and fsynced under a temporary name in the same folder
/// (mode [`FILE_MODE`], owned as [`Owner`] says). [`Staged::commit`] renames it into place;
/// dropping it instead deletes the temporary file, leaving `target` as it was.
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    dir: PathBuf,
}

/// Write `bytes` for `path` under a temporary name (see [`Staged`]).
pub fn stage(path: &Path, bytes: &[u8], owner: Option<Owner>) -> io::Result<Staged> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    create_dirs(&dir, owner)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(&dir)?;
    // The umask may have narrowed the mode given at creation.
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    adopt(tmp.path(), owner)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(Staged {
        tmp,
        target: path.to_path_buf(),
        dir,
    })
}

impl Staged {
    /// Rename into place, then fsync the folder so the rename itself survives a crash.
    pub fn commit(self) -> io::Result<()> {
        self.tmp.persist(&self.target).map_err(|e| e.error)?;
        File::open(&self.dir)?.sync_all()
    }

    pub fn target(&self) -> &Path {
        &self.target
    }
}

/// Write `bytes` to `path` atomically: [`stage`] then [`Staged::commit`]. An interrupted
/// run leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8], owner: Option<Owner>) -> io::Result<()> {
    stage(path, bytes, owner)?.commit()
}

/// Remove a file that may not exist.
pub fn remove_optional(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_vectors_and_run_in_order() {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::write(d.path().join("empty"), b"").expect("w");
        std::fs::write(d.path().join("abc"), b"abc").expect("w");
        let got =
            hash_files(d.path(), &["abc".into(), "empty".into()], 1.0, &|_| {}).expect("hash");
        assert_eq!(
            got,
            vec![
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string(),
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_string()
            ]
        );
    }

    #[test]
    fn large_file_takes_the_pipelined_path_with_the_same_digest() {
        let d = tempfile::tempdir().expect("tmp");
        // Not a multiple of the buffer size, so the last chunk is partial.
        let data: Vec<u8> = (0..PIPELINE_MIN_BYTES + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(d.path().join("big"), &data).expect("w");
        let got = hash_files(d.path(), &["big".into()], 1.0, &|_| {}).expect("hash");
        assert_eq!(got, vec![sha256_bytes(&data)]);
    }

    #[test]
    fn unreadable_file_is_named() {
        let d = tempfile::tempdir().expect("tmp");
        let e = hash_files(d.path(), &["nope".into()], 1.0, &|_| {}).expect_err("missing");
        assert_eq!(e.0, "nope");
    }

    #[test]
    fn listing_skips_git_and_dirs() {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(d.path().join(".git/objects")).expect("mk");
        std::fs::create_dir_all(d.path().join("dist/sub")).expect("mk");
        std::fs::write(d.path().join(".git/objects/x"), b"").expect("w");
        std::fs::write(d.path().join("dist/sub/a"), b"").expect("w");
        std::fs::write(d.path().join("b"), b"").expect("w");
        let l = list_files(d.path(), &["".into()]).expect("list");
        assert_eq!(l, vec!["b".to_string(), "dist/sub/a".to_string()]);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("x/m.json");
        write_atomic(&p, b"one", None).expect("w1");
        write_atomic(&p, b"two", None).expect("w2");
        assert_eq!(std::fs::read(&p).expect("r"), b"two");
        let names: Vec<_> = std::fs::read_dir(d.path().join("x"))
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn audit_files_are_0644_and_folders_0755_not_the_tempfile_0600() {
        // Regression: the temp file's 0600 survived the rename, so the runner user could not
        // read what a root container wrote.
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("a/b/m.json");
        write_atomic(&p, b"x", None).expect("w");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&p), FILE_MODE);
        assert_eq!(mode(&d.path().join("a")), DIR_MODE);
        assert_eq!(mode(&d.path().join("a/b")), DIR_MODE);
    }

    #[test]
    fn dropped_stage_leaves_the_old_file_and_no_temp() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("provenance.json");
        write_atomic(&p, b"attempt 1", None).expect("w");
        let staged = stage(&p, b"attempt 2", None).expect("stage");
        assert_eq!(staged.target(), p.as_path());
        let temp_name = std::fs::read_dir(d.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
            .find(|n| n != "provenance.json")
            .expect("temp file beside the target");
        assert!(
            temp_name.starts_with(".tmp-provenance.json.") && temp_name.ends_with(".tmp"),
            "{temp_name}"
        );
        drop(staged);
        assert_eq!(std::fs::read(&p).expect("r"), b"attempt 1");
        assert_eq!(std::fs::read_dir(d.path()).expect("ls").count(), 1);
    }
}
