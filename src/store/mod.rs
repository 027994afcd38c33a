//! The store: the only code that knows sled. It is the source of truth: versioned records,
//! a change log with sequence numbers that the search index catches up from, the audit
//! trail, contact requests, merge redirects and admin tokens. Every write is one atomic
//! sled batch, flushed before it is acknowledged.

mod codec;
mod keys;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub use codec::{AuditAction, AuditEntry, FieldChange, StoredContactRequest, StoredToken};
use keys::{KEY_BYTES, KeyFile, KeySlot, PLAINTEXT_SLOT};
pub use write::WriteTx;

use crate::domain::{Case, Expert, RecordId, RecordKind, Versioned};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {0} is in use by another citypeers process")]
    Locked(PathBuf),
    #[error("storage engine: {0}")]
    Engine(#[from] sled::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("encoding: {0}")]
    Encoding(#[from] serde_json::Error),
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
    /// The records as this write left them (the last state of each), so that the index can
    /// take them without reading them back.
    pub written: Vec<Written>,
}

/// A record as a write left it.
#[derive(Clone, Debug)]
pub enum Written {
    Expert(Box<Versioned<Expert>>),
    Case(Box<Versioned<Case>>),
    Removed(RecordKind, RecordId),
}

pub struct Store {
    db: sled::Db,
    keys: KeyFile,
    writer: Mutex<()>,
    last_seq: AtomicU64,
    path: PathBuf,
}

const META_SEQ: &[u8] = b"m:seq";
const CHANGE_PREFIX: &[u8] = b"l:";
const SHRED_PREFIX: &[u8] = b"x:";
const TOKEN_PREFIX: &[u8] = b"t:";
const CONTACT_PREFIX: &[u8] = b"q:";

fn kind_byte(kind: RecordKind) -> u8 {
    match kind {
        RecordKind::Expert => b'e',
        RecordKind::Case => b'c',
    }
}

fn kind_from_byte(byte: u8) -> Option<RecordKind> {
    match byte {
        b'e' => Some(RecordKind::Expert),
        b'c' => Some(RecordKind::Case),
        _ => None,
    }
}

fn record_key(kind: RecordKind, id: &RecordId) -> Vec<u8> {
    let mut key = vec![b'r', b':', kind_byte(kind), b':'];
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

fn record_prefix(kind: RecordKind) -> Vec<u8> {
    vec![b'r', b':', kind_byte(kind), b':']
}

fn audit_prefix(kind: RecordKind, id: &RecordId) -> Vec<u8> {
    let mut key = vec![b'a', b':', kind_byte(kind), b':'];
    key.extend_from_slice(id.as_str().as_bytes());
    key.push(0);
    key
}

fn redirect_key(kind: RecordKind, id: &RecordId) -> Vec<u8> {
    let mut key = vec![b'g', b':', kind_byte(kind), b':'];
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

fn redirect_key_prefix(kind: RecordKind) -> Vec<u8> {
    vec![b'g', b':', kind_byte(kind), b':']
}

/// Ids of the records merged into `id` (whose redirects point at it).
fn redirect_sources(db: &sled::Db, kind: RecordKind, id: &RecordId) -> Result<Vec<RecordId>, StoreError> {
    let prefix = redirect_key_prefix(kind);
    let mut sources = Vec::new();
    for item in db.scan_prefix(&prefix) {
        let (key, target) = item?;
        if target.as_ref() == id.as_str().as_bytes()
            && let Some(source) = std::str::from_utf8(&key[prefix.len()..])
                .ok()
                .and_then(|raw| RecordId::parse(raw).ok())
        {
            sources.push(source);
        }
    }
    Ok(sources)
}

fn contact_prefix(expert: &RecordId) -> Vec<u8> {
    let mut key = CONTACT_PREFIX.to_vec();
    key.extend_from_slice(expert.as_str().as_bytes());
    key.push(0);
    key
}

fn change_key(seq: u64) -> Vec<u8> {
    let mut key = CHANGE_PREFIX.to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn shred_key(slot: KeySlot) -> Vec<u8> {
    let mut key = SHRED_PREFIX.to_vec();
    key.extend_from_slice(&slot.to_be_bytes());
    key
}

fn u64_from(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

impl Store {
    /// Opens (or creates) the store in `dir`; finishes any erasure a crash interrupted.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let db = sled::Config::new()
            .path(dir.join("store"))
            .cache_capacity(64 * 1024 * 1024)
            .open()
            .map_err(|error| match error {
                sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                    StoreError::Locked(dir.to_path_buf())
                }
                sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked(dir.to_path_buf()),
                other => StoreError::Engine(other),
            })?;
        let keys = KeyFile::open(&dir.join("keys.bin"))?;
        let last_seq = db.get(META_SEQ)?.and_then(|bytes| u64_from(&bytes)).unwrap_or(0);
        let store = Store {
            db,
            keys,
            writer: Mutex::new(()),
            last_seq: AtomicU64::new(last_seq),
            path: dir.to_path_buf(),
        };
        store.finish_interrupted_erasures()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sequence number of the last acknowledged change.
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::SeqCst)
    }

    fn finish_interrupted_erasures(&self) -> Result<(), StoreError> {
        let mut finished = Vec::new();
        for item in self.db.scan_prefix(SHRED_PREFIX) {
            let (key, _) = item?;
            if let Some(slot) = u64_from(&key[SHRED_PREFIX.len()..]) {
                self.keys.destroy(slot)?;
            }
            finished.push(key);
        }
        for key in finished {
            self.db.remove(key)?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// Runs `work` as the only writer; its staged changes are applied atomically and flushed
    /// to disk before this returns. Nothing is applied when `work` fails.
    pub fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>,
    ) -> Result<Committed<T>, E> {
        let _only_writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut transaction = WriteTx::new(self);
        let value = work(&mut transaction)?;
        let (changes, written) = transaction.commit()?;
        Ok(Committed {
            value,
            changes,
            written,
        })
    }

    fn key_for_slot(&self, slot: KeySlot) -> Result<Option<[u8; KEY_BYTES]>, StoreError> {
        self.keys.key(slot)
    }

    /// Opens an envelope; `Ok(None)` when its key was destroyed by an erasure.
    fn unseal(&self, associated: &[u8], envelope: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let slot = codec::envelope_slot(envelope)?;
        if slot == PLAINTEXT_SLOT {
            return codec::open_envelope(None, associated, envelope).map(Some);
        }
        let Some(key) = self.key_for_slot(slot)? else {
            return Ok(None);
        };
        codec::open_envelope(Some(&key), associated, envelope).map(Some)
    }

    pub fn expert(&self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        let key = record_key(RecordKind::Expert, id);
        let Some(envelope) = self.db.get(&key)? else {
            return Ok(None);
        };
        let Some(plaintext) = self.unseal(&key, &envelope)? else {
            return Ok(None);
        };
        codec::decode_expert(&plaintext).map(Some)
    }

    pub fn case(&self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        let key = record_key(RecordKind::Case, id);
        let Some(envelope) = self.db.get(&key)? else {
            return Ok(None);
        };
        let Some(plaintext) = self.unseal(&key, &envelope)? else {
            return Ok(None);
        };
        codec::decode_case(&plaintext).map(Some)
    }

    pub fn contains(&self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.db.contains_key(record_key(kind, id))?)
    }

    /// Every expert, in id order.
    pub fn experts(&self) -> impl Iterator<Item = Result<Versioned<Expert>, StoreError>> + '_ {
        self.db
            .scan_prefix(record_prefix(RecordKind::Expert))
            .filter_map(move |item| {
                let decoded = item.map_err(StoreError::from).and_then(|(key, envelope)| {
                    self.unseal(&key, &envelope)?
                        .map(|plaintext| codec::decode_expert(&plaintext))
                        .transpose()
                });
                decoded.transpose()
            })
    }

    /// Every case, in id order.
    pub fn cases(&self) -> impl Iterator<Item = Result<Versioned<Case>, StoreError>> + '_ {
        self.db
            .scan_prefix(record_prefix(RecordKind::Case))
            .filter_map(move |item| {
                let decoded = item.map_err(StoreError::from).and_then(|(key, envelope)| {
                    self.unseal(&key, &envelope)?
                        .map(|plaintext| codec::decode_case(&plaintext))
                        .transpose()
                });
                decoded.transpose()
            })
    }

    pub fn count(&self, kind: RecordKind) -> usize {
        self.db.scan_prefix(record_prefix(kind)).keys().count()
    }

    /// Changes after `seq`, oldest first.
    pub fn changes_after(&self, seq: u64) -> impl Iterator<Item = Result<Change, StoreError>> + '_ {
        self.db
            .range(change_key(seq.saturating_add(1))..)
            .take_while(|item| item.as_ref().map_or(true, |(key, _)| key.starts_with(CHANGE_PREFIX)))
            .map(|item| {
                let (key, value) = item?;
                let seq = u64_from(&key[CHANGE_PREFIX.len()..])
                    .ok_or_else(|| StoreError::Corrupt("bad change key".into()))?;
                decode_change(seq, &value)
            })
    }

    /// Whether the change log holds a change after `seq` (the index is behind).
    pub fn has_changes_after(&self, seq: u64) -> bool {
        self.changes_after(seq).next().is_some()
    }

    /// Forgets change-log entries up to `seq` once the index has committed them.
    pub fn prune_changes_through(&self, seq: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for item in self.db.range(change_key(0)..=change_key(seq)) {
            let (key, _) = item?;
            batch.remove(key);
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// Records that were merged into `id`.
    pub fn merged_into(&self, kind: RecordKind, id: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        redirect_sources(&self.db, kind, id)
    }

    pub fn redirect(&self, kind: RecordKind, id: &RecordId) -> Result<Option<RecordId>, StoreError> {
        let Some(target) = self.db.get(redirect_key(kind, id))? else {
            return Ok(None);
        };
        let target = std::str::from_utf8(&target).map_err(|_| StoreError::Corrupt("bad redirect".into()))?;
        Ok(RecordId::parse(target).ok())
    }

    /// The audit trail of one record, oldest first.
    pub fn audit_entries(&self, kind: RecordKind, id: &RecordId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = Vec::new();
        for item in self.db.scan_prefix(audit_prefix(kind, id)) {
            let (key, envelope) = item?;
            if let Some(plaintext) = self.unseal(&key, &envelope)? {
                entries.push(codec::decode_audit(&plaintext)?);
            }
        }
        Ok(entries)
    }

    /// Every stored contact request, oldest first.
    pub fn contact_requests(&self) -> Result<Vec<StoredContactRequest>, StoreError> {
        let mut requests = Vec::new();
        for item in self.db.scan_prefix(CONTACT_PREFIX) {
            let (key, envelope) = item?;
            if let Some(plaintext) = self.unseal(&key, &envelope)? {
                requests.push(codec::decode_contact_request(&plaintext)?);
            }
        }
        requests.sort_by(|left, right| left.received_at.cmp(&right.received_at).then(left.id.cmp(&right.id)));
        Ok(requests)
    }

    pub fn put_token(&self, token: &StoredToken) -> Result<(), StoreError> {
        let mut key = TOKEN_PREFIX.to_vec();
        key.extend_from_slice(token.name.as_bytes());
        self.db.insert(key, serde_json::to_vec(token)?)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn remove_token(&self, name: &str) -> Result<bool, StoreError> {
        let mut key = TOKEN_PREFIX.to_vec();
        key.extend_from_slice(name.as_bytes());
        let existed = self.db.remove(key)?.is_some();
        self.db.flush()?;
        Ok(existed)
    }

    pub fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let mut tokens = Vec::new();
        for item in self.db.scan_prefix(TOKEN_PREFIX) {
            let (_, value) = item?;
            tokens.push(serde_json::from_slice(&value)?);
        }
        Ok(tokens)
    }

    /// Flushes everything to disk (used at shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

fn decode_change(seq: u64, value: &[u8]) -> Result<Change, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("bad change-log entry {seq}"));
    let kind = value.first().copied().and_then(kind_from_byte).ok_or_else(corrupt)?;
    let erased = value.get(1).copied().ok_or_else(corrupt)? == 1;
    let id = std::str::from_utf8(value.get(2..).ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    let id = RecordId::parse(id).map_err(|_| corrupt())?;
    Ok(Change { seq, kind, id, erased })
}
