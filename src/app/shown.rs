//! Records as this node shows them in public answers: a bounded cache of records read from
//! the store, dropped for each change as the indexer applies it, so that a store across the
//! network (PostgreSQL) is read once per change rather than for every hit of every request.
//! It is exactly as fresh as the node's index; edits read the store itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use quick_cache::sync::Cache;

use crate::domain::{Case, Expert, RecordId, RecordKind, Versioned};
use crate::store::{Store, StoreError};

/// Records of each kind kept (about 2 KB each).
const CAPACITY: usize = 8_192;

pub(crate) struct ShownRecords {
    experts: Cache<RecordId, Arc<Versioned<Expert>>>,
    cases: Cache<RecordId, Arc<Versioned<Case>>>,
    /// Moves on with every invalidation: a read that began before one is not kept.
    generation: AtomicU64,
    /// Held to keep a read (shared) or to invalidate (exclusive), so that no stale read is
    /// kept after the invalidation that should have dropped it.
    gate: RwLock<()>,
}

impl ShownRecords {
    pub(crate) fn new() -> ShownRecords {
        ShownRecords {
            experts: Cache::new(CAPACITY),
            cases: Cache::new(CAPACITY),
            generation: AtomicU64::new(0),
            gate: RwLock::new(()),
        }
    }

    pub(crate) fn expert(&self, store: &Store, id: &RecordId) -> Result<Option<Versioned<Expert>>, StoreError> {
        self.read(&self.experts, id, || store.expert(id))
    }

    pub(crate) fn case(&self, store: &Store, id: &RecordId) -> Result<Option<Versioned<Case>>, StoreError> {
        self.read(&self.cases, id, || store.case(id))
    }

    fn read<T: Clone>(
        &self,
        cache: &Cache<RecordId, Arc<Versioned<T>>>,
        id: &RecordId,
        from_store: impl FnOnce() -> Result<Option<Versioned<T>>, StoreError>,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        if let Some(kept) = cache.get(id) {
            return Ok(Some((*kept).clone()));
        }
        let began = self.generation.load(Ordering::SeqCst);
        let read = from_store()?;
        if let Some(record) = &read {
            let _keeping = self.gate.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if self.generation.load(Ordering::SeqCst) == began {
                cache.insert(id.clone(), Arc::new(record.clone()));
            }
        }
        Ok(read)
    }

    /// Drops the records a batch of changes touched.
    pub(crate) fn changed<'a>(&self, records: impl IntoIterator<Item = (RecordKind, &'a RecordId)>) {
        let _invalidating = self.gate.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        for (kind, id) in records {
            match kind {
                RecordKind::Expert => {
                    self.experts.remove(id);
                }
                RecordKind::Case => {
                    self.cases.remove(id);
                }
            }
        }
    }

    /// Drops everything (the index is rebuilt).
    pub(crate) fn clear(&self) {
        let _invalidating = self.gate.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.experts.clear();
        self.cases.clear();
    }
}
