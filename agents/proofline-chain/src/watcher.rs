//! The chain watcher: the "collect" of collect -> decide -> act (docs/architecture.md).
//!
//! One per process. On every new L1 block it reads the Rollup's views pinned to that block
//! (`eth_call` at the block's number, so tips, claim, prune and fallback status never mix two
//! blocks) and publishes one [`ChainView`]; every duty of the process reads the latest view
//! instead of polling L1 on its own clock.

use std::{sync::Arc, time::Duration};

use alloy::{eips::BlockId, primitives::Address, providers::Provider};
use eyre::WrapErr;
use proofline_bindings::Rollup;
use proofline_core::{ChainView, Epoch, FallbackWindow, ProofClaim, Timestamp};
use proofline_l1::{Deployment, L1Provider};
use tokio::sync::watch;
use tracing::warn;

/// Reads [`ChainView`]s of one deployment.
#[derive(Clone)]
pub struct ChainWatcher {
    provider: L1Provider,
    rollup: Rollup::RollupInstance<L1Provider>,
}

/// The latest view, `None` until the first read succeeds.
pub type ViewReceiver = watch::Receiver<Option<Arc<ChainView>>>;

impl ChainWatcher {
    pub fn new(provider: L1Provider, deployment: &Deployment) -> Self {
        Self {
            rollup: Rollup::new(deployment.rollup, provider.clone()),
            provider,
        }
    }

    /// The view of L1 block `block`: every Rollup view is read at that block.
    pub async fn view_at(&self, block: u64) -> eyre::Result<ChainView> {
        let header = self
            .provider
            .get_block_by_number(block.into())
            .await?
            .ok_or_else(|| eyre::eyre!("L1 block {block} not found"))?;
        self.view_of(block, header.header.timestamp).await
    }

    /// [`Self::view_at`] for a caller that already read the block's timestamp (the node's
    /// clock has): one header read fewer per block.
    pub async fn view_of(&self, block: u64, l1_timestamp: u64) -> eyre::Result<ChainView> {
        let at = BlockId::number(block);
        let wall = unix_now();
        let r = &self.rollup;
        let (tips, can_prune, fallback, books) = futures::try_join!(
            async { r.getTips().block(at).call().await.wrap_err("getTips") },
            async { r.canPrune().block(at).call().await.wrap_err("canPrune") },
            async {
                r.getFallbackStatus()
                    .block(at)
                    .call()
                    .await
                    .wrap_err("getFallbackStatus")
            },
            async {
                r.getRewardBooks()
                    .block(at)
                    .call()
                    .await
                    .wrap_err("getRewardBooks")
            },
        )?;
        // With every pending block proven there is no epoch to prove (getEpochToProve reverts).
        let (epoch_to_prove, claim) = if tips.pendingBlockNumber > tips.provenBlockNumber {
            let epoch = r
                .getEpochToProve()
                .block(at)
                .call()
                .await
                .wrap_err("getEpochToProve")?;
            let claim = r
                .getProofClaim(epoch)
                .block(at)
                .call()
                .await
                .wrap_err("getProofClaim")?;
            let claim = (claim.bondProvider != Address::ZERO).then_some(ProofClaim {
                bond_provider: claim.bondProvider,
                bond_amount: claim.bondAmount,
                basis_point_fee: claim.basisPointFee.saturating_to(),
            });
            (Some(Epoch(epoch.saturating_to())), claim)
        } else {
            (None, None)
        };
        Ok(ChainView {
            l1_block: block,
            l1_timestamp: Timestamp(l1_timestamp),
            now: Timestamp(l1_timestamp.max(wall)),
            pending: tips.pendingBlockNumber.saturating_to(),
            proven: tips.provenBlockNumber.saturating_to(),
            epoch_to_prove,
            claim,
            can_prune,
            fallback: FallbackWindow::from_status(&fallback),
            reward_pool: books.rewardPool,
        })
    }

    /// Publishes a view of every new L1 block (polled every `poll`) until every receiver is
    /// dropped; between blocks it re-publishes the same view with the clock (`now`) moved on, so
    /// a duty with a deadline sees time pass between L1 blocks. A failed read is logged and
    /// retried at the next poll; the last good view stays.
    ///
    /// Returns the receiver and the task to run (under the process's supervisor).
    pub fn start(
        self,
        poll: Duration,
    ) -> (
        ViewReceiver,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (tx, rx) = watch::channel(None);
        let task = async move {
            let mut last = None;
            loop {
                if tx.is_closed() {
                    return;
                }
                match self.provider.get_block_number().await {
                    Ok(block) if Some(block) != last => match self.view_at(block).await {
                        Ok(view) => {
                            last = Some(block);
                            tx.send_replace(Some(Arc::new(view)));
                        }
                        Err(e) => warn!(block, error = %format!("{e:#}"), "chain view not read"),
                    },
                    Ok(_) => advance_clock(&tx),
                    Err(e) => warn!(error = %e, "L1 head not read"),
                }
                tokio::time::sleep(poll).await;
            }
        };
        (rx, task)
    }
}

/// Moves the clock (`now`) of the published view on to the wall clock, when it has moved: what
/// a watcher does between L1 blocks, so duties with deadlines see time pass.
pub fn advance_clock(views: &watch::Sender<Option<Arc<ChainView>>>) {
    views.send_if_modified(|v| {
        let Some(view) = v else {
            return false;
        };
        let now = Timestamp(unix_now().max(view.l1_timestamp.0));
        if now == view.now {
            return false;
        }
        let mut moved = **view;
        moved.now = now;
        *view = Arc::new(moved);
        true
    });
}

/// The wall clock, in Unix seconds.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
