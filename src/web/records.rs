//! Public pages of one expert or one case: the record's public view (never a private field),
//! with names and labels in the page's language, the cases or experts linked to it, and the
//! JSON twin. Drafts and archived records get the friendly 404; merged experts redirect.

use serde_json::{Value, json};

use super::{Page, render};
use crate::app::{App, AppError};
use crate::domain::{Case, CountryCode, Expert, LanguageCode, Topic, Versioned};
use crate::locale::{Locale, country_name, language_name};
use crate::wire::{self, Visibility};

/// How many linked records a page shows.
const MAX_LINKED: usize = 20;

fn topics_named(app: &App, topics: &[Topic], locale: Locale) -> Value {
    let taxonomy = &app.vocabulary().taxonomy;
    Value::Array(
        topics
            .iter()
            .map(|topic| json!({"id": topic.id(), "label": taxonomy.label(*topic, locale.code())}))
            .collect(),
    )
}

fn place(app: &App, city: &str, country: CountryCode, locale: Locale) -> Value {
    let regions = &app.vocabulary().regions;
    let region = regions
        .subregion_code(country)
        .and_then(|code| regions.by_code(code))
        .map(|node| {
            regions
                .localized_name(&node.slug, locale.code())
                .unwrap_or(&node.name)
                .to_string()
        });
    json!({"city": city, "country": country_name(country, locale), "country_code": country.as_str(), "region": region})
}

fn languages_named(languages: &[LanguageCode], locale: Locale) -> Value {
    Value::Array(
        languages
            .iter()
            .map(|language| json!({"code": language.as_str(), "name": language_name(*language, locale)}))
            .collect(),
    )
}

fn expert_summary(app: &App, expert: &Versioned<Expert>, locale: Locale) -> Value {
    let record = &expert.record;
    json!({
        "id": record.id.as_str(),
        "name": record.name,
        "position": record.position,
        "organisation": record.organisation,
        "place": place(app, &record.city, record.country, locale),
    })
}

fn case_summary(app: &App, case: &Versioned<Case>, locale: Locale) -> Value {
    let record = &case.record;
    json!({
        "id": record.id.as_str(),
        "title": record.title,
        "year": record.year,
        "place": place(app, &record.city, record.country, locale),
        "topics": topics_named(app, &record.topics, locale),
    })
}

/// A record's page, the moved page, or the friendly 404 — never an error page for a client's id.
fn page_or_not_found(result: Result<Page, AppError>, locale: Locale, kind: &str, raw_id: &str) -> Page {
    match result {
        Ok(page) => page,
        Err(AppError::Moved { location }) => Page::moved(location.replacen("/v1/", "/", 1)),
        Err(AppError::NotFound(_)) => render::not_found(locale, kind, raw_id),
        Err(error) => {
            tracing::error!(%error, kind, "a record page failed");
            render::page_with("not_found.html", 503, locale, json!({"kind": "unavailable", "id": ""}))
        }
    }
}

/// `GET /experts/{id}`: a published expert's public profile.
pub fn expert_page(app: &App, raw_id: &str, locale: Locale) -> Page {
    let result = app.public_expert(raw_id).and_then(|expert| {
        let cases = app.cases_of_expert(expert.record.id.as_str())?;
        let record = &expert.record;
        let data = json!({
            "expert": wire::expert_json(&expert, &app.vocabulary().regions, Visibility::Public),
            "place": place(app, &record.city, record.country, locale),
            "topics": topics_named(app, &record.topics, locale),
            "spoken": languages_named(&record.languages, locale),
            "cases": cases.iter().take(MAX_LINKED).map(|case| case_summary(app, case, locale)).collect::<Vec<_>>(),
            "json_url": format!("/v1/experts/{}", record.id),
        });
        let mut page = render::page_with("expert.html", 200, locale, data);
        page.alternate_json = Some(format!("/v1/experts/{}", record.id));
        Ok(page)
    });
    page_or_not_found(result, locale, "expert", raw_id)
}

/// `GET /cases/{id}`: a published practice case with the published experts linked to it.
pub fn case_page(app: &App, raw_id: &str, locale: Locale) -> Page {
    let result = app.public_case(raw_id).map(|case| {
        let record = &case.record;
        let experts: Vec<Value> = record
            .experts
            .iter()
            .take(MAX_LINKED)
            .filter_map(|id| app.public_expert(id.as_str()).ok())
            .map(|expert| expert_summary(app, &expert, locale))
            .collect();
        let language = record.language.map(|language| language_name(language, locale));
        let data = json!({
            "case": wire::case_json(&case, &app.vocabulary().regions),
            "place": place(app, &record.city, record.country, locale),
            "topics": topics_named(app, &record.topics, locale),
            "text_language": language,
            "experts": experts,
            "json_url": format!("/v1/cases/{}", record.id),
        });
        let mut page = render::page_with("case.html", 200, locale, data);
        page.alternate_json = Some(format!("/v1/cases/{}", record.id));
        page
    });
    page_or_not_found(result, locale, "case", raw_id)
}
