//! The indexer: keeps the search index up to date with the store. It reads the store's change
//! log after the sequence the index covers, reads each changed record, and hands the engine the
//! updates with their sequence; once the engine has committed, the change log is pruned through
//! what is committed. It rebuilds the index from the store when the index is new or was
//! unusable (in the background, while readiness says why), and retries in the background when
//! a catch-up fails (a full disk, say), so that nobody has to repair anything by hand.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use super::reading::RecordKey;
use super::{App, AppError};
use crate::domain::{RecordId, RecordKind};
use crate::search::IndexUpdate;
use crate::store::{Change, Written};

/// Changes read from the change log at a time.
const CHANGE_BATCH: usize = 2_000;
/// Records staged at a time during a rebuild.
const REBUILD_BATCH: usize = 1_000;
/// Records checked for outdated inferred topics at a time, and staged again at a time.
const RESTAGE_BATCH: usize = 200;
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(30);
/// How often a node looks for other nodes' changes when none was announced.
const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// Whether the index can be trusted to reflect the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexState {
    Ready,
    /// Being rebuilt from the store; searches would miss records until it is done.
    Rebuilding {
        reason: String,
        indexed: u64,
    },
    /// The last catch-up failed; it is retried in the background.
    Failing {
        reason: String,
    },
}

pub(crate) struct Indexer {
    /// One catch-up or rebuild at a time; a caller that waited finds its change committed.
    running: Mutex<()>,
    state: RwLock<IndexState>,
    retrying: AtomicBool,
}

impl Indexer {
    pub(crate) fn new() -> Indexer {
        Indexer {
            running: Mutex::new(()),
            state: RwLock::new(IndexState::Ready),
            retrying: AtomicBool::new(false),
        }
    }

    pub(crate) fn state(&self) -> IndexState {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_state(&self, state: IndexState) {
        *self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner) = state;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A record read back from the store, as the index should now show it.
fn current_state(app: &App, kind: RecordKind, id: &RecordId) -> Result<Written, AppError> {
    let store = app.store();
    let current = match kind {
        RecordKind::Expert => store.expert(id)?.map(|expert| Written::Expert(Box::new(expert))),
        RecordKind::Case => store.case(id)?.map(|case| Written::Case(Box::new(case))),
    };
    Ok(current.unwrap_or_else(|| Written::Removed(kind, id.clone())))
}

fn as_update<'a>(written: &'a Written, erased: bool) -> IndexUpdate<'a> {
    match written {
        Written::Expert(expert) => IndexUpdate::Expert(expert),
        Written::Case(case) => IndexUpdate::Case(case),
        Written::Removed(kind, id) => IndexUpdate::Remove {
            kind: *kind,
            id,
            erased,
        },
    }
}

impl App {
    pub(crate) fn index_state(&self) -> IndexState {
        self.inner.indexer.state()
    }

    /// Refuses writes while the index is being rebuilt: a write must be searchable when its
    /// answer arrives, and the rebuild holds the indexer for a while.
    pub(crate) fn ensure_writable(&self) -> Result<(), AppError> {
        match self.index_state() {
            IndexState::Rebuilding { .. } => Err(AppError::Unavailable(
                "the search index is being rebuilt from the store; try again in a moment".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Brings the index up to date with the store; called after every acknowledged write, so
    /// that the change is searchable when the answer arrives. A failure is logged and retried
    /// in the background: the write itself is safe in the store.
    pub(crate) fn index_changes(&self) -> Result<(), AppError> {
        let indexer = &self.inner.indexer;
        let _running = indexer.lock();
        match self.catch_up_locked() {
            Ok(applied) => {
                if applied > 0 || matches!(indexer.state(), IndexState::Failing { .. }) {
                    indexer.set_state(IndexState::Ready);
                }
                if applied > 0 {
                    self.curated_data_changed();
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "the index could not catch up with the store; retrying in the background");
                indexer.set_state(IndexState::Failing {
                    reason: format!("the index is behind the store: {error}"),
                });
                self.retry_in_background();
                Ok(())
            }
        }
    }

    /// Stages what a write (an import chunk) committed, taking the records as written when
    /// they follow what is staged, else reading the changes back; commits nothing.
    pub(crate) fn stage_written(&self, first_seq: u64, last_seq: u64, changes: &[Change], written: &[Written]) {
        let _running = self.inner.indexer.lock();
        self.inner
            .shown
            .changed(changes.iter().map(|change| (change.kind, &change.id)));
        let engine = self.engine();
        let follows = first_seq == engine.staged_seq() + 1;
        let result = if follows {
            let erased = |written: &Written| {
                changes
                    .iter()
                    .any(|change| change.erased && change.kind == written.kind() && &change.id == written.id())
            };
            let updates: Vec<IndexUpdate<'_>> =
                written.iter().map(|record| as_update(record, erased(record))).collect();
            engine.stage(last_seq, &updates).map_err(AppError::from)
        } else {
            self.stage_changes_after(engine.staged_seq()).map(|_| ())
        };
        if let Err(error) = result {
            // The commit at the end of the import catches up from the change log instead.
            tracing::warn!(%error, "staging an import chunk failed");
            engine.discard_staged();
        }
    }

    /// Stages every change after `from`; returns the sequence of the last one.
    fn stage_changes_after(&self, mut from: u64) -> Result<u64, AppError> {
        loop {
            let changes = self.store().changes_after(from, CHANGE_BATCH)?;
            let Some(last) = changes.last() else {
                return Ok(from);
            };
            let last_seq = last.seq;
            self.inner
                .shown
                .changed(changes.iter().map(|change| (change.kind, &change.id)));
            let records = changes
                .iter()
                .map(|change| current_state(self, change.kind, &change.id))
                .collect::<Result<Vec<_>, _>>()?;
            let updates: Vec<IndexUpdate<'_>> = records
                .iter()
                .zip(&changes)
                .map(|(record, change)| as_update(record, change.erased))
                .collect();
            self.engine().stage(last_seq, &updates)?;
            from = last_seq;
        }
    }

    /// Finishes purges of erased records that a crash interrupted: erasures the index covers
    /// whose change-log entries are still there (they are pruned only once purged).
    pub(crate) fn finish_interrupted_purges(&self) -> Result<(), AppError> {
        let _running = self.inner.indexer.lock();
        let covered = self.engine().covered_seq();
        let mut erased = Vec::new();
        let mut from = 0;
        loop {
            let changes = self.store().changes_after(from, CHANGE_BATCH)?;
            let Some(last) = changes.last() else { break };
            from = last.seq;
            erased.extend(
                changes
                    .iter()
                    .filter(|change| change.erased && change.seq <= covered)
                    .map(|change| (change.kind, change.id.clone())),
            );
            if from >= covered {
                break;
            }
        }
        if !erased.is_empty() {
            tracing::info!(
                records = erased.len(),
                "finishing an interrupted purge of erased records"
            );
            self.engine().purge(&erased)?;
        }
        Ok(())
    }

    fn catch_up_locked(&self) -> Result<u64, AppError> {
        let engine = self.engine();
        // Every change up to this sequence is in the change log already.
        let target = self.store().last_seq()?;
        if target <= engine.covered_seq() {
            return Ok(0);
        }
        let staged_through = self.stage_changes_after(engine.staged_seq())?;
        let applied = engine.commit(target.max(staged_through))?;
        self.store().prune_changes_through(engine.covered_seq())?;
        Ok(applied)
    }

    /// Rebuilds the index from the store (`citypeers reindex`, a new or unusable index).
    /// Records written meanwhile are in the change log after the sequence read first, and the
    /// catch-up at the end applies them.
    pub fn reindex(&self) -> Result<u64, AppError> {
        let indexed = {
            let _running = self.inner.indexer.lock();
            self.rebuild_locked()?
        };
        // Records staged before the last model was put in use were read with an older one;
        // a retrain ending meanwhile marks it again.
        self.take_restage_after_rebuild();
        self.restage_outdated_inferences()?;
        while self.take_restage_after_rebuild() {
            self.restage_outdated_inferences()?;
        }
        Ok(indexed)
    }

    /// After the topic model changed: stages again the untagged records (as the last training
    /// found them) whose documents hold other inferred topics than the model now reads in
    /// them, and commits them. Each batch is read from the store and checked against the
    /// index; what changed is read again and staged under the indexer's lock, so that a write
    /// in between is never undone. One commit at the end (writes in between commit what is
    /// staged so far) keeps the index from splitting into a segment per batch. Returns how
    /// many records were staged again.
    pub(crate) fn restage_outdated_inferences(&self) -> Result<u64, AppError> {
        if self.topic_model().examples() == 0 {
            // Nothing was learned yet: every document was read with the vocabulary alone.
            return Ok(0);
        }
        let untagged = self.untagged_records();
        let mut restaged = 0;
        for batch in untagged.chunks(RESTAGE_BATCH) {
            if self.is_shutting_down() {
                break;
            }
            restaged += self.restage_if_outdated(batch)?;
        }
        if restaged > 0 {
            let _running = self.inner.indexer.lock();
            let engine = self.engine();
            engine.commit(engine.covered_seq())?;
            tracing::info!(records = restaged, "records read again with the learned topic model");
        }
        Ok(restaged)
    }

    /// Stages the records of `batch` whose documents are outdated; returns how many. They are
    /// checked without the indexer's lock, then read again and staged under it.
    fn restage_if_outdated(&self, batch: &[RecordKey]) -> Result<u64, AppError> {
        let records = self.current_states(batch)?;
        let updates: Vec<IndexUpdate<'_>> = records.iter().map(|record| as_update(record, false)).collect();
        let outdated: Vec<RecordKey> = records
            .iter()
            .zip(self.engine().outdated_inferences(&updates)?)
            .filter(|(_, outdated)| *outdated)
            .map(|(record, _)| (record.kind(), record.id().clone()))
            .collect();
        if outdated.is_empty() {
            return Ok(0);
        }
        let _running = self.inner.indexer.lock();
        let records = self.current_states(&outdated)?;
        let updates: Vec<IndexUpdate<'_>> = records.iter().map(|record| as_update(record, false)).collect();
        self.engine().stage(0, &updates)?;
        Ok(updates.len() as u64)
    }

    /// The records as the store holds them now (removed ones as removals).
    fn current_states(&self, keys: &[RecordKey]) -> Result<Vec<Written>, AppError> {
        keys.iter().map(|(kind, id)| current_state(self, *kind, id)).collect()
    }

    fn rebuild_locked(&self) -> Result<u64, AppError> {
        let engine = self.engine();
        let started = std::time::Instant::now();
        let target = self.store().last_seq()?;
        engine.clear()?;
        self.inner.shown.clear();
        let mut indexed = 0u64;
        let mut failure: Option<AppError> = None;
        let mut batch: Vec<Written> = Vec::with_capacity(REBUILD_BATCH);
        let flush = |batch: &mut Vec<Written>, indexed: &mut u64| -> Result<(), AppError> {
            let updates: Vec<IndexUpdate<'_>> = batch.iter().map(|record| as_update(record, false)).collect();
            engine.stage(0, &updates)?;
            *indexed += batch.len() as u64;
            batch.clear();
            self.note_rebuild_progress(*indexed);
            Ok(())
        };
        let mut take = |record: Written, indexed: &mut u64| {
            batch.push(record);
            if batch.len() >= REBUILD_BATCH
                && let Err(error) = flush(&mut batch, indexed)
            {
                failure = Some(error);
                return false;
            }
            true
        };
        self.store()
            .scan_experts(&mut |expert| take(Written::Expert(Box::new(expert)), &mut indexed))?;
        self.store()
            .scan_cases(&mut |case| take(Written::Case(Box::new(case)), &mut indexed))?;
        if let Some(error) = failure {
            return Err(error);
        }
        flush(&mut batch, &mut indexed)?;
        engine.commit(target)?;
        self.catch_up_locked()?;
        crate::search::remove_set_aside(&self.inner.config.data_dir.join("index"))?;
        tracing::info!(
            records = indexed,
            seq = engine.covered_seq(),
            seconds = started.elapsed().as_secs_f64(),
            "index rebuilt from the store"
        );
        Ok(indexed)
    }

    fn note_rebuild_progress(&self, indexed: u64) {
        let indexer = &self.inner.indexer;
        if let IndexState::Rebuilding { reason, .. } = indexer.state() {
            indexer.set_state(IndexState::Rebuilding { reason, indexed });
        }
    }

    /// Rebuilds in a background thread; readiness reports `reason` until it is done.
    pub(crate) fn rebuild_in_background(&self, reason: String) {
        let indexer = &self.inner.indexer;
        indexer.set_state(IndexState::Rebuilding { reason, indexed: 0 });
        let app = self.clone();
        let spawned = std::thread::Builder::new().name("index-rebuild".into()).spawn(move || {
            let result = app.reindex();
            match result {
                Ok(_) => {
                    app.inner.indexer.set_state(IndexState::Ready);
                    // A retrain that ended in the moment before readiness left it to us.
                    if app.take_restage_after_rebuild()
                        && let Err(error) = app.restage_outdated_inferences()
                    {
                        tracing::warn!(%error, "indexing what the topic model reads in untagged records failed");
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "rebuilding the index failed; retrying in the background");
                    app.inner.indexer.set_state(IndexState::Failing {
                        reason: format!("rebuilding the index failed: {error}"),
                    });
                    app.retry_in_background();
                }
            }
        });
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start the index rebuild");
        }
    }

    /// Retries the catch-up with growing pauses until it succeeds (one retry loop at a time).
    fn retry_in_background(&self) {
        if self.inner.indexer.retrying.swap(true, Ordering::SeqCst) {
            return;
        }
        let waiting = self.downgrade();
        let spawned = std::thread::Builder::new().name("index-retry".into()).spawn(move || {
            let mut wait = Duration::from_millis(500);
            loop {
                std::thread::sleep(wait);
                // Held only while retrying: a stopped service closes its store meanwhile.
                let Some(app) = waiting.upgrade() else { return };
                if app.inner.shutting_down.load(Ordering::SeqCst) {
                    app.inner.indexer.retrying.store(false, Ordering::SeqCst);
                    return;
                }
                let result = {
                    let _running = app.inner.indexer.lock();
                    app.catch_up_locked()
                };
                match result {
                    Ok(_) => {
                        app.inner.indexer.set_state(IndexState::Ready);
                        tracing::info!("the index caught up with the store again");
                        app.inner.indexer.retrying.store(false, Ordering::SeqCst);
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the index is still behind the store");
                        app.inner.indexer.set_state(IndexState::Failing {
                            reason: format!("the index is behind the store: {error}"),
                        });
                        wait = (wait * 2).min(LONGEST_RETRY_WAIT);
                    }
                }
            }
        });
        if spawned.is_err() {
            self.inner.indexer.retrying.store(false, Ordering::SeqCst);
        }
    }

    /// On a store shared by several nodes: applies the other nodes' changes to this node's
    /// index as they are announced, and at least every second (should an announcement be lost).
    pub(crate) fn follow_other_nodes(&self) {
        let Some(signal) = self.store().take_change_signal() else {
            return;
        };
        let following = self.downgrade();
        let spawned = std::thread::Builder::new()
            .name("follow-changes".into())
            .spawn(move || {
                loop {
                    let announced = signal.recv_timeout(FOLLOW_POLL);
                    if matches!(announced, Err(std::sync::mpsc::RecvTimeoutError::Disconnected)) {
                        std::thread::sleep(FOLLOW_POLL);
                    }
                    let Some(app) = following.upgrade() else { return };
                    if app.inner.shutting_down.load(Ordering::SeqCst) {
                        return;
                    }
                    if matches!(app.index_state(), IndexState::Rebuilding { .. }) {
                        continue;
                    }
                    let behind = match app.store().last_seq() {
                        Ok(seq) => seq > app.engine().covered_seq(),
                        Err(error) => {
                            tracing::warn!(%error, "cannot read the store's sequence to follow other nodes");
                            false
                        }
                    };
                    if behind && let Err(error) = app.index_changes() {
                        tracing::warn!(%error, "applying other nodes' changes failed");
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start following other nodes' changes");
        }
    }

    /// Waits until a background rebuild is done (commands that need the index at once).
    pub fn wait_until_indexed(&self) -> Result<(), AppError> {
        loop {
            match self.index_state() {
                IndexState::Rebuilding { .. } => std::thread::sleep(Duration::from_millis(50)),
                IndexState::Ready => return Ok(()),
                IndexState::Failing { reason } => return Err(AppError::Unavailable(reason)),
            }
        }
    }
}
