//! Feedback from the corpus: what the published profiles and cases that best match a text are
//! about, as shares of their topics (tagged, or clearly shown by their text), weighted by how
//! well each matches.

use std::collections::HashMap;

use super::SearchError;
use super::engine::SearchEngine;
use super::row_queries::{RowFilter, TopicClauses, best_by_rows};
use super::text_matches::QueryMatches;
use crate::domain::{Topic, TopicSet};

impl SearchEngine {
    /// Topic shares (summing to at most 1) among the `keep` best-matching published experts
    /// and cases.
    pub fn feedback_topics(&self, matches: &QueryMatches, keep: usize) -> Result<Vec<(Topic, f32)>, SearchError> {
        let mut shares: HashMap<Topic, f32> = HashMap::new();
        let mut total = 0.0f32;
        // The published filter read from the rows: as a tantivy intersection it made the
        // text's union seek to nearly every published document.
        let published = RowFilter {
            status: Some(crate::domain::Status::Published.code() as u8),
            ..RowFilter::default()
        };
        for (text, tables) in [
            (&matches.experts, &self.experts.tables),
            (&matches.cases, &self.cases.tables),
        ] {
            let hits = best_by_rows(text, tables, &TopicClauses::default(), &published, keep)?;
            let Some(best) = hits.first().map(|(score, _)| *score).filter(|score| *score > 0.0) else {
                continue;
            };
            let tables = tables.for_searcher(text.searcher())?;
            for (score, address) in hits {
                let Some(table) = tables.get(address.segment_ord as usize) else {
                    continue;
                };
                let row = table.row(address.doc_id);
                let topics: Vec<Topic> = TopicSet::from_mask(row.topics | row.inferred_strong)
                    .iter()
                    .filter(|topic| !topic.is_area())
                    .collect();
                let weight = score / best;
                total += weight;
                for topic in &topics {
                    *shares.entry(*topic).or_default() += weight / topics.len() as f32;
                }
            }
        }
        let mut shares: Vec<(Topic, f32)> = shares
            .into_iter()
            .map(|(topic, share)| (topic, share / total.max(f32::EPSILON)))
            .collect();
        shares.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
        Ok(shares)
    }
}
