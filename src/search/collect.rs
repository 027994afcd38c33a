//! One pass over the documents that match a query: the total and the best documents among
//! those that pass every filter, and facet counts where each dimension ignores its own
//! filter (the contract's "counts over the OTHER filters"). Reads the per-segment tables.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::segments::{MAX_REGION_CODES, MAX_TOPIC_CODES, SegmentTable};

/// Number of distinct two-letter codes (countries, languages) and an upper bound on topic and
/// region codes, used to size count arrays.
pub const TWO_LETTER_CODES: usize = 26 * 26;
pub const MAX_SMALL_CODES: usize = 128;

/// Filters evaluated per document; empty lists mean "no filter" (values OR together).
#[derive(Clone, Debug, Default)]
pub struct FacetFilters {
    pub topics: Vec<u64>,
    pub regions: Vec<u64>,
    pub countries: Vec<u64>,
    pub languages: Vec<u64>,
    /// Experts only: `Some(true)` keeps available experts.
    pub available: Option<bool>,
    /// Keep only this status (its `Status::code`), e.g. published for public listings.
    pub status: Option<u8>,
}

/// How the best documents are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankOrder {
    Score,
    NewestFirst,
}

#[derive(Clone, Debug, Default)]
pub struct FacetCounts {
    pub topics: Vec<u64>,
    pub regions: Vec<u64>,
    pub countries: Vec<u64>,
    pub languages: Vec<u64>,
}

impl FacetCounts {
    fn empty() -> FacetCounts {
        FacetCounts {
            topics: vec![0; MAX_SMALL_CODES],
            regions: vec![0; MAX_SMALL_CODES],
            countries: vec![0; TWO_LETTER_CODES],
            languages: vec![0; TWO_LETTER_CODES],
        }
    }

    fn add(&mut self, other: &FacetCounts) {
        for (mine, theirs) in [
            (&mut self.topics, &other.topics),
            (&mut self.regions, &other.regions),
            (&mut self.countries, &other.countries),
            (&mut self.languages, &other.languages),
        ] {
            for (left, right) in mine.iter_mut().zip(theirs) {
                *left += right;
            }
        }
    }
}

pub struct FacetedTop {
    pub total: u64,
    /// Best first.
    pub top: Vec<(f64, DocAddress)>,
    pub counts: FacetCounts,
}

/// The filters as bitmasks and small lists, for a per-document test in nanoseconds.
#[derive(Clone, Debug, Default)]
struct CompiledFilters {
    topics: u32,
    regions: u64,
    countries: Vec<u16>,
    languages: Vec<u16>,
    available: Option<bool>,
    status: Option<u8>,
}

impl CompiledFilters {
    fn compile(filters: &FacetFilters) -> CompiledFilters {
        CompiledFilters {
            topics: filters
                .topics
                .iter()
                .filter(|code| **code < MAX_TOPIC_CODES)
                .fold(0, |mask, code| mask | (1 << code)),
            regions: filters
                .regions
                .iter()
                .filter(|code| **code < MAX_REGION_CODES)
                .fold(0, |mask, code| mask | (1 << code)),
            countries: filters
                .countries
                .iter()
                .filter_map(|code| u16::try_from(*code).ok())
                .collect(),
            languages: filters
                .languages
                .iter()
                .filter_map(|code| u16::try_from(*code).ok())
                .collect(),
            available: filters.available,
            status: filters.status,
        }
    }
}

pub struct FacetedTopCollector {
    pub filters: FacetFilters,
    pub keep: usize,
    pub order: RankOrder,
    /// The table of each segment, by segment ordinal.
    pub tables: Vec<Arc<SegmentTable>>,
}

#[derive(PartialEq)]
struct Ranked {
    key: f64,
    address: DocAddress,
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    /// The heap keeps the worst on top: lower key is worse; on ties the later address is worse.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.total_cmp(&self.key).then(self.address.cmp(&other.address))
    }
}

pub struct FacetedTopSegmentCollector {
    segment_ord: SegmentOrdinal,
    filters: CompiledFilters,
    keep: usize,
    order: RankOrder,
    table: Arc<SegmentTable>,
    total: u64,
    heap: BinaryHeap<Ranked>,
    counts: FacetCounts,
}

fn count_bits(counts: &mut [u64], mut mask: u64) {
    while mask != 0 {
        let bit = mask.trailing_zeros() as usize;
        if let Some(slot) = counts.get_mut(bit) {
            *slot += 1;
        }
        mask &= mask - 1;
    }
}

impl Collector for FacetedTopCollector {
    type Fruit = FacetedTop;
    type Child = FacetedTopSegmentCollector;

    fn for_segment(&self, segment_ord: SegmentOrdinal, _segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let table = self
            .tables
            .get(segment_ord as usize)
            .cloned()
            .ok_or_else(|| tantivy::TantivyError::InternalError(format!("no table for segment {segment_ord}")))?;
        Ok(FacetedTopSegmentCollector {
            segment_ord,
            filters: CompiledFilters::compile(&self.filters),
            keep: self.keep,
            order: self.order,
            table,
            total: 0,
            heap: BinaryHeap::with_capacity(self.keep + 1),
            counts: FacetCounts::empty(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order == RankOrder::Score
    }

    fn merge_fruits(&self, fruits: Vec<FacetedTop>) -> tantivy::Result<FacetedTop> {
        let mut merged = FacetedTop {
            total: 0,
            top: Vec::new(),
            counts: FacetCounts::empty(),
        };
        for fruit in fruits {
            merged.total += fruit.total;
            merged.counts.add(&fruit.counts);
            merged.top.extend(fruit.top);
        }
        merged
            .top
            .sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
        merged.top.truncate(self.keep);
        Ok(merged)
    }
}

impl SegmentCollector for FacetedTopSegmentCollector {
    type Fruit = FacetedTop;

    fn collect(&mut self, doc: DocId, score: Score) {
        let row = self.table.row(doc);
        if self.filters.available.is_some_and(|wanted| row.available != wanted)
            || self.filters.status.is_some_and(|wanted| row.status != wanted)
        {
            return;
        }
        let filters = &self.filters;
        let languages = self.table.languages(doc);
        let pass_topic = filters.topics == 0 || row.topics & filters.topics != 0;
        let pass_region = filters.regions == 0 || row.regions & filters.regions != 0;
        let pass_country = filters.countries.is_empty() || filters.countries.contains(&row.country);
        let pass_language =
            filters.languages.is_empty() || languages.iter().any(|code| filters.languages.contains(code));
        if pass_region && pass_country && pass_language {
            count_bits(&mut self.counts.topics, u64::from(row.topics));
        }
        if pass_topic && pass_country && pass_language {
            count_bits(&mut self.counts.regions, row.regions);
        }
        if pass_topic
            && pass_region
            && pass_language
            && let Some(slot) = self.counts.countries.get_mut(usize::from(row.country))
        {
            *slot += 1;
        }
        if pass_topic && pass_region && pass_country {
            for code in languages {
                if let Some(slot) = self.counts.languages.get_mut(usize::from(*code)) {
                    *slot += 1;
                }
            }
        }
        if !(pass_topic && pass_region && pass_country && pass_language) {
            return;
        }
        self.total += 1;
        if self.keep == 0 {
            return;
        }
        let key = match self.order {
            RankOrder::Score => f64::from(score),
            RankOrder::NewestFirst => row.updated_at as f64,
        };
        let candidate = Ranked {
            key,
            address: DocAddress::new(self.segment_ord, doc),
        };
        if self.heap.len() < self.keep {
            self.heap.push(candidate);
        } else if self.heap.peek().is_some_and(|worst| candidate < *worst) {
            self.heap.pop();
            self.heap.push(candidate);
        }
    }

    fn harvest(self) -> FacetedTop {
        let mut top: Vec<(f64, DocAddress)> = self
            .heap
            .into_iter()
            .map(|ranked| (ranked.key, ranked.address))
            .collect();
        top.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
        FacetedTop {
            total: self.total,
            top,
            counts: self.counts,
        }
    }
}
