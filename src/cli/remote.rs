//! The CLI's client for a running server's API (`--url`; plain http).

use std::io::Write;
use std::path::Path;

use reqwest::blocking::Client;
use serde_json::Value;

use crate::app::{ListingParams, MatchInput};
use crate::curation::import::ImportFormat;
use crate::domain::RecordKind;

pub struct Remote {
    base: String,
    token: Option<String>,
    client: Client,
}

fn describe_error(response: reqwest::blocking::Response) -> String {
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    let message = body["error"]["message"].as_str().unwrap_or("no details");
    format!("the server answered {status}: {message}")
}

impl Remote {
    pub fn new(url: &str, token: Option<String>) -> Result<Remote, String> {
        if !url.starts_with("http://") {
            return Err("--url must be an http:// address of a citypeers server".to_string());
        }
        let token = token
            .or_else(|| std::env::var("CITYPEERS_ADMIN_TOKEN").ok())
            .filter(|token| !token.is_empty());
        let client = Client::builder()
            .timeout(None)
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Remote {
            base: url.trim_end_matches('/').to_string(),
            token,
            client,
        })
    }

    fn authorised(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<reqwest::blocking::RequestBuilder, String> {
        let token = self
            .token
            .as_ref()
            .ok_or("this needs an admin token: pass --token or set CITYPEERS_TOKEN")?;
        Ok(request.bearer_auth(token))
    }

    pub fn import(&self, file: &Path, kind: RecordKind, format: ImportFormat) -> Result<(), String> {
        let content_type = match format {
            ImportFormat::JsonArray => "application/json",
            ImportFormat::JsonLines => "application/x-ndjson",
            ImportFormat::Csv => "text/csv",
        };
        let handle = std::fs::File::open(file).map_err(|error| format!("{}: {error}", file.display()))?;
        let url = format!("{}/v1/admin/import?kind={}", self.base, kind.plural());
        let request = self
            .client
            .post(url)
            .header("content-type", content_type)
            .body(reqwest::blocking::Body::new(handle));
        let response = self.authorised(request)?.send().map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(describe_error(response));
        }
        let report: Value = response.json().map_err(|error| error.to_string())?;
        println!(
            "imported: {} created, {} updated, {} unchanged, {} rejected",
            report["created"],
            report["updated"],
            report["unchanged"],
            report["rejected"].as_array().map_or(0, Vec::len)
        );
        for rejected in report["rejected"].as_array().into_iter().flatten().take(50) {
            println!("  line {}: {}", rejected["line"], rejected["errors"]);
        }
        Ok(())
    }

    pub fn export(&self, kind: RecordKind, sink: &mut dyn Write) -> Result<(), String> {
        let url = format!("{}/v1/admin/export?kind={}", self.base, kind.plural());
        let mut response = self
            .authorised(self.client.get(url))?
            .send()
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(describe_error(response));
        }
        response.copy_to(sink).map_err(|error| error.to_string())?;
        Ok(())
    }

    pub fn search(&self, params: &ListingParams, cases: bool) -> Result<Value, String> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(q) = &params.q {
            query.push(("q", q.clone()));
        }
        for (name, values) in [
            ("topic", &params.topic),
            ("region", &params.region),
            ("country", &params.country),
            ("language", &params.language),
        ] {
            for value in values {
                query.push((name, value.clone()));
            }
        }
        if let Some(limit) = &params.limit {
            query.push(("limit", limit.clone()));
        }
        let path = if cases { "cases" } else { "experts" };
        let response = self
            .client
            .get(format!("{}/v1/{path}", self.base))
            .query(&query)
            .send()
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(describe_error(response));
        }
        response.json().map_err(|error| error.to_string())
    }

    pub fn match_experts(&self, input: &MatchInput) -> Result<Value, String> {
        let body = serde_json::json!({
            "challenge": input.challenge,
            "topics": input.topics,
            "city": input.city,
            "country": input.country,
            "languages": input.languages,
            "regions": input.regions,
            "limit": input.limit,
            "lang": input.lang,
        });
        let response = self
            .client
            .post(format!("{}/v1/match", self.base))
            .json(&body)
            .send()
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(describe_error(response));
        }
        response.json().map_err(|error| error.to_string())
    }
}

impl Remote {
    /// Downloads a snapshot from `POST /v1/admin/backup` into `out`.
    pub fn backup(&self, out: &mut dyn Write) -> Result<u64, String> {
        let mut response = self
            .authorised(self.client.post(format!("{}/v1/admin/backup", self.base)))?
            .send()
            .map_err(|error| format!("cannot reach {}: {error}", self.base))?;
        if !response.status().is_success() {
            return Err(describe_error(response));
        }
        response.copy_to(out).map_err(|error| error.to_string())
    }
}
