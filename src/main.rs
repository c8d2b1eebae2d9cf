//! The `earmark` binary: parse flags, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Asked for on its own, before the arguments a scan needs are checked.
    if std::env::args_os().any(|a| a == "--help-tuning") {
        print!("{}", earmark::tuning::reference());
        return ExitCode::SUCCESS;
    }
    let cli = earmark::cli::Cli::parse();
    match earmark::cli::run(cli) {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(e) => {
            // A closed pipe (`earmark scan ... | head`) is a normal way to stop.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("earmark: error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: a cause whose words the message already holds
/// (an I/O error that the library's error quotes) is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
