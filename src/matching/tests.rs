//! Table tests of ranking: each `check` states a situation and what must come of it.

use super::*;
use crate::domain::{CountryCode, LanguageCode, Topic, TopicSet};
use crate::search::{CandidateFeatures, RegionCodes};
use crate::text::{Analyzers, TextLanguage};
use crate::vocab::Vocabulary;

fn candidate(id: &str) -> CandidateFeatures {
    CandidateFeatures {
        id: id.to_string(),
        text_score: 0.0,
        retrieval_score: 0.0,
        tagged_topics: TopicSet::default(),
        area_tags: TopicSet::default(),
        inferred_strong: TopicSet::default(),
        inferred_weak: TopicSet::default(),
        regions: RegionCodes::default(),
        country: None,
        languages: Vec::new(),
        city_key: 0,
        available: true,
        updated_at: 0,
        text_language: None,
    }
}

fn language(code: &str) -> LanguageCode {
    LanguageCode::parse(code).expect("a language code")
}

struct Fixture {
    settings: RankingSettings,
    vocabulary: Vocabulary,
}

fn fixture() -> Fixture {
    Fixture {
        settings: RankingSettings::built_in().expect("built-in settings"),
        vocabulary: Vocabulary::built_in(&Analyzers::new()).expect("built-in vocabulary"),
    }
}

impl Fixture {
    fn context(&self) -> MatchContext<'_> {
        MatchContext {
            settings: &self.settings,
            taxonomy: &self.vocabulary.taxonomy,
            wanted_topics: Vec::new(),
            requested_languages: Vec::new(),
            challenge_language: None,
            challenge_text_language: None,
            preferred_regions: Vec::new(),
            preferred_countries: Vec::new(),
            preference_from_text: false,
            requester_subregion: None,
            cases: Vec::new(),
        }
    }
}

fn wanted(topic: Topic) -> WantedTopic {
    WantedTopic { topic, weight: 1.0 }
}

fn order(ranked: &[RankedMatch]) -> Vec<&str> {
    ranked.iter().map(|ranked| ranked.candidate.id.as_str()).collect()
}

#[test]
fn how_a_candidate_relates_to_a_topic() {
    let fixture = fixture();
    let credits = &fixture.settings.matching.topic;
    let taxonomy = &fixture.vocabulary.taxonomy;
    let check = |features: CandidateFeatures, evidence: &[Topic], expected: Option<TopicRelation>| {
        let (_, relation) = credit_for(&features, Topic::FloodRisk, evidence, taxonomy, credits);
        assert_eq!(relation, expected, "{features:?} with evidence {evidence:?}");
    };
    let tagged = CandidateFeatures {
        tagged_topics: TopicSet::from([Topic::FloodRisk]),
        ..candidate("tagged")
    };
    let shown = CandidateFeatures {
        inferred_strong: TopicSet::from([Topic::FloodRisk]),
        ..candidate("shown")
    };
    let mentioned = CandidateFeatures {
        inferred_weak: TopicSet::from([Topic::FloodRisk]),
        ..candidate("mentioned")
    };
    check(tagged, &[], Some(TopicRelation::Tagged));
    check(shown, &[], Some(TopicRelation::ShownInText));
    check(candidate("case"), &[Topic::FloodRisk], Some(TopicRelation::CaseAbout));
    check(mentioned, &[], Some(TopicRelation::MentionedInText));
    check(candidate("unrelated"), &[], None);
}

#[test]
fn text_relevance_is_relative_and_fair_across_languages() {
    let check = |text_score: f32,
                 best: f32,
                 topic: f32,
                 request: Option<TextLanguage>,
                 profile: Option<TextLanguage>,
                 expected: f32| {
        let features = CandidateFeatures {
            text_score,
            text_language: profile,
            ..candidate("x")
        };
        let part = text_part(&features, best, topic, request, 0.5);
        assert!(
            (part - expected).abs() < 1e-6,
            "{text_score}/{best}, topic {topic}: {part} ≠ {expected}"
        );
    };
    let (en, fr) = (Some(TextLanguage::English), Some(TextLanguage::French));
    check(5.0, 10.0, 0.0, en, en, 0.5);
    check(10.0, 10.0, 1.0, en, en, 1.0);
    check(0.0, 0.0, 1.0, en, en, 0.0);
    // Written in another language: at least half its topic part (cross_language 0.5).
    check(0.0, 10.0, 0.8, fr, en, 0.4);
    check(9.0, 10.0, 0.8, fr, en, 0.9);
    // Same language and no shared words: nothing.
    check(0.0, 10.0, 0.8, en, en, 0.0);
}

#[test]
fn one_city_holds_at_most_its_share_of_the_head_of_the_list() {
    let check = |cities: &[(&str, u64, f32)], max_per_city: usize, within: usize, limit: usize, expected: &[&str]| {
        let ranked: Vec<RankedMatch> = cities
            .iter()
            .map(|(id, city, score)| RankedMatch {
                candidate: CandidateFeatures {
                    city_key: *city,
                    ..candidate(id)
                },
                score: *score,
                breakdown: Breakdown::default(),
                explanation: Explanation::default(),
            })
            .collect();
        let diverse = diversify_by_city(ranked, max_per_city, within, limit);
        assert_eq!(order(&diverse), expected);
        assert!(
            diverse.windows(2).all(|pair| pair[0].score >= pair[1].score),
            "scores stay descending"
        );
    };
    let kigali = [("a", 1, 0.9), ("b", 1, 0.8), ("c", 1, 0.7), ("d", 2, 0.6)];
    check(&kigali, 2, 10, 4, &["a", "b", "d", "c"]);
    check(&kigali, 3, 10, 4, &["a", "b", "c", "d"]);
    check(&kigali, 2, 10, 2, &["a", "b"]);
    // Only one city: nobody else qualifies, so nobody is held back for long.
    check(
        &[("a", 1, 0.9), ("b", 1, 0.8), ("c", 1, 0.7)],
        1,
        10,
        3,
        &["a", "b", "c"],
    );
}

#[test]
fn the_parts_of_a_match_decide_its_place() {
    let fixture = fixture();
    type Setup = fn(&mut MatchContext<'_>);
    let check = |what: &str, setup: Setup, candidates: Vec<CandidateFeatures>, expected: &[&str]| {
        let mut context = fixture.context();
        setup(&mut context);
        let ranked = rank_matches(candidates, &context, 10);
        assert_eq!(order(&ranked), expected, "{what}");
        assert!(
            ranked.iter().all(|ranked| (0.0..=1.0).contains(&ranked.score)),
            "{what}: scores in [0, 1]"
        );
    };
    check(
        "a tagged expert before one whose text only mentions the topic",
        |context| context.wanted_topics = vec![wanted(Topic::FloodRisk)],
        vec![
            CandidateFeatures {
                inferred_weak: TopicSet::from([Topic::FloodRisk]),
                ..candidate("mentions")
            },
            CandidateFeatures {
                tagged_topics: TopicSet::from([Topic::FloodRisk]),
                ..candidate("tagged")
            },
        ],
        &["tagged", "mentions"],
    );
    check(
        "the main topic of the challenge before one it mentions in passing",
        |context| {
            context.wanted_topics = vec![
                WantedTopic {
                    topic: Topic::FloodRisk,
                    weight: 1.0,
                },
                WantedTopic {
                    topic: Topic::Tourism,
                    weight: 0.2,
                },
            ]
        },
        vec![
            CandidateFeatures {
                tagged_topics: TopicSet::from([Topic::Tourism]),
                ..candidate("tourism")
            },
            CandidateFeatures {
                tagged_topics: TopicSet::from([Topic::FloodRisk]),
                ..candidate("flood")
            },
        ],
        &["flood", "tourism"],
    );
    check(
        "speaking the challenge's language counts",
        |context| context.challenge_language = Some(language("fr")),
        vec![
            CandidateFeatures {
                languages: vec![language("en")],
                ..candidate("english")
            },
            CandidateFeatures {
                languages: vec![language("fr")],
                ..candidate("french")
            },
        ],
        &["french", "english"],
    );
    check(
        "a preferred country counts",
        |context| context.preferred_countries = vec![CountryCode::parse("KE").expect("a country")],
        vec![
            CandidateFeatures {
                country: Some(CountryCode::parse("GH").expect("a country")),
                ..candidate("ghana")
            },
            CandidateFeatures {
                country: Some(CountryCode::parse("KE").expect("a country")),
                ..candidate("kenya")
            },
        ],
        &["kenya", "ghana"],
    );
    check(
        "an expert of a relevant case is evidence",
        |context| {
            context.cases = vec![CaseEvidence {
                case_id: "case".into(),
                relevance: 1.0,
                topics: vec![Topic::Waste],
                experts: vec!["linked".into()],
            }]
        },
        vec![candidate("alone"), candidate("linked")],
        &["linked", "alone"],
    );
    check(
        "equal scores: the better text match, then the id",
        |_| {},
        vec![
            CandidateFeatures {
                text_score: 1.0,
                ..candidate("b")
            },
            CandidateFeatures {
                text_score: 1.0,
                ..candidate("a")
            },
            CandidateFeatures {
                text_score: 2.0,
                ..candidate("c")
            },
        ],
        &["c", "a", "b"],
    );
}

#[test]
fn reasons_name_what_decided() {
    let fixture = fixture();
    let mut context = fixture.context();
    context.wanted_topics = vec![wanted(Topic::FloodRisk)];
    context.requested_languages = vec![language("pt")];
    let ranked = rank_matches(
        vec![CandidateFeatures {
            tagged_topics: TopicSet::from([Topic::FloodRisk]),
            languages: vec![language("pt"), language("en")],
            ..candidate("maputo")
        }],
        &context,
        10,
    );
    let explanation = &ranked[0].explanation;
    assert_eq!(explanation.topics, vec![(Topic::FloodRisk, TopicRelation::Tagged)]);
    assert_eq!(explanation.shared_languages, vec![language("pt")]);
    assert_eq!(ranked[0].breakdown.language, 1.0);
    // Parts with nothing to judge by are left out: a perfect fit on the rest scores 1.
    assert!((ranked[0].score - 1.0).abs() < 1e-6, "{}", ranked[0].score);
}
