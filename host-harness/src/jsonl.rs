//! Append-only JSON Lines files that stay whole when a write fails half way (a full disk, a
//! quota, an I/O error): the one appender behind the audit log and the batch journals, and the
//! one reader that tolerates a record cut short by a crash.
//!
//! An append remembers the file's length (under the file's advisory lock), writes the whole
//! record and its `\n` in one write, and syncs it to disk. On any error it truncates the file
//! back to that length, so the file still ends at a record boundary and the next append (once
//! space returns) starts a line of its own. If even the truncation fails, the next append tries
//! it again first, and failing that starts on a fresh line, so it is never glued onto the
//! fragment.
//!
//! A reader accepts a last line that is cut short (no final newline, or not a record: what a
//! crash during a write leaves) and reports it, and refuses a bad line anywhere else.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What an append needs from the file it appends to: a seam for tests that fail half way.
pub trait Sink {
    /// The file's current length in bytes.
    fn length(&mut self) -> io::Result<u64>;
    /// Writes these bytes at the end (in one write, as far as the system allows).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Syncs the file's data to disk.
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the file back to `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

impl Sink for &File {
    fn length(&mut self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        io::Write::write_all(self, bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// Whether an earlier append left a fragment it could not cut off.
#[derive(Debug, Default)]
pub struct Torn {
    /// The length the file had before the failed append, when the cut failed.
    boundary: Option<u64>,
    /// Whether the file's end was checked for a fragment an earlier process left.
    checked: bool,
}

/// Appends `line` (one record, without its newline) to `sink`: see the module docs. On error
/// the file is left ending where it ended before (or `torn` remembers that it could not be).
pub fn append_line(sink: &mut impl Sink, torn: &mut Torn, line: &[u8]) -> io::Result<()> {
    // A fragment left by an earlier failure: cut it now if we can, else start a fresh line.
    let mut fresh_line = false;
    if let Some(boundary) = torn.boundary {
        match sink.truncate(boundary) {
            Ok(()) => torn.boundary = None,
            Err(_) => fresh_line = true,
        }
    }
    let before = sink.length()?;
    let mut bytes = Vec::with_capacity(line.len() + 2);
    if fresh_line {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line);
    bytes.push(b'\n');
    let written = sink.write_all(&bytes).and_then(|()| sink.sync());
    if written.is_err() {
        match sink.truncate(before).and_then(|()| sink.sync()) {
            Ok(()) => {}
            Err(_) => torn.boundary = Some(before),
        }
    }
    written
}

/// How a file is locked against other processes while appending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locking {
    /// Each append takes the file's advisory lock and releases it after.
    PerAppend,
    /// The owner holds the lock for as long as the file is open (a batch journal).
    Held,
}

/// An open JSON Lines file, appended to under a process-wide lock and the file's advisory lock.
#[derive(Debug)]
pub struct Appender {
    path: PathBuf,
    locking: Locking,
    file: Mutex<(File, Torn)>,
}

/// Where the last line of `file` starts, when the file does not end with a newline (a crash
/// cut its last write short); `None` when it ends at a record boundary.
#[cfg(unix)]
fn fragment_start(file: &File) -> io::Result<Option<u64>> {
    use std::os::unix::fs::FileExt as _;
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = [0u8; 8192];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let buf = &mut chunk[..usize::try_from(end - start).unwrap_or(0)];
        file.read_exact_at(buf, start)?;
        if end == len && buf.last() == Some(&b'\n') {
            return Ok(None);
        }
        if let Some(i) = buf.iter().rposition(|b| *b == b'\n') {
            return Ok(Some(start + i as u64 + 1));
        }
        end = start;
    }
    Ok((len > 0).then_some(0))
}

#[cfg(not(unix))]
fn fragment_start(_: &File) -> io::Result<Option<u64>> {
    Ok(None)
}

impl Appender {
    /// Opens `path` for appending, creating it owner-only (0600) if absent.
    pub fn open(path: &Path, locking: Locking) -> io::Result<Self> {
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(Self {
            path: path.to_owned(),
            locking,
            file: Mutex::new((
                file,
                Torn {
                    boundary: None,
                    checked: false,
                },
            )),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file (e.g. to take its lock when it is held).
    pub fn with_file<T>(&self, f: impl FnOnce(&File) -> T) -> T {
        let guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard.0)
    }

    /// Appends one value as a line and syncs it to disk before returning.
    pub fn append(&self, value: &impl Serialize) -> io::Result<()> {
        let line = lifecycle_host::json::to_vec(value).map_err(io::Error::from)?;
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (file, torn) = &mut *guard;
        if self.locking == Locking::PerAppend {
            file.lock()?;
        }
        // A process that died half way through a write left a fragment: it is cut off before
        // the first append (readers reported it as an incomplete last line, ignored), so that
        // it never glues onto this record nor sits between two whole ones.
        if !torn.checked && torn.boundary.is_none() {
            torn.checked = true;
            if let Ok(Some(start)) = fragment_start(file) {
                torn.boundary = Some(start);
            }
        }
        let mut sink = &*file;
        let written = append_line(&mut sink, torn, &line);
        if self.locking == Locking::PerAppend {
            let unlocked = file.unlock();
            written?;
            return unlocked;
        }
        written
    }
}

/// A line that is not a record, before the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The records of a file, and whether its last line was cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines<T> {
    /// Every record, oldest first, with its 1-based line number.
    pub records: Vec<(usize, T)>,
    /// The 1-based number of a last line that is an incomplete record (ignored).
    pub torn: Option<usize>,
}

/// Parses JSON Lines text: blank lines are skipped, a last line that is not a record (cut
/// short) is reported as torn, any other bad line is an error.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<Lines<T>, BadLine> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    let mut out = Lines {
        records: Vec::with_capacity(lines.len()),
        torn: None,
    };
    let last = lines.len().saturating_sub(1);
    for (k, (number, line)) in lines.into_iter().enumerate() {
        let is_last = k == last;
        match serde_json::from_str::<T>(line) {
            Ok(record) => out.records.push((number, record)),
            // The last line was being written when the writer stopped.
            Err(_) if is_last => out.torn = Some(number),
            Err(e) => {
                return Err(BadLine {
                    line: number,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// The warning for a torn last line of `what` at `path`.
pub fn torn_warning(what: &str, path: &Path, line: usize) -> String {
    format!(
        "{what} {}, line {line}: the last line is an incomplete record (a write was cut short), ignored",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that accepts `budget` more bytes, then fails (as a full disk does half way
    /// through a write), optionally refusing to be truncated too.
    struct HalfWay<'f> {
        file: &'f File,
        budget: usize,
        truncate_fails: bool,
    }

    impl Sink for HalfWay<'_> {
        fn length(&mut self) -> io::Result<u64> {
            Ok(self.file.metadata()?.len())
        }

        fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
            let n = bytes.len().min(self.budget);
            io::Write::write_all(&mut self.file, &bytes[..n])?;
            self.budget -= n;
            if n < bytes.len() {
                return Err(io::Error::from_raw_os_error(28));
            }
            Ok(())
        }

        fn sync(&mut self) -> io::Result<()> {
            self.file.sync_data()
        }

        fn truncate(&mut self, len: u64) -> io::Result<()> {
            if self.truncate_fails {
                return Err(io::Error::other("cannot truncate"));
            }
            self.file.set_len(len)
        }
    }

    fn open(path: &Path) -> File {
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
    }

    #[test]
    fn an_append_that_fails_half_way_leaves_the_file_at_a_record_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let file = open(&path);
        let mut torn = Torn::default();
        append_line(&mut &file, &mut torn, br#"{"n":1}"#).unwrap();
        let mut full = HalfWay {
            file: &file,
            budget: 4,
            truncate_fails: false,
        };
        let err = append_line(&mut full, &mut torn, br#"{"n":2,"who":"bob"}"#).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\":1}\n");
        // Space returns: the next record is a line of its own, intact.
        append_line(&mut &file, &mut torn, br#"{"n":3}"#).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"n\":1}\n{\"n\":3}\n");
        let lines = parse::<serde_json::Value>(&text).unwrap();
        assert_eq!(lines.records.len(), 2);
        assert_eq!(lines.torn, None);
    }

    #[test]
    fn when_the_cut_fails_too_the_next_append_cuts_it_or_starts_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let file = open(&path);
        let mut torn = Torn::default();
        append_line(&mut &file, &mut torn, br#"{"n":1}"#).unwrap();
        let mut stuck = HalfWay {
            file: &file,
            budget: 3,
            truncate_fails: true,
        };
        append_line(&mut stuck, &mut torn, br#"{"n":2}"#).unwrap_err();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\":1}\n{\"n");
        // Still unable to truncate: the record starts on a fresh line, never glued on.
        let mut no_cut = HalfWay {
            file: &file,
            budget: usize::MAX,
            truncate_fails: true,
        };
        append_line(&mut no_cut, &mut torn, br#"{"n":3}"#).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"n\":1}\n{\"n\n{\"n\":3}\n"
        );

        // And once truncation works again, the fragment is cut before the next record.
        let path = dir.path().join("second.jsonl");
        let file = open(&path);
        let mut torn = Torn::default();
        append_line(&mut &file, &mut torn, br#"{"n":1}"#).unwrap();
        let mut stuck = HalfWay {
            file: &file,
            budget: 3,
            truncate_fails: true,
        };
        append_line(&mut stuck, &mut torn, br#"{"n":2}"#).unwrap_err();
        append_line(&mut &file, &mut torn, br#"{"n":3}"#).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"n\":1}\n{\"n\":3}\n"
        );
    }

    #[test]
    fn a_torn_last_line_is_reported_and_a_bad_line_before_it_is_an_error() {
        let cut = "{\"n\":1}\n{\"n\":2}\n{\"n\":";
        let lines = parse::<serde_json::Value>(cut).unwrap();
        assert_eq!(lines.records.len(), 2);
        assert_eq!(lines.torn, Some(3));
        // A whole record without its newline is a record.
        let lines = parse::<serde_json::Value>("{\"n\":1}\n{\"n\":2}").unwrap();
        assert_eq!((lines.records.len(), lines.torn), (2, None));
        // A last line that is not a record, newline or not.
        let lines = parse::<serde_json::Value>("{\"n\":1}\nnot json\n").unwrap();
        assert_eq!((lines.records.len(), lines.torn), (1, Some(2)));
        let bad = parse::<serde_json::Value>("{\"n\":1}\nnot json\n{\"n\":3}\n").unwrap_err();
        assert_eq!(bad.line, 2);
        assert!(parse::<serde_json::Value>("").unwrap().records.is_empty());
    }
}
