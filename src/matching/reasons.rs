//! Reasons as sentences in the language the client asks for (en, de, fr, es, pt, ar).

use std::collections::HashMap;

use super::{Explanation, TopicRelation};
use crate::locale::{Locale, country_name, language_name};
use crate::vocab::{Regions, Taxonomy};

/// Reasons are written in one of the interface languages.
pub type ReasonLanguage = Locale;

/// Names the reasons need: labels, region names and case titles.
pub struct ReasonLabels<'a> {
    pub taxonomy: &'a Taxonomy,
    pub regions: &'a Regions,
    pub case_titles: &'a HashMap<String, String>,
}

fn topic_sentence(relation: TopicRelation, label: &str, output: ReasonLanguage) -> String {
    use Locale::{Arabic, English, French, German, Portuguese, Spanish};
    use TopicRelation::{AreaOnly, CaseAbout, MentionedInText, Related, ShownInText, Tagged};
    match (relation, output) {
        (Tagged, English) => format!("Works on {label}"),
        (Tagged, German) => format!("Arbeitet zu {label}"),
        (Tagged, French) => format!("Travaille sur : {label}"),
        (Tagged, Spanish) => format!("Trabaja en {label}"),
        (Tagged, Portuguese) => format!("Trabalha com {label}"),
        (Tagged, Arabic) => format!("يعمل في مجال {label}"),
        (ShownInText, English) => format!("Profile shows experience in {label}"),
        (ShownInText, German) => format!("Profil zeigt Erfahrung in {label}"),
        (ShownInText, French) => format!("Le profil montre une expérience en : {label}"),
        (ShownInText, Spanish) => format!("El perfil muestra experiencia en {label}"),
        (ShownInText, Portuguese) => format!("O perfil mostra experiência em {label}"),
        (ShownInText, Arabic) => format!("يُظهر الملف الشخصي خبرة في {label}"),
        (CaseAbout, English) => format!("Worked on a practice case on {label}"),
        (CaseAbout, German) => format!("Beteiligt an einem Praxisbeispiel zu {label}"),
        (CaseAbout, French) => format!("A contribué à un cas pratique sur : {label}"),
        (CaseAbout, Spanish) => format!("Participó en un caso práctico sobre {label}"),
        (CaseAbout, Portuguese) => format!("Participou num caso prático sobre {label}"),
        (CaseAbout, Arabic) => format!("شارك في حالة عملية حول {label}"),
        (AreaOnly, English) => format!("Works in the field of {label}"),
        (AreaOnly, German) => format!("Tätig im Handlungsfeld {label}"),
        (AreaOnly, French) => format!("Travaille dans le domaine : {label}"),
        (AreaOnly, Spanish) => format!("Trabaja en el ámbito de {label}"),
        (AreaOnly, Portuguese) => format!("Atua na área de {label}"),
        (AreaOnly, Arabic) => format!("يعمل في ميدان {label}"),
        (MentionedInText, English) => format!("Profile mentions {label}"),
        (MentionedInText, German) => format!("Profil erwähnt {label}"),
        (MentionedInText, French) => format!("Le profil mentionne : {label}"),
        (MentionedInText, Spanish) => format!("El perfil menciona {label}"),
        (MentionedInText, Portuguese) => format!("O perfil menciona {label}"),
        (MentionedInText, Arabic) => format!("يذكر الملف الشخصي {label}"),
        (Related, English) => format!("Works on topics related to {label}"),
        (Related, German) => format!("Arbeitet zu Themen verwandt mit {label}"),
        (Related, French) => format!("Travaille sur des thèmes proches de : {label}"),
        (Related, Spanish) => format!("Trabaja en temas relacionados con {label}"),
        (Related, Portuguese) => format!("Trabalha com temas relacionados com {label}"),
        (Related, Arabic) => format!("يعمل في مواضيع قريبة من {label}"),
    }
}

/// The sentences for one match, most important first.
pub fn render_reasons(explanation: &Explanation, labels: &ReasonLabels<'_>, output: ReasonLanguage) -> Vec<String> {
    use Locale::{Arabic, English, French, German, Portuguese, Spanish};
    let mut reasons = Vec::new();
    for (topic, relation) in explanation.topics.iter().take(2) {
        let label = labels.taxonomy.label(*topic, output.code());
        let label = if matches!(output, English) {
            label.to_lowercase_first()
        } else {
            label.to_string()
        };
        reasons.push(topic_sentence(*relation, &label, output));
    }
    for language in &explanation.shared_languages {
        let name = language_name(*language, output);
        reasons.push(match output {
            English => format!("Speaks {name}"),
            German => format!("Spricht {name}"),
            French => format!("Parle {name}"),
            Spanish => format!("Habla {name}"),
            Portuguese => format!("Fala {name}"),
            Arabic => format!("يتحدث {name}"),
        });
    }
    let region = explanation.in_preferred_region.or(explanation.in_requester_subregion);
    if let Some(node) = region.and_then(|code| labels.regions.by_code(code)) {
        let name = labels
            .regions
            .localized_name(&node.slug, output.code())
            .unwrap_or(&node.name)
            .to_string();
        reasons.push(match output {
            English => format!("Based in {name}"),
            German => format!("Tätig in: {name}"),
            French => format!("Basé·e en : {name}"),
            Spanish => format!("Con sede en {name}"),
            Portuguese => format!("Atua em: {name}"),
            Arabic => format!("يعمل في: {name}"),
        });
    }
    if let Some(country) = explanation.in_preferred_country {
        let name = country_name(country, output);
        reasons.push(match output {
            English => format!("Based in {name}"),
            German => format!("Tätig in: {name}"),
            French => format!("Basé·e en : {name}"),
            Spanish => format!("Con sede en {name}"),
            Portuguese => format!("Atua em: {name}"),
            Arabic => format!("يعمل في: {name}"),
        });
    }
    for case_id in explanation.cases.iter().take(2) {
        let Some(title) = labels.case_titles.get(case_id) else {
            continue;
        };
        reasons.push(match output {
            English => format!("Contact for the case '{title}'"),
            German => format!("Ansprechperson für das Praxisbeispiel „{title}“"),
            French => format!("Personne de contact pour le cas « {title} »"),
            Spanish => format!("Contacto para el caso «{title}»"),
            Portuguese => format!("Contacto para o caso «{title}»"),
            Arabic => format!("جهة الاتصال للحالة «{title}»"),
        });
    }
    reasons
}

/// The reading of a challenge as a sentence: "Your challenge reads as flood risk protection
/// (heavy rain, blocked drains) and water supply (…)". `None` when nothing was read.
pub fn reading_summary(
    read: &[crate::reading::ReadTopic],
    taxonomy: &Taxonomy,
    output: ReasonLanguage,
) -> Option<String> {
    use Locale::{Arabic, English, French, German, Portuguese, Spanish};
    let strong: Vec<&crate::reading::ReadTopic> = read.iter().filter(|topic| topic.weight >= 0.5).take(2).collect();
    if strong.is_empty() {
        return None;
    }
    let items: Vec<String> = strong
        .iter()
        .map(|topic| {
            let label = taxonomy.label(topic.topic, output.code());
            let label = if matches!(output, English) {
                label.to_lowercase_first()
            } else {
                label.to_string()
            };
            let words: Vec<&str> = topic.words.iter().take(2).map(String::as_str).collect();
            if words.is_empty() {
                label
            } else {
                format!("{label} ({})", words.join(", "))
            }
        })
        .collect();
    let joined = match output {
        English => items.join(" and "),
        German => items.join(" und "),
        French => items.join(" et "),
        Spanish => items.join(" y "),
        Portuguese => items.join(" e "),
        Arabic => items.join(" و"),
    };
    Some(match output {
        English => format!("Your challenge reads as {joined}"),
        German => format!("Ihr Anliegen handelt von: {joined}"),
        French => format!("Votre demande porte sur : {joined}"),
        Spanish => format!("Su consulta trata de: {joined}"),
        Portuguese => format!("O seu pedido trata de: {joined}"),
        Arabic => format!("يتناول طلبك: {joined}"),
    })
}

trait LowercaseFirst {
    fn to_lowercase_first(&self) -> String;
}

impl LowercaseFirst for str {
    /// "Flood risk protection" → "flood risk protection", but acronyms stay ("SMEs").
    fn to_lowercase_first(&self) -> String {
        let mut characters = self.chars();
        let Some(first) = characters.next() else {
            return String::new();
        };
        let second_is_upper = characters.clone().next().is_some_and(char::is_uppercase);
        if second_is_upper {
            return self.to_string();
        }
        first.to_lowercase().chain(characters).collect()
    }
}
