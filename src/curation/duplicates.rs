//! Likely duplicate experts: names compared after folding accents and case, dropping titles
//! ("Dr.", "Prof.", "Ing.") and particles, in any word order (strsim), together with
//! e-mail, phone, city, country and organisation. Candidates are blocked by name-word
//! prefixes so the work stays far below all pairs.

use std::collections::{HashMap, HashSet};

use crate::domain::{Expert, Status};
use crate::text::Analyzers;

/// Pairs below this similarity are not reported.
pub const MIN_SIMILARITY: f64 = 0.75;
/// A name-prefix block larger than this is too common to compare within.
const MAX_BLOCK: usize = 400;

const TITLES: [&str; 16] = [
    "dr",
    "dra",
    "prof",
    "professor",
    "ing",
    "eng",
    "mr",
    "mrs",
    "ms",
    "mme",
    "m",
    "sr",
    "sra",
    "dipl",
    "phd",
    "lic",
];
const PARTICLES: [&str; 12] = [
    "e", "y", "da", "de", "do", "dos", "das", "del", "van", "von", "der", "al",
];

#[derive(Clone, Debug, PartialEq)]
pub struct DuplicatePair {
    pub a: String,
    pub b: String,
    pub similarity: f64,
    pub reasons: Vec<String>,
}

struct Profile {
    id: String,
    name_key: String,
    name_words: Vec<String>,
    city: String,
    country: String,
    organisation: String,
    email: Option<String>,
    phone_digits: Option<String>,
}

/// Folds a name for comparison: lower case, no accents, no titles or particles, German
/// umlaut spellings unified ("Mueller" = "Müller"), words sorted.
pub fn name_key(analyzers: &Analyzers, name: &str) -> Vec<String> {
    let mut words: Vec<String> = analyzers
        .folded(name)
        .into_iter()
        .map(|token| token.term.replace("ae", "a").replace("oe", "o").replace("ue", "u"))
        .filter(|word| !TITLES.contains(&word.as_str()) && !PARTICLES.contains(&word.as_str()))
        .collect();
    words.sort();
    words
}

fn profile(analyzers: &Analyzers, expert: &Expert) -> Profile {
    let folded = |text: &str| {
        analyzers
            .folded(text)
            .into_iter()
            .map(|token| token.term)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let name_words = name_key(analyzers, &expert.name);
    Profile {
        id: expert.id.to_string(),
        name_key: name_words.join(" "),
        name_words,
        city: folded(&expert.city),
        country: expert.country.to_string(),
        organisation: folded(expert.organisation.as_deref().unwrap_or_default()),
        email: expert.email.as_ref().map(|email| email.trim().to_lowercase()),
        phone_digits: expert
            .phone
            .as_ref()
            .map(|phone| phone.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|digits| digits.len() >= 6),
    }
}

fn compare(left: &Profile, right: &Profile) -> Option<DuplicatePair> {
    let name_similarity = strsim::jaro_winkler(&left.name_key, &right.name_key);
    let same_email = left.email.is_some() && left.email == right.email;
    let same_phone = left.phone_digits.is_some() && left.phone_digits == right.phone_digits;
    if name_similarity < 0.8 && !same_email && !same_phone {
        return None;
    }
    let same_city = !left.city.is_empty() && left.city == right.city && left.country == right.country;
    let organisation_similarity = if left.organisation.is_empty() || right.organisation.is_empty() {
        0.0
    } else {
        strsim::jaro_winkler(&left.organisation, &right.organisation)
    };
    let mut similarity = 0.6 * name_similarity
        + if same_city {
            0.2
        } else if left.country == right.country {
            0.05
        } else {
            0.0
        }
        + 0.2 * organisation_similarity;
    let mut reasons = Vec::new();
    if left.name_key == right.name_key {
        reasons.push("same name once titles, accents and word order are ignored".to_string());
    } else if name_similarity >= 0.85 {
        reasons.push(format!("similar names ({:.0} %)", name_similarity * 100.0));
    }
    if same_email {
        similarity = similarity.max(0.95);
        reasons.push("same e-mail address".to_string());
    }
    if same_phone {
        similarity = similarity.max(0.9);
        reasons.push("same phone number".to_string());
    }
    if same_city {
        reasons.push("same city".to_string());
    }
    if organisation_similarity >= 0.85 {
        reasons.push("same or similar organisation".to_string());
    }
    (similarity >= MIN_SIMILARITY).then(|| DuplicatePair {
        a: left.id.clone(),
        b: right.id.clone(),
        similarity: (similarity * 1000.0).round() / 1000.0,
        reasons,
    })
}

/// Likely duplicates among `experts` (archived ones left out), most similar first.
pub fn find_duplicates<'a>(analyzers: &Analyzers, experts: impl IntoIterator<Item = &'a Expert>) -> Vec<DuplicatePair> {
    let profiles: Vec<Profile> = experts
        .into_iter()
        .filter(|expert| expert.status != Status::Archived)
        .map(|expert| profile(analyzers, expert))
        .collect();
    let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
    for (position, profile) in profiles.iter().enumerate() {
        let mut keys: HashSet<String> = profile
            .name_words
            .iter()
            .map(|word| format!("n:{}", word.chars().take(3).collect::<String>()))
            .collect();
        if let Some(email) = &profile.email {
            keys.insert(format!("e:{email}"));
        }
        if let Some(phone) = &profile.phone_digits {
            keys.insert(format!("p:{phone}"));
        }
        for key in keys {
            blocks.entry(key).or_default().push(position);
        }
    }
    let mut compared: HashSet<(usize, usize)> = HashSet::new();
    let mut pairs = Vec::new();
    for members in blocks.values() {
        if members.len() < 2 || members.len() > MAX_BLOCK {
            continue;
        }
        for (offset, &left) in members.iter().enumerate() {
            for &right in &members[offset + 1..] {
                let key = (left.min(right), left.max(right));
                if !compared.insert(key) {
                    continue;
                }
                if let Some(pair) = compare(&profiles[key.0], &profiles[key.1]) {
                    pairs.push(pair);
                }
            }
        }
    }
    pairs.sort_by(|left, right| {
        right
            .similarity
            .total_cmp(&left.similarity)
            .then(left.a.cmp(&right.a))
            .then(left.b.cmp(&right.b))
    });
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_accents_particles_and_word_order_do_not_matter() {
        let analyzers = Analyzers::new();
        assert_eq!(name_key(&analyzers, "Dr. Fatou Sow"), name_key(&analyzers, "SOW Fatou"));
        assert_eq!(
            name_key(&analyzers, "Mariana Costa e Silva"),
            name_key(&analyzers, "Dra. Mariana Costa Silva")
        );
        assert_eq!(
            name_key(&analyzers, "Jörg Müller"),
            name_key(&analyzers, "Joerg Mueller")
        );
    }
}
