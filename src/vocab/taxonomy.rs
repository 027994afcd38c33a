//! The topic taxonomy with labels, descriptions, related topics and terms per language,
//! loaded from `index/topics.toml`.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use toml::Spanned;

use super::{VocabError, line_of_offset};
use crate::domain::Topic;
use crate::text::TextLanguage;

/// The languages every label and description must have.
pub const REQUIRED_LABEL_LANGUAGES: [&str; 5] = ["en", "de", "fr", "es", "pt"];

/// One area or topic with everything `index/topics.toml` says about it.
#[derive(Clone, Debug)]
pub struct TopicEntry {
    pub topic: Topic,
    pub labels: BTreeMap<String, String>,
    pub descriptions: BTreeMap<String, String>,
    pub related: Vec<Topic>,
    /// Words and phrases that signal the topic, each with the language it is written in.
    pub terms: Vec<(TextLanguage, String)>,
}

impl TopicEntry {
    /// The label in `language`, else in English.
    pub fn label(&self, language: &str) -> &str {
        self.labels
            .get(language)
            .or_else(|| self.labels.get("en"))
            .map_or(self.topic.id(), String::as_str)
    }

    pub fn description(&self, language: &str) -> &str {
        self.descriptions
            .get(language)
            .or_else(|| self.descriptions.get("en"))
            .map_or("", String::as_str)
    }
}

#[derive(Debug)]
pub struct Taxonomy {
    entries: Vec<TopicEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsFile {
    area: Vec<RawEntry>,
    topic: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Spanned<String>,
    area: Option<Spanned<String>>,
    label: BTreeMap<String, String>,
    description: BTreeMap<String, String>,
    #[serde(default)]
    related: Vec<Spanned<String>>,
    #[serde(default)]
    terms: BTreeMap<String, Vec<Spanned<String>>>,
}

impl Taxonomy {
    pub fn load(file_name: &str, text: &str) -> Result<Taxonomy, VocabError> {
        let file: TopicsFile = toml::from_str(text).map_err(|error| VocabError::from_toml(file_name, text, &error))?;
        let at = |span: std::ops::Range<usize>| Some(line_of_offset(text, span.start));
        let mut entries: HashMap<Topic, TopicEntry> = HashMap::new();

        let all_raw = file
            .area
            .iter()
            .map(|raw| (true, raw))
            .chain(file.topic.iter().map(|raw| (false, raw)));
        for (declared_as_area, raw) in all_raw {
            let line = at(raw.id.span());
            let topic =
                Topic::parse(raw.id.get_ref()).map_err(|message| VocabError::invalid(file_name, line, message))?;
            if topic.is_area() != declared_as_area {
                let expected = if topic.is_area() { "[[area]]" } else { "[[topic]]" };
                return Err(VocabError::invalid(
                    file_name,
                    line,
                    format!("'{topic}' belongs in a {expected} table"),
                ));
            }
            if entries.contains_key(&topic) {
                return Err(VocabError::invalid(
                    file_name,
                    line,
                    format!("'{topic}' is defined twice"),
                ));
            }
            match (&raw.area, topic.is_area()) {
                (Some(area), false) if area.get_ref() != topic.area().id() => {
                    return Err(VocabError::invalid(
                        file_name,
                        at(area.span()),
                        format!("'{topic}' belongs to area '{}', not '{}'", topic.area(), area.get_ref()),
                    ));
                }
                (None, false) => {
                    return Err(VocabError::invalid(
                        file_name,
                        line,
                        format!("'{topic}' needs area = \"{}\"", topic.area()),
                    ));
                }
                (Some(area), true) => {
                    return Err(VocabError::invalid(file_name, at(area.span()), "an area has no area"));
                }
                _ => {}
            }
            for language in REQUIRED_LABEL_LANGUAGES {
                let has_label = raw.label.get(language).is_some_and(|label| !label.trim().is_empty());
                let has_description = raw
                    .description
                    .get(language)
                    .is_some_and(|text| !text.trim().is_empty());
                if !has_label || !has_description {
                    return Err(VocabError::invalid(
                        file_name,
                        line,
                        format!("'{topic}' needs a label and a description in '{language}'"),
                    ));
                }
            }
            let mut related = Vec::new();
            for related_raw in &raw.related {
                let related_topic = Topic::parse(related_raw.get_ref())
                    .map_err(|message| VocabError::invalid(file_name, at(related_raw.span()), message))?;
                if related_topic == topic {
                    return Err(VocabError::invalid(
                        file_name,
                        at(related_raw.span()),
                        "a topic is not related to itself",
                    ));
                }
                related.push(related_topic);
            }
            let mut terms = Vec::new();
            for (language_code, language_terms) in &raw.terms {
                let language =
                    TextLanguage::from_code(language_code).filter(|language| *language != TextLanguage::Other);
                let Some(language) = language else {
                    return Err(VocabError::invalid(
                        file_name,
                        line,
                        format!(
                            "'{topic}': terms in '{language_code}' cannot be analysed; use en, de, fr, es, pt or ar"
                        ),
                    ));
                };
                for term in language_terms {
                    let cleaned = term.get_ref().trim();
                    if cleaned.is_empty() {
                        return Err(VocabError::invalid(file_name, at(term.span()), "empty term"));
                    }
                    terms.push((language, cleaned.to_string()));
                }
            }
            entries.insert(
                topic,
                TopicEntry {
                    topic,
                    labels: raw.label.clone(),
                    descriptions: raw.description.clone(),
                    related,
                    terms,
                },
            );
        }
        let mut ordered = Vec::with_capacity(Topic::ALL.len());
        for topic in Topic::ALL {
            let entry = entries
                .remove(&topic)
                .ok_or_else(|| VocabError::invalid(file_name, None, format!("topic '{topic}' is missing")))?;
            ordered.push(entry);
        }
        Ok(Taxonomy { entries: ordered })
    }

    pub fn entry(&self, topic: Topic) -> &TopicEntry {
        // `load` guarantees one entry per topic, in the order of `Topic::ALL`.
        &self.entries[topic.code() as usize]
    }

    pub fn entries(&self) -> &[TopicEntry] {
        &self.entries
    }

    pub fn label(&self, topic: Topic, language: &str) -> &str {
        self.entry(topic).label(language)
    }

    pub fn are_related(&self, left: Topic, right: Topic) -> bool {
        self.entry(left).related.contains(&right) || self.entry(right).related.contains(&left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_taxonomy_loads_with_every_topic() {
        let taxonomy = Taxonomy::load("topics.toml", super::super::BUILT_IN_TOPICS).expect("loads");
        assert_eq!(taxonomy.entries().len(), 21);
        assert_eq!(taxonomy.label(Topic::FloodRisk, "de"), "Hochwasserschutz");
        for entry in taxonomy.entries() {
            assert!(!entry.terms.is_empty(), "{} has no terms", entry.topic);
        }
    }

    #[test]
    fn a_bad_file_is_reported_with_its_line() {
        let text = "[[area]]\nid = \"governance\"\nlabel = { en = \"x\" }\ndescription = { en = \"x\" }\n\n[[topic]]\nid = \"floods\"\n";
        let error = Taxonomy::load("topics.toml", text).unwrap_err();
        assert!(error.line.is_some(), "{error}");
        let text = "[[area]]\nid = \"governance\"\nlabel = { en = \"x\" }\n";
        let error = Taxonomy::load("topics.toml", text).unwrap_err();
        assert!(error.to_string().starts_with("topics.toml"), "{error}");
    }
}
