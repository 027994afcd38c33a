//! How a practitioner's text is read: which topics it is about, how strongly, and the words
//! that say so. Three kinds of evidence are combined: the hand-curated vocabulary (terms and
//! everyday cues, the strongest), associations learned from the platform's own labelled
//! profiles and cases, and what the best-matching profiles and cases are about (feedback from
//! the corpus). Pure logic: the service gathers the evidence, this module weighs it.

pub mod combine;
pub mod evidence;
pub mod features;
pub mod model;

pub use combine::{Evidence, ReadTopic, ReadingSettings, combine};
pub use evidence::{TextLanguages, document_topics, learned_evidence, vocabulary_examples, words_of_the_text};
pub use features::{Feature, Pairs, features, features_with_words};
pub use model::{Example, TopicModel, TopicScore, TopicTally, Trainer};

#[cfg(test)]
mod tests;
