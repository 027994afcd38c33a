//! One pass over the documents that match a query: the total and the best documents among
//! those that pass every filter, and facet counts where each dimension ignores its own
//! filter (the contract's "counts over the OTHER filters"). Reads the per-segment tables:
//! per document it only counts the document's facet profile (and keeps the best documents
//! that pass); the counts come from the profiles once, at the end of the segment.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::segments::{FacetProfile, MAX_REGION_CODES, MAX_TOPIC_CODES, SegmentTable};

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
    /// Breaks ties the same way whatever the document's address (`DocRow::id_order`).
    tie: u32,
    address: DocAddress,
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    /// The heap keeps the worst on top: lower key is worse; on ties the higher id order, then
    /// the later address, is worse.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .total_cmp(&self.key)
            .then(self.tie.cmp(&other.tie))
            .then(self.address.cmp(&other.address))
    }
}

pub struct FacetedTopSegmentCollector {
    segment_ord: SegmentOrdinal,
    filters: CompiledFilters,
    keep: usize,
    order: RankOrder,
    table: Arc<SegmentTable>,
    heap: BinaryHeap<Ranked>,
    /// Matching documents per facet profile of the segment.
    per_profile: Vec<u32>,
    /// Per profile: whether it passes every filter, once known.
    passes: Vec<Option<bool>>,
}

fn count_bits(counts: &mut [u64], mut mask: u64, times: u64) {
    while mask != 0 {
        let bit = mask.trailing_zeros() as usize;
        if let Some(slot) = counts.get_mut(bit) {
            *slot += times;
        }
        mask &= mask - 1;
    }
}

/// Which filters a profile passes (status and availability are not facets: they gate all).
struct Passes {
    gate: bool,
    topic: bool,
    region: bool,
    country: bool,
    language: bool,
}

impl Passes {
    fn of(filters: &CompiledFilters, profile: &FacetProfile) -> Passes {
        Passes {
            gate: filters.available.is_none_or(|wanted| profile.available == wanted)
                && filters.status.is_none_or(|wanted| profile.status == wanted),
            topic: filters.topics == 0 || profile.topics & filters.topics != 0,
            region: filters.regions == 0 || profile.regions & filters.regions != 0,
            country: filters.countries.is_empty() || filters.countries.contains(&profile.country),
            language: filters.languages.is_empty()
                || profile.languages.iter().any(|code| filters.languages.contains(code)),
        }
    }

    fn all(&self) -> bool {
        self.gate && self.topic && self.region && self.country && self.language
    }
}

/// Adds `times` documents of one profile to the counts: each dimension counts over the other
/// dimensions' filters.
fn tally(counts: &mut FacetCounts, profile: &FacetProfile, passes: &Passes, times: u64) {
    if !passes.gate {
        return;
    }
    if passes.region && passes.country && passes.language {
        count_bits(&mut counts.topics, u64::from(profile.topics), times);
    }
    if passes.topic && passes.country && passes.language {
        count_bits(&mut counts.regions, profile.regions, times);
    }
    if passes.topic
        && passes.region
        && passes.language
        && let Some(slot) = counts.countries.get_mut(usize::from(profile.country))
    {
        *slot += times;
    }
    if passes.topic && passes.region && passes.country {
        for code in &profile.languages {
            if let Some(slot) = counts.languages.get_mut(usize::from(*code)) {
                *slot += times;
            }
        }
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
        let profiles = table.profiles().len();
        Ok(FacetedTopSegmentCollector {
            segment_ord,
            filters: CompiledFilters::compile(&self.filters),
            keep: self.keep,
            order: self.order,
            table,
            heap: BinaryHeap::with_capacity(self.keep + 1),
            per_profile: vec![0; profiles],
            passes: vec![None; profiles],
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
        let tie = |address: &DocAddress| {
            self.tables
                .get(address.segment_ord as usize)
                .map_or(0, |table| table.id_order(address.doc_id))
        };
        merged.top.sort_by(|left, right| {
            right
                .0
                .total_cmp(&left.0)
                .then(tie(&left.1).cmp(&tie(&right.1)))
                .then(left.1.cmp(&right.1))
        });
        merged.top.truncate(self.keep);
        Ok(merged)
    }
}

impl SegmentCollector for FacetedTopSegmentCollector {
    type Fruit = FacetedTop;

    fn collect(&mut self, doc: DocId, score: Score) {
        let profile = self.table.profile_of(doc);
        let Some(seen) = self.per_profile.get_mut(profile) else {
            return;
        };
        *seen += 1;
        let passes = match self.passes[profile] {
            Some(passes) => passes,
            None => {
                let passes = Passes::of(&self.filters, &self.table.profiles()[profile]).all();
                self.passes[profile] = Some(passes);
                passes
            }
        };
        if !passes || self.keep == 0 {
            return;
        }
        let key = match self.order {
            RankOrder::Score => f64::from(score),
            RankOrder::NewestFirst => self.table.row(doc).updated_at as f64,
        };
        // The tie-break is read only for a document that may enter the heap.
        let enters = self.heap.len() < self.keep || self.heap.peek().is_some_and(|worst| key >= worst.key);
        if !enters {
            return;
        }
        let candidate = Ranked {
            key,
            tie: self.table.id_order(doc),
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
        // Ascending by `Ranked`'s order is best first.
        let top: Vec<(f64, DocAddress)> = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|ranked| (ranked.key, ranked.address))
            .collect();
        let (total, counts) = count_profiles(&self.table, &self.filters, &self.per_profile);
        FacetedTop { total, top, counts }
    }
}

/// The total and the facet counts of a segment's matching documents, given how many of them
/// each facet profile has.
fn count_profiles(table: &SegmentTable, filters: &CompiledFilters, per_profile: &[u32]) -> (u64, FacetCounts) {
    let mut counts = FacetCounts::empty();
    let mut total = 0;
    for (profile, seen) in table.profiles().iter().zip(per_profile) {
        if *seen == 0 {
            continue;
        }
        let passes = Passes::of(filters, profile);
        if passes.all() {
            total += u64::from(*seen);
        }
        tally(&mut counts, profile, &passes, u64::from(*seen));
    }
    (total, counts)
}

/// What `searcher.search(&AllQuery, collector)` answers for `RankOrder::NewestFirst`, without
/// visiting every document: when nothing but filters selects, each segment's live documents
/// per facet profile give the total and the counts, and walking the segment's documents newest
/// first gives its best ones as soon as `keep` of them pass the filters.
pub fn newest_first(searcher: &Searcher, collector: &FacetedTopCollector) -> tantivy::Result<FacetedTop> {
    let filters = CompiledFilters::compile(&collector.filters);
    let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let table = collector
            .tables
            .get(ord)
            .ok_or_else(|| tantivy::TantivyError::InternalError(format!("no table for segment {ord}")))?;
        let passing: Vec<bool> = table
            .profiles()
            .iter()
            .map(|profile| Passes::of(&filters, profile).all())
            .collect();
        let segment_ord = SegmentOrdinal::try_from(ord).unwrap_or(SegmentOrdinal::MAX);
        let top = table
            .newest_first()
            .iter()
            .filter(|doc| !segment.is_deleted(**doc) && passing.get(table.profile_of(**doc)).copied().unwrap_or(false))
            .take(collector.keep)
            .map(|doc| (table.row(*doc).updated_at as f64, DocAddress::new(segment_ord, *doc)))
            .collect();
        let (total, counts) = count_profiles(table, &filters, &table.live_profile_counts(segment));
        fruits.push(FacetedTop { total, top, counts });
    }
    collector.merge_fruits(fruits)
}
