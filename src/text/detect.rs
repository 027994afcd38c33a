//! Which language a text is written in: its function words when they decide, else whatlang's
//! letter statistics, else the caller's hint. Also the function words themselves (NLTK's
//! lists), which the reading leaves out of what it learns.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::TextLanguage;
use crate::domain::LanguageCode;

/// The first few hundred characters tell the language as well as the whole text does.
const DETECTION_SAMPLE_BYTES: usize = 320;

/// Detects the language of a text among the analysed ones; `hint` decides when the text is
/// too short or too mixed to tell.
pub fn detect_language(text: &str, hint: Option<LanguageCode>) -> TextLanguage {
    let sample = sample_of(text);
    if let Some(language) = language_of_function_words(sample) {
        return language;
    }
    let hinted = hint.map(TextLanguage::from_language_code);
    match (language_of_letters(sample), hinted) {
        (Some(language), _) if sample.split_whitespace().count() >= 4 => language,
        (_, Some(language)) => language,
        (Some(language), None) => language,
        (None, None) => TextLanguage::Other,
    }
}

fn sample_of(text: &str) -> &str {
    let mut sample_end = text.len().min(DETECTION_SAMPLE_BYTES);
    while !text.is_char_boundary(sample_end) {
        sample_end -= 1;
    }
    &text[..sample_end]
}

/// The languages whose function words are known: the analysed ones, and the Latin-script
/// languages most often confused with them (read as `Other`). Only words in Latin letters are
/// counted towards a text's language, so Arabic script is left to the letter statistics, which
/// tell it apart reliably.
const LISTED_LANGUAGES: [(&str, TextLanguage); 10] = [
    ("en", TextLanguage::English),
    ("de", TextLanguage::German),
    ("fr", TextLanguage::French),
    ("es", TextLanguage::Spanish),
    ("pt", TextLanguage::Portuguese),
    ("ar", TextLanguage::Arabic),
    ("it", TextLanguage::Other),
    ("nl", TextLanguage::Other),
    ("id", TextLanguage::Other),
    ("tr", TextLanguage::Other),
];

/// A language wins on function words with at least this many of them in the text…
const LEAST_FUNCTION_WORDS: usize = 2;
/// …and half as many again as any other language has (Portuguese "da" and "as" are Italian
/// and English words too).
const FUNCTION_WORD_LEAD: (usize, usize) = (3, 2);

/// The language whose function words ("the", "und", "dans", "los", "não") the text uses far
/// more than any other's. Short texts tell their language this way where letter statistics
/// guess ("residents cannot see council papers or who decided what" has four English
/// function words and reads as French by its letters). Words of one letter are not counted:
/// "a", "e", "o" and "y" are function words in several of the languages.
fn language_of_function_words(sample: &str) -> Option<TextLanguage> {
    let lists = function_words();
    let mut votes = [0usize; LISTED_LANGUAGES.len()];
    let words = sample
        .split(|character: char| !character.is_alphabetic())
        .filter(|word| word.chars().nth(1).is_some());
    for word in words {
        if !word
            .chars()
            .all(|character| character.is_ascii() || is_latin_letter(character))
        {
            continue;
        }
        if let Some(languages) = lists.get(lowercase(word).as_ref()) {
            for index in languages {
                votes[*index] += 1;
            }
        }
    }
    let (leader, leader_votes) = votes.iter().copied().enumerate().max_by_key(|(_, count)| *count)?;
    let runner_up = votes
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != leader)
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0);
    let decides =
        leader_votes >= LEAST_FUNCTION_WORDS && leader_votes * FUNCTION_WORD_LEAD.1 >= runner_up * FUNCTION_WORD_LEAD.0;
    decides.then_some(LISTED_LANGUAGES[leader].1)
}

/// Whether `word` is one of `language`'s function words (NLTK's stop-word lists: "what",
/// "wenn", "كل"). `Other` has none.
pub fn is_function_word(language: TextLanguage, word: &str) -> bool {
    if language == TextLanguage::Other {
        return false;
    }
    function_words()
        .get(lowercase(word).as_ref())
        .is_some_and(|languages| languages.iter().any(|index| LISTED_LANGUAGES[*index].1 == language))
}

fn lowercase(word: &str) -> std::borrow::Cow<'_, str> {
    if word.chars().any(char::is_uppercase) {
        std::borrow::Cow::Owned(word.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(word)
    }
}

fn is_latin_letter(character: char) -> bool {
    ('\u{00C0}'..='\u{024F}').contains(&character)
}

/// Each function word with the listed languages that use it (indices into
/// `LISTED_LANGUAGES`), from NLTK's stop-word lists.
fn function_words() -> &'static HashMap<String, Vec<usize>> {
    static WORDS: OnceLock<HashMap<String, Vec<usize>>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, (code, _)) in LISTED_LANGUAGES.iter().enumerate() {
            for word in stop_words::lookup(code).unwrap_or_default() {
                let languages = words.entry(word.to_lowercase()).or_default();
                if !languages.contains(&index) {
                    languages.push(index);
                }
            }
        }
        words
    })
}

/// whatlang limited to the analysed languages and the ones most often confused with them
/// (other languages of the platform's partners); far cheaper than all of them.
fn language_detector() -> &'static whatlang::Detector {
    use whatlang::Lang;
    static DETECTOR: OnceLock<whatlang::Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        whatlang::Detector::with_allowlist(vec![
            Lang::Eng,
            Lang::Deu,
            Lang::Fra,
            Lang::Spa,
            Lang::Por,
            Lang::Ara,
            Lang::Ita,
            Lang::Nld,
            Lang::Ind,
            Lang::Tur,
            Lang::Vie,
            Lang::Pol,
            Lang::Rus,
            Lang::Ukr,
            Lang::Urd,
            Lang::Pes,
        ])
    })
}

/// The language whatlang finds in the letters of the text, when it is confident.
fn language_of_letters(sample: &str) -> Option<TextLanguage> {
    language_detector()
        .detect(sample)
        .filter(|info| info.confidence() >= 0.5)
        .map(|info| match info.lang() {
            whatlang::Lang::Eng => TextLanguage::English,
            whatlang::Lang::Deu => TextLanguage::German,
            whatlang::Lang::Fra => TextLanguage::French,
            whatlang::Lang::Spa => TextLanguage::Spanish,
            whatlang::Lang::Por => TextLanguage::Portuguese,
            whatlang::Lang::Ara => TextLanguage::Arabic,
            _ => TextLanguage::Other,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, hint: Option<&str>, expected: TextLanguage) {
        let hint = hint.and_then(|code| LanguageCode::parse(code).ok());
        assert_eq!(detect_language(text, hint), expected, "{text:?}");
    }

    #[test]
    fn a_text_reads_in_its_language_short_or_long() {
        use TextLanguage::*;
        let cases = [
            (
                "Nos quartiers au bord du fleuve sont inondés chaque année pendant la saison des pluies.",
                None,
                French,
            ),
            ("residents cannot see council papers or who decided what", None, English),
            ("half the landlords never pay what they owe the council", None, English),
            ("rues plongées dans le noir la nuit", None, French),
            ("Männer warten morgens am Baumarkt auf Arbeit", None, German),
            ("was tun wenn drei Tage der Strom weg ist", None, German),
            ("a água da chuva invade as casas da baixada", None, Portuguese),
            ("los vendedores ambulantes ocupan las aceras del centro", None, Spanish),
            ("البلدية تدفع مبالغ ضخمة كل شهر لإضاءة الشوارع", None, Arabic),
            (
                "i quartieri della città sono allagati ogni anno e il comune non ha fondi",
                None,
                Other,
            ),
            (
                "de gemeente heeft geen geld voor het onderhoud van de wegen",
                None,
                Other,
            ),
            // Too short to tell: the hint decides.
            ("Hochwasser", Some("de"), German),
            ("flood", Some("fr"), French),
        ];
        for (text, hint, expected) in cases {
            check(text, hint, expected);
        }
    }

    #[test]
    fn shared_function_words_alone_do_not_decide() {
        // "de" and "que" are Spanish and Portuguese (and French) alike: no lead, so the
        // letters or the hint decide.
        assert_eq!(language_of_function_words("de que"), None);
        assert_eq!(language_of_function_words("the"), None);
        assert_eq!(language_of_function_words(""), None);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_gets_a_language_without_panicking(text in "\\PC{0,400}") {
            let _ = super::detect_language(&text, None);
        }
    }
}
