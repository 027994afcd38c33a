//! Ranking settings from `index/ranking.toml`.

use serde::Deserialize;

use crate::vocab::VocabError;

pub const BUILT_IN_RANKING: &str = include_str!("../../index/ranking.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingSettings {
    #[serde(rename = "match")]
    pub matching: MatchSettings,
    pub search: SearchSettings,
    /// How topics are read from text ([reading]).
    #[serde(default)]
    pub reading: crate::reading::ReadingSettings,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSettings {
    pub weights: MatchWeights,
    pub text: TextSettings,
    pub topic: TopicCredits,
    pub language: LanguageCredits,
    pub diversity: Diversity,
    pub retrieval: Retrieval,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchWeights {
    pub text: f32,
    pub topic: f32,
    pub language: f32,
    pub region: f32,
    pub evidence: f32,
    pub place_from_text: f32,
    pub region_without_preference: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSettings {
    pub cross_language: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicCredits {
    pub tagged: f32,
    pub inferred_strong: f32,
    pub case_evidence: f32,
    pub area_only: f32,
    pub inferred_weak: f32,
    pub related: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageCredits {
    pub spoken: f32,
    pub not_spoken: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diversity {
    pub max_per_city: usize,
    pub within: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retrieval {
    pub candidates: usize,
    pub cases: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    pub weights: SearchWeights,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchWeights {
    pub text: f32,
    pub topic: f32,
    pub place: f32,
}

impl RankingSettings {
    pub fn load(file_name: &str, text: &str) -> Result<RankingSettings, VocabError> {
        let settings: RankingSettings =
            toml::from_str(text).map_err(|error| VocabError::from_toml(file_name, text, &error))?;
        let weights = &settings.matching.weights;
        let credits = &settings.matching.topic;
        let all = [
            ("match.weights.text", weights.text),
            ("match.weights.topic", weights.topic),
            ("match.weights.language", weights.language),
            ("match.weights.region", weights.region),
            ("match.weights.evidence", weights.evidence),
            (
                "match.weights.region_without_preference",
                weights.region_without_preference,
            ),
            ("match.text.cross_language", settings.matching.text.cross_language),
            ("match.topic.tagged", credits.tagged),
            ("match.topic.inferred_strong", credits.inferred_strong),
            ("match.topic.case_evidence", credits.case_evidence),
            ("match.topic.area_only", credits.area_only),
            ("match.topic.inferred_weak", credits.inferred_weak),
            ("match.topic.related", credits.related),
            ("match.language.spoken", settings.matching.language.spoken),
            ("match.language.not_spoken", settings.matching.language.not_spoken),
            ("search.weights.text", settings.search.weights.text),
            ("search.weights.topic", settings.search.weights.topic),
            ("search.weights.place", settings.search.weights.place),
        ];
        for (name, value) in all {
            if !(0.0..=1.0).contains(&value) {
                return Err(VocabError::invalid(
                    file_name,
                    None,
                    format!("{name} must be between 0 and 1 (got {value})"),
                ));
            }
        }
        if settings.matching.retrieval.candidates == 0 || settings.matching.retrieval.candidates > 5_000 {
            return Err(VocabError::invalid(
                file_name,
                None,
                "match.retrieval.candidates must be in 1..=5000",
            ));
        }
        if settings.matching.retrieval.cases > 1_000 {
            return Err(VocabError::invalid(
                file_name,
                None,
                "match.retrieval.cases must be at most 1000",
            ));
        }
        Ok(settings)
    }

    pub fn built_in() -> Result<RankingSettings, VocabError> {
        RankingSettings::load("index/ranking.toml", BUILT_IN_RANKING)
    }
}
