//! Development probe: which topics the vocabulary reads in each argument.
//! `probe_matcher [--vocabulary DIR] TEXT...`
use citypeers::text::{Analyzers, TextLanguage};
use citypeers::vocab::Vocabulary;
fn main() {
    let analyzers = Analyzers::new();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let vocab = if args.first().map(String::as_str) == Some("--vocabulary") {
        let dir = args.remove(1);
        args.remove(0);
        Vocabulary::from_dir(std::path::Path::new(&dir), &analyzers)
    } else {
        Vocabulary::built_in(&analyzers)
    };
    let vocab = match vocab {
        Ok(vocab) => vocab,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    for q in args {
        let ev = vocab
            .matcher
            .detect_with_typos(&analyzers, &q, &TextLanguage::STEMMED, &|_| false);
        println!(
            "{q}\n  -> {:?}",
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
}
