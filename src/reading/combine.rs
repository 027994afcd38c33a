//! Weighing the evidence into one reading: each topic's evidence is the vocabulary's strength
//! plus the learned score plus the corpus feedback, each times its weight in
//! `index/ranking.toml` ([reading]); the topics kept are those with enough evidence, and at
//! least a set share of the strongest one's, at most a set number of them. An area is dropped
//! when one of its own topics is read.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::model::TopicScore;
use crate::domain::Topic;
use crate::vocab::TopicEvidence;

/// The weights of the kinds of evidence and what it takes to read a topic.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReadingSettings {
    /// Per unit of vocabulary strength (a matched term counts 1, a cue 0.5).
    pub vocabulary: f32,
    /// Per unit of learned score (the sum of the features' log lifts).
    pub learned: f32,
    /// Times the share of the best-matching records that are about the topic.
    pub feedback: f32,
    /// How many of the best-matching experts and cases the feedback looks at.
    pub feedback_records: usize,
    /// A topic needs at least this much evidence in all…
    pub least_evidence: f32,
    /// …and at least this share of the strongest topic's.
    pub keep_relative: f32,
    pub max_topics: usize,
}

impl Default for ReadingSettings {
    fn default() -> Self {
        ReadingSettings {
            vocabulary: 1.0,
            learned: 0.5,
            feedback: 0.5,
            feedback_records: 10,
            least_evidence: 0.6,
            keep_relative: 0.5,
            max_topics: 2,
        }
    }
}

/// A topic read from a text: its weight relative to the strongest (1 for that one) and the
/// words that say so.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadTopic {
    pub topic: Topic,
    pub weight: f32,
    pub evidence: f32,
    pub words: Vec<String>,
}

/// What was found about a text.
pub struct Evidence<'a> {
    pub vocabulary: &'a [TopicEvidence],
    pub learned: &'a [TopicScore],
    /// Topic shares among the best-matching records, in [0, 1].
    pub feedback: &'a [(Topic, f32)],
}

#[derive(Default)]
struct Gathered {
    evidence: f32,
    words: Vec<String>,
}

fn add_words(target: &mut Vec<String>, words: impl IntoIterator<Item = String>, limit: usize) {
    for word in words {
        if target.len() >= limit {
            break;
        }
        if !target.iter().any(|present| present.eq_ignore_ascii_case(&word)) {
            target.push(word);
        }
    }
}

/// The topics a text reads as, strongest first.
pub fn combine(evidence: &Evidence<'_>, settings: &ReadingSettings) -> Vec<ReadTopic> {
    let mut gathered: BTreeMap<Topic, Gathered> = BTreeMap::new();
    for found in evidence.vocabulary {
        let entry = gathered.entry(found.topic).or_default();
        let discount = if found.only_through_typo_correction { 0.7 } else { 1.0 };
        entry.evidence += settings.vocabulary * found.strength * discount;
        add_words(&mut entry.words, found.terms.iter().cloned(), 6);
    }
    for score in evidence.learned {
        let entry = gathered.entry(score.topic).or_default();
        entry.evidence += settings.learned * score.score;
        add_words(&mut entry.words, score.because.iter().map(|(word, _)| word.clone()), 6);
    }
    for (topic, share) in evidence.feedback {
        gathered.entry(*topic).or_default().evidence += settings.feedback * share;
    }
    let read_topics: Vec<Topic> = gathered
        .iter()
        .filter(|(topic, _)| !topic.is_area())
        .map(|(topic, _)| *topic)
        .collect();
    gathered.retain(|topic, _| !(topic.is_area() && read_topics.iter().any(|read| read.area() == *topic)));
    let strongest = gathered.values().map(|found| found.evidence).fold(0.0f32, f32::max);
    let mut read: Vec<ReadTopic> = gathered
        .into_iter()
        .filter(|(_, found)| found.evidence >= settings.least_evidence)
        .filter(|(_, found)| found.evidence >= settings.keep_relative * strongest)
        .map(|(topic, found)| ReadTopic {
            topic,
            weight: found.evidence / strongest.max(f32::EPSILON),
            evidence: found.evidence,
            words: found.words,
        })
        .collect();
    read.sort_by(|left, right| {
        right
            .evidence
            .total_cmp(&left.evidence)
            .then(left.topic.cmp(&right.topic))
    });
    read.truncate(settings.max_topics);
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(topic: Topic, strength: f32, term: &str) -> TopicEvidence {
        TopicEvidence {
            topic,
            strength,
            terms: vec![term.to_string()],
            only_through_typo_correction: false,
            languages: Vec::new(),
        }
    }

    fn learned(topic: Topic, score: f32, word: &str) -> TopicScore {
        TopicScore {
            topic,
            score,
            because: vec![(word.to_string(), score)],
        }
    }

    fn check(evidence: Evidence<'_>, expected: &[Topic]) {
        let read: Vec<Topic> = combine(&evidence, &ReadingSettings::default())
            .into_iter()
            .map(|topic| topic.topic)
            .collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn the_kinds_of_evidence_add_up() {
        check(
            Evidence {
                vocabulary: &[vocabulary(Topic::Mobility, 0.5, "minibus")],
                learned: &[
                    learned(Topic::Mobility, 4.0, "commut"),
                    learned(Topic::Housing, 3.0, "rent"),
                ],
                feedback: &[(Topic::Mobility, 0.6)],
            },
            &[Topic::Mobility, Topic::Housing],
        );
        check(
            Evidence {
                vocabulary: &[],
                learned: &[learned(Topic::Waste, 1.0, "bin")],
                feedback: &[],
            },
            &[],
        );
        check(
            Evidence {
                vocabulary: &[
                    vocabulary(Topic::FloodRisk, 2.0, "drainage"),
                    vocabulary(Topic::Tourism, 0.5, "beach"),
                ],
                learned: &[],
                feedback: &[(Topic::FloodRisk, 0.5)],
            },
            &[Topic::FloodRisk],
        );
    }

    #[test]
    fn an_area_gives_way_to_its_topics() {
        check(
            Evidence {
                vocabulary: &[
                    vocabulary(Topic::UrbanDevelopment, 1.0, "urban development"),
                    vocabulary(Topic::Housing, 1.0, "slum upgrading"),
                ],
                learned: &[],
                feedback: &[],
            },
            &[Topic::Housing],
        );
    }
}
