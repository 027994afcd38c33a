use citypeers::domain::LanguageCode;
use citypeers::text::{Analyzers, TextLanguage, detect_language};
use citypeers::vocab::Vocabulary;
use std::collections::{HashMap, HashSet};
fn main() {
    let analyzers = Analyzers::new();
    let vocab = Vocabulary::built_in(&analyzers).unwrap();
    println!("phrases: {}", vocab.matcher.phrase_count());
    for q in [
        "our riverside districts flood every year — who has done early warning",
        "inondations dans les quartiers précaires",
        "Hochwasser",
        "Hochwaser Frühwarnung",
        "flod protection",
        "drainige",
        "mobilty plan for buses",
        "presupuesto participativo",
        "coleta de lixo e catadores",
        "informal traders in the market",
    ] {
        let ev = vocab
            .matcher
            .detect_with_typos(&analyzers, q, &TextLanguage::STEMMED, &|_| false);
        println!(
            "{q:60} -> {:?}",
            ev.iter()
                .map(|e| format!(
                    "{}:{:.1}{}{:?}",
                    e.topic,
                    e.strength,
                    if e.only_through_typo_correction { "~" } else { "" },
                    e.terms
                ))
                .collect::<Vec<_>>()
        );
    }
    // recall / precision of inference on fixtures vs truth
    let mut truth: HashMap<String, HashSet<String>> = HashMap::new();
    for f in std::fs::read_dir("fixtures/eval/truth").unwrap() {
        let t = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for l in t.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            truth.insert(
                v["id"].as_str().unwrap().into(),
                v["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect(),
            );
        }
    }
    let (mut tp, mut fp, mut fn_, mut strong_tp, mut strong_fp) = (0, 0, 0, 0, 0);
    for f in std::fs::read_dir("fixtures/experts").unwrap() {
        let t = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for l in t.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let text = format!(
                "{} {} {}",
                v["expertise"].as_str().unwrap_or(""),
                v["bio"].as_str().unwrap_or(""),
                v["position"].as_str().unwrap_or("")
            );
            let hint = v["languages"][0].as_str().and_then(|c| LanguageCode::parse(c).ok());
            let lang = detect_language(&text, hint);
            let langs: Vec<TextLanguage> = if lang == TextLanguage::English {
                vec![lang]
            } else {
                vec![lang, TextLanguage::English]
            };
            let ev = vocab.matcher.detect(&analyzers, &text, &langs);
            let id = v["id"].as_str().unwrap();
            let tr = &truth[id];
            let found: HashSet<String> = ev
                .iter()
                .filter(|e| !e.topic.is_area())
                .map(|e| e.topic.id().to_string())
                .collect();
            for e in &ev {
                if e.topic.is_area() {
                    continue;
                }
                let ok = tr.contains(e.topic.id());
                if ok {
                    tp += 1
                } else {
                    fp += 1
                };
                if e.strength >= 2.0 {
                    if ok { strong_tp += 1 } else { strong_fp += 1 }
                }
            }
            for t in tr {
                if !found.contains(t) {
                    fn_ += 1;
                    if std::env::var("SHOWMISS").is_ok() {
                        println!("MISS {id} {t} [{:?}] {}", lang, &text[..text.len().min(150)]);
                    }
                }
            }
        }
    }
    println!("tp {tp} fp {fp} fn {fn_}  strong tp {strong_tp} fp {strong_fp}");
}
