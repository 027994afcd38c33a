//! Reading what a challenge or a search is about, with everything the service knows: the
//! vocabulary's evidence (from the query analysis), the associations learned from the
//! platform's own labelled profiles and cases (`reading::TopicModel`, retrained as curated data
//! changes, in the background), and the topics of the best-matching records (feedback).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use super::{App, AppError};
use crate::domain::{RecordId, RecordKind, Topic};
use crate::reading::{self, Evidence, Example, ReadTopic, TopicModel, Trainer};
use crate::search::{AnalysedQuery, QueryMatches};
use crate::text::TextLanguage;

/// Stores up to this many records are learned from while the service opens; larger ones in
/// the background (reading uses the vocabulary alone until then).
const LEARN_WHILE_OPENING: u64 = 20_000;
/// A retrain waits this long after a write, so that a burst of writes causes one.
const RETRAIN_DELAY: Duration = Duration::from_secs(2);

/// The pause before a retrain, given how long the last one took.
fn retrain_delay(last_training: Duration) -> Duration {
    (last_training * TRAINING_SHARE_INVERSE).clamp(RETRAIN_DELAY, LONGEST_RETRAIN_DELAY)
}

/// Learning runs at most one part in this many of the time (one core's tenth).
const TRAINING_SHARE_INVERSE: u32 = 10;
/// However long training takes, curated changes are learned within this time.
const LONGEST_RETRAIN_DELAY: Duration = Duration::from_secs(600);

/// A record's kind and id.
pub(crate) type RecordKey = (RecordKind, RecordId);

/// The learned model and whether it is being retrained.
pub(crate) struct Learning {
    model: RwLock<Arc<TopicModel>>,
    /// A learning thread is waiting or training (there is at most one).
    retraining: AtomicBool,
    /// Curated data changed since the last training began.
    stale: AtomicBool,
    /// Bulk imports running now: their changes wait for the last one to end.
    imports_running: std::sync::atomic::AtomicUsize,
    /// Trainings running now, and the most ever at once (one learning thread: at most 1, or
    /// 2 with a synchronous training at start or `citypeers reindex`).
    trainings_now: std::sync::atomic::AtomicUsize,
    most_trainings_at_once: std::sync::atomic::AtomicUsize,
    /// The thread of the latest background retrain (joined at shutdown).
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// How long the last training took, in milliseconds (it spaces the next one).
    last_training_ms: AtomicU64,
    /// Counts the models put in use and the re-readings of documents they caused.
    generation: AtomicU64,
    /// The records the last training found untagged: the documents a new model may read
    /// otherwise (records written since were indexed with the model in use).
    untagged: Mutex<Arc<Vec<RecordKey>>>,
    /// A model was put in use while the index was being rebuilt: the rebuild reads the
    /// untagged records again before it reports ready.
    restage_after_rebuild: AtomicBool,
}

impl Learning {
    pub(crate) fn new() -> Learning {
        Learning {
            model: RwLock::new(Arc::new(TopicModel::default())),
            retraining: AtomicBool::new(false),
            stale: AtomicBool::new(false),
            imports_running: std::sync::atomic::AtomicUsize::new(0),
            trainings_now: std::sync::atomic::AtomicUsize::new(0),
            most_trainings_at_once: std::sync::atomic::AtomicUsize::new(0),
            worker: Mutex::new(None),
            last_training_ms: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            untagged: Mutex::new(Arc::new(Vec::new())),
            restage_after_rebuild: AtomicBool::new(false),
        }
    }
}

/// Training frees a few hundred megabytes of short strings at once (at 100k records); glibc
/// keeps freed memory in its arenas unless asked, which left a serving node at three times
/// the memory it needs.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only gives free heap pages back to the system; no live allocation
    // is touched, and it is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sleeps `delay` holding only a weak reference; `None` when the service stopped meanwhile.
fn wait_unless_stopped(waiting: &super::WeakApp, delay: Duration) -> Option<App> {
    let deadline = Instant::now() + delay;
    loop {
        let app = waiting.upgrade()?;
        if app.is_shutting_down() {
            return None;
        }
        let now = Instant::now();
        if now >= deadline {
            return Some(app);
        }
        drop(app);
        std::thread::park_timeout(deadline - now);
    }
}

/// Held for the length of a bulk import: its chunks only mark the model stale, and the retrain
/// they call for is scheduled when the last running import ends. Otherwise a retrain from a
/// half-imported store takes the core that tantivy's indexing thread needs.
pub(crate) struct ImportInProgress<'a> {
    app: &'a App,
}

impl Drop for ImportInProgress<'_> {
    fn drop(&mut self) {
        let learning = &self.app.inner.learning;
        if learning.imports_running.fetch_sub(1, Ordering::SeqCst) == 1 && learning.stale.load(Ordering::SeqCst) {
            self.app.curated_data_changed();
        }
    }
}

/// The one learning thread: retrains after `delay`, and again (spaced by `retrain_delay`) for
/// as long as curated changes arrived during the last training.
fn learn_until_current(waiting: &super::WeakApp, first_delay: Duration) {
    let mut delay = first_delay;
    loop {
        let Some(app) = wait_unless_stopped(waiting, delay) else {
            return;
        };
        let learning = &app.inner.learning;
        learning.stale.store(false, Ordering::SeqCst);
        if let Err(error) = app.retrain() {
            tracing::warn!(%error, "learning topic associations failed");
        }
        delay = retrain_delay(Duration::from_millis(learning.last_training_ms.load(Ordering::SeqCst)));
        if learning.stale.load(Ordering::SeqCst) {
            continue;
        }
        learning.retraining.store(false, Ordering::SeqCst);
        // A change that came between the two loads saw the thread busy and left it to us.
        if !learning.stale.load(Ordering::SeqCst) || learning.retraining.swap(true, Ordering::SeqCst) {
            return;
        }
    }
}

impl App {
    /// Changes whenever a new model is put in use and when the documents it read again are
    /// committed (answers computed before may differ).
    pub(crate) fn reading_generation(&self) -> u64 {
        self.inner.learning.generation.load(Ordering::SeqCst)
    }

    /// Whether a model was put in use during a rebuild and its reading is still to be
    /// indexed (clears the mark).
    pub(crate) fn take_restage_after_rebuild(&self) -> bool {
        self.inner.learning.restage_after_rebuild.swap(false, Ordering::SeqCst)
    }

    /// The records the last training found untagged.
    pub(crate) fn untagged_records(&self) -> Arc<Vec<RecordKey>> {
        lock(&self.inner.learning.untagged).clone()
    }

    pub(crate) fn topic_model(&self) -> Arc<TopicModel> {
        self.inner
            .learning
            .model
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Learns from the vocabulary's terms and cues, then every profile and case, one at a time
    /// (the tagged ones as examples, all of them for how common each word is), noting the
    /// untagged ones. `None` when the service began to stop meanwhile.
    fn learn_from_data(&self) -> Result<Option<(TopicModel, Vec<RecordKey>)>, AppError> {
        let analyzers = self.analyzers();
        let mut trainer = Trainer::default();
        for example in reading::vocabulary_examples(self.vocabulary(), analyzers) {
            trainer.add(example);
        }
        let mut untagged = Vec::new();
        let mut learn = |kind: RecordKind, id: &RecordId, topics: &[Topic], text: String, language: TextLanguage| {
            if Topic::none_specific(topics) {
                untagged.push((kind, id.clone()));
            }
            trainer.add(Example {
                features: reading::features(analyzers, &text, language, reading::Pairs::Adjacent),
                topics: topics.iter().copied().filter(|topic| !topic.is_area()).collect(),
                weight: 1.0,
                is_record: true,
            });
            !self.is_shutting_down()
        };
        self.store().scan_experts(&mut |expert| {
            let record = &expert.record;
            let text = format!(
                "{}\n{}\n{}",
                record.position.as_deref().unwrap_or_default(),
                record.expertise,
                record.bio.as_deref().unwrap_or_default()
            );
            let language = crate::search::expert_text_language(record);
            learn(RecordKind::Expert, &record.id, &record.topics, text, language)
        })?;
        self.store().scan_cases(&mut |case| {
            let record = &case.record;
            let text = crate::search::case_search_text(record);
            let language = crate::search::case_text_language(record);
            learn(RecordKind::Case, &record.id, &record.topics, text, language)
        })?;
        if self.is_shutting_down() {
            return Ok(None);
        }
        Ok(Some((trainer.finish(), untagged)))
    }

    /// Learns the model from the current data and puts it in use.
    pub(crate) fn retrain(&self) -> Result<(), AppError> {
        let learning = &self.inner.learning;
        let started = Instant::now();
        let at_once = learning.trainings_now.fetch_add(1, Ordering::SeqCst) + 1;
        learning.most_trainings_at_once.fetch_max(at_once, Ordering::SeqCst);
        let learned = self.learn_from_data();
        learning.trainings_now.fetch_sub(1, Ordering::SeqCst);
        let Some((model, untagged)) = learned? else {
            return Ok(());
        };
        learning
            .last_training_ms
            .store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
        tracing::info!(
            examples = model.examples(),
            features = model.features(),
            seconds = started.elapsed().as_secs_f64(),
            "topic associations learned"
        );
        let model = Arc::new(model);
        *self
            .inner
            .learning
            .model
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = model.clone();
        return_freed_memory();
        self.engine().set_topic_model(model);
        *lock(&learning.untagged) = Arc::new(untagged);
        learning.generation.fetch_add(1, Ordering::SeqCst);
        // A rebuild reads its remaining records with the new model and checks the rest when
        // it ends.
        learning.restage_after_rebuild.store(true, Ordering::SeqCst);
        if !matches!(self.index_state(), super::IndexState::Rebuilding { .. })
            && learning.restage_after_rebuild.swap(false, Ordering::SeqCst)
            && let Err(error) = self.restage_outdated_inferences()
        {
            // Documents keep what the previous model read until the next retrain.
            tracing::warn!(%error, "indexing what the new topic model reads in untagged records failed");
        }
        // Reading the untagged records again leaves freed memory behind too (41 of 240 MB
        // at 100k records).
        return_freed_memory();
        learning.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// At start: learns now from a small store, in the background from a large one.
    pub(crate) fn learn_at_start(&self) -> Result<(), AppError> {
        if self.is_too_large_to_learn_while_opening()? {
            self.retrain_in_background(Duration::ZERO);
            return Ok(());
        }
        self.retrain()
    }

    /// Whether learning at start would keep the service from answering for long. The index's
    /// counts decide when they are past the limit (counting the store reads each record, a
    /// quarter of a second of a cold start at a million); else the store is counted, since an
    /// index being rebuilt counts fewer records than the store holds.
    fn is_too_large_to_learn_while_opening(&self) -> Result<bool, AppError> {
        let (indexed_experts, indexed_cases) = self.inner.engine.document_counts();
        if indexed_experts + indexed_cases > LEARN_WHILE_OPENING {
            return Ok(true);
        }
        let past_limit = LEARN_WHILE_OPENING + 1;
        let records = self
            .store()
            .count_up_to(crate::domain::RecordKind::Expert, past_limit)?
            + self.store().count_up_to(crate::domain::RecordKind::Case, past_limit)?;
        Ok(records > LEARN_WHILE_OPENING)
    }

    /// After curated data changed: retrains once the writes have settled (one retrain at a
    /// time; writes during it cause another).
    pub(crate) fn retrain_in_background(&self, delay: Duration) {
        let learning = &self.inner.learning;
        learning.stale.store(true, Ordering::SeqCst);
        if learning.retraining.swap(true, Ordering::SeqCst) {
            // The learning thread is waiting or training: it learns again when it is done.
            return;
        }
        // The thread holds the service only while it learns, so that a stopped service can
        // close its store (and a restart open it) while a retrain is pending.
        let waiting = self.downgrade();
        let spawned = std::thread::Builder::new()
            .name("topic-learning".into())
            .spawn(move || learn_until_current(&waiting, delay));
        match spawned {
            Ok(handle) => *lock(&learning.worker) = Some(handle),
            Err(_) => learning.retraining.store(false, Ordering::SeqCst),
        }
    }

    /// At shutdown: wakes a pending retrain and waits until the thread has let go of the
    /// service, so that its store can be opened again at once (by a restart in the process).
    pub(crate) fn stop_learning(&self) {
        let Some(worker) = lock(&self.inner.learning.worker).take() else {
            return;
        };
        if worker.thread().id() == std::thread::current().id() {
            return;
        }
        worker.thread().unpark();
        let _ = worker.join();
    }

    pub(crate) fn import_in_progress(&self) -> ImportInProgress<'_> {
        self.inner.learning.imports_running.fetch_add(1, Ordering::SeqCst);
        ImportInProgress { app: self }
    }

    /// Whether the learned model reflects the data: trained, and no retrain pending or running
    /// (benchmarks wait for it, so that they time the steady state).
    pub fn learning_settled(&self) -> bool {
        self.topic_model().examples() > 0
            && !self.inner.learning.retraining.load(Ordering::SeqCst)
            && lock(&self.inner.learning.worker)
                .as_ref()
                .is_none_or(std::thread::JoinHandle::is_finished)
    }

    /// Curated data changed: learn again soon, but no sooner than ten times the last training
    /// took, so that a stream of edits on a large store keeps learning to about a tenth of a
    /// core instead of retraining without pause.
    pub(crate) fn curated_data_changed(&self) {
        if self.inner.learning.imports_running.load(Ordering::SeqCst) > 0 {
            self.inner.learning.stale.store(true, Ordering::SeqCst);
            return;
        }
        let last_training = Duration::from_millis(self.inner.learning.last_training_ms.load(Ordering::SeqCst));
        self.retrain_in_background(retrain_delay(last_training));
    }

    /// The text without the words that name someone: a name is learned from the few profiles
    /// that mention it, and would read a search for a person as their neighbours' topic.
    fn without_names<'a>(&self, text: &'a str, query: &AnalysedQuery) -> std::borrow::Cow<'a, str> {
        let names: Vec<&str> = query
            .words
            .iter()
            .filter(|word| word.names_someone)
            .map(|word| word.folded.as_str())
            .collect();
        if names.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut kept = String::with_capacity(text.len());
        let mut last_end = 0;
        for token in self.analyzers().folded(text) {
            if names.contains(&token.term.as_str()) {
                kept.push_str(&text[last_end..token.start]);
                last_end = token.end;
            }
        }
        kept.push_str(&text[last_end..]);
        std::borrow::Cow::Owned(kept)
    }

    /// What a text is about, strongest first. `matches` is the text already scored against
    /// the index, when the caller has it (the feedback reads it).
    pub(crate) fn read_topics(
        &self,
        text: &str,
        query: &AnalysedQuery,
        matches: Option<&QueryMatches>,
    ) -> Result<Vec<ReadTopic>, AppError> {
        if query.names_a_person {
            return Ok(Vec::new());
        }
        let settings = &self.settings().reading;
        let corrections: Vec<(reading::Feature, String)> = query
            .words
            .iter()
            .flat_map(|word| {
                word.corrections
                    .iter()
                    .flat_map(|correction| correction.stems.iter().map(|stem| (stem.clone(), word.folded.clone())))
            })
            .collect();
        let text_languages = reading::TextLanguages {
            read: &query.languages_read,
            detected: query.detected_language,
            long_enough: query.words.len() >= 4,
        };
        let model = self.topic_model();
        let text_without_names = self.without_names(text, query);
        // What the best matches are about and what was learned are read independently. The
        // feedback stays on this thread: its walk shares its own work with the second hand
        // (`in_two::split_in_two`) once that is done with the learned reading.
        let (feedback, learned) = crate::in_two::side_by_side(
            || self.feedback(query, matches),
            || {
                reading::learned_evidence(
                    self.analyzers(),
                    &model,
                    &text_without_names,
                    &text_languages,
                    &corrections,
                )
            },
        );
        let feedback = feedback?;
        let mut read = reading::combine(
            &Evidence {
                vocabulary: &query.topics,
                learned: &learned,
                feedback: &feedback,
            },
            settings,
        );
        for topic in &mut read {
            topic.words = reading::words_of_the_text(text, &topic.words);
        }
        Ok(read)
    }

    /// What the records that best match the query are about (empty when feedback is off).
    fn feedback(&self, query: &AnalysedQuery, matches: Option<&QueryMatches>) -> Result<Vec<(Topic, f32)>, AppError> {
        let settings = &self.settings().reading;
        if settings.feedback <= 0.0 || query.is_empty() {
            return Ok(Vec::new());
        }
        let scored_here;
        let matches = match matches {
            Some(matches) => matches,
            None => {
                scored_here = self.engine().query_matches(query)?;
                &scored_here
            }
        };
        Ok(self.engine().feedback_topics(matches, settings.feedback_records)?)
    }
}

/// What the engine learned about one topic: its strongest features per language.
pub struct LearnedTopic {
    pub topic: Topic,
    pub languages: Vec<(TextLanguage, Vec<(String, f32)>)>,
}

/// The learned associations, for staff to see (`GET /v1/admin/learned-terms`).
pub struct LearnedTerms {
    pub examples: usize,
    pub features: usize,
    pub topics: Vec<LearnedTopic>,
}

/// The most terms listed per topic and language.
pub const MAX_LEARNED_TERMS: usize = 200;

impl App {
    /// The terms learned for `topic` (every topic when absent) in `lang` (every language when
    /// absent), strongest first, at most `limit` each.
    pub fn learned_terms(
        &self,
        topic: Option<&str>,
        lang: Option<&str>,
        limit: usize,
    ) -> Result<LearnedTerms, AppError> {
        let topics: Vec<Topic> = match topic {
            Some(raw) => vec![Topic::parse(raw).map_err(|message| AppError::bad_parameter("topic", message))?],
            None => Topic::ALL.iter().copied().filter(|topic| !topic.is_area()).collect(),
        };
        let languages: Vec<TextLanguage> = match lang {
            Some(raw) => {
                let locale =
                    crate::locale::Locale::parse(raw).map_err(|message| AppError::bad_parameter("lang", message))?;
                vec![TextLanguage::from_code(locale.code()).unwrap_or(TextLanguage::English)]
            }
            None => TextLanguage::STEMMED.to_vec(),
        };
        let model = self.topic_model();
        Ok(LearnedTerms {
            examples: model.examples(),
            features: model.features(),
            topics: topics
                .into_iter()
                .map(|topic| LearnedTopic {
                    topic,
                    languages: languages
                        .iter()
                        .map(|language| (*language, model.learned_terms(topic, *language, limit)))
                        .collect(),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_config(dir: &std::path::Path) -> crate::app::AppConfig {
        let mut config = crate::app::AppConfig::new(dir);
        config.load_demo_data = true;
        config
    }

    /// Waits (at most a minute) until the learned model reflects the data.
    fn wait_until_settled(app: &App) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !app.learning_settled() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start-up asks the store whether it is small with `count_up_to`, which must answer
    /// like `count` up to the limit. (That it stops reading there, which took 9 s of every
    /// start at a million records, is measured in benches/README.md, not asserted here.)
    #[test]
    fn a_store_is_counted_only_as_far_as_asked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = App::open(demo_config(dir.path())).expect("opens");
        let store = app.store();
        for kind in [crate::domain::RecordKind::Expert, crate::domain::RecordKind::Case] {
            let all = store.count(kind).expect("count");
            assert!(all > 10, "the demo has records of {kind:?}");
            let check = |limit: u64, expected: u64| {
                assert_eq!(
                    store.count_up_to(kind, limit).expect("count"),
                    expected,
                    "{kind:?} up to {limit}"
                );
            };
            check(0, 0);
            check(10, 10);
            check(all, all);
            check(u64::MAX, all);
        }
        app.shutdown().expect("shutdown");
    }

    #[test]
    fn retraining_waits_in_proportion_to_how_long_training_takes() {
        let check = |last_training_ms: u64, expected_ms: u64| {
            let delay = retrain_delay(Duration::from_millis(last_training_ms));
            assert_eq!(delay, Duration::from_millis(expected_ms), "after {last_training_ms} ms");
        };
        check(0, 2_000);
        check(150, 2_000);
        check(1_000, 10_000);
        check(12_000, 120_000);
        check(3_600_000, 600_000);
    }

    /// A restart in the same process (the benchmarks, `citypeers import` then `serve`) must find
    /// the store free even when a retrain was running or waiting when the service stopped.
    #[test]
    fn a_stopped_service_can_be_opened_again_at_once_while_learning_was_under_way() {
        let dir = tempfile::tempdir().expect("temp dir");
        for delay in [Duration::ZERO, Duration::from_secs(60)] {
            let app = App::open(demo_config(dir.path())).expect("opens");
            app.retrain_in_background(delay);
            app.shutdown().expect("shutdown");
            drop(app);
            let again = App::open(demo_config(dir.path())).expect("the store is free again");
            again.shutdown().expect("shutdown");
        }
    }

    /// A stream of curated changes while a training runs used to start a new training every
    /// 2 s beside the running ones (23 at once were seen at 100k records); there is one
    /// learning thread, which learns again once it is done.
    #[test]
    fn a_burst_of_curated_changes_trains_one_model_at_a_time_and_settles() {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = App::open(demo_config(dir.path())).expect("opens");
        // Opening trains at once and again after loading the demo data; on a loaded machine
        // the two may overlap (allowed, see `trainings_now`). The burst is what is counted.
        wait_until_settled(&app);
        app.inner.learning.most_trainings_at_once.store(0, Ordering::SeqCst);
        for _ in 0..40 {
            app.retrain_in_background(Duration::ZERO);
            std::thread::sleep(Duration::from_millis(5));
        }
        wait_until_settled(&app);
        assert!(app.learning_settled(), "learning did not settle");
        assert_eq!(app.inner.learning.most_trainings_at_once.load(Ordering::SeqCst), 1);
        app.shutdown().expect("shutdown");
    }

    #[test]
    fn changes_during_an_import_are_learned_once_it_ends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = App::open(demo_config(dir.path())).expect("opens");
        wait_until_settled(&app);
        let learning = &app.inner.learning;
        let import = app.import_in_progress();
        app.curated_data_changed();
        app.curated_data_changed();
        assert!(
            !learning.retraining.load(Ordering::SeqCst),
            "no retrain while importing"
        );
        assert!(learning.stale.load(Ordering::SeqCst));
        drop(import);
        assert!(
            learning.retraining.load(Ordering::SeqCst),
            "a retrain is pending after the import"
        );
        app.shutdown().expect("shutdown");
    }
}
