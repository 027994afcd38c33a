//! The documents a request's text matches, scored once per request: a match's reading
//! (feedback), its relevant cases and its candidates all read the same text's scores, on
//! one searcher per index. The text is BM25 over its terms (`query::text_terms`), as
//! tantivy's union of boosted term queries scores it, but term at a time into one array
//! per segment: each term is looked up once per segment (tantivy's weight and scorer each
//! looked it up), terms no segment holds are dropped before scoring, and the postings are
//! read a block at a time without a union to merge them.

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::TermInfo;
use tantivy::query::Bm25Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, InvertedIndexReader, Score, Searcher, SegmentReader};

use super::SearchError;
use super::engine::SearchEngine;
use super::query::{self, AnalysedQuery, TextTerm, TextWeights};
use crate::in_two::split_in_two;

/// The BM25 scores of one index's documents for a text (0 where it does not match), per
/// segment of the searcher they were scored on.
pub struct TextMatches {
    searcher: Searcher,
    /// Whether there was text to search for (a request without any matches nothing).
    has_text: bool,
    /// Per segment of `searcher`, every document's score by its id (0 where the text does
    /// not match): the walks read them a word of 64 documents at a time.
    scores: Vec<Vec<Score>>,
}

impl TextMatches {
    pub(super) fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    pub(super) fn has_text(&self) -> bool {
        self.has_text
    }

    /// The scores of the `ord`th segment's documents by id (0: no match; empty without
    /// text).
    pub(super) fn in_segment(&self, ord: usize) -> &[Score] {
        self.scores.get(ord).map_or(&[], Vec::as_slice)
    }

    /// The text's score of a document (0 when the text does not match it).
    pub(super) fn score_of(&self, address: DocAddress) -> Score {
        self.in_segment(address.segment_ord as usize)
            .get(address.doc_id as usize)
            .copied()
            .unwrap_or(0.0)
    }
}

/// A request's text matched against experts and against cases.
pub struct QueryMatches {
    pub(super) experts: TextMatches,
    pub(super) cases: TextMatches,
}

impl SearchEngine {
    /// Scores the request's text on the current experts and cases: every term looked up in
    /// every segment of both, each index's BM25 weights from what the lookups found, then
    /// every segment scored; the lookups and the scoring each shared by two threads
    /// (`split_in_two`).
    pub fn query_matches(&self, query: &AnalysedQuery) -> Result<QueryMatches, SearchError> {
        let experts = &self.experts.fields;
        let weights = TextWeights::default();
        let indexes = [
            (
                self.experts.searcher(),
                query::text_terms(&experts.common, Some(experts.name), query, &weights),
            ),
            (
                self.cases.searcher(),
                query::text_terms(&self.cases.fields.common, None, query, &weights),
            ),
        ];
        let segments: Vec<(usize, &SegmentReader)> = indexes
            .iter()
            .enumerate()
            .filter(|(_, (_, terms))| !terms.is_empty())
            .flat_map(|(index, (searcher, _))| searcher.segment_readers().iter().map(move |reader| (index, reader)))
            .collect();
        let found = split_in_two(&segments, segment_cost, |(index, reader)| {
            look_up(reader, &indexes[*index].1)
        })
        .into_iter()
        .collect::<Result<Vec<_>, SearchError>>()?;
        let bm25 = indexes
            .iter()
            .enumerate()
            .map(|(index, (searcher, terms))| {
                let in_index = segments.iter().zip(&found).filter(|((of, _), _)| *of == index);
                bm25_weights(searcher, terms, in_index.map(|(_, found)| found))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut scores = scores_of_segments(&segments, &found, &bm25)?.into_iter();
        let [experts, cases] = indexes.map(|(searcher, terms)| {
            let segments = searcher.segment_readers().len();
            TextMatches {
                has_text: !terms.is_empty(),
                scores: if terms.is_empty() {
                    vec![Vec::new(); segments]
                } else {
                    scores.by_ref().take(segments).collect()
                },
                searcher,
            }
        });
        Ok(QueryMatches { experts, cases })
    }
}

/// Roughly how long a segment takes to look up or score: its documents.
fn segment_cost((_, reader): &(usize, &SegmentReader)) -> u64 {
    u64::from(reader.max_doc())
}

/// The scores of `segments` (each with the index it belongs to), in order, from what each
/// segment's lookups found and its index's weights.
fn scores_of_segments(
    segments: &[(usize, &SegmentReader)],
    found: &[FoundTerms],
    bm25: &[Vec<Option<Bm25Weight>>],
) -> Result<Vec<Vec<Score>>, SearchError> {
    let work: Vec<((usize, &SegmentReader), &FoundTerms)> = segments.iter().copied().zip(found).collect();
    split_in_two(
        &work,
        |(segment, _)| segment_cost(segment),
        |((index, reader), found)| score_segment(reader, found, &bm25[*index]),
    )
    .into_iter()
    .collect()
}

/// What one segment holds of a text's terms: per term, in the text's order, where its
/// postings are (`None` when the segment lacks it).
struct FoundTerms(Vec<Option<FoundTerm>>);

struct FoundTerm {
    field: Field,
    inverted: Arc<InvertedIndexReader>,
    info: TermInfo,
}

/// Looks every term up in a segment, each field's inverted index opened once.
fn look_up(reader: &SegmentReader, terms: &[TextTerm]) -> Result<FoundTerms, SearchError> {
    let mut opened: Vec<(Field, Arc<InvertedIndexReader>)> = Vec::new();
    let mut found = Vec::with_capacity(terms.len());
    for TextTerm { term, .. } in terms {
        let field = term.field();
        let inverted = Arc::clone(kept_per_field(
            &mut opened,
            field,
            || Ok(reader.inverted_index(field)?),
        )?);
        found.push(
            inverted
                .get_term_info(term)?
                .map(|info| FoundTerm { field, inverted, info }),
        );
    }
    Ok(FoundTerms(found))
}

/// Each term's BM25 weight on one index, with its boost, from the document frequencies its
/// segments' lookups found (`None` for a term no segment holds), as tantivy's `TermQuery`
/// under a `BoostQuery` weighs it.
fn bm25_weights<'f>(
    searcher: &Searcher,
    terms: &[TextTerm],
    segments: impl Iterator<Item = &'f FoundTerms>,
) -> Result<Vec<Option<Bm25Weight>>, SearchError> {
    let mut doc_freqs = vec![0u64; terms.len()];
    for FoundTerms(found) in segments {
        for (doc_freq, found) in doc_freqs.iter_mut().zip(found) {
            *doc_freq += found.as_ref().map_or(0, |found| u64::from(found.info.doc_freq));
        }
    }
    let total_docs: u64 = searcher
        .segment_readers()
        .iter()
        .map(|reader| u64::from(reader.max_doc()))
        .sum();
    let mut average_norms: Vec<(Field, Score)> = Vec::new();
    let mut weights = Vec::with_capacity(terms.len());
    for (TextTerm { term, boost }, doc_freq) in terms.iter().zip(doc_freqs) {
        if doc_freq == 0 {
            weights.push(None);
            continue;
        }
        let field = term.field();
        let average_norm = *kept_per_field(&mut average_norms, field, || {
            Ok(total_tokens(searcher, field)? as Score / total_docs as Score)
        })?;
        let weight = Bm25Weight::for_one_term_without_explain(doc_freq, total_docs, average_norm);
        // As `query::boosted_term`: a boost of 1 is no `BoostQuery`.
        let weight = if (boost - 1.0).abs() < f32::EPSILON {
            weight
        } else {
            weight.boost_by(*boost)
        };
        weights.push(Some(weight));
    }
    Ok(weights)
}

/// What `kept` holds for `field`, made by `make` (and kept) the first time: a text's terms
/// come from a handful of fields, each opened or measured once.
fn kept_per_field<T>(
    kept: &mut Vec<(Field, T)>,
    field: Field,
    make: impl FnOnce() -> Result<T, SearchError>,
) -> Result<&T, SearchError> {
    let position = match kept.iter().position(|(of, _)| *of == field) {
        Some(position) => position,
        None => {
            kept.push((field, make()?));
            kept.len() - 1
        }
    };
    Ok(&kept[position].1)
}

/// The tokens of `field` in every segment of the searcher (BM25's average field length).
fn total_tokens(searcher: &Searcher, field: Field) -> Result<u64, SearchError> {
    let mut total = 0;
    for reader in searcher.segment_readers() {
        total += reader.inverted_index(field)?.total_num_tokens();
    }
    Ok(total)
}

/// Every document's score in a segment, by id, term after term: BM25 is positive wherever
/// the text matches, 0 elsewhere. Each document's terms add up in the text's order, as in
/// tantivy's union.
fn score_segment(
    reader: &SegmentReader,
    FoundTerms(found): &FoundTerms,
    bm25: &[Option<Bm25Weight>],
) -> Result<Vec<Score>, SearchError> {
    let mut scores = vec![0.0; reader.max_doc() as usize];
    let mut opened: Vec<(Field, FieldNormReader)> = Vec::new();
    for (found, weight) in found.iter().zip(bm25) {
        let (Some(FoundTerm { field, inverted, info }), Some(weight)) = (found, weight) else {
            continue;
        };
        let norms = kept_per_field(&mut opened, *field, || field_norms(reader, *field))?;
        let mut postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
        loop {
            let docs = postings.docs();
            if docs.is_empty() {
                break;
            }
            let freqs = postings.freqs();
            for (position, doc) in docs.iter().enumerate() {
                let freq = freqs.get(position).copied().unwrap_or(1);
                if let Some(score) = scores.get_mut(*doc as usize) {
                    *score += weight.score(norms.fieldnorm_id(*doc), freq);
                }
            }
            postings.advance();
        }
    }
    Ok(scores)
}

/// A field's lengths in a segment, as tantivy's `TermWeight` reads them (1 for every
/// document of a field without them).
fn field_norms(reader: &SegmentReader, field: Field) -> Result<FieldNormReader, SearchError> {
    Ok(reader
        .fieldnorms_readers()
        .get_field(field)?
        .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1)))
}

#[cfg(test)]
mod tests {
    use tantivy::query::{BooleanQuery, BoostQuery, EnableScoring, Query, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema, TEXT, TextFieldIndexing, TextOptions};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term};

    use super::*;

    const WORDS: [&str; 6] = ["flood", "drain", "budget", "market", "bus", "rain"];

    /// A document's words (indexes into `WORDS`) in each of the three text fields.
    type DocWords = (Vec<usize>, Vec<usize>, Vec<usize>);

    /// A searcher over segments of documents, one segment per batch, with `deleted` (document numbers) deleted at the end, and
    /// three fields: with frequencies, without them, and without lengths.
    fn searcher_of(batches: &[Vec<DocWords>], deleted: &[usize]) -> (Searcher, [Field; 4]) {
        let mut schema = Schema::builder();
        let with_freqs = schema.add_text_field("with_freqs", TEXT);
        let basic = schema.add_text_field(
            "basic",
            TextOptions::default()
                .set_indexing_options(TextFieldIndexing::default().set_index_option(IndexRecordOption::Basic)),
        );
        let no_norms = schema.add_text_field(
            "no_norms",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_index_option(IndexRecordOption::WithFreqs)
                    .set_fieldnorms(false),
            ),
        );
        let number = schema.add_text_field("number", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        let text = |words: &[usize]| {
            words
                .iter()
                .map(|word| WORDS[word % WORDS.len()])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut count = 0;
        for batch in batches {
            for (first, second, third) in batch {
                let mut doc = TantivyDocument::default();
                doc.add_text(with_freqs, text(first));
                doc.add_text(basic, text(second));
                doc.add_text(no_norms, text(third));
                doc.add_text(number, count.to_string());
                writer.add_document(doc).expect("add");
                count += 1;
            }
            writer.commit().expect("commit");
        }
        for doc in deleted {
            writer.delete_term(Term::from_field_text(number, &doc.to_string()));
        }
        writer.commit().expect("commit");
        let reader = index.reader().expect("reader");
        (reader.searcher(), [with_freqs, basic, no_norms, number])
    }

    /// What tantivy's union of boosted term queries gives each document, per segment.
    fn scored_by_tantivy(searcher: &Searcher, terms: &[TextTerm]) -> Vec<Vec<Score>> {
        let clauses: Vec<Box<dyn Query>> = terms
            .iter()
            .map(|TextTerm { term, boost }| {
                let query: Box<dyn Query> = Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
                if (boost - 1.0).abs() < f32::EPSILON {
                    query
                } else {
                    Box::new(BoostQuery::new(query, *boost))
                }
            })
            .collect();
        let weight = BooleanQuery::union(clauses)
            .weight(EnableScoring::enabled_from_searcher(searcher))
            .expect("weight");
        searcher
            .segment_readers()
            .iter()
            .map(|reader| {
                let mut scores = vec![0.0; reader.max_doc() as usize];
                weight
                    .for_each(reader, &mut |doc, score| scores[doc as usize] = score)
                    .expect("for_each");
                scores
            })
            .collect()
    }

    fn scored_term_at_a_time(searcher: &Searcher, terms: &[TextTerm]) -> Vec<Vec<Score>> {
        let found: Vec<FoundTerms> = searcher
            .segment_readers()
            .iter()
            .map(|reader| look_up(reader, terms).expect("look up"))
            .collect();
        let bm25 = bm25_weights(searcher, terms, found.iter()).expect("weights");
        searcher
            .segment_readers()
            .iter()
            .zip(&found)
            .map(|(reader, found)| score_segment(reader, found, &bm25).expect("scores"))
            .collect()
    }

    fn doc_words() -> impl proptest::strategy::Strategy<Value = Vec<usize>> {
        proptest::collection::vec(0usize..8, 0..12)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
        #[test]
        fn term_at_a_time_scores_what_tantivys_union_scores(
            batches in proptest::collection::vec(
                proptest::collection::vec((doc_words(), doc_words(), doc_words()), 1..30),
                1..4,
            ),
            deleted in proptest::collection::vec(0usize..90, 0..10),
            wanted in proptest::collection::vec((0usize..4, 0usize..8, 0usize..4), 1..12),
        ) {
            let (searcher, fields) = searcher_of(&batches, &deleted);
            let boosts = [1.0, 0.5, 0.8, 0.175];
            let mut terms: Vec<TextTerm> = Vec::new();
            for (field, word, boost) in wanted {
                // A word no document holds ("absent") is looked up and left out.
                let text = WORDS.get(word).copied().unwrap_or("absent");
                let term = Term::from_field_text(fields[field], text);
                if !terms.iter().any(|known| known.term == term) {
                    terms.push(TextTerm { term, boost: boosts[boost] });
                }
            }
            let expected = scored_by_tantivy(&searcher, &terms);
            let scored = scored_term_at_a_time(&searcher, &terms);
            // The same additions in the same order: the same floats, bit for bit.
            proptest::prop_assert_eq!(scored, expected);
        }
    }
}
