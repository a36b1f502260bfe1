//! A client-side pace for a caller-wide quota, so that a large organization stays under AWS's
//! limit instead of bouncing off it (adaptive retries slow down well below the rate AWS grants
//! once throttled). A token bucket, as AWS's own throttling is ("IAM and AWS STS independently
//! implement a token bucket algorithm", AWS Security Blog, "How to monitor and query IAM
//! resources at scale, part 2"): up to one second's worth of calls at once, then `rate` a
//! second. Kept as its theoretical arrival time (GCRA): one instant, no refill loop.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct Pace {
    interval: Duration,
    /// How far ahead of now the bucket may run: a full bucket's worth of calls.
    burst: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    pub fn per_second(rate: usize) -> Self {
        let rate = rate.max(1) as u32;
        let interval = Duration::from_secs(1) / rate;
        Self {
            interval,
            burst: interval * (rate - 1),
            next: Mutex::new(None),
        }
    }

    /// Waits until this call fits in the bucket.
    pub async fn wait(&self) {
        let allowed_at = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let arrival = next.map_or(now, |n| n.max(now));
            *next = Some(arrival + self.interval);
            arrival.checked_sub(self.burst).unwrap_or(now).max(now)
        };
        tokio::time::sleep_until(allowed_at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When each of `calls` calls, all made at once, gets through.
    async fn admitted(pace: &std::sync::Arc<Pace>, calls: usize) -> Vec<Duration> {
        let start = Instant::now();
        let waits = (0..calls).map(|_| {
            let pace = pace.clone();
            tokio::spawn(async move {
                pace.wait().await;
                Instant::now() - start
            })
        });
        let mut at: Vec<Duration> = futures::future::join_all(waits)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        at.sort();
        at
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_one_seconds_worth_then_the_rate() {
        let pace = std::sync::Arc::new(Pace::per_second(10));
        let at = admitted(&pace, 13).await;
        assert_eq!(at[..10], [Duration::ZERO; 10], "a full bucket goes at once");
        let then: Vec<Duration> = (1..=3).map(|i| Duration::from_millis(100 * i)).collect();
        assert_eq!(at[10..], then, "then one every 100 ms");
        // A quiet spell refills the bucket.
        tokio::time::advance(Duration::from_secs(5)).await;
        let at = admitted(&pace, 10).await;
        assert_eq!(at, [Duration::ZERO; 10]);
    }

    #[tokio::test(start_paused = true)]
    async fn over_a_long_run_the_rate_holds() {
        let pace = std::sync::Arc::new(Pace::per_second(50));
        let at = admitted(&pace, 550).await;
        // 50 at once, then 500 more at 50 a second: the last one 10 s in.
        assert_eq!(at.last(), Some(&Duration::from_secs(10)));
    }
}
