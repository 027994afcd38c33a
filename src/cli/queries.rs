//! `search` and `match` from the command line: tables for people, JSON for scripts.

use std::io::Write;

use super::commands::{Settings, open_app};
use super::remote::Remote;
use super::{FilterArgs, RemoteArgs};
use crate::app::{ListingParams, MatchInput};

pub(super) fn search(
    query: &str,
    filters: &FilterArgs,
    cases: bool,
    limit: usize,
    json: bool,
    settings: &Settings,
    remote: &RemoteArgs,
) -> Result<(), String> {
    let params = ListingParams {
        q: Some(query.to_string()).filter(|query| !query.trim().is_empty()),
        topic: filters.topics.clone(),
        region: filters.regions.clone(),
        country: filters.countries.clone(),
        language: filters.languages.clone(),
        available: None,
        limit: Some(limit.to_string()),
        offset: None,
        status: None,
    };
    let body = if let Some(url) = &remote.url {
        Remote::new(url, remote.token.clone())?.search(&params, cases)?
    } else {
        let app = open_app(settings, false)?;
        let regions = &app.vocabulary().regions;
        if cases {
            let page = app.search_cases(&params, true).map_err(|error| error.to_string())?;
            serde_json::to_value(crate::wire::answers::case_listing(&page, regions))
                .map_err(|error| error.to_string())?
        } else {
            let page = app.search_experts(&params, true).map_err(|error| error.to_string())?;
            serde_json::to_value(crate::wire::answers::expert_listing(
                &page,
                regions,
                crate::wire::Visibility::Public,
            ))
            .map_err(|error| error.to_string())?
        }
    };
    if json {
        return print_json(&body);
    }
    let record_key = if cases { "case" } else { "expert" };
    println!("{} found", body["total"]);
    for hit in body["hits"].as_array().into_iter().flatten() {
        let record = &hit[record_key];
        let label = if cases {
            record["title"].as_str()
        } else {
            record["name"].as_str()
        };
        println!(
            "{:>6.3}  {:<28} {}  ({}, {})  {}",
            hit["score"].as_f64().unwrap_or(0.0),
            record["id"].as_str().unwrap_or_default(),
            label.unwrap_or_default(),
            record["city"].as_str().unwrap_or_default(),
            record["country"].as_str().unwrap_or_default(),
            record["topics"]
                .as_array()
                .map(|topics| topics
                    .iter()
                    .filter_map(|topic| topic.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
        if let Some(snippet) = hit["highlights"]
            .as_object()
            .and_then(|highlights| highlights.values().next())
            .and_then(|value| value.as_str())
        {
            println!("        {}", crate::text::highlight::for_terminal(snippet));
        }
    }
    Ok(())
}

pub(super) fn match_command(
    input: MatchInput,
    json: bool,
    settings: &Settings,
    remote: &RemoteArgs,
) -> Result<(), String> {
    let body = if let Some(url) = &remote.url {
        Remote::new(url, remote.token.clone())?.match_experts(&input)?
    } else {
        let app = open_app(settings, false)?;
        let outcome = app.match_experts(input).map_err(|error| match error {
            crate::app::AppError::Invalid(fields) => fields
                .iter()
                .map(|field| format!("{}: {}", field.field, field.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
        serde_json::to_value(crate::wire::answers::match_response(
            &outcome,
            &app.vocabulary().regions,
        ))
        .map_err(|error| error.to_string())?
    };
    if json {
        return print_json(&body);
    }
    println!(
        "interpreted: topics {} language {}",
        body["interpreted"]["topics"], body["interpreted"]["language"]
    );
    for (rank, matched) in body["matches"].as_array().into_iter().flatten().enumerate() {
        let expert = &matched["expert"];
        println!(
            "{:>2}. {:.3}  {} — {}, {} ({})",
            rank + 1,
            matched["score"].as_f64().unwrap_or(0.0),
            expert["name"].as_str().unwrap_or_default(),
            expert["city"].as_str().unwrap_or_default(),
            expert["country"].as_str().unwrap_or_default(),
            expert["id"].as_str().unwrap_or_default()
        );
        for reason in matched["reasons"].as_array().into_iter().flatten() {
            println!("       · {}", reason.as_str().unwrap_or_default());
        }
    }
    Ok(())
}

/// The answer as pretty JSON on standard output; a reader that went away (`| head`) is not an
/// error.
fn print_json(body: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(body).map_err(|error| error.to_string())?;
    let _ = writeln!(std::io::stdout(), "{text}");
    Ok(())
}
