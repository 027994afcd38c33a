//! The `citypeers` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    citypeers::cli::run(citypeers::cli::Cli::parse())
}
