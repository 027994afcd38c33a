//! The vocabulary the engine reads at start-up from `index/`: the topic taxonomy with its
//! multilingual labels and terms, UN M49 regions, and the topic matcher built from the terms.

pub mod cues;
pub mod matcher;
pub mod places;
pub mod regions;
pub mod taxonomy;

use std::path::Path;

pub use matcher::{TopicEvidence, TopicMatcher};
pub use places::{Place, PlaceMatcher};
pub use regions::{RegionLevel, RegionNode, RegionPath, Regions};
pub use taxonomy::{Taxonomy, TopicEntry};

use crate::text::Analyzers;

/// A vocabulary file that cannot be used; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct VocabError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl VocabError {
    pub fn invalid(file: &str, line: Option<usize>, message: impl Into<String>) -> VocabError {
        VocabError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    pub fn from_toml(file: &str, text: &str, error: &toml::de::Error) -> VocabError {
        let line = error.span().map(|span| line_of_offset(text, span.start));
        VocabError::invalid(file, line, error.message().trim().to_string())
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|byte| **byte == b'\n').count() + 1
}

/// Everything read from `index/`, ready for the engine.
pub struct Vocabulary {
    pub taxonomy: Taxonomy,
    pub regions: Regions,
    /// The everyday cues (`cues.toml`).
    pub cues: Vec<cues::Cue>,
    pub matcher: TopicMatcher,
    pub places: PlaceMatcher,
}

/// The vocabulary files built into the binary, used when no `index/` folder is configured.
pub const BUILT_IN_TOPICS: &str = include_str!("../../index/topics.toml");
pub const BUILT_IN_REGIONS: &str = include_str!("../../index/regions.toml");
pub const BUILT_IN_CUES: &str = include_str!("../../index/cues.toml");

impl Vocabulary {
    pub fn from_texts(
        topics_toml: &str,
        regions_toml: &str,
        cues_toml: &str,
        analyzers: &Analyzers,
    ) -> Result<Vocabulary, VocabError> {
        let taxonomy = Taxonomy::load("index/topics.toml", topics_toml)?;
        let regions = Regions::load("index/regions.toml", regions_toml)?;
        let cues = cues::load("index/cues.toml", cues_toml, &taxonomy)?;
        let matcher = TopicMatcher::build(&taxonomy, &cues, analyzers);
        let places = PlaceMatcher::build(&regions, analyzers);
        Ok(Vocabulary {
            taxonomy,
            regions,
            cues,
            matcher,
            places,
        })
    }

    pub fn built_in(analyzers: &Analyzers) -> Result<Vocabulary, VocabError> {
        Vocabulary::from_texts(BUILT_IN_TOPICS, BUILT_IN_REGIONS, BUILT_IN_CUES, analyzers)
    }

    /// Reads `topics.toml`, `regions.toml` and (when there) `cues.toml` from a folder (for
    /// editing without rebuilding).
    pub fn from_dir(dir: &Path, analyzers: &Analyzers) -> Result<Vocabulary, VocabError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|error| VocabError::invalid(&dir.join(name).display().to_string(), None, error.to_string()))
        };
        let topics = read("topics.toml")?;
        let regions = read("regions.toml")?;
        let taxonomy = Taxonomy::load(&dir.join("topics.toml").display().to_string(), &topics)?;
        let regions = Regions::load(&dir.join("regions.toml").display().to_string(), &regions)?;
        let cues = if dir.join("cues.toml").exists() {
            cues::load(
                &dir.join("cues.toml").display().to_string(),
                &read("cues.toml")?,
                &taxonomy,
            )?
        } else {
            Vec::new()
        };
        let matcher = TopicMatcher::build(&taxonomy, &cues, analyzers);
        let places = PlaceMatcher::build(&regions, analyzers);
        Ok(Vocabulary {
            taxonomy,
            regions,
            cues,
            matcher,
            places,
        })
    }
}
