//! One write transaction of the PostgreSQL store. It begins by locking the sequence row, so
//! writers of every node take turns and a version read inside the transaction stays current
//! until it commits (`If-Match` cannot lose an update across nodes). Record, key, change-log
//! and audit rows are buffered and sent as a few array statements (`Pending`), before any
//! other statement and at commit; the commit stores the new sequence and notifies the nodes.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Object;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{
    CHANGES_CHANNEL, PgStore, RECORD_QUERY, audit_aad, contact_aad, decode_contact_row, kind_name, pg_error,
    record_aad, slot_value, unseal,
};
use crate::domain::{Case, ContactRequest, Expert, RecordId, RecordKind, Timestamp, Versioned};
use crate::store::crypto::{self, KEY_BYTES, KeySlot, PLAINTEXT_SLOT};
use crate::store::{
    AuditEntry, Change, Erasure, Staged, StoreError, StoredContactRequest, Transaction, TransactionOutcome, codec,
};

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Rows waiting to be sent, as columns for `unnest`.
#[derive(Default)]
struct Pending {
    key_slots: Vec<i64>,
    keys: Vec<Vec<u8>>,
    /// (kind, id) -> position in the record columns: a record written twice is sent once.
    record_at: HashMap<(RecordKind, RecordId), usize>,
    record_kinds: Vec<&'static str>,
    record_ids: Vec<String>,
    record_slots: Vec<i64>,
    record_envelopes: Vec<Vec<u8>>,
    /// Case id -> the experts it names (the last write of the case wins).
    case_experts: HashMap<String, Vec<String>>,
    change_seqs: Vec<i64>,
    change_kinds: Vec<&'static str>,
    change_ids: Vec<String>,
    change_erased: Vec<bool>,
    audit_kinds: Vec<&'static str>,
    audit_ids: Vec<String>,
    audit_seqs: Vec<i64>,
    audit_slots: Vec<i64>,
    audit_envelopes: Vec<Vec<u8>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.key_slots.is_empty()
            && self.record_ids.is_empty()
            && self.case_experts.is_empty()
            && self.change_seqs.is_empty()
            && self.audit_seqs.is_empty()
    }

    fn record(&mut self, kind: RecordKind, id: &RecordId, slot: KeySlot, envelope: Vec<u8>) {
        match self.record_at.get(&(kind, id.clone())) {
            Some(&at) => {
                self.record_slots[at] = slot_value(slot);
                self.record_envelopes[at] = envelope;
            }
            None => {
                self.record_at.insert((kind, id.clone()), self.record_ids.len());
                self.record_kinds.push(kind_name(kind));
                self.record_ids.push(id.as_str().to_string());
                self.record_slots.push(slot_value(slot));
                self.record_envelopes.push(envelope);
            }
        }
    }
}

/// A record row read ahead: envelope, key (none once destroyed), key slot.
type FetchedRow = (Vec<u8>, Option<Vec<u8>>, i64);

/// How many key slots are taken from the sequence at a time.
const SLOT_RESERVE: i64 = 256;

pub struct PgTx<'a> {
    store: &'a PgStore,
    /// The connection, inside `BEGIN` until commit or drop.
    client: Option<Object>,
    pending: Pending,
    /// Key slots taken from the sequence and not used yet.
    free_slots: Vec<KeySlot>,
    /// Records this transaction read and found missing (they get a new key without a query).
    absent: HashSet<(RecordKind, RecordId)>,
    /// Record rows fetched ahead (`prefetch`): envelope, key, slot.
    prefetched: HashMap<(RecordKind, RecordId), FetchedRow>,
    staged: HashMap<(RecordKind, RecordId), Staged>,
    slots: HashMap<(RecordKind, RecordId), KeySlot>,
    keys: HashMap<KeySlot, [u8; KEY_BYTES]>,
    changes: Vec<Change>,
    start_seq: u64,
    next_seq: u64,
    has_writes: bool,
    erased_keys: bool,
}

impl<'a> PgTx<'a> {
    /// Begins a transaction holding the sequence row: the cluster's one writer until it ends.
    pub(super) fn begin(store: &'a PgStore) -> Result<PgTx<'a>, StoreError> {
        let client = store.block(store.client())?;
        let mut transaction = PgTx {
            store,
            client: Some(client),
            pending: Pending::default(),
            free_slots: Vec::new(),
            absent: HashSet::new(),
            prefetched: HashMap::new(),
            staged: HashMap::new(),
            slots: HashMap::new(),
            keys: HashMap::new(),
            changes: Vec::new(),
            start_seq: 0,
            next_seq: 0,
            has_writes: false,
            erased_keys: false,
        };
        transaction.batch("BEGIN")?;
        let rows = transaction.query("SELECT value FROM cp_meta WHERE name = 'seq' FOR UPDATE", &[])?;
        let seq = rows
            .first()
            .map(|row| row.get::<_, i64>(0) as u64)
            .ok_or_else(|| StoreError::Corrupt("the sequence row is missing".into()))?;
        transaction.start_seq = seq;
        transaction.next_seq = seq;
        Ok(transaction)
    }

    fn connection(&self) -> Result<&Object, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Engine("the transaction has ended".into()))
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        let client = self.connection()?;
        self.store.block(client.batch_execute(sql)).map_err(pg_error)
    }

    /// Runs a query after sending the buffered rows (it may read them).
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        self.flush()?;
        self.query_now(sql, params)
    }

    /// Runs a statement after sending the buffered rows (it may touch them).
    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        self.flush()?;
        self.execute_now(sql, params)
    }

    /// A query that cannot see buffered rows (it reads none of them).
    fn query_now(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let client = self.connection()?;
        self.store.block(client.query(sql, params)).map_err(pg_error)
    }

    fn execute_now(&self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        let client = self.connection()?;
        self.store.block(client.execute(sql, params)).map_err(pg_error)
    }

    /// Sends the buffered rows: one statement per table.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        if !pending.key_slots.is_empty() {
            self.execute_now(
                "INSERT INTO cp_keys (slot, key) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                &[&pending.key_slots, &pending.keys],
            )?;
        }
        if !pending.record_ids.is_empty() {
            self.execute_now(
                "INSERT INTO cp_records (kind, id, slot, envelope) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[]) \
                 ON CONFLICT (kind, id) DO UPDATE SET slot = excluded.slot, envelope = excluded.envelope",
                &[
                    &pending.record_kinds,
                    &pending.record_ids,
                    &pending.record_slots,
                    &pending.record_envelopes,
                ],
            )?;
        }
        if !pending.case_experts.is_empty() {
            self.send_case_experts(pending.case_experts)?;
        }
        if !pending.change_seqs.is_empty() {
            self.execute_now(
                "INSERT INTO cp_changes (seq, kind, id, erased) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::boolean[])",
                &[
                    &pending.change_seqs,
                    &pending.change_kinds,
                    &pending.change_ids,
                    &pending.change_erased,
                ],
            )?;
        }
        if !pending.audit_seqs.is_empty() {
            self.execute_now(
                "INSERT INTO cp_audit (kind, id, seq, slot, envelope) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bytea[])",
                &[
                    &pending.audit_kinds,
                    &pending.audit_ids,
                    &pending.audit_seqs,
                    &pending.audit_slots,
                    &pending.audit_envelopes,
                ],
            )?;
        }
        Ok(())
    }

    fn send_case_experts(&self, case_experts: HashMap<String, Vec<String>>) -> Result<(), StoreError> {
        let cases: Vec<&String> = case_experts.keys().collect();
        self.execute_now("DELETE FROM cp_case_experts WHERE case_id = ANY($1)", &[&cases])?;
        let (mut expert_ids, mut case_ids) = (Vec::new(), Vec::new());
        for (case, experts) in &case_experts {
            let unique: HashSet<&String> = experts.iter().collect();
            for expert in unique {
                expert_ids.push(expert.as_str());
                case_ids.push(case.as_str());
            }
        }
        self.execute_now(
            "INSERT INTO cp_case_experts (expert_id, case_id) SELECT * FROM unnest($1::text[], $2::text[])",
            &[&expert_ids, &case_ids],
        )?;
        Ok(())
    }

    /// Reads a record as committed (no write of this transaction touched it), keeping its key
    /// slot for a write that follows, or noting that it is missing.
    fn read_stored<T>(
        &mut self,
        kind: RecordKind,
        id: &RecordId,
        decode: fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let fetched = match self.prefetched.remove(&(kind, id.clone())) {
            Some(fetched) => Some(fetched),
            None if self.absent.contains(&(kind, id.clone())) => None,
            None => {
                let rows = self.query_now(RECORD_QUERY, &[&kind_name(kind), &id.as_str()])?;
                rows.first().map(|row| (row.get(0), row.get(1), row.get(2)))
            }
        };
        let Some((envelope, key, slot)) = fetched else {
            self.absent.insert((kind, id.clone()));
            return Ok(None);
        };
        if let Some(key) = key
            .as_ref()
            .and_then(|key| <[u8; KEY_BYTES]>::try_from(key.as_slice()).ok())
        {
            let slot = slot as KeySlot;
            self.keys.insert(slot, key);
            self.slots.insert((kind, id.clone()), slot);
        }
        match unseal(&record_aad(kind, id), &envelope, key)? {
            Some(plaintext) => decode(&plaintext).map(Some),
            None => Ok(None),
        }
    }

    fn allocate_seq(&mut self) -> u64 {
        self.has_writes = true;
        self.next_seq += 1;
        self.next_seq
    }

    /// The key slot of a record: its existing one, or a new one with a fresh key.
    fn slot_for(&mut self, kind: RecordKind, id: &RecordId) -> Result<KeySlot, StoreError> {
        if let Some(slot) = self.slots.get(&(kind, id.clone())) {
            return Ok(*slot);
        }
        if self.absent.contains(&(kind, id.clone())) {
            let slot = self.new_slot()?;
            self.slots.insert((kind, id.clone()), slot);
            return Ok(slot);
        }
        let rows = self.query_now(
            "SELECT r.slot, k.key FROM cp_records r JOIN cp_keys k ON k.slot = r.slot WHERE r.kind = $1 AND r.id = $2",
            &[&kind_name(kind), &id.as_str()],
        )?;
        let slot = match rows.first() {
            Some(row) => {
                let slot = row.get::<_, i64>(0) as KeySlot;
                let key: [u8; KEY_BYTES] = row
                    .get::<_, Vec<u8>>(1)
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("key slot {slot} has a key of the wrong length")))?;
                self.keys.insert(slot, key);
                slot
            }
            None => self.new_slot()?,
        };
        self.slots.insert((kind, id.clone()), slot);
        Ok(slot)
    }

    /// A new key in a slot from the reserve (refilled from the sequence when empty).
    fn new_slot(&mut self) -> Result<KeySlot, StoreError> {
        if self.free_slots.is_empty() {
            let rows = self.query_now(
                "SELECT nextval('cp_key_slots') FROM generate_series(1, $1::bigint)",
                &[&SLOT_RESERVE],
            )?;
            self.free_slots = rows.iter().rev().map(|row| row.get::<_, i64>(0) as KeySlot).collect();
        }
        let slot = self
            .free_slots
            .pop()
            .ok_or_else(|| StoreError::Engine("no key slot was handed out".into()))?;
        let key = crypto::new_key()?;
        self.pending.key_slots.push(slot_value(slot));
        self.pending.keys.push(key.to_vec());
        self.keys.insert(slot, key);
        Ok(slot)
    }

    fn seal_for(
        &mut self,
        kind: RecordKind,
        id: &RecordId,
        associated: &[u8],
        plaintext: &[u8],
    ) -> Result<(KeySlot, Vec<u8>), StoreError> {
        let slot = self.slot_for(kind, id)?;
        let key = *self
            .keys
            .get(&slot)
            .ok_or_else(|| StoreError::Corrupt(format!("key slot {slot} was destroyed")))?;
        Ok((slot, codec::seal_envelope(slot, Some(&key), associated, plaintext)?))
    }

    fn record_change(&mut self, kind: RecordKind, id: &RecordId, erased: bool) -> Result<(), StoreError> {
        let seq = self.allocate_seq();
        self.pending.change_seqs.push(seq as i64);
        self.pending.change_kinds.push(kind_name(kind));
        self.pending.change_ids.push(id.as_str().to_string());
        self.pending.change_erased.push(erased);
        self.changes.push(Change {
            seq,
            kind,
            id: id.clone(),
            erased,
        });
        Ok(())
    }

    fn put_record(&mut self, kind: RecordKind, id: &RecordId, plaintext: &[u8]) -> Result<(), StoreError> {
        let (slot, envelope) = self.seal_for(kind, id, &record_aad(kind, id), plaintext)?;
        self.pending.record(kind, id, slot, envelope);
        self.absent.remove(&(kind, id.clone()));
        Ok(())
    }

    fn seal_contact_request(&mut self, stored: &StoredContactRequest) -> Result<(KeySlot, Vec<u8>), StoreError> {
        let plaintext = codec::encode_contact_request(stored)?;
        let expert_id = stored.request.expert_id.clone();
        self.seal_for(RecordKind::Expert, &expert_id, &contact_aad(&stored.id), &plaintext)
    }

    /// Deletes the rows of an erased record and every key its rows were sealed with.
    fn delete_traces(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
        let name = kind_name(kind);
        let mut slots: Vec<i64> = Vec::new();
        let mut collect = |rows: Vec<Row>| slots.extend(rows.iter().map(|row| row.get::<_, i64>(0)));
        collect(self.query(
            "DELETE FROM cp_records WHERE kind = $1 AND id = $2 RETURNING slot",
            &[&name, &id.as_str()],
        )?);
        collect(self.query(
            "DELETE FROM cp_audit WHERE kind = $1 AND id = $2 RETURNING slot",
            &[&name, &id.as_str()],
        )?);
        if kind == RecordKind::Expert {
            collect(self.query(
                "DELETE FROM cp_contact_requests WHERE expert_id = $1 RETURNING slot",
                &[&id.as_str()],
            )?);
        } else {
            self.execute("DELETE FROM cp_case_experts WHERE case_id = $1", &[&id.as_str()])?;
        }
        self.execute(
            "DELETE FROM cp_redirects WHERE kind = $1 AND (from_id = $2 OR to_id = $2)",
            &[&name, &id.as_str()],
        )?;
        if let Some(slot) = self.slots.remove(&(kind, id.clone())) {
            slots.push(slot_value(slot));
        }
        slots.retain(|slot| *slot != slot_value(PLAINTEXT_SLOT));
        slots.sort_unstable();
        slots.dedup();
        self.execute("DELETE FROM cp_keys WHERE slot = ANY($1)", &[&slots])?;
        for slot in &slots {
            self.keys.remove(&(*slot as KeySlot));
        }
        self.erased_keys = true;
        Ok(())
    }

    fn keep_erasure(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
        let seq = self.allocate_seq();
        let erasure = Erasure::of(kind, id, seq);
        let body = serde_json::to_vec(&erasure)?;
        self.execute(
            "INSERT INTO cp_erasures (seq, body) VALUES ($1, $2)",
            &[&(seq as i64), &body],
        )?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), StoreError> {
        self.flush()?;
        if self.has_writes {
            let seq = self.next_seq as i64;
            self.execute("UPDATE cp_meta SET value = $1 WHERE name = 'seq'", &[&seq])?;
            self.execute("SELECT pg_notify($1, $2)", &[&CHANGES_CHANNEL, &seq.to_string()])?;
        }
        self.batch("COMMIT")?;
        self.client = None;
        self.store.saw_seq(self.next_seq);
        Ok(())
    }
}

/// Writes that only a copy from another store makes: rows that keep the numbers they had.
impl PgTx<'_> {
    /// Stores a contact request under its existing id (`cr-N` keeps its N).
    pub(super) fn insert_contact_request(&mut self, stored: &StoredContactRequest) -> Result<(), StoreError> {
        let number: i64 = stored
            .id
            .strip_prefix("cr-")
            .and_then(|number| number.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("contact request id {} has no number", stored.id)))?;
        self.has_writes = true;
        let (slot, envelope) = self.seal_contact_request(stored)?;
        self.execute(
            "INSERT INTO cp_contact_requests (id, expert_id, seq, slot, envelope) VALUES ($1, $2, $3, $4, $5)",
            &[
                &stored.id,
                &stored.request.expert_id.as_str(),
                &number,
                &slot_value(slot),
                &envelope,
            ],
        )?;
        Ok(())
    }

    /// Keeps an erasure made by the other store, with its sequence.
    pub(super) fn insert_erasure(&mut self, erasure: &Erasure) -> Result<(), StoreError> {
        self.has_writes = true;
        let body = serde_json::to_vec(erasure)?;
        self.execute(
            "INSERT INTO cp_erasures (seq, body) VALUES ($1, $2)",
            &[&(erasure.seq as i64), &body],
        )?;
        Ok(())
    }

    /// Moves the sequence past `seq`, so that new contact request ids cannot meet copied ones.
    pub(super) fn advance_seq_to(&mut self, seq: u64) {
        self.has_writes = true;
        self.next_seq = self.next_seq.max(seq);
    }
}

impl Drop for PgTx<'_> {
    /// A transaction that did not commit is rolled back; a connection that cannot even do
    /// that is dropped instead of going back to the pool.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && self.store.block(client.batch_execute("ROLLBACK")).is_err()
        {
            drop(Object::take(client));
        }
    }
}

impl Transaction for PgTx<'_> {
    /// The expert as this transaction sees it (its own writes included).
    fn expert(&mut self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        match self.staged.get(&(RecordKind::Expert, id.clone())) {
            Some(Staged::Expert(expert)) => Ok(Some((**expert).clone())),
            Some(_) => Ok(None),
            None => self.read_stored(RecordKind::Expert, id, codec::decode_expert),
        }
    }

    fn case(&mut self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        match self.staged.get(&(RecordKind::Case, id.clone())) {
            Some(Staged::Case(case)) => Ok(Some((**case).clone())),
            Some(_) => Ok(None),
            None => self.read_stored(RecordKind::Case, id, codec::decode_case),
        }
    }

    fn contains(&mut self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError> {
        match self.staged.get(&(kind, id.clone())) {
            Some(Staged::Removed) => Ok(false),
            Some(_) => Ok(true),
            None => {
                let rows = self.query_now(
                    "SELECT 1 FROM cp_records WHERE kind = $1 AND id = $2",
                    &[&kind_name(kind), &id.as_str()],
                )?;
                Ok(!rows.is_empty())
            }
        }
    }

    /// Fetches the records in one query; those not found are noted as missing.
    fn prefetch(&mut self, kind: RecordKind, ids: &[RecordId]) -> Result<(), StoreError> {
        let wanted: Vec<&str> = ids
            .iter()
            .filter(|id| !self.staged.contains_key(&(kind, (*id).clone())))
            .map(RecordId::as_str)
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let rows = self.query_now(
            "SELECT r.id, r.envelope, k.key, r.slot FROM cp_records r LEFT JOIN cp_keys k ON k.slot = r.slot \
             WHERE r.kind = $1 AND r.id = ANY($2)",
            &[&kind_name(kind), &wanted],
        )?;
        let mut found = HashSet::new();
        for row in &rows {
            let raw: &str = row.get(0);
            let Ok(id) = RecordId::parse(raw) else { continue };
            found.insert(raw.to_string());
            self.prefetched.insert((kind, id), (row.get(1), row.get(2), row.get(3)));
        }
        for id in ids {
            if !found.contains(id.as_str()) && !self.staged.contains_key(&(kind, id.clone())) {
                self.absent.insert((kind, id.clone()));
            }
        }
        Ok(())
    }

    fn cases_naming(&mut self, expert: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        let rows = self.query(
            "SELECT case_id FROM cp_case_experts WHERE expert_id = $1 ORDER BY case_id",
            &[&expert.as_str()],
        )?;
        Ok(rows.iter().filter_map(|row| RecordId::parse(row.get(0)).ok()).collect())
    }

    fn merged_into(&mut self, kind: RecordKind, id: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        let rows = self.query(
            "SELECT from_id FROM cp_redirects WHERE kind = $1 AND to_id = $2 ORDER BY from_id",
            &[&kind_name(kind), &id.as_str()],
        )?;
        Ok(rows.iter().filter_map(|row| RecordId::parse(row.get(0)).ok()).collect())
    }

    fn put_expert(&mut self, expert: Versioned<Expert>) -> Result<(), StoreError> {
        let id = expert.record.id.clone();
        self.put_record(RecordKind::Expert, &id, &codec::encode_expert(&expert)?)?;
        self.staged
            .insert((RecordKind::Expert, id.clone()), Staged::Expert(Box::new(expert)));
        self.record_change(RecordKind::Expert, &id, false)
    }

    fn put_case(&mut self, case: Versioned<Case>) -> Result<(), StoreError> {
        let id = case.record.id.clone();
        self.put_record(RecordKind::Case, &id, &codec::encode_case(&case)?)?;
        let experts = case
            .record
            .experts
            .iter()
            .map(|expert| expert.as_str().to_string())
            .collect();
        self.pending.case_experts.insert(id.as_str().to_string(), experts);
        self.staged
            .insert((RecordKind::Case, id.clone()), Staged::Case(Box::new(case)));
        self.record_change(RecordKind::Case, &id, false)
    }

    fn delete(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM cp_records WHERE kind = $1 AND id = $2",
            &[&kind_name(kind), &id.as_str()],
        )?;
        if kind == RecordKind::Case {
            self.execute("DELETE FROM cp_case_experts WHERE case_id = $1", &[&id.as_str()])?;
        }
        self.staged.insert((kind, id.clone()), Staged::Removed);
        self.record_change(kind, id, false)
    }

    fn erase(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
        self.delete_traces(kind, id)?;
        self.keep_erasure(kind, id)?;
        self.staged.insert((kind, id.clone()), Staged::Removed);
        self.record_change(kind, id, true)
    }

    fn append_audit(
        &mut self,
        kind: RecordKind,
        id: &RecordId,
        entry: &AuditEntry,
        in_clear: bool,
    ) -> Result<(), StoreError> {
        let seq = self.allocate_seq();
        let associated = audit_aad(kind, id, seq);
        let plaintext = codec::encode_audit(entry)?;
        let (slot, envelope) = if in_clear {
            (
                PLAINTEXT_SLOT,
                codec::seal_envelope(PLAINTEXT_SLOT, None, &associated, &plaintext)?,
            )
        } else {
            self.seal_for(kind, id, &associated, &plaintext)?
        };
        self.pending.audit_kinds.push(kind_name(kind));
        self.pending.audit_ids.push(id.as_str().to_string());
        self.pending.audit_seqs.push(seq as i64);
        self.pending.audit_slots.push(slot_value(slot));
        self.pending.audit_envelopes.push(envelope);
        Ok(())
    }

    fn put_redirect(&mut self, kind: RecordKind, from: &RecordId, to: &RecordId) -> Result<(), StoreError> {
        self.has_writes = true;
        self.execute(
            "INSERT INTO cp_redirects (kind, from_id, to_id) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, from_id) DO UPDATE SET to_id = excluded.to_id",
            &[&kind_name(kind), &from.as_str(), &to.as_str()],
        )?;
        Ok(())
    }

    fn add_contact_request(
        &mut self,
        request: ContactRequest,
        received_at: Timestamp,
    ) -> Result<StoredContactRequest, StoreError> {
        let seq = self.allocate_seq();
        let stored = StoredContactRequest::received(seq, request, received_at);
        let (slot, envelope) = self.seal_contact_request(&stored)?;
        self.execute(
            "INSERT INTO cp_contact_requests (id, expert_id, seq, slot, envelope) VALUES ($1, $2, $3, $4, $5)",
            &[
                &stored.id,
                &stored.request.expert_id.as_str(),
                &(seq as i64),
                &slot_value(slot),
                &envelope,
            ],
        )?;
        Ok(stored)
    }

    fn contact_request(&mut self, id: &str) -> Result<Option<StoredContactRequest>, StoreError> {
        let rows = self.query(
            "SELECT c.id, c.envelope, k.key FROM cp_contact_requests c LEFT JOIN cp_keys k ON k.slot = c.slot WHERE c.id = $1",
            &[&id],
        )?;
        match rows.first() {
            Some(row) => decode_contact_row(row),
            None => Ok(None),
        }
    }

    fn update_contact_request(&mut self, stored: &StoredContactRequest) -> Result<(), StoreError> {
        self.has_writes = true;
        let (slot, envelope) = self.seal_contact_request(stored)?;
        let updated = self.execute(
            "UPDATE cp_contact_requests SET slot = $2, envelope = $3 WHERE id = $1",
            &[&stored.id, &slot_value(slot), &envelope],
        )?;
        if updated == 0 {
            return Err(StoreError::Corrupt(format!("no contact request {}", stored.id)));
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<TransactionOutcome, StoreError> {
        self.finish()?;
        if self.erased_keys
            && let Err(error) = self.store.vacuum_keys()
        {
            // The keys are deleted already; the next erasure's vacuum rewrites the table.
            tracing::warn!(%error, "vacuuming the key table after an erasure failed");
        }
        let written = crate::store::written_records(std::mem::take(&mut self.staged));
        let (first_seq, last_seq) = if self.has_writes {
            (self.start_seq + 1, self.next_seq)
        } else {
            (0, 0)
        };
        Ok(TransactionOutcome {
            changes: std::mem::take(&mut self.changes),
            written,
            first_seq,
            last_seq,
        })
    }
}
