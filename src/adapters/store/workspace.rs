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

/// The newest day before `date` under `reports_dir` whose manifest is chained: its link.
/// Unreadable or legacy files give no link (verify reports them).
pub fn previous_day(reports_dir: &Path, date: &str) -> Option<DayLink> {
    let days = read_day_files(reports_dir).ok()?;
    days.into_iter()
        .rev()
        .filter(|d| d.date.as_str() < date)
        .find_map(|d| {
            let m = Manifest::parse(&d.text).ok()?;
            (m.schema_version >= 2).then(|| DayLink {
                head: audit_chain::head(&m),
                date: d.date,
            })
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

pub fn write_queue(path: &Path, queue: &QueueFile) -> io::Result<()> {
    files::write_atomic(path, queue.render().as_bytes())
}
