//! One pass over the documents that match a query: the total and the best documents among
//! those that pass every filter, and facet counts where each dimension ignores its own
//! filter (the contract's "counts over the OTHER filters"). Reads fast fields only.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

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

pub struct FacetedTopCollector {
    pub filters: FacetFilters,
    pub keep: usize,
    pub order: RankOrder,
    pub has_available_field: bool,
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
    filters: FacetFilters,
    keep: usize,
    order: RankOrder,
    topics: Column<u64>,
    regions: Column<u64>,
    country: Column<u64>,
    languages: Column<u64>,
    available: Option<Column<u64>>,
    updated_at: Column<i64>,
    total: u64,
    heap: BinaryHeap<Ranked>,
    counts: FacetCounts,
    scratch: [Vec<u64>; 4],
}

fn any_in(values: &[u64], wanted: &[u64]) -> bool {
    wanted.is_empty() || values.iter().any(|value| wanted.contains(value))
}

fn count_into(counts: &mut [u64], values: &[u64]) {
    for value in values {
        if let Some(slot) = counts.get_mut(*value as usize) {
            *slot += 1;
        }
    }
}

impl Collector for FacetedTopCollector {
    type Fruit = FacetedTop;
    type Child = FacetedTopSegmentCollector;

    fn for_segment(&self, segment_ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let fast_fields = segment.fast_fields();
        Ok(FacetedTopSegmentCollector {
            segment_ord,
            filters: self.filters.clone(),
            keep: self.keep,
            order: self.order,
            topics: fast_fields.u64("topics")?,
            regions: fast_fields.u64("regions")?,
            country: fast_fields.u64("country")?,
            languages: fast_fields.u64("languages")?,
            available: if self.has_available_field {
                Some(fast_fields.u64("available")?)
            } else {
                None
            },
            updated_at: fast_fields.i64("updated_at")?,
            total: 0,
            heap: BinaryHeap::with_capacity(self.keep + 1),
            counts: FacetCounts::empty(),
            scratch: Default::default(),
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
        let [topics, regions, countries, languages] = &mut self.scratch;
        topics.clear();
        topics.extend(self.topics.values_for_doc(doc));
        regions.clear();
        regions.extend(self.regions.values_for_doc(doc));
        countries.clear();
        countries.extend(self.country.values_for_doc(doc));
        languages.clear();
        languages.extend(self.languages.values_for_doc(doc));
        if let (Some(wanted), Some(column)) = (self.filters.available, &self.available) {
            let is_available = column.first(doc).unwrap_or(0) == 1;
            if is_available != wanted {
                return;
            }
        }
        let pass_topic = any_in(topics, &self.filters.topics);
        let pass_region = any_in(regions, &self.filters.regions);
        let pass_country = any_in(countries, &self.filters.countries);
        let pass_language = any_in(languages, &self.filters.languages);
        if pass_region && pass_country && pass_language {
            count_into(&mut self.counts.topics, topics);
        }
        if pass_topic && pass_country && pass_language {
            count_into(&mut self.counts.regions, regions);
        }
        if pass_topic && pass_region && pass_language {
            count_into(&mut self.counts.countries, countries);
        }
        if pass_topic && pass_region && pass_country {
            count_into(&mut self.counts.languages, languages);
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
            RankOrder::NewestFirst => self.updated_at.first(doc).unwrap_or(0) as f64,
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
