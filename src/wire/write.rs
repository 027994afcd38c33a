//! Writing records as the contract's JSON: public views (published records, no private
//! fields) and admin views (everything), with the derived read-only fields.

use serde::Serialize;
use serde_json::Value;

use crate::domain::{Case, Expert, Timestamp, Versioned};
use crate::vocab::Regions;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Admin,
}

/// RFC 3339 in UTC with exactly three fractional digits, so that timestamps also sort as
/// strings (the `time` crate's RFC 3339 output drops trailing zeros: `.12` after `.123`).
pub fn format_time(timestamp: Timestamp) -> String {
    const UTC_MILLISECONDS: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    timestamp
        .to_offset(time::UtcOffset::UTC)
        .format(UTC_MILLISECONDS)
        .unwrap_or_default()
}

/// An expert or a case as the API shows it; fields in the contract's order.
#[derive(Serialize)]
#[serde(untagged)]
pub enum RecordView<'a> {
    Expert(ExpertView<'a>),
    Case(CaseView<'a>),
}

#[derive(Serialize)]
pub struct ExpertView<'a> {
    id: &'a str,
    name: &'a str,
    position: Option<&'a str>,
    organisation: Option<&'a str>,
    city: &'a str,
    country: &'a str,
    languages: Vec<&'a str>,
    topics: Vec<&'static str>,
    expertise: &'a str,
    bio: Option<&'a str>,
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<Option<&'a str>>,
    status: &'static str,
    region: Option<&'static str>,
    subregion: Option<&'static str>,
    intermediate_region: Option<&'static str>,
    version: u64,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
pub struct CaseView<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    city: &'a str,
    country: &'a str,
    topics: Vec<&'static str>,
    language: Option<&'a str>,
    year: Option<u16>,
    experts: Vec<&'a str>,
    url: Option<&'a str>,
    status: &'static str,
    region: Option<&'static str>,
    subregion: Option<&'static str>,
    intermediate_region: Option<&'static str>,
    version: u64,
    created_at: String,
    updated_at: String,
}

pub fn expert_view<'a>(stored: &'a Versioned<Expert>, regions: &Regions, visibility: Visibility) -> ExpertView<'a> {
    let expert = &stored.record;
    let path = regions.path(expert.country);
    let private = |value: &'a Option<String>| match visibility {
        Visibility::Admin => Some(value.as_deref()),
        Visibility::Public => None,
    };
    ExpertView {
        id: expert.id.as_str(),
        name: &expert.name,
        position: expert.position.as_deref(),
        organisation: expert.organisation.as_deref(),
        city: &expert.city,
        country: expert.country.as_str(),
        languages: expert.languages.iter().map(|language| language.as_str()).collect(),
        topics: expert.topics.iter().map(|topic| topic.id()).collect(),
        expertise: &expert.expertise,
        bio: expert.bio.as_deref(),
        available: expert.available,
        email: private(&expert.email),
        phone: private(&expert.phone),
        status: expert.status.as_str(),
        region: path.region,
        subregion: path.subregion,
        intermediate_region: path.intermediate_region,
        version: stored.version,
        created_at: format_time(stored.created_at),
        updated_at: format_time(stored.updated_at),
    }
}

pub fn case_view<'a>(stored: &'a Versioned<Case>, regions: &Regions) -> CaseView<'a> {
    let case = &stored.record;
    let path = regions.path(case.country);
    CaseView {
        id: case.id.as_str(),
        title: &case.title,
        summary: &case.summary,
        city: &case.city,
        country: case.country.as_str(),
        topics: case.topics.iter().map(|topic| topic.id()).collect(),
        language: case.language.as_ref().map(|language| language.as_str()),
        year: case.year,
        experts: case.experts.iter().map(|id| id.as_str()).collect(),
        url: case.url.as_deref(),
        status: case.status.as_str(),
        region: path.region,
        subregion: path.subregion,
        intermediate_region: path.intermediate_region,
        version: stored.version,
        created_at: format_time(stored.created_at),
        updated_at: format_time(stored.updated_at),
    }
}

pub fn expert_json(stored: &Versioned<Expert>, regions: &Regions, visibility: Visibility) -> Value {
    serde_json::to_value(expert_view(stored, regions, visibility)).unwrap_or(Value::Null)
}

pub fn case_json(stored: &Versioned<Case>, regions: &Regions) -> Value {
    serde_json::to_value(case_view(stored, regions)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod timestamp_tests {
    use super::format_time;

    #[test]
    fn timestamps_have_three_fractional_digits_and_sort_as_strings() {
        let at = |nanoseconds: u32| {
            time::macros::datetime!(2026-11-27 09:10:05 UTC)
                .replace_nanosecond(nanoseconds)
                .unwrap()
        };
        assert_eq!(format_time(at(120_000_000)), "2026-11-27T09:10:05.120Z");
        assert_eq!(format_time(at(0)), "2026-11-27T09:10:05.000Z");
        assert!(format_time(at(120_000_000)) < format_time(at(123_000_000)));
        let in_berlin = at(5_000_000).to_offset(time::macros::offset!(+1));
        assert_eq!(format_time(in_berlin), "2026-11-27T09:10:05.005Z");
    }
}
