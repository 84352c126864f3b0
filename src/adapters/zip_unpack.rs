//! Unpack an untrusted zip archive (a workflow run's artifact) without letting it write
//! anywhere but its own fresh folder, or fill the disk.
//!
//! Rules, all checked on the central directory before a single byte is written:
//! - at most [`Limits::max_entries`] entries;
//! - every entry name is a relative path of plain components: no absolute path (`/x`,
//!   `C:x`), no `..`, no backslash, no NUL; `.` and empty components are dropped;
//! - no symlink entries (a link could point out of the folder, and later entries through it);
//! - no two entries land on the same path, and no file is also a folder (`a` and `a/b`);
//! - the declared uncompressed sizes add up to at most [`Limits::max_total_bytes`].
//!
//! Declared sizes may lie, so the bytes actually inflated are counted too, and the same bound
//! stops the copy (a zip bomb is cut off, not inflated). Files are created with `create_new`
//! in a folder this module creates, so nothing that existed before is overwritten; on any
//! error the folder is removed again.
//!
//! [`plan`] and [`unpack_with`] write nothing themselves (the fuzz target drives them with a
//! sink); [`unpack`] writes to disk.

use std::collections::HashSet;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

/// Bounds on what one archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_total_bytes: u64,
}

impl Default for Limits {
    /// 10,000 entries and 1 GiB: far above a provenance artifact, far below a full disk.
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_total_bytes: 1 << 30,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnpackError {
    #[error("not a zip archive: {0}")]
    NotAnArchive(String),
    #[error("entry {name:?} would be written outside the target folder ({why})")]
    UnsafePath { name: String, why: &'static str },
    #[error("entry {0:?} is a symbolic link; links are not unpacked")]
    Symlink(String),
    #[error("entry {0:?} lands on a path another entry already uses")]
    Duplicate(String),
    #[error("the archive has {count} entries; at most {limit} are unpacked")]
    TooManyEntries { count: usize, limit: usize },
    #[error("the archive unpacks to more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("entry {name:?} cannot be read: {detail}")]
    Corrupt { name: String, detail: String },
    #[error("writing {path}: {detail}")]
    Io { path: PathBuf, detail: String },
}

/// One entry, checked: where it goes and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub index: usize,
    /// Relative, plain components only.
    pub path: PathBuf,
    pub is_dir: bool,
}

/// The components of a safe relative path for an entry name, or why there is none. Pure.
pub fn safe_components(name: &str) -> Result<Vec<&str>, &'static str> {
    if name.contains('\0') {
        return Err("NUL in the name");
    }
    if name.contains('\\') {
        return Err("backslash in the name");
    }
    if name.starts_with('/') {
        return Err("absolute path");
    }
    let mut out = Vec::new();
    for (i, part) in name.split('/').enumerate() {
        match part {
            "" | "." => {}
            ".." => return Err("parent directory component"),
            p if i == 0 && p.len() >= 2 && p.as_bytes()[1] == b':' => {
                return Err("drive-letter path")
            }
            p => out.push(p),
        }
    }
    Ok(out)
}

/// The entry count the archive's end-of-central-directory record declares (zip64 too), read
/// from the archive's last bytes. `None` when no well-formed record ends the data.
///
/// The `zip` crate indexes entries by name and silently keeps only the last of two entries
/// with the same name; comparing its count with this one is how duplicates are seen.
pub fn declared_entry_count(tail: &[u8]) -> Option<u64> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let u16_at = |b: &[u8], i: usize| -> Option<u64> {
        Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u64)
    };
    let u64_at = |b: &[u8], i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
    };
    // The record is 22 bytes plus a comment of at most 65,535 that must end the data.
    let last = tail.len().checked_sub(22)?;
    let pos = (0..=last).rev().find(|&i| {
        tail[i..i + 4] == EOCD
            && u16_at(tail, i + 20).is_some_and(|c| i + 22 + c as usize == tail.len())
    })?;
    let count = u16_at(tail, pos + 10)?;
    if count != 0xFFFF {
        return Some(count);
    }
    // zip64: a locator right before the record points at the zip64 record. We only have the
    // tail, so the zip64 record must be in it (it directly precedes the locator in practice).
    let loc = pos.checked_sub(20)?;
    if tail[loc..loc + 4] != LOCATOR {
        return None;
    }
    let rec = loc.checked_sub(56)?;
    (tail[rec..rec + 4] == EOCD64).then(|| u64_at(tail, rec + 32))?
}

/// The last bytes of the archive: enough for the end records and a maximal comment.
fn read_tail<R: Read + Seek>(reader: &mut R) -> io::Result<Vec<u8>> {
    let len = reader.seek(io::SeekFrom::End(0))?;
    let take = len.min(22 + 65_535 + 20 + 56);
    reader.seek(io::SeekFrom::Start(len - take))?;
    let mut tail = Vec::with_capacity(take as usize);
    reader.take(take).read_to_end(&mut tail)?;
    reader.seek(io::SeekFrom::Start(0))?;
    Ok(tail)
}

/// Check every entry of the archive against the rules above; writes nothing.
pub fn plan<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    limits: Limits,
) -> Result<Vec<Planned>, UnpackError> {
    if archive.len() > limits.max_entries {
        return Err(UnpackError::TooManyEntries {
            count: archive.len(),
            limit: limits.max_entries,
        });
    }
    let mut planned = Vec::with_capacity(archive.len());
    let mut files = HashSet::new();
    let mut dirs = HashSet::new();
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| UnpackError::Corrupt {
                name: format!("#{index}"),
                detail: e.to_string(),
            })?;
        let name = entry.name().to_string();
        if entry.is_symlink() {
            return Err(UnpackError::Symlink(name));
        }
        let parts = safe_components(&name).map_err(|why| UnpackError::UnsafePath {
            name: name.clone(),
            why,
        })?;
        let is_dir = entry.is_dir();
        declared = declared.saturating_add(entry.size());
        if declared > limits.max_total_bytes {
            return Err(UnpackError::TooLarge {
                limit: limits.max_total_bytes,
            });
        }
        if parts.is_empty() {
            if is_dir {
                continue; // `./`: the target folder itself
            }
            return Err(UnpackError::UnsafePath {
                name,
                why: "empty file name",
            });
        }
        let path: PathBuf = parts.iter().collect();
        // Every ancestor is a folder: none of them may be a file.
        for n in 1..parts.len() {
            let parent: PathBuf = parts[..n].iter().collect();
            if files.contains(&parent) {
                return Err(UnpackError::Duplicate(name));
            }
            dirs.insert(parent);
        }
        let clash = if is_dir {
            files.contains(&path) || !dirs.insert(path.clone()) && explicit(&planned, &path)
        } else {
            dirs.contains(&path) || !files.insert(path.clone())
        };
        if clash {
            return Err(UnpackError::Duplicate(name));
        }
        planned.push(Planned {
            index,
            path,
            is_dir,
        });
    }
    Ok(planned)
}

/// Whether a folder entry for `path` was already listed (a repeated `a/` is a duplicate; a
/// folder first implied by `a/b` and then listed as `a/` is not).
fn explicit(planned: &[Planned], path: &Path) -> bool {
    planned.iter().any(|p| p.is_dir && p.path == path)
}

/// Inflate every planned entry into the writer `open` returns for its path (folders get
/// `open(path, true)`, whose writer is not used). Counts the bytes actually inflated against
/// `limits.max_total_bytes`. Returns the files' relative paths, in archive order.
pub fn unpack_with<R, W, F>(
    reader: R,
    limits: Limits,
    mut open: F,
) -> Result<Vec<PathBuf>, UnpackError>
where
    R: Read + Seek,
    W: Write,
    F: FnMut(&Path, bool) -> io::Result<W>,
{
    let mut reader = reader;
    let tail = read_tail(&mut reader).map_err(|e| UnpackError::NotAnArchive(e.to_string()))?;
    let mut archive =
        ZipArchive::new(reader).map_err(|e| UnpackError::NotAnArchive(e.to_string()))?;
    let declared = declared_entry_count(&tail).ok_or_else(|| {
        UnpackError::NotAnArchive("no end-of-central-directory record ends the data".into())
    })?;
    if declared > limits.max_entries as u64 {
        return Err(UnpackError::TooManyEntries {
            count: usize::try_from(declared).unwrap_or(usize::MAX),
            limit: limits.max_entries,
        });
    }
    if declared != archive.len() as u64 {
        return Err(UnpackError::Duplicate(format!(
            "{} of the {declared} entries share a name with another",
            declared - (archive.len() as u64).min(declared)
        )));
    }
    let planned = plan(&mut archive, limits)?;
    let mut left = limits.max_total_bytes;
    let mut written = Vec::new();
    for p in planned {
        let io_err = |e: io::Error| UnpackError::Io {
            path: p.path.clone(),
            detail: e.to_string(),
        };
        let mut out = open(&p.path, p.is_dir).map_err(io_err)?;
        if p.is_dir {
            continue;
        }
        let corrupt = |detail: String| UnpackError::Corrupt {
            name: p.path.display().to_string(),
            detail,
        };
        let entry = archive
            .by_index(p.index)
            .map_err(|e| corrupt(e.to_string()))?;
        // One byte past the budget is enough to know it is over.
        let mut bounded = entry.take(left.saturating_add(1));
        let copied = copy(&mut bounded, &mut out).map_err(|e| match e {
            CopyError::Read(e) => corrupt(e.to_string()),
            CopyError::Write(e) => io_err(e),
        })?;
        if copied > left {
            return Err(UnpackError::TooLarge {
                limit: limits.max_total_bytes,
            });
        }
        left -= copied;
        out.flush().map_err(io_err)?;
        written.push(p.path);
    }
    Ok(written)
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// `io::copy` that tells a read error (a corrupt entry) from a write error (our disk).
fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

/// Unpack `archive` into `dest`, which must not exist yet (it is created, and removed again on
/// any error). Returns the written files' full paths.
pub fn unpack(archive: &[u8], dest: &Path, limits: Limits) -> Result<Vec<PathBuf>, UnpackError> {
    let io_err = |e: io::Error| UnpackError::Io {
        path: dest.to_path_buf(),
        detail: e.to_string(),
    };
    std::fs::create_dir(dest).map_err(io_err)?;
    let result = unpack_with(io::Cursor::new(archive), limits, |rel, is_dir| {
        let path = dest.join(rel);
        if is_dir {
            std::fs::create_dir_all(&path)?;
            return Ok(Box::new(io::sink()) as Box<dyn Write>);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map(|f| Box::new(io::BufWriter::new(f)) as Box<dyn Write>)
    });
    match result {
        Ok(files) => Ok(files.into_iter().map(|f| dest.join(f)).collect()),
        Err(e) => {
            let _ = std::fs::remove_dir_all(dest);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    enum E<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Link(&'a str, &'a str),
    }

    fn zip_of(entries: &[E<'_>]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default();
        for e in entries {
            match e {
                E::File(name, data) => {
                    w.start_file(*name, opts).expect("start");
                    w.write_all(data).expect("write");
                }
                E::Dir(name) => w.add_directory(*name, opts).expect("dir"),
                E::Link(name, target) => w.add_symlink(*name, *target, opts).expect("link"),
            }
        }
        w.finish().expect("finish").into_inner()
    }

    fn unpack_into(
        zip: &[u8],
        limits: Limits,
    ) -> (tempfile::TempDir, Result<Vec<PathBuf>, UnpackError>) {
        let dir = tempfile::tempdir().expect("tmp");
        let r = unpack(zip, &dir.path().join("out"), limits);
        (dir, r)
    }

    #[test]
    fn nested_files_are_unpacked_inside_the_folder() {
        let zip = zip_of(&[
            E::Dir("bin/"),
            E::File("bin/app.intoto.jsonl", b"{}\n"),
            E::File("./notes/a.txt", b"hello"),
            E::Dir("./"),
        ]);
        let (dir, r) = unpack_into(&zip, Limits::default());
        let files = r.expect("unpacks");
        let out = dir.path().join("out");
        assert_eq!(
            files,
            vec![out.join("bin/app.intoto.jsonl"), out.join("notes/a.txt")]
        );
        assert_eq!(
            std::fs::read(out.join("notes/a.txt")).expect("read"),
            b"hello"
        );
    }

    #[test]
    fn zip_slip_names_are_refused_and_nothing_is_written() {
        for name in ["../x", "a/../../x", "/etc/x", "C:/x", "a\\..\\x", "a\0b"] {
            let zip = zip_of(&[E::File("ok.txt", b"1"), E::File(name, b"evil")]);
            let (dir, r) = unpack_into(&zip, Limits::default());
            assert!(
                matches!(r, Err(UnpackError::UnsafePath { .. })),
                "{name:?}: {r:?}"
            );
            assert!(
                !dir.path().join("out").exists(),
                "{name:?}: folder left behind"
            );
            assert!(!dir.path().join("x").exists());
        }
    }

    #[test]
    fn symlinks_are_refused() {
        let zip = zip_of(&[E::Link("link", "/etc"), E::File("link/passwd", b"x")]);
        let (_dir, r) = unpack_into(&zip, Limits::default());
        assert_eq!(r, Err(UnpackError::Symlink("link".into())));
    }

    #[test]
    fn duplicate_and_clashing_paths_are_refused() {
        // The zip writer refuses exact duplicates: write two names, then rename one in place.
        for (first, second) in [
            (E::File("dupAAAA", b"1"), E::File("dupBBBB", b"2")),
            (E::Dir("dupAAAA/"), E::Dir("dupBBBB/")),
        ] {
            let mut zip = zip_of(&[first, second]);
            for i in 0..zip.len() - 7 {
                if &zip[i..i + 7] == b"dupBBBB" {
                    zip[i..i + 7].copy_from_slice(b"dupAAAA");
                }
            }
            let (_dir, r) = unpack_into(&zip, Limits::default());
            assert!(matches!(r, Err(UnpackError::Duplicate(_))), "{r:?}");
        }
        let cases: Vec<Vec<E<'_>>> = vec![
            vec![E::File("a", b"1"), E::File("./a", b"2")],
            vec![E::File("a", b"1"), E::File("a/b", b"2")],
            vec![E::File("a/b", b"1"), E::File("a", b"2")],
            vec![E::File("a", b"1"), E::Dir("a/")],
            vec![E::Dir("d/"), E::Dir("./d/")],
        ];
        for entries in cases {
            let zip = zip_of(&entries);
            let (_dir, r) = unpack_into(&zip, Limits::default());
            assert!(matches!(r, Err(UnpackError::Duplicate(_))), "{r:?}");
        }
        // A folder first implied by a file, then listed itself, is fine.
        let zip = zip_of(&[E::File("d/x", b"1"), E::Dir("d/")]);
        assert!(unpack_into(&zip, Limits::default()).1.is_ok());
    }

    #[test]
    fn entry_count_is_bounded() {
        let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
        let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"x")).collect();
        let zip = zip_of(&entries);
        let limits = Limits {
            max_entries: 10,
            max_total_bytes: 1 << 20,
        };
        let (_dir, r) = unpack_into(&zip, limits);
        assert_eq!(
            r,
            Err(UnpackError::TooManyEntries {
                count: 11,
                limit: 10
            })
        );
    }

    #[test]
    fn declared_size_is_bounded_before_inflating() {
        let big = vec![0u8; 64 * 1024];
        let zip = zip_of(&[E::File("a", &big), E::File("b", &big)]);
        assert!(zip.len() < 4096, "zeros compress well: {}", zip.len());
        let limits = Limits {
            max_entries: 10,
            max_total_bytes: 100 * 1024,
        };
        let (dir, r) = unpack_into(&zip, limits);
        assert_eq!(r, Err(UnpackError::TooLarge { limit: 100 * 1024 }));
        assert!(!dir.path().join("out").exists());
    }

    /// Zip bomb whose headers lie about its size: the inflated bytes are counted and cut off.
    #[test]
    fn lying_declared_size_does_not_get_past_the_bound() {
        let big = vec![0u8; 256 * 1024];
        let mut zip = zip_of(&[E::File("a", &big)]);
        // Rewrite every "uncompressed size = 262144" field (local header and central
        // directory) to 16.
        let real = (big.len() as u32).to_le_bytes();
        let mut patched = 0;
        for i in 0..zip.len() - 4 {
            if zip[i..i + 4] == real {
                zip[i..i + 4].copy_from_slice(&16u32.to_le_bytes());
                patched += 1;
            }
        }
        assert!(patched >= 2, "found the size fields");
        let limits = Limits {
            max_entries: 10,
            max_total_bytes: 1024,
        };
        let counted = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let r = unpack_with(io::Cursor::new(&zip), limits, |_, _| {
            Ok(CountingSink(counted.clone()))
        });
        assert!(r.is_err(), "a lying archive must not unpack: {r:?}");
        let wrote = counted.get();
        assert!(wrote <= 1024 + 64 * 1024, "wrote {wrote} bytes");
    }

    struct CountingSink(std::rc::Rc<std::cell::Cell<u64>>);

    impl Write for CountingSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.set(self.0.get() + buf.len() as u64);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn declared_entry_count_reads_the_end_record_even_after_a_comment() {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        w.set_comment("a comment that ends the archive PK\x05\x06");
        for name in ["a", "b", "c"] {
            w.start_file(name, SimpleFileOptions::default())
                .expect("start");
        }
        let zip = w.finish().expect("finish").into_inner();
        assert_eq!(declared_entry_count(&zip), Some(3));
        assert_eq!(declared_entry_count(&zip[..zip.len() - 1]), None);
        assert_eq!(declared_entry_count(b"PK\x05\x06"), None);
        assert_eq!(declared_entry_count(b""), None);
    }

    #[test]
    fn garbage_is_not_an_archive() {
        let (_dir, r) = unpack_into(b"PK\x03\x04 not really", Limits::default());
        assert!(matches!(r, Err(UnpackError::NotAnArchive(_))), "{r:?}");
    }

    #[test]
    fn an_existing_folder_is_never_unpacked_into() {
        let dir = tempfile::tempdir().expect("tmp");
        let zip = zip_of(&[E::File("a", b"1")]);
        let r = unpack(&zip, dir.path(), Limits::default());
        assert!(matches!(r, Err(UnpackError::Io { .. })), "{r:?}");
    }
}
