//! Sources: command-line inputs (files, directories, tar, tar.gz, zip, parquet) become a stream
//! of [`Item`]s, each one audio file, archive member or dataset row ([`super::parquet`]), and
//! every other file is counted as skipped, by reason ([`Walker::skipped`]).
//!
//! Rules, so that a hostile dump cannot hurt the machine or hide items:
//! - What a file is, its bytes decide ([`Content::sniff`]); the name only spares opening
//!   files that are plainly something else. An audio extension makes an item, an archive
//!   extension or none (or an unknown one) gets the file sniffed, and a side file's extension
//!   (`.json`, `.txt`, `.jpg`, …) gets it counted as not audio unread. A gzip file is a
//!   `.tar.gz` only if a tar header comes out of it: a gzipped changelog is not audio.
//!   Archive members are read into memory, never extracted, so nothing is written anywhere.
//! - A file named on the command line is always tried, whatever its name.
//! - Symbolic links to files are followed; links to directories are not (no loops).
//!   FIFOs, sockets and devices are reported and skipped: reading them could block forever.
//! - A member larger than the item size limit, or whose data ends early, gets an error record.
//!   So does a file that vanishes between the walk and its reading; one that shrinks while it
//!   is decoded is scanned as far as it reads (with a truncation record when its header
//!   declares its length).
//!   Archives inside archives are reported, not opened.
//! - Member names are kept as given (lossily decoded when not UTF-8); they are labels only.
//!   A name that repeats inside one archive is labelled `name #2`, `name #3`… from its second
//!   occurrence, so that every member has its own record and its own resume key.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use super::parquet::{self, DatasetRow, NotAudio};
use crate::content::{self, Content, SNIFF_BYTES};
use crate::error::{Error, Failure, FailureKind, Result};
use crate::limits::Limits;
use crate::report::{Skip, Summary};

/// Extensions of audio files considered inside directories and archives (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "mp2", "mp1", "mpga", "m4a", "m4b", "mp4", "aac", "flac", "ogg", "oga", "opus", "webm",
    "weba", "mkv", "mka", "wav", "wave", "aif", "aiff", "aifc", "caf", "alac",
];
const ARCHIVE_EXTENSIONS: &[&str] = &["zip", "pk3", "tar", "tgz", "gz"];
/// Extensions of files that sit beside audio in dumps and are never opened: metadata, text,
/// images, checksums.
const SIDE_EXTENSIONS: &[&str] = &[
    "json", "jsonl", "txt", "text", "csv", "tsv", "md", "html", "htm", "xml", "nfo", "cue", "log",
    "pdf", "jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "ico", "sfv", "md5", "sha1",
    "sha256", "sig", "asc", "par2", "lrc", "srt", "vtt", "ini", "yaml", "yml", "toml", "py", "sh",
    "js", "css", "lua", "cfg", "conf", "desktop", "ttf", "otf", "po", "mo",
];

/// Where an item's bytes are.
#[derive(Debug)]
pub enum ItemData {
    /// A plain file, read by the worker that decodes it.
    File(PathBuf),
    /// An archive member, already read into memory.
    Bytes(Vec<u8>),
    /// The item could not be read; the scanner reports this failure for it.
    Failed(Failure),
}

/// One unit of scanning work: a plain file or one archive member.
#[derive(Debug)]
pub struct Item {
    /// The file or archive, as reached from the command-line argument.
    pub item: String,
    /// Path inside the archive (a parquet row's `path`, or `row N`); `None` for plain files.
    pub member: Option<String>,
    pub data: ItemData,
    /// The dataset row the item is, for parquet rows.
    pub row: Option<DatasetRow>,
}

impl Item {
    /// The extension of the member or file name, lower case, as a decoding hint.
    pub fn extension(&self) -> Option<String> {
        extension(self.member.as_deref().unwrap_or(&self.item))
    }

    /// A stable key for resume files and sharding.
    pub fn key(&self) -> String {
        super::item_key(&self.item, self.member.as_deref())
    }

    fn failed(item: String, member: Option<String>, kind: FailureKind, why: String) -> Self {
        Item {
            item,
            member,
            data: ItemData::Failed(Failure::new(kind, why)),
            row: None,
        }
    }
}

fn extension(name: &str) -> Option<String> {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// What a name promises, before any byte is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Audio,
    Archive,
    /// A side file: metadata, text, an image.
    Side,
    /// No extension, or one that says nothing: the bytes decide.
    Unknown,
}

fn named(name: &str) -> Named {
    let Some(ext) = extension(name) else {
        return Named::Unknown;
    };
    let is = |list: &[&str]| list.contains(&ext.as_str());
    if is(AUDIO_EXTENSIONS) {
        Named::Audio
    } else if is(ARCHIVE_EXTENSIONS) {
        Named::Archive
    } else if is(SIDE_EXTENSIONS) {
        Named::Side
    } else {
        Named::Unknown
    }
}

/// Whether a member or directory entry of this name is scanned as audio without a look at
/// its bytes.
pub fn is_audio_name(name: &str) -> bool {
    named(name) == Named::Audio
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    TarGz,
    Other,
}

/// Fills `head` as far as the reader allows; returns how many bytes were read.
fn read_head(r: &mut dyn Read, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        let k = r.read(&mut head[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

fn archive_kind(content: Content, gzip_holds_tar: impl FnOnce() -> bool) -> Option<Kind> {
    match content {
        Content::Zip => Some(Kind::Zip),
        Content::Tar => Some(Kind::Tar),
        Content::Gzip if gzip_holds_tar() => Some(Kind::TarGz),
        _ => None,
    }
}

/// Walks inputs into items, counting what it passes over.
pub struct Walker<'a> {
    limits: &'a Limits,
    select: &'a dyn Fn(&str) -> bool,
    /// The audio column read from parquet files that have several (`--audio-column`).
    audio_column: Option<&'a str>,
    /// Files and members not made items, by reason (and not-audio ones by extension).
    pub skipped: Summary,
}

impl<'a> Walker<'a> {
    /// A walker whose files and archives are scanned where `select` accepts their path: a
    /// shard does not open the archives that belong to other shards.
    pub fn new(limits: &'a Limits, select: &'a dyn Fn(&str) -> bool) -> Self {
        Walker {
            limits,
            select,
            audio_column: None,
            skipped: Summary::default(),
        }
    }

    /// Reads the named audio column of parquet files that have several.
    pub fn audio_column(mut self, name: Option<&'a str>) -> Self {
        self.audio_column = name;
        self
    }

    /// Walks the inputs and calls `emit` with every item, in a deterministic order (directory
    /// entries sorted by name). `emit` returns `false` to stop early; so does this.
    pub fn walk(
        &mut self,
        inputs: impl IntoIterator<Item = PathBuf>,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        for input in inputs {
            let shown = input.display().to_string();
            if !self.visit(&input, shown, true, emit) {
                return false;
            }
        }
        true
    }

    /// Whether a member of this name is worth reading; counts the ones that are not.
    fn worth_reading(&mut self, name: &str) -> bool {
        named(name) != Named::Side || !self.not_audio(name)
    }

    fn not_audio(&mut self, name: &str) -> bool {
        self.skipped.skip(Skip::NotAudio, 1);
        *self
            .skipped
            .not_audio
            .entry(extension(name).unwrap_or_default())
            .or_default() += 1;
        true
    }

    fn visit(
        &mut self,
        path: &Path,
        shown: String,
        on_command_line: bool,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        let unreadable =
            |shown: String, why: String| Item::failed(shown, None, FailureKind::Unreadable, why);
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => return emit(unreadable(shown, format!("cannot read: {e}"))),
        };
        let ft = meta.file_type();
        let target = if ft.is_symlink() {
            match fs::metadata(path) {
                Ok(target) => target,
                Err(e) => return emit(unreadable(shown, format!("broken symbolic link: {e}"))),
            }
        } else {
            meta
        };
        if target.is_dir() {
            // A link to a directory is followed only where it was named: no loops.
            return if ft.is_dir() || on_command_line {
                self.visit_dir(path, &shown, emit)
            } else {
                true
            };
        }
        if !(self.select)(&shown) {
            self.skipped.skip(Skip::OtherShard, 1);
            return true;
        }
        if !target.is_file() {
            return emit(unreadable(
                shown,
                "not a regular file (FIFO, socket or device): skipped".into(),
            ));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let by_name = named(&name);
        if !on_command_line && by_name == Named::Side {
            return self.not_audio(&name);
        }
        let mut head = [0u8; SNIFF_BYTES];
        let content = match File::open(path).and_then(|mut f| read_head(&mut f, &mut head)) {
            Ok(n) => Content::sniff(&head[..n]),
            Err(e) => return emit(unreadable(shown, format!("cannot read: {e}"))),
        };
        let holds_tar =
            || File::open(path).is_ok_and(|f| content::gzip_holds_tar(BufReader::new(f)));
        if let Some(kind) = archive_kind(content, holds_tar) {
            return match File::open(path) {
                Ok(f) => self.read_archive(kind, BufReader::new(f), &shown, emit),
                Err(e) => emit(unreadable(shown, format!("cannot read: {e}"))),
            };
        }
        let audio = match content {
            Content::Parquet => {
                return self.read_parquet(path, shown, &name, on_command_line, emit);
            }
            Content::Gzip => {
                if !on_command_line {
                    return self.not_audio(&name);
                }
                return emit(Item::failed(
                    shown,
                    None,
                    FailureKind::Unsupported,
                    "gzip-compressed data that is not a tar archive: not audio".into(),
                ));
            }
            Content::Audio(_) => true,
            _ => by_name == Named::Audio,
        };
        if !audio && !on_command_line {
            return self.not_audio(&name);
        }
        if target.len() > self.limits.max_item_bytes {
            return emit(Item::failed(
                shown,
                None,
                FailureKind::TooLarge,
                too_big(target.len(), self.limits),
            ));
        }
        emit(Item {
            item: shown,
            member: None,
            data: ItemData::File(path.to_path_buf()),
            row: None,
        })
    }

    /// A parquet file's rows as items; one without an audio column is a table, not audio.
    fn read_parquet(
        &mut self,
        path: &Path,
        shown: String,
        name: &str,
        on_command_line: bool,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        match parquet::read(path, &shown, self.limits, self.audio_column, emit) {
            Ok(go_on) => go_on,
            Err(NotAudio::NoAudioColumn) if !on_command_line => self.not_audio(name),
            Err(NotAudio::NoAudioColumn) => emit(Item::failed(
                shown,
                None,
                FailureKind::Unsupported,
                "a Parquet file without an audio column (a dataset's metadata? join it with --manifest)".into(),
            )),
            Err(NotAudio::Failed(failure)) => emit(Item {
                item: shown,
                member: None,
                data: ItemData::Failed(failure),
                row: None,
            }),
        }
    }

    fn visit_dir(&mut self, path: &Path, shown: &str, emit: &mut dyn FnMut(Item) -> bool) -> bool {
        let mut entries = match fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect::<Vec<_>>(),
            Err(e) => {
                return emit(Item::failed(
                    shown.to_string(),
                    None,
                    FailureKind::Unreadable,
                    format!("cannot list directory: {e}"),
                ));
            }
        };
        entries.sort();
        for entry in entries {
            let name = entry
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let child = Path::new(shown).join(&name).display().to_string();
            if !self.visit(&entry, child, false, emit) {
                return false;
            }
        }
        true
    }

    fn read_archive<R: Read + Seek>(
        &mut self,
        kind: Kind,
        reader: R,
        shown: &str,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        match kind {
            Kind::Zip => self.read_zip(reader, shown, emit),
            Kind::Tar => self.read_tar(reader, shown, emit),
            Kind::TarGz => self.read_tar(flate2::read::GzDecoder::new(reader), shown, emit),
            Kind::Other => emit(Item::failed(
                shown.to_string(),
                None,
                FailureKind::Unsupported,
                "not a tar, tar.gz or zip archive".into(),
            )),
        }
    }

    /// What a member becomes: an item (labelled apart from earlier members of its name), a
    /// skip (`None`), or a failure.
    fn member(
        &mut self,
        shown: &str,
        labels: &mut Labels,
        name: String,
        data: std::result::Result<Vec<u8>, Failure>,
    ) -> Option<Item> {
        let by_name = named(&name);
        let data = match data {
            Err(failure) => ItemData::Failed(failure),
            Ok(bytes) => {
                let content = Content::sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]);
                let nested = archive_kind(content, || content::gzip_holds_tar(&bytes[..]))
                    .is_some()
                    || content == Content::Parquet
                    || by_name == Named::Archive && content != Content::Gzip;
                if nested {
                    ItemData::Failed(Failure::new(
                        FailureKind::Unsupported,
                        "archive inside an archive: not opened (extract it and scan it on its own)",
                    ))
                } else if by_name == Named::Audio || matches!(content, Content::Audio(_)) {
                    ItemData::Bytes(bytes)
                } else {
                    self.not_audio(&name);
                    return None;
                }
            }
        };
        Some(Item {
            item: shown.to_string(),
            member: Some(labels.unique(name)),
            data,
            row: None,
        })
    }

    fn read_tar(
        &mut self,
        reader: impl Read,
        shown: &str,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        let damaged =
            |why: String| Item::failed(shown.to_string(), None, FailureKind::ArchiveDamaged, why);
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return emit(damaged(format!("unreadable tar: {e}"))),
        };
        let mut labels = Labels::default();
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                // A broken header or data running past the end: nothing after it can be trusted.
                Err(e) => {
                    return emit(damaged(format!(
                        "tar archive broken, later members lost: {e}"
                    )));
                }
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if !entry.header().entry_type().is_file() || !self.worth_reading(&name) {
                continue;
            }
            let declared = entry.size();
            let data = read_member(&mut entry, declared, self.limits);
            // Only a member over the size limit is skipped cleanly (the tar reader moves past it);
            // a read error or fewer bytes than declared leave the stream at an unknown place.
            let stream_lost = match &data {
                Ok(bytes) => (bytes.len() as u64) < declared,
                Err(_) => declared <= self.limits.max_item_bytes,
            };
            let data = data.and_then(|bytes| match bytes.len() as u64 {
                n if n < declared => Err(Failure::new(
                    FailureKind::ArchiveDamaged,
                    format!("member cut short: {n} of {declared} bytes; later members lost"),
                )),
                _ => Ok(bytes),
            });
            if let Some(item) = self.member(shown, &mut labels, name, data)
                && !emit(item)
            {
                return false;
            }
            if stream_lost {
                return true;
            }
        }
        true
    }

    fn read_zip(
        &mut self,
        reader: impl Read + Seek,
        shown: &str,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        let mut archive = match zip::ZipArchive::new(reader) {
            Ok(a) => a,
            Err(e) => {
                return emit(Item::failed(
                    shown.to_string(),
                    None,
                    FailureKind::ArchiveDamaged,
                    format!("unreadable zip: {e}"),
                ));
            }
        };
        let mut labels = Labels::default();
        for i in 0..archive.len() {
            let (name, data) = match archive.by_index(i) {
                Ok(mut file) => {
                    let name = String::from_utf8_lossy(file.name_raw()).into_owned();
                    if !file.is_file() || !self.worth_reading(&name) {
                        continue;
                    }
                    let declared = file.size();
                    (name, read_member(&mut file, declared, self.limits))
                }
                Err(e) => (
                    format!("#{i}"),
                    Err(Failure::new(
                        FailureKind::ArchiveDamaged,
                        format!("unreadable zip member: {e}"),
                    )),
                ),
            };
            if let Some(item) = self.member(shown, &mut labels, name, data)
                && !emit(item)
            {
                return false;
            }
        }
        true
    }
}

/// Walks the inputs and calls `emit` with every item (see [`Walker::walk`]).
pub fn walk(inputs: &[PathBuf], limits: &Limits, emit: &mut dyn FnMut(Item) -> bool) {
    Walker::new(limits, &|_| true).walk(inputs.iter().cloned(), emit);
}

/// Walks the members of an archive that is already open (or in memory), recognised by content
/// as a directory input's archive is: tar, tar.gz or zip. Anything else gets one error record.
/// `shown` names the archive in the items. Returns `false` when `emit` asked to stop.
pub fn walk_archive<R: Read + Seek>(
    mut reader: R,
    shown: &str,
    limits: &Limits,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let mut walker = Walker::new(limits, &|_| true);
    let mut head = [0u8; SNIFF_BYTES];
    let kind = read_head(&mut reader, &mut head).and_then(|n| {
        let content = Content::sniff(&head[..n]);
        reader.rewind()?;
        let kind = archive_kind(content, || content::gzip_holds_tar(&mut reader));
        reader.rewind()?;
        Ok(kind.unwrap_or(Kind::Other))
    });
    match kind {
        Ok(kind) => walker.read_archive(kind, reader, shown, emit),
        Err(e) => emit(Item::failed(
            shown.to_string(),
            None,
            FailureKind::Unreadable,
            format!("cannot read: {e}"),
        )),
    }
}

pub(super) fn too_big(size: u64, limits: &Limits) -> String {
    Error::LimitExceeded {
        what: format!("item size {size} bytes"),
        limit: format!("{} bytes", limits.max_item_bytes),
        option: "--max-item-bytes",
    }
    .to_string()
}

/// Reads one archive member: refused by its declared size first, then read through a hard
/// limit of `max_item_bytes + 1`, so a member that lies about its size cannot grow without bound.
fn read_member(
    r: &mut dyn Read,
    declared: u64,
    limits: &Limits,
) -> std::result::Result<Vec<u8>, Failure> {
    let limit = limits.max_item_bytes;
    if declared > limit {
        return Err(Failure::new(
            FailureKind::TooLarge,
            too_big(declared, limits),
        ));
    }
    let mut buf = Vec::with_capacity(declared.min(64 << 20) as usize);
    r.take(limit + 1).read_to_end(&mut buf).map_err(|e| {
        Failure::new(
            FailureKind::ArchiveDamaged,
            format!("member data unreadable: {e}"),
        )
    })?;
    if buf.len() as u64 > limit {
        return Err(Failure::new(
            FailureKind::TooLarge,
            format!("member expands past the {limit}-byte item limit (a compression bomb?)"),
        ));
    }
    Ok(buf)
}

/// The member labels given out in one archive, to tell repeated names apart. Each name keeps
/// the last number it was given, so labelling n members of one name costs O(n), not O(n²).
#[derive(Default)]
pub(super) struct Labels {
    used: HashSet<String>,
    last: HashMap<String, u32>,
    /// Labels tried, for the test that holds this linear.
    tried: u64,
}

impl Labels {
    pub(super) fn unique(&mut self, name: String) -> String {
        self.tried += 1;
        if self.used.insert(name.clone()) {
            return name;
        }
        let n = self.last.entry(name.clone()).or_insert(1);
        loop {
            *n += 1;
            self.tried += 1;
            // A member may itself be named `a.mp3 #2`: that label is taken, try the next.
            let label = format!("{name} #{n}");
            if self.used.insert(label.clone()) {
                return label;
            }
        }
    }
}

/// Reads a plain file item, refusing files over the size limit (they may have grown since listed).
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    file.take(limits.max_item_bytes + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > limits.max_item_bytes {
        return Err(Error::LimitExceeded {
            what: "item size".into(),
            limit: format!("{} bytes", limits.max_item_bytes),
            option: "--max-item-bytes",
        });
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(inputs: &[PathBuf]) -> Vec<(String, Option<String>, String)> {
        let mut out = Vec::new();
        walk(inputs, &Limits::default(), &mut |item| {
            let what = match item.data {
                ItemData::File(_) => "file".to_string(),
                ItemData::Bytes(b) => format!("{} bytes", b.len()),
                ItemData::Failed(why) => format!("failed: {}", why.message),
            };
            out.push((item.item, item.member, what));
            true
        });
        out
    }

    #[test]
    fn lists_directories_tars_and_zips() {
        let dump = PathBuf::from("testdata/dump");
        let items = collect(&[dump]);
        let names: Vec<String> = items
            .iter()
            .map(|(i, m, _)| format!("{i}|{}", m.clone().unwrap_or_default()))
            .collect();
        assert!(
            names.contains(&"testdata/dump/shard-000000.tar|000001.opus".to_string()),
            "{names:?}"
        );
        assert!(names.contains(&"testdata/dump/shard-000001.tar.gz|000003.webm".to_string()));
        assert!(names.contains(&"testdata/dump/fma-000.zip|000/000123.mp3".to_string()));
        assert!(names.contains(&"testdata/dump/broken/empty.mp3|".to_string()));
        assert!(
            !names.iter().any(|n| n.ends_with(".json")),
            "side files are not items"
        );
        assert!(items.iter().all(|(_, _, what)| !what.starts_with("failed")));
    }

    #[test]
    fn archives_in_memory_are_walked_like_files() {
        let mut from_memory = Vec::new();
        for name in ["fma-000.zip", "shard-000000.tar", "shard-000001.tar.gz"] {
            let bytes = fs::read(Path::new("testdata/dump").join(name)).unwrap();
            walk_archive(
                std::io::Cursor::new(bytes),
                &format!("testdata/dump/{name}"),
                &Limits::default(),
                &mut |item| {
                    from_memory.push((item.item, item.member));
                    true
                },
            );
        }
        let from_files: Vec<_> = collect(&[PathBuf::from("testdata/dump")])
            .into_iter()
            .filter(|(_, m, _)| m.is_some())
            .map(|(i, m, _)| (i, m))
            .collect();
        assert_eq!(from_memory, from_files);
        let mut not_archive = Vec::new();
        walk_archive(
            std::io::Cursor::new(b"ID3 not an archive"),
            "x.mp3",
            &Limits::default(),
            &mut |item| {
                not_archive.push(item.data);
                true
            },
        );
        assert!(
            matches!(&not_archive[..], [ItemData::Failed(why)] if why.message.contains("not a tar")),
            "{not_archive:?}"
        );
    }

    #[test]
    fn rejected_paths_are_not_opened() {
        let mut items = Vec::new();
        let limits = Limits::default();
        let mut walker = Walker::new(&limits, &|p| !p.ends_with(".tar"));
        walker.walk([PathBuf::from("testdata/dump")], &mut |item| {
            items.push(item.item);
            true
        });
        assert!(
            !items.iter().any(|i| i.ends_with("shard-000000.tar")),
            "{items:?}"
        );
        assert!(items.iter().any(|i| i.ends_with("shard-000001.tar.gz")));
        assert_eq!(walker.skipped.skipped[&Skip::OtherShard], 1);
    }

    #[test]
    fn hostile_tar_members_get_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evil.tar");
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_cksum();
        builder
            .append_data(&mut header.clone(), "ok.mp3", &b"abc"[..])
            .unwrap();
        builder
            .append_data(&mut header.clone(), "inner.zip", &b"PK\x03"[..])
            .unwrap();
        let mut bytes = builder.into_inner().unwrap();
        // A member whose header claims far more data than the archive holds.
        let mut liar = tar::Header::new_gnu();
        liar.set_path("liar.mp3").unwrap();
        liar.set_size(1 << 20);
        liar.set_cksum();
        bytes.truncate(bytes.len() - 1024);
        bytes.extend_from_slice(liar.as_bytes());
        bytes.extend_from_slice(&[7u8; 600]);
        fs::write(&path, bytes).unwrap();
        let items = collect(&[path]);
        assert_eq!(items[0].2, "3 bytes");
        assert!(items[1].2.contains("archive inside an archive"));
        assert!(items[2].2.starts_with("failed"), "{items:?}");
    }

    #[test]
    fn repeated_member_names_get_their_own_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dups.tar");
        let mut tar = tar::Builder::new(fs::File::create(&path).unwrap());
        for (name, body) in [
            ("same.mp3", &b"one"[..]),
            ("same.mp3", b"two"),
            ("other.mp3", b"three"),
            ("same.mp3", b"four"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, body).unwrap();
        }
        tar.finish().unwrap();
        drop(tar);
        let mut members = Vec::new();
        walk(&[path], &Limits::default(), &mut |item| {
            let body = match item.data {
                ItemData::Bytes(b) => String::from_utf8(b).unwrap(),
                other => panic!("{other:?}"),
            };
            members.push((item.member.unwrap(), body));
            true
        });
        let expected = [
            ("same.mp3", "one"),
            ("same.mp3 #2", "two"),
            ("other.mp3", "three"),
            ("same.mp3 #3", "four"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(m, b)| (m.to_string(), b.to_string()))
            .collect();
        assert_eq!(members, expected);
    }

    #[test]
    fn labelling_many_members_of_one_name_tries_each_label_about_once() {
        let mut labels = Labels::default();
        let n = 16_000;
        let mut seen = HashSet::new();
        // A member literally named like a generated label must not collide either.
        assert_eq!(labels.unique("a.mp3 #3".into()), "a.mp3 #3");
        for _ in 0..n {
            assert!(seen.insert(labels.unique("a.mp3".into())));
        }
        assert!(seen.contains("a.mp3 #16001") && seen.contains("a.mp3 #2"));
        assert!(
            labels.tried <= 2 * n + 2,
            "{} tries for {n} members",
            labels.tried
        );
    }

    #[test]
    fn zip_bombs_and_odd_member_names_are_contained() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evil.zip");
        let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        // 64 MiB of zeros: a few KiB compressed, far past a 1 MiB item limit.
        zip.start_file("bomb.mp3", deflated).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            zip.write_all(&zeros).unwrap();
        }
        for name in ["../../escape.mp3", "/abs/path.mp3", "same.mp3", "same.mp3"] {
            // The zip crate refuses a duplicate name; build it under another and keep going.
            if zip.start_file(name, deflated).is_err() {
                zip.start_file(format!("{name}.2.mp3"), deflated).unwrap();
            }
            zip.write_all(b"not audio").unwrap();
        }
        zip.finish().unwrap();
        let limits = Limits {
            max_item_bytes: 1 << 20,
            ..Limits::default()
        };
        let mut items = Vec::new();
        walk(&[path], &limits, &mut |item| {
            items.push(item);
            true
        });
        let names: Vec<String> = items
            .iter()
            .map(|i| i.member.clone().unwrap_or_default())
            .collect();
        assert!(
            names.contains(&"../../escape.mp3".to_string())
                && names.contains(&"/abs/path.mp3".to_string()),
            "{names:?}"
        );
        let bomb = items
            .iter()
            .find(|i| i.member.as_deref() == Some("bomb.mp3"))
            .unwrap();
        match &bomb.data {
            ItemData::Failed(why) => {
                assert!(why.message.contains("limit"), "{why}");
                assert_eq!(why.kind, FailureKind::TooLarge);
            }
            other => panic!("the bomb was read: {other:?}"),
        }
        // Nothing was written next to the archive: names are labels, never paths.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn non_utf8_member_names_and_fifos_do_not_stop_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.mp3");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let tar_path = dir.path().join("names.tar");
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.as_ustar_mut().unwrap().name[..8].copy_from_slice(b"caf\xe9.mp3");
        header.set_size(3);
        header.set_cksum();
        builder.append(&header, &b"abc"[..]).unwrap();
        fs::write(&tar_path, builder.into_inner().unwrap()).unwrap();
        let items = collect(&[dir.path().to_path_buf()]);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(
            items
                .iter()
                .any(|(_, m, what)| m.as_deref() == Some("caf\u{FFFD}.mp3") && what == "3 bytes"),
            "{items:?}"
        );
        assert!(
            items
                .iter()
                .any(|(i, _, what)| i.ends_with("pipe.mp3") && what.contains("not a regular file")),
            "{items:?}"
        );
    }

    #[test]
    fn special_files_and_dangling_links_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("dangling.mp3");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let loop_dir = dir.path().join("loop");
        std::os::unix::fs::symlink(dir.path(), &loop_dir).unwrap();
        let items = collect(&[dir.path().to_path_buf()]);
        assert_eq!(
            items.len(),
            1,
            "the directory loop is not followed: {items:?}"
        );
        assert!(items[0].2.contains("broken symbolic link"));
    }
}
