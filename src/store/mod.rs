//! The store: the source of truth, behind one interface (`RecordStore` and its write
//! `Transaction`) with an embedded implementation over sled (`embedded/`). Versioned records,
//! a change log numbered by sequence that indexers catch up from, the audit trail, contact
//! requests, merge redirects and admin tokens. Every write is one atomic transaction, durable
//! before it is acknowledged. Personal data is sealed with a key per record (`crypto`), so that
//! destroying the key erases every old copy of it.

mod codec;
pub(crate) mod crypto;
mod embedded;
mod postgres;
pub mod snapshot;

use std::path::{Path, PathBuf};

pub use codec::{AuditAction, AuditEntry, ContactStatus, FieldChange, StatusChange, StoredContactRequest, StoredToken};
pub use embedded::SledStore;
pub use postgres::{CopyReport, PgStore};
pub use snapshot::SnapshotInfo;

/// The disk space writes leave free unless configured.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 64 << 20;

use crate::domain::{Case, ContactRequest, Expert, RecordId, RecordKind, Timestamp, Versioned};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {0} is in use by another citypeers process")]
    Locked(PathBuf),
    #[error("the data directory {0} cannot be used: {1}")]
    NotWritable(PathBuf, String),
    #[error("no space left for the data directory: {0}")]
    Full(String),
    #[error("storage engine: {0}")]
    Engine(String),
    /// The database cannot be reached (the PostgreSQL store); nothing was written.
    #[error("the database is unreachable: {0}")]
    Unreachable(String),
    /// What this kind of store does not do (snapshots of a PostgreSQL store).
    #[error("{0}")]
    Unsupported(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}

impl StoreError {
    /// An I/O error, told apart when it means the disk is full.
    pub fn from_io(error: std::io::Error) -> StoreError {
        if is_disk_full(&error) {
            StoreError::Full(error.to_string())
        } else {
            StoreError::Io(error)
        }
    }
}

/// Whether an I/O error says the disk (or the quota) is full.
pub fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || error.raw_os_error() == Some(28)
}

/// That a record was erased, without what it held: the kept erasure list, applied again when
/// an older snapshot is restored. The id is kept only as a salted SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Erasure {
    pub kind: String,
    pub id_sha256: String,
    pub at: String,
    pub seq: u64,
}

impl Erasure {
    /// The erasure of a record, made now with the sequence it took.
    pub fn of(kind: RecordKind, id: &RecordId, seq: u64) -> Erasure {
        Erasure {
            kind: kind.plural().to_string(),
            id_sha256: erasure_hash(kind, id),
            at: crate::wire::format_time(time::OffsetDateTime::now_utc()),
            seq,
        }
    }
}

/// A record as a write transaction left it (what it hands the indexer at commit).
pub(crate) enum Staged {
    Expert(Box<Versioned<Expert>>),
    Case(Box<Versioned<Case>>),
    Removed,
}

/// The records a transaction staged, as the indexer takes them.
pub(crate) fn written_records(staged: std::collections::HashMap<(RecordKind, RecordId), Staged>) -> Vec<Written> {
    staged
        .into_iter()
        .map(|((kind, id), staged)| match staged {
            Staged::Expert(expert) => Written::Expert(expert),
            Staged::Case(case) => Written::Case(case),
            Staged::Removed => Written::Removed(kind, id),
        })
        .collect()
}

/// The hash an erasure keeps of a record's kind and id.
pub fn erasure_hash(kind: RecordKind, id: &RecordId) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("citypeers erasure\0{}\0{}", kind.plural(), id).as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Failed logins of one client in the current one-minute window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailedLogins {
    pub attempts: u64,
    pub window_ends_in_seconds: u64,
}

/// One audit entry with the record it belongs to.
pub struct AuditRow {
    pub kind: RecordKind,
    pub id: RecordId,
    pub entry: AuditEntry,
    /// Stored without the record's key (erasure notes), so that it survives erasure.
    pub in_clear: bool,
}

/// One change of a record, in the order the store applied it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub seq: u64,
    pub kind: RecordKind,
    pub id: RecordId,
    /// The record was erased: its text must also leave the index files.
    pub erased: bool,
}

/// The result of a write transaction and the changes it made.
pub struct Committed<T> {
    pub value: T,
    pub changes: Vec<Change>,
    /// The records as this write left them (the last state of each), so that an indexer can
    /// take them without reading them back.
    pub written: Vec<Written>,
    /// The sequence numbers the write took, first to last (0 and 0 when none).
    pub first_seq: u64,
    pub last_seq: u64,
}

/// A record as a write left it.
#[derive(Clone, Debug)]
pub enum Written {
    Expert(Box<Versioned<Expert>>),
    Case(Box<Versioned<Case>>),
    Removed(RecordKind, RecordId),
}

impl Written {
    pub fn kind(&self) -> RecordKind {
        match self {
            Written::Expert(_) => RecordKind::Expert,
            Written::Case(_) => RecordKind::Case,
            Written::Removed(kind, _) => *kind,
        }
    }

    pub fn id(&self) -> &RecordId {
        match self {
            Written::Expert(expert) => &expert.record.id,
            Written::Case(case) => &case.record.id,
            Written::Removed(_, id) => id,
        }
    }
}

/// What the changes of one transaction are, when it commits.
pub struct TransactionOutcome {
    pub changes: Vec<Change>,
    pub written: Vec<Written>,
    /// The sequence numbers this transaction took, first to last (0 and 0 when none).
    pub first_seq: u64,
    pub last_seq: u64,
}

/// Reading the truth. Implementations are cheap to share between threads.
pub trait RecordStore: Send + Sync {
    /// The sequence number of the last acknowledged change.
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// The last sequence known without asking anyone (a shared store's may lag behind other
    /// nodes' writes for as long as this node takes to hear of them); for cache keys.
    fn last_seq_hint(&self) -> u64 {
        self.last_seq().unwrap_or(u64::MAX)
    }
    fn expert(&self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError>;
    fn case(&self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError>;
    fn contains(&self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError>;
    fn count(&self, kind: RecordKind) -> Result<u64, StoreError>;
    /// How many records of `kind` there are, counting no further than `limit`: whether a
    /// store is small, without reading all of a large one.
    fn count_up_to(&self, kind: RecordKind, limit: u64) -> Result<u64, StoreError> {
        Ok(self.count(kind)?.min(limit))
    }
    /// Calls `visit` with every expert in id order until it returns false.
    fn scan_experts(&self, visit: &mut dyn FnMut(Versioned<Expert>) -> bool) -> Result<(), StoreError>;
    /// Calls `visit` with every case in id order until it returns false.
    fn scan_cases(&self, visit: &mut dyn FnMut(Versioned<Case>) -> bool) -> Result<(), StoreError>;
    /// At most `limit` changes after `seq`, oldest first.
    fn changes_after(&self, seq: u64, limit: usize) -> Result<Vec<Change>, StoreError>;
    /// Forgets change-log entries up to `seq` once every index has committed them.
    fn prune_changes_through(&self, seq: u64) -> Result<(), StoreError>;
    /// Where a merged record went.
    fn redirect(&self, kind: RecordKind, id: &RecordId) -> Result<Option<RecordId>, StoreError>;
    /// The audit trail of one record, oldest first.
    fn audit_entries(&self, kind: RecordKind, id: &RecordId) -> Result<Vec<AuditEntry>, StoreError>;
    /// Every audit entry of every record (erased and deleted ones included), with whether it
    /// is stored in the clear, until `visit` returns false (copying a store to another).
    fn scan_audit(&self, visit: &mut dyn FnMut(AuditRow) -> bool) -> Result<(), StoreError>;
    /// Every merge redirect: kind, merged id, kept id.
    fn redirects(&self) -> Result<Vec<(RecordKind, RecordId, RecordId)>, StoreError>;
    /// Every stored contact request, oldest first.
    fn contact_requests(&self) -> Result<Vec<StoredContactRequest>, StoreError>;
    fn put_token(&self, token: &StoredToken) -> Result<(), StoreError>;
    fn remove_token(&self, name: &str) -> Result<bool, StoreError>;
    fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;
    /// Makes everything written so far durable (used at shutdown).
    fn flush(&self) -> Result<(), StoreError>;
    /// Writes a consistent snapshot (every entry and key as of one sequence) to `out`;
    /// writes wait meanwhile. Returns what it holds and its size in bytes.
    fn snapshot(&self, out: &mut dyn std::io::Write) -> Result<(SnapshotInfo, u64), StoreError>;
    /// Every erasure this store has made, oldest first.
    fn erasures(&self) -> Result<Vec<Erasure>, StoreError>;
    /// Starts the one write transaction; it holds the store's write lock until it ends.
    fn begin(&self) -> Result<Box<dyn Transaction + '_>, StoreError>;
    /// The sequence through which the change log was pruned while this node may not have
    /// read it (other nodes prune too): an index covering less must be rebuilt.
    fn pruned_through(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
    /// Counts a failed admin login from `client` in the current minute, for stores shared by
    /// several nodes; `None` where one process holds the store (it counts in memory).
    fn note_failed_login(&self, _client: &str) -> Result<Option<FailedLogins>, StoreError> {
        Ok(None)
    }
    /// A signal that other nodes wrote, for a store shared between nodes (taken once).
    fn take_change_signal(&self) -> Option<std::sync::mpsc::Receiver<()>> {
        None
    }
}

/// One write: reads see the transaction's own staged writes; `commit` applies all of them
/// atomically and durably, or none when the transaction is dropped.
pub trait Transaction {
    fn expert(&mut self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError>;
    fn case(&mut self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError>;
    fn contains(&mut self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError>;
    /// Ids of the cases that name an expert among their contacts.
    fn cases_naming(&mut self, expert: &RecordId) -> Result<Vec<RecordId>, StoreError>;
    /// Ids of the records merged into `id` (whose redirects point at it).
    fn merged_into(&mut self, kind: RecordKind, id: &RecordId) -> Result<Vec<RecordId>, StoreError>;
    /// Says which records the transaction is about to read, so that a store with round trips
    /// can fetch them at once (a bulk import's chunk); reads stay correct without it.
    fn prefetch(&mut self, _kind: RecordKind, _ids: &[RecordId]) -> Result<(), StoreError> {
        Ok(())
    }
    fn put_expert(&mut self, expert: Versioned<Expert>) -> Result<(), StoreError>;
    fn put_case(&mut self, case: Versioned<Case>) -> Result<(), StoreError>;
    /// Removes a record; its audit trail stays readable.
    fn delete(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError>;
    /// Removes a record, its audit trail, its redirects and (for experts) the contact requests
    /// about it, and destroys its key so that no old copy of its bytes can be read again.
    fn erase(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError>;
    /// Appends to a record's audit trail, sealed with the record's key; `in_clear` entries
    /// carry no personal data (erasure notes) and survive erasure.
    fn append_audit(
        &mut self,
        kind: RecordKind,
        id: &RecordId,
        entry: &AuditEntry,
        in_clear: bool,
    ) -> Result<(), StoreError>;
    fn put_redirect(&mut self, kind: RecordKind, from: &RecordId, to: &RecordId) -> Result<(), StoreError>;
    /// Stores a new contact request, sealed with the expert's key.
    fn add_contact_request(
        &mut self,
        request: ContactRequest,
        received_at: Timestamp,
    ) -> Result<StoredContactRequest, StoreError>;
    fn contact_request(&mut self, id: &str) -> Result<Option<StoredContactRequest>, StoreError>;
    /// Replaces a stored contact request (its status and history).
    fn update_contact_request(&mut self, stored: &StoredContactRequest) -> Result<(), StoreError>;
    /// Applies the staged writes atomically and durably.
    fn commit(self: Box<Self>) -> Result<TransactionOutcome, StoreError>;
}

/// The write transaction as use cases see it.
pub type WriteTx<'a> = dyn Transaction + 'a;

/// The store the service runs on; derefs to its `RecordStore`.
pub struct Store {
    backend: Box<dyn RecordStore>,
    description: String,
}

impl Store {
    /// Writes a snapshot into a new embedded store in `dir` (which must hold none yet),
    /// verifying its checksum; nothing is left in `dir` when it fails.
    pub fn restore_embedded(snapshot: &mut dyn std::io::Read, dir: &Path) -> Result<SnapshotInfo, StoreError> {
        SledStore::restore(snapshot, dir)
    }

    /// The erasures recorded in a snapshot (to apply them to an older one).
    pub fn erasures_in_snapshot(snapshot: &mut dyn std::io::Read) -> Result<Vec<Erasure>, StoreError> {
        SledStore::erasures_in_snapshot(snapshot)
    }

    /// The embedded store in `dir` (created when missing); writes are refused while less than
    /// `min_free_bytes` of disk space would remain.
    pub fn open_embedded(dir: &Path, min_free_bytes: u64) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(SledStore::open(dir, min_free_bytes)?),
            description: format!("sled in {}", dir.display()),
        })
    }

    /// The PostgreSQL store at `url` (schema created or migrated); `node` names this node's
    /// index in the database, for pruning the change log only when every node has read it.
    pub fn open_postgres(url: &str, node: &str) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(PgStore::open(url, node)?),
            description: format!("PostgreSQL at {}", redact_password(url)),
        })
    }

    /// Copies the embedded store in `from` into the empty PostgreSQL database at `to`.
    pub fn copy_embedded_to_postgres(from: &Path, to: &str) -> Result<CopyReport, StoreError> {
        if !from.join("store").is_dir() {
            return Err(StoreError::NotWritable(
                from.to_path_buf(),
                "it holds no citypeers store to copy".into(),
            ));
        }
        let source = SledStore::open(from, 0)?;
        let target = PgStore::open(to, "migration")?;
        target.copy_from(&source)
    }

    /// Where the data lives, for logs and messages.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Runs `work` as the only writer; its staged changes are applied atomically and made
    /// durable before this returns. Nothing is applied when `work` fails.
    pub fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>,
    ) -> Result<Committed<T>, E> {
        let mut transaction = self.backend.begin()?;
        let value = work(&mut *transaction)?;
        let outcome = transaction.commit()?;
        Ok(Committed {
            value,
            changes: outcome.changes,
            written: outcome.written,
            first_seq: outcome.first_seq,
            last_seq: outcome.last_seq,
        })
    }

    /// Every expert, collected (small stores and tests; large scans use `scan_experts`).
    pub fn all_experts(&self) -> Result<Vec<Versioned<Expert>>, StoreError> {
        let mut experts = Vec::new();
        self.scan_experts(&mut |expert| {
            experts.push(expert);
            true
        })?;
        Ok(experts)
    }

    /// Every case, collected.
    pub fn all_cases(&self) -> Result<Vec<Versioned<Case>>, StoreError> {
        let mut cases = Vec::new();
        self.scan_cases(&mut |case| {
            cases.push(case);
            true
        })?;
        Ok(cases)
    }
}

impl std::ops::Deref for Store {
    type Target = dyn RecordStore;

    fn deref(&self) -> &Self::Target {
        &*self.backend
    }
}

/// A database address without its password, for logs and messages.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
