//! Worker processes: items decoded where a stuck or runaway decoder can be stopped.
//!
//! `catch_unwind` turns a decoder's panic into an error record, but a decoder caught in an
//! endless loop, or allocating without end, cannot be stopped from inside its own process. With
//! process isolation (the default of `earmark scan`) each of the `jobs` slots drives one child
//! process, `earmark worker`, which decodes, fingerprints and matches the items sent to it one
//! at a time with the same [`process_item`] as the threaded scanner. The slot kills a child that
//! has not answered within [`Limits::item_timeout_seconds`]; the kernel stops a child whose heap
//! outgrows [`Limits::item_memory_bytes`] (`RLIMIT_DATA`, which does not count the shared,
//! read-only index mapping). Either way that item gets an error record and the slot starts a
//! fresh child for the next one.
//!
//! Every child maps the same index file, so the catalogue sits once in the page cache however
//! many workers run. Plain files travel as paths and are read by the child; archive members
//! travel as bytes through the pipe, which costs a copy at memory speed.
//!
//! The protocol on the child's stdin and stdout, lengths little-endian:
//! - parent → child, once: `u32` length, JSON [`Config`];
//! - parent → child, per item: `u32` length, JSON [`Request`], `u64` length, payload (the
//!   member's bytes, or a plain file's path as raw OS bytes);
//! - child → parent, per item: `u32` length, JSON [`Outcome`].
//!
//! Built with the `fault-injection` feature (test builds only), a child reads
//! `EARMARK_TEST_FAULT=<kind>:<text>[,<kind>:<text>...]` from its environment and misbehaves
//! on items whose key contains `<text>`: `hang` sleeps forever, `abort` aborts the process,
//! `hog` allocates until its memory limit stops it. The tests use this to prove the parent's
//! recovery on real child processes; a binary built for users has no such code.

use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Item, ItemData, process_item};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::limits::Limits;
use crate::report::Outcome;
use crate::tuning::QueryParams;

/// How to start a worker process: the program (normally this executable) and the arguments
/// that make it serve items; `--index PATH` is appended.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl WorkerCommand {
    /// This executable's hidden `worker` subcommand.
    pub fn this_executable() -> Result<Self> {
        Ok(WorkerCommand {
            program: std::env::current_exe().map_err(|e| Error::io("current executable", e))?,
            args: vec!["worker".into()],
        })
    }
}

/// What a child needs besides the index path, sent once when it starts.
#[derive(Debug, Serialize, Deserialize)]
pub struct Config {
    pub query: QueryParams,
    pub limits: Limits,
}

/// One item, as sent to a child; the payload follows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub item: String,
    pub member: Option<String>,
    /// The payload is a path to open, not the item's bytes.
    pub file: bool,
}

/// The largest JSON frame accepted; outcomes are a few kilobytes.
const MAX_FRAME: u32 = 64 << 20;

/// Lines of a child's standard error, since its current item began, kept to explain its death.
const STDERR_LINES: usize = 2;

/// Serves items on `input`/`output` until the parent closes `input`: the child's main loop.
pub fn serve(index_path: &Path, input: impl Read, output: impl Write) -> Result<()> {
    let mut input = BufReader::new(input);
    let mut output = BufWriter::new(output);
    let config: Config = read_json(&mut input)?.ok_or_else(|| Error::Worker {
        reason: "no configuration received".into(),
    })?;
    confine(config.limits.item_memory_bytes)?;
    let index = Index::open(index_path)?;
    #[cfg(feature = "fault-injection")]
    let faults = Faults::from_env();
    // The parent reports panics as error records; the default hook would print them as well.
    std::panic::set_hook(Box::new(|_| {}));
    while let Some(request) = read_json::<Request>(&mut input)? {
        let mut len = [0u8; 8];
        input.read_exact(&mut len).map_err(protocol)?;
        let len = u64::from_le_bytes(len);
        if len > config.limits.max_item_bytes.saturating_add(1 << 16) {
            return Err(Error::Worker {
                reason: format!("payload of {len} bytes is over the item limit"),
            });
        }
        let mut payload = Vec::with_capacity(len as usize);
        (&mut input)
            .take(len)
            .read_to_end(&mut payload)
            .map_err(protocol)?;
        let data = if request.file {
            ItemData::File(path_from_bytes(payload))
        } else {
            ItemData::Bytes(payload)
        };
        let item = Item {
            item: request.item,
            member: request.member,
            data,
            row: None,
        };
        #[cfg(feature = "fault-injection")]
        faults.inject(&item.key());
        let outcome = process_item(&index, item, &config.query, &config.limits);
        write_frame(&mut output, &serde_json::to_vec(&outcome).map_err(json)?).map_err(protocol)?;
        output.flush().map_err(protocol)?;
    }
    Ok(())
}

/// One slot of the scanner: a child process, started on demand and replaced when it dies or
/// is killed.
pub struct Slot {
    command: WorkerCommand,
    index: PathBuf,
    config: Vec<u8>,
    timeout: Duration,
    child: Option<Worker>,
}

/// A running child and the threads that feed and read it, so that the slot only ever waits
/// on channels with a deadline.
struct Worker {
    process: Child,
    requests: SyncSender<(Vec<u8>, Vec<u8>)>,
    outcomes: Receiver<Vec<u8>>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// Ends when the child's stderr closes; joined after a death so its last words are in.
    stderr_reader: std::thread::JoinHandle<()>,
}

impl Slot {
    pub fn new(command: WorkerCommand, index: &Path, query: &QueryParams, limits: &Limits) -> Self {
        let config = Config {
            query: *query,
            limits: *limits,
        };
        Slot {
            command,
            index: index.to_path_buf(),
            config: serde_json::to_vec(&config).expect("plain data serialises"),
            timeout: Duration::from_secs_f64(limits.item_timeout_seconds.clamp(0.001, 1e9)),
            child: None,
        }
    }

    /// Runs one item in the child. Never fails: what goes wrong becomes the item's error.
    pub fn process(&mut self, mut item: Item) -> Outcome {
        // The child needs the audio only; the row's columns stay here.
        let row = item.row.take();
        let mut outcome = self.run_item(item);
        outcome.row = row;
        outcome
    }

    fn run_item(&mut self, item: Item) -> Outcome {
        let mut outcome = Outcome {
            item: item.item.clone(),
            member: item.member.clone(),
            ..Outcome::default()
        };
        // A plain file's size is the child's to report; the slot looks only when the child
        // cannot answer.
        let mut file_path = None;
        let (file, payload) = match item.data {
            ItemData::Failed(failure) => {
                outcome.failure = Some(failure);
                return outcome;
            }
            ItemData::Bytes(bytes) => {
                outcome.bytes = bytes.len() as u64;
                (false, bytes)
            }
            ItemData::File(path) => {
                let raw = path_bytes(path.clone());
                file_path = Some(path);
                (true, raw)
            }
        };
        let request = Request {
            item: item.item,
            member: item.member,
            file,
        };
        let started = std::time::Instant::now();
        match self.run(&request, payload) {
            Ok(done) => done,
            Err(e) => {
                // A killed or dead child timed nothing; the slot's wait is the item's cost.
                if let Some(path) = file_path {
                    outcome.bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                }
                outcome.failure = Some(e.failure());
                outcome.processing_seconds = started.elapsed().as_secs_f64();
                outcome
            }
        }
    }

    fn run(&mut self, request: &Request, payload: Vec<u8>) -> Result<Outcome> {
        if self.child.is_none() {
            self.child = Some(self.spawn()?);
        }
        let worker = self.child.as_mut().expect("started above");
        let header = serde_json::to_vec(request).map_err(json)?;
        if let Ok(mut lines) = worker.stderr.lock() {
            lines.clear();
        }
        let sent = worker.requests.send((header, payload)).is_ok();
        let answer = if sent {
            worker.outcomes.recv_timeout(self.timeout)
        } else {
            Err(RecvTimeoutError::Disconnected)
        };
        match answer {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                self.stop();
                Error::Worker {
                    reason: format!("unreadable answer: {e}"),
                }
            }),
            Err(RecvTimeoutError::Timeout) => {
                self.stop();
                Err(Error::ItemTimeout {
                    seconds: self.timeout.as_secs_f64(),
                })
            }
            Err(RecvTimeoutError::Disconnected) => {
                let mut worker = self.child.take().expect("running");
                let status = worker
                    .process
                    .wait()
                    .map_or_else(|e| format!("status unknown: {e}"), describe_exit);
                let _ = worker.stderr_reader.join();
                let tail = worker
                    .stderr
                    .lock()
                    .map(|t| t.join(" | "))
                    .unwrap_or_default();
                Err(Error::WorkerDied {
                    status,
                    detail: if tail.is_empty() {
                        String::new()
                    } else {
                        format!(": {tail}")
                    },
                })
            }
        }
    }

    fn spawn(&self) -> Result<Worker> {
        let mut process = Command::new(&self.command.program)
            .args(&self.command.args)
            .arg("--index")
            .arg(&self.index)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Worker {
                reason: format!("cannot start {}: {e}", self.command.program.display()),
            })?;
        let mut stdin = BufWriter::new(process.stdin.take().expect("piped"));
        let stdout = process.stdout.take().expect("piped");
        let stderr = process.stderr.take().expect("piped");
        write_frame(&mut stdin, &self.config)
            .and_then(|()| stdin.flush())
            .map_err(|e| Error::Worker {
                reason: format!("cannot configure the worker: {e}"),
            })?;

        // One request in flight at a time; the channels only decouple blocking pipe I/O from
        // the slot's deadline.
        let (requests, to_write) = sync_channel(0);
        let (written, outcomes) = sync_channel(1);
        std::thread::spawn(move || feed(stdin, to_write));
        std::thread::spawn(move || read_outcomes(stdout, written));
        let tail = Arc::new(Mutex::new(Vec::new()));
        let keep = tail.clone();
        let stderr_reader = std::thread::spawn(move || keep_stderr(stderr, keep));
        Ok(Worker {
            process,
            requests,
            outcomes,
            stderr: tail,
            stderr_reader,
        })
    }

    /// Kills the child; the next item starts a new one.
    fn stop(&mut self) {
        if let Some(mut worker) = self.child.take() {
            let _ = worker.process.kill();
            let _ = worker.process.wait();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(mut worker) = self.child.take() {
            // Closing stdin asks the child to exit after its current item.
            drop(worker.requests);
            let _ = worker.process.wait();
        }
    }
}

fn feed(mut stdin: BufWriter<ChildStdin>, requests: Receiver<(Vec<u8>, Vec<u8>)>) {
    for (header, payload) in requests {
        let sent = write_frame(&mut stdin, &header)
            .and_then(|()| stdin.write_all(&(payload.len() as u64).to_le_bytes()))
            .and_then(|()| stdin.write_all(&payload))
            .and_then(|()| stdin.flush());
        if sent.is_err() {
            return; // the child is gone; the slot learns it from its stdout
        }
    }
}

fn read_outcomes(stdout: ChildStdout, outcomes: SyncSender<Vec<u8>>) {
    let mut stdout = BufReader::new(stdout);
    while let Ok(Some(frame)) = read_frame(&mut stdout) {
        if outcomes.send(frame).is_err() {
            return;
        }
    }
}

fn keep_stderr(stderr: impl Read, first: Arc<Mutex<Vec<String>>>) {
    use std::io::BufRead;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { return };
        if let Ok(mut t) = first.lock()
            && t.len() < STDERR_LINES
        {
            t.push(line);
        }
    }
}

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .ok()
        .filter(|&n| n <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "frame too large"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

/// The next frame, or `None` at a clean end of stream.
fn read_frame(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let mut frame = vec![0; len as usize];
    input.read_exact(&mut frame)?;
    Ok(Some(frame))
}

fn read_json<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> Result<Option<T>> {
    match read_frame(input).map_err(protocol)? {
        None => Ok(None),
        Some(frame) => serde_json::from_slice(&frame).map(Some).map_err(json),
    }
}

fn protocol(e: io::Error) -> Error {
    Error::Worker {
        reason: format!("pipe to the scanner: {e}"),
    }
}

fn json(e: serde_json::Error) -> Error {
    Error::Worker {
        reason: format!("message: {e}"),
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGABRT => " (SIGABRT: aborted, often an allocation over --item-memory-mb)",
                libc::SIGKILL => " (SIGKILL: killed, perhaps by the out-of-memory killer)",
                libc::SIGSEGV => " (SIGSEGV: memory fault)",
                _ => "",
            };
            return format!("signal {signal}{name}");
        }
    }
    status.to_string()
}

#[cfg(unix)]
fn path_bytes(path: PathBuf) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    path.into_os_string().into_vec()
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_bytes(path: PathBuf) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// Caps the process's heap, turns off core dumps (an aborting worker must not litter the disk
/// with multi-gigabyte cores) and, on Linux, asks to be killed with the scan that started it,
/// so that a hung worker does not outlive a `kill -9` of the scan.
#[cfg(unix)]
fn confine(bytes: u64) -> Result<()> {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let set = |resource, value: u64| {
        let limit = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct we pass and touches no Rust-managed memory.
        if unsafe { libc::setrlimit(resource, &limit) } == 0 {
            Ok(())
        } else {
            Err(Error::Worker {
                reason: format!("setrlimit: {}", io::Error::last_os_error()),
            })
        }
    };
    set(libc::RLIMIT_CORE, 0)?;
    set(libc::RLIMIT_DATA, bytes)
}

#[cfg(not(unix))]
fn confine(_bytes: u64) -> Result<()> {
    Ok(())
}

/// Test-only misbehaviour, read from `EARMARK_TEST_FAULT` (see the module documentation).
#[cfg(feature = "fault-injection")]
struct Faults(Vec<(String, String)>);

#[cfg(feature = "fault-injection")]
impl Faults {
    fn from_env() -> Self {
        let spec = std::env::var("EARMARK_TEST_FAULT").unwrap_or_default();
        Faults(
            spec.split(',')
                .filter_map(|f| f.split_once(':'))
                .filter(|(_, needle)| !needle.is_empty())
                .map(|(kind, needle)| (kind.to_string(), needle.to_string()))
                .collect(),
        )
    }

    fn inject(&self, key: &str) {
        let Some((kind, _)) = self.0.iter().find(|(_, needle)| key.contains(needle)) else {
            return;
        };
        match kind.as_str() {
            "hang" => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            "abort" => std::process::abort(),
            "hog" => {
                let mut held: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Written pages, kept reachable, so the memory is really used.
                    held.push(vec![1u8; 64 << 20]);
                    std::hint::black_box(&held);
                }
            }
            _ => {}
        }
    }
}
