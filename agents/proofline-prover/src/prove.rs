//! The prove duty's work: one claimed epoch proven from the node's re-executed chain, once the
//! epoch has ended (the chain view says so) and the node holds every block of it.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use alloy::primitives::{Address, B256};
use proofline_chain::{chain::NodeChain, watcher::ViewReceiver};
use proofline_core::{ChainView, Epoch, Schedule};

use crate::{
    decide,
    pricing::ProvingTime,
    proof::{BlockFees, EpochProof, EpochStatement},
};

/// Proves one claimed epoch from the node's re-executed chain.
pub(crate) struct ProvingJob {
    pub(crate) epoch: Epoch,
    pub(crate) prover: Address,
    pub(crate) genesis_archive: B256,
    pub(crate) schedule: Schedule,
    pub(crate) views: ViewReceiver,
    pub(crate) chain: Arc<RwLock<NodeChain>>,
    pub(crate) proving_time: ProvingTime,
}

impl ProvingJob {
    pub(crate) async fn run(self) -> eyre::Result<EpochProof> {
        loop {
            let view = self.views.borrow().as_deref().copied();
            let Some(view) = view else {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            };
            let statement = self.statement(&view)?;
            let over = decide::epoch_over(&view, &self.schedule, self.epoch);
            if let Some(statement) = statement.filter(|_| over) {
                let txs = self.txs(&statement);
                let blocks = statement.end_block - statement.proven_tip;
                tokio::time::sleep(self.proving_time.for_work(blocks, txs)).await;
                return Ok(statement.dev_proof());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn txs(&self, s: &EpochStatement) -> u64 {
        let chain = self.chain.read().expect("chain lock poisoned");
        (s.proven_tip + 1..=s.end_block)
            .filter_map(|n| chain.block(n))
            .map(|b| (b.txs.len() + b.forced.len()) as u64)
            .sum()
    }

    /// The statement once the node holds every block of the epoch L1 has (in `view`); `None`
    /// while it lags.
    fn statement(&self, view: &ChainView) -> eyre::Result<Option<EpochStatement>> {
        let (proven, pending) = (view.proven, view.pending);
        eyre::ensure!(
            view.epoch_to_prove == Some(self.epoch),
            "epoch {} is no longer the epoch to prove ({:?} is)",
            self.epoch,
            view.epoch_to_prove
        );
        let chain = self.chain.read().expect("chain lock poisoned");
        if chain.tip() < pending {
            return Ok(None);
        }
        let mut fees = Vec::new();
        let mut end = proven;
        for n in proven + 1..=pending {
            let b = chain
                .block(n)
                .ok_or_else(|| eyre::eyre!("block {n} missing"))?;
            if self.schedule.epoch_of(b.slot) != self.epoch {
                break;
            }
            fees.push(BlockFees {
                coinbase: b.coinbase,
                fees: chain.fees_of(n).unwrap_or_default(),
            });
            end = n;
        }
        eyre::ensure!(end > proven, "epoch {} has no blocks", self.epoch);
        let archive_of = |n: u64| {
            if n == 0 {
                self.genesis_archive
            } else {
                chain.block(n).map(|b| b.archive).unwrap_or_default()
            }
        };
        Ok(Some(EpochStatement {
            epoch: self.epoch,
            proven_tip: proven,
            previous_archive: archive_of(proven),
            end_block: end,
            end_archive: archive_of(end),
            prover: self.prover,
            fees,
        }))
    }
}
