//! The PostgreSQL store, for several nodes on one database: the only code that knows
//! PostgreSQL. Records, audit entries and contact requests are sealed with per-record keys
//! like in the embedded store; the keys live in their own table (`cp_keys`), so that erasing a
//! record deletes its key row and vacuums the table. Every write is one database transaction
//! that takes the change-log sequence row first (`FOR UPDATE`), which orders writers of every
//! node and keeps `If-Match` checks inside the transaction. The rest of the service is
//! synchronous: calls run on a small runtime of this store's own (`block`).

mod migrate;
mod schema;
mod write;

pub use migrate::CopyReport;

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::crypto::{KEY_BYTES, KeySlot, PLAINTEXT_SLOT};
use super::snapshot::SnapshotInfo;
use super::{
    AuditEntry, AuditRow, Change, Erasure, FailedLogins, RecordStore, StoreError, StoredContactRequest, StoredToken,
    Transaction, codec,
};
use crate::domain::{Case, Expert, RecordId, RecordKind, Versioned};
use write::PgTx;

/// The channel nodes are told about new changes on.
const CHANGES_CHANNEL: &str = "citypeers_changes";
/// Database connections per node (besides the one that listens): writes take turns anyway,
/// and public reads come from the node's cache, so a few serve a busy node, and ten nodes stay
/// well inside PostgreSQL's default of 100 connections.
const POOL_SIZE: usize = 8;
/// Rows read at a time when scanning every record.
const SCAN_PAGE: i64 = 1_000;
/// A node unseen for this long no longer holds back pruning of the change log; it rebuilds
/// its index when it comes back.
const NODE_RETENTION: &str = "7 days";

/// Turns a database error into a store error: a full disk stays recognisable, a lost
/// connection says the database is unreachable.
pub(super) fn pg_error(error: tokio_postgres::Error) -> StoreError {
    if let Some(code) = error.code() {
        if *code == SqlState::DISK_FULL || *code == SqlState::OUT_OF_MEMORY {
            return StoreError::Full(error.to_string());
        }
        return StoreError::Engine(format!("{error} ({})", code.code()));
    }
    if error.is_closed() {
        return StoreError::Unreachable(format!("the database connection closed: {error}"));
    }
    StoreError::Unreachable(error.to_string())
}

fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => pg_error(error),
        other => StoreError::Unreachable(format!("no database connection: {other}")),
    }
}

pub(super) fn kind_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Expert => "expert",
        RecordKind::Case => "case",
    }
}

fn kind_from_name(name: &str) -> Option<RecordKind> {
    match name {
        "expert" => Some(RecordKind::Expert),
        "case" => Some(RecordKind::Case),
        _ => None,
    }
}

/// The associated data a record's envelope is sealed with (it cannot be moved to another row).
pub(super) fn record_aad(kind: RecordKind, id: &RecordId) -> Vec<u8> {
    format!("record/{}/{}", kind_name(kind), id).into_bytes()
}

pub(super) fn audit_aad(kind: RecordKind, id: &RecordId, seq: u64) -> Vec<u8> {
    format!("audit/{}/{}/{seq}", kind_name(kind), id).into_bytes()
}

pub(super) fn contact_aad(id: &str) -> Vec<u8> {
    format!("contact/{id}").into_bytes()
}

pub(super) fn slot_value(slot: KeySlot) -> i64 {
    slot as i64
}

/// Opens an envelope with the key read beside it; `None` when the key was destroyed.
pub(super) fn unseal(associated: &[u8], envelope: &[u8], key: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, StoreError> {
    let slot = codec::envelope_slot(envelope)?;
    if slot == PLAINTEXT_SLOT {
        return codec::open_envelope(None, associated, envelope).map(Some);
    }
    let Some(key) = key else {
        return Ok(None);
    };
    let key: [u8; KEY_BYTES] = key
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("key slot {slot} has a key of the wrong length")))?;
    codec::open_envelope(Some(&key), associated, envelope).map(Some)
}

/// Reads a record row (`envelope`, `key`, `slot`) for `kind` and `id`.
pub(super) const RECORD_QUERY: &str = "SELECT r.envelope, k.key, r.slot FROM cp_records r LEFT JOIN cp_keys k ON k.slot = r.slot WHERE r.kind = $1 AND r.id = $2";

pub(super) fn decode_record_row<T>(
    kind: RecordKind,
    id: &RecordId,
    row: &Row,
    decode: fn(&[u8]) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let envelope: Vec<u8> = row.get(0);
    let key: Option<Vec<u8>> = row.get(1);
    match unseal(&record_aad(kind, id), &envelope, key)? {
        Some(plaintext) => decode(&plaintext).map(Some),
        None => Ok(None),
    }
}

pub(super) fn decode_contact_row(row: &Row) -> Result<Option<StoredContactRequest>, StoreError> {
    let id: String = row.get(0);
    let envelope: Vec<u8> = row.get(1);
    let key: Option<Vec<u8>> = row.get(2);
    match unseal(&contact_aad(&id), &envelope, key)? {
        Some(plaintext) => codec::decode_contact_request(&plaintext).map(Some),
        None => Ok(None),
    }
}

/// The store over one PostgreSQL database; cheap to share between threads.
pub struct PgStore {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// This node's name in `cp_nodes` (how far its index got, for pruning the change log).
    node: String,
    /// Woken when another node commits a change (LISTEN), taken once by the follower.
    change_signal: Mutex<Option<Receiver<()>>>,
    /// The highest sequence seen (read or committed here): `last_seq_hint` without a query.
    known_seq: AtomicU64,
}

impl PgStore {
    /// Connects to `url`, migrates the schema (safe when several nodes start at once) and
    /// starts listening for other nodes' changes. `node` names this node's index.
    pub fn open(url: &str, node: &str) -> Result<PgStore, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(StoreError::Io)?;
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.to_string());
        config.connect_timeout = Some(Duration::from_secs(10));
        config.application_name = Some(format!("citypeers {node}"));
        config.pool = Some(deadpool_postgres::PoolConfig {
            max_size: POOL_SIZE,
            timeouts: deadpool_postgres::Timeouts {
                wait: Some(Duration::from_secs(30)),
                create: Some(Duration::from_secs(10)),
                recycle: Some(Duration::from_secs(10)),
            },
            ..deadpool_postgres::PoolConfig::default()
        });
        let pool = config
            .create_pool(Some(deadpool_postgres::Runtime::Tokio1), NoTls)
            .map_err(|error| StoreError::Unreachable(format!("the database address is not usable: {error}")))?;
        let (signal, change_signal) = std::sync::mpsc::sync_channel(1);
        let store = PgStore {
            runtime: Some(runtime),
            pool,
            node: node.to_string(),
            change_signal: Mutex::new(Some(change_signal)),
            known_seq: AtomicU64::new(0),
        };
        store.block(async {
            let mut client = store.client().await?;
            schema::migrate(&mut client).await
        })?;
        store.listen_for_changes(url, signal)?;
        Ok(store)
    }

    /// Runs a database call to its end from synchronous code (any thread, a runtime's
    /// included: the work runs on this store's own runtime).
    fn block<F: Future>(&self, work: F) -> F::Output {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let _entered = runtime.enter();
        futures_executor::block_on(work)
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// A dedicated connection that LISTENs for other nodes' commits and signals the follower;
    /// it reconnects after a lost connection (the follower also polls, so nothing is missed).
    fn listen_for_changes(&self, url: &str, signal: SyncSender<()>) -> Result<(), StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|error| StoreError::Unreachable(format!("the database address is not usable: {error}")))?;
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        runtime.spawn(async move {
            loop {
                if let Err(error) = listen_once(&config, &signal).await {
                    tracing::warn!(%error, "listening for changes of other nodes failed; reconnecting");
                }
                // Whatever was missed while disconnected is caught up at the follower's next look.
                if let Err(std::sync::mpsc::TrySendError::Disconnected(())) = signal.try_send(()) {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Ok(())
    }

    fn query_rows(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        self.block(async {
            let client = self.client().await?;
            client.query(sql, params).await.map_err(pg_error)
        })
    }

    fn execute(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<u64, StoreError> {
        self.block(async {
            let client = self.client().await?;
            client.execute(sql, params).await.map_err(pg_error)
        })
    }

    fn read_record<T>(
        &self,
        kind: RecordKind,
        id: &RecordId,
        decode: fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let rows = self.query_rows(RECORD_QUERY, &[&kind_name(kind), &id.as_str()])?;
        match rows.first() {
            Some(row) => decode_record_row(kind, id, row, decode),
            None => Ok(None),
        }
    }

    /// Every record of a kind in id order, a page at a time.
    fn scan_records<T>(
        &self,
        kind: RecordKind,
        decode: fn(&[u8]) -> Result<T, StoreError>,
        visit: &mut dyn FnMut(T) -> bool,
    ) -> Result<(), StoreError> {
        let mut after = String::new();
        loop {
            let rows = self.query_rows(
                "SELECT r.id, r.envelope, k.key FROM cp_records r LEFT JOIN cp_keys k ON k.slot = r.slot \
                 WHERE r.kind = $1 AND r.id > $2 ORDER BY r.id LIMIT $3",
                &[&kind_name(kind), &after, &SCAN_PAGE],
            )?;
            for row in &rows {
                let id: String = row.get(0);
                let record_id = RecordId::parse(&id).map_err(|_| StoreError::Corrupt(format!("bad record id {id}")))?;
                let envelope: Vec<u8> = row.get(1);
                let key: Option<Vec<u8>> = row.get(2);
                if let Some(plaintext) = unseal(&record_aad(kind, &record_id), &envelope, key)?
                    && !visit(decode(&plaintext)?)
                {
                    return Ok(());
                }
                after = id;
            }
            if (rows.len() as i64) < SCAN_PAGE {
                return Ok(());
            }
        }
    }

    /// The sequence through which the change log was pruned: an index covering less must be
    /// rebuilt, since the changes it misses are gone.
    pub fn pruned_through(&self) -> Result<u64, StoreError> {
        let rows = self.query_rows("SELECT value FROM cp_meta WHERE name = 'pruned_through'", &[])?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    /// Notes a sequence read or committed here (see `known_seq`).
    pub(super) fn saw_seq(&self, seq: u64) {
        self.known_seq.fetch_max(seq, Ordering::SeqCst);
    }

    /// Takes the signal that another node committed changes (once; later calls get `None`).
    pub fn take_change_signal(&self) -> Option<Receiver<()>> {
        self.change_signal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Makes an erased key's bytes unreachable on disk: `VACUUM FULL` rewrites the key table
    /// into new files without the deleted rows (it cannot run inside a transaction).
    fn vacuum_keys(&self) -> Result<(), StoreError> {
        self.execute("VACUUM FULL cp_keys", &[]).map(|_| ())
    }
}

async fn listen_once(config: &tokio_postgres::Config, signal: &SyncSender<()>) -> Result<(), StoreError> {
    use futures_util::StreamExt;
    let (client, mut connection) = config.connect(NoTls).await.map_err(pg_error)?;
    let (messages, mut received) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |context| connection.poll_message(context));
        while let Some(message) = stream.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                    if messages.send(()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "the change listener's connection failed");
                    return;
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
        .await
        .map_err(pg_error)?;
    while received.recv().await.is_some() {
        match signal.try_send(()) {
            Ok(()) | Err(std::sync::mpsc::TrySendError::Full(())) => {}
            Err(std::sync::mpsc::TrySendError::Disconnected(())) => break,
        }
    }
    driver.abort();
    Ok(())
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl RecordStore for PgStore {
    fn last_seq(&self) -> Result<u64, StoreError> {
        let rows = self.query_rows("SELECT value FROM cp_meta WHERE name = 'seq'", &[])?;
        let seq = rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64);
        self.saw_seq(seq);
        Ok(seq)
    }

    fn last_seq_hint(&self) -> u64 {
        self.known_seq.load(Ordering::SeqCst)
    }

    fn expert(&self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        self.read_record(RecordKind::Expert, id, codec::decode_expert)
    }

    fn case(&self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        self.read_record(RecordKind::Case, id, codec::decode_case)
    }

    fn contains(&self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError> {
        let rows = self.query_rows(
            "SELECT 1 FROM cp_records WHERE kind = $1 AND id = $2",
            &[&kind_name(kind), &id.as_str()],
        )?;
        Ok(!rows.is_empty())
    }

    fn count(&self, kind: RecordKind) -> Result<u64, StoreError> {
        let rows = self.query_rows("SELECT count(*) FROM cp_records WHERE kind = $1", &[&kind_name(kind)])?;
        Ok(rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    fn scan_experts(&self, visit: &mut dyn FnMut(Versioned<Expert>) -> bool) -> Result<(), StoreError> {
        self.scan_records(RecordKind::Expert, codec::decode_expert, visit)
    }

    fn scan_cases(&self, visit: &mut dyn FnMut(Versioned<Case>) -> bool) -> Result<(), StoreError> {
        self.scan_records(RecordKind::Case, codec::decode_case, visit)
    }

    fn changes_after(&self, seq: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let rows = self.query_rows(
            "SELECT seq, kind, id, erased FROM cp_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&(seq as i64), &(limit as i64)],
        )?;
        rows.iter()
            .map(|row| {
                let seq = row.get::<_, i64>(0) as u64;
                let corrupt = || StoreError::Corrupt(format!("bad change-log entry {seq}"));
                let kind = kind_from_name(row.get(1)).ok_or_else(corrupt)?;
                let id = RecordId::parse(row.get(2)).map_err(|_| corrupt())?;
                Ok(Change {
                    seq,
                    kind,
                    id,
                    erased: row.get(3),
                })
            })
            .collect()
    }

    /// Records how far this node's index got and forgets change-log entries every node
    /// seen lately has covered.
    fn prune_changes_through(&self, seq: u64) -> Result<(), StoreError> {
        let covered = seq as i64;
        self.block(async {
            let mut client = self.client().await?;
            let transaction = client.transaction().await.map_err(pg_error)?;
            transaction
                .execute(
                    "INSERT INTO cp_nodes (node, covered, seen) VALUES ($1, $2, now()) \
                     ON CONFLICT (node) DO UPDATE SET covered = excluded.covered, seen = now()",
                    &[&self.node, &covered],
                )
                .await
                .map_err(pg_error)?;
            let sql = format!(
                "WITH horizon AS (SELECT min(covered) AS through FROM cp_nodes WHERE seen > now() - interval '{NODE_RETENTION}') \
                 DELETE FROM cp_changes WHERE seq <= (SELECT through FROM horizon)"
            );
            transaction.execute(&sql, &[]).await.map_err(pg_error)?;
            let sql = format!(
                "UPDATE cp_meta SET value = greatest(value, coalesce((SELECT min(covered) FROM cp_nodes \
                 WHERE seen > now() - interval '{NODE_RETENTION}'), 0)) WHERE name = 'pruned_through'"
            );
            transaction.execute(&sql, &[]).await.map_err(pg_error)?;
            transaction.commit().await.map_err(pg_error)
        })
    }

    fn redirect(&self, kind: RecordKind, id: &RecordId) -> Result<Option<RecordId>, StoreError> {
        let rows = self.query_rows(
            "SELECT to_id FROM cp_redirects WHERE kind = $1 AND from_id = $2",
            &[&kind_name(kind), &id.as_str()],
        )?;
        Ok(rows.first().and_then(|row| RecordId::parse(row.get(0)).ok()))
    }

    fn audit_entries(&self, kind: RecordKind, id: &RecordId) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.query_rows(
            "SELECT a.seq, a.envelope, k.key FROM cp_audit a LEFT JOIN cp_keys k ON k.slot = a.slot \
             WHERE a.kind = $1 AND a.id = $2 ORDER BY a.seq",
            &[&kind_name(kind), &id.as_str()],
        )?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq = row.get::<_, i64>(0) as u64;
            if let Some(plaintext) = unseal(&audit_aad(kind, id, seq), &row.get::<_, Vec<u8>>(1), row.get(2))? {
                entries.push(codec::decode_audit(&plaintext)?);
            }
        }
        Ok(entries)
    }

    fn scan_audit(&self, visit: &mut dyn FnMut(AuditRow) -> bool) -> Result<(), StoreError> {
        let rows = self.query_rows(
            "SELECT a.kind, a.id, a.seq, a.slot, a.envelope, k.key FROM cp_audit a LEFT JOIN cp_keys k ON k.slot = a.slot \
             ORDER BY a.kind, a.id, a.seq",
            &[],
        )?;
        for row in &rows {
            let corrupt = || StoreError::Corrupt("bad audit row".into());
            let kind = kind_from_name(row.get(0)).ok_or_else(corrupt)?;
            let id = RecordId::parse(row.get(1)).map_err(|_| corrupt())?;
            let seq = row.get::<_, i64>(2) as u64;
            let in_clear = row.get::<_, i64>(3) == slot_value(PLAINTEXT_SLOT);
            let Some(plaintext) = unseal(&audit_aad(kind, &id, seq), &row.get::<_, Vec<u8>>(4), row.get(5))? else {
                continue;
            };
            let entry = codec::decode_audit(&plaintext)?;
            if !visit(AuditRow {
                kind,
                id,
                entry,
                in_clear,
            }) {
                break;
            }
        }
        Ok(())
    }

    fn redirects(&self) -> Result<Vec<(RecordKind, RecordId, RecordId)>, StoreError> {
        let rows = self.query_rows(
            "SELECT kind, from_id, to_id FROM cp_redirects ORDER BY kind, from_id",
            &[],
        )?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let kind = kind_from_name(row.get(0))?;
                Some((
                    kind,
                    RecordId::parse(row.get(1)).ok()?,
                    RecordId::parse(row.get(2)).ok()?,
                ))
            })
            .collect())
    }

    fn contact_requests(&self) -> Result<Vec<StoredContactRequest>, StoreError> {
        let rows = self.query_rows(
            "SELECT c.id, c.envelope, k.key FROM cp_contact_requests c LEFT JOIN cp_keys k ON k.slot = c.slot ORDER BY c.seq",
            &[],
        )?;
        let mut requests = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(request) = decode_contact_row(row)? {
                requests.push(request);
            }
        }
        requests.sort_by(|left, right| left.received_at.cmp(&right.received_at).then(left.id.cmp(&right.id)));
        Ok(requests)
    }

    fn put_token(&self, token: &StoredToken) -> Result<(), StoreError> {
        let body = serde_json::to_vec(token)?;
        self.execute(
            "INSERT INTO cp_tokens (name, body) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET body = excluded.body",
            &[&token.name, &body],
        )
        .map(|_| ())
    }

    fn remove_token(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.execute("DELETE FROM cp_tokens WHERE name = $1", &[&name])? > 0)
    }

    fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = self.query_rows("SELECT body FROM cp_tokens ORDER BY name", &[])?;
        rows.iter()
            .map(|row| Ok(serde_json::from_slice(&row.get::<_, Vec<u8>>(0))?))
            .collect()
    }

    /// Every acknowledged write is committed already.
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn snapshot(&self, _out: &mut dyn std::io::Write) -> Result<(SnapshotInfo, u64), StoreError> {
        Err(StoreError::Unsupported(
            "snapshots are for the embedded store; back up PostgreSQL with its own tools (pg_dump, or base backups with WAL archiving)"
                .into(),
        ))
    }

    fn erasures(&self) -> Result<Vec<Erasure>, StoreError> {
        let rows = self.query_rows("SELECT body FROM cp_erasures ORDER BY seq", &[])?;
        rows.iter()
            .map(|row| Ok(serde_json::from_slice(&row.get::<_, Vec<u8>>(0))?))
            .collect()
    }

    fn begin(&self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(PgTx::begin(self)?))
    }

    fn pruned_through(&self) -> Result<u64, StoreError> {
        PgStore::pruned_through(self)
    }

    fn take_change_signal(&self) -> Option<Receiver<()>> {
        PgStore::take_change_signal(self)
    }

    /// One-minute windows counted in the database, so the limit holds across nodes; windows
    /// older than an hour are dropped as new ones are counted.
    fn note_failed_login(&self, client: &str) -> Result<Option<FailedLogins>, StoreError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let window_start = now - now.rem_euclid(60);
        let rows = self.query_rows(
            "WITH counted AS (INSERT INTO cp_failed_logins (client, window_start, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (client, window_start) DO UPDATE SET attempts = cp_failed_logins.attempts + 1 \
             RETURNING attempts), \
             forgotten AS (DELETE FROM cp_failed_logins WHERE window_start < $2 - 3600) \
             SELECT attempts FROM counted",
            &[&client, &window_start],
        )?;
        let attempts = rows.first().map_or(1, |row| row.get::<_, i64>(0) as u64);
        Ok(Some(FailedLogins {
            attempts,
            window_ends_in_seconds: (window_start + 60 - now).max(1) as u64,
        }))
    }
}
