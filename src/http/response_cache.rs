//! The server-side cache of public read answers (searches, match results, records), valid for
//! one state of the store and the index: the portal asks the same questions on every page
//! view, and an answer cannot change until a write does.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest answer worth keeping; bigger ones (a 100-hit page of long profiles) are rare.
pub const MAX_CACHED_BODY_BYTES: usize = 512 * 1024;

/// Everything a public answer depends on: the data it was computed from (store and index
/// sequence numbers) and the request itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub store_seq: u64,
    pub index_seq: u64,
    /// The topic model's generation (`Freshness::reading`).
    pub reading: u64,
    pub method: Method,
    /// Path and query, as sent.
    pub target: String,
    /// The request body (match requests) and its declared type; empty for GET.
    pub body: Bytes,
    pub content_type: Option<HeaderValue>,
}

#[derive(Clone, Debug)]
pub struct CachedAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
struct ByteSize;

impl Weighter<CacheKey, CachedAnswer> for ByteSize {
    fn weight(&self, key: &CacheKey, answer: &CachedAnswer) -> u64 {
        // Key, body and a fixed allowance for the maps and headers.
        (key.target.len() + key.body.len() + answer.body.len() + 256) as u64
    }
}

/// A byte-bounded cache (S3-FIFO eviction) that forgets everything when the data changes.
pub struct ResponseCache {
    answers: Option<Cache<CacheKey, CachedAnswer, ByteSize>>,
    /// The (store, index) sequence pair the cached answers were computed from, packed.
    current_state: AtomicU64,
}

impl ResponseCache {
    /// A cache holding at most `capacity_bytes` of answers; 0 turns caching off.
    pub fn new(capacity_bytes: u64) -> ResponseCache {
        let answers = (capacity_bytes > 0).then(|| {
            // Estimated item count only sizes the hash tables: assume answers of ~16 KB.
            let estimated_items = (capacity_bytes / 16_384).clamp(16, 1 << 20) as usize;
            Cache::with_weighter(estimated_items, capacity_bytes, ByteSize)
        });
        ResponseCache {
            answers,
            current_state: AtomicU64::new(0),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.answers.is_some()
    }

    /// The cached answer for `key`, if any. Seeing a newer data state first drops every
    /// answer computed from an older one, so that nothing stale (or erased) lingers.
    pub fn get(&self, key: &CacheKey) -> Option<CachedAnswer> {
        let answers = self.answers.as_ref()?;
        self.observe_state(key);
        answers.get(key)
    }

    /// Keeps `answer` unless the data changed while it was computed (it could hold a record
    /// that has since been edited or erased).
    pub fn insert(&self, key: CacheKey, answer: CachedAnswer) {
        if let Some(answers) = &self.answers
            && answer.body.len() <= MAX_CACHED_BODY_BYTES
            && self.current_state.load(Ordering::Acquire) == packed_state(&key)
        {
            answers.insert(key, answer);
        }
    }

    /// Drops every answer (after a write, before the next request notices the new state).
    pub fn clear(&self) {
        if let Some(answers) = &self.answers {
            answers.clear();
        }
    }

    /// How many answers are kept, and their weight in bytes (for the metrics).
    pub fn usage(&self) -> (usize, u64) {
        self.answers
            .as_ref()
            .map_or((0, 0), |answers| (answers.len(), answers.weight()))
    }

    fn observe_state(&self, key: &CacheKey) {
        let state = packed_state(key);
        if self.current_state.swap(state, Ordering::AcqRel) != state {
            self.clear();
        }
    }
}

fn packed_state(key: &CacheKey) -> u64 {
    (key.store_seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ key.index_seq).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ key.reading
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(store_seq: u64, target: &str) -> CacheKey {
        CacheKey {
            store_seq,
            index_seq: store_seq,
            reading: 0,
            method: Method::GET,
            target: target.to_string(),
            body: Bytes::new(),
            content_type: None,
        }
    }

    fn answer(body: &str) -> CachedAnswer {
        CachedAnswer {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn an_answer_is_found_for_the_same_request_and_data_state_only() {
        let cache = ResponseCache::new(1 << 20);
        assert!(cache.get(&key(1, "/v1/experts?q=flood")).is_none());
        cache.insert(key(1, "/v1/experts?q=flood"), answer("flood experts"));
        let hit = cache.get(&key(1, "/v1/experts?q=flood")).map(|answer| answer.body);
        assert_eq!(hit, Some(Bytes::from("flood experts")));
        assert!(cache.get(&key(1, "/v1/experts?q=drainage")).is_none());
        // A write moves the state on: the old answer is gone, not just unreachable.
        assert!(cache.get(&key(2, "/v1/experts?q=flood")).is_none());
        assert_eq!(cache.usage().0, 0);
        // An answer computed from the old state, arriving late, is not kept.
        cache.insert(key(1, "/v1/experts?q=flood"), answer("stale"));
        assert_eq!(cache.usage().0, 0);
    }

    #[test]
    fn a_zero_capacity_cache_keeps_nothing() {
        let cache = ResponseCache::new(0);
        cache.insert(key(1, "/v1/topics"), answer("topics"));
        assert!(!cache.is_enabled());
        assert!(cache.get(&key(1, "/v1/topics")).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let cache = ResponseCache::new(64 * 1024);
        let body = "x".repeat(10_000);
        assert!(cache.get(&key(1, "/v1/experts")).is_none());
        for page in 0..50 {
            cache.insert(key(1, &format!("/v1/experts?page={page}")), answer(&body));
        }
        let (answers, bytes) = cache.usage();
        assert!((1..=7).contains(&answers), "{answers} answers of 10 KB kept in 64 KB");
        assert!(bytes <= 64 * 1024, "{bytes}");
    }
}
