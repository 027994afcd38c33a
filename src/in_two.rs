//! One request's work shared between the calling thread and a second core: on two cores, a
//! request that arrives at an idle server is answered sooner. Only a request answered alone
//! shares its work: with others in flight the cores are busy anyway, and the hand-offs would
//! cost throughput.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Requests being answered now, in the whole process (`request_in_flight`).
static REQUESTS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Counts a request as being answered until it drops.
pub struct InFlight(());

impl Drop for InFlight {
    fn drop(&mut self) {
        REQUESTS_IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a request (a search or a match) as being answered until the guard drops.
pub fn request_in_flight() -> InFlight {
    REQUESTS_IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    InFlight(())
}

/// Whether at most one request is being answered: then the other core is free.
pub fn answered_alone() -> bool {
    REQUESTS_IN_FLIGHT.load(Ordering::Relaxed) <= 1
}

/// `work` applied to every item, results in item order. This thread and one of rayon's pool
/// each take the next item, the costliest (`cost`) first, until none is left: a segment's
/// cost is only roughly known before it is scored, and whichever side finishes first takes
/// the next one. A single item (or none) runs here, and every item while other requests
/// are being answered.
pub fn split_in_two<T, R>(items: &[T], cost: impl Fn(&T) -> u64, work: impl Fn(&T) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    if items.len() < 2 || !answered_alone() {
        return items.iter().map(&work).collect();
    }
    let order = costliest_first(items, cost);
    let next = AtomicUsize::new(0);
    let take_until_done = |results: &mut Vec<(usize, R)>| {
        while let Some(index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            results.push((*index, work(&items[*index])));
        }
    };
    let mut pooled: Vec<(usize, R)> = Vec::new();
    let mut here: Vec<(usize, R)> = Vec::new();
    rayon::in_place_scope(|scope| {
        let take_until_done = &take_until_done;
        let pooled = &mut pooled;
        scope.spawn(move |_| take_until_done(pooled));
        take_until_done(&mut here);
    });
    let mut results: Vec<(usize, R)> = here.into_iter().chain(pooled).collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// `here()` and `there()`, both results: `there` runs on one of rayon's pool while this
/// thread runs `here`, when the request is answered alone; one after the other otherwise.
/// For two independent steps of one request that would each leave the other core idle.
pub fn side_by_side<A, B>(here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B)
where
    B: Send,
{
    if !answered_alone() {
        let here_result = here();
        return (here_result, there());
    }
    let mut pooled = None;
    let here_result = rayon::in_place_scope(|scope| {
        let pooled = &mut pooled;
        scope.spawn(move |_| *pooled = Some(there()));
        here()
    });
    // The scope returns once its spawned work has run (or re-raises the panic it met).
    let there_result = pooled.expect("a scope's spawned work has finished when the scope returns");
    (here_result, there_result)
}

/// The items' indexes, the costliest first (in item order among equals).
fn costliest_first<T>(items: &[T], cost: impl Fn(&T) -> u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|index| std::cmp::Reverse(cost(&items[*index])));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(costs: &[u64], expected: &[usize]) {
        assert_eq!(costliest_first(costs, |cost| *cost), expected, "costs {costs:?}");
    }

    #[test]
    fn the_costliest_items_are_taken_first() {
        check(&[], &[]);
        check(&[5], &[0]);
        // Three expert segments of 73k, 27k and 10k documents, and two case segments.
        check(&[73, 27, 10, 26, 4], &[0, 1, 3, 2, 4]);
        check(&[10, 10, 10], &[0, 1, 2]);
    }

    #[test]
    fn both_sides_give_their_results() {
        let numbers: Vec<u64> = (1..=100).collect();
        let (sum, count) = side_by_side(|| numbers.iter().sum::<u64>(), || numbers.len());
        assert_eq!((sum, count), (5050, 100));
    }

    proptest::proptest! {
        #[test]
        fn shared_work_comes_back_whole_and_in_order(items in proptest::collection::vec(0u64..1000, 0..40)) {
            let doubled = split_in_two(&items, |item| *item, |item| item * 2);
            proptest::prop_assert_eq!(doubled, items.iter().map(|item| item * 2).collect::<Vec<_>>());
        }
    }
}
