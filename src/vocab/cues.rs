//! Everyday cues (`index/cues.toml`): the words people use to describe the problem behind a
//! topic ("the street turns into a river", "camelôs"), per topic and language. They are read
//! like terms but weigh less: a weaker, far more numerous signal.

use serde::Deserialize;

use super::{Taxonomy, VocabError};
use crate::domain::Topic;
use crate::text::TextLanguage;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CueFile {
    cue: Vec<RawCues>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCues {
    topic: String,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    de: Vec<String>,
    #[serde(default)]
    fr: Vec<String>,
    #[serde(default)]
    es: Vec<String>,
    #[serde(default)]
    pt: Vec<String>,
    #[serde(default)]
    ar: Vec<String>,
}

/// One cue: the topic it points to, its language and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    pub topic: Topic,
    pub language: TextLanguage,
    pub text: String,
}

/// Reads a cue file; every topic id must be one of the taxonomy's.
pub fn load(file: &str, text: &str, taxonomy: &Taxonomy) -> Result<Vec<Cue>, VocabError> {
    let parsed: CueFile = toml::from_str(text).map_err(|error| VocabError::from_toml(file, text, &error))?;
    let mut cues = Vec::new();
    for raw in parsed.cue {
        let topic = Topic::parse(&raw.topic).map_err(|message| VocabError::invalid(file, None, message))?;
        if !taxonomy.entries().iter().any(|entry| entry.topic == topic) {
            return Err(VocabError::invalid(
                file,
                None,
                format!("'{topic}' is not a topic of the taxonomy"),
            ));
        }
        let languages = [
            (TextLanguage::English, raw.en),
            (TextLanguage::German, raw.de),
            (TextLanguage::French, raw.fr),
            (TextLanguage::Spanish, raw.es),
            (TextLanguage::Portuguese, raw.pt),
            (TextLanguage::Arabic, raw.ar),
        ];
        for (language, texts) in languages {
            for text in texts {
                let cleaned = text.trim();
                if !cleaned.is_empty() {
                    cues.push(Cue {
                        topic,
                        language,
                        text: cleaned.to_string(),
                    });
                }
            }
        }
    }
    Ok(cues)
}
