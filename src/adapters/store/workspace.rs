//! The audit files in a directory on disk: day manifests for `verify-manifest` and for the
//! previous-day link, and the queue file.
//!
//! Reads and writes only; what the files mean is `domain::audit_chain` / `domain::audit_record`.

use std::io;
use std::path::Path;

use crate::adapters::files;
use crate::domain::audit_chain::{self, DayFile};
use crate::domain::audit_record::{is_date, QueueFile};
use crate::domain::manifest::{DayLink, Manifest};

/// Every `<YYYY-MM-DD>/manifest.json` below `dir`, or `dir/manifest.json` itself when `dir` is a
/// day folder. Labels are the paths as given (`dir` joined with the file).
pub fn read_day_files(dir: &Path) -> io::Result<Vec<DayFile>> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let own = dir.join("manifest.json");
    if is_date(&name) && own.is_file() {
        return Ok(vec![DayFile {
            date: name,
            label: own.display().to_string(),
            text: std::fs::read_to_string(&own)?,
        }]);
    }
    let mut days = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let date = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path().join("manifest.json");
        if is_date(&date) && path.is_file() {
            days.push(DayFile {
                date,
                label: path.display().to_string(),
                text: std::fs::read_to_string(&path)?,
            });
        }
    }
    days.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(days)
}

/// The newest day before `date` under `reports_dir` that has a manifest: its link, when that
/// manifest is chained (a legacy or unreadable file gives none; verify-manifest reports it).
/// Reads only that one file.
pub fn previous_day(reports_dir: &Path, date: &str) -> Option<DayLink> {
    let newest = std::fs::read_dir(reports_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|d| is_date(d) && d.as_str() < date)
        .filter(|d| reports_dir.join(d).join("manifest.json").is_file())
        .max()?;
    let text = std::fs::read_to_string(reports_dir.join(&newest).join("manifest.json")).ok()?;
    let m = Manifest::parse(&text).ok()?;
    (m.schema_version >= 2).then(|| DayLink {
        head: audit_chain::head(&m),
        date: newest,
    })
}

/// A queue file, if there is one. A file that does not parse is an error, never overwritten.
pub fn read_queue(path: &Path) -> Result<Option<QueueFile>, String> {
    match files::read_optional(path) {
        Ok(None) => Ok(None),
        Ok(Some(text)) => QueueFile::parse(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

/// `owner`: who gets the file when we run as root (the workspace's owner, see `files::Owner`).
pub fn write_queue(path: &Path, queue: &QueueFile, owner: Option<files::Owner>) -> io::Result<()> {
    files::write_atomic(path, queue.render().as_bytes(), owner)
}

/// The day manifests below `reports_dir`; a folder that does not exist holds none.
pub fn read_trail(reports_dir: &Path) -> io::Result<Vec<DayFile>> {
    if !reports_dir.exists() {
        return Ok(Vec::new());
    }
    read_day_files(reports_dir)
}

/// Write the days an entry update produced (`domain::entry_update`), each atomically, owned
/// by `owner` when we run as root.
pub fn write_days(
    reports_dir: &Path,
    writes: &[crate::domain::entry_update::DayWrite],
    owner: Option<files::Owner>,
) -> io::Result<()> {
    for w in writes {
        let path = reports_dir.join(&w.date).join("manifest.json");
        files::write_atomic(&path, w.text.as_bytes(), owner)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_day_is_the_newest_earlier_chained_day() {
        let d = tempfile::tempdir().expect("tmp");
        let sealed = audit_chain::seal(Manifest::default(), None);
        for day in ["2026-01-01", "2026-01-03", "2026-01-05"] {
            let p = d.path().join(day).join("manifest.json");
            files::write_atomic(&p, sealed.render().as_bytes(), None).expect("w");
        }
        std::fs::create_dir_all(d.path().join("2026-01-04")).expect("empty day folder");
        let link = previous_day(d.path(), "2026-01-05").expect("link");
        assert_eq!(link.date, "2026-01-03");
        assert_eq!(link.head, audit_chain::GENESIS);
        assert_eq!(previous_day(d.path(), "2026-01-01"), None);
        let days = read_day_files(d.path()).expect("read");
        assert_eq!(days.len(), 3);
    }
}
