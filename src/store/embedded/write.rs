//! One write transaction of the sled store: staged records, audit entries, redirects and
//! erasures, sealed with their records' keys and applied as one flushed sled batch.

use std::collections::HashMap;
use std::sync::MutexGuard;
use std::sync::atomic::Ordering;

use super::{
    CONTACT_ID_PREFIX, META_SEQ, SledStore, audit_prefix, change_key, contact_prefix, kind_byte, record_key,
    redirect_key, redirect_key_prefix, redirect_sources, shred_key,
};
use crate::domain::{Case, ContactRequest, Expert, RecordId, RecordKind, Timestamp, Versioned};
use crate::store::crypto::{self, KEY_BYTES, KeySlot, PLAINTEXT_SLOT};
use crate::store::{
    AuditEntry, Change, Staged, StoreError, StoredContactRequest, Transaction, TransactionOutcome, codec,
};

fn encode_change(change_kind: RecordKind, id: &RecordId, erased: bool) -> Vec<u8> {
    let mut value = vec![kind_byte(change_kind), u8::from(erased)];
    value.extend_from_slice(id.as_str().as_bytes());
    value
}

/// The staged changes of one write; holds the store's write lock until it ends.
pub struct SledTx<'a> {
    store: &'a SledStore,
    _only_writer: MutexGuard<'a, ()>,
    batch: sled::Batch,
    staged: HashMap<(RecordKind, RecordId), Staged>,
    slots: HashMap<(RecordKind, RecordId), KeySlot>,
    new_keys: Vec<(KeySlot, [u8; KEY_BYTES])>,
    key_cache: HashMap<KeySlot, [u8; KEY_BYTES]>,
    slots_to_shred: Vec<KeySlot>,
    changes: Vec<Change>,
    /// Contact requests updated in this transaction, by id.
    staged_contacts: HashMap<String, StoredContactRequest>,
    /// Bytes of keys and values in the batch (to check the free space before writing).
    staged_bytes: usize,
    /// The store's last sequence when the transaction began.
    start_seq: u64,
    next_seq: u64,
    has_writes: bool,
}

fn contact_id_key(id: &str) -> Vec<u8> {
    let mut key = CONTACT_ID_PREFIX.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

impl<'a> SledTx<'a> {
    pub(super) fn new(store: &'a SledStore, only_writer: MutexGuard<'a, ()>) -> SledTx<'a> {
        SledTx {
            store,
            _only_writer: only_writer,
            batch: sled::Batch::default(),
            staged: HashMap::new(),
            slots: HashMap::new(),
            new_keys: Vec::new(),
            key_cache: HashMap::new(),
            slots_to_shred: Vec::new(),
            changes: Vec::new(),
            staged_contacts: HashMap::new(),
            staged_bytes: 0,
            start_seq: store.last_seq.load(Ordering::SeqCst),
            next_seq: store.last_seq.load(Ordering::SeqCst),
            has_writes: false,
        }
    }

    /// Adds a key and value to the batch, counting the bytes it will write.
    fn stage_bytes(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.staged_bytes += key.as_ref().len() + value.as_ref().len();
        self.batch.insert(key.as_ref(), value.as_ref());
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
        let existing = match self.store.db.get(record_key(kind, id))? {
            Some(envelope) => Some(codec::envelope_slot(&envelope)?),
            None => None,
        };
        let slot = match existing {
            Some(slot) if self.store.key_for_slot(slot)?.is_some() => slot,
            _ => {
                let slot = self.store.keys.reserve_slot();
                let key = crypto::new_key()?;
                self.new_keys.push((slot, key));
                self.key_cache.insert(slot, key);
                slot
            }
        };
        self.slots.insert((kind, id.clone()), slot);
        Ok(slot)
    }

    fn key(&mut self, slot: KeySlot) -> Result<[u8; KEY_BYTES], StoreError> {
        if let Some(key) = self.key_cache.get(&slot) {
            return Ok(*key);
        }
        let key = self
            .store
            .key_for_slot(slot)?
            .ok_or_else(|| StoreError::Corrupt(format!("key slot {slot} was destroyed")))?;
        self.key_cache.insert(slot, key);
        Ok(key)
    }

    fn seal_for(
        &mut self,
        kind: RecordKind,
        id: &RecordId,
        associated: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let slot = self.slot_for(kind, id)?;
        let key = self.key(slot)?;
        codec::seal_envelope(slot, Some(&key), associated, plaintext)
    }

    fn record_change(&mut self, kind: RecordKind, id: &RecordId, erased: bool) {
        let seq = self.allocate_seq();
        self.stage_bytes(change_key(seq), encode_change(kind, id, erased));
        self.changes.push(Change {
            seq,
            kind,
            id: id.clone(),
            erased,
        });
    }

    fn seal_contact_request(&mut self, key: &[u8], stored: &StoredContactRequest) -> Result<Vec<u8>, StoreError> {
        let plaintext = codec::encode_contact_request(stored)?;
        let expert_id = stored.request.expert_id.clone();
        self.seal_for(RecordKind::Expert, &expert_id, key, &plaintext)
    }

    fn contact_key(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.store.db.get(contact_id_key(id))?.map(|key| key.to_vec()))
    }
}

impl Transaction for SledTx<'_> {
    /// The expert as this transaction sees it (its own staged writes included).
    fn expert(&mut self, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        match self.staged.get(&(RecordKind::Expert, id.clone())) {
            Some(Staged::Expert(expert)) => Ok(Some((**expert).clone())),
            Some(_) => Ok(None),
            None => crate::store::RecordStore::expert(self.store, id),
        }
    }

    fn case(&mut self, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        match self.staged.get(&(RecordKind::Case, id.clone())) {
            Some(Staged::Case(case)) => Ok(Some((**case).clone())),
            Some(_) => Ok(None),
            None => crate::store::RecordStore::case(self.store, id),
        }
    }

    fn contains(&mut self, kind: RecordKind, id: &RecordId) -> Result<bool, StoreError> {
        match self.staged.get(&(kind, id.clone())) {
            Some(Staged::Removed) => Ok(false),
            Some(_) => Ok(true),
            None => crate::store::RecordStore::contains(self.store, kind, id),
        }
    }

    fn cases_naming(&mut self, expert: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        let mut naming = Vec::new();
        crate::store::RecordStore::scan_cases(self.store, &mut |case| {
            if case.record.experts.contains(expert) {
                naming.push(case.record.id);
            }
            true
        })?;
        Ok(naming)
    }

    fn merged_into(&mut self, kind: RecordKind, id: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        redirect_sources(&self.store.db, kind, id)
    }

    fn put_expert(&mut self, expert: Versioned<Expert>) -> Result<(), StoreError> {
        let id = expert.record.id.clone();
        let key = record_key(RecordKind::Expert, &id);
        let plaintext = codec::encode_expert(&expert)?;
        let envelope = self.seal_for(RecordKind::Expert, &id, &key, &plaintext)?;
        self.stage_bytes(key, envelope);
        self.staged
            .insert((RecordKind::Expert, id.clone()), Staged::Expert(Box::new(expert)));
        self.record_change(RecordKind::Expert, &id, false);
        Ok(())
    }

    fn put_case(&mut self, case: Versioned<Case>) -> Result<(), StoreError> {
        let id = case.record.id.clone();
        let key = record_key(RecordKind::Case, &id);
        let plaintext = codec::encode_case(&case)?;
        let envelope = self.seal_for(RecordKind::Case, &id, &key, &plaintext)?;
        self.stage_bytes(key, envelope);
        self.staged
            .insert((RecordKind::Case, id.clone()), Staged::Case(Box::new(case)));
        self.record_change(RecordKind::Case, &id, false);
        Ok(())
    }

    /// Removes a record; its audit trail stays readable.
    fn delete(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
        self.slot_for(kind, id)?;
        self.batch.remove(record_key(kind, id));
        self.staged.insert((kind, id.clone()), Staged::Removed);
        self.record_change(kind, id, false);
        Ok(())
    }

    /// Removes a record, its audit trail and (for experts) the contact requests about it, and
    /// destroys its key so that no old copy of its bytes can be read again.
    fn erase(&mut self, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
        let slot = self.slot_for(kind, id)?;
        self.batch.remove(record_key(kind, id));
        for item in self.store.db.scan_prefix(audit_prefix(kind, id)) {
            let (key, _) = item?;
            self.batch.remove(key);
        }
        if kind == RecordKind::Expert {
            let prefix = contact_prefix(id);
            for item in self.store.db.scan_prefix(&prefix) {
                let (key, _) = item?;
                if let Some(seq) = super::u64_from(&key[prefix.len()..]) {
                    let request_id = format!("cr-{seq}");
                    self.batch.remove(contact_id_key(&request_id));
                    self.staged_contacts.remove(&request_id);
                }
                self.batch.remove(key);
            }
        }
        self.batch.remove(redirect_key(kind, id));
        for item in self.store.db.scan_prefix(redirect_key_prefix(kind)) {
            let (key, target) = item?;
            if target.as_ref() == id.as_str().as_bytes() {
                self.batch.remove(key);
            }
        }
        self.stage_bytes(shred_key(slot), Vec::new());
        self.slots_to_shred.push(slot);
        let erasure_seq = self.allocate_seq();
        let erasure = crate::store::Erasure::of(kind, id, erasure_seq);
        let mut erasure_key = super::ERASURE_PREFIX.to_vec();
        erasure_key.extend_from_slice(&erasure_seq.to_be_bytes());
        self.stage_bytes(erasure_key, serde_json::to_vec(&erasure)?);
        self.slots.remove(&(kind, id.clone()));
        self.staged.insert((kind, id.clone()), Staged::Removed);
        self.record_change(kind, id, true);
        Ok(())
    }

    /// Appends to a record's audit trail, sealed with the record's key (so that erasing the
    /// record also makes its audit details unreadable). `in_clear` entries carry no personal
    /// data (erasure notes) and survive erasure.
    fn append_audit(
        &mut self,
        kind: RecordKind,
        id: &RecordId,
        entry: &AuditEntry,
        in_clear: bool,
    ) -> Result<(), StoreError> {
        let seq = self.allocate_seq();
        let mut key = audit_prefix(kind, id);
        key.extend_from_slice(&seq.to_be_bytes());
        let plaintext = codec::encode_audit(entry)?;
        let envelope = if in_clear {
            codec::seal_envelope(PLAINTEXT_SLOT, None, &key, &plaintext)?
        } else {
            self.seal_for(kind, id, &key, &plaintext)?
        };
        self.stage_bytes(key, envelope);
        Ok(())
    }

    fn put_redirect(&mut self, kind: RecordKind, from: &RecordId, to: &RecordId) -> Result<(), StoreError> {
        self.has_writes = true;
        self.stage_bytes(redirect_key(kind, from), to.as_str().as_bytes());
        Ok(())
    }

    /// Stores a contact request sealed with the expert's key.
    fn add_contact_request(
        &mut self,
        request: ContactRequest,
        received_at: Timestamp,
    ) -> Result<StoredContactRequest, StoreError> {
        let seq = self.allocate_seq();
        let stored = StoredContactRequest::received(seq, request, received_at);
        let mut key = contact_prefix(&stored.request.expert_id);
        key.extend_from_slice(&seq.to_be_bytes());
        let envelope = self.seal_contact_request(&key, &stored)?;
        self.stage_bytes(key.clone(), envelope);
        self.stage_bytes(contact_id_key(&stored.id), key);
        Ok(stored)
    }

    fn contact_request(&mut self, id: &str) -> Result<Option<StoredContactRequest>, StoreError> {
        if let Some(staged) = self.staged_contacts.get(id) {
            return Ok(Some(staged.clone()));
        }
        match self.contact_key(id)? {
            Some(key) => self.store.contact_request_at(&key),
            None => Ok(None),
        }
    }

    fn update_contact_request(&mut self, stored: &StoredContactRequest) -> Result<(), StoreError> {
        let key = self
            .contact_key(&stored.id)?
            .ok_or_else(|| StoreError::Corrupt(format!("no contact request {}", stored.id)))?;
        self.has_writes = true;
        let envelope = self.seal_contact_request(&key, stored)?;
        self.stage_bytes(key, envelope);
        self.staged_contacts.insert(stored.id.clone(), stored.clone());
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<TransactionOutcome, StoreError> {
        if !self.has_writes {
            return Ok(TransactionOutcome {
                changes: Vec::new(),
                written: Vec::new(),
                first_seq: 0,
                last_seq: 0,
            });
        }
        self.store.ensure_free_space(self.staged_bytes)?;
        let started = std::time::Instant::now();
        self.store.keys.write_keys(&self.new_keys)?;
        let keys_written = started.elapsed();
        self.stage_bytes(META_SEQ, self.next_seq.to_be_bytes());
        self.store.db.apply_batch(std::mem::take(&mut self.batch))?;
        let applied = started.elapsed();
        self.store.db.flush()?;
        tracing::debug!(
            changes = self.changes.len(),
            keys_ms = keys_written.as_millis() as u64,
            apply_ms = (applied - keys_written).as_millis() as u64,
            flush_ms = (started.elapsed() - applied).as_millis() as u64,
            "store batch committed"
        );
        self.store.last_seq.store(self.next_seq, Ordering::SeqCst);
        if !self.slots_to_shred.is_empty() {
            for slot in &self.slots_to_shred {
                self.store.keys.destroy(*slot)?;
            }
            for slot in &self.slots_to_shred {
                self.store.db.remove(shred_key(*slot))?;
            }
            self.store.db.flush()?;
        }
        let written = crate::store::written_records(std::mem::take(&mut self.staged));
        Ok(TransactionOutcome {
            changes: std::mem::take(&mut self.changes),
            written,
            first_seq: self.start_seq + 1,
            last_seq: self.next_seq,
        })
    }
}
