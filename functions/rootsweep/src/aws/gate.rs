//! Organizations' limits are caller-wide, low and unpublished: calls that overlap are refused
//! ("another request is already in progress"), and a burst is throttled
//! (`TooManyRequestsException`, Organizations API Reference). Every Organizations call of a run
//! goes through one gate: one call at a time, unpaced until Organizations first throttles, then
//! at the pace it answers without throttling, learnt as it goes (a little faster after each
//! answer, a fifth slower after each throttle), and retried here, not by the SDK: its adaptive
//! mode backs off for seconds after each throttle, and a serial caller then waits more than it
//! works.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::ports::{AwsError, AwsErrorKind};

/// The pace after the first throttle (a call every 50 ms), and its bounds.
const FIRST_INTERVAL: Duration = Duration::from_millis(50);
const SHORTEST_INTERVAL: Duration = Duration::from_millis(10);
const LONGEST_INTERVAL: Duration = Duration::from_secs(2);
/// After each answer the interval shrinks by half a percent; after each throttle it grows by a
/// quarter: a caller creeps up to Organizations' rate and backs off once it is there (the first
/// test below prints how close a serial caller comes to the rate, and how often it is throttled).
const FASTER: f64 = 0.995;
const SLOWER: f64 = 1.25;
/// Throttles of one call before it fails (the pace has slowed by 1.25^10, ninefold, by then).
const THROTTLE_RETRIES: u32 = 10;
/// Other transient failures (5xx, timeouts) of one call before it fails, with a backoff of a
/// second, doubling.
const TRANSIENT_RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Gate {
    pacing: Mutex<Pacing>,
}

#[derive(Debug, Default)]
struct Pacing {
    /// Between two calls' starts; `None` until Organizations first throttles.
    interval: Option<Duration>,
    last_start: Option<Instant>,
}

impl Pacing {
    fn slower(&mut self) {
        let slower = self.interval.map_or(FIRST_INTERVAL, |i| i.mul_f64(SLOWER));
        self.interval = Some(slower.min(LONGEST_INTERVAL));
    }

    fn faster(&mut self) {
        self.interval = self
            .interval
            .map(|i| i.mul_f64(FASTER).max(SHORTEST_INTERVAL));
    }
}

impl Gate {
    /// Makes `call` when it is its turn, retrying throttles and transient failures.
    pub async fn call<T, F, Fut>(&self, mut call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut pacing = self.pacing.lock().await;
        let (mut throttles, mut transients) = (0, 0);
        loop {
            if let (Some(last), Some(interval)) = (pacing.last_start, pacing.interval) {
                tokio::time::sleep_until(last + interval).await;
            }
            pacing.last_start = Some(Instant::now());
            let result = call().await;
            match &result {
                Err(err) if err.kind == AwsErrorKind::Throttled && throttles < THROTTLE_RETRIES => {
                    throttles += 1;
                    pacing.slower();
                }
                Err(err) if is_transient(err) && transients < TRANSIENT_RETRIES => {
                    tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(transients)).await;
                    transients += 1;
                }
                Ok(_) => {
                    pacing.faster();
                    return result;
                }
                Err(_) => return result,
            }
        }
    }
}

fn is_transient(err: &AwsError) -> bool {
    matches!(
        err.kind,
        AwsErrorKind::ServiceUnavailable | AwsErrorKind::Timeout
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn throttled() -> AwsError {
        AwsError::new(
            "organizations:ListTagsForResource",
            AwsErrorKind::Throttled,
            "rate exceeded",
        )
    }

    /// Organizations as a token bucket: `rate` a second, no burst beyond one call.
    struct Bucket {
        rate: f64,
        tokens: std::sync::Mutex<(f64, Instant)>,
        throttled: AtomicU32,
    }

    impl Bucket {
        fn new(rate: f64) -> Self {
            Self {
                rate,
                tokens: std::sync::Mutex::new((1.0, Instant::now())),
                throttled: AtomicU32::new(0),
            }
        }

        async fn call(&self) -> Result<(), AwsError> {
            let mut tokens = self.tokens.lock().unwrap();
            let now = Instant::now();
            let refill = (now - tokens.1).as_secs_f64() * self.rate;
            *tokens = ((tokens.0 + refill).min(1.0), now);
            if tokens.0 >= 1.0 {
                tokens.0 -= 1.0;
                Ok(())
            } else {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                Err(throttled())
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_serial_caller_settles_near_the_rate_organizations_allows() {
        let gate = Gate::default();
        let organizations = Bucket::new(5.0);
        let start = Instant::now();
        for _ in 0..300 {
            gate.call(|| organizations.call()).await.unwrap();
        }
        let took = start.elapsed().as_secs_f64();
        let throttled = organizations.throttled.load(Ordering::Relaxed);
        println!("300 calls at 5/s: {took:.1} s (virtual), {throttled} throttled");
        // 300 calls at 5 a second take 60 s at best.
        assert!(took >= 59.8, "{took}");
        assert!(took < 72.0, "300 calls at 5/s took {took:.1} s");
        assert!(throttled < 30, "{throttled} throttles for 300 calls");
    }

    #[tokio::test(start_paused = true)]
    async fn calls_made_at_once_go_one_at_a_time() {
        let gate = Arc::new(Gate::default());
        let in_flight = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let calls = (0..8).map(|_| {
            let (gate, in_flight, most) = (gate.clone(), in_flight.clone(), most.clone());
            tokio::spawn(async move {
                gate.call(|| async {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok::<(), AwsError>(())
                })
                .await
            })
        });
        for call in futures::future::join_all(calls).await {
            call.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_throttled_every_time_fails_after_its_retries_and_other_errors_at_once() {
        let gate = Gate::default();
        let tries = AtomicU32::new(0);
        let err = gate
            .call(|| async {
                tries.fetch_add(1, Ordering::Relaxed);
                Err::<(), _>(throttled())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Throttled);
        assert_eq!(tries.load(Ordering::Relaxed), 11);
        let denied = AwsError::new(
            "organizations:ListAccounts",
            AwsErrorKind::AccessDenied,
            "no",
        );
        tries.store(0, Ordering::Relaxed);
        let err = gate
            .call(|| async {
                tries.fetch_add(1, Ordering::Relaxed);
                Err::<(), _>(denied.clone())
            })
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, tries.load(Ordering::Relaxed)),
            (AwsErrorKind::AccessDenied, 1)
        );
    }
}
