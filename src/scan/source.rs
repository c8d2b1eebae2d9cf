//! Sources: command-line inputs (files, directories, tar, tar.gz, zip) become a stream of
//! [`Item`]s, each one audio file or archive member.
//!
//! Rules, so that a hostile dump cannot hurt the machine or hide items:
//! - Archives are recognised by content (zip, gzip, tar magic); the extension is a hint.
//!   Members are read into memory, never extracted, so nothing is written anywhere.
//! - Inside directories and archives, only files with an audio extension are items (a dump's
//!   `.json`, `.txt` and `.jpg` side files are skipped silently); a file named on the command
//!   line is always tried.
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

use std::fs::{self, File};
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use crate::config::Limits;
use crate::error::{Error, Result};

/// Extensions of audio files considered inside directories and archives (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "mp2", "mp1", "m4a", "m4b", "mp4", "aac", "flac", "ogg", "oga", "opus", "webm", "mkv",
    "mka", "wav", "wave", "aif", "aiff", "aifc", "caf", "alac",
];
const ARCHIVE_EXTENSIONS: &[&str] = &["zip", "pk3", "tar", "tgz", "gz"];

/// Where an item's bytes are.
#[derive(Debug)]
pub enum ItemData {
    /// A plain file, read by the worker that decodes it.
    File(PathBuf),
    /// An archive member, already read into memory.
    Bytes(Vec<u8>),
    /// The item could not be read; the scanner reports this error for it.
    Failed(String),
}

/// One unit of scanning work: a plain file or one archive member.
#[derive(Debug)]
pub struct Item {
    /// The file or archive, as reached from the command-line argument.
    pub item: String,
    /// Path inside the archive; `None` for plain files.
    pub member: Option<String>,
    pub data: ItemData,
}

impl Item {
    /// The extension of the member or file name, lower case, as a decoding hint.
    pub fn extension(&self) -> Option<String> {
        let name = self.member.as_deref().unwrap_or(&self.item);
        Path::new(name)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
    }

    /// A stable key for resume files and sharding.
    pub fn key(&self) -> String {
        super::item_key(&self.item, self.member.as_deref())
    }

    fn failed(item: String, member: Option<String>, why: String) -> Self {
        Item {
            item,
            member,
            data: ItemData::Failed(why),
        }
    }
}

/// Whether a directory entry or archive member is looked at: audio, or an archive to open (in a
/// directory) or report (inside an archive).
fn is_member_candidate(name: &str) -> bool {
    is_audio_name(name) || has_extension(name, ARCHIVE_EXTENSIONS)
}

fn has_extension(name: &str, list: &[&str]) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| list.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Whether a member or directory entry of this name is scanned.
pub fn is_audio_name(name: &str) -> bool {
    has_extension(name, AUDIO_EXTENSIONS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    TarGz,
    Other,
}

fn sniff(path: &Path) -> std::io::Result<Kind> {
    let mut head = [0u8; 512];
    let n = read_head(&mut File::open(path)?, &mut head)?;
    Ok(sniff_head(&head[..n]))
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

/// What the first bytes of a file say it is.
fn sniff_head(head: &[u8]) -> Kind {
    let n = head.len();
    if n >= 4 && (&head[..4] == b"PK\x03\x04" || &head[..4] == b"PK\x05\x06") {
        Kind::Zip
    } else if n >= 2 && head[..2] == [0x1f, 0x8b] {
        Kind::TarGz
    } else if n >= 262 && &head[257..262] == b"ustar" {
        Kind::Tar
    } else {
        Kind::Other
    }
}

/// Walks the inputs and calls `emit` with every item, in a deterministic order (directory
/// entries sorted by name). `emit` returns `false` to stop early.
pub fn walk(inputs: &[PathBuf], limits: &Limits, emit: &mut dyn FnMut(Item) -> bool) {
    walk_selected(inputs, limits, &|_| true, emit);
}

/// Like [`walk`], but files and archives whose path `select` rejects are skipped unopened: a
/// shard does not read the archives that belong to other shards.
pub fn walk_selected(
    inputs: &[PathBuf],
    limits: &Limits,
    select: &dyn Fn(&str) -> bool,
    emit: &mut dyn FnMut(Item) -> bool,
) {
    for input in inputs {
        let shown = input.display().to_string();
        if !visit(input, shown, true, limits, select, emit) {
            return;
        }
    }
}

fn visit(
    path: &Path,
    shown: String,
    named: bool,
    limits: &Limits,
    select: &dyn Fn(&str) -> bool,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return emit(Item::failed(shown, None, format!("cannot read: {e}"))),
    };
    let ft = meta.file_type();
    let directory =
        ft.is_dir() || (ft.is_symlink() && fs::metadata(path).is_ok_and(|m| m.is_dir()));
    if !directory && !select(&shown) {
        return true;
    }
    if ft.is_symlink() {
        match fs::metadata(path) {
            Ok(target) if target.is_file() => {}
            Ok(target) if target.is_dir() && named => {
                return visit_dir(path, &shown, limits, select, emit);
            }
            Ok(target) if target.is_dir() => return true,
            Ok(_) => {
                return emit(Item::failed(
                    shown,
                    None,
                    "not a regular file (FIFO, socket or device): skipped".into(),
                ));
            }
            Err(e) => {
                return emit(Item::failed(
                    shown,
                    None,
                    format!("broken symbolic link: {e}"),
                ));
            }
        }
    } else if ft.is_dir() {
        return visit_dir(path, &shown, limits, select, emit);
    } else if !ft.is_file() {
        return emit(Item::failed(
            shown,
            None,
            "not a regular file (FIFO, socket or device): skipped".into(),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = match sniff(path) {
        Ok(k) => k,
        Err(e) => return emit(Item::failed(shown, None, format!("cannot read: {e}"))),
    };
    match kind {
        Kind::Zip | Kind::Tar | Kind::TarGz => match File::open(path) {
            Ok(f) => read_archive(kind, BufReader::new(f), &shown, limits, emit),
            Err(e) => emit(Item::failed(shown, None, format!("cannot read: {e}"))),
        },
        Kind::Other if named || is_audio_name(&name) => {
            if meta.len() > limits.max_item_bytes {
                return emit(Item::failed(shown, None, too_big(meta.len(), limits)));
            }
            emit(Item {
                item: shown,
                member: None,
                data: ItemData::File(path.to_path_buf()),
            })
        }
        Kind::Other => true,
    }
}

fn visit_dir(
    path: &Path,
    shown: &str,
    limits: &Limits,
    select: &dyn Fn(&str) -> bool,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let entries = match fs::read_dir(path) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect::<Vec<_>>(),
        Err(e) => {
            return emit(Item::failed(
                shown.to_string(),
                None,
                format!("cannot list directory: {e}"),
            ));
        }
    };
    let mut entries = entries;
    entries.sort();
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let child = Path::new(shown).join(&name).display().to_string();
        let is_dir = fs::symlink_metadata(&entry)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if !is_dir && !is_member_candidate(&name) {
            continue;
        }
        if !visit(&entry, child, false, limits, select, emit) {
            return false;
        }
    }
    true
}

fn too_big(size: u64, limits: &Limits) -> String {
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
) -> std::result::Result<Vec<u8>, String> {
    let limit = limits.max_item_bytes;
    if declared > limit {
        return Err(too_big(declared, limits));
    }
    let mut buf = Vec::with_capacity(declared.min(64 << 20) as usize);
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("member data unreadable: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!(
            "member expands past the {limit}-byte item limit (a compression bomb?)"
        ));
    }
    Ok(buf)
}

/// The member labels given out in one archive, to tell repeated names apart.
#[derive(Default)]
struct Labels(std::collections::HashSet<String>);

impl Labels {
    fn unique(&mut self, name: String) -> String {
        let mut label = name.clone();
        let mut n = 1;
        while self.0.contains(&label) {
            n += 1;
            label = format!("{name} #{n}");
        }
        self.0.insert(label.clone());
        label
    }
}

fn member_item(shown: &str, name: String, data: std::result::Result<Vec<u8>, String>) -> Item {
    let data = match data {
        Ok(bytes) if has_extension(&name, ARCHIVE_EXTENSIONS) => {
            drop(bytes);
            ItemData::Failed("archive inside an archive: not opened".into())
        }
        Ok(bytes) => ItemData::Bytes(bytes),
        Err(why) => ItemData::Failed(why),
    };
    Item {
        item: shown.to_string(),
        member: Some(name),
        data,
    }
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
    let mut head = [0u8; 512];
    let kind = read_head(&mut reader, &mut head)
        .and_then(|n| reader.rewind().map(|()| sniff_head(&head[..n])));
    match kind {
        Ok(kind) => read_archive(kind, reader, shown, limits, emit),
        Err(e) => emit(Item::failed(
            shown.to_string(),
            None,
            format!("cannot read: {e}"),
        )),
    }
}

fn read_archive<R: Read + Seek>(
    kind: Kind,
    reader: R,
    shown: &str,
    limits: &Limits,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    match kind {
        Kind::Zip => read_zip(reader, shown, limits, emit),
        Kind::Tar => read_tar(reader, shown, limits, emit),
        Kind::TarGz => read_tar(flate2::read::GzDecoder::new(reader), shown, limits, emit),
        Kind::Other => emit(Item::failed(
            shown.to_string(),
            None,
            "not a tar, tar.gz or zip archive".into(),
        )),
    }
}

fn read_tar(
    reader: impl Read,
    shown: &str,
    limits: &Limits,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            return emit(Item::failed(
                shown.to_string(),
                None,
                format!("unreadable tar: {e}"),
            ));
        }
    };
    let mut labels = Labels::default();
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A broken header or data running past the end: nothing after it can be trusted.
                return emit(Item::failed(
                    shown.to_string(),
                    None,
                    format!("tar archive broken, later members lost: {e}"),
                ));
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !entry.header().entry_type().is_file() || !is_member_candidate(&name) {
            continue;
        }
        let declared = entry.size();
        let data = read_member(&mut entry, declared, limits);
        // Only a member over the size limit is skipped cleanly (the tar reader moves past it);
        // a read error or fewer bytes than declared leave the stream at an unknown place.
        let stream_lost = match &data {
            Ok(bytes) => (bytes.len() as u64) < declared,
            Err(_) => declared <= limits.max_item_bytes,
        };
        let data = data.and_then(|bytes| match bytes.len() as u64 {
            n if n < declared => Err(format!(
                "member cut short: {n} of {declared} bytes; later members lost"
            )),
            _ => Ok(bytes),
        });
        if !emit(member_item(shown, labels.unique(name), data)) {
            return false;
        }
        if stream_lost {
            return true;
        }
    }
    true
}

fn read_zip(
    reader: impl Read + Seek,
    shown: &str,
    limits: &Limits,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => {
            return emit(Item::failed(
                shown.to_string(),
                None,
                format!("unreadable zip: {e}"),
            ));
        }
    };
    let mut labels = Labels::default();
    for i in 0..archive.len() {
        let (name, data) = match archive.by_index(i) {
            Ok(mut file) => {
                let name = String::from_utf8_lossy(file.name_raw()).into_owned();
                if !file.is_file() || !is_member_candidate(&name) {
                    continue;
                }
                let declared = file.size();
                (name, read_member(&mut file, declared, limits))
            }
            Err(e) => (format!("#{i}"), Err(format!("unreadable zip member: {e}"))),
        };
        if !emit(member_item(shown, labels.unique(name), data)) {
            return false;
        }
    }
    true
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
                ItemData::Failed(why) => format!("failed: {why}"),
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
            matches!(&not_archive[..], [ItemData::Failed(why)] if why.contains("not a tar")),
            "{not_archive:?}"
        );
    }

    #[test]
    fn rejected_paths_are_not_opened() {
        let mut items = Vec::new();
        walk_selected(
            &[PathBuf::from("testdata/dump")],
            &Limits::default(),
            &|p| !p.ends_with(".tar"),
            &mut |item| {
                items.push(item.item);
                true
            },
        );
        assert!(
            !items.iter().any(|i| i.ends_with("shard-000000.tar")),
            "{items:?}"
        );
        assert!(items.iter().any(|i| i.ends_with("shard-000001.tar.gz")));
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
            ItemData::Failed(why) => assert!(why.contains("limit"), "{why}"),
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
