//! The node's clock and its view of the chain: the clock task polls the newest L1 block (the
//! slot, and whether L1 answers), the view task reads the Rollup pinned to each new block into
//! one [`ChainView`] that every duty reads, and the status both publish.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{eips::BlockNumberOrTag, providers::Provider};
use proofline_chain::watcher;
use proofline_core::{ChainView, Slot};
use tracing::warn;

use crate::{l1::L1Clock, metrics::Health, node::NodeInner, rpc::NodeStatus};

/// How often the published chain view's clock is moved on between L1 blocks.
const CLOCK_TICK: Duration = Duration::from_millis(250);
/// How often the clock loop polls L1 around a slot's start, until the slot's first block is seen.
pub(crate) const SLOT_START_POLL: Duration = Duration::from_millis(50);
/// How long after a slot's start (by the L1 clock) the clock loop keeps polling that fast.
const SLOT_START_WINDOW: Duration = Duration::from_secs(2);
/// How long one L1 read of the clock loop (newest block, tips, fallback status) may take. The
/// provider retries a failing request for about 30 s; without a bound, the clock loop waited that
/// long in an L1 outage and `/health` kept its last, healthy answer all along.
const L1_POLL_TIMEOUT: Duration = Duration::from_secs(5);

impl NodeInner {
    /// Polls the newest L1 block every half poll interval, and every [`SLOT_START_POLL`] around
    /// the start of a slot until the slot's first block is seen: proposing waits for that block
    /// (see [`NodeInner::duty_loop`]), so the time to notice it is part of the propose latency.
    /// The status (a few more Rollup reads) is published at the normal pace only.
    pub(crate) async fn clock_loop(self: Arc<Self>) {
        let normal = self.config.poll_interval / 2;
        let mut last_published: Option<Instant> = None;
        loop {
            let latest = tokio::time::timeout(
                L1_POLL_TIMEOUT,
                self.provider.get_block_by_number(BlockNumberOrTag::Latest),
            )
            .await;
            let l1_ok = match latest {
                Ok(Ok(Some(block))) => {
                    let number = block.header.number;
                    let changed = self.clock.borrow().is_none_or(|c| c.block != number);
                    if changed {
                        self.clock.send_replace(Some(L1Clock {
                            block: number,
                            timestamp: block.header.timestamp,
                            seen_at: Instant::now(),
                        }));
                    }
                    true
                }
                // Unreachable, failing, or still retrying after L1_POLL_TIMEOUT.
                _ => false,
            };
            if last_published.is_none_or(|t| t.elapsed() >= normal) {
                self.publish_status(l1_ok).await;
                last_published = Some(Instant::now());
            }
            let pause = if l1_ok && self.slot_block_due(normal) {
                SLOT_START_POLL.min(normal)
            } else {
                normal
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Reads a [`ChainView`] of every new L1 block the clock sees and publishes it. A failed or slow read is retried at the next block; the last
    /// good view stays.
    pub(crate) async fn view_loop(self: Arc<Self>) {
        let mut new_block = self.clock.subscribe();
        // Between blocks the published view's clock moves on (the prover's duties read it).
        let mut tick = tokio::time::interval(CLOCK_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = new_block.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = tick.tick() => {
                    watcher::advance_clock(&self.view);
                    continue;
                }
            }
            let Some((block, timestamp)) = new_block
                .borrow_and_update()
                .map(|c| (c.block, c.timestamp))
            else {
                continue;
            };
            let read = self.watcher.view_of(block, timestamp);
            match tokio::time::timeout(L1_POLL_TIMEOUT, read).await {
                Ok(Ok(view)) => {
                    self.view.send_replace(Some(Arc::new(view)));
                }
                Ok(Err(e)) => warn!(block, "chain view not read: {e:#}"),
                Err(_) => warn!(block, "chain view not read: L1 read timed out"),
            }
        }
    }

    /// The chain view of L1 block `block` or a newer one, waiting up to [`L1_POLL_TIMEOUT`] for
    /// the chain view task to read it.
    pub(crate) async fn view_at_least(&self, block: u64) -> eyre::Result<Arc<ChainView>> {
        let mut rx = self.view.subscribe();
        let waited = tokio::time::timeout(L1_POLL_TIMEOUT, async {
            rx.wait_for(|v| v.as_ref().is_some_and(|v| v.l1_block >= block))
                .await
                .map(|v| v.clone())
        })
        .await;
        match waited {
            Ok(Ok(Some(v))) => Ok(v),
            Ok(Ok(None)) | Ok(Err(_)) => eyre::bail!("the chain view task stopped"),
            Err(_) => eyre::bail!("no chain view of L1 block {block} yet"),
        }
    }

    /// Whether the first L1 block of the next slot may be about to appear: the newest block seen
    /// is from an earlier slot, and the L1 clock is within `ahead` before that slot's start or at
    /// most [`SLOT_START_WINDOW`] after it (bounded, so a chain that mines no blocks is not polled
    /// fast for ever).
    pub(crate) fn slot_block_due(&self, ahead: Duration) -> bool {
        let Some(clock) = *self.clock.borrow() else {
            return false;
        };
        let time = self.reader.schedule.time();
        let Ok(block_slot) = time.slot_at(proofline_core::Timestamp(clock.timestamp)) else {
            return false;
        };
        let next_start = self.reader.slot_start(Slot(block_slot.0 + 1)) as f64;
        let now = clock.now_secs_f64();
        now + ahead.as_secs_f64() >= next_start
            && now <= next_start + SLOT_START_WINDOW.as_secs_f64()
    }

    pub(crate) async fn publish_status(&self, l1_ok: bool) {
        let clock = *self.clock.borrow();
        let slot = self.current_slot();
        let epoch = self.reader.epoch_of(slot);
        let synced_block = self.chain.read().expect("poisoned").tip();
        let pool = self.mempool.lock().expect("poisoned").len();
        // From the newest chain view; when it lags the clock by more than a block (or L1 does
        // not answer) L1 counts as unreachable and the last values stand (not zeros: a pending
        // tip of 0 would pass for synced).
        let view = self.view.borrow().clone();
        let fresh = view
            .as_ref()
            .filter(|v| l1_ok && clock.is_some_and(|c| v.l1_block + 1 >= c.block));
        let l1_ok = fresh.is_some();
        let (pending, proven, in_fallback) = match fresh {
            Some(v) => (v.pending, v.proven, v.fallback.active),
            None => {
                let s = self.status.borrow();
                (s.pending_block, s.proven_block, s.in_fallback)
            }
        };
        let status = NodeStatus {
            l1_block: clock.map(|c| c.block).unwrap_or(0),
            slot,
            epoch,
            pending_block: pending,
            proven_block: proven,
            synced_block,
            mempool_txs: pool as u64,
            in_fallback,
            last_block_txs: 0,
        };
        self.metrics.set_status(&status);
        let age = clock.map(|c| c.age()).unwrap_or(Duration::MAX);
        let synced = synced_block == pending;
        let block_time = Duration::from_secs(self.reader.schedule.time().slot_duration().max(12));
        let healthy = l1_ok && age < 3 * block_time && synced_block + 2 >= pending;
        self.health.send_replace(Health {
            healthy,
            l1_reachable: l1_ok,
            synced,
            last_l1_block_age_secs: age.as_secs(),
            detail: if !l1_ok {
                "L1 RPC unreachable".into()
            } else if !synced {
                format!("syncing: at block {synced_block}, L1 at {pending}")
            } else {
                "ok".into()
            },
        });
        self.status.send_replace(status);
    }
}
