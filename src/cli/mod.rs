//! The command line (`citypeers …`): argument parsing with clap, settings (defaults < config
//! file < CITYPEERS_* environment < flags), and each command calling into the library.

mod backup;
mod commands;
mod queries;
mod remote;
mod transfer;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use commands::run;

#[derive(Parser, Debug)]
#[command(
    name = "citypeers",
    version,
    about = "Peer-consultant matching for municipal practitioners"
)]
pub struct Cli {
    /// A TOML file with settings (data, addr, vocabulary); environment and flags override it.
    #[arg(long, global = true, env = "CITYPEERS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The data directory (store and index) [default: ./data]
    #[arg(long, env = "CITYPEERS_DATA")]
    pub data: Option<PathBuf>,
    /// A folder with topics.toml, regions.toml and ranking.toml to use instead of the built-in ones.
    #[arg(long, env = "CITYPEERS_VOCABULARY")]
    pub vocabulary: Option<PathBuf>,
    /// Refuse writes (507) while less than this much disk space, in MiB, would remain [default: 64]
    #[arg(long, env = "CITYPEERS_MIN_FREE_MB")]
    pub min_free_mb: Option<u64>,
    /// Keep the records in PostgreSQL (postgres://USER@HOST:PORT/DB), shared by several nodes;
    /// --data then holds only this node's index. Without it, the embedded store in --data.
    #[arg(long, env = "CITYPEERS_STORE")]
    pub store: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RemoteArgs {
    /// Talk to a running server's API instead of opening a data directory (http only).
    #[arg(long, conflicts_with = "data")]
    pub url: Option<String>,
    /// The admin token for --url (or CITYPEERS_TOKEN / CITYPEERS_ADMIN_TOKEN).
    #[arg(long, env = "CITYPEERS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Timeouts and the connection cap of `serve`.
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// Seconds a client may take to send a request's head [default: 10]
    #[arg(long, env = "CITYPEERS_HEADER_TIMEOUT")]
    pub header_timeout: Option<u64>,
    /// Seconds a request body may pause before the request is cut (408) [default: 60]
    #[arg(long, env = "CITYPEERS_BODY_TIMEOUT")]
    pub body_timeout: Option<u64>,
    /// Seconds a keep-alive connection may wait for its next request [default: 75]
    #[arg(long, env = "CITYPEERS_IDLE_TIMEOUT")]
    pub idle_timeout: Option<u64>,
    /// Connections served at once; more wait to be accepted [default: 1024, lowered to fit the open-files limit]
    #[arg(long, env = "CITYPEERS_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Failed admin sign-ins allowed per client address and minute before 429 [default: 10]
    #[arg(long, env = "CITYPEERS_FAILED_LOGINS_PER_MINUTE")]
    pub failed_logins_per_minute: Option<u32>,
    /// Public contact requests allowed per client address and minute before 429 [default: 5]
    #[arg(long, env = "CITYPEERS_CONTACT_REQUESTS_PER_MINUTE")]
    pub contact_requests_per_minute: Option<u32>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Topic or area id (repeatable).
    #[arg(long = "topic")]
    pub topics: Vec<String>,
    /// Region slug: any UN M49 level or `mena` (repeatable).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// ISO 3166-1 alpha-2 country (repeatable).
    #[arg(long = "country")]
    pub countries: Vec<String>,
    /// ISO 639-1 language (repeatable).
    #[arg(long = "language")]
    pub languages: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API (and the demo data on an empty data directory).
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "CITYPEERS_ADDR")]
        addr: Option<String>,
        /// Do not load the built-in demo data into an empty data directory.
        #[arg(long)]
        empty: bool,
        /// Memory for cached answers to repeated public requests, in MiB; 0 turns the cache off [default: 64]
        #[arg(long, env = "CITYPEERS_RESPONSE_CACHE_MB")]
        response_cache_mb: Option<u64>,
        #[command(flatten)]
        connections: ConnectionArgs,
    },
    /// Import experts or cases from a JSON array (.json), JSON Lines (.jsonl) or CSV (.csv) file.
    Import {
        file: PathBuf,
        /// experts or cases [default: from the file name, else from the first record]
        #[arg(long)]
        kind: Option<String>,
        /// json, jsonl or csv [default: from the file extension]
        #[arg(long)]
        format: Option<String>,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Export every expert or case as JSON Lines with every field.
    Export {
        #[arg(long)]
        kind: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Search published experts (or cases with --cases).
    Search {
        /// Free text, any language.
        query: Vec<String>,
        #[command(flatten)]
        filters: FilterArgs,
        /// Search practice cases instead of experts.
        #[arg(long)]
        cases: bool,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Rank peer consultants for a challenge.
    Match {
        /// The challenge, free text in any language.
        challenge: Vec<String>,
        #[arg(long = "topic")]
        topics: Vec<String>,
        #[arg(long = "language")]
        languages: Vec<String>,
        #[arg(long = "region")]
        regions: Vec<String>,
        /// The requester's city (left out of the matches, with --country).
        #[arg(long)]
        city: Option<String>,
        #[arg(long)]
        country: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: i64,
        /// Language of the reasons: en, de, fr, es or pt.
        #[arg(long)]
        lang: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Write a consistent snapshot of the store and its keys to OUT (also while a server runs).
    Backup {
        /// The snapshot file to write.
        output: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Restore a snapshot into a new data directory (--data), applying erasures made later.
    Restore {
        /// The snapshot to restore.
        snapshot: PathBuf,
        /// A newer snapshot or erasure list whose erasures are applied too (repeatable);
        /// other snapshots in the snapshot's folder are read as well.
        #[arg(long = "erasures")]
        erasures: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Copy an embedded data directory (records, audit trail, tokens, contact requests,
    /// redirects, erasures) into an empty PostgreSQL database, for running several nodes.
    Migrate {
        /// The data directory to copy (stop the server that uses it first).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database (postgres://USER@HOST:PORT/DB), created beforehand and empty.
        #[arg(long)]
        to: String,
    },
    /// Rebuild the search index from the store.
    Reindex {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Manage admin tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Measure ranking quality on a judged set (see fixtures/eval/README.md).
    Eval {
        file: PathBuf,
        /// How many of the weakest requests to list.
        #[arg(long, default_value_t = 5)]
        weakest: usize,
        /// Also print every request's scores.
        #[arg(long)]
        verbose: bool,
        /// Exit with an error when match or search nDCG@10 is below this.
        #[arg(long)]
        min_ndcg: Option<f64>,
        /// Evaluate with the vocabulary and ranking settings in this folder instead of the
        /// built-in ones (to try changes to index/*.toml without rebuilding).
        #[arg(long)]
        vocabulary: Option<PathBuf>,
    },
    /// Write realistic synthetic experts and cases as JSON Lines.
    Generate {
        #[arg(long, default_value_t = 1000)]
        experts: u64,
        #[arg(long, default_value_t = 300)]
        cases: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write experts.jsonl and cases.jsonl into this folder; without it, experts then
        /// cases go to standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create a token; its secret is printed once and only its hash is kept.
    Create {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List token names.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token.
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

impl TokenAction {
    pub fn data(&self) -> &DataArgs {
        match self {
            TokenAction::Create { data, .. } | TokenAction::List { data } | TokenAction::Revoke { data, .. } => data,
        }
    }
}
