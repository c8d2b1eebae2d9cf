//! earmark finds catalogue recordings inside huge audio dataset dumps.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! scan::source ─ items ─▶ audio ─ mono f32 ─▶ fingerprint ─ landmarks ─▶ matcher ─▶ report
//!  (files, dirs,          (symphonia,          (STFT → peaks →            (votes,        (JSON Lines,
//!   tar, zip)              Opus, resample)      triplet hashes)            verification)  CSV, human)
//!                                                     │                      ▲
//!                                                     ▼                      │
//!                                            index::IndexBuilder ─▶ index::Index (mmap)
//! ```
//!
//! [`config`] holds the fingerprint parameters every index records, [`tuning`] the query-time
//! settings and their profiles, [`codec`] every stored bit; [`error::Error`] is the one error
//! type. ARCHITECTURE.md walks the tree.

pub mod audio;
pub mod cli;
pub mod codec;
pub mod config;
pub mod content;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod evidence;
pub mod fingerprint;
pub mod index;
pub mod limits;
pub mod matcher;
pub mod output;
pub mod report;
pub mod scan;
#[cfg(test)]
mod test_support;
pub mod tuning;

pub use config::FingerprintParams;
pub use error::{Error, Result};
pub use limits::Limits;
pub use tuning::{Profile, QueryParams};
