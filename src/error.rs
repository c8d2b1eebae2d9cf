//! The library's one error type, [`Error`], and what an item's failure is reported as,
//! [`Failure`].
//!
//! Every variant names what was expected and what was found, so a message read in a log
//! months later still says what to do. Errors about one scanned item never stop a scan: the
//! scanner turns them into a [`Failure`] (a [`FailureKind`] for scripts, one line for people)
//! in that item's record and goes on.

use std::path::PathBuf;

/// Everything that can go wrong in earmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("unsupported or unrecognised audio: {reason}")]
    UnsupportedAudio { reason: String },

    #[error("could not decode audio: {reason}")]
    Decode { reason: String },

    #[error(
        "no audio: the item decoded to {seconds:.2} s, shorter than the {min_seconds:.2} s needed"
    )]
    TooShort { seconds: f64, min_seconds: f64 },

    #[error("{what} exceeds the limit of {limit} (raise it with {option})")]
    LimitExceeded {
        what: String,
        limit: String,
        option: &'static str,
    },

    #[error("decoder panicked: {message}")]
    DecoderPanic { message: String },

    #[error(
        "no result after {seconds} s: the worker process was stopped (raise the limit with --item-timeout)"
    )]
    ItemTimeout { seconds: f64 },

    #[error("the worker process died ({status}) while on this item{detail}")]
    WorkerDied { status: String, detail: String },

    #[error("worker process: {reason}")]
    Worker { reason: String },

    #[error(
        "{path} is {what}, not an earmark index: build one with `earmark index CATALOGUE -o catalogue.earmark` and pass that"
    )]
    NotAnIndex { path: PathBuf, what: &'static str },

    #[error(
        "{path}: index format version {found} is not supported (this earmark reads versions {oldest} to {expected}); rebuild the index with this version"
    )]
    IndexVersion {
        path: PathBuf,
        oldest: u32,
        expected: u32,
        found: u32,
    },

    #[error("{path}: index is damaged: {reason}")]
    IndexCorrupt { path: PathBuf, reason: String },

    #[error(
        "{path}: checksum mismatch in the {section} section (stored {stored:08x}, computed {computed:08x}): the index is damaged; rebuild it (`earmark verify` checks every section)"
    )]
    ChecksumMismatch {
        path: PathBuf,
        section: &'static str,
        stored: u32,
        computed: u32,
    },

    #[error(
        "fingerprint parameters differ: {what} is {left} in one and {right} in the other; indexes and queries must use the same parameters"
    )]
    ParamsMismatch {
        what: &'static str,
        left: String,
        right: String,
    },

    #[error("index build: {reason}")]
    Build { reason: String },

    #[error("drawing a plot: {reason}")]
    Plot { reason: String },

    /// An item that could not be scanned, already described as the record will say it.
    #[error("{}", .0.message)]
    Item(Failure),

    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Attaches the path that an I/O error happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// What this error costs the item it happened on.
    pub fn failure(&self) -> Failure {
        let kind = match self {
            Error::Item(failure) => return failure.clone(),
            Error::Io { .. } => FailureKind::Unreadable,
            Error::UnsupportedAudio { .. } => FailureKind::Unsupported,
            Error::Decode { .. } => FailureKind::Corrupt,
            Error::TooShort { .. } => FailureKind::Corrupt,
            Error::LimitExceeded { option, .. } if *option == "--max-seconds" => {
                FailureKind::TooLong
            }
            Error::LimitExceeded { .. } => FailureKind::TooLarge,
            Error::ItemTimeout { .. } => FailureKind::Timeout,
            Error::WorkerDied { detail, .. } if detail.contains("memory allocation") => {
                FailureKind::OutOfMemory
            }
            _ => FailureKind::Crashed,
        };
        Failure::new(kind, self.to_string())
    }
}

/// Why an item could not be scanned, or (as a warning) scanned only in part; the `kind` of an
/// error record. The names are a contract with users' scripts: add, never rename.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The file could not be opened or read (gone, no permission, a FIFO, a broken link).
    Unreadable,
    /// Zero bytes.
    Empty,
    /// No known audio container or codec, or an archive inside an archive.
    Unsupported,
    /// A known container whose audio does not decode.
    Corrupt,
    /// The audio stops before its end: a cut file.
    Truncated,
    /// Larger than `--max-item-bytes`.
    TooLarge,
    /// Longer than `--max-seconds`: only the start was scanned.
    TooLong,
    /// The worker passed `--item-timeout`.
    Timeout,
    /// The worker passed `--item-memory-mb`.
    OutOfMemory,
    /// The decoder panicked or its worker process died.
    Crashed,
    /// The archive's structure is broken: this member and perhaps later ones are lost.
    ArchiveDamaged,
}

impl FailureKind {
    /// The name used in records and summaries.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Unreadable => "unreadable",
            FailureKind::Empty => "empty",
            FailureKind::Unsupported => "unsupported",
            FailureKind::Corrupt => "corrupt",
            FailureKind::Truncated => "truncated",
            FailureKind::TooLarge => "too_large",
            FailureKind::TooLong => "too_long",
            FailureKind::Timeout => "timeout",
            FailureKind::OutOfMemory => "out_of_memory",
            FailureKind::Crashed => "crashed",
            FailureKind::ArchiveDamaged => "archive_damaged",
        }
    }
}

/// An item's failure: its kind and one line for people.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

/// Longest message kept in a record, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

impl Failure {
    /// A failure whose message is made one line: line breaks and other control characters
    /// become spaces, runs of spaces one, and a message longer than 300 characters is cut.
    /// Decoders quote the bytes they choke on, and a gzipped changelog's text has no place in
    /// a record.
    pub fn new(kind: FailureKind, message: impl AsRef<str>) -> Self {
        let mut line = String::new();
        for word in message
            .as_ref()
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
        {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if line.chars().count() > MAX_MESSAGE_CHARS {
            line = line.chars().take(MAX_MESSAGE_CHARS - 1).collect();
            line.push('…');
        }
        Failure {
            kind,
            message: line,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.name())
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
