//! The report's files: reading a workspace's day manifests, and the on-disk cache of GitHub
//! answers (blobs by SHA, ETag + body by URL) that makes a repeated organisation report cheap.

use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::files::{sha256_bytes, write_atomic};
use super::github::git_trees::ResponseCache;

/// Every `<reports_dir>/<day>/manifest.json`, as `(day, bytes)` sorted by day. Any directory
/// holding a `manifest.json` is returned (a malformed name is the integrity check's to refuse).
/// A missing reports directory is an empty history. Files are read in parallel.
pub fn read_days(reports_dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let entries = match std::fs::read_dir(reports_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut days: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let file = entry.path().join("manifest.json");
        if file.is_file() {
            days.push((entry.file_name().to_string_lossy().into_owned(), file));
        }
    }
    days.sort();
    days.into_par_iter()
        .map(|(day, file)| {
            std::fs::read(&file)
                .map(|bytes| (day, bytes))
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display())))
        })
        .collect()
}

/// A cache directory: `blobs/<sha>` and `etags/<sha256 of the URL>` (`etag\nbody`). Safe to
/// keep with `actions/cache`: blobs are content addresses, ETags are revalidated each run.
pub struct DiskCache {
    dir: PathBuf,
    /// Who gets the files when we run as root (the workspace's owner).
    owner: Option<super::files::Owner>,
}

impl DiskCache {
    pub fn new(dir: PathBuf, owner: Option<super::files::Owner>) -> Self {
        Self { dir, owner }
    }

    fn etag_file(&self, url: &str) -> PathBuf {
        self.dir.join("etags").join(sha256_bytes(url.as_bytes()))
    }

    fn blob_file(&self, sha: &str) -> Option<PathBuf> {
        // A SHA is hex; anything else never becomes a path.
        (!sha.is_empty() && sha.len() <= 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.dir.join("blobs").join(sha))
    }
}

impl ResponseCache for DiskCache {
    fn etag_get(&self, url: &str) -> Option<(String, String)> {
        let text = std::fs::read_to_string(self.etag_file(url)).ok()?;
        let (etag, body) = text.split_once('\n')?;
        Some((etag.to_string(), body.to_string()))
    }

    fn etag_put(&self, url: &str, etag: &str, body: &str) {
        if etag.contains('\n') {
            return;
        }
        let _ = write_atomic(
            &self.etag_file(url),
            format!("{etag}\n{body}").as_bytes(),
            self.owner,
        );
    }

    fn blob_get(&self, sha: &str) -> Option<Vec<u8>> {
        std::fs::read(self.blob_file(sha)?).ok()
    }

    fn blob_put(&self, sha: &str, bytes: &[u8]) {
        if let Some(p) = self.blob_file(sha) {
            let _ = write_atomic(&p, bytes, self.owner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_sorted_and_a_missing_dir_is_empty() {
        let d = tempfile::tempdir().expect("tmp");
        assert!(read_days(&d.path().join("nope")).expect("ok").is_empty());
        for day in ["2026-11-02", "2026-10-30"] {
            std::fs::create_dir_all(d.path().join(day)).expect("mkdir");
            std::fs::write(d.path().join(day).join("manifest.json"), day).expect("write");
        }
        std::fs::create_dir_all(d.path().join("empty")).expect("mkdir");
        let days = read_days(d.path()).expect("read");
        let names: Vec<_> = days.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(names, vec!["2026-10-30", "2026-11-02"]);
    }

    #[test]
    fn cache_round_trips_and_refuses_odd_shas() {
        let d = tempfile::tempdir().expect("tmp");
        let c = DiskCache::new(d.path().to_path_buf(), None);
        c.etag_put("http://x/a", "\"e1\"", "{\"a\":\n1}");
        assert_eq!(
            c.etag_get("http://x/a"),
            Some(("\"e1\"".into(), "{\"a\":\n1}".into()))
        );
        c.blob_put("abc123", b"data");
        assert_eq!(c.blob_get("abc123"), Some(b"data".to_vec()));
        c.blob_put("../../etc", b"x");
        assert_eq!(c.blob_get("../../etc"), None);
    }
}
