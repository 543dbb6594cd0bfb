//! One supervisor per process for its long-running tasks (the node's loops, the prover, the
//! submitter, the chain watcher, servers).
//!
//! Every such task is meant to run until the process stops. If one ends anyway (it returned, it
//! returned an error, it panicked) the process is no longer what its operator started: the
//! supervisor stops every other task and [`Supervisor::run_until`] returns an error naming the
//! task and why, which the binary prints before exiting non-zero. A process manager (systemd,
//! the devnet script) sees the exit and restarts it; nothing half-alive keeps answering health
//! checks. Shutdown (`run_until`'s signal) aborts every task and returns `Ok`.

use std::{future::Future, panic::AssertUnwindSafe};

use futures::FutureExt;
use tokio::task::JoinSet;
use tracing::{error, info};

/// How a supervised task ended.
#[derive(Debug)]
enum End {
    Returned,
    Failed(eyre::Report),
    Panicked(String),
}

/// The long-running tasks of one process.
#[derive(Default)]
pub struct Supervisor {
    tasks: JoinSet<(String, End)>,
}

impl Supervisor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` under the supervisor; it should never end.
    pub fn spawn<F>(&mut self, name: impl Into<String>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn_fallible(name, task.map(Ok));
    }

    /// Runs `task` under the supervisor; it should never end, and an error it returns is the
    /// reason given when it does.
    pub fn spawn_fallible<F>(&mut self, name: impl Into<String>, task: F)
    where
        F: Future<Output = eyre::Result<()>> + Send + 'static,
    {
        let name = name.into();
        self.tasks.spawn(async move {
            let end = match AssertUnwindSafe(task).catch_unwind().await {
                Ok(Ok(())) => End::Returned,
                Ok(Err(e)) => End::Failed(e),
                Err(panic) => End::Panicked(
                    panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic without a message".into()),
                ),
            };
            (name, end)
        });
    }

    /// How many tasks run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits for `shutdown` (then `Ok`) or for a task to end (then every other task is stopped
    /// and the error names it). Every task is stopped when this returns.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> eyre::Result<()> {
        let outcome = tokio::select! {
            _ = shutdown => {
                info!("shutting down");
                Ok(())
            }
            Some(joined) = self.tasks.join_next() => Err(match joined {
                Ok((name, End::Returned)) => eyre::eyre!("task `{name}` stopped; it should run until shutdown"),
                Ok((name, End::Failed(e))) => eyre::eyre!("task `{name}` failed: {e:#}"),
                Ok((name, End::Panicked(why))) => eyre::eyre!("task `{name}` panicked: {why}"),
                Err(e) => eyre::eyre!("a task could not be joined: {e}"),
            }),
        };
        if let Err(e) = &outcome {
            error!("{e:#}; stopping the process");
        }
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    };
    use std::time::Duration;

    /// Sets the flag when dropped: tells whether a task was stopped.
    struct DropFlag(Arc<AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// Never ends; the flag is set when the task is dropped, polled or not.
    async fn forever(_guard: DropFlag) {
        std::future::pending::<()>().await;
    }

    #[tokio::test]
    async fn shutdown_stops_every_task_and_is_ok() {
        let stopped = Arc::new(AtomicBool::new(false));
        let mut s = Supervisor::new();
        s.spawn("forever", forever(DropFlag(stopped.clone())));
        assert_eq!(s.len(), 1);
        s.run_until(async {}).await.unwrap();
        assert!(stopped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_task_that_fails_names_itself_and_stops_the_others() {
        let stopped = Arc::new(AtomicBool::new(false));
        let mut s = Supervisor::new();
        s.spawn("forever", forever(DropFlag(stopped.clone())));
        s.spawn_fallible("sync", async { Err(eyre::eyre!("L1 said no")) });
        let err = s.run_until(std::future::pending()).await.unwrap_err();
        assert_eq!(err.to_string(), "task `sync` failed: L1 said no");
        assert!(stopped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_task_that_returns_or_panics_is_an_error_too() {
        let mut s = Supervisor::new();
        s.spawn("quiet", async {});
        let err = s.run_until(std::future::pending()).await.unwrap_err();
        assert!(err.to_string().contains("task `quiet` stopped"), "{err}");

        let mut s = Supervisor::new();
        s.spawn("loud", async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            panic!("invariant broken");
        });
        let err = s.run_until(std::future::pending()).await.unwrap_err();
        assert_eq!(err.to_string(), "task `loud` panicked: invariant broken");
    }
}
