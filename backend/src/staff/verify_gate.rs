//! One process-wide bound on argon2 work. Each verification holds ~19 MiB and a blocking thread
//! for tens of milliseconds, so a burst of logins must queue here rather than take memory and
//! starve other blocking work; one that waits too long is refused.

use std::{
    sync::{
        LazyLock, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::Semaphore;

/// How long a login may wait for a permit before it is refused as busy.
const MAX_WAIT: Duration = Duration::from_secs(5);

struct Gate {
    permits: Semaphore,
    /// argon2's working memory, one buffer per running check, reused (see
    /// [`super::password::verify_in`]): at most `size` of them ever exist.
    memory: Mutex<Vec<Vec<argon2::Block>>>,
    size: usize,
    running: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicUsize,
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let size = 2 * std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Gate {
        permits: Semaphore::new(size),
        memory: Mutex::new(Vec::new()),
        size,
        running: 0.into(),
        peak: 0.into(),
        total: 0.into(),
    }
});

/// Runs `work` on a blocking thread under one of the gate's permits: `None` when no permit came
/// within [`MAX_WAIT`], else how the work ended (an `Err` if it panicked). The permit moves into
/// the blocking task: if the request is dropped (the client went away), argon2 still runs to the
/// end, and must keep holding its permit until then.
async fn gated<T: Send + 'static>(
    work: impl FnOnce(&'static Gate) -> T + Send + 'static,
) -> Option<Result<T, tokio::task::JoinError>> {
    let gate: &'static Gate = &GATE;
    let permit = tokio::time::timeout(MAX_WAIT, gate.permits.acquire()).await.ok()?.ok()?;
    let ended = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(gate)
    })
    .await;
    Some(ended)
}

/// Whether `candidate` matches `stored` (see [`super::password::verify`]), or `None` when no
/// permit came within [`MAX_WAIT`].
pub async fn verify(candidate: &str, stored: Option<String>) -> Option<bool> {
    let candidate = candidate.to_owned();
    let outcome = gated(move |gate| {
        let now = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
        gate.peak.fetch_max(now, Ordering::SeqCst);
        gate.total.fetch_add(1, Ordering::SeqCst);
        let mut memory = gate.memory.lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default();
        let matches = super::password::verify_in(&candidate, stored.as_deref(), &mut memory);
        if let Ok(mut pool) = gate.memory.lock()
            && pool.len() < gate.size
        {
            pool.push(memory);
        }
        gate.running.fetch_sub(1, Ordering::SeqCst);
        matches
    })
    .await;
    // A panicked check is a failed one.
    outcome.map(|ended| ended.unwrap_or(false))
}

/// Hashes a new password under the same bound; `None` when no permit came in time or hashing
/// failed.
pub async fn hash(password: super::NewPassword) -> Option<String> {
    gated(move |_| password.hash().ok()).await?.ok().flatten()
}

/// What the gate has seen: its size, the most verifications that ever ran at once, and how many
/// ran in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateStats {
    pub permits: usize,
    /// Checks and hashes holding a permit now.
    pub in_use: usize,
    pub peak: usize,
    pub total: usize,
}

pub fn stats() -> GateStats {
    let gate = &*GATE;
    GateStats {
        permits: gate.size,
        in_use: gate.size.saturating_sub(gate.permits.available_permits()),
        peak: gate.peak.load(Ordering::SeqCst),
        total: gate.total.load(Ordering::SeqCst),
    }
}
