//! What each command does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde::Deserialize;

use super::queries::{match_command, search};
use super::transfer::{export, import};
use super::{Cli, Command, DataArgs, TokenAction};
use crate::app::{App, AppConfig, MatchInput};
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
    min_free_mb: Option<u64>,
    store: Option<String>,
    header_timeout: Option<u64>,
    body_timeout: Option<u64>,
    idle_timeout: Option<u64>,
    max_connections: Option<usize>,
    failed_logins_per_minute: Option<u32>,
    contact_requests_per_minute: Option<u32>,
}

/// Timeouts and the connection cap: flags and environment, then the config file, then defaults.
fn connection_limits(
    args: &super::ConnectionArgs,
    config: &ConfigFile,
) -> Result<crate::http::ConnectionLimits, String> {
    let defaults = crate::http::ConnectionLimits::default();
    let seconds = |flag: Option<u64>, file: Option<u64>, default: std::time::Duration, name: &str| match flag.or(file) {
        None => Ok(default),
        Some(0) => Err(format!("{name} must be at least 1 second")),
        Some(seconds) => Ok(std::time::Duration::from_secs(seconds)),
    };
    let max_connections = args
        .max_connections
        .or(config.max_connections)
        .unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        return Err("max-connections must be at least 1".to_string());
    }
    Ok(crate::http::ConnectionLimits {
        header_read: seconds(
            args.header_timeout,
            config.header_timeout,
            defaults.header_read,
            "header-timeout",
        )?,
        body_read: seconds(
            args.body_timeout,
            config.body_timeout,
            defaults.body_read,
            "body-timeout",
        )?,
        idle: seconds(args.idle_timeout, config.idle_timeout, defaults.idle, "idle-timeout")?,
        max_connections,
    })
}

fn load_config(path: Option<&Path>) -> Result<ConfigFile, String> {
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

pub(super) struct Settings {
    data_dir: PathBuf,
    store: Option<String>,
    vocabulary_dir: Option<PathBuf>,
    min_free_bytes: u64,
}

impl Settings {
    pub(super) fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

fn settings(data: &DataArgs, config: &ConfigFile) -> Settings {
    Settings {
        data_dir: data
            .data
            .clone()
            .or_else(|| config.data.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        store: data
            .store
            .clone()
            .or_else(|| config.store.clone())
            .filter(|url| !url.trim().is_empty()),
        vocabulary_dir: data.vocabulary.clone().or_else(|| config.vocabulary.clone()),
        min_free_bytes: data
            .min_free_mb
            .or(config.min_free_mb)
            .map_or(crate::store::DEFAULT_MIN_FREE_BYTES, |mebibytes| mebibytes << 20),
    }
}

/// Opens the service for a command that works on the data directory directly, with its
/// index up to date (a rebuild the opening started is waited for).
pub(super) fn open_app(settings: &Settings, load_demo_data: bool) -> Result<App, String> {
    let app = open_service(settings, load_demo_data)?;
    app.wait_until_indexed().map_err(|error| error.to_string())?;
    Ok(app)
}

/// The service's configuration from the settings.
pub(super) fn app_config(settings: &Settings, load_demo_data: bool) -> AppConfig {
    let admin_token = std::env::var("CITYPEERS_ADMIN_TOKEN")
        .ok()
        .filter(|token| !token.is_empty());
    AppConfig {
        data_dir: settings.data_dir.clone(),
        vocabulary_dir: settings.vocabulary_dir.clone(),
        load_demo_data,
        admin_token,
        min_free_bytes: settings.min_free_bytes,
        store: settings.store.clone(),
    }
}

/// Opens the service; an index rebuild it needs goes on in the background.
fn open_service(settings: &Settings, load_demo_data: bool) -> Result<App, String> {
    App::open(app_config(settings, load_demo_data)).map_err(|error| match error {
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

/// `citypeers export | head` ends like any other command-line tool when `head` has read
/// enough: Rust ignores SIGPIPE, so printing to the closed pipe would panic instead. Only
/// for the commands that read and print: one that writes (import, migrate, restore…) keeps
/// Rust's default, so that a connection lost on a Unix socket is reported as an error rather
/// than ending the process silently.
fn stop_quietly_when_the_reader_goes() {
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread is started; no
    // handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs a parsed command line; errors are printed and turned into a failing exit code.
pub fn run(cli: Cli) -> ExitCode {
    let is_serve = matches!(cli.command, Command::Serve { .. });
    let only_reads_and_prints = matches!(
        cli.command,
        Command::Export { .. }
            | Command::Search { .. }
            | Command::Match { .. }
            | Command::Eval { .. }
            | Command::Generate { .. }
    );
    if only_reads_and_prints {
        stop_quietly_when_the_reader_goes();
    }
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
            connections,
        } => {
            let addr = addr
                .or_else(|| config.addr.clone())
                .unwrap_or_else(|| DEFAULT_ADDR.to_string());
            let response_cache_mb = response_cache_mb
                .or(config.response_cache_mb)
                .unwrap_or(crate::http::DEFAULT_RESPONSE_CACHE_MIB);
            let limits = Limits::new(
                connections
                    .failed_logins_per_minute
                    .or(config.failed_logins_per_minute)
                    .unwrap_or(10),
                connections
                    .contact_requests_per_minute
                    .or(config.contact_requests_per_minute)
                    .unwrap_or(5),
            )
            .with_response_cache_mib(response_cache_mb)
            .with_connection_limits(connection_limits(&connections, config)?);
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
        Command::Migrate { from, to } => migrate(&from, &to),
        Command::Reindex { data } => {
            let started = Instant::now();
            let settings = settings(&data, config);
            // The index is derived: start from nothing, whatever state its files are in.
            let index_dir = settings.data_dir.join("index");
            if index_dir.exists() {
                std::fs::remove_dir_all(&index_dir)
                    .map_err(|error| format!("cannot remove the old index {}: {error}", index_dir.display()))?;
            }
            // Opening a data directory without an index rebuilds it from the store.
            let app = open_app(&settings, false)?;
            let readiness = app.readiness();
            let records = readiness.indexed_experts + readiness.indexed_cases;
            app.shutdown().map_err(|error| error.to_string())?;
            println!(
                "reindexed {records} records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Backup { output, data, remote } => super::backup::backup(&output, &settings(&data, config), &remote),
        Command::Restore {
            snapshot,
            erasures,
            data,
        } => super::backup::restore_command(&snapshot, &erasures, &settings(&data, config)),
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
            store: settings.store.clone(),
            vocabulary_dir: settings.vocabulary_dir.clone(),
            min_free_bytes: settings.min_free_bytes,
        };
        let app = tokio::task::spawn_blocking(move || open_service(&opening, load_demo_data))
            .await
            .map_err(|error| error.to_string())??;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
        let local = listener.local_addr().map_err(|error| error.to_string())?;
        super::backup::listen_for_control(&app)?;
        let readiness = app.readiness();
        let _ = writeln!(
            std::io::stdout(),
            "citypeers listening on http://{local} (data: {}, {} experts and {} cases indexed)",
            app.store_description(),
            readiness.indexed_experts,
            readiness.indexed_cases
        );
        let _ = std::io::stdout().flush();
        let data_dir = app.data_dir().to_path_buf();
        let served = crate::http::serve(listener, app, limits, shutdown_signal()).await;
        super::backup::stop_listening_for_control(&data_dir);
        served.map_err(|error| error.to_string())?;
        // Whoever started us may have stopped reading: never panic on a closed pipe.
        let _ = writeln!(std::io::stdout(), "citypeers stopped cleanly");
        Ok(())
    })
}

fn migrate(from: &Path, to: &str) -> Result<(), String> {
    let started = Instant::now();
    let report = crate::store::Store::copy_embedded_to_postgres(from, to).map_err(|error| match error {
        crate::store::StoreError::Locked(path) => format!(
            "the data directory {} is in use by a running citypeers server; stop it before migrating",
            path.display()
        ),
        other => other.to_string(),
    })?;
    println!(
        "copied {} experts, {} cases, {} audit entries, {} redirects, {} contact requests, {} erasures and {} tokens to {} in {:.1} s",
        report.experts,
        report.cases,
        report.audit_entries,
        report.redirects,
        report.contact_requests,
        report.erasures,
        report.tokens,
        crate::store::redact_password(to),
        started.elapsed().as_secs_f64()
    );
    println!(
        "start each node with --store {} and its own --data for its index",
        crate::store::redact_password(to)
    );
    Ok(())
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
