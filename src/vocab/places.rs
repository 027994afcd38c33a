//! Places named in a request — countries in en, de, fr, es, pt and ar (keshvar), and regions
//! by their UN M49 names, translations and aliases (`index/regions.toml`) — read as soft
//! preferences: "participatory budgeting Brazil", "ideally in West Africa".

use std::collections::HashMap;

use keshvar::Alpha2;

use super::Regions;
use crate::domain::CountryCode;
use crate::text::Analyzers;

/// A country or a region (by its code in `Regions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    Country(CountryCode),
    Region(u64),
}

/// Languages whose country names are read.
const NAME_LANGUAGES: [&str; 6] = ["en", "de", "fr", "es", "pt", "ar"];
/// Names shorter than this (folded) are too easily a word of something else.
const SHORTEST_NAME: usize = 4;

pub struct PlaceMatcher {
    by_first_word: HashMap<String, Vec<(Vec<String>, Place)>>,
}

impl PlaceMatcher {
    pub fn build(regions: &Regions, analyzers: &Analyzers) -> PlaceMatcher {
        let mut matcher = PlaceMatcher {
            by_first_word: HashMap::new(),
        };
        for country in CountryCode::all() {
            let mut names = vec![country.english_name().to_string()];
            if let Ok(alpha2) = Alpha2::try_from(country.as_str()) {
                let translations = alpha2.to_country().translations().clone();
                for language in NAME_LANGUAGES {
                    if let Some(name) = translations.get(language) {
                        names.push((*name).to_string());
                    }
                }
            }
            for name in names {
                matcher.add(analyzers, &name, Place::Country(country));
            }
        }
        for (name, code) in regions.place_names() {
            matcher.add(analyzers, name, Place::Region(*code));
        }
        matcher
    }

    fn add(&mut self, analyzers: &Analyzers, name: &str, place: Place) {
        let words: Vec<String> = analyzers.folded(name).into_iter().map(|token| token.term).collect();
        let Some(first) = words.first() else { return };
        if words.concat().chars().count() < SHORTEST_NAME {
            return;
        }
        let entries = self.by_first_word.entry(first.clone()).or_default();
        if !entries
            .iter()
            .any(|(existing, existing_place)| existing == &words && *existing_place == place)
        {
            entries.push((words, place));
        }
    }

    /// The places a text names, in order, each once; at every position the longest name wins
    /// ("South Africa" is the country, not the continent).
    pub fn find(&self, analyzers: &Analyzers, text: &str) -> Vec<Place> {
        let words: Vec<String> = analyzers.folded(text).into_iter().map(|token| token.term).collect();
        let mut found = Vec::new();
        let mut position = 0;
        while position < words.len() {
            let mut longest: Option<(usize, Place)> = None;
            for (name, place) in self
                .by_first_word
                .get(&words[position])
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let end = position + name.len();
                let matches = end <= words.len() && words[position..end] == name[..];
                if matches && longest.is_none_or(|(length, _)| name.len() > length) {
                    longest = Some((name.len(), *place));
                }
            }
            match longest {
                Some((length, place)) => {
                    if !found.contains(&place) {
                        found.push(place);
                    }
                    position += length;
                }
                None => position += 1,
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> (PlaceMatcher, Analyzers, Regions) {
        let analyzers = Analyzers::new();
        let regions = Regions::load("regions.toml", super::super::BUILT_IN_REGIONS).expect("regions");
        (PlaceMatcher::build(&regions, &analyzers), analyzers, regions)
    }

    #[test]
    fn countries_are_read_in_several_languages() {
        let (places, analyzers, _) = matcher();
        let brazil = Place::Country(CountryCode::parse("BR").expect("country"));
        for text in [
            "participatory budgeting Brazil",
            "Bürgerhaushalt in Brasilien",
            "budget participatif au Brésil",
            "presupuesto participativo Brasil",
        ] {
            assert_eq!(places.find(&analyzers, text), vec![brazil], "{text}");
        }
    }

    #[test]
    fn regions_are_read_by_name_translation_and_alias_and_the_longest_name_wins() {
        let (places, analyzers, regions) = matcher();
        let code = |slug: &str| Place::Region(regions.by_slug(slug).expect(slug).code);
        assert_eq!(
            places.find(&analyzers, "ideally someone in West Africa"),
            vec![code("western-africa")]
        );
        assert_eq!(
            places.find(&analyzers, "expérience en Afrique de l'Ouest"),
            vec![code("western-africa")]
        );
        assert_eq!(
            places.find(&analyzers, "Stadtplaner aus Lateinamerika"),
            vec![code("latin-america-and-the-caribbean")]
        );
        let south_africa = Place::Country(CountryCode::parse("ZA").expect("country"));
        assert_eq!(places.find(&analyzers, "housing in South Africa"), vec![south_africa]);
        assert!(places.find(&analyzers, "flood early warning with SMS").is_empty());
    }
}
