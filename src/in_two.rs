//! One request's work shared between the calling thread and a second core: on two cores, a
//! request that arrives at an idle server is answered sooner. Only a request answered alone
//! shares its work: with others in flight the cores are busy anyway, and the hand-offs would
//! cost throughput.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::{ThreadPool, Yield};

/// Requests being answered now, in the whole process (`request_in_flight`).
static REQUESTS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Whether the second hand has been asked to poll (`stay_ready`) and has not stopped: at
/// most one polling job is queued or running at a time.
static SECOND_HAND_POLLING: AtomicBool = AtomicBool::new(false);

/// Counts a request as being answered until it drops.
pub struct InFlight(());

impl Drop for InFlight {
    fn drop(&mut self) {
        REQUESTS_IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a request (a search or a match) as being answered until the guard drops. The
/// first request at an idle server also wakes the second hand (`stay_ready`), so that the
/// wake-up overlaps the request's first steps.
pub fn request_in_flight() -> InFlight {
    let before = REQUESTS_IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    if before == 0
        && let Some(pool) = second_hand()
        && SECOND_HAND_POLLING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        pool.spawn(stay_ready);
    }
    InFlight(())
}

/// The thread that takes the work a request shares: a pool of one, since a request shares
/// with one other core. `None` when the thread could not be started; then every request
/// does all its work itself.
fn second_hand() -> Option<&'static ThreadPool> {
    static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "citypeers-second-hand".to_string())
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs on the second hand while a single request is answered: takes the work the request
/// hands over as soon as it is handed, instead of sleeping between hand-offs. A request
/// hands work over about eight times, and waking a sleeping thread cost tens of microseconds
/// each time on a virtual machine. While it waits it yields its core to any other thread
/// that wants it (the topic learning, index merges): it only uses time nobody else does.
/// Returns, and the thread sleeps, once no request (or more than one) is in flight.
fn stay_ready() {
    while REQUESTS_IN_FLIGHT.load(Ordering::Relaxed) == 1 {
        if rayon::yield_now() != Some(Yield::Executed) {
            std::thread::yield_now();
        }
    }
    SECOND_HAND_POLLING.store(false, Ordering::Release);
}

/// The second hand, when this request may hand it work: answered alone, and not running on
/// the second hand itself (which cannot hand work to itself).
fn free_second_hand() -> Option<&'static ThreadPool> {
    second_hand().filter(|pool| answered_alone() && pool.current_thread_index().is_none())
}

/// Whether at most one request is being answered: then the other core is free.
pub fn answered_alone() -> bool {
    REQUESTS_IN_FLIGHT.load(Ordering::Relaxed) <= 1
}

/// `work` applied to every item, results in item order. This thread and the second hand
/// each take the next item, the costliest (`cost`) first, until none is left: a segment's
/// cost is only roughly known before it is scored, and whichever side finishes first takes
/// the next one. A single item (or none) runs here, and every item while other requests
/// are being answered.
pub fn split_in_two<T, R>(items: &[T], cost: impl Fn(&T) -> u64, work: impl Fn(&T) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let Some(pool) = free_second_hand().filter(|_| items.len() >= 2) else {
        return items.iter().map(&work).collect();
    };
    let order = costliest_first(items, cost);
    let next = AtomicUsize::new(0);
    let take_until_done = |results: &mut Vec<(usize, R)>| {
        while let Some(index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            results.push((*index, work(&items[*index])));
        }
    };
    let mut pooled: Vec<(usize, R)> = Vec::new();
    let mut here: Vec<(usize, R)> = Vec::new();
    with_second_hand(pool, || take_until_done(&mut here), || take_until_done(&mut pooled));
    let mut results: Vec<(usize, R)> = here.into_iter().chain(pooled).collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// `here()` and `there()`, both results: `there` runs on the second hand while this thread
/// runs `here`, when the request is answered alone; one after the other otherwise.
/// For two independent steps of one request that would each leave the other core idle.
pub fn side_by_side<A, B>(here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B)
where
    B: Send,
{
    let Some(pool) = free_second_hand() else {
        let here_result = here();
        return (here_result, there());
    };
    let mut pooled = None;
    let here_result = with_second_hand(pool, here, || pooled = Some(there()));
    // The scope returns once its spawned work has run (or re-raises the panic it met).
    let there_result = pooled.expect("a scope's spawned work has finished when the scope returns");
    (here_result, there_result)
}

/// `here()` on this thread while the second hand runs `there()`; returns once both are done.
fn with_second_hand<A>(pool: &ThreadPool, here: impl FnOnce() -> A, there: impl FnOnce() + Send) -> A {
    let there_done = AtomicBool::new(false);
    pool.in_place_scope(|scope| {
        let there_done = &there_done;
        scope.spawn(move |_| {
            there();
            there_done.store(true, Ordering::Release);
        });
        let here_result = here();
        wait_briefly_for(there_done);
        here_result
    })
}

/// Waits until `done` or for at most `LONGEST_SPIN`, yielding the core to any other thread
/// that wants it, before a scope's end puts this thread to sleep until the second hand's
/// part is done: the second hand is usually a few microseconds from done, and being woken
/// costs more on a virtual machine.
fn wait_briefly_for(done: &AtomicBool) {
    let started = Instant::now();
    while !done.load(Ordering::Acquire) && started.elapsed() < LONGEST_SPIN {
        std::thread::yield_now();
    }
}

/// How long `wait_briefly_for` waits at most: a fifth of a long challenge's whole answer.
const LONGEST_SPIN: Duration = Duration::from_micros(500);

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

    #[test]
    fn work_shared_again_from_the_second_hand_comes_back_whole() {
        // Nested: the second hand's own part shares again, and does it all itself.
        let (outer, (inner_here, inner_there)) = side_by_side(
            || 1,
            || side_by_side(|| split_in_two(&[1u64, 2, 3], |item| *item, |item| item * 10), || 4),
        );
        assert_eq!((outer, inner_here, inner_there), (1, vec![10, 20, 30], 4));
    }

    #[test]
    fn a_request_in_flight_leaves_the_second_hand_polling_only_while_it_lasts() {
        let in_flight = request_in_flight();
        let (sum, count) = side_by_side(|| (1..=10u64).sum::<u64>(), || 10usize);
        assert_eq!((sum, count), (55, 10));
        drop(in_flight);
        // Once no request is in flight the second hand stops polling (other tests running in
        // this process may keep one in flight for a while: bounded wait).
        let deadline = Instant::now() + Duration::from_secs(10);
        while SECOND_HAND_POLLING.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!SECOND_HAND_POLLING.load(Ordering::Acquire) || REQUESTS_IN_FLIGHT.load(Ordering::Relaxed) == 1);
    }

    proptest::proptest! {
        #[test]
        fn shared_work_comes_back_whole_and_in_order(items in proptest::collection::vec(0u64..1000, 0..40)) {
            let doubled = split_in_two(&items, |item| *item, |item| item * 2);
            proptest::prop_assert_eq!(doubled, items.iter().map(|item| item * 2).collect::<Vec<_>>());
        }
    }
}
