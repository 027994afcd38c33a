//! Rendering templates with minijinja (HTML auto-escaping on). Every page gets `lang`, `dir`,
//! `t` (the interface strings of its language) and `languages` (for the language picker);
//! pages add their own data. Release builds parse each template once; debug builds read the
//! files afresh for every page.

use std::sync::OnceLock;

use minijinja::Environment;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Page, assets};
use crate::locale::Locale;

fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_loader(|name| Ok(assets::template(name)));
    // A string missing from a translation falls back to the template's default, not a 500.
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    environment
}

fn with_environment<T>(work: impl FnOnce(&Environment<'static>) -> T) -> T {
    if cfg!(debug_assertions) {
        return work(&environment());
    }
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    work(ENVIRONMENT.get_or_init(environment))
}

/// What every page knows: its language, direction and strings.
pub fn base_context(locale: Locale) -> Value {
    json!({
        "lang": locale.code(),
        "dir": locale.direction(),
        "t": assets::strings(locale).as_ref(),
        "languages": Locale::ALL
            .iter()
            .map(|language| json!({"code": language.code(), "name": language.native_name()}))
            .collect::<Vec<_>>(),
    })
}

/// Adds `extra`'s entries to the base context.
pub fn context(locale: Locale, extra: Value) -> Value {
    let mut context = base_context(locale);
    if let (Some(base), Value::Object(extra)) = (context.as_object_mut(), extra) {
        base.extend(extra);
    }
    context
}

/// Renders a template; a template that fails is logged and shown as a plain error page, never
/// a panic.
pub fn render(name: &str, context: &impl Serialize) -> Result<String, String> {
    with_environment(|environment| {
        environment
            .get_template(name)
            .and_then(|template| template.render(context))
            .map_err(|error| {
                tracing::error!(template = name, %error, "a page could not be rendered");
                format!("the page {name} could not be rendered")
            })
    })
}

fn error_page(locale: Locale, message: String) -> Page {
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;");
    Page::html(
        500,
        format!("<!doctype html><meta charset=utf-8><title>citypeers</title><p>{escaped}</p>"),
        locale,
        super::PAGE_POLICY,
    )
}

/// A page from a template with only the base context.
pub fn page(name: &str, locale: Locale, policy: &'static str) -> Page {
    match render(name, &base_context(locale)) {
        Ok(body) => Page::html(200, body, locale, policy),
        Err(message) => error_page(locale, message),
    }
}

/// A page from a template with extra data, at a status.
pub fn page_with(name: &str, status: u16, locale: Locale, extra: Value) -> Page {
    match render(name, &context(locale, extra)) {
        Ok(body) => Page::html(status, body, locale, super::PAGE_POLICY),
        Err(message) => error_page(locale, message),
    }
}

/// The friendly 404 page: `kind` is `expert`, `case` or `page`.
pub fn not_found(locale: Locale, kind: &str, id: &str) -> Page {
    page_with("not_found.html", 404, locale, json!({"kind": kind, "id": id}))
}
