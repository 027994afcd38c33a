//! Names of languages and countries in each interface language.

use super::Locale;
use crate::domain::{CountryCode, LanguageCode};

/// A language's name in `output` (the languages practitioners use most), else in English.
pub fn language_name(language: LanguageCode, output: Locale) -> String {
    let names: &[(&str, [&str; 6])] = &[
        (
            "en",
            ["English", "Englisch", "anglais", "inglés", "inglês", "الإنجليزية"],
        ),
        ("de", ["German", "Deutsch", "allemand", "alemán", "alemão", "الألمانية"]),
        (
            "fr",
            ["French", "Französisch", "français", "francés", "francês", "الفرنسية"],
        ),
        (
            "es",
            ["Spanish", "Spanisch", "espagnol", "español", "espanhol", "الإسبانية"],
        ),
        (
            "pt",
            [
                "Portuguese",
                "Portugiesisch",
                "portugais",
                "portugués",
                "português",
                "البرتغالية",
            ],
        ),
        ("ar", ["Arabic", "Arabisch", "arabe", "árabe", "árabe", "العربية"]),
        (
            "sw",
            ["Swahili", "Swahili", "swahili", "suajili", "suaíli", "السواحيلية"],
        ),
        ("ru", ["Russian", "Russisch", "russe", "ruso", "russo", "الروسية"]),
        ("tr", ["Turkish", "Türkisch", "turc", "turco", "turco", "التركية"]),
        (
            "vi",
            [
                "Vietnamese",
                "Vietnamesisch",
                "vietnamien",
                "vietnamita",
                "vietnamita",
                "الفيتنامية",
            ],
        ),
    ];
    let position = output as usize;
    names
        .iter()
        .find(|(code, _)| *code == language.as_str())
        .map(|(_, translations)| translations[position].to_string())
        .unwrap_or_else(|| language.english_name().to_string())
}

/// A country's name in `output` (keshvar's translations), else in English.
pub fn country_name(country: CountryCode, output: Locale) -> String {
    keshvar::Alpha2::try_from(country.as_str())
        .ok()
        .and_then(|alpha2| {
            alpha2
                .to_country()
                .translations()
                .get(output.code())
                .map(|name| (*name).to_string())
        })
        .unwrap_or_else(|| country.english_name().to_string())
}
