//! [`Limits`]: what one item may cost before it is abandoned with a failure record.

/// What one item may cost before it is abandoned with an error record.
///
/// The wall-time and memory limits need the item to run in a worker process that can be
/// stopped (see `scan::worker`); scans in threads enforce the others only.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest item (file or archive member) read into memory, bytes.
    pub max_item_bytes: u64,
    /// Largest parquet row group whose audio is read at once, bytes (uncompressed, as the
    /// file's footer declares it); a larger one is refused unread, row by row.
    #[serde(default = "default_row_group_bytes")]
    pub max_row_group_bytes: u64,
    /// Longest audio decoded per item, seconds; the rest is ignored and reported.
    pub max_audio_seconds: f64,
    /// Items decoding to less than this are reported as empty, seconds.
    pub min_audio_seconds: f64,
    /// Wall time one item may take in a worker process before the worker is killed, seconds.
    /// The default is far above what the longest allowed item needs (4 h of audio decodes in
    /// well under a minute), so only a stuck decoder meets it.
    pub item_timeout_seconds: f64,
    /// Heap a worker process may hold (its data segment, which leaves out the shared, read-only
    /// index mapping), bytes. It must fit the largest item plus decoding buffers.
    pub item_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_item_bytes: 1 << 30,
            max_row_group_bytes: default_row_group_bytes(),
            max_audio_seconds: 4.0 * 3600.0,
            min_audio_seconds: 1.0,
            item_timeout_seconds: 300.0,
            item_memory_bytes: 4 << 30,
        }
    }
}

/// 2 GiB: a 100-row group of full-length lossless songs.
fn default_row_group_bytes() -> u64 {
    2 << 30
}
