//! What each command does.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde::Deserialize;

use super::remote::Remote;
use super::{Cli, Command, DataArgs, FilterArgs, RemoteArgs, TokenAction};
use crate::app::{Actor, App, AppConfig, ListingParams, MatchInput};
use crate::curation::import::{ImportFormat, ImportReport};
use crate::domain::RecordKind;
use crate::http::Limits;

const DEFAULT_DATA_DIR: &str = "./data";
const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Settings from `--config FILE`; environment variables and flags override them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data: Option<PathBuf>,
    addr: Option<String>,
    vocabulary: Option<PathBuf>,
    response_cache_mb: Option<u64>,
}

fn load_config(path: Option<&Path>) -> Result<ConfigFile, String> {
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

struct Settings {
    data_dir: PathBuf,
    vocabulary_dir: Option<PathBuf>,
}

fn settings(data: &DataArgs, config: &ConfigFile) -> Settings {
    Settings {
        data_dir: data
            .data
            .clone()
            .or_else(|| config.data.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        vocabulary_dir: data.vocabulary.clone().or_else(|| config.vocabulary.clone()),
    }
}

fn open_app(settings: &Settings, load_demo_data: bool) -> Result<App, String> {
    let admin_token = std::env::var("CITYPEERS_ADMIN_TOKEN")
        .ok()
        .filter(|token| !token.is_empty());
    App::open(AppConfig {
        data_dir: settings.data_dir.clone(),
        vocabulary_dir: settings.vocabulary_dir.clone(),
        load_demo_data,
        admin_token,
    })
    .map_err(|error| match error {
        crate::app::OpenError::Store(crate::store::StoreError::Locked(path)) => format!(
            "the data directory {} is in use by a running citypeers server; stop it, or go through its API with --url http://127.0.0.1:8080",
            path.display()
        ),
        other => other.to_string(),
    })
}

fn init_logging(default_level: &str) {
    let filter = std::env::var("CITYPEERS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default_level.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line; errors are printed and turned into a failing exit code.
pub fn run(cli: Cli) -> ExitCode {
    let is_serve = matches!(cli.command, Command::Serve { .. });
    init_logging(if is_serve { "info" } else { "warn" });
    let config = match load_config(cli.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    match execute(cli.command, &config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command, config: &ConfigFile) -> Result<(), String> {
    match command {
        Command::Serve {
            data,
            addr,
            empty,
            response_cache_mb,
        } => {
            let addr = addr
                .or_else(|| config.addr.clone())
                .unwrap_or_else(|| DEFAULT_ADDR.to_string());
            let response_cache_mb = response_cache_mb
                .or(config.response_cache_mb)
                .unwrap_or(crate::http::DEFAULT_RESPONSE_CACHE_MIB);
            let limits = Limits::default().with_response_cache_mib(response_cache_mb);
            serve(&settings(&data, config), &addr, !empty, limits)
        }
        Command::Import {
            file,
            kind,
            format,
            data,
            remote,
        } => import(
            &file,
            kind.as_deref(),
            format.as_deref(),
            &settings(&data, config),
            &remote,
        ),
        Command::Export {
            kind,
            output,
            data,
            remote,
        } => export(&kind, output.as_deref(), &settings(&data, config), &remote),
        Command::Search {
            query,
            filters,
            cases,
            limit,
            json,
            data,
            remote,
        } => search(
            &query.join(" "),
            &filters,
            cases,
            limit,
            json,
            &settings(&data, config),
            &remote,
        ),
        Command::Match {
            challenge,
            topics,
            languages,
            regions,
            city,
            country,
            limit,
            lang,
            json,
            data,
            remote,
        } => {
            let input = MatchInput {
                challenge: Some(challenge.join(" ")).filter(|text| !text.trim().is_empty()),
                topics,
                city,
                country,
                languages,
                regions,
                limit: Some(limit),
                lang,
            };
            match_command(input, json, &settings(&data, config), &remote)
        }
        Command::Reindex { data } => {
            let started = Instant::now();
            let app = open_app(&settings(&data, config), false)?;
            let records = app.reindex().map_err(|error| error.to_string())?;
            app.shutdown().map_err(|error| error.to_string())?;
            println!(
                "reindexed {records} records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Token { action } => {
            let settings = settings(action.data(), config);
            token(action, &settings)
        }
        Command::Eval {
            file,
            weakest,
            verbose,
            min_ndcg,
            vocabulary,
        } => crate::evaluation::run_cli(&file, weakest, verbose, min_ndcg, vocabulary.as_deref()),
        Command::Generate {
            experts,
            cases,
            seed,
            output,
        } => generate(experts, cases, seed, output.as_deref()),
    }
}

fn serve(settings: &Settings, addr: &str, load_demo_data: bool, limits: Limits) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let opening = Settings {
            data_dir: settings.data_dir.clone(),
            vocabulary_dir: settings.vocabulary_dir.clone(),
        };
        let app = tokio::task::spawn_blocking(move || open_app(&opening, load_demo_data))
            .await
            .map_err(|error| error.to_string())??;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
        let local = listener.local_addr().map_err(|error| error.to_string())?;
        let readiness = app.readiness();
        let _ = writeln!(
            std::io::stdout(),
            "citypeers listening on http://{local} (data: {}, {} experts and {} cases indexed)",
            settings.data_dir.display(),
            readiness.indexed_experts,
            readiness.indexed_cases
        );
        let _ = std::io::stdout().flush();
        crate::http::serve(listener, app, limits, shutdown_signal())
            .await
            .map_err(|error| error.to_string())?;
        // Whoever started us may have stopped reading: never panic on a closed pipe.
        let _ = writeln!(std::io::stdout(), "citypeers stopped cleanly");
        Ok(())
    })
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

fn parse_kind(raw: &str) -> Result<RecordKind, String> {
    RecordKind::parse_plural(raw)
}

/// The kind of records in a file: from its name, else from its first record.
fn guess_kind(path: &Path) -> Result<RecordKind, String> {
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

fn import(
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

fn export(kind: &str, output: Option<&Path>, settings: &Settings, remote: &RemoteArgs) -> Result<(), String> {
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

fn search(
    query: &str,
    filters: &FilterArgs,
    cases: bool,
    limit: usize,
    json: bool,
    settings: &Settings,
    remote: &RemoteArgs,
) -> Result<(), String> {
    let params = ListingParams {
        q: Some(query.to_string()).filter(|query| !query.trim().is_empty()),
        topic: filters.topics.clone(),
        region: filters.regions.clone(),
        country: filters.countries.clone(),
        language: filters.languages.clone(),
        available: None,
        limit: Some(limit.to_string()),
        offset: None,
    };
    let body = if let Some(url) = &remote.url {
        Remote::new(url, remote.token.clone())?.search(&params, cases)?
    } else {
        let app = open_app(settings, false)?;
        let regions = &app.vocabulary().regions;
        if cases {
            let page = app.search_cases(&params, true).map_err(|error| error.to_string())?;
            serde_json::to_value(crate::http::dto::case_listing(&page, regions)).map_err(|error| error.to_string())?
        } else {
            let page = app.search_experts(&params, true).map_err(|error| error.to_string())?;
            serde_json::to_value(crate::http::dto::expert_listing(
                &page,
                regions,
                crate::wire::Visibility::Public,
            ))
            .map_err(|error| error.to_string())?
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&body).map_err(|error| error.to_string())?
        );
        return Ok(());
    }
    let record_key = if cases { "case" } else { "expert" };
    println!("{} found", body["total"]);
    for hit in body["hits"].as_array().into_iter().flatten() {
        let record = &hit[record_key];
        let label = if cases {
            record["title"].as_str()
        } else {
            record["name"].as_str()
        };
        println!(
            "{:>6.3}  {:<28} {}  ({}, {})  {}",
            hit["score"].as_f64().unwrap_or(0.0),
            record["id"].as_str().unwrap_or_default(),
            label.unwrap_or_default(),
            record["city"].as_str().unwrap_or_default(),
            record["country"].as_str().unwrap_or_default(),
            record["topics"]
                .as_array()
                .map(|topics| topics
                    .iter()
                    .filter_map(|topic| topic.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
        if let Some(snippet) = hit["highlights"]
            .as_object()
            .and_then(|highlights| highlights.values().next())
            .and_then(|value| value.as_str())
        {
            println!("        {}", snippet.replace("<mark>", "[").replace("</mark>", "]"));
        }
    }
    Ok(())
}

fn match_command(input: MatchInput, json: bool, settings: &Settings, remote: &RemoteArgs) -> Result<(), String> {
    let body = if let Some(url) = &remote.url {
        Remote::new(url, remote.token.clone())?.match_experts(&input)?
    } else {
        let app = open_app(settings, false)?;
        let outcome = app.match_experts(input).map_err(|error| match error {
            crate::app::AppError::Invalid(fields) => fields
                .iter()
                .map(|field| format!("{}: {}", field.field, field.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
        serde_json::to_value(crate::http::dto::match_response(&outcome, &app.vocabulary().regions))
            .map_err(|error| error.to_string())?
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&body).map_err(|error| error.to_string())?
        );
        return Ok(());
    }
    println!(
        "interpreted: topics {} language {}",
        body["interpreted"]["topics"], body["interpreted"]["language"]
    );
    for (rank, matched) in body["matches"].as_array().into_iter().flatten().enumerate() {
        let expert = &matched["expert"];
        println!(
            "{:>2}. {:.3}  {} — {}, {} ({})",
            rank + 1,
            matched["score"].as_f64().unwrap_or(0.0),
            expert["name"].as_str().unwrap_or_default(),
            expert["city"].as_str().unwrap_or_default(),
            expert["country"].as_str().unwrap_or_default(),
            expert["id"].as_str().unwrap_or_default()
        );
        for reason in matched["reasons"].as_array().into_iter().flatten() {
            println!("       · {}", reason.as_str().unwrap_or_default());
        }
    }
    Ok(())
}

fn token(action: TokenAction, settings: &Settings) -> Result<(), String> {
    let app = open_app(settings, false)?;
    match action {
        TokenAction::Create { name, .. } => {
            let secret = app.create_token(&name).map_err(|error| error.to_string())?;
            println!("{secret}");
            eprintln!("token '{name}' created; keep the secret above, it is not shown again");
        }
        TokenAction::List { .. } => {
            for token in app.list_tokens().map_err(|error| error.to_string())? {
                println!("{}\t{}", token.name, token.created_at);
            }
        }
        TokenAction::Revoke { name, .. } => {
            app.revoke_token(&name).map_err(|error| error.to_string())?;
            println!("token '{name}' revoked");
        }
    }
    app.shutdown().map_err(|error| error.to_string())
}

fn generate(experts: u64, cases: u64, seed: u64, output: Option<&Path>) -> Result<(), String> {
    match output {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
            let open = |name: &str| {
                std::fs::File::create(dir.join(name))
                    .map(std::io::BufWriter::new)
                    .map_err(|error| format!("{}: {error}", dir.join(name).display()))
            };
            let mut expert_file = open("experts.jsonl")?;
            let mut case_file = open("cases.jsonl")?;
            crate::generate::generate(experts, cases, seed, &mut expert_file, &mut case_file)
                .map_err(|error| error.to_string())?;
            expert_file.flush().map_err(|error| error.to_string())?;
            case_file.flush().map_err(|error| error.to_string())?;
            eprintln!(
                "wrote {experts} experts to {} and {cases} cases to {}",
                dir.join("experts.jsonl").display(),
                dir.join("cases.jsonl").display()
            );
        }
        None => {
            let mut case_lines = Vec::new();
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            crate::generate::generate(experts, cases, seed, &mut out, &mut case_lines)
                .map_err(|error| error.to_string())?;
            out.write_all(&case_lines).map_err(|error| error.to_string())?;
            out.flush().map_err(|error| error.to_string())?;
        }
    }
    Ok(())
}
