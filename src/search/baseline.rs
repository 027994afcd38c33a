//! The plain-BM25 baseline that `citypeers eval` compares the ranking with.

use tantivy::Term;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use super::SearchError;
use super::collect::{FacetFilters, FacetedTopCollector, RankOrder};
use super::engine::{SearchEngine, and, published_only};
use super::query::{self, any_of, filter};
use crate::domain::LanguageCode;

impl SearchEngine {
    /// The baseline of `citypeers eval`: what a search engine gives out of the box — BM25 of
    /// the lower-cased words over the profile text, no stemming, no vocabulary, no typo
    /// tolerance — with the same hard filters. Returns expert ids, best first.
    pub fn plain_bm25_experts(
        &self,
        text: &str,
        filters: &FacetFilters,
        languages: &[LanguageCode],
        exclude_city_key: Option<u64>,
        available_only: bool,
        keep: usize,
    ) -> Result<Vec<String>, SearchError> {
        let searcher = self.experts.searcher();
        let fields = &self.experts.fields;
        let words: Vec<Box<dyn Query>> = self
            .analyzers
            .folded(text)
            .into_iter()
            .map(|token| {
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.common.folded, &token.term),
                    IndexRecordOption::WithFreqs,
                )) as Box<dyn Query>
            })
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses = vec![
            filter(published_only(fields.common.status)),
            (Occur::Must, Box::new(BooleanQuery::union(words)) as Box<dyn Query>),
        ];
        if available_only {
            clauses.push(filter(Box::new(query::u64_term_query(fields.available, 1))));
        }
        if !languages.is_empty() {
            let codes: Vec<u64> = languages
                .iter()
                .map(|language| super::two_letter_code(language.as_str()))
                .collect();
            clauses.push(filter(any_of(fields.common.languages, &codes)));
        }
        if let Some(city_key) = exclude_city_key {
            clauses.push((
                Occur::MustNot,
                Box::new(query::u64_term_query(fields.common.city_key, city_key)),
            ));
        }
        let tables = self.experts.tables.for_searcher(&searcher)?;
        let collector = FacetedTopCollector {
            filters: filters.clone(),
            keep,
            order: RankOrder::Score,
            tables: tables.clone(),
        };
        let found = searcher.search(&and(clauses), &collector)?;
        Ok(found
            .top
            .iter()
            .filter_map(|(_, address)| {
                tables
                    .get(address.segment_ord as usize)
                    .map(|table| table.id(address.doc_id).to_string())
            })
            .collect())
    }
}
