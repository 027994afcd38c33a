//! One request's per-segment work shared between the calling thread and one of rayon's
//! pool: on two cores, a request that arrives at an idle server is answered sooner.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `work` applied to every item, results in item order. This thread and one of rayon's pool
/// each take the next item, the costliest (`cost`) first, until none is left: a segment's
/// cost is only roughly known before it is scored, and whichever side finishes first takes
/// the next one. A single item (or none) runs here.
pub(super) fn split_in_two<T, R>(items: &[T], cost: impl Fn(&T) -> u64, work: impl Fn(&T) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    if items.len() < 2 {
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

    proptest::proptest! {
        #[test]
        fn shared_work_comes_back_whole_and_in_order(items in proptest::collection::vec(0u64..1000, 0..40)) {
            let doubled = split_in_two(&items, |item| *item, |item| item * 2);
            proptest::prop_assert_eq!(doubled, items.iter().map(|item| item * 2).collect::<Vec<_>>());
        }
    }
}
