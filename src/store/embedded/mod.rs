//! The embedded store over sled: one tree of prefixed keys, every write one atomic batch that
//! is flushed before it is acknowledged. Per-record keys live outside sled in `keys.bin`
//! (`keys.rs`), so that erasing a record overwrites its key in place.

mod keys;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use keys::KeyFile;
use write::SledTx;

use super::codec;
use super::crypto::{KEY_BYTES, KeySlot, PLAINTEXT_SLOT};
use super::snapshot::{Frame, SnapshotInfo, SnapshotWriter};
use super::{
    AuditEntry, AuditRow, Change, Erasure, RecordStore, StoreError, StoredContactRequest, StoredToken, Transaction,
};
use crate::domain::{Case, Expert, RecordId, RecordKind, Versioned};

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        match error {
            sled::Error::Io(io) => StoreError::from_io(io),
            sled::Error::Corruption { .. } => StoreError::Corrupt(error.to_string()),
            other => StoreError::Engine(other.to_string()),
        }
    }
}

pub struct SledStore {
    db: sled::Db,
    /// Writes are refused (nothing written) when less than this much disk space would remain.
    min_free_bytes: u64,
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
/// Contact request id -> the key it is stored under.
const CONTACT_ID_PREFIX: &[u8] = b"qi:";
/// The kept erasure list: sequence -> `Erasure` (no personal data).
const ERASURE_PREFIX: &[u8] = b"z:";

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

/// sled's cache of decoded pages. Records shown in answers have their own cache of decoded
/// records (`app/shown.rs`), so this one serves writes and the full scans of training and
/// reindexing, which fill any size: sled holds about twice what it is given (a heap
/// profile at 100k records found 41 MB of its pages at 16 MiB). 64 MiB kept 20-40 MB more
/// of a settled node's memory (100k, 1M); with 16 MiB, import and search measured no slower
/// (benches/README, 2026-12-05), though the size was not measured alone.
const SLED_CACHE_BYTES: u64 = 16 * 1024 * 1024;

impl SledStore {
    /// Opens (or creates) the store in `dir`; finishes any erasure a crash interrupted.
    pub fn open(dir: &Path, min_free_bytes: u64) -> Result<SledStore, StoreError> {
        check_data_dir(dir)?;
        let db = sled::Config::new()
            .path(dir.join("store"))
            .cache_capacity(SLED_CACHE_BYTES)
            .open()
            .map_err(|error| match error {
                sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                    StoreError::Locked(dir.to_path_buf())
                }
                sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked(dir.to_path_buf()),
                other => StoreError::from(other),
            })?;
        let keys = KeyFile::open(&dir.join("keys.bin"))?;
        let last_seq = db.get(META_SEQ)?.and_then(|bytes| u64_from(&bytes)).unwrap_or(0);
        let store = SledStore {
            db,
            min_free_bytes,
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

    /// Writes a snapshot into a new store in `dir`; on failure removes what it wrote.
    pub fn restore(snapshot: &mut dyn std::io::Read, dir: &Path) -> Result<SnapshotInfo, StoreError> {
        let store_dir = dir.join("store");
        let keys_path = dir.join("keys.bin");
        if store_dir.exists() || keys_path.exists() {
            return Err(StoreError::NotWritable(
                dir.to_path_buf(),
                "it holds a store already; restore into a new folder".into(),
            ));
        }
        check_data_dir(dir)?;
        let result = Self::write_restored(snapshot, &store_dir, &keys_path);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&store_dir);
            let _ = std::fs::remove_file(&keys_path);
        }
        result
    }

    fn write_restored(
        snapshot: &mut dyn std::io::Read,
        store_dir: &Path,
        keys_path: &Path,
    ) -> Result<SnapshotInfo, StoreError> {
        let db = sled::Config::new().path(store_dir).open()?;
        let mut batch = sled::Batch::default();
        let mut batched = 0;
        let mut key_file = Vec::new();
        let info = super::snapshot::read_all(snapshot, &mut |frame| {
            match frame {
                Frame::Entry(key, value) => {
                    batch.insert(key, value);
                    batched += 1;
                    if batched >= 10_000 {
                        db.apply_batch(std::mem::take(&mut batch))?;
                        batched = 0;
                    }
                }
                Frame::KeyFile(bytes) => key_file.extend_from_slice(&bytes),
            }
            Ok(())
        })?;
        db.apply_batch(batch)?;
        db.flush()?;
        std::fs::write(keys_path, &key_file).map_err(StoreError::from_io)?;
        std::fs::File::open(keys_path)
            .and_then(|file| file.sync_all())
            .map_err(StoreError::from_io)?;
        Ok(info)
    }

    /// The erasure list a snapshot carries.
    pub fn erasures_in_snapshot(snapshot: &mut dyn std::io::Read) -> Result<Vec<Erasure>, StoreError> {
        let mut erasures = Vec::new();
        super::snapshot::read_all(snapshot, &mut |frame| {
            if let Frame::Entry(key, value) = frame
                && key.starts_with(ERASURE_PREFIX)
            {
                erasures.push(serde_json::from_slice(&value)?);
            }
            Ok(())
        })?;
        Ok(erasures)
    }

    /// Refuses a write of `bytes` that would leave less than the reserve free: sled and the
    /// index need room to finish what they start, and a refused write loses nothing.
    fn ensure_free_space(&self, bytes: usize) -> Result<(), StoreError> {
        let available = fs4::available_space(&self.path).map_err(StoreError::from_io)?;
        let needed = self.min_free_bytes.saturating_add(4 * bytes as u64);
        if available < needed {
            return Err(StoreError::Full(format!(
                "{} free in {}, {} needed for this write and the reserve",
                available,
                self.path.display(),
                needed
            )));
        }
        Ok(())
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

    fn read_record<T>(
        &self,
        kind: RecordKind,
        id: &RecordId,
        decode: fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let key = record_key(kind, id);
        let Some(envelope) = self.db.get(&key)? else {
            return Ok(None);
        };
        let Some(plaintext) = self.unseal(&key, &envelope)? else {
            return Ok(None);
        };
        decode(&plaintext).map(Some)
    }

    fn scan_records<T>(
        &self,
        kind: RecordKind,
        decode: fn(&[u8]) -> Result<T, StoreError>,
        visit: &mut dyn FnMut(T) -> bool,
    ) -> Result<(), StoreError> {
        for item in self.db.scan_prefix(record_prefix(kind)) {
            let (key, envelope) = item?;
            let Some(plaintext) = self.unseal(&key, &envelope)? else {
                continue;
            };
            if !visit(decode(&plaintext)?) {
                break;
            }
        }
        Ok(())
    }

    fn contact_request_at(&self, key: &[u8]) -> Result<Option<StoredContactRequest>, StoreError> {
        let Some(envelope) = self.db.get(key)? else {
            return Ok(None);
        };
        match self.unseal(key, &envelope)? {
            Some(plaintext) => codec::decode_contact_request(&plaintext).map(Some),
            None => Ok(None),
        }
    }
}

/// Fails with one clear sentence when `dir` cannot hold a data directory: not a folder, not
/// readable, or not writable (a read-only disk, say).
fn check_data_dir(dir: &Path) -> Result<(), StoreError> {
    let refuse = |problem: &str, error: &dyn std::fmt::Display| {
        StoreError::NotWritable(dir.to_path_buf(), format!("{problem} ({error})"))
    };
    if dir.exists() && !dir.is_dir() {
        return Err(StoreError::NotWritable(dir.to_path_buf(), "it is not a folder".into()));
    }
    std::fs::create_dir_all(dir).map_err(|error| refuse("it cannot be created", &error))?;
    std::fs::read_dir(dir).map_err(|error| refuse("it cannot be read", &error))?;
    let probe = dir.join(".citypeers-write-check");
    std::fs::write(&probe, b"ok").map_err(|error| refuse("it cannot be written", &error))?;
    std::fs::remove_file(&probe).map_err(|error| refuse("it cannot be written", &error))?;
    let keys = dir.join("keys.bin");
    if keys.exists() {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&keys)
            .map_err(|error| refuse("keys.bin cannot be opened", &error))?;
    }
    Ok(())
}

impl RecordStore for SledStore {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.last_seq.load(Ordering::SeqCst))
    }

    fn expert(&self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        self.read_record(RecordKind::Expert, id, codec::decode_expert)
    }

    fn case(&self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        self.read_record(RecordKind::Case, id, codec::decode_case)
    }

    fn contains(&self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.db.contains_key(record_key(kind, id))?)
    }

    fn count(&self, kind: RecordKind) -> Result<u64, StoreError> {
        self.count_up_to(kind, u64::MAX)
    }

    fn count_up_to(&self, kind: RecordKind, limit: u64) -> Result<u64, StoreError> {
        // sled counts by reading every record (at a million records, 9 s of a cold start).
        let mut count = 0;
        for key in self.db.scan_prefix(record_prefix(kind)).keys() {
            if count >= limit {
                break;
            }
            key?;
            count += 1;
        }
        Ok(count)
    }

    fn scan_experts(&self, visit: &mut dyn FnMut(Versioned<Expert>) -> bool) -> Result<(), StoreError> {
        self.scan_records(RecordKind::Expert, codec::decode_expert, visit)
    }

    fn scan_cases(&self, visit: &mut dyn FnMut(Versioned<Case>) -> bool) -> Result<(), StoreError> {
        self.scan_records(RecordKind::Case, codec::decode_case, visit)
    }

    fn changes_after(&self, seq: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let mut changes = Vec::new();
        for item in self.db.range(change_key(seq.saturating_add(1))..) {
            let (key, value) = item?;
            if !key.starts_with(CHANGE_PREFIX) || changes.len() >= limit {
                break;
            }
            let seq =
                u64_from(&key[CHANGE_PREFIX.len()..]).ok_or_else(|| StoreError::Corrupt("bad change key".into()))?;
            changes.push(decode_change(seq, &value)?);
        }
        Ok(changes)
    }

    fn prune_changes_through(&self, seq: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for item in self.db.range(change_key(0)..=change_key(seq)) {
            let (key, _) = item?;
            batch.remove(key);
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    fn redirect(&self, kind: RecordKind, id: &RecordId) -> Result<Option<RecordId>, StoreError> {
        let Some(target) = self.db.get(redirect_key(kind, id))? else {
            return Ok(None);
        };
        let target = std::str::from_utf8(&target).map_err(|_| StoreError::Corrupt("bad redirect".into()))?;
        Ok(RecordId::parse(target).ok())
    }

    fn audit_entries(&self, kind: RecordKind, id: &RecordId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = Vec::new();
        for item in self.db.scan_prefix(audit_prefix(kind, id)) {
            let (key, envelope) = item?;
            if let Some(plaintext) = self.unseal(&key, &envelope)? {
                entries.push(codec::decode_audit(&plaintext)?);
            }
        }
        Ok(entries)
    }

    fn scan_audit(&self, visit: &mut dyn FnMut(AuditRow) -> bool) -> Result<(), StoreError> {
        for item in self.db.scan_prefix(b"a:") {
            let (key, envelope) = item?;
            let corrupt = || StoreError::Corrupt("bad audit key".into());
            let kind = key.get(2).copied().and_then(kind_from_byte).ok_or_else(corrupt)?;
            let rest = key.get(4..).ok_or_else(corrupt)?;
            let end = rest.iter().position(|byte| *byte == 0).ok_or_else(corrupt)?;
            let id = std::str::from_utf8(&rest[..end]).map_err(|_| corrupt())?;
            let id = RecordId::parse(id).map_err(|_| corrupt())?;
            let in_clear = codec::envelope_slot(&envelope)? == PLAINTEXT_SLOT;
            let Some(plaintext) = self.unseal(&key, &envelope)? else {
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
        let mut redirects = Vec::new();
        for kind in [RecordKind::Expert, RecordKind::Case] {
            let prefix = redirect_key_prefix(kind);
            for item in self.db.scan_prefix(&prefix) {
                let (key, target) = item?;
                let parse = |bytes: &[u8]| {
                    std::str::from_utf8(bytes)
                        .ok()
                        .and_then(|raw| RecordId::parse(raw).ok())
                };
                if let (Some(from), Some(to)) = (parse(&key[prefix.len()..]), parse(&target)) {
                    redirects.push((kind, from, to));
                }
            }
        }
        Ok(redirects)
    }

    fn contact_requests(&self) -> Result<Vec<StoredContactRequest>, StoreError> {
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

    fn put_token(&self, token: &StoredToken) -> Result<(), StoreError> {
        let _only_writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = TOKEN_PREFIX.to_vec();
        key.extend_from_slice(token.name.as_bytes());
        self.db.insert(key, serde_json::to_vec(token)?)?;
        self.db.flush()?;
        Ok(())
    }

    fn remove_token(&self, name: &str) -> Result<bool, StoreError> {
        let _only_writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = TOKEN_PREFIX.to_vec();
        key.extend_from_slice(name.as_bytes());
        let existed = self.db.remove(key)?.is_some();
        self.db.flush()?;
        Ok(existed)
    }

    fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let mut tokens = Vec::new();
        for item in self.db.scan_prefix(TOKEN_PREFIX) {
            let (_, value) = item?;
            tokens.push(serde_json::from_slice(&value)?);
        }
        Ok(tokens)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn snapshot(&self, out: &mut dyn std::io::Write) -> Result<(SnapshotInfo, u64), StoreError> {
        // The write lock keeps every entry and key at one sequence while they are copied.
        let _only_writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let info = SnapshotInfo {
            format: 1,
            seq: self.last_seq.load(Ordering::SeqCst),
            created_at: crate::wire::format_time(time::OffsetDateTime::now_utc()),
            experts: self.count(RecordKind::Expert)?,
            cases: self.count(RecordKind::Case)?,
        };
        let mut writer = SnapshotWriter::start(out, &info)?;
        for item in self.db.iter() {
            let (key, value) = item?;
            // The change log only tells an index what to catch up; a restored store has none.
            if !key.starts_with(CHANGE_PREFIX) {
                writer.entry(&key, &value)?;
            }
        }
        writer.key_file(&self.keys.contents()?)?;
        let bytes = writer.finish()?;
        Ok((info, bytes))
    }

    fn erasures(&self) -> Result<Vec<Erasure>, StoreError> {
        let mut erasures = Vec::new();
        for item in self.db.scan_prefix(ERASURE_PREFIX) {
            let (_, value) = item?;
            erasures.push(serde_json::from_slice(&value)?);
        }
        Ok(erasures)
    }

    fn begin(&self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let only_writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(Box::new(SledTx::new(self, only_writer)))
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
