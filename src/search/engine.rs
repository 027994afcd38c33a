//! Opening the indexes (healing what a crash left), taking updates with the store sequence
//! they come from, and committing them; see the module documentation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};
use tracing::{info, warn};

use super::SearchError;
use super::schema::{
    CaseFields, DocumentReaders, ExpertFields, case_document, case_schema, case_search_text, case_text_language,
    expert_document, expert_schema, expert_search_text, expert_text_language, infer_topics,
};
use super::segments::SegmentTables;
use crate::domain::{Case, Expert, RecordId, RecordKind, Versioned};
use crate::reading::TopicModel;
use crate::text::Analyzers;
use crate::vocab::Vocabulary;

const EXPERT_WRITER_BUDGET_BYTES: usize = 64 * 1024 * 1024;
const CASE_WRITER_BUDGET_BYTES: usize = 32 * 1024 * 1024;

pub(super) struct KindIndex<F> {
    pub index: Index,
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
    /// Updates added to the writers but not committed yet.
    staged: Staged,
}

#[derive(Default)]
struct Staged {
    /// The sequence of the last update added to the writers; 0 when nothing is staged.
    seq: u64,
    updates: u64,
    erased: Vec<(RecordKind, RecordId)>,
}

/// One change for the index: a record as it now is, or its removal.
#[derive(Clone, Copy, Debug)]
pub enum IndexUpdate<'a> {
    Expert(&'a Versioned<Expert>),
    Case(&'a Versioned<Case>),
    /// The record is gone; `erased` also purges its text from the index files.
    Remove {
        kind: RecordKind,
        id: &'a RecordId,
        erased: bool,
    },
}

/// What opening the indexes found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The indexes were created afresh (new, from another schema, or unusable): they must be
    /// rebuilt from the store.
    pub needs_rebuild: bool,
    /// Why, when they were unusable.
    pub reason: Option<String>,
    /// Files a crash left behind that no commit referenced, removed before opening.
    pub stray_files_removed: usize,
}

pub struct SearchEngine {
    pub(super) analyzers: Analyzers,
    pub(super) vocabulary: Arc<Vocabulary>,
    pub(super) experts: KindIndex<ExpertFields>,
    pub(super) cases: KindIndex<CaseFields>,
    writers: Mutex<WriterSlot>,
    covered_seq: AtomicU64,
    /// The topic model documents are read with (it infers the topics of untagged records).
    topic_model: RwLock<Arc<TopicModel>>,
}

/// The writers, or why there are none: after a failed commit they are dropped and reopened
/// from what is committed on disk when next needed.
enum WriterSlot {
    Open(Box<Writers>),
    ToReopen,
    ShutDown,
}

const KEPT_FILES: [&str; 4] = [
    "meta.json",
    ".managed.json",
    ".tantivy-meta.lock",
    ".tantivy-writer.lock",
];

/// Removes the files of `dir` that the last commit does not reference: segments and delete
/// files a crash left half-written would otherwise collide with the next commit's names.
fn remove_unreferenced_files(dir: &Path) -> Result<usize, SearchError> {
    let index = Index::open_in_dir(dir)?;
    let mut referenced: std::collections::HashSet<String> = KEPT_FILES.iter().map(|name| name.to_string()).collect();
    for segment in index.load_metas()?.segments {
        let uuid = segment.id().uuid_string();
        for extension in ["idx", "pos", "term", "store", "fast", "fieldnorm"] {
            referenced.insert(format!("{uuid}.{extension}"));
        }
        if segment.has_deletes() {
            referenced.insert(
                segment
                    .relative_path(tantivy::index::SegmentComponent::Delete)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    drop(index);
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if referenced.contains(&name) || !entry.file_type()?.is_file() {
            continue;
        }
        std::fs::remove_file(entry.path())?;
        removed += 1;
    }
    Ok(removed)
}

/// Moves an unusable index folder aside while the new one is built; `remove_set_aside` deletes
/// it once the rebuild is done (it may hold text of records erased later).
fn move_aside(path: &Path) -> Result<PathBuf, SearchError> {
    let aside = path.with_extension("unusable");
    if aside.exists() {
        std::fs::remove_dir_all(&aside)?;
    }
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// Deletes index folders set aside as unusable under `dir`.
pub fn remove_set_aside(dir: &Path) -> Result<(), SearchError> {
    for kind in ["experts", "cases"] {
        let aside = dir.join(kind).with_extension("unusable");
        if aside.exists() {
            std::fs::remove_dir_all(&aside)?;
            info!(path = %aside.display(), "removed the index set aside");
        }
    }
    Ok(())
}

/// An index opened with its writer, or why it could not be.
fn try_open(
    path: &Path,
    schema: &Schema,
    analyzers: &Analyzers,
    budget: usize,
) -> Result<(Index, IndexWriter<TantivyDocument>, bool, usize), SearchError> {
    let exists = path.join("meta.json").exists();
    let stray = if exists { remove_unreferenced_files(path)? } else { 0 };
    let directory = MmapDirectory::open(path)?;
    let index = Index::open_or_create(directory, schema.clone())?;
    analyzers.register(index.tokenizers());
    let writer = index.writer_with_num_threads(1, budget)?;
    Ok((index, writer, !exists, stray))
}

/// Opens the index at `path` with its writer. Whatever a crash left, this succeeds when the
/// folder can be written at all: stray files are removed, and an index that still cannot be
/// opened (damaged, from another schema) is moved aside and created afresh.
fn open_healing(
    path: &Path,
    schema: Schema,
    analyzers: &Analyzers,
    budget: usize,
    report: &mut OpenReport,
) -> Result<(Index, IndexWriter<TantivyDocument>), SearchError> {
    std::fs::create_dir_all(path)?;
    match try_open(path, &schema, analyzers, budget) {
        Ok((index, writer, created, stray)) => {
            report.stray_files_removed += stray;
            report.needs_rebuild |= created;
            Ok((index, writer))
        }
        Err(error) => {
            let aside = move_aside(path)?;
            warn!(path = %path.display(), aside = %aside.display(), %error, "index unusable; moved aside, rebuilding it from the store");
            report.needs_rebuild = true;
            report.reason = Some(format!("the index at {} could not be opened ({error})", path.display()));
            std::fs::create_dir_all(path)?;
            let index = Index::create_in_dir(path, schema)?;
            analyzers.register(index.tokenizers());
            let writer = index.writer_with_num_threads(1, budget)?;
            Ok((index, writer))
        }
    }
}

/// How documents are built from records (analysers, inferred fields). A commit records it
/// beside the sequence; an index built another way is rebuilt from the store at start.
const DOCUMENT_FORMAT: u32 = 2;

fn commit_payload(covered: u64) -> String {
    format!("{DOCUMENT_FORMAT}:{covered}")
}

/// The sequence a commit covers, or `None` when the index was built another way.
fn committed_seq(index: &Index) -> Result<Option<u64>, SearchError> {
    let payload = index.load_metas()?.payload.unwrap_or_default();
    let Some((format, seq)) = payload.split_once(':') else {
        return Ok(None);
    };
    if format.parse::<u32>().ok() != Some(DOCUMENT_FORMAT) {
        return Ok(None);
    }
    Ok(seq.parse().ok())
}

fn open_reader(index: &Index) -> Result<IndexReader, SearchError> {
    Ok(index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?)
}

impl SearchEngine {
    /// Opens (or creates) the indexes under `dir`, healing what a crash left. The report says
    /// whether they must be rebuilt from the store; otherwise they cover `covered_seq()`.
    pub fn open(
        dir: &Path,
        vocabulary: Arc<Vocabulary>,
        analyzers: Analyzers,
    ) -> Result<(SearchEngine, OpenReport), SearchError> {
        let (expert_schema, expert_fields) = expert_schema();
        let (case_schema, case_fields) = case_schema();
        let mut report = OpenReport::default();
        let (expert_index, experts_writer) = open_healing(
            &dir.join("experts"),
            expert_schema,
            &analyzers,
            EXPERT_WRITER_BUDGET_BYTES,
            &mut report,
        )?;
        let (case_index, cases_writer) = open_healing(
            &dir.join("cases"),
            case_schema,
            &analyzers,
            CASE_WRITER_BUDGET_BYTES,
            &mut report,
        )?;
        if report.stray_files_removed > 0 {
            info!(
                files = report.stray_files_removed,
                "removed index files no commit referenced"
            );
        }
        let expert_seq = committed_seq(&expert_index)?;
        let case_seq = committed_seq(&case_index)?;
        if expert_seq.is_none() && !report.needs_rebuild {
            report.needs_rebuild = true;
            report.reason = Some("the index was built by another version of citypeers".to_string());
        }
        if expert_seq != case_seq {
            // A crash between the two commits: rebuild rather than guess.
            report.needs_rebuild = true;
        }
        let covered = if report.needs_rebuild {
            0
        } else {
            expert_seq.unwrap_or(0)
        };
        let engine = SearchEngine {
            experts: KindIndex {
                reader: open_reader(&expert_index)?,
                index: expert_index,
                tables: SegmentTables::new(true),
                fields: expert_fields,
            },
            cases: KindIndex {
                reader: open_reader(&case_index)?,
                index: case_index,
                tables: SegmentTables::new(false),
                fields: case_fields,
            },
            analyzers,
            vocabulary,
            writers: Mutex::new(WriterSlot::Open(Box::new(Writers {
                experts: experts_writer,
                cases: cases_writer,
                staged: Staged::default(),
            }))),
            covered_seq: AtomicU64::new(covered),
            topic_model: RwLock::new(Arc::new(TopicModel::default())),
        };
        Ok((engine, report))
    }

    /// The store sequence the committed index covers.
    pub fn covered_seq(&self) -> u64 {
        self.covered_seq.load(Ordering::SeqCst)
    }

    /// The sequence of the last update added, committed or not.
    pub fn staged_seq(&self) -> u64 {
        let staged = match &*self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
            WriterSlot::Open(writers) => writers.staged.seq,
            WriterSlot::ToReopen | WriterSlot::ShutDown => 0,
        };
        staged.max(self.covered_seq())
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
        if matches!(*guard, WriterSlot::ToReopen) {
            *guard = WriterSlot::Open(Box::new(self.new_writers()?));
        }
        match &mut *guard {
            WriterSlot::Open(writers) => work(writers),
            _ => Err(SearchError::Engine(tantivy::TantivyError::InternalError(
                "the index is shut down".into(),
            ))),
        }
    }

    /// After a failed commit (a full disk, say) a writer may be unusable and what it holds
    /// uncertain: drop the writers (releasing their lock), go back to what is committed on
    /// disk, and reopen them when next needed; the caller stages its changes again.
    fn start_again_from_disk(&self, guard: &mut WriterSlot) {
        if matches!(guard, WriterSlot::ShutDown) {
            return;
        }
        *guard = WriterSlot::ToReopen;
        let committed = committed_seq(&self.experts.index)
            .ok()
            .flatten()
            .zip(committed_seq(&self.cases.index).ok().flatten())
            .map_or(0, |(experts, cases)| experts.min(cases));
        self.covered_seq.store(committed, Ordering::SeqCst);
        for reader in [&self.experts.reader, &self.cases.reader] {
            if let Err(error) = reader.reload() {
                warn!(%error, "could not reload an index reader");
            }
        }
    }

    fn topic_model(&self) -> Arc<TopicModel> {
        self.topic_model
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn document_readers<'a>(&'a self, model: &'a TopicModel) -> DocumentReaders<'a> {
        DocumentReaders {
            vocabulary: &self.vocabulary,
            analyzers: &self.analyzers,
            model,
        }
    }

    /// Reads the documents staged from now on with `model`. Documents already indexed keep
    /// what the previous model inferred until they are staged again (`outdated_inferences`
    /// finds those that changed).
    pub fn set_topic_model(&self, model: Arc<TopicModel>) {
        *self
            .topic_model
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = model;
    }

    /// For each record, whether its indexed document holds other inferred topics than the
    /// current readers infer from its text (or no document holds it): such a record is
    /// staged again after the topic model changed. Removals are never outdated.
    pub fn outdated_inferences(&self, updates: &[IndexUpdate<'_>]) -> Result<Vec<bool>, SearchError> {
        let model = self.topic_model();
        let readers = self.document_readers(&model);
        let searchers = [
            (self.experts.searcher(), self.experts.fields.common.id),
            (self.cases.searcher(), self.cases.fields.common.id),
        ];
        let tables = [
            self.experts.tables.for_searcher(&searchers[0].0)?,
            self.cases.tables.for_searcher(&searchers[1].0)?,
        ];
        let mut outdated = Vec::with_capacity(updates.len());
        for update in updates {
            let (kind, id, expected) = match update {
                IndexUpdate::Expert(expert) => {
                    let record = &expert.record;
                    let text_language = expert_text_language(record);
                    let inferred = infer_topics(readers, &expert_search_text(record), text_language, &record.topics);
                    (0, &record.id, inferred.masks())
                }
                IndexUpdate::Case(case) => {
                    let record = &case.record;
                    let inferred = infer_topics(
                        readers,
                        &case_search_text(record),
                        case_text_language(record),
                        &record.topics,
                    );
                    (1, &record.id, inferred.masks())
                }
                IndexUpdate::Remove { .. } => {
                    outdated.push(false);
                    continue;
                }
            };
            let (searcher, id_field) = &searchers[kind];
            let indexed = find_live_doc(searcher, *id_field, id)?
                .map(|(segment, doc)| tables[kind][segment].row(doc))
                .map(|row| (row.inferred_strong, row.inferred_weak));
            outdated.push(indexed != Some(expected));
        }
        Ok(outdated)
    }

    /// Adds updates that bring the index to store sequence `seq` to the writers, without
    /// committing them. Nothing is visible or durable in the index until `commit`.
    pub fn stage(&self, seq: u64, updates: &[IndexUpdate<'_>]) -> Result<(), SearchError> {
        let model = self.topic_model();
        let readers = self.document_readers(&model);
        self.with_writers(|writers| {
            for update in updates {
                self.add_update(writers, readers, update)?;
            }
            writers.staged.seq = writers.staged.seq.max(seq);
            Ok(())
        })
    }

    /// Replaces a record's document in the writer (delete by id, then add), or deletes it.
    fn add_update(
        &self,
        writers: &mut Writers,
        readers: DocumentReaders<'_>,
        update: &IndexUpdate<'_>,
    ) -> Result<(), SearchError> {
        writers.staged.updates += 1;
        match update {
            IndexUpdate::Expert(expert) => {
                let id = Term::from_field_text(self.experts.fields.common.id, expert.record.id.as_str());
                writers.experts.delete_term(id);
                let document = expert_document(&self.experts.fields, readers, expert);
                writers.experts.add_document(document)?;
            }
            IndexUpdate::Case(case) => {
                let id = Term::from_field_text(self.cases.fields.common.id, case.record.id.as_str());
                writers.cases.delete_term(id);
                let document = case_document(&self.cases.fields, readers, case);
                writers.cases.add_document(document)?;
            }
            IndexUpdate::Remove { kind, id, erased } => {
                let (writer, field) = match kind {
                    RecordKind::Expert => (&writers.experts, self.experts.fields.common.id),
                    RecordKind::Case => (&writers.cases, self.cases.fields.common.id),
                };
                writer.delete_term(Term::from_field_text(field, id.as_str()));
                if *erased {
                    writers.staged.erased.push((*kind, (*id).clone()));
                }
            }
        }
        Ok(())
    }

    /// Commits what is staged as covering store sequence `covered`, makes it visible, and
    /// rewrites the segments that held erased records. Returns how many updates it committed.
    /// On failure nothing staged survives: the writers start again from the last commit, and
    /// the caller stages the same changes again.
    pub fn commit(&self, covered: u64) -> Result<u64, SearchError> {
        let mut guard = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if matches!(*guard, WriterSlot::ToReopen) {
            *guard = WriterSlot::Open(Box::new(self.new_writers()?));
        }
        let WriterSlot::Open(writers) = &mut *guard else {
            return Err(SearchError::Engine(tantivy::TantivyError::InternalError(
                "the index is shut down".into(),
            )));
        };
        let result = self.commit_staged(writers, covered);
        if result.is_err() {
            self.start_again_from_disk(&mut guard);
        }
        result
    }

    fn commit_staged(&self, writers: &mut Writers, covered: u64) -> Result<u64, SearchError> {
        let staged = std::mem::take(&mut writers.staged);
        if staged.updates == 0 && covered <= self.covered_seq() {
            return Ok(0);
        }
        self.commit_both(writers, covered.max(staged.seq))?;
        if !staged.erased.is_empty() {
            self.purge_erased(writers, &staged.erased)?;
        }
        Ok(staged.updates)
    }

    fn new_writers(&self) -> Result<Writers, SearchError> {
        Ok(Writers {
            experts: self
                .experts
                .index
                .writer_with_num_threads(1, EXPERT_WRITER_BUDGET_BYTES)?,
            cases: self.cases.index.writer_with_num_threads(1, CASE_WRITER_BUDGET_BYTES)?,
            staged: Staged::default(),
        })
    }

    /// Drops what is staged (after a failed write elsewhere): the writers start again from
    /// the last commit.
    pub fn discard_staged(&self) {
        let mut guard = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.start_again_from_disk(&mut guard);
    }

    fn commit_both(&self, writers: &mut Writers, covered: u64) -> Result<(), SearchError> {
        let payload = commit_payload(covered);
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

    /// Empties both indexes in the writers (not committed): the start of a rebuild, whose
    /// records are then staged and committed as usual.
    pub fn clear(&self) -> Result<(), SearchError> {
        self.with_writers(|writers| {
            // Counted as an update: the emptied indexes are committed even with no records.
            writers.staged = Staged {
                updates: 1,
                ..Staged::default()
            };
            writers.experts.delete_all_documents()?;
            writers.cases.delete_all_documents()?;
            Ok(())
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

    /// Rewrites the segments that still hold these (already deleted) records, so that no copy
    /// of their text stays in the index files: finishes a purge a crash interrupted.
    pub fn purge(&self, records: &[(RecordKind, RecordId)]) -> Result<(), SearchError> {
        if records.is_empty() {
            return Ok(());
        }
        self.with_writers(|writers| self.purge_erased(writers, records))
    }

    /// Commits nothing new, waits for merges and releases the writers (clean shutdown).
    pub fn shutdown(&self) -> Result<(), SearchError> {
        let mut guard = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let WriterSlot::Open(writers) = std::mem::replace(&mut *guard, WriterSlot::ShutDown) {
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

/// The segment ordinal and document of the live document with `id`, if any.
fn find_live_doc(searcher: &Searcher, id_field: Field, id: &RecordId) -> Result<Option<(usize, u32)>, SearchError> {
    let term = Term::from_field_text(id_field, id.as_str());
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        if let Some(doc) = super::row_queries::live_docs_with_term(segment, &term)?.first() {
            return Ok(Some((ordinal, *doc)));
        }
    }
    Ok(None)
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
