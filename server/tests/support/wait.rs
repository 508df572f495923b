//! Waiting for a condition, with a deadline: never a fixed sleep.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long to wait between two checks of a condition.
const POLL: Duration = Duration::from_millis(5);

/// Waits until `condition` holds, checking it every few milliseconds; fails the test, naming `what`, when it
/// does not hold within `deadline`.
#[track_caller]
pub fn wait_until<F, Fut>(
    what: &str,
    deadline: Duration,
    mut condition: F,
) -> impl Future<Output = ()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let caller = std::panic::Location::caller();
    let what = what.to_string();
    async move {
        let end = Instant::now() + deadline;
        loop {
            if condition().await {
                return;
            }
            assert!(
                Instant::now() < end,
                "{caller}: still waiting after {deadline:?} for {what}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Waits until `probe` returns something and returns it; fails the test, naming `what`, after `deadline`.
#[track_caller]
pub fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> impl Future<Output = T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let caller = std::panic::Location::caller();
    let what = what.to_string();
    async move {
        let end = Instant::now() + deadline;
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            assert!(
                Instant::now() < end,
                "{caller}: still waiting after {deadline:?} for {what}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Waits until the wall clock (unix milliseconds, as the store writes it) is past `at_ms`: for a lease or a
/// timestamp to be in the past.
pub async fn until_past(at_ms: i64) {
    wait_until(
        &format!("the clock to pass {at_ms}"),
        Duration::from_secs(5),
        || async move { ml_connector::store::now_ms() > at_ms },
    )
    .await;
}
