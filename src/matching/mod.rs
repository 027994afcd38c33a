//! Pure ranking: candidates and a request in, ranked matches with a score breakdown and the
//! ingredients of their reasons out. No I/O: everything it needs arrives as arguments.

pub mod reasons;
pub mod settings;

use std::collections::HashMap;

pub use reasons::{ReasonLabels, ReasonLanguage, reading_summary, render_reasons};
pub use settings::RankingSettings;

#[cfg(test)]
mod tests;

use crate::domain::{CountryCode, LanguageCode, Topic, TopicSet};
use crate::search::CandidateFeatures;
use crate::text::TextLanguage;
use crate::vocab::{Place, Taxonomy};

/// A topic the request is about, with how strongly the request says so.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WantedTopic {
    pub topic: Topic,
    pub weight: f32,
}

/// A relevant case, as evidence for the experts linked to it.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseEvidence {
    pub case_id: String,
    /// Relevance relative to the best case of the request, in [0, 1].
    pub relevance: f32,
    pub topics: Vec<Topic>,
    pub experts: Vec<String>,
}

/// What a match request asks for, as ranking sees it.
pub struct MatchContext<'a> {
    pub settings: &'a RankingSettings,
    pub taxonomy: &'a Taxonomy,
    pub wanted_topics: Vec<WantedTopic>,
    pub requested_languages: Vec<LanguageCode>,
    pub challenge_language: Option<LanguageCode>,
    /// The analysed language of the challenge text, for cross-language fairness.
    pub challenge_text_language: Option<TextLanguage>,
    pub preferred_regions: Vec<u64>,
    /// Countries preferred by name (read from the challenge).
    pub preferred_countries: Vec<CountryCode>,
    /// Whether the preference was read from the challenge rather than given as `regions`.
    pub preference_from_text: bool,
    pub requester_subregion: Option<u64>,
    pub cases: Vec<CaseEvidence>,
}

/// The five parts of a match's score, each in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Breakdown {
    pub text: f32,
    pub topic: f32,
    pub language: f32,
    pub region: f32,
    pub evidence: f32,
}

/// How a candidate relates to the request's best-served topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicRelation {
    Tagged,
    ShownInText,
    CaseAbout,
    AreaOnly,
    MentionedInText,
    Related,
}

/// Why a match ranks where it does; rendered as sentences by `reasons`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Explanation {
    pub topics: Vec<(Topic, TopicRelation)>,
    pub shared_languages: Vec<LanguageCode>,
    pub in_preferred_region: Option<u64>,
    pub in_preferred_country: Option<CountryCode>,
    pub in_requester_subregion: Option<u64>,
    /// Relevant cases the expert is linked to, most relevant first.
    pub cases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RankedMatch {
    pub candidate: CandidateFeatures,
    pub score: f32,
    pub breakdown: Breakdown,
    pub explanation: Explanation,
}

fn credit_for(
    candidate: &CandidateFeatures,
    topic: Topic,
    evidence_topics: &[Topic],
    taxonomy: &Taxonomy,
    credits: &settings::TopicCredits,
) -> (f32, Option<TopicRelation>) {
    let shows = |set: TopicSet| {
        if topic.is_area() {
            set.iter().any(|shown| shown.area() == topic)
        } else {
            set.contains(&topic)
        }
    };
    let options = [
        (shows(candidate.tagged_topics), credits.tagged, TopicRelation::Tagged),
        (
            shows(candidate.inferred_strong),
            credits.inferred_strong,
            TopicRelation::ShownInText,
        ),
        (
            shows(evidence_topics.iter().copied().collect()),
            credits.case_evidence,
            TopicRelation::CaseAbout,
        ),
        (
            candidate.area_tags.contains(&topic.area()),
            credits.area_only,
            TopicRelation::AreaOnly,
        ),
        (
            shows(candidate.inferred_weak),
            credits.inferred_weak,
            TopicRelation::MentionedInText,
        ),
    ];
    let mut best = (0.0f32, None);
    for (applies, credit, relation) in options {
        if applies && credit > best.0 {
            best = (credit, Some(relation));
        }
    }
    if best.0 < credits.related && !topic.is_area() {
        let related = &taxonomy.entry(topic).related;
        let shows_related = related
            .iter()
            .any(|other| candidate.tagged_topics.contains(other) || candidate.inferred_strong.contains(other));
        if shows_related {
            best = (credits.related, Some(TopicRelation::Related));
        }
    }
    best
}

/// The topic part: 0.6 × best credit + 0.4 × credit weighted by the request's topic weights.
fn topic_part(
    candidate: &CandidateFeatures,
    wanted: &[WantedTopic],
    evidence_topics: &[Topic],
    taxonomy: &Taxonomy,
    credits: &settings::TopicCredits,
) -> (f32, Vec<(Topic, TopicRelation)>) {
    let mut best = 0.0f32;
    let mut weighted = 0.0f32;
    let mut total_weight = 0.0f32;
    let mut relations = Vec::new();
    let heaviest = wanted
        .iter()
        .map(|wanted_topic| wanted_topic.weight)
        .fold(0.0f32, f32::max);
    for wanted_topic in wanted {
        let (credit, relation) = credit_for(candidate, wanted_topic.topic, evidence_topics, taxonomy, credits);
        // The best credit counts as much as the request is about that topic: expertise in a
        // topic the challenge mentions in passing must not outweigh its subject.
        let importance = if heaviest > 0.0 {
            wanted_topic.weight / heaviest
        } else {
            0.0
        };
        best = best.max(credit * importance);
        weighted += credit * wanted_topic.weight;
        total_weight += wanted_topic.weight;
        if let Some(relation) = relation {
            relations.push((wanted_topic.topic, relation, credit * importance));
        }
    }
    relations.sort_by(|left, right| right.2.total_cmp(&left.2));
    let mean = if total_weight > 0.0 {
        weighted / total_weight
    } else {
        0.0
    };
    (
        0.6 * best + 0.4 * mean,
        relations
            .into_iter()
            .map(|(topic, relation, _)| (topic, relation))
            .collect(),
    )
}

/// Whether a candidate is in one of the places (country, or region at any level).
fn is_in_any(candidate: &CandidateFeatures, places: &[Place]) -> bool {
    places.iter().any(|place| match place {
        Place::Country(country) => candidate.country == Some(*country),
        Place::Region(code) => candidate.regions.contains(code),
    })
}

/// Text relevance relative to the best candidate. A profile written in another language than
/// the request cannot share its words: when it relates to the wanted topics, it gets at least
/// `cross_language` × its topic part instead of nothing.
fn text_part(
    candidate: &CandidateFeatures,
    best_text: f32,
    topic: f32,
    request_language: Option<TextLanguage>,
    cross_language: f32,
) -> f32 {
    let relative = if best_text > 0.0 {
        candidate.text_score / best_text
    } else {
        0.0
    };
    let written_in_another_language = match (request_language, candidate.text_language) {
        (Some(request), Some(profile)) => request != profile,
        _ => false,
    };
    if written_in_another_language {
        relative.max(cross_language * topic)
    } else {
        relative
    }
}

/// Ranks match candidates: weighted mean of the parts that apply, then city diversity.
pub fn rank_matches(candidates: Vec<CandidateFeatures>, context: &MatchContext<'_>, limit: usize) -> Vec<RankedMatch> {
    let settings = &context.settings.matching;
    let best_text = candidates
        .iter()
        .map(|candidate| candidate.text_score)
        .fold(0.0f32, f32::max);
    let weights = PartWeights::for_request(context, best_text);
    let cases_by_expert = cases_by_expert(&context.cases);
    let mut ranked: Vec<RankedMatch> = candidates
        .into_iter()
        .map(|candidate| {
            let linked_cases = cases_by_expert.get(candidate.id.as_str()).cloned().unwrap_or_default();
            score_candidate(candidate, &linked_cases, best_text, &weights, context)
        })
        .collect();
    sort_by_score(&mut ranked);
    diversify_by_city(
        ranked,
        settings.diversity.max_per_city,
        settings.diversity.within,
        limit,
    )
}

/// The weight of each score part, and whether it applies to this request: a part the
/// request gives nothing to judge by (no text matched, no topics, no language…) is left out
/// of the mean rather than counted as 0.
struct PartWeights {
    /// text, topic, language, region, evidence
    parts: [(bool, f32); 5],
    /// Whether a region or country was preferred (by `regions` or in the text).
    has_preference: bool,
}

impl PartWeights {
    fn for_request(context: &MatchContext<'_>, best_text: f32) -> PartWeights {
        let weights = &context.settings.matching.weights;
        let language_applies = !context.requested_languages.is_empty() || context.challenge_language.is_some();
        let has_preference = !context.preferred_regions.is_empty() || !context.preferred_countries.is_empty();
        let region_weight = if has_preference && context.preference_from_text {
            weights.place_from_text
        } else if has_preference {
            weights.region
        } else if context.requester_subregion.is_some() {
            weights.region_without_preference
        } else {
            0.0
        };
        PartWeights {
            parts: [
                (best_text > 0.0, weights.text),
                (!context.wanted_topics.is_empty(), weights.topic),
                (language_applies, weights.language),
                (region_weight > 0.0, region_weight),
                (!context.cases.is_empty(), weights.evidence),
            ],
            has_preference,
        }
    }

    /// The weighted mean of the parts that apply, in [0, 1].
    fn score(&self, breakdown: &Breakdown) -> f32 {
        let values = [
            breakdown.text,
            breakdown.topic,
            breakdown.language,
            breakdown.region,
            breakdown.evidence,
        ];
        let applying = self.parts.iter().zip(values).filter(|((applies, _), _)| *applies);
        let (weighted, weight_sum) = applying.fold((0.0f32, 0.0f32), |(sum, weights), ((_, weight), value)| {
            (sum + weight * value, weights + weight)
        });
        if weight_sum > 0.0 {
            (weighted / weight_sum).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// The relevant cases each expert is linked to.
fn cases_by_expert(cases: &[CaseEvidence]) -> HashMap<&str, Vec<&CaseEvidence>> {
    let mut by_expert: HashMap<&str, Vec<&CaseEvidence>> = HashMap::new();
    for case in cases {
        for expert in &case.experts {
            by_expert.entry(expert.as_str()).or_default().push(case);
        }
    }
    by_expert
}

/// One candidate's score parts, score and the explanation its reasons are made of.
fn score_candidate(
    candidate: CandidateFeatures,
    linked_cases: &[&CaseEvidence],
    best_text: f32,
    weights: &PartWeights,
    context: &MatchContext<'_>,
) -> RankedMatch {
    let settings = &context.settings.matching;
    let mut explanation = Explanation::default();
    let evidence_topics: Vec<Topic> = linked_cases
        .iter()
        .flat_map(|case| case.topics.iter().copied())
        .collect();
    let (topic, relations) = topic_part(
        &candidate,
        &context.wanted_topics,
        &evidence_topics,
        context.taxonomy,
        &settings.topic,
    );
    explanation.topics = relations;
    let breakdown = Breakdown {
        text: text_part(
            &candidate,
            best_text,
            topic,
            context.challenge_text_language,
            settings.text.cross_language,
        ),
        topic,
        language: language_part(&candidate, context, &mut explanation),
        region: region_part(&candidate, context, weights.has_preference, &mut explanation),
        evidence: evidence_part(linked_cases, &mut explanation),
    };
    RankedMatch {
        score: weights.score(&breakdown),
        candidate,
        breakdown,
        explanation,
    }
}

/// Asked languages: 1 when the candidate speaks one of them (they are a hard filter too);
/// else the challenge's language, spoken or not.
fn language_part(candidate: &CandidateFeatures, context: &MatchContext<'_>, explanation: &mut Explanation) -> f32 {
    let settings = &context.settings.matching.language;
    if !context.requested_languages.is_empty() {
        explanation.shared_languages = context
            .requested_languages
            .iter()
            .copied()
            .filter(|language| candidate.languages.contains(language))
            .collect();
        return if explanation.shared_languages.is_empty() {
            0.0
        } else {
            1.0
        };
    }
    match context.challenge_language {
        Some(language) if candidate.languages.contains(&language) => {
            explanation.shared_languages = vec![language];
            settings.spoken
        }
        Some(_) => settings.not_spoken,
        None => 0.0,
    }
}

/// 1 in a preferred region or country; without a preference, 1 in the requester's subregion.
fn region_part(
    candidate: &CandidateFeatures,
    context: &MatchContext<'_>,
    has_preference: bool,
    explanation: &mut Explanation,
) -> f32 {
    if has_preference {
        explanation.in_preferred_region = context
            .preferred_regions
            .iter()
            .copied()
            .find(|region| candidate.regions.contains(region));
        explanation.in_preferred_country = context
            .preferred_countries
            .iter()
            .copied()
            .find(|country| candidate.country == Some(*country));
        let inside = explanation.in_preferred_region.is_some() || explanation.in_preferred_country.is_some();
        return if inside { 1.0 } else { 0.0 };
    }
    match context.requester_subregion {
        Some(subregion) if candidate.regions.contains(&subregion) => {
            explanation.in_requester_subregion = Some(subregion);
            1.0
        }
        _ => 0.0,
    }
}

/// The relevance of the best relevant case the candidate is linked to; the cases are kept,
/// most relevant first, for the reasons.
fn evidence_part(linked_cases: &[&CaseEvidence], explanation: &mut Explanation) -> f32 {
    let mut by_relevance = linked_cases.to_vec();
    by_relevance.sort_by(|left, right| right.relevance.total_cmp(&left.relevance));
    explanation.cases = by_relevance.iter().map(|case| case.case_id.clone()).collect();
    by_relevance.first().map_or(0.0, |case| case.relevance)
}

/// Best score first; ties go to the better text match, then to the id (stable answers).
fn sort_by_score(ranked: &mut [RankedMatch]) {
    ranked.sort_by(|left, right| {
        right
            .score
            .total_cmp(&left.score)
            .then(right.breakdown.text.total_cmp(&left.breakdown.text))
            .then(left.candidate.id.cmp(&right.candidate.id))
    });
}

/// Keeps at most `max_per_city` experts of one city among the first `within` while other
/// cities' experts qualify; the ones held back follow after. Scores stay descending.
fn diversify_by_city(ranked: Vec<RankedMatch>, max_per_city: usize, within: usize, limit: usize) -> Vec<RankedMatch> {
    let mut chosen: Vec<RankedMatch> = Vec::with_capacity(limit);
    let mut held_back: Vec<RankedMatch> = Vec::new();
    let mut per_city: HashMap<u64, usize> = HashMap::new();
    for candidate in ranked {
        if chosen.len() >= limit {
            break;
        }
        let count = per_city.entry(candidate.candidate.city_key).or_default();
        if chosen.len() < within && *count >= max_per_city {
            held_back.push(candidate);
            continue;
        }
        *count += 1;
        chosen.push(candidate);
    }
    for candidate in held_back {
        if chosen.len() >= limit {
            break;
        }
        chosen.push(candidate);
    }
    // Held-back experts come after the diverse head; keep the list in descending score
    // order by lowering a held-back expert's score to the one before it, if needed.
    for position in 1..chosen.len() {
        if chosen[position].score > chosen[position - 1].score {
            chosen[position].score = chosen[position - 1].score;
        }
    }
    chosen
}

/// Orders a listing's candidates by text relevance and the topics read from `q`.
pub fn rank_listing(
    candidates: Vec<CandidateFeatures>,
    wanted_topics: &[WantedTopic],
    query_language: Option<TextLanguage>,
    places: &[Place],
    taxonomy: &Taxonomy,
    settings: &RankingSettings,
) -> Vec<(CandidateFeatures, f32)> {
    let weights = &settings.search.weights;
    let best_text = candidates
        .iter()
        .map(|candidate| candidate.text_score)
        .fold(0.0f32, f32::max);
    let text_weight = if best_text > 0.0 { weights.text } else { 0.0 };
    let topic_weight = if wanted_topics.is_empty() { 0.0 } else { weights.topic };
    let place_weight = if places.is_empty() { 0.0 } else { weights.place };
    let weight_sum = text_weight + topic_weight + place_weight;
    let mut scored: Vec<(CandidateFeatures, f32)> = candidates
        .into_iter()
        .map(|candidate| {
            let (topic, _) = topic_part(&candidate, wanted_topics, &[], taxonomy, &settings.matching.topic);
            let text = text_part(
                &candidate,
                best_text,
                topic,
                query_language,
                settings.matching.text.cross_language,
            );
            let place = if is_in_any(&candidate, places) { 1.0 } else { 0.0 };
            let score = if weight_sum > 0.0 {
                (text_weight * text + topic_weight * topic + place_weight * place) / weight_sum
            } else {
                0.0
            };
            (candidate, score)
        })
        .collect();
    scored.sort_by(|left, right| {
        right
            .1
            .total_cmp(&left.1)
            .then(right.0.text_score.total_cmp(&left.0.text_score))
            .then(left.0.id.cmp(&right.0.id))
    });
    scored
}
