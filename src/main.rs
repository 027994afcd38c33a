//! The `citypeers` binary: parses the command line and hands it to the library.

use clap::Parser;

/// mimalloc instead of the system allocator: a match or search allocates many short-lived
/// vectors (term weights, scorers, hit lists), and glibc's malloc took a tenth of a match's
/// time (benches/README.md, "How the time divides").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    citypeers::cli::run(citypeers::cli::Cli::parse())
}
