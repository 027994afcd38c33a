//! Synthetic experts and cases at any size (`citypeers generate`), deterministic for a seed.
//! They are recombined from the demo data itself: names, cities, organisations and positions
//! by country, and sentences by text language and topic, so they have the demo's vocabulary,
//! languages, regions and text lengths.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::curation::demo::{DEMO_CASES, DEMO_EXPERTS};

const TITLES: [&str; 6] = ["Dr.", "Dra.", "Prof.", "Ing.", "Eng.", "Dipl.-Ing."];

/// A template record from the demo data, and the pools built from all of them.
struct Pools {
    experts: Vec<Value>,
    cases: Vec<Value>,
    first_names: HashMap<String, Vec<String>>,
    last_names: HashMap<String, Vec<String>>,
    cities: HashMap<String, Vec<String>>,
    organisations: HashMap<(String, String), Vec<String>>,
    /// Expertise sentences by (text language, topic); topic "" holds all of a language.
    sentences: HashMap<(String, String), Vec<String>>,
    bio_sentences: HashMap<String, Vec<String>>,
    case_sentences: HashMap<(String, String), Vec<String>>,
}

fn text(value: &Value, field: &str) -> String {
    value.get(field).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn list(value: &Value, field: &str) -> Vec<String> {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn sentences_of(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let characters: Vec<char> = text.chars().collect();
    for (position, character) in characters.iter().enumerate() {
        current.push(*character);
        let ends_sentence = matches!(character, '.' | '!' | '?' | '。')
            && characters.get(position + 1).is_none_or(|next| next.is_whitespace());
        if ends_sentence && current.trim().chars().count() > 25 {
            sentences.push(current.trim().to_string());
            current.clear();
        }
    }
    if current.trim().chars().count() > 25 {
        sentences.push(current.trim().to_string());
    }
    sentences
}

impl Pools {
    fn from_demo() -> Pools {
        let parse = |texts: &[&str]| -> Vec<Value> {
            texts
                .iter()
                .flat_map(|text| text.lines())
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect()
        };
        let experts = parse(&DEMO_EXPERTS);
        let cases = parse(&DEMO_CASES);
        let mut pools = Pools {
            experts: Vec::new(),
            cases: Vec::new(),
            first_names: HashMap::new(),
            last_names: HashMap::new(),
            cities: HashMap::new(),
            organisations: HashMap::new(),
            sentences: HashMap::new(),
            bio_sentences: HashMap::new(),
            case_sentences: HashMap::new(),
        };
        for expert in &experts {
            let country = text(expert, "country");
            let language = list(expert, "languages")
                .first()
                .cloned()
                .unwrap_or_else(|| "en".to_string());
            let name = text(expert, "name");
            let name_words: Vec<&str> = name.split_whitespace().filter(|word| !TITLES.contains(word)).collect();
            if let Some((first, rest)) = name_words.split_first() {
                pools
                    .first_names
                    .entry(country.clone())
                    .or_default()
                    .push((*first).to_string());
                if !rest.is_empty() {
                    pools
                        .last_names
                        .entry(country.clone())
                        .or_default()
                        .push(rest.join(" "));
                }
            }
            let city = text(expert, "city");
            pools.cities.entry(country.clone()).or_default().push(city.clone());
            let organisation = text(expert, "organisation");
            if !organisation.is_empty() {
                pools
                    .organisations
                    .entry((country.clone(), city))
                    .or_default()
                    .push(organisation);
            }
            let topics = list(expert, "topics");
            for sentence in sentences_of(&text(expert, "expertise")) {
                pools
                    .sentences
                    .entry((language.clone(), String::new()))
                    .or_default()
                    .push(sentence.clone());
                for topic in &topics {
                    pools
                        .sentences
                        .entry((language.clone(), topic.clone()))
                        .or_default()
                        .push(sentence.clone());
                }
            }
            for sentence in sentences_of(&text(expert, "bio")) {
                pools.bio_sentences.entry(language.clone()).or_default().push(sentence);
            }
        }
        for case in &cases {
            let language = text(case, "language");
            for sentence in sentences_of(&text(case, "summary")) {
                pools
                    .case_sentences
                    .entry((language.clone(), String::new()))
                    .or_default()
                    .push(sentence.clone());
                for topic in list(case, "topics") {
                    pools
                        .case_sentences
                        .entry((language.clone(), topic))
                        .or_default()
                        .push(sentence.clone());
                }
            }
        }
        pools.experts = experts;
        pools.cases = cases;
        pools
    }
}

fn pick<'a>(rng: &mut StdRng, items: &'a [String], fallback: &'a str) -> &'a str {
    items.choose(rng).map_or(fallback, String::as_str)
}

fn ascii_slug(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|character| match character {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ß' => 's',
            other => other.to_ascii_lowercase(),
        })
        .collect();
    folded
        .split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// Writes `experts` synthetic experts and then `cases` synthetic cases as JSON Lines.
pub fn generate(
    experts: u64,
    cases: u64,
    seed: u64,
    expert_sink: &mut dyn Write,
    case_sink: &mut dyn Write,
) -> std::io::Result<()> {
    let pools = Pools::from_demo();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut generated_cities: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for number in 0..experts {
        let template = pools.experts.choose(&mut rng).cloned().unwrap_or(Value::Null);
        let country = text(&template, "country");
        let languages = list(&template, "languages");
        let language = languages.first().cloned().unwrap_or_else(|| "en".to_string());
        let city = pick(
            &mut rng,
            pools.cities.get(&country).map(Vec::as_slice).unwrap_or_default(),
            "Berlin",
        )
        .to_string();
        let first = pick(
            &mut rng,
            pools.first_names.get(&country).map(Vec::as_slice).unwrap_or_default(),
            "Alex",
        )
        .to_string();
        let last = pick(
            &mut rng,
            pools.last_names.get(&country).map(Vec::as_slice).unwrap_or_default(),
            "Meyer",
        )
        .to_string();
        let topics = list(&template, "topics");
        let sentence_topic = topics
            .iter()
            .filter(|topic| pools.sentences.contains_key(&(language.clone(), (*topic).clone())))
            .collect::<Vec<_>>()
            .choose(&mut rng)
            .map(|topic| (*topic).clone())
            .unwrap_or_default();
        let sentence_pool = pools
            .sentences
            .get(&(language.clone(), sentence_topic))
            .or_else(|| pools.sentences.get(&(language.clone(), String::new())))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let sentence_count = rng.random_range(2..=4);
        let expertise: Vec<&str> = (0..sentence_count).map(|_| pick(&mut rng, sentence_pool, "")).collect();
        let bio_pool = pools
            .bio_sentences
            .get(&language)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let bio_count = rng.random_range(1..=2);
        let bio: Vec<&str> = (0..bio_count).map(|_| pick(&mut rng, bio_pool, "")).collect();
        let organisation = pools
            .organisations
            .get(&(country.clone(), city.clone()))
            .and_then(|organisations| organisations.choose(&mut rng).cloned())
            .unwrap_or_else(|| text(&template, "organisation"));
        let id = format!("gen-{seed}-e{number}");
        let status = if rng.random_bool(0.97) { "published" } else { "draft" };
        let record = json!({
            "id": id,
            "name": format!("{first} {last}"),
            "position": text(&template, "position"),
            "organisation": organisation,
            "city": city,
            "country": country,
            "languages": languages,
            "topics": topics,
            "expertise": expertise.join(" "),
            "bio": bio.join(" "),
            "available": rng.random_bool(0.92),
            "email": format!("{}.{}.{number}@example.org", ascii_slug(&first), ascii_slug(&last)),
            "status": status,
        });
        generated_cities.entry((country, city)).or_default().push(id);
        serde_json::to_writer(&mut *expert_sink, &record)?;
        expert_sink.write_all(b"\n")?;
    }
    let places: Vec<(&(String, String), &Vec<String>)> = generated_cities.iter().collect();
    for number in 0..cases {
        let template = pools.cases.choose(&mut rng).cloned().unwrap_or(Value::Null);
        let language = text(&template, "language");
        let topics = list(&template, "topics");
        let topic = topics.first().cloned().unwrap_or_default();
        let sentence_pool = pools
            .case_sentences
            .get(&(language.clone(), topic))
            .or_else(|| pools.case_sentences.get(&(language.clone(), String::new())))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let sentence_count = rng.random_range(3..=5);
        let summary: Vec<&str> = (0..sentence_count).map(|_| pick(&mut rng, sentence_pool, "")).collect();
        let ((country, city), ids) = match places.choose(&mut rng) {
            Some((place, ids)) => ((*place).clone(), (*ids).clone()),
            None => ((text(&template, "country"), text(&template, "city")), Vec::new()),
        };
        let linked_count = rng.random_range(1..=3).min(ids.len());
        let linked: Vec<&String> = ids.choose_multiple(&mut rng, linked_count).collect();
        let id = format!("gen-{seed}-c{number}");
        let record = json!({
            "id": id,
            "title": text(&template, "title"),
            "summary": summary.join(" "),
            "city": city,
            "country": country,
            "topics": topics,
            "language": language,
            "year": rng.random_range(2008..=2025),
            "experts": linked,
            "url": format!("https://example.org/cases/{id}"),
            "status": if rng.random_bool(0.97) { "published" } else { "draft" },
        });
        serde_json::to_writer(&mut *case_sink, &record)?;
        case_sink.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
        let run = |seed| {
            let (mut experts, mut cases) = (Vec::new(), Vec::new());
            generate(30, 10, seed, &mut experts, &mut cases).expect("generate");
            (experts, cases)
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7).0, run(8).0);
        let (experts, cases) = run(7);
        assert_eq!(String::from_utf8_lossy(&experts).lines().count(), 30);
        assert_eq!(String::from_utf8_lossy(&cases).lines().count(), 10);
    }
}
