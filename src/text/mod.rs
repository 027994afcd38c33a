//! Language analysis shared by the search index, the topic matcher and highlighting:
//! tokenising, lower-casing, stop words, Snowball stemming per language, accent folding and
//! language detection. Only this module and `search` know tantivy (here: its tokenizers only).

mod detect;
pub mod highlight;

pub use detect::{detect_language, is_function_word};

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TextAnalyzerBuilder, TokenizerManager,
};

use crate::domain::LanguageCode;

/// Tokens longer than this (in bytes) are dropped: they are never words people search for.
/// Long enough for German compounds and Arabic words with their prefixes (two bytes a letter).
pub const LONGEST_TOKEN_BYTES: usize = 100;

/// A language with its own analyser, or `Other` (folded, not stemmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextLanguage {
    English,
    German,
    French,
    Spanish,
    Portuguese,
    Arabic,
    Other,
}

impl TextLanguage {
    /// The languages with a stemmer, in a fixed order used for index field names.
    pub const STEMMED: [TextLanguage; 6] = [
        TextLanguage::English,
        TextLanguage::German,
        TextLanguage::French,
        TextLanguage::Spanish,
        TextLanguage::Portuguese,
        TextLanguage::Arabic,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            TextLanguage::English => "en",
            TextLanguage::German => "de",
            TextLanguage::French => "fr",
            TextLanguage::Spanish => "es",
            TextLanguage::Portuguese => "pt",
            TextLanguage::Arabic => "ar",
            TextLanguage::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<TextLanguage> {
        [TextLanguage::Other]
            .into_iter()
            .chain(TextLanguage::STEMMED)
            .find(|language| language.code() == code)
    }

    pub fn from_language_code(code: LanguageCode) -> TextLanguage {
        TextLanguage::from_code(code.as_str()).unwrap_or(TextLanguage::Other)
    }

    /// A small stable number for the search index.
    pub fn index_code(&self) -> u64 {
        match self {
            TextLanguage::English => 0,
            TextLanguage::German => 1,
            TextLanguage::French => 2,
            TextLanguage::Spanish => 3,
            TextLanguage::Portuguese => 4,
            TextLanguage::Arabic => 5,
            TextLanguage::Other => 6,
        }
    }

    pub fn from_index_code(code: u64) -> Option<TextLanguage> {
        [TextLanguage::Other]
            .into_iter()
            .chain(TextLanguage::STEMMED)
            .find(|language| language.index_code() == code)
    }

    /// The ISO 639-1 code, when the language has one here.
    pub fn language_code(&self) -> Option<LanguageCode> {
        LanguageCode::parse(self.code()).ok()
    }

    fn stemmer_language(&self) -> Option<Language> {
        match self {
            TextLanguage::English => Some(Language::English),
            TextLanguage::German => Some(Language::German),
            TextLanguage::French => Some(Language::French),
            TextLanguage::Spanish => Some(Language::Spanish),
            TextLanguage::Portuguese => Some(Language::Portuguese),
            TextLanguage::Arabic => Some(Language::Arabic),
            TextLanguage::Other => None,
        }
    }

    /// The name of this language's analyser in tantivy's tokenizer manager.
    pub fn analyzer_name(&self) -> &'static str {
        match self {
            TextLanguage::English => "citypeers_en",
            TextLanguage::German => "citypeers_de",
            TextLanguage::French => "citypeers_fr",
            TextLanguage::Spanish => "citypeers_es",
            TextLanguage::Portuguese => "citypeers_pt",
            TextLanguage::Arabic => "citypeers_ar",
            TextLanguage::Other => FOLDED_ANALYZER_NAME,
        }
    }
}

/// The analyser for text of unknown language, names and places: lower-cased and accent-folded.
pub const FOLDED_ANALYZER_NAME: &str = "citypeers_folded";

/// One token of an analysed text, with its byte range in the original.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub term: String,
    pub start: usize,
    pub end: usize,
}

/// The analysers of every language, built once and cloned per use (tantivy's are stateful).
#[derive(Clone)]
pub struct Analyzers {
    stemmed: Vec<(TextLanguage, TextAnalyzer)>,
    folded: TextAnalyzer,
}

impl Default for Analyzers {
    fn default() -> Self {
        Analyzers::new()
    }
}

impl Analyzers {
    pub fn new() -> Analyzers {
        let stemmed = TextLanguage::STEMMED
            .into_iter()
            .map(|language| (language, build_stemmed_analyzer(language)))
            .collect();
        let folded = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST_TOKEN_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        Analyzers { stemmed, folded }
    }

    /// Registers every analyser under its name, for the index schema.
    pub fn register(&self, manager: &TokenizerManager) {
        for (language, analyzer) in &self.stemmed {
            manager.register(language.analyzer_name(), analyzer.clone());
        }
        manager.register(FOLDED_ANALYZER_NAME, self.folded.clone());
    }

    /// Stemmed, stop-word-free tokens of `text` read as `language` (`Other` gives folded tokens).
    pub fn stemmed(&self, language: TextLanguage, text: &str) -> Vec<Token> {
        with_local_analyzers(
            |local| match local.stemmed.iter_mut().find(|(candidate, _)| *candidate == language) {
                Some((_, analyzer)) => run(analyzer, text),
                None => run(&mut local.folded, text),
            },
        )
    }

    /// Lower-cased, accent-folded tokens, not stemmed, stop words kept.
    pub fn folded(&self, text: &str) -> Vec<Token> {
        with_local_analyzers(|local| run(&mut local.folded, text))
    }

    /// Whether a folded word is a stop word in any analysed language.
    pub fn is_stop_word_anywhere(&self, word: &str) -> bool {
        with_local_analyzers(|local| {
            local
                .without_stop_words
                .iter_mut()
                .any(|(_, analyzer)| run(analyzer, word).is_empty())
        })
    }

    /// The tokens of `text` that `stemmed` keeps for `language`, lower-cased but neither
    /// stemmed nor folded: what is not a stop word there, found without the stemmer's work.
    pub fn without_stop_words(&self, language: TextLanguage, text: &str) -> Vec<Token> {
        with_local_analyzers(|local| {
            match local
                .without_stop_words
                .iter_mut()
                .find(|(candidate, _)| *candidate == language)
            {
                Some((_, analyzer)) => run(analyzer, text),
                None => run(&mut local.folded, text),
            }
        })
    }
}

/// Tokens lower-cased, too long ones and `language`'s stop words dropped: the first steps
/// of `build_stemmed_analyzer`, shared so that both keep the same tokens.
fn up_to_stop_words(language: TextLanguage) -> TextAnalyzerBuilder {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN_BYTES))
        .filter(LowerCaser)
        .dynamic();
    match language.stemmer_language().and_then(StopWordFilter::new) {
        Some(stop_words) => builder.filter_dynamic(stop_words),
        None => builder,
    }
}

fn build_stop_word_analyzer(language: TextLanguage) -> TextAnalyzer {
    up_to_stop_words(language).build()
}

fn build_stemmed_analyzer(language: TextLanguage) -> TextAnalyzer {
    let Some(stemmer_language) = language.stemmer_language() else {
        return TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST_TOKEN_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
    };
    up_to_stop_words(language)
        .filter_dynamic(Stemmer::new(stemmer_language))
        .filter_dynamic(AsciiFoldingFilter)
        .build()
}

fn run(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push(Token {
            term: token.text.clone(),
            start: token.offset_from,
            end: token.offset_to,
        });
    }
    tokens
}

/// Per-thread copies of the analysers: tantivy's are stateful (`&mut` to run), and cloning
/// one per call was a large share of indexing time. Every `Analyzers` is built the same way,
/// so one set per thread serves them all.
struct LocalAnalyzers {
    stemmed: Vec<(TextLanguage, TextAnalyzer)>,
    folded: TextAnalyzer,
    without_stop_words: Vec<(TextLanguage, TextAnalyzer)>,
}

thread_local! {
    static LOCAL_ANALYZERS: std::cell::RefCell<Option<LocalAnalyzers>> = const { std::cell::RefCell::new(None) };
}

fn with_local_analyzers<T>(work: impl FnOnce(&mut LocalAnalyzers) -> T) -> T {
    LOCAL_ANALYZERS.with(|cell| {
        let mut slot = cell.borrow_mut();
        let local = slot.get_or_insert_with(|| {
            let built = Analyzers::new();
            LocalAnalyzers {
                stemmed: built.stemmed,
                folded: built.folded,
                without_stop_words: TextLanguage::STEMMED
                    .into_iter()
                    .map(|language| (language, build_stop_word_analyzer(language)))
                    .collect(),
            }
        });
        work(local)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(tokens: Vec<Token>) -> Vec<String> {
        tokens.into_iter().map(|token| token.term).collect()
    }

    #[test]
    fn without_stop_words_keeps_the_tokens_stemming_keeps() {
        let analyzers = Analyzers::new();
        let starts = |tokens: Vec<Token>| tokens.into_iter().map(|token| token.start).collect::<Vec<_>>();
        let check = |text: &str| {
            for language in TextLanguage::STEMMED {
                assert_eq!(
                    starts(analyzers.without_stop_words(language, text)),
                    starts(analyzers.stemmed(language, text)),
                    "{language:?}: {text}"
                );
            }
        };
        check("The streets of our city turn into a lake after heavy rain");
        check("Die Kämmerei kommt mit dem Haushalt nicht mehr hin, und wir suchen Rat");
        check("les motos-taxis bloquent le carrefour chaque matin");
        check("a água da chuva invade as casas da baixada");
        check("los vendedores ambulantes de la plaza y el mercado");
        check("المياه تغمر الشوارع في كل شتاء");
        check("");
    }

    #[test]
    fn stemming_folds_inflections_and_accents_per_language() {
        let analyzers = Analyzers::new();
        assert_eq!(
            terms(analyzers.stemmed(TextLanguage::French, "Inondations")),
            terms(analyzers.stemmed(TextLanguage::French, "inondation"))
        );
        assert_eq!(
            terms(analyzers.stemmed(TextLanguage::Spanish, "inundación")),
            terms(analyzers.stemmed(TextLanguage::Spanish, "inundaciones"))
        );
        assert_eq!(
            terms(analyzers.folded("Überschwemmung São")),
            vec!["uberschwemmung", "sao"]
        );
    }

    #[test]
    fn stop_words_are_dropped_from_stemmed_text_only() {
        let analyzers = Analyzers::new();
        assert_eq!(terms(analyzers.stemmed(TextLanguage::English, "the floods")).len(), 1);
        assert_eq!(terms(analyzers.folded("the floods")).len(), 2);
        assert!(analyzers.is_stop_word_anywhere("les"));
        assert!(!analyzers.is_stop_word_anywhere("drainage"));
    }

    #[test]
    fn token_offsets_point_into_the_original_text() {
        let analyzers = Analyzers::new();
        let text = "Frühwarnsystem für Überschwemmungen";
        for token in analyzers.stemmed(TextLanguage::German, text) {
            assert!(text.get(token.start..token.end).is_some());
        }
    }
}
