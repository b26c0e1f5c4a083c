//! Every file the CLI reads or writes goes through here.
//!
//! * [`read_bounded`] opens a file, refuses kinds of file that make no sense for what is being
//!   read (a device or a directory as a config file), and reads at most `limit + 1` bytes, so
//!   `--config /dev/zero` is a quick refusal instead of gigabytes of memory. The size check is
//!   on the bytes read, not on `metadata().len()` (which is 0 for a device behind a symlink).
//! * [`write_private`] writes a file that may hold secrets: the parent directory is created
//!   0700 when missing, the bytes go to a fresh temporary file in the same directory (created
//!   with `create_new`, mode 0600, a random name: never an existing file or a planted symlink),
//!   synced, then renamed into place atomically, and the directory is synced. With
//!   [`Replace::No`] the final step fails when the name already exists, so of several writers
//!   racing for one name exactly one wins.

use std::fmt;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

/// A secret file (a token, an API key): a few KiB.
pub const SECRET_LIMIT: u64 = 16 << 10;
/// A tenant config, a saved integration, an operator config: 1 MiB.
pub const CONFIG_LIMIT: u64 = 1 << 20;
/// A workflow file: 1 MiB.
pub const WORKFLOW_LIMIT: u64 = 1 << 20;
/// A batch input file: 64 MiB.
pub const BATCH_LIMIT: u64 = 64 << 20;
/// A simulator seed file: 256 MiB (bench seeds 100,000 users).
pub const SEED_LIMIT: u64 = 256 << 20;
/// A batch journal: 256 MiB.
pub const JOURNAL_LIMIT: u64 = 256 << 20;
/// A WebAssembly component: 256 MiB.
pub const COMPONENT_LIMIT: u64 = 256 << 20;

/// What a file is read as: names it in errors and says which kinds of file are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A secret: a regular file, a pipe (`<(pass show token)`) or `-` for standard input.
    Secret,
    /// A tenant config or a saved integration.
    Config,
    /// An operator config.
    OperatorConfig,
    /// A workflow file.
    Workflow,
    /// A batch input file.
    Batch,
    /// A simulator seed file.
    Seed,
    /// A batch journal.
    Journal,
    /// A WebAssembly component.
    Component,
    /// An `extract` snapshot.
    Snapshot,
    /// The audit log: read line by line, so only its kind of file is checked.
    AuditLog,
}

impl Kind {
    /// The default limit for this kind of file.
    pub fn limit(self) -> u64 {
        match self {
            Self::Secret => SECRET_LIMIT,
            Self::Config | Self::OperatorConfig => CONFIG_LIMIT,
            Self::Workflow => WORKFLOW_LIMIT,
            Self::Batch => BATCH_LIMIT,
            Self::Seed => SEED_LIMIT,
            Self::Journal => JOURNAL_LIMIT,
            Self::Component | Self::Snapshot | Self::AuditLog => COMPONENT_LIMIT,
        }
    }

    /// True when a pipe is an acceptable source (process substitution for a secret).
    fn allows_pipe(self) -> bool {
        self == Self::Secret
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Secret => "secret file",
            Self::Config => "config file",
            Self::OperatorConfig => "operator config",
            Self::Workflow => "workflow file",
            Self::Batch => "batch file",
            Self::Seed => "seed file",
            Self::Journal => "batch journal",
            Self::Component => "component",
            Self::Snapshot => "snapshot",
            Self::AuditLog => "audit log",
        })
    }
}

/// Why a file could not be read or written. Every variant names the file; none quotes content.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened, read or written.
    #[error("cannot {op} {kind} {path}: {source}")]
    Io {
        /// "read" or "write".
        op: &'static str,
        /// What the file is.
        kind: Kind,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than its kind allows.
    #[error("{kind} {path} is larger than the {} a {kind} may have", size(*.limit))]
    TooLarge {
        /// What the file is.
        kind: Kind,
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The path names a device, a directory or another kind of file that cannot be this kind.
    #[error("{kind} {path} is not a regular file ({found})")]
    NotRegular {
        /// What the file is.
        kind: Kind,
        /// The file.
        path: PathBuf,
        /// What it is instead.
        found: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("{kind} {path} is not UTF-8 text")]
    NotUtf8 {
        /// What the file is.
        kind: Kind,
        /// The file.
        path: PathBuf,
    },
}

impl FileError {
    /// True when the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A byte count as people read it: `16 KiB`, `1 MiB`, `1000 bytes`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

fn file_type_name(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_fifo() {
            return "a pipe";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn acceptable(kind: Kind, meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.allows_pipe() && meta.file_type().is_fifo() {
            return true;
        }
    }
    let _ = kind;
    meta.is_file()
}

/// Reads at most `limit` bytes of `path` (read as `kind`), refusing a file of a kind that
/// makes no sense for it. Symlinks are followed; what they lead to is checked.
pub fn read_bounded(path: &Path, kind: Kind, limit: u64) -> Result<Vec<u8>, FileError> {
    read_limited(open_checked(path, kind)?, path, kind, limit)
}

/// Opens `path` for reading as `kind`, refusing a file of a kind that makes no sense for it
/// (a device, a directory; a pipe except for a secret). For a file read as a stream.
pub fn open_checked(path: &Path, kind: Kind) -> Result<std::fs::File, FileError> {
    let io = |source| FileError::Io {
        op: "read",
        kind,
        path: path.to_owned(),
        source,
    };
    let not_regular = |meta: &std::fs::Metadata| FileError::NotRegular {
        kind,
        path: path.to_owned(),
        found: file_type_name(meta),
    };
    // Checked before opening too: opening a pipe nobody writes to would block.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !acceptable(kind, &meta) {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // And again on what was opened, in case the name changed in between.
    let meta = file.metadata().map_err(io)?;
    if !acceptable(kind, &meta) {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

/// Reads at most `limit` bytes from a reader (standard input, an opened file).
pub fn read_limited(
    reader: impl Read,
    path: &Path,
    kind: Kind,
    limit: u64,
) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| FileError::Io {
            op: "read",
            kind,
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            kind,
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// [`read_bounded`] with the kind's own limit, as UTF-8 text.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, FileError> {
    let bytes = read_bounded(path, kind, kind.limit())?;
    String::from_utf8(bytes).map_err(|_| FileError::NotUtf8 {
        kind,
        path: path.to_owned(),
    })
}

/// Whether [`write_private`] may replace an existing file of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Replace it atomically: readers see the old file or the new one.
    Yes,
    /// Fail with [`std::io::ErrorKind::AlreadyExists`] when the name exists.
    No,
}

/// Creates `dir` (and missing parents) with mode 0700. An existing directory is left as is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes a file that may hold secrets (see the module docs). The error names `path`.
pub fn write_private(
    path: &Path,
    bytes: &[u8],
    kind: Kind,
    replace: Replace,
) -> Result<(), FileError> {
    write_private_io(path, bytes, replace).map_err(|source| FileError::Io {
        op: "write",
        kind,
        path: path.to_owned(),
        source,
    })
}

/// A file that may hold secrets, written piece by piece (a snapshot streamed as it is read):
/// owner-only, in a temporary name next to `path` until [`PrivateFile::commit`] puts it in
/// place whole. Dropped without a commit, it removes the temporary file: a reader never sees
/// half a file.
pub struct PrivateFile {
    path: PathBuf,
    temp: PathBuf,
    dir: PathBuf,
    kind: Kind,
    file: std::io::BufWriter<std::fs::File>,
    committed: bool,
}

impl PrivateFile {
    /// Opens the temporary file for `path`. The error names `path`.
    pub fn create(path: &Path, kind: Kind) -> Result<Self, FileError> {
        let io = |source| FileError::Io {
            op: "write",
            kind,
            path: path.to_owned(),
            source,
        };
        let (dir, temp) = temp_for(path).map_err(io)?;
        create_private_dir(&dir).map_err(io)?;
        let file = open_new_private(&temp).map_err(io)?;
        Ok(Self {
            path: path.to_owned(),
            temp,
            dir,
            kind,
            // Large writes: a snapshot is tens of megabytes.
            file: std::io::BufWriter::with_capacity(1 << 16, file),
            committed: false,
        })
    }

    /// Flushes, syncs and renames the file into place (replacing any file of that name).
    pub fn commit(mut self) -> Result<(), FileError> {
        let io = |source| FileError::Io {
            op: "write",
            kind: self.kind,
            path: self.path.clone(),
            source,
        };
        self.file.flush().map_err(io)?;
        self.file.get_ref().sync_all().map_err(io)?;
        std::fs::rename(&self.temp, &self.path).map_err(io)?;
        self.committed = true;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io)
    }
}

/// Writes go to the temporary file (buffered); nothing is in place before the commit.
impl std::io::Write for PrivateFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The directory of `path` and a fresh temporary name in it.
fn temp_for(path: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let temp = dir.join(temp_name);
    Ok((dir, temp))
}

/// Creates `temp` owner-only; never follows a symlink nor reuses a file.
fn open_new_private(temp: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    // create_new: O_CREAT|O_EXCL, which never follows a symlink nor reuses a file.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(temp)
}

fn write_private_io(path: &Path, bytes: &[u8], replace: Replace) -> std::io::Result<()> {
    let (dir, temp) = temp_for(path)?;
    create_private_dir(&dir)?;
    let mut file = open_new_private(&temp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| match replace {
            Replace::Yes => std::fs::rename(&temp, path),
            // link(2) fails with EEXIST when the name exists: exactly one racer wins.
            Replace::No => std::fs::hard_link(&temp, path).map(|()| {
                let _ = std::fs::remove_file(&temp);
            }),
        });
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    std::fs::File::open(&dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_refused_without_reading_it() {
        let err = read_text(Path::new("/dev/zero"), Kind::Config).unwrap_err();
        assert!(matches!(err, FileError::NotRegular { .. }), "{err}");
        assert!(err.to_string().contains("character device"), "{err}");
    }

    #[test]
    fn reads_at_most_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [b'a'; 11]).unwrap();
        assert_eq!(read_bounded(&path, Kind::Config, 11).unwrap().len(), 11);
        let err = read_bounded(&path, Kind::Config, 10).unwrap_err();
        assert!(err.to_string().contains("10 bytes"), "{err}");
        let err = read_limited(std::io::repeat(0), Path::new("-"), Kind::Secret, 16 << 10);
        assert!(err.unwrap_err().to_string().contains("16 KiB"));
    }

    #[cfg(unix)]
    #[test]
    fn writes_owner_only_never_through_a_planted_file_and_no_replace_fails_if_exists() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("new");
        let path = home.join("f.toml");
        write_private(&path, b"one", Kind::Config, Replace::No).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&path), 0o600);
        let err = write_private(&path, b"two", Kind::Config, Replace::No).unwrap_err();
        assert!(err.to_string().contains("f.toml"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_private(&path, b"two", Kind::Config, Replace::Yes).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(&home).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
