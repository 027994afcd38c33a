//! Opening, writing and catching up the indexes; see the module documentation.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};
use tracing::{info, warn};

use super::SearchError;
use super::schema::{CaseFields, ExpertFields, case_document, case_schema, expert_document, expert_schema};
use super::segments::SegmentTables;
use crate::domain::{RecordId, RecordKind};
use crate::store::{Change, Store, Written};
use crate::text::Analyzers;
use crate::vocab::Vocabulary;

const EXPERT_WRITER_BUDGET_BYTES: usize = 64 * 1024 * 1024;
const CASE_WRITER_BUDGET_BYTES: usize = 32 * 1024 * 1024;

pub(super) struct KindIndex<F> {
    pub reader: IndexReader,
    /// Per-segment tables for filters, facets and ranking features.
    pub tables: SegmentTables,
    pub fields: F,
}

impl<F> KindIndex<F> {
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }
}

struct Writers {
    experts: IndexWriter<TantivyDocument>,
    cases: IndexWriter<TantivyDocument>,
    /// Changes added to the writers but not committed yet (see `stage`).
    staged: Staged,
}

#[derive(Default)]
struct Staged {
    /// The last change added to the writers; 0 when nothing is staged.
    seq: u64,
    changes: u64,
    erased: Vec<(RecordKind, RecordId)>,
}

/// What a catch-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CatchUp {
    pub applied_changes: u64,
    pub covered_seq: u64,
}

pub struct SearchEngine {
    pub(super) analyzers: Analyzers,
    pub(super) vocabulary: Arc<Vocabulary>,
    pub(super) experts: KindIndex<ExpertFields>,
    pub(super) cases: KindIndex<CaseFields>,
    writers: Mutex<Option<Writers>>,
    covered_seq: AtomicU64,
}

fn open_index(path: &Path, schema: Schema, analyzers: &Analyzers) -> Result<(Index, bool), SearchError> {
    std::fs::create_dir_all(path)?;
    let directory = MmapDirectory::open(path)?;
    let opened = match Index::open_or_create(directory, schema.clone()) {
        Ok(index) => (index, false),
        Err(error) => {
            // A schema from another version, or damaged files: start afresh and rebuild from the store.
            warn!(path = %path.display(), %error, "index unusable, recreating it from the store");
            std::fs::remove_dir_all(path)?;
            std::fs::create_dir_all(path)?;
            (Index::create_in_dir(path, schema)?, true)
        }
    };
    analyzers.register(opened.0.tokenizers());
    Ok(opened)
}

fn committed_seq(index: &Index) -> Result<u64, SearchError> {
    Ok(index
        .load_metas()?
        .payload
        .and_then(|payload| payload.parse().ok())
        .unwrap_or(0))
}

fn open_reader(index: &Index) -> Result<IndexReader, SearchError> {
    Ok(index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?)
}

impl SearchEngine {
    /// Opens (or creates) the indexes under `dir` and brings them up to date with `store`.
    pub fn open(
        dir: &Path,
        store: &Store,
        vocabulary: Arc<Vocabulary>,
        analyzers: Analyzers,
    ) -> Result<SearchEngine, SearchError> {
        let (expert_schema, expert_fields) = expert_schema();
        let (case_schema, case_fields) = case_schema();
        let (expert_index, experts_recreated) = open_index(&dir.join("experts"), expert_schema, &analyzers)?;
        let (case_index, cases_recreated) = open_index(&dir.join("cases"), case_schema, &analyzers)?;
        let experts_writer = expert_index.writer_with_num_threads(1, EXPERT_WRITER_BUDGET_BYTES)?;
        let cases_writer = case_index.writer_with_num_threads(1, CASE_WRITER_BUDGET_BYTES)?;
        let covered = committed_seq(&expert_index)?.min(committed_seq(&case_index)?);
        let engine = SearchEngine {
            experts: KindIndex {
                reader: open_reader(&expert_index)?,
                tables: SegmentTables::new(true),
                fields: expert_fields,
            },
            cases: KindIndex {
                reader: open_reader(&case_index)?,
                tables: SegmentTables::new(false),
                fields: case_fields,
            },
            analyzers,
            vocabulary,
            writers: Mutex::new(Some(Writers {
                experts: experts_writer,
                cases: cases_writer,
                staged: Staged::default(),
            })),
            covered_seq: AtomicU64::new(covered),
        };
        let store_is_behind = covered > store.last_seq();
        if experts_recreated || cases_recreated || store_is_behind {
            engine.rebuild(store)?;
        } else {
            let caught_up = engine.catch_up(store)?;
            if caught_up.applied_changes > 0 {
                info!(
                    changes = caught_up.applied_changes,
                    seq = caught_up.covered_seq,
                    "index caught up with the store"
                );
            }
        }
        Ok(engine)
    }

    /// The store sequence the committed index covers.
    pub fn covered_seq(&self) -> u64 {
        self.covered_seq.load(Ordering::SeqCst)
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    pub fn analyzers(&self) -> &Analyzers {
        &self.analyzers
    }

    pub fn document_counts(&self) -> (u64, u64) {
        (self.experts.searcher().num_docs(), self.cases.searcher().num_docs())
    }

    pub fn segment_counts(&self) -> (usize, usize) {
        (
            self.experts.searcher().segment_readers().len(),
            self.cases.searcher().segment_readers().len(),
        )
    }

    fn with_writers<T>(&self, work: impl FnOnce(&mut Writers) -> Result<T, SearchError>) -> Result<T, SearchError> {
        let mut guard = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let writers = guard.as_mut().ok_or_else(|| {
            SearchError::Engine(tantivy::TantivyError::InternalError("the index is shut down".into()))
        })?;
        work(writers)
    }

    /// Applies every change the store made after what the index covers, commits once, and
    /// makes the result visible. Concurrent callers share the work: a caller returns once its
    /// own store changes are committed to the index.
    pub fn catch_up(&self, store: &Store) -> Result<CatchUp, SearchError> {
        self.with_writers(|writers| {
            let start = self.covered_seq();
            // Sequence numbers also number audit entries and contact requests; every change up
            // to the store's last sequence at this moment is in the change log already.
            let store_seq_at_start = store.last_seq();
            self.add_changes(writers, store)?;
            let staged = std::mem::take(&mut writers.staged);
            let covered = start.max(store_seq_at_start).max(staged.seq);
            if staged.changes == 0 {
                if covered > start {
                    self.covered_seq.store(covered, Ordering::SeqCst);
                }
                return Ok(CatchUp {
                    applied_changes: 0,
                    covered_seq: covered,
                });
            }
            self.commit_both(writers, covered)?;
            if !staged.erased.is_empty() {
                self.purge_erased(writers, &staged.erased)?;
            }
            store.prune_changes_through(covered)?;
            Ok(CatchUp {
                applied_changes: staged.changes,
                covered_seq: covered,
            })
        })
    }

    /// Adds the store's new changes to the writers without committing them, so that a long
    /// import can index one chunk while it reads the next. Nothing is visible or durable in
    /// the index until `catch_up` commits; after a crash the change log still has them all.
    pub fn stage(&self, store: &Store) -> Result<u64, SearchError> {
        self.with_writers(|writers| self.add_changes(writers, store))
    }

    /// Like `stage`, with the records a write just committed: when nothing else was written
    /// in between, they are indexed as they are, without reading them back from the store.
    pub fn stage_committed(&self, store: &Store, changes: &[Change], written: &[Written]) -> Result<u64, SearchError> {
        self.with_writers(|writers| {
            let from = self.covered_seq().max(writers.staged.seq);
            let contiguous = changes.first().is_some_and(|first| first.seq == from + 1);
            if !contiguous {
                return self.add_changes(writers, store);
            }
            for record in written {
                self.index_written(writers, record)?;
            }
            for change in changes {
                if change.erased {
                    writers.staged.erased.push((change.kind, change.id.clone()));
                }
                writers.staged.seq = writers.staged.seq.max(change.seq);
                writers.staged.changes += 1;
            }
            Ok(changes.len() as u64)
        })
    }

    fn add_changes(&self, writers: &mut Writers, store: &Store) -> Result<u64, SearchError> {
        let from = self.covered_seq().max(writers.staged.seq);
        let mut added = 0;
        for change in store.changes_after(from) {
            let change = change?;
            self.apply_one(writers, store, change.kind, &change.id)?;
            if change.erased {
                writers.staged.erased.push((change.kind, change.id.clone()));
            }
            writers.staged.seq = writers.staged.seq.max(change.seq);
            writers.staged.changes += 1;
            added += 1;
        }
        Ok(added)
    }

    fn apply_one(
        &self,
        writers: &mut Writers,
        store: &Store,
        kind: RecordKind,
        id: &RecordId,
    ) -> Result<(), SearchError> {
        let current = match kind {
            RecordKind::Expert => store.expert(id)?.map(|expert| Written::Expert(Box::new(expert))),
            RecordKind::Case => store.case(id)?.map(|case| Written::Case(Box::new(case))),
        };
        self.index_written(writers, &current.unwrap_or_else(|| Written::Removed(kind, id.clone())))
    }

    /// Replaces a record's document in the writer (delete by id, then add), or deletes it.
    fn index_written(&self, writers: &mut Writers, record: &Written) -> Result<(), SearchError> {
        match record {
            Written::Expert(expert) => {
                let id = Term::from_field_text(self.experts.fields.common.id, expert.record.id.as_str());
                writers.experts.delete_term(id);
                let document = expert_document(&self.experts.fields, &self.vocabulary, &self.analyzers, expert);
                writers.experts.add_document(document)?;
            }
            Written::Case(case) => {
                let id = Term::from_field_text(self.cases.fields.common.id, case.record.id.as_str());
                writers.cases.delete_term(id);
                let document = case_document(&self.cases.fields, &self.vocabulary, &self.analyzers, case);
                writers.cases.add_document(document)?;
            }
            Written::Removed(kind, id) => {
                let (writer, field) = match kind {
                    RecordKind::Expert => (&writers.experts, self.experts.fields.common.id),
                    RecordKind::Case => (&writers.cases, self.cases.fields.common.id),
                };
                writer.delete_term(Term::from_field_text(field, id.as_str()));
            }
        }
        Ok(())
    }

    fn commit_both(&self, writers: &mut Writers, covered: u64) -> Result<(), SearchError> {
        let payload = covered.to_string();
        let mut prepared = writers.experts.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        let mut prepared = writers.cases.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.experts.reader.reload()?;
        self.cases.reader.reload()?;
        self.covered_seq.store(covered, Ordering::SeqCst);
        Ok(())
    }

    /// Rebuilds both indexes from the store (`citypeers reindex`, or an unusable index).
    pub fn rebuild(&self, store: &Store) -> Result<CatchUp, SearchError> {
        self.with_writers(|writers| {
            let covered = store.last_seq();
            writers.staged = Staged::default();
            writers.experts.delete_all_documents()?;
            writers.cases.delete_all_documents()?;
            let mut applied = 0u64;
            for expert in store.experts() {
                let expert = expert?;
                writers.experts.add_document(expert_document(
                    &self.experts.fields,
                    &self.vocabulary,
                    &self.analyzers,
                    &expert,
                ))?;
                applied += 1;
            }
            for case in store.cases() {
                let case = case?;
                writers.cases.add_document(case_document(
                    &self.cases.fields,
                    &self.vocabulary,
                    &self.analyzers,
                    &case,
                ))?;
                applied += 1;
            }
            self.commit_both(writers, covered)?;
            store.prune_changes_through(covered)?;
            info!(records = applied, seq = covered, "index rebuilt from the store");
            Ok(CatchUp {
                applied_changes: applied,
                covered_seq: covered,
            })
        })
    }

    /// Rewrites the segments that still hold erased documents, so that their terms leave the
    /// index files, then deletes the old files.
    fn purge_erased(&self, writers: &mut Writers, erased: &[(RecordKind, RecordId)]) -> Result<(), SearchError> {
        let erased_ids = |kind: RecordKind| {
            erased
                .iter()
                .filter(move |(candidate, _)| *candidate == kind)
                .map(|(_, id)| id)
        };
        purge_segments(
            &mut writers.experts,
            &self.experts.reader,
            self.experts.fields.common.id,
            erased_ids(RecordKind::Expert),
        )?;
        purge_segments(
            &mut writers.cases,
            &self.cases.reader,
            self.cases.fields.common.id,
            erased_ids(RecordKind::Case),
        )?;
        Ok(())
    }

    /// Commits nothing new, waits for merges and releases the writers (clean shutdown).
    pub fn shutdown(&self) -> Result<(), SearchError> {
        let mut guard = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(writers) = guard.take() {
            writers.experts.wait_merging_threads()?;
            writers.cases.wait_merging_threads()?;
        }
        Ok(())
    }

    /// The number of documents matching a term in the id field (diagnostics and tests).
    pub fn contains(&self, kind: RecordKind, id: &RecordId) -> bool {
        let (searcher, field) = match kind {
            RecordKind::Expert => (self.experts.searcher(), self.experts.fields.common.id),
            RecordKind::Case => (self.cases.searcher(), self.cases.fields.common.id),
        };
        let query = TermQuery::new(Term::from_field_text(field, id.as_str()), IndexRecordOption::Basic);
        searcher.search(&query, &tantivy::collector::Count).unwrap_or(0) > 0
    }
}

fn purge_segments<'a>(
    writer: &mut IndexWriter<TantivyDocument>,
    reader: &IndexReader,
    id_field: Field,
    ids: impl Iterator<Item = &'a RecordId> + Clone,
) -> Result<(), SearchError> {
    let terms: Vec<Term> = ids.map(|id| Term::from_field_text(id_field, id.as_str())).collect();
    if terms.is_empty() {
        return Ok(());
    }
    for _attempt in 0..3 {
        let searcher = reader.searcher();
        let mut holding: Vec<SegmentId> = Vec::new();
        for segment in searcher.segment_readers() {
            let inverted_index = segment.inverted_index(id_field)?;
            for term in &terms {
                if inverted_index.doc_freq(term)? > 0 {
                    holding.push(segment.segment_id());
                    break;
                }
            }
        }
        if holding.is_empty() {
            break;
        }
        if let Err(error) = writer.merge(&holding).wait() {
            // A background merge may have taken one of the segments; look again.
            warn!(%error, "merge for erasure did not run, retrying");
        }
        reader.reload()?;
    }
    writer.garbage_collect_files().wait()?;
    Ok(())
}

/// A filter that keeps only published records.
pub(super) fn published_only(status_field: Field) -> Box<dyn Query> {
    Box::new(super::query::u64_term_query(
        status_field,
        crate::domain::Status::Published.code(),
    ))
}

pub(super) fn and(clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(clauses))
}
