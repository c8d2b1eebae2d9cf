//! The library's one error type, [`Error`].
//!
//! Every variant names what was expected and what was found, so a message read in a log
//! months later still says what to do. Errors about one scanned item never stop a scan: the
//! scanner turns them into an error record for that item and goes on.

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

    #[error("{path}: not an earmark index (magic bytes {found:02x?})")]
    NotAnIndex { path: PathBuf, found: Vec<u8> },

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
        "{path}: checksum mismatch in the {section} section (stored {stored:08x}, computed {computed:08x}); the index is damaged, rebuild it"
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

    #[error("archive {path}: {reason}")]
    Archive { path: String, reason: String },

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
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
