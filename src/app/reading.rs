//! Reading what a challenge or a search is about, with everything the service knows: the
//! vocabulary's evidence (from the query analysis), the associations learned from the
//! platform's own labelled profiles and cases (`reading::TopicModel`, retrained as curated data
//! changes, in the background), and the topics of the best-matching records (feedback).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{App, AppError};
use crate::domain::Topic;
use crate::reading::{self, Evidence, Example, ReadTopic, TopicModel};
use crate::search::AnalysedQuery;

/// How much a curated term or cue counts as an example, against 1 for a tagged profile: the
/// hand-curated vocabulary is the stronger signal (measured on both judged sets: profiles
/// weighing as much as cues blur the associations).
const TERM_EXAMPLE_WEIGHT: f32 = 10.0;
const CUE_EXAMPLE_WEIGHT: f32 = 6.0;
/// Stores up to this many records are learned from while the service opens; larger ones in
/// the background (reading uses the vocabulary alone until then).
const LEARN_WHILE_OPENING: u64 = 20_000;
/// A retrain waits this long after a write, so that a burst of writes causes one.
const RETRAIN_DELAY: Duration = Duration::from_secs(2);

/// The learned model and whether it is being retrained.
pub(crate) struct Learning {
    model: RwLock<Arc<TopicModel>>,
    retraining: AtomicBool,
}

impl Learning {
    pub(crate) fn new() -> Learning {
        Learning {
            model: RwLock::new(Arc::new(TopicModel::default())),
            retraining: AtomicBool::new(false),
        }
    }
}

impl App {
    pub(crate) fn topic_model(&self) -> Arc<TopicModel> {
        self.inner
            .learning
            .model
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The examples to learn from: the vocabulary's terms and cues, tagged profiles and cases.
    fn training_examples(&self) -> Result<Vec<Example>, AppError> {
        let analyzers = self.analyzers();
        let vocabulary = self.vocabulary();
        let mut examples = Vec::new();
        for entry in vocabulary
            .taxonomy
            .entries()
            .iter()
            .filter(|entry| !entry.topic.is_area())
        {
            for (language, term) in &entry.terms {
                examples.push(Example {
                    features: reading::features(analyzers, term, *language),
                    topics: vec![entry.topic],
                    weight: TERM_EXAMPLE_WEIGHT,
                });
            }
        }
        for cue in vocabulary.cues.iter().filter(|cue| !cue.topic.is_area()) {
            examples.push(Example {
                features: reading::features(analyzers, &cue.text, cue.language),
                topics: vec![cue.topic],
                weight: CUE_EXAMPLE_WEIGHT,
            });
        }
        let topics_of = |topics: &[Topic]| {
            topics
                .iter()
                .copied()
                .filter(|topic| !topic.is_area())
                .collect::<Vec<_>>()
        };
        self.store().scan_experts(&mut |expert| {
            let topics = topics_of(&expert.record.topics);
            if !topics.is_empty() {
                let language = crate::search::expert_text_language(&expert.record);
                let text = format!(
                    "{}\n{}\n{}",
                    expert.record.position.as_deref().unwrap_or_default(),
                    expert.record.expertise,
                    expert.record.bio.as_deref().unwrap_or_default()
                );
                examples.push(Example {
                    features: reading::features(analyzers, &text, language),
                    topics,
                    weight: 1.0,
                });
            }
            true
        })?;
        self.store().scan_cases(&mut |case| {
            let topics = topics_of(&case.record.topics);
            if !topics.is_empty() {
                let language = crate::search::case_text_language(&case.record);
                let text = format!("{}\n{}", case.record.title, case.record.summary);
                examples.push(Example {
                    features: reading::features(analyzers, &text, language),
                    topics,
                    weight: 1.0,
                });
            }
            true
        })?;
        Ok(examples)
    }

    /// Learns the model from the current data and puts it in use.
    pub(crate) fn retrain(&self) -> Result<(), AppError> {
        let started = std::time::Instant::now();
        let model = TopicModel::train(self.training_examples()?);
        tracing::info!(
            examples = model.examples(),
            features = model.features(),
            seconds = started.elapsed().as_secs_f64(),
            "topic associations learned"
        );
        *self
            .inner
            .learning
            .model
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(model);
        Ok(())
    }

    /// At start: learns now from a small store, in the background from a large one.
    pub(crate) fn learn_at_start(&self) -> Result<(), AppError> {
        let records = self.store().count(crate::domain::RecordKind::Expert)?
            + self.store().count(crate::domain::RecordKind::Case)?;
        if records <= LEARN_WHILE_OPENING {
            return self.retrain();
        }
        self.retrain_in_background(Duration::ZERO);
        Ok(())
    }

    /// After curated data changed: retrains once the writes have settled (one retrain at a
    /// time; writes during it cause another).
    pub(crate) fn retrain_in_background(&self, delay: Duration) {
        if self.inner.learning.retraining.swap(true, Ordering::SeqCst) {
            return;
        }
        // The thread holds the service only while it learns, so that a stopped service can
        // close its store (and a restart open it) while a retrain is pending.
        let waiting = self.downgrade();
        let spawned = std::thread::Builder::new()
            .name("topic-learning".into())
            .spawn(move || {
                std::thread::sleep(delay);
                let Some(app) = waiting.upgrade() else { return };
                app.inner.learning.retraining.store(false, Ordering::SeqCst);
                if app.inner.shutting_down.load(Ordering::SeqCst) {
                    return;
                }
                if let Err(error) = app.retrain() {
                    tracing::warn!(%error, "learning topic associations failed");
                }
            });
        if spawned.is_err() {
            self.inner.learning.retraining.store(false, Ordering::SeqCst);
        }
    }

    /// Curated data changed: learn again soon.
    pub(crate) fn curated_data_changed(&self) {
        self.retrain_in_background(RETRAIN_DELAY);
    }

    /// The learned evidence for a text analysed as `query`: read in its own language fully,
    /// in the other languages it was read in at a discount (short texts are read in all). The
    /// features behind each score are given as the text's own words.
    fn learned_evidence(&self, text: &str, query: &AnalysedQuery) -> Vec<reading::TopicScore> {
        let analyzers = self.analyzers();
        let mut words: std::collections::BTreeMap<reading::Feature, String> = std::collections::BTreeMap::new();
        let mut primary = std::collections::BTreeSet::new();
        let mut discounted = std::collections::BTreeSet::new();
        // A text long enough to tell its language is read in it alone; a short one in every
        // language, its detected one (if any) fully and the others at a discount.
        let long_enough = query.words.len() >= 4 && query.detected_language.is_some();
        for language in &query.languages_read {
            let full = query.detected_language.is_none_or(|detected| detected == *language);
            if long_enough && !full {
                continue;
            }
            let found = reading::features_with_words(analyzers, text, *language);
            for (feature, word) in found {
                if full {
                    primary.insert(feature.clone());
                } else {
                    discounted.insert(feature.clone());
                }
                words.entry(feature).or_insert(word);
            }
        }
        for word in &query.words {
            for correction in &word.corrections {
                for stem in &correction.stems {
                    discounted.insert(stem.clone());
                    words.entry(stem.clone()).or_insert_with(|| word.folded.clone());
                }
            }
        }
        discounted.retain(|feature| !primary.contains(feature));
        let model = self.topic_model();
        let mut scores = model.read(&primary, 1.0);
        for extra in model.read(&discounted, 0.4) {
            match scores.iter_mut().find(|score| score.topic == extra.topic) {
                Some(score) => {
                    score.score += extra.score;
                    score.because.extend(extra.because);
                }
                None => scores.push(extra),
            }
        }
        for score in &mut scores {
            for (feature, _) in &mut score.because {
                if let Some(word) = query
                    .languages_read
                    .iter()
                    .find_map(|language| words.get(&(*language, feature.clone())))
                {
                    *feature = word.clone();
                }
            }
            score.because.sort_by(|left, right| right.1.total_cmp(&left.1));
        }
        scores.sort_by(|left, right| right.score.total_cmp(&left.score).then(left.topic.cmp(&right.topic)));
        scores
    }

    /// What a text is about, strongest first.
    pub(crate) fn read_topics(&self, text: &str, query: &AnalysedQuery) -> Result<Vec<ReadTopic>, AppError> {
        let settings = &self.settings().reading;
        let learned = self.learned_evidence(text, query);
        let feedback = if settings.feedback > 0.0 && !query.is_empty() {
            self.engine().feedback_topics(query, settings.feedback_records)?
        } else {
            Vec::new()
        };
        let mut read = reading::combine(
            &Evidence {
                vocabulary: &query.topics,
                learned: &learned,
                feedback: &feedback,
            },
            settings,
        );
        for topic in &mut read {
            topic.words = words_of_the_text(text, &topic.words);
        }
        Ok(read)
    }
}

/// The evidence words that occur in the text as it was written (a vocabulary term matched
/// through stemming may read differently), without repeats or words inside longer ones.
fn words_of_the_text(text: &str, words: &[String]) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut kept: Vec<String> = Vec::new();
    for word in words {
        let lowered_word = word.to_lowercase();
        if !lowered.contains(&lowered_word) {
            continue;
        }
        if kept.iter().any(|other| other.to_lowercase().contains(&lowered_word)) {
            continue;
        }
        kept.retain(|other| !lowered_word.contains(&other.to_lowercase()));
        kept.push(lowered_word);
    }
    kept.truncate(3);
    kept
}

#[cfg(test)]
mod tests {
    use super::words_of_the_text;

    fn check(text: &str, words: &[&str], expected: &[&str]) {
        let words: Vec<String> = words.iter().map(|word| word.to_string()).collect();
        assert_eq!(words_of_the_text(text, &words), expected);
    }

    #[test]
    fn the_words_shown_are_the_texts_own() {
        check(
            "Every rainy season the road floods",
            &["every rainy season", "Every rainy", "flooding"],
            &["every rainy season"],
        );
        check("Die Keller laufen voll", &["Keller", "Hochwasser"], &["keller"]);
        check("", &["anything"], &[]);
    }
}
