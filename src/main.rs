//! The `earmark` binary: parse flags, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
            eprintln!("earmark: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
