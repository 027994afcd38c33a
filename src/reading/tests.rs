//! What plain-word texts read as, in each of the six languages, with the built-in vocabulary
//! and the associations learned from it alone (no profiles): `check(text, expected)`.

use std::sync::OnceLock;

use super::{
    Evidence, ReadingSettings, TextLanguages, TopicModel, combine, document_topics, learned_evidence,
    vocabulary_examples,
};
use crate::domain::Topic;
use crate::text::{Analyzers, TextLanguage, detect_language};
use crate::vocab::Vocabulary;

struct Reader {
    analyzers: Analyzers,
    vocabulary: Vocabulary,
    model: TopicModel,
}

fn reader() -> &'static Reader {
    static READER: OnceLock<Reader> = OnceLock::new();
    READER.get_or_init(|| {
        let analyzers = Analyzers::new();
        let vocabulary = Vocabulary::built_in(&analyzers).expect("the built-in vocabulary loads");
        let model = TopicModel::train(vocabulary_examples(&vocabulary, &analyzers));
        Reader {
            analyzers,
            vocabulary,
            model,
        }
    })
}

/// The topic a text reads as most strongly.
fn first_topic(text: &str) -> Option<Topic> {
    let reader = reader();
    let detected = detect_language(text, None);
    let languages: Vec<TextLanguage> = if detected == TextLanguage::Other {
        TextLanguage::STEMMED.to_vec()
    } else {
        vec![detected]
    };
    let vocabulary = reader.vocabulary.matcher.detect(&reader.analyzers, text, &languages);
    let text_languages = TextLanguages {
        read: &languages,
        detected: (detected != TextLanguage::Other).then_some(detected),
        long_enough: true,
    };
    let learned = learned_evidence(&reader.analyzers, &reader.model, text, &text_languages, &[]);
    let read = combine(
        &Evidence {
            vocabulary: &vocabulary,
            learned: &learned,
            feedback: &[],
        },
        &ReadingSettings::default(),
    );
    read.first().map(|topic| topic.topic)
}

fn check(text: &str, expected: Topic) {
    assert_eq!(first_topic(text), Some(expected), "{text}");
}

#[test]
fn english_problems_read_as_their_topics() {
    check(
        "After every storm the basements in the lower town fill with muddy water",
        Topic::FloodRisk,
    );
    check(
        "Our buses are always late and people spend hours getting to work",
        Topic::Mobility,
    );
    check(
        "Nobody collects the rubbish and people burn it behind the houses",
        Topic::Waste,
    );
    check(
        "Young people leave school and cannot find any job in town",
        Topic::Employment,
    );
}

#[test]
fn german_problems_read_as_their_topics() {
    check(
        "Nach jedem Starkregen stehen die Keller in der Altstadt unter Wasser",
        Topic::FloodRisk,
    );
    check(
        "Die Mieten steigen so stark, dass junge Familien keine Wohnung mehr finden",
        Topic::Housing,
    );
    check(
        "Überall liegt Sperrmüll an den Straßenecken und die Müllabfuhr kommt nicht",
        Topic::Waste,
    );
}

#[test]
fn french_problems_read_as_their_topics() {
    check(
        "Les caniveaux débordent et l'eau entre dans les maisons à chaque pluie",
        Topic::FloodRisk,
    );
    check(
        "Les vendeurs ambulants occupent les trottoirs autour du marché central",
        Topic::InformalEconomy,
    );
    check(
        "La mairie n'arrive plus à payer ses agents et les impôts locaux ne rentrent pas",
        Topic::Financing,
    );
}

#[test]
fn spanish_problems_read_as_their_topics() {
    check(
        "Las calles se inundan cada vez que llueve fuerte en el barrio",
        Topic::FloodRisk,
    );
    check(
        "Los vecinos nunca son consultados sobre las obras que hace la alcaldía",
        Topic::Participation,
    );
    check("El agua del grifo llega solo dos días por semana", Topic::Water);
}

#[test]
fn portuguese_problems_read_as_their_topics() {
    check(
        "A água da chuva invade as casas da baixada todo verão",
        Topic::FloodRisk,
    );
    check(
        "Os ônibus vivem lotados e o trânsito parado na avenida principal",
        Topic::Mobility,
    );
    check(
        "O lixo se acumula nas esquinas porque o caminhão não passa",
        Topic::Waste,
    );
}

#[test]
fn arabic_problems_read_as_their_topics() {
    check(
        "تغرق الشوارع بمياه الأمطار في كل شتاء وتدخل المياه إلى البيوت",
        Topic::FloodRisk,
    );
    check("تتراكم النفايات في الأحياء ولا تمر شاحنة جمع القمامة", Topic::Waste);
    check("الشباب يتخرجون ولا يجدون عملاً في المدينة", Topic::Employment);
}

/// What the learned model reads in a profile's text (the topics an untagged record is indexed
/// with), strongest first.
fn check_profile(text: &str, language: TextLanguage, expected: &[Topic]) {
    let reader = reader();
    let read: Vec<Topic> = document_topics(&reader.analyzers, &reader.model, text, language)
        .into_iter()
        .map(|score| score.topic)
        .collect();
    assert_eq!(read, expected, "{text}");
}

#[test]
fn untagged_profiles_read_as_what_they_describe_in_each_language() {
    let table: [(&str, TextLanguage, &[Topic]); 6] = [
        (
            "Set up the early warning sirens along the river and trained volunteers to evacuate the lower town.",
            TextLanguage::English,
            &[Topic::DisasterRisk, Topic::FloodRisk],
        ),
        (
            "Plant neue Buslinien und sichere Radwege zwischen den Stadtteilen.",
            TextLanguage::German,
            &[Topic::Mobility],
        ),
        (
            "Accompagne les vendeurs de rue et les tabliers du marché central dans leurs démarches.",
            TextLanguage::French,
            &[Topic::InformalEconomy],
        ),
        (
            "Coordina la recolección de basura y el reciclaje con los recicladores de base.",
            TextLanguage::Spanish,
            &[Topic::Waste],
        ),
        (
            "Coordena a regularização fundiária e a melhoria das moradias nas favelas.",
            TextLanguage::Portuguese,
            &[Topic::Housing],
        ),
        (
            "يدير مشاريع تصريف مياه الأمطار وحماية الأحياء المنخفضة من السيول",
            TextLanguage::Arabic,
            &[Topic::FloodRisk],
        ),
    ];
    for (text, language, expected) in table {
        check_profile(text, language, expected);
    }
}

#[test]
fn a_profile_about_nothing_the_model_knows_reads_as_no_topic() {
    check_profile(
        "Plays the violin in an orchestra on weekends.",
        TextLanguage::English,
        &[],
    );
    check_profile("Enjoys hiking and photography.", TextLanguage::English, &[]);
    check_profile("", TextLanguage::German, &[]);
    let untrained = TopicModel::default();
    let reader = reader();
    assert!(
        document_topics(
            &reader.analyzers,
            &untrained,
            "Flood early warning",
            TextLanguage::English
        )
        .is_empty()
    );
}
