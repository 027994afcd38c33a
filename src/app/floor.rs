//! The benchmarks' floor, prepared from a real request: the same words and filters as a bare
//! tantivy top-10 query (`search::FloorQuery`), so that citypeers' latency can be given as a
//! multiple of what the engine alone needs. Nothing in the service calls it.

use super::listing::ListingParams;
use super::match_request::MatchInput;
use super::{App, AppError};
use crate::search::{FloorQuery, MatchFilters};

impl App {
    /// The floor of `GET /v1/experts` with these parameters (published experts only).
    pub fn floor_expert_search(&self, params: &ListingParams) -> Result<FloorQuery, AppError> {
        let parsed = self.parse_listing(params, true)?;
        let text = self.analysed(parsed.q.as_deref());
        let mut filters = parsed.filters;
        filters.status = Some(crate::domain::Status::Published.code() as u8);
        Ok(self.engine().floor_expert_search(&text, &filters, false))
    }

    /// The floor of `POST /v1/match` with this input: the challenge's words, the hard filters.
    pub fn floor_match(&self, input: MatchInput) -> Result<FloorQuery, AppError> {
        let request = self.validate_match(input)?;
        let text = self.analysed(request.challenge.as_deref());
        let filters = MatchFilters {
            languages: request.languages.clone(),
            exclude_city_key: self.excluded_city_key(&request),
        };
        Ok(self.engine().floor_match(&text, &filters))
    }
}
