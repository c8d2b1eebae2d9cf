//! Where earmark writes: never over what a command reads, and never over a file earmark did
//! not write ([`claim`]).
//!
//! Every command that takes `-o` asks [`claim`] before it creates anything. A path that is
//! the index or an input of the same command is refused outright; an existing file is
//! replaced only where its own bytes show that earmark wrote it as that kind of output, and
//! otherwise only with `--force`. A scan's results with a resume journal beside them are an
//! unfinished or earlier scan: continued with `--resume`, replaced with `--force`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::content::{Content, SNIFF_BYTES};
use crate::error::{Error, Result};

/// What a command writes, and so what it may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `earmark scan -o`: JSON Lines, CSV or text, with a resume journal beside it.
    ScanResults,
    /// `earmark index -o`.
    Index,
    /// `earmark merge -o`: JSON Lines.
    Merged,
    /// `earmark eval --json`.
    EvalJson,
    /// `earmark eval --misses` and `--answers`: TSV.
    EvalTsv,
    /// `earmark report --claims`: CSV.
    Claims,
}

/// The resume journal kept beside a scan's results.
pub fn journal_path(results: &Path) -> PathBuf {
    crate::index::builder::sibling(results, ".journal")
}

/// What was found at an output path that may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nothing there, or an empty file.
    Free,
    /// A file earmark wrote as this kind of output (or any file, with `force`): replaced.
    Replaces,
}

/// Checks that `path` may be written as `what` by a command that reads `index` and `inputs`.
/// `force` allows replacing a file earmark did not write, or a scan with a journal; nothing
/// allows writing over what the command reads.
pub fn claim(
    path: &Path,
    what: Output,
    index: Option<&Path>,
    inputs: &[PathBuf],
    force: bool,
) -> Result<Claim> {
    let refuse = |why: String| Err(Error::Invalid(why));
    not_read(path, index, inputs)?;
    let journal = journal_path(path);
    if what == Output::ScanResults && journal.exists() && !force {
        return refuse(format!(
            "{} holds an unfinished or earlier scan (its journal {} is beside it): continue it with --resume, or replace it with --force",
            path.display(),
            journal.display()
        ));
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Claim::Free),
        Err(e) => return Err(Error::io(path, e)),
    };
    if meta.is_dir() {
        return refuse(format!(
            "{} is a directory; -o names a file",
            path.display()
        ));
    }
    if meta.len() == 0 {
        return Ok(Claim::Free);
    }
    if force {
        return Ok(Claim::Replaces);
    }
    let head = head(path)?;
    let content = Content::sniff(&head);
    if what == Output::Index && content == Content::EarmarkIndex {
        return refuse(format!(
            "{} is an existing index: add to it with --append, or replace it with --force",
            path.display()
        ));
    }
    if written_by_earmark(what, &head) {
        return Ok(Claim::Replaces);
    }
    refuse(format!(
        "{} exists and is {}, which earmark did not write: choose another output, or overwrite it with --force",
        path.display(),
        content.describe()
    ))
}

/// Refuses `path` as an output of a command that reads `index` and `inputs` when it is one of
/// them.
pub fn not_read(path: &Path, index: Option<&Path>, inputs: &[PathBuf]) -> Result<()> {
    let reads = index
        .map(|i| (i, "the index it reads"))
        .into_iter()
        .chain(inputs.iter().map(|i| (i.as_path(), "one of its inputs")));
    for (read, role) in reads {
        if same_file(path, read) {
            return Err(Error::Invalid(format!(
                "refusing to write {}: it is {role}; choose another output",
                path.display()
            )));
        }
    }
    Ok(())
}

fn head(path: &Path) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    Ok(head)
}

/// Whether `head`, a file's first bytes, is what earmark writes as `what`.
fn written_by_earmark(what: Output, head: &[u8]) -> bool {
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    let json_record = || {
        // A record's opening key: a match or error (`item`), the summary, or provenance.
        ["{\"item\":", "{\"summary\":", "{\"earmark\":"]
            .iter()
            .any(|start| first_line.starts_with(start))
    };
    match what {
        Output::ScanResults => json_record() || first_line.starts_with("item,member,track,"),
        Output::Merged => json_record(),
        Output::Index => false,
        Output::EvalJson => {
            first_line.trim() == "{"
                && String::from_utf8_lossy(head).contains("\"offset_tolerance_s\"")
        }
        Output::EvalTsv => first_line.starts_with("query\tdegradation\t"),
        Output::Claims => first_line.starts_with(crate::evidence::CLAIMS_HEADER),
    }
}

/// What a folder of pages is: how its pages are named, and the mark its first page bears.
pub struct Pages<'a> {
    /// The page every report has, which bears the mark.
    pub first: &'a str,
    /// Text that the first page of an earlier report holds near its start.
    pub mark: &'a str,
    /// Whether a file name is one the report writes.
    pub names: &'a dyn Fn(&str) -> bool,
}

/// Checks that `dir` may hold `pages` for a command that reads `inputs`, and makes it ready: a
/// folder that does not exist is created, an empty one taken, and an earlier report's pages
/// are removed; any other folder is refused unless `force`, and then only the report's own
/// file names are written into it. No input may be among the names the report writes.
pub fn claim_folder(dir: &Path, pages: &Pages<'_>, inputs: &[PathBuf], force: bool) -> Result<()> {
    let refuse = |why: String| Err(Error::Invalid(why));
    for input in inputs {
        let inside = input.parent().is_some_and(|p| same_file(p, dir));
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned());
        if inside && name.is_some_and(|n| (pages.names)(&n)) {
            return refuse(format!(
                "refusing to write the report into {}: its input {} has the name of a page it writes; choose another folder",
                dir.display(),
                input.display()
            ));
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return refuse(format!(
                "{} is a file; -o names the folder the report's pages go into",
                dir.display()
            ));
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    let names: Vec<std::ffi::OsString> = entries
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, e))?;
    if names.is_empty() {
        return Ok(());
    }
    let first = dir.join(pages.first);
    let earlier = first.is_file()
        && head(&first).is_ok_and(|h| String::from_utf8_lossy(&h).contains(pages.mark));
    if earlier {
        for name in &names {
            if (pages.names)(&name.to_string_lossy()) {
                let path = dir.join(name);
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        return Ok(());
    }
    if force {
        return Ok(());
    }
    refuse(format!(
        "{} holds files that are not an earlier report of earmark's: choose an empty or new folder, or write the pages among them with --force",
        dir.display()
    ))
}

/// Whether two paths name the same existing file (a link or another spelling included).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => a.canonicalize().ok() == b.canonicalize().ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_command_reads_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let index = Path::new("testdata/index-v3.earmark");
        let err = claim(index, Output::ScanResults, Some(index), &[], true).unwrap_err();
        assert!(err.to_string().contains("the index it reads"), "{err}");
        let song = PathBuf::from("testdata/catalogue/wesnoth/siege.ogg");
        let inputs = [PathBuf::from("testdata/catalogue"), song.clone()];
        let err = claim(&song, Output::Index, None, &inputs, true).unwrap_err();
        assert!(err.to_string().contains("one of its inputs"), "{err}");
        let fresh = dir.path().join("out.jsonl");
        assert_eq!(
            claim(&fresh, Output::ScanResults, Some(index), &[], false).unwrap(),
            Claim::Free
        );
    }

    #[test]
    fn only_files_earmark_wrote_are_replaced_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let song = dir.path().join("song.m4a");
        std::fs::copy("testdata/dump/clip-aac.m4a", &song).unwrap();
        let err = claim(&song, Output::Index, None, &[], false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("an MP4/M4A file") && err.contains("--force"),
            "{err}"
        );
        assert_eq!(
            claim(&song, Output::Index, None, &[], true).unwrap(),
            Claim::Replaces
        );

        let index = dir.path().join("cat.earmark");
        std::fs::copy("testdata/index-v3.earmark", &index).unwrap();
        let err = claim(&index, Output::Index, None, &[], false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--append") && err.contains("--force"), "{err}");

        let merged = dir.path().join("merged.jsonl");
        std::fs::write(&merged, "{\"item\":\"a.mp3\",\"track\":\"t\"}\n").unwrap();
        assert_eq!(
            claim(&merged, Output::Merged, None, &[], false).unwrap(),
            Claim::Replaces
        );
        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, "my notes\n").unwrap();
        assert!(claim(&notes, Output::Merged, None, &[], false).is_err());
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert_eq!(
            claim(&empty, Output::EvalTsv, None, &[], false).unwrap(),
            Claim::Free
        );
    }

    #[test]
    fn a_report_goes_into_a_new_or_empty_folder_or_over_an_earlier_report() {
        let dir = tempfile::tempdir().unwrap();
        let names = |n: &str| n.ends_with(".html");
        let pages = Pages {
            first: "index.html",
            mark: "earmark report",
            names: &names,
        };
        let site = dir.path().join("site");
        claim_folder(&site, &pages, &[], false).unwrap();
        assert!(site.is_dir());
        std::fs::write(site.join("index.html"), "<meta content=\"earmark report\">").unwrap();
        std::fs::write(site.join("track-9.html"), "old").unwrap();
        std::fs::write(site.join("notes.txt"), "mine").unwrap();
        claim_folder(&site, &pages, &[], false).unwrap();
        assert!(!site.join("track-9.html").exists() && site.join("notes.txt").exists());
        // Someone else's folder: refused, or written among its files with --force.
        std::fs::write(site.join("index.html"), "<h1>my page</h1>").unwrap();
        let err = claim_folder(&site, &pages, &[], false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--force"), "{err}");
        claim_folder(&site, &pages, &[], true).unwrap();
        assert!(site.join("index.html").exists());
        // An input that a page would overwrite; a file for a folder.
        let input = site.join("clean.html");
        std::fs::write(&input, "{}").unwrap();
        assert!(claim_folder(&site, &pages, &[input], true).is_err());
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(claim_folder(&file, &pages, &[], true).is_err());
    }

    #[test]
    fn a_scan_with_a_journal_is_continued_or_forced_never_replaced_quietly() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "{\"item\":\"a.mp3\",\"track\":\"t\"}\n").unwrap();
        assert_eq!(
            claim(&out, Output::ScanResults, None, &[], false).unwrap(),
            Claim::Replaces
        );
        std::fs::write(journal_path(&out), "{\"settings\":{}}\n").unwrap();
        let err = claim(&out, Output::ScanResults, None, &[], false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--resume") && err.contains("--force"), "{err}");
        assert_eq!(
            claim(&out, Output::ScanResults, None, &[], true).unwrap(),
            Claim::Replaces
        );
        // A journal alone (killed before the first line) is a scan to continue too.
        std::fs::remove_file(&out).unwrap();
        assert!(claim(&out, Output::ScanResults, None, &[], false).is_err());
    }
}
