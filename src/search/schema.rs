//! The index schemas of experts and cases, and how a record becomes a tantivy document.
//! Filters and ranking read fast fields; text is analysed per language (see `text`).

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::domain::{Case, CountryCode, Expert, LanguageCode, Topic, Versioned};
use crate::reading::TopicModel;
use crate::text::{Analyzers, FOLDED_ANALYZER_NAME, TextLanguage, detect_language};
use crate::vocab::Vocabulary;

/// Topics inferred from a text with at least this strength count as "strong" evidence.
pub const STRONG_INFERENCE: f32 = 2.0;

/// Fields shared by both kinds of records.
#[derive(Clone, Debug)]
pub struct CommonFields {
    pub id: Field,
    pub status: Field,
    pub topics: Field,
    pub area_tags: Field,
    pub inferred_strong: Field,
    pub inferred_weak: Field,
    pub regions: Field,
    pub country: Field,
    pub languages: Field,
    pub city_key: Field,
    pub updated_at: Field,
    /// The language the record's text is written in (`TextLanguage::index_code`).
    pub text_language: Field,
    /// One stemmed field per analysed language, in the order of `TextLanguage::STEMMED`.
    pub text: Vec<(TextLanguage, Field)>,
    pub folded: Field,
    pub place: Field,
}

#[derive(Clone, Debug)]
pub struct ExpertFields {
    pub common: CommonFields,
    pub available: Field,
    pub name: Field,
    /// The name and city as written, for suggestions.
    pub name_exact: Field,
    pub city_exact: Field,
    /// Folded words of the city, for completing city names.
    pub city_words: Field,
}

#[derive(Clone, Debug)]
pub struct CaseFields {
    pub common: CommonFields,
    pub experts: Field,
    pub year: Field,
}

fn numeric() -> NumericOptions {
    NumericOptions::default().set_indexed().set_fast()
}

fn analysed_text(analyzer_name: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer_name)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

fn add_common(builder: &mut tantivy::schema::SchemaBuilder) -> CommonFields {
    CommonFields {
        id: builder.add_text_field("id", STRING | FAST),
        status: builder.add_u64_field("status", numeric()),
        topics: builder.add_u64_field("topics", numeric()),
        area_tags: builder.add_u64_field("area_tags", numeric()),
        inferred_strong: builder.add_u64_field("inferred_strong", numeric()),
        inferred_weak: builder.add_u64_field("inferred_weak", numeric()),
        regions: builder.add_u64_field("regions", numeric()),
        country: builder.add_u64_field("country", numeric()),
        languages: builder.add_u64_field("languages", numeric()),
        city_key: builder.add_u64_field("city_key", numeric()),
        updated_at: builder.add_i64_field("updated_at", FAST | INDEXED),
        text_language: builder.add_u64_field("text_language", FAST),
        text: TextLanguage::STEMMED
            .into_iter()
            .map(|language| {
                (
                    language,
                    builder.add_text_field(
                        &format!("text_{}", language.code()),
                        analysed_text(language.analyzer_name()),
                    ),
                )
            })
            .collect(),
        folded: builder.add_text_field("folded", analysed_text(FOLDED_ANALYZER_NAME)),
        place: builder.add_text_field("place", analysed_text(FOLDED_ANALYZER_NAME)),
    }
}

pub fn expert_schema() -> (Schema, ExpertFields) {
    let mut builder = Schema::builder();
    let common = add_common(&mut builder);
    let available = builder.add_u64_field("available", numeric());
    let name = builder.add_text_field("name", analysed_text(FOLDED_ANALYZER_NAME));
    let name_exact = builder.add_text_field("name_exact", STRING | FAST);
    let city_exact = builder.add_text_field("city_exact", STRING | FAST);
    let city_words = builder.add_text_field("city_words", analysed_text(FOLDED_ANALYZER_NAME));
    (
        builder.build(),
        ExpertFields {
            common,
            available,
            name,
            name_exact,
            city_exact,
            city_words,
        },
    )
}

pub fn case_schema() -> (Schema, CaseFields) {
    let mut builder = Schema::builder();
    let common = add_common(&mut builder);
    let experts = builder.add_text_field("experts", STRING | FAST);
    let year = builder.add_u64_field("year", FAST);
    (builder.build(), CaseFields { common, experts, year })
}

/// Two ASCII letters as a number in 0..676 (countries upper case, languages lower case).
pub fn two_letter_code(code: &str) -> u64 {
    let bytes = code.as_bytes();
    if bytes.len() != 2 {
        return 0;
    }
    let letter = |byte: u8| u64::from(byte.to_ascii_lowercase().saturating_sub(b'a')).min(25);
    letter(bytes[0]) * 26 + letter(bytes[1])
}

/// Every two-letter code decoded once: the index stores codes, ranking and facets read many.
fn decoded<T: Copy + Send + Sync + 'static>(
    table: &'static std::sync::OnceLock<Vec<Option<T>>>,
    first_letter: u8,
    parse: fn(&str) -> Option<T>,
) -> &'static [Option<T>] {
    table.get_or_init(|| {
        (0..26 * 26u8 as usize)
            .map(|value| {
                let code = [first_letter + (value / 26) as u8, first_letter + (value % 26) as u8];
                std::str::from_utf8(&code).ok().and_then(parse)
            })
            .collect()
    })
}

pub fn country_from_code(value: u64) -> Option<CountryCode> {
    static COUNTRIES: std::sync::OnceLock<Vec<Option<CountryCode>>> = std::sync::OnceLock::new();
    let table = decoded(&COUNTRIES, b'A', |code| CountryCode::parse(code).ok());
    table.get(usize::try_from(value).ok()?).copied().flatten()
}

pub fn language_from_code(value: u64) -> Option<LanguageCode> {
    static LANGUAGES: std::sync::OnceLock<Vec<Option<LanguageCode>>> = std::sync::OnceLock::new();
    let table = decoded(&LANGUAGES, b'a', |code| LanguageCode::parse(code).ok());
    table.get(usize::try_from(value).ok()?).copied().flatten()
}

/// A stable key for "the same city": FNV-1a over the folded city name and the country.
pub fn city_key(analyzers: &Analyzers, city: &str, country: CountryCode) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let folded: Vec<String> = analyzers.folded(city).into_iter().map(|token| token.term).collect();
    for byte in folded.join(" ").bytes().chain([b'|']).chain(country.as_str().bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// What documents are read with: the vocabulary, the analysers, and the topic model learned
/// from the labelled records (it reads the records staff have not tagged).
#[derive(Clone, Copy)]
pub struct DocumentReaders<'a> {
    pub vocabulary: &'a Vocabulary,
    pub analyzers: &'a Analyzers,
    pub model: &'a TopicModel,
}

/// Topics inferred from a record's text that it is not already tagged with.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inferred {
    pub strong: Vec<Topic>,
    pub weak: Vec<Topic>,
}

impl Inferred {
    /// The strong and the weak topics as bitmasks of their codes (as the segment tables keep
    /// them).
    pub fn masks(&self) -> (u32, u32) {
        let mask = |topics: &[Topic]| {
            topics
                .iter()
                .map(|topic| topic.code())
                .filter(|code| *code < super::segments::MAX_TOPIC_CODES)
                .fold(0u32, |mask, code| mask | (1 << code))
        };
        (mask(&self.strong), mask(&self.weak))
    }
}

/// The topics a record is tagged with, each with its area.
fn with_areas(topics: &[Topic]) -> Vec<Topic> {
    let mut expanded: Vec<Topic> = Vec::new();
    for topic in topics {
        for candidate in [*topic, topic.area()] {
            if !expanded.contains(&candidate) {
                expanded.push(candidate);
            }
        }
    }
    expanded
}

/// The topics the vocabulary finds in a record's text, and, when staff have tagged it with no
/// topic (an area at most), those the learned model reads in it (as strong evidence: they
/// passed the bar a challenge's reading must pass).
pub fn infer_topics(readers: DocumentReaders<'_>, text: &str, language: TextLanguage, topics: &[Topic]) -> Inferred {
    let tagged = with_areas(topics);
    // The profile's own language only: the term lists carry the loanwords (BRT, smart city).
    let languages: Vec<TextLanguage> = match language {
        TextLanguage::Other => TextLanguage::STEMMED.to_vec(),
        known => vec![known],
    };
    let mut inferred = Inferred::default();
    for evidence in readers.vocabulary.matcher.detect(readers.analyzers, text, &languages) {
        if evidence.topic.is_area() || tagged.contains(&evidence.topic) {
            continue;
        }
        if evidence.strength >= STRONG_INFERENCE {
            inferred.strong.push(evidence.topic);
        } else {
            inferred.weak.push(evidence.topic);
        }
    }
    if Topic::none_specific(topics) {
        for read in crate::reading::document_topics(readers.analyzers, readers.model, text, language) {
            if tagged.contains(&read.topic) || inferred.strong.contains(&read.topic) {
                continue;
            }
            inferred.weak.retain(|topic| *topic != read.topic);
            inferred.strong.push(read.topic);
        }
    }
    inferred
}

#[allow(clippy::too_many_arguments)]
fn add_common_values(
    document: &mut TantivyDocument,
    fields: &CommonFields,
    readers: DocumentReaders<'_>,
    id: &str,
    status: u64,
    topics: &[Topic],
    country: CountryCode,
    city: &str,
    languages: &[LanguageCode],
    text_language: TextLanguage,
    text: &str,
    updated_at: i64,
) {
    let DocumentReaders {
        vocabulary, analyzers, ..
    } = readers;
    document.add_text(fields.id, id);
    document.add_u64(fields.status, status);
    for topic in topics {
        if topic.is_area() {
            document.add_u64(fields.area_tags, topic.code());
        }
    }
    for topic in &with_areas(topics) {
        document.add_u64(fields.topics, topic.code());
    }
    let inferred = infer_topics(readers, text, text_language, topics);
    for topic in inferred.strong {
        document.add_u64(fields.inferred_strong, topic.code());
    }
    for topic in inferred.weak {
        document.add_u64(fields.inferred_weak, topic.code());
    }
    for code in vocabulary.regions.membership_codes(country) {
        document.add_u64(fields.regions, *code);
    }
    document.add_u64(fields.country, two_letter_code(country.as_str()));
    for language in languages {
        document.add_u64(fields.languages, two_letter_code(language.as_str()));
    }
    document.add_u64(fields.city_key, city_key(analyzers, city, country));
    document.add_i64(fields.updated_at, updated_at);
    document.add_u64(fields.text_language, text_language.index_code());
    if let Some((_, field)) = fields.text.iter().find(|(language, _)| *language == text_language) {
        document.add_text(*field, text);
    }
    document.add_text(fields.folded, text);
    let path = vocabulary.regions.path(country);
    let place = [
        Some(city),
        Some(country.english_name()),
        path.intermediate_region,
        path.subregion,
        path.region,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n");
    document.add_text(fields.place, &place);
}

/// The language an expert's profile text is written in.
pub fn expert_text_language(expert: &Expert) -> TextLanguage {
    let sample = format!("{} {}", expert.expertise, expert.bio.as_deref().unwrap_or_default());
    detect_language(&sample, expert.languages.first().copied())
}

/// The language of a case's text: as given, else detected.
pub fn case_text_language(case: &Case) -> TextLanguage {
    match case.language {
        Some(language) => TextLanguage::from_language_code(language),
        None => detect_language(&format!("{} {}", case.title, case.summary), None),
    }
}

/// The searchable text of a case: its title, then its summary.
pub fn case_search_text(case: &Case) -> String {
    format!("{}\n{}", case.title, case.summary)
}

/// The searchable text of an expert: expertise first, then bio, position and organisation.
pub fn expert_search_text(expert: &Expert) -> String {
    [
        Some(expert.expertise.as_str()),
        expert.bio.as_deref(),
        expert.position.as_deref(),
        expert.organisation.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n")
}

pub fn expert_document(
    fields: &ExpertFields,
    readers: DocumentReaders<'_>,
    stored: &Versioned<Expert>,
) -> TantivyDocument {
    let expert = &stored.record;
    let mut document = TantivyDocument::default();
    add_common_values(
        &mut document,
        &fields.common,
        readers,
        expert.id.as_str(),
        expert.status.code(),
        &expert.topics,
        expert.country,
        &expert.city,
        &expert.languages,
        expert_text_language(expert),
        &expert_search_text(expert),
        stored.updated_at.unix_timestamp(),
    );
    document.add_u64(fields.available, u64::from(expert.available));
    document.add_text(fields.name, &expert.name);
    document.add_text(fields.name_exact, &expert.name);
    document.add_text(fields.city_exact, &expert.city);
    document.add_text(fields.city_words, &expert.city);
    document
}

pub fn case_document(fields: &CaseFields, readers: DocumentReaders<'_>, stored: &Versioned<Case>) -> TantivyDocument {
    let case = &stored.record;
    let mut document = TantivyDocument::default();
    let text_language = case_text_language(case);
    let languages: Vec<LanguageCode> = case.language.or(text_language.language_code()).into_iter().collect();
    add_common_values(
        &mut document,
        &fields.common,
        readers,
        case.id.as_str(),
        case.status.code(),
        &case.topics,
        case.country,
        &case.city,
        &languages,
        text_language,
        &case_search_text(case),
        stored.updated_at.unix_timestamp(),
    );
    for expert in &case.experts {
        document.add_text(fields.experts, expert.as_str());
    }
    if let Some(year) = case.year {
        document.add_u64(fields.year, u64::from(year));
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_letter_codes_round_trip() {
        let kenya = CountryCode::parse("KE").expect("country");
        assert_eq!(country_from_code(two_letter_code(kenya.as_str())), Some(kenya));
        let french = LanguageCode::parse("fr").expect("language");
        assert_eq!(language_from_code(two_letter_code(french.as_str())), Some(french));
    }

    #[test]
    fn city_keys_ignore_case_and_accents_but_not_the_country() {
        let analyzers = Analyzers::new();
        let senegal = CountryCode::parse("SN").expect("country");
        let mali = CountryCode::parse("ML").expect("country");
        assert_eq!(
            city_key(&analyzers, "Saint-Louis", senegal),
            city_key(&analyzers, "saint louis", senegal)
        );
        assert_ne!(
            city_key(&analyzers, "Saint-Louis", senegal),
            city_key(&analyzers, "Saint-Louis", mali)
        );
    }
}
