//! The learned term–topic associations. Every labelled text is an example: the taxonomy's terms
//! and cues (hand-curated, so they weigh most), tagged profiles and cases with topics. A
//! feature (a stem or a pair of stems, in its language) is associated with a topic when texts
//! about that topic hold it more often than texts overall: the weight is the log of that lift,
//! smoothed towards the topic's share. Reading a text adds up the weights of its features;
//! a text long enough to say what it is not about also counts, a little, what its words say
//! against the topics they are not associated with (a naive Bayes reading, damped).

use std::collections::{BTreeSet, HashMap};

use super::features::Feature;
use crate::domain::Topic;
use crate::text::TextLanguage;

/// One labelled text.
#[derive(Clone, Debug)]
pub struct Example {
    pub features: BTreeSet<Feature>,
    pub topics: Vec<Topic>,
    /// How much the example counts (a curated term more than a profile).
    pub weight: f32,
    /// Whether it is a profile's or a case's text (which also shows how common a word is in
    /// the platform's writing) rather than a curated term or cue.
    pub is_record: bool,
}

/// How strongly a text reads as a topic, and the features that say so (strongest first).
#[derive(Clone, Debug, PartialEq)]
pub struct TopicScore {
    pub topic: Topic,
    pub score: f32,
    pub because: Vec<(String, f32)>,
}

/// How strongly a whole record reads as a topic, and how many of its features point to it
/// (reading records, whose words are not shown: no word lists are built).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopicTally {
    pub topic: Topic,
    pub score: f32,
    pub features: usize,
}

/// Smoothing towards the topic's share: how much example weight (about one curated term's) a
/// feature needs before its own counts dominate, so that one phrase using a common word does not
/// tie that word to its topic.
const SMOOTHING: f32 = 10.0;
/// Features seen with less weight than this in all examples together are not learned.
const LEAST_EVIDENCE: f32 = 1.5;
/// Associations weaker than this are dropped.
const WEAKEST_WEIGHT: f32 = 0.15;
/// How many features are kept to explain a score.
const EXPLAINED_FEATURES: usize = 4;
/// A feature is evidence for a topic as far as it is specific: in at most this share of the
/// profiles and cases *about other topics* (or untagged) written in its language. A more
/// common one ("every", "faire", "Jahren") weighs less, down to nothing for one every record
/// uses, even when a curated cue happens to use it. Counting in the feature's language: a word
/// in a third of the few Arabic profiles is common, however few they are among all records.
/// Counting outside the topic: "inondations" in many of the French profiles about floods is
/// their subject, not a common word…
const SPECIFIC_SHARE: f32 = 0.01;
/// …but a language with fewer records than this is counted as having this many: one profile
/// of ten using a word does not make it common.
const FEWEST_RECORDS_FOR_SHARE: usize = 100;

#[derive(Default)]
pub struct TopicModel {
    associations: HashMap<Feature, Association>,
    examples: usize,
}

/// What one feature says: for the topics it is associated with, how strongly; against every
/// other topic, how much (≤ 0: texts that use it are less often about them).
struct Association {
    weights: Vec<(Topic, f32)>,
    against_others: f32,
}

/// What a feature says against the topics it is not associated with counts this much…
const AGAINST_FACTOR: f32 = 0.3;
/// …and only in a text with at least this many features (about a sentence of a dozen words):
/// a short query's few words are each evidence of what it is about, a long text's words also
/// weigh competing readings against each other.
const LEAST_FEATURES_FOR_AGAINST: usize = 24;

/// Learning as the examples arrive, so that a large store is learned from without holding
/// every example's features at once (at 130k records that was a gigabyte of short strings).
#[derive(Default)]
pub struct Trainer {
    topic_mass: HashMap<Topic, f32>,
    /// Per feature: the examples' weight per topic (few topics per feature, so a list).
    joint: HashMap<Feature, FeatureCounts>,
    count: usize,
    /// How many record examples were written in each language.
    records: HashMap<TextLanguage, usize>,
    /// How many record examples in each language are about each topic.
    records_about: HashMap<(TextLanguage, Topic), usize>,
}

#[derive(Default)]
struct FeatureCounts {
    /// Per topic: the examples' weight, and how many of them are records.
    by_topic: Vec<(Topic, f32, u32)>,
    /// How many record examples hold it.
    records: u32,
}

impl Trainer {
    /// Counts one example (one without features or weight is skipped; a record without
    /// topics only counts towards how common its words are).
    pub fn add(&mut self, example: Example) {
        if example.features.is_empty() || example.weight <= 0.0 {
            return;
        }
        if example.is_record
            && let Some((language, _)) = example.features.first()
        {
            *self.records.entry(*language).or_default() += 1;
            for topic in &example.topics {
                *self.records_about.entry((*language, *topic)).or_default() += 1;
            }
        }
        if example.topics.is_empty() {
            // Untagged writing says nothing about topics, but shows which words are common.
            if example.is_record {
                for feature in example.features {
                    self.joint.entry(feature).or_default().records += 1;
                }
            }
            return;
        }
        self.count += 1;
        for topic in &example.topics {
            *self.topic_mass.entry(*topic).or_default() += example.weight;
        }
        for feature in example.features {
            let counts = self.joint.entry(feature).or_default();
            counts.records += u32::from(example.is_record);
            let by_topic = &mut counts.by_topic;
            let record = u32::from(example.is_record);
            for topic in &example.topics {
                match by_topic.iter_mut().find(|(known, _, _)| known == topic) {
                    Some((_, mass, records)) => {
                        *mass += example.weight;
                        *records += record;
                    }
                    None => by_topic.push((*topic, example.weight, record)),
                }
            }
        }
    }

    /// The associations learned from everything added.
    pub fn finish(self) -> TopicModel {
        let total: f32 = self.topic_mass.values().sum();
        let mut associations = HashMap::new();
        for (feature, counts) in self.joint {
            let feature_mass: f32 = counts.by_topic.iter().map(|(_, mass, _)| mass).sum();
            if feature_mass < LEAST_EVIDENCE {
                continue;
            }
            let records_in_language = self.records.get(&feature.0).copied().unwrap_or(0);
            let overall_specificity = specificity(counts.records, records_in_language);
            let mut weights: Vec<(Topic, f32)> = counts
                .by_topic
                .into_iter()
                .filter_map(|(topic, mass, records_about)| {
                    // How common the feature is in the records about other topics.
                    let about_in_language = self.records_about.get(&(feature.0, topic)).copied().unwrap_or(0);
                    let specificity = specificity(
                        counts.records.saturating_sub(records_about),
                        records_in_language.saturating_sub(about_in_language),
                    );
                    let prior = self.topic_mass.get(&topic).copied().unwrap_or(0.0) / total.max(f32::EPSILON);
                    let posterior = (mass + SMOOTHING * prior) / (feature_mass + SMOOTHING);
                    // One example may use a word by chance; several using it make it a signal.
                    let confidence = mass / (mass + 1.0);
                    let weight = (posterior / prior.max(f32::EPSILON)).ln() * confidence * specificity;
                    (weight >= WEAKEST_WEIGHT).then_some((topic, weight))
                })
                .collect();
            if weights.is_empty() {
                continue;
            }
            weights.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
            // A topic the feature was never seen with: posterior SMOOTHING × prior / (mass +
            // SMOOTHING), so its log lift no longer depends on the topic.
            let against_others = (SMOOTHING / (feature_mass + SMOOTHING)).ln() * overall_specificity * AGAINST_FACTOR;
            associations.insert(
                feature,
                Association {
                    weights,
                    against_others,
                },
            );
        }
        TopicModel {
            associations,
            examples: self.count,
        }
    }
}

/// 1 for a feature in at most `SPECIFIC_SHARE` of the records, falling with the log of its
/// share to 0 for one in every record.
fn specificity(records_with: u32, records: usize) -> f32 {
    if records == 0 || records_with == 0 {
        return 1.0;
    }
    let share = (records_with as f32 / records.max(FEWEST_RECORDS_FOR_SHARE) as f32).min(1.0);
    (share.ln() / SPECIFIC_SHARE.ln()).clamp(0.0, 1.0)
}

impl TopicModel {
    /// Learns the associations from labelled examples (examples without topics are skipped).
    pub fn train(examples: impl IntoIterator<Item = Example>) -> TopicModel {
        let mut trainer = Trainer::default();
        for example in examples {
            trainer.add(example);
        }
        trainer.finish()
    }

    /// How many examples it learned from.
    pub fn examples(&self) -> usize {
        self.examples
    }

    /// How many features it learned.
    pub fn features(&self) -> usize {
        self.associations.len()
    }

    /// The topics `features` read as, strongest first, each with the features behind it.
    pub fn read(&self, features: &BTreeSet<Feature>, factor: f32) -> Vec<TopicScore> {
        let mut scores: HashMap<Topic, TopicScore> = HashMap::new();
        for feature in features {
            let Some(association) = self.associations.get(feature) else {
                continue;
            };
            for (topic, weight) in &association.weights {
                let entry = scores.entry(*topic).or_insert_with(|| TopicScore {
                    topic: *topic,
                    score: 0.0,
                    because: Vec::new(),
                });
                entry.score += weight * factor;
                entry.because.push((feature.1.clone(), weight * factor));
            }
        }
        if features.len() >= LEAST_FEATURES_FOR_AGAINST {
            let mut totals: Vec<(Topic, &mut f32)> = scores
                .values_mut()
                .map(|score| (score.topic, &mut score.score))
                .collect();
            self.count_against(features, factor, &mut totals);
        }
        let mut scores: Vec<TopicScore> = scores.into_values().filter(|score| score.score > 0.0).collect();
        for score in &mut scores {
            score
                .because
                .sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
            score.because.truncate(EXPLAINED_FEATURES);
        }
        scores.sort_by(|left, right| right.score.total_cmp(&left.score).then(left.topic.cmp(&right.topic)));
        scores
    }

    /// Lowers each topic read by what the text's other features say against it.
    fn count_against(&self, features: &BTreeSet<Feature>, factor: f32, totals: &mut [(Topic, &mut f32)]) {
        for association in features.iter().filter_map(|feature| self.associations.get(feature)) {
            for (topic, total) in totals.iter_mut() {
                if !association.weights.iter().any(|(associated, _)| associated == topic) {
                    **total += association.against_others * factor;
                }
            }
        }
    }

    /// Like `read` at full weight, without the features behind each score: the topics a whole
    /// record's features read as, strongest first, each with how many features point to it.
    pub fn tally(&self, features: &BTreeSet<Feature>) -> Vec<TopicTally> {
        let mut tallies: HashMap<Topic, TopicTally> = HashMap::new();
        for association in features.iter().filter_map(|feature| self.associations.get(feature)) {
            for (topic, weight) in &association.weights {
                let entry = tallies.entry(*topic).or_insert(TopicTally {
                    topic: *topic,
                    score: 0.0,
                    features: 0,
                });
                entry.score += weight;
                entry.features += usize::from(*weight > 0.0);
            }
        }
        if features.len() >= LEAST_FEATURES_FOR_AGAINST {
            let mut totals: Vec<(Topic, &mut f32)> = tallies
                .values_mut()
                .map(|tally| (tally.topic, &mut tally.score))
                .collect();
            self.count_against(features, 1.0, &mut totals);
        }
        let mut tallies: Vec<TopicTally> = tallies.into_values().filter(|tally| tally.score > 0.0).collect();
        tallies.sort_by(|left, right| right.score.total_cmp(&left.score).then(left.topic.cmp(&right.topic)));
        tallies
    }

    /// The features most associated with `topic` in `language`, strongest first.
    pub fn learned_terms(&self, topic: Topic, language: TextLanguage, limit: usize) -> Vec<(String, f32)> {
        let mut terms: Vec<(String, f32)> = self
            .associations
            .iter()
            .filter(|((feature_language, _), _)| *feature_language == language)
            .filter_map(|((_, feature), association)| {
                association
                    .weights
                    .iter()
                    .find(|(candidate, _)| *candidate == topic)
                    .map(|(_, weight)| (feature.clone(), *weight))
            })
            .collect();
        terms.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
        terms.truncate(limit);
        terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(words: &[&str], topics: &[Topic], weight: f32) -> Example {
        Example {
            features: words
                .iter()
                .map(|word| (TextLanguage::English, word.to_string()))
                .collect(),
            topics: topics.to_vec(),
            weight,
            is_record: false,
        }
    }

    fn trained() -> TopicModel {
        TopicModel::train([
            example(&["rain", "street", "river"], &[Topic::FloodRisk], 2.0),
            example(&["rain", "drain", "street"], &[Topic::FloodRisk], 2.0),
            example(&["bus", "street", "commut"], &[Topic::Mobility], 2.0),
            example(&["bus", "ticket", "commut"], &[Topic::Mobility], 2.0),
            example(&["market", "vendor", "street"], &[Topic::InformalEconomy], 2.0),
            example(&["tax", "budget"], &[Topic::Financing], 2.0),
        ])
    }

    fn check(words: &[&str], expected_first: Topic) {
        let features = words
            .iter()
            .map(|word| (TextLanguage::English, word.to_string()))
            .collect();
        let read = trained().read(&features, 1.0);
        assert_eq!(
            read.first().map(|score| score.topic),
            Some(expected_first),
            "{words:?}: {read:?}"
        );
    }

    #[test]
    fn words_common_in_the_records_weigh_less() {
        let check = |records_with: u32, records: usize, expected: f32| {
            let found = specificity(records_with, records);
            assert!((found - expected).abs() < 1e-4, "{records_with} of {records}: {found}");
        };
        check(0, 0, 1.0);
        check(0, 500, 1.0);
        check(5, 500, 1.0);
        check(50, 500, 0.5);
        check(500, 500, 0.0);
        check(900, 500, 0.0);
    }

    #[test]
    fn a_word_a_curated_cue_uses_counts_nothing_when_every_profile_uses_it() {
        let topics = [Topic::Mobility, Topic::Waste, Topic::Housing, Topic::Energy];
        let mut examples: Vec<Example> = (0..40)
            .map(|index| Example {
                is_record: true,
                ..example(&["every", "town"], &[topics[index % topics.len()]], 1.0)
            })
            .collect();
        examples.push(example(&["every", "flood"], &[Topic::FloodRisk], 6.0));
        let model = TopicModel::train(examples);
        let weight_of = |word: &str| {
            let features = [(TextLanguage::English, word.to_string())].into_iter().collect();
            model.read(&features, 1.0).first().map_or(0.0, |score| score.score)
        };
        assert_eq!(weight_of("every"), 0.0);
        assert!(weight_of("flood") > 1.0, "flood: {}", weight_of("flood"));
    }

    #[test]
    fn a_word_common_in_the_few_records_of_its_language_about_other_topics_weighs_less() {
        let in_german = |words: &[&str], topics: &[Topic], weight: f32, is_record: bool| Example {
            features: words
                .iter()
                .map(|word| (TextLanguage::German, word.to_string()))
                .collect(),
            is_record,
            ..example(&[], topics, weight)
        };
        // A thousand English profiles and ten German ones: five untagged that say "strasse",
        // five about floods that say "hochwasser"; one cue uses all three words.
        let mut examples: Vec<Example> = (0..1000)
            .map(|_| Example {
                is_record: true,
                ..example(&["report"], &[], 1.0)
            })
            .collect();
        examples.extend((0..5).map(|_| in_german(&["strasse", "amt"], &[], 1.0, true)));
        examples.extend((0..5).map(|_| in_german(&["hochwasser", "amt"], &[Topic::FloodRisk], 1.0, true)));
        examples.push(in_german(
            &["strasse", "keller", "hochwasser"],
            &[Topic::FloodRisk],
            9.0,
            false,
        ));
        examples.push(example(&["bus"], &[Topic::Mobility], 90.0));
        let model = TopicModel::train(examples);
        let weight_of = |word: &str| {
            let features = [(TextLanguage::German, word.to_string())].into_iter().collect();
            model.read(&features, 1.0).first().map_or(0.0, |score| score.score)
        };
        let (strasse, keller, hochwasser) = (weight_of("strasse"), weight_of("keller"), weight_of("hochwasser"));
        assert!(strasse < 0.7 * keller, "strasse {strasse} against keller {keller}");
        assert!(hochwasser >= keller, "hochwasser {hochwasser} against keller {keller}");
    }

    #[test]
    fn untagged_records_show_which_words_are_common() {
        let mut examples: Vec<Example> = (0..40)
            .map(|_| Example {
                is_record: true,
                ..example(&["every", "town"], &[], 1.0)
            })
            .collect();
        examples.push(example(&["every", "flood"], &[Topic::FloodRisk], 6.0));
        examples.push(example(&["bus"], &[Topic::Mobility], 6.0));
        let model = TopicModel::train(examples);
        let features = [(TextLanguage::English, "every".to_string())].into_iter().collect();
        assert!(model.read(&features, 1.0).is_empty());
        assert_eq!(model.examples(), 2, "only labelled examples are learned from");
    }

    #[test]
    fn in_a_long_text_the_words_of_one_topic_speak_against_the_others() {
        let mobility_words: Vec<String> = (0..LEAST_FEATURES_FOR_AGAINST)
            .map(|index| format!("bus{index}"))
            .collect();
        let mut examples: Vec<Example> = mobility_words
            .iter()
            .map(|word| example(&[word.as_str()], &[Topic::Mobility], 4.0))
            .collect();
        examples.push(example(&["rain", "drain"], &[Topic::FloodRisk], 8.0));
        examples.push(example(&["tax"], &[Topic::Financing], 150.0));
        let model = TopicModel::train(examples);
        let flood_score = |words: &[String]| {
            let features: BTreeSet<Feature> = words.iter().map(|word| (TextLanguage::English, word.clone())).collect();
            model
                .read(&features, 1.0)
                .iter()
                .find(|score| score.topic == Topic::FloodRisk)
                .map_or(0.0, |score| score.score)
        };
        let rain = vec!["rain".to_string()];
        let short: Vec<String> = rain.iter().chain(&mobility_words[..3]).cloned().collect();
        let long: Vec<String> = rain.iter().chain(&mobility_words).cloned().collect();
        assert_eq!(flood_score(&short), flood_score(&rain), "a short text only adds up");
        assert!(
            flood_score(&long) < flood_score(&rain),
            "{} < {}",
            flood_score(&long),
            flood_score(&rain)
        );
    }

    #[test]
    fn texts_read_as_the_topic_their_words_point_to() {
        check(&["rain", "street"], Topic::FloodRisk);
        check(&["commut", "street"], Topic::Mobility);
        check(&["vendor"], Topic::InformalEconomy);
        check(&["budget", "street"], Topic::Financing);
    }

    #[test]
    fn a_word_every_topic_uses_says_nothing_and_unknown_words_are_ignored() {
        let model = trained();
        let features = [(TextLanguage::English, "street".to_string())].into_iter().collect();
        let read = model.read(&features, 1.0);
        assert!(read.iter().all(|score| score.score < 0.5), "{read:?}");
        let unknown = [(TextLanguage::English, "zebra".to_string())].into_iter().collect();
        assert!(model.read(&unknown, 1.0).is_empty());
        assert!(
            model
                .learned_terms(Topic::FloodRisk, TextLanguage::English, 5)
                .iter()
                .any(|(term, _)| term == "rain")
        );
    }
}
