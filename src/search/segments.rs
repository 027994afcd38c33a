//! Per-segment tables of what filters, facets and ranking read for every document — the
//! record id and small bitmasks — built once per segment from the fast fields and kept while
//! the segment lives. Reading them costs nanoseconds where fast-field columns (and above all
//! the string dictionary of ids) cost microseconds per document.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use smallvec::SmallVec;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use super::SearchError;

/// Languages kept inline per document; more go to a side table.
const INLINE_LANGUAGES: usize = 6;
/// Topic and region codes must fit the bitmasks.
pub const MAX_TOPIC_CODES: u64 = 32;
pub const MAX_REGION_CODES: u64 = 64;

/// Everything filters, facets and ranking need about one document.
#[derive(Clone, Copy, Debug, Default)]
pub struct DocRow {
    pub topics: u32,
    pub area_tags: u32,
    pub inferred_strong: u32,
    pub inferred_weak: u32,
    pub regions: u64,
    pub city_key: u64,
    pub updated_at: i64,
    pub country: u16,
    languages: [u16; INLINE_LANGUAGES],
    language_count: u8,
    pub status: u8,
    pub available: bool,
    pub text_language: u8,
}

/// The number of topic masks a row holds (`TopicMasks`).
pub const TOPIC_MASKS: usize = 4;

/// A document's topic bitmasks, in the order tagged, inferred strongly, inferred weakly,
/// areas tagged.
pub type TopicMasks = [u32; TOPIC_MASKS];

impl DocRow {
    pub fn topic_masks(&self) -> TopicMasks {
        [self.topics, self.inferred_strong, self.inferred_weak, self.area_tags]
    }
}

/// What filters and facets read of a document. Documents share few distinct profiles (a few
/// thousand among 100k generated experts), so a pass over the matches counts profiles, one
/// increment per document, and turns them into facet counts once per profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FacetProfile {
    pub topics: u32,
    pub regions: u64,
    pub country: u16,
    /// Inline: profiles are read one after another for every facet count, and a heap vector
    /// each made that pass a cache miss per profile.
    pub languages: SmallVec<[u16; INLINE_LANGUAGES]>,
    pub status: u8,
    pub available: bool,
}

pub struct SegmentTable {
    ids: StrColumn,
    rows: Vec<DocRow>,
    /// Per document, a hash of its record id: orders documents of equal rank the same way
    /// however often they are re-indexed (a document's address changes each time). Apart
    /// from the rows, which fit a cache line each.
    id_orders: Vec<u32>,
    /// The documents by their `id_orders` hash: an id's documents without a term lookup in
    /// the segment's dictionary (`docs_with_id`).
    docs_by_id_order: IdIndex,
    /// The distinct facet profiles of the segment, and each document's.
    profiles: Vec<FacetProfile>,
    profile_of: Vec<u32>,
    /// Documents per profile, deleted ones included.
    profile_sizes: Vec<u32>,
    /// Per topic mask and code (`TOPIC_MASKS` × `MAX_TOPIC_CODES`, mask-major), the
    /// documents whose mask holds the code, 64 per word (empty when none does): match
    /// retrieval visits the documents of the topics it asks for instead of every row.
    topic_docs: Vec<Vec<u64>>,
    /// Per language code, the documents whose profile speaks it, as bits like `topic_docs`:
    /// a match asking for languages drops the others a word of 64 at a time.
    language_docs: HashMap<u16, Vec<u64>>,
    /// The documents newest first (ties in `id_orders` order, then by address), sorted on
    /// first use: what a listing without text or topics walks.
    newest_first: OnceLock<Vec<DocId>>,
    /// `live_profile_counts` for the latest number of deleted documents seen.
    live_counts: Mutex<Option<(u32, Arc<Vec<u32>>)>>,
    /// For cases: the ids of the experts each case names.
    linked: LinkColumn,
    /// Languages of documents with more than `INLINE_LANGUAGES`.
    extra_languages: HashMap<DocId, Vec<u16>>,
    /// Per city key, the documents of that city in address order: a match leaves out the
    /// requester's city without reading the row of every document it considers.
    docs_by_city: HashMap<u64, Vec<DocId>>,
}

impl SegmentTable {
    pub fn id(&self, doc: DocId) -> &str {
        self.ids.get(doc as usize)
    }

    /// The documents whose record id is `id`, deleted ones included, in address order.
    pub fn docs_with_id<'t>(&'t self, id: &'t str) -> impl Iterator<Item = DocId> + 't {
        self.docs_by_id_order.docs_with_id(&self.ids, id)
    }

    /// The tie-break order of a document (`id_orders`).
    pub fn id_order(&self, doc: DocId) -> u32 {
        self.id_orders.get(doc as usize).copied().unwrap_or(0)
    }

    pub fn row(&self, doc: DocId) -> &DocRow {
        static EMPTY: DocRow = DocRow {
            topics: 0,
            area_tags: 0,
            inferred_strong: 0,
            inferred_weak: 0,
            regions: 0,
            city_key: 0,
            updated_at: 0,
            country: 0,
            languages: [0; INLINE_LANGUAGES],
            language_count: 0,
            status: 0,
            available: false,
            text_language: 0,
        };
        self.rows.get(doc as usize).unwrap_or(&EMPTY)
    }

    /// The position of a document's facet profile in `profiles()`.
    pub fn profile_of(&self, doc: DocId) -> usize {
        self.profile_of.get(doc as usize).map_or(0, |profile| *profile as usize)
    }

    /// The documents that speak `code`, as bits like `topic_docs` (empty when none does).
    pub fn language_docs(&self, code: u16) -> &[u64] {
        self.language_docs.get(&code).map_or(&[], Vec::as_slice)
    }

    /// The documents whose `mask`-th topic mask (`TopicMasks` order) holds `code`, as bits
    /// of 64 documents per word, document 0 in the lowest bit of the first; empty when no
    /// document of the segment holds it.
    pub fn topic_docs(&self, mask: usize, code: u32) -> &[u64] {
        self.topic_docs
            .get(mask * MAX_TOPIC_CODES as usize + code as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// The segment's distinct facet profiles (at least one, so that `profile_of` always points
    /// at one).
    pub fn profiles(&self) -> &[FacetProfile] {
        &self.profiles
    }

    /// Live documents per profile in `segment` (this table's segment, whose deletions grow
    /// as records are re-indexed or removed). Kept for the latest number of deletions: a
    /// segment's deleted documents only ever grow, so their number names the set.
    pub fn live_profile_counts(&self, segment: &SegmentReader) -> Arc<Vec<u32>> {
        let deleted = segment.num_deleted_docs();
        let mut latest = self
            .live_counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((counted, counts)) = latest.as_ref()
            && *counted == deleted
        {
            return counts.clone();
        }
        let mut counts = self.profile_sizes.clone();
        if deleted > 0 {
            for doc in 0..segment.max_doc() {
                if segment.is_deleted(doc)
                    && let Some(count) = counts.get_mut(self.profile_of(doc))
                {
                    *count = count.saturating_sub(1);
                }
            }
        }
        let counts = Arc::new(counts);
        *latest = Some((deleted, counts.clone()));
        counts
    }

    /// Every document of the segment, deleted ones included, newest first.
    pub fn newest_first(&self) -> &[DocId] {
        self.newest_first.get_or_init(|| {
            let mut docs: Vec<DocId> = (0..self.rows.len() as DocId).collect();
            docs.sort_unstable_by_key(|doc| (std::cmp::Reverse(self.row(*doc).updated_at), self.id_order(*doc), *doc));
            docs
        })
    }

    /// The expert ids a case names (none for experts).
    pub fn linked(&self, doc: DocId) -> impl Iterator<Item = &str> {
        self.linked.values(doc as usize)
    }

    /// The documents whose city has `city_key`, in address order.
    pub fn docs_in_city(&self, city_key: u64) -> &[DocId] {
        self.docs_by_city.get(&city_key).map_or(&[], Vec::as_slice)
    }

    /// The two-letter codes of the languages of a document.
    pub fn languages(&self, doc: DocId) -> &[u16] {
        let row = self.row(doc);
        let count = usize::from(row.language_count);
        if count <= INLINE_LANGUAGES {
            return &row.languages[..count];
        }
        self.extra_languages.get(&doc).map_or(&row.languages[..], Vec::as_slice)
    }

    fn build(segment: &SegmentReader, has_available: bool) -> Result<SegmentTable, SearchError> {
        let fast_fields = segment.fast_fields();
        let max_doc = segment.max_doc();
        let ids = LinkColumn::read(segment, "id")?.first_values(max_doc);
        let linked = if has_available {
            LinkColumn::default()
        } else {
            LinkColumn::read(segment, "experts")?
        };
        let topics = fast_fields.u64("topics")?;
        let area_tags = fast_fields.u64("area_tags")?;
        let inferred_strong = fast_fields.u64("inferred_strong")?;
        let inferred_weak = fast_fields.u64("inferred_weak")?;
        let regions = fast_fields.u64("regions")?;
        let country = fast_fields.u64("country")?;
        let languages = fast_fields.u64("languages")?;
        let city_key = fast_fields.u64("city_key")?;
        let status = fast_fields.u64("status")?;
        let updated_at = fast_fields.i64("updated_at")?;
        let text_language = fast_fields.u64("text_language")?;
        let available = if has_available {
            Some(fast_fields.u64("available")?)
        } else {
            None
        };
        let mask32 = |column: &tantivy::columnar::Column<u64>, doc: DocId| {
            column
                .values_for_doc(doc)
                .filter(|code| *code < MAX_TOPIC_CODES)
                .fold(0u32, |mask, code| mask | (1 << code))
        };
        let mut rows = Vec::with_capacity(max_doc as usize);
        let mut extra_languages = HashMap::new();
        for doc in 0..max_doc {
            let mut row = DocRow {
                topics: mask32(&topics, doc),
                area_tags: mask32(&area_tags, doc),
                inferred_strong: mask32(&inferred_strong, doc),
                inferred_weak: mask32(&inferred_weak, doc),
                regions: regions
                    .values_for_doc(doc)
                    .filter(|code| *code < MAX_REGION_CODES)
                    .fold(0u64, |mask, code| mask | (1 << code)),
                city_key: city_key.first(doc).unwrap_or(0),
                updated_at: updated_at.first(doc).unwrap_or(0),
                country: u16::try_from(country.first(doc).unwrap_or(0)).unwrap_or(0),
                status: u8::try_from(status.first(doc).unwrap_or(0)).unwrap_or(0),
                available: available
                    .as_ref()
                    .is_none_or(|column| column.first(doc).unwrap_or(0) == 1),
                text_language: u8::try_from(text_language.first(doc).unwrap_or(6)).unwrap_or(6),
                ..DocRow::default()
            };
            let codes: Vec<u16> = languages
                .values_for_doc(doc)
                .filter_map(|code| u16::try_from(code).ok())
                .collect();
            row.language_count = u8::try_from(codes.len()).unwrap_or(u8::MAX);
            for (slot, code) in row.languages.iter_mut().zip(&codes) {
                *slot = *code;
            }
            if codes.len() > INLINE_LANGUAGES {
                extra_languages.insert(doc, codes);
            }
            rows.push(row);
        }
        let id_orders = (0..max_doc).map(|doc| id_order(ids.get(doc as usize))).collect();
        let mut table = SegmentTable {
            ids,
            rows,
            id_orders,
            docs_by_id_order: IdIndex::default(),
            profiles: Vec::new(),
            profile_of: Vec::new(),
            profile_sizes: Vec::new(),
            topic_docs: Vec::new(),
            language_docs: HashMap::new(),
            newest_first: OnceLock::new(),
            live_counts: Mutex::new(None),
            linked,
            extra_languages,
            docs_by_city: HashMap::new(),
        };
        table.assign_profiles();
        table.assign_topic_docs();
        table.assign_language_docs();
        table.assign_docs_by_city();
        table.assign_docs_by_id_order();
        Ok(table)
    }
}

impl SegmentTable {
    fn assign_topic_docs(&mut self) {
        let words = self.rows.len().div_ceil(64);
        let mut topic_docs = vec![Vec::new(); TOPIC_MASKS * MAX_TOPIC_CODES as usize];
        for (doc, row) in self.rows.iter().enumerate() {
            for (mask_index, mask) in row.topic_masks().into_iter().enumerate() {
                let mut held = mask;
                while held != 0 {
                    let code = held.trailing_zeros() as usize;
                    held &= held - 1;
                    let docs = &mut topic_docs[mask_index * MAX_TOPIC_CODES as usize + code];
                    if docs.is_empty() {
                        *docs = vec![0u64; words];
                    }
                    docs[doc / 64] |= 1u64 << (doc % 64);
                }
            }
        }
        self.topic_docs = topic_docs;
    }
}

impl SegmentTable {
    fn assign_language_docs(&mut self) {
        let words = self.rows.len().div_ceil(64);
        let mut language_docs: HashMap<u16, Vec<u64>> = HashMap::new();
        for doc in 0..self.rows.len() {
            let id = DocId::try_from(doc).unwrap_or(DocId::MAX);
            for code in self.languages(id) {
                language_docs.entry(*code).or_insert_with(|| vec![0u64; words])[doc / 64] |= 1u64 << (doc % 64);
            }
        }
        self.language_docs = language_docs;
    }

    fn assign_docs_by_city(&mut self) {
        let mut docs_by_city: HashMap<u64, Vec<DocId>> = HashMap::new();
        for (doc, row) in (0..).zip(&self.rows) {
            docs_by_city.entry(row.city_key).or_default().push(doc);
        }
        self.docs_by_city = docs_by_city;
    }

    fn assign_docs_by_id_order(&mut self) {
        self.docs_by_id_order = IdIndex::new(&self.id_orders);
    }
}

/// A segment's documents by their id's hash (`id_order`): every (hash, document) sorted, and
/// per bucket of hashes (by their top bits, about four documents to a bucket) where its
/// pairs begin. An id's documents are then a few pairs of one bucket: a binary search over
/// all of them missed the cache at nearly every step, as slow as the dictionary lookup.
#[derive(Default)]
struct IdIndex {
    pairs: Vec<(u32, DocId)>,
    bucket_starts: Vec<u32>,
    /// A hash's bucket is the hash shifted right by this much.
    shift: u32,
}

impl IdIndex {
    fn new(id_orders: &[u32]) -> IdIndex {
        let mut pairs: Vec<(u32, DocId)> = id_orders.iter().copied().zip(0..).collect();
        pairs.sort_unstable();
        let buckets = (pairs.len() / 4).max(1).next_power_of_two();
        let shift = 32 - buckets.trailing_zeros();
        let mut bucket_starts = Vec::with_capacity(buckets + 1);
        let mut position = 0;
        for bucket in 0..=buckets as u64 {
            while pairs
                .get(position)
                .is_some_and(|(hash, _)| (u64::from(*hash) >> shift) < bucket)
            {
                position += 1;
            }
            bucket_starts.push(u32::try_from(position).unwrap_or(u32::MAX));
        }
        IdIndex {
            pairs,
            bucket_starts,
            shift,
        }
    }

    /// The documents whose id in `ids` is `id`, in address order: those of its hash, less
    /// those of another id with the same hash.
    fn docs_with_id<'t>(&'t self, ids: &'t StrColumn, id: &'t str) -> impl Iterator<Item = DocId> + 't {
        let hash = id_order(id);
        let bucket = usize::try_from(u64::from(hash) >> self.shift).unwrap_or(usize::MAX);
        let start = |bucket: usize| self.bucket_starts.get(bucket).map_or(0, |start| *start as usize);
        self.pairs
            .get(start(bucket)..start(bucket.saturating_add(1)))
            .unwrap_or(&[])
            .iter()
            .filter(move |(order, _)| *order == hash)
            .map(|(_, doc)| *doc)
            .filter(move |doc| ids.get(*doc as usize) == id)
    }
}

/// FNV-1a of a record id.
fn id_order(id: &str) -> u32 {
    id.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

impl SegmentTable {
    fn assign_profiles(&mut self) {
        let mut positions: HashMap<FacetProfile, u32> = HashMap::new();
        let mut profile_of = Vec::with_capacity(self.rows.len());
        for doc in 0..self.rows.len() as DocId {
            let row = self.row(doc);
            let profile = FacetProfile {
                topics: row.topics,
                regions: row.regions,
                country: row.country,
                languages: SmallVec::from_slice(self.languages(doc)),
                status: row.status,
                available: row.available,
            };
            let next = u32::try_from(positions.len()).unwrap_or(u32::MAX);
            profile_of.push(*positions.entry(profile).or_insert(next));
        }
        let mut profiles = vec![FacetProfile::default(); positions.len().max(1)];
        for (profile, position) in positions {
            profiles[position as usize] = profile;
        }
        let mut profile_sizes = vec![0u32; profiles.len()];
        for position in &profile_of {
            profile_sizes[*position as usize] += 1;
        }
        self.profiles = profiles;
        self.profile_of = profile_of;
        self.profile_sizes = profile_sizes;
    }
}

/// Many short strings in one buffer, addressed by position: a few bytes per value instead
/// of a heap allocation each (a million ids cost their length plus 4 bytes).
#[derive(Default)]
struct StrColumn {
    bytes: String,
    ends: Vec<u32>,
}

impl StrColumn {
    fn push(&mut self, value: &str) {
        self.bytes.push_str(value);
        self.ends.push(u32::try_from(self.bytes.len()).unwrap_or(u32::MAX));
    }

    fn get(&self, position: usize) -> &str {
        let Some(&end) = self.ends.get(position) else {
            return "";
        };
        let start = if position == 0 { 0 } else { self.ends[position - 1] };
        self.bytes.get(start as usize..end as usize).unwrap_or_default()
    }

    fn shrink(mut self) -> StrColumn {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
        self
    }
}

/// Every document's values of a string fast field: the field's dictionary once, and per
/// document the ordinals of its values.
#[derive(Default)]
struct LinkColumn {
    terms: StrColumn,
    ordinals: Vec<u32>,
    /// Where each document's ordinals end in `ordinals`.
    doc_ends: Vec<u32>,
}

impl LinkColumn {
    fn read(segment: &SegmentReader, field: &str) -> Result<LinkColumn, SearchError> {
        let Some(column) = segment.fast_fields().str(field)? else {
            return Ok(LinkColumn::default());
        };
        let mut terms = StrColumn::default();
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            terms.push(std::str::from_utf8(stream.key()).unwrap_or_default());
        }
        let max_doc = segment.max_doc();
        let mut ordinals = Vec::with_capacity(max_doc as usize);
        let mut doc_ends = Vec::with_capacity(max_doc as usize);
        for doc in 0..max_doc {
            ordinals.extend(column.term_ords(doc).filter_map(|ord| u32::try_from(ord).ok()));
            doc_ends.push(u32::try_from(ordinals.len()).unwrap_or(u32::MAX));
        }
        ordinals.shrink_to_fit();
        Ok(LinkColumn {
            terms: terms.shrink(),
            ordinals,
            doc_ends,
        })
    }

    fn values(&self, doc: usize) -> impl Iterator<Item = &str> {
        let end = self.doc_ends.get(doc).copied().unwrap_or(0) as usize;
        let start = match doc {
            0 => 0,
            _ => self.doc_ends.get(doc - 1).copied().unwrap_or(0) as usize,
        };
        self.ordinals
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|ord| self.terms.get(*ord as usize))
    }

    /// One value per document (its first), laid out by document.
    fn first_values(&self, max_doc: DocId) -> StrColumn {
        let mut column = StrColumn::default();
        for doc in 0..max_doc as usize {
            column.push(self.values(doc).next().unwrap_or_default());
        }
        column.shrink()
    }
}

/// The tables of the live segments of one index.
#[derive(Default)]
pub struct SegmentTables {
    cached: Mutex<CachedTables<SegmentTable>>,
    has_available: bool,
}

struct CachedTables<T> {
    by_segment: HashMap<SegmentId, Arc<T>>,
    /// The segments of the newest searcher seen (by generation): their tables stay.
    newest: Option<(u64, HashSet<SegmentId>)>,
}

impl<T> Default for CachedTables<T> {
    fn default() -> Self {
        CachedTables {
            by_segment: HashMap::new(),
            newest: None,
        }
    }
}

impl<T> CachedTables<T> {
    /// Notes the segments of a searcher when it is newer than any seen so far (a searcher of
    /// the same generation has the same segments: nothing to collect on most calls).
    fn see(&mut self, generation: u64, segments: impl Iterator<Item = SegmentId>) {
        if self.newest.as_ref().is_some_and(|(newest, _)| *newest >= generation) {
            return;
        }
        self.newest = Some((generation, segments.collect()));
    }

    /// Drops the tables of segments the newest searcher no longer has (merged away, or
    /// replaced after a reindex), unless a request on an older searcher still holds them.
    /// At a million records one merged-away table is tens of megabytes.
    fn drop_unused(&mut self) {
        let Some((_, live)) = &self.newest else {
            return;
        };
        self.by_segment
            .retain(|id, table| live.contains(id) || Arc::strong_count(table) > 1);
    }
}

impl SegmentTables {
    pub fn new(has_available: bool) -> SegmentTables {
        SegmentTables {
            cached: Mutex::new(CachedTables::default()),
            has_available,
        }
    }

    /// The table of every segment of `searcher`, by segment ordinal; missing ones are built.
    pub fn for_searcher(&self, searcher: &Searcher) -> Result<Vec<Arc<SegmentTable>>, SearchError> {
        let mut cached = self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.see(
            searcher.generation().generation_id(),
            searcher.segment_readers().iter().map(SegmentReader::segment_id),
        );
        let mut ordered = Vec::with_capacity(searcher.segment_readers().len());
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            let table = match cached.by_segment.get(&id) {
                Some(table) => table.clone(),
                None => {
                    let table = Arc::new(SegmentTable::build(segment, self.has_available)?);
                    cached.by_segment.insert(id, table.clone());
                    table
                }
            };
            ordered.push(table);
        }
        cached.drop_unused();
        Ok(ordered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_of_segments_the_newest_searcher_lost_are_dropped_once_no_request_holds_them() {
        let [first, second, merged] = [(); 3].map(|_| SegmentId::generate_random());
        let mut cached: CachedTables<&'static str> = CachedTables::default();
        let kept = |cached: &CachedTables<&'static str>| -> Vec<&'static str> {
            let mut names: Vec<&'static str> = cached.by_segment.values().map(|table| **table).collect();
            names.sort_unstable();
            names
        };
        cached.see(1, [first, second].into_iter());
        cached.by_segment.insert(first, Arc::new("first"));
        cached.by_segment.insert(second, Arc::new("second"));
        cached.drop_unused();
        assert_eq!(kept(&cached), ["first", "second"]);

        // The two were merged; a request on the old searcher still holds the first table.
        let held = cached.by_segment.get(&first).cloned();
        cached.see(2, [merged].into_iter());
        cached.by_segment.insert(merged, Arc::new("merged"));
        cached.drop_unused();
        assert_eq!(kept(&cached), ["first", "merged"]);

        // A late request on the old searcher does not make its segments the newest.
        cached.see(1, [first, second].into_iter());
        drop(held);
        cached.drop_unused();
        assert_eq!(kept(&cached), ["merged"]);
    }

    #[test]
    fn the_documents_of_an_id_are_found_by_its_hash_and_told_apart_from_another_id_of_the_same_hash() {
        // "expert-97999" and "expert-1051862" have the same FNV-1a hash.
        assert_eq!(id_order("expert-97999"), id_order("expert-1051862"));
        let mut ids = StrColumn::default();
        for id in [
            "expert-1051862",
            "ana-silva",
            "expert-97999",
            "",
            "ana-silva",
            "expert-97999",
        ] {
            ids.push(id);
        }
        let ids = ids.shrink();
        let id_orders: Vec<u32> = (0..6).map(|doc| id_order(ids.get(doc))).collect();
        let index = IdIndex::new(&id_orders);
        let check = |id: &str, expected: &[DocId]| {
            let found: Vec<DocId> = index.docs_with_id(&ids, id).collect();
            assert_eq!(found, expected, "{id}");
        };
        check("expert-97999", &[2, 5]);
        check("expert-1051862", &[0]);
        check("ana-silva", &[1, 4]);
        check("kofi-mensah", &[]);
    }

    #[test]
    fn every_id_of_a_larger_segment_is_found_in_its_bucket() {
        let mut ids = StrColumn::default();
        for doc in 0..5000 {
            ids.push(&format!("expert-{}", doc % 4000));
        }
        let ids = ids.shrink();
        let id_orders: Vec<u32> = (0..5000).map(|doc| id_order(ids.get(doc))).collect();
        let index = IdIndex::new(&id_orders);
        for doc in 0..4000u32 {
            let id = format!("expert-{doc}");
            let found: Vec<DocId> = index.docs_with_id(&ids, &id).collect();
            let expected: Vec<DocId> = if doc < 1000 { vec![doc, doc + 4000] } else { vec![doc] };
            assert_eq!(found, expected, "{id}");
        }
        assert_eq!(index.docs_with_id(&ids, "expert-4000").count(), 0);
    }

    #[test]
    fn a_string_column_returns_each_value_by_position_and_nothing_past_the_end() {
        let mut column = StrColumn::default();
        for value in ["ana-silva", "", "kofi-mensah"] {
            column.push(value);
        }
        let column = column.shrink();
        assert_eq!(column.get(0), "ana-silva");
        assert_eq!(column.get(1), "");
        assert_eq!(column.get(2), "kofi-mensah");
        assert_eq!(column.get(3), "");
    }
}
