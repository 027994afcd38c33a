//! `import` and `export`: file formats and kinds, progress while importing, the report.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Instant;

use super::RemoteArgs;
use super::commands::{Settings, open_app};
use super::remote::Remote;
use crate::app::Actor;
use crate::curation::import::{ImportFormat, ImportReport};
use crate::domain::RecordKind;

pub(super) fn parse_kind(raw: &str) -> Result<RecordKind, String> {
    RecordKind::parse_plural(raw)
}

/// The kind of records in a file: from its name, else from its first record.
pub(super) fn guess_kind(path: &Path) -> Result<RecordKind, String> {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if name.contains("case") {
        return Ok(RecordKind::Case);
    }
    if name.contains("expert") {
        return Ok(RecordKind::Expert);
    }
    let mut start = vec![0u8; 64 * 1024];
    let read = std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut start))
        .map_err(|error| error.to_string())?;
    let head = String::from_utf8_lossy(&start[..read]);
    if head.contains("\"title\"")
        || head
            .lines()
            .next()
            .is_some_and(|header| header.split(',').any(|column| column.trim() == "title"))
    {
        Ok(RecordKind::Case)
    } else {
        Ok(RecordKind::Expert)
    }
}

/// Counts bytes read, for progress.
struct CountingReader<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.read.fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(count)
    }
}

fn print_report(report: &ImportReport, seconds: f64) {
    println!(
        "imported: {} created, {} updated, {} unchanged, {} rejected in {seconds:.1} s ({:.0} records/s)",
        report.created,
        report.updated,
        report.unchanged,
        report.rejected.len(),
        report.processed() as f64 / seconds.max(0.001)
    );
    for rejected in report.rejected.iter().take(50) {
        let problems: Vec<String> = rejected
            .errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect();
        println!(
            "  line {} ({}): {}",
            rejected.line,
            rejected.id.as_deref().unwrap_or("no id"),
            problems.join("; ")
        );
    }
    if report.rejected.len() > 50 {
        println!("  … and {} more rejected records", report.rejected.len() - 50);
    }
}

pub(super) fn import(
    file: &Path,
    kind: Option<&str>,
    format: Option<&str>,
    settings: &Settings,
    remote: &RemoteArgs,
) -> Result<(), String> {
    let kind = match kind {
        Some(raw) => parse_kind(raw)?,
        None => guess_kind(file)?,
    };
    let format = match format {
        Some("json") => ImportFormat::JsonArray,
        Some("jsonl" | "ndjson") => ImportFormat::JsonLines,
        Some("csv") => ImportFormat::Csv,
        Some(other) => return Err(format!("unknown format '{other}': use json, jsonl or csv")),
        None => ImportFormat::from_path(file)
            .ok_or("cannot tell the format from the file name; pass --format json|jsonl|csv")?,
    };
    if let Some(url) = &remote.url {
        return Remote::new(url, remote.token.clone())?.import(file, kind, format);
    }
    let started = Instant::now();
    let app = open_app(settings, false)?;
    let size = std::fs::metadata(file)
        .map_err(|error| format!("{}: {error}", file.display()))?
        .len();
    let handle = std::fs::File::open(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let bytes_read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = CountingReader {
        inner: handle,
        read: bytes_read.clone(),
    };
    let on_terminal = std::io::stderr().is_terminal();
    let bar = if on_terminal {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} (ETA {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let actor = Actor::named("cli-import");
    let report = app
        .import(kind, reader, format, &actor, &mut |report| {
            let rate = report.processed() as f64 / started.elapsed().as_secs_f64().max(0.001);
            match &bar {
                Some(bar) => {
                    bar.set_position(bytes_read.load(std::sync::atomic::Ordering::Relaxed));
                    bar.set_message(format!("{} acknowledged, {rate:.0} records/s", report.acknowledged()));
                }
                None => {
                    // A line per flushed chunk: every record counted here is on disk.
                    println!(
                        "acknowledged {} records ({} rejected, {rate:.0} records/s)",
                        report.acknowledged(),
                        report.rejected.len()
                    );
                    let _ = std::io::stdout().flush();
                }
            }
        })
        .map_err(|error| error.to_string())?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    app.shutdown().map_err(|error| error.to_string())?;
    print_report(&report, started.elapsed().as_secs_f64());
    Ok(())
}

pub(super) fn export(
    kind: &str,
    output: Option<&Path>,
    settings: &Settings,
    remote: &RemoteArgs,
) -> Result<(), String> {
    let kind = parse_kind(kind)?;
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|error| format!("{}: {error}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if let Some(url) = &remote.url {
        Remote::new(url, remote.token.clone())?.export(kind, &mut sink)?;
    } else {
        let app = open_app(settings, false)?;
        let mut failure = None;
        let written = app
            .export(kind, &mut |line| match sink.write_all(&line) {
                Ok(()) => true,
                Err(error) => {
                    failure = Some(error);
                    false
                }
            })
            .map_err(|error| error.to_string())?;
        if let Some(error) = failure {
            return Err(error.to_string());
        }
        if output.is_some() {
            eprintln!("exported {written} {}", kind.plural());
        }
    }
    sink.flush().map_err(|error| error.to_string())
}
