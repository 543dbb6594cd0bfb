//! Keeping the [`NodeChain`] equal to what L1 says, through restarts, prunes and reorgs.
//!
//! - **Start**: the blocks in the store are executed again (checking each archive), the queue's
//!   `ForcedTxQueued` events are read from the deployment block on, and the stored tip is checked
//!   against the Rollup: blocks L1 no longer has (pruned or reorged out while the node was down)
//!   are dropped. The follower then starts after the L1 block of the stored tip.
//! - **Follow**: for each canonical L1 block, in log order: `ForcedTxQueued` adds a queue entry;
//!   `L2BlockProposed` derives the block (from the node's own cache if it built or attested it,
//!   otherwise from the `propose` calldata and the blobs), executes it and checks the archive;
//!   `PrunedPending` rolls back to the proven tip; `L2ProofVerified` and `L2BlockProvenInFallback`
//!   checkpoint the state.
//! - **Reorg**: a removed L1 block takes its queue entries and the L2 blocks it proposed with
//!   it. Whenever the follower is caught up, the node compares its tip with the Rollup's at the
//!   follower's L1 block; if they differ in a way the events cannot explain (a reorged-out prune,
//!   a reorg deeper than the follower's window), and still do at the next check (one answer can
//!   be a racing L1 node's, see `sync_loop`), it derives everything again from the deployment
//!   block.

use proofline_core::{Epoch, Slot};
use std::{collections::BTreeMap, sync::Arc};

use alloy::{
    eips::BlockId,
    primitives::{Bytes, B256, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use eyre::{bail, eyre, WrapErr};
use proofline_bindings::{ForcedInclusionQueue, Rollup};
use proofline_l1::{
    FollowerConfig, FollowerError, FollowerEvent, L1Block, L1Event, L1Follower, ProoflineEvent,
    WatchedContracts,
};
use tracing::{debug, error, info, warn};

use proofline_chain::blobs::BlockRef;
use proofline_chain::chain::{QueueEntry, StoredBlock};
use proofline_chain::store::L1Origin;

use crate::{l1::fetch_proposal, node::NodeInner};

/// Each L2 block's L1 origin block number.
type Origins = BTreeMap<u64, u64>;

impl NodeInner {
    /// Replays the stored blocks and returns the L1 block to follow from.
    pub(crate) async fn restore(&self) -> eyre::Result<(u64, Origins)> {
        let mut origins = Origins::new();
        let stored = self.store.blocks_from(1)?;
        {
            let mut chain = self.chain.write().expect("poisoned");
            for (number, origin, bytes) in stored {
                let block = StoredBlock::decode(&bytes)
                    .wrap_err_with(|| format!("stored block {number} does not decode"))?;
                if let Err(e) = chain.apply(block) {
                    warn!(number, %e, "stored block does not apply; dropping it and those above");
                    break;
                }
                origins.insert(number, origin.block_number);
            }
            let tip = chain.tip();
            self.store.truncate_above(tip)?;
        }
        self.load_queue().await?;
        // Keep the highest stored block L1 still has (each rollback replays, so find it first and
        // roll back once).
        let pending = self.reader.pending_block().await?;
        let mut keep = self.chain.read().expect("poisoned").tip().min(pending);
        while keep > 0 {
            let stored = self.chain.read().expect("poisoned").archive_after(keep);
            if stored == Some(self.reader.archive_of(keep).await?) {
                break;
            }
            keep -= 1;
        }
        self.rollback_to(keep, &mut origins)?;
        let tip = self.chain.read().expect("poisoned").tip();
        let start = origins
            .get(&tip)
            .map(|&b| b + 1)
            .unwrap_or(self.deployment.deploy_block);
        info!(
            block = tip,
            from_l1_block = start,
            "restored from the store"
        );
        Ok((start, origins))
    }

    /// Every queued forced tx, from the queue's events since deployment.
    async fn load_queue(&self) -> eyre::Result<()> {
        let filter = Filter::new()
            .address(self.deployment.forced_inclusion_queue)
            .event_signature(ForcedInclusionQueue::ForcedTxQueued::SIGNATURE_HASH);
        let head = self.provider.get_block_number().await?;
        let logs = proofline_l1::logs::get_logs(
            &self.provider,
            &filter,
            self.deployment.deploy_block,
            head,
            proofline_l1::logs::DEFAULT_MAX_RANGE,
        )
        .await?;
        let mut chain = self.chain.write().expect("poisoned");
        for log in logs {
            let Ok(ev) = ForcedInclusionQueue::ForcedTxQueued::decode_log_data(log.data()) else {
                continue;
            };
            chain.on_queued(queue_entry(&ev, log.block_number.unwrap_or(0)));
        }
        Ok(())
    }

    /// Drops the blocks above `number`; their txs go back to the pool (those still valid).
    fn rollback_to(&self, number: u64, origins: &mut Origins) -> eyre::Result<()> {
        let mut chain = self.chain.write().expect("poisoned");
        let dropped = chain.rollback(number);
        self.store.truncate_above(number)?;
        origins.retain(|n, _| *n <= number);
        if !dropped.is_empty() {
            let mut pool = self.mempool.lock().expect("poisoned");
            let mut requeued = 0;
            for tx in dropped.iter().flat_map(|b| &b.txs) {
                if pool.add(tx, chain.l2().state()).is_ok() {
                    requeued += 1;
                }
            }
            info!(
                to = number,
                removed = dropped.len(),
                requeued,
                "rolled back"
            );
        }
        Ok(())
    }

    pub(crate) async fn sync_loop(self: Arc<Self>, (start, mut origins): (u64, Origins)) {
        let contracts = WatchedContracts::from(&self.deployment);
        let config = |from| FollowerConfig {
            poll_interval: self.config.poll_interval,
            ..FollowerConfig::new(contracts, from)
        };
        let mut follower = L1Follower::new(self.provider.clone(), config(start));
        // The last consistency check saw a difference from L1: acted on only if the next one
        // sees one again (see below).
        let mut suspect = false;
        loop {
            let events = match follower.poll().await {
                Ok(events) => events,
                Err(FollowerError::ReorgBeyondWindow { window, block }) => {
                    warn!(
                        window,
                        block,
                        "reorg deeper than the follower's window: syncing again from deployment"
                    );
                    follower = self.resync(&mut origins, config);
                    continue;
                }
                Err(e) => {
                    warn!(%e, "L1 follower poll failed; retrying");
                    tokio::time::sleep(self.config.poll_interval).await;
                    continue;
                }
            };
            let idle = events.is_empty();
            for event in events {
                if let Err(e) = self.on_follower_event(event, &mut origins).await {
                    error!("sync: {e:#}");
                }
            }
            if idle {
                if let Some(tip) = follower.tip().cloned() {
                    match self.consistent_with(&tip).await {
                        Ok(None) => suspect = false,
                        // One answer is not enough: an L1 node can answer a call at a block
                        // hash from the state of the block just mined after it, or of the new
                        // chain while a reorg the follower has not polled yet is under way
                        // (anvil does both). Those are gone by the next check (the follower
                        // moves on or reports the removed blocks); a real difference stays.
                        Ok(Some(why)) if suspect => {
                            warn!(l1_block = tip.number, %why, "the node's chain differs from L1's: syncing again from deployment");
                            suspect = false;
                            follower = self.resync(&mut origins, config);
                            continue;
                        }
                        Ok(Some(why)) => {
                            debug!(l1_block = tip.number, %why, "the node's chain seems to differ from L1's; checking again");
                            suspect = true;
                        }
                        Err(e) => debug!(%e, "consistency check failed"),
                    }
                }
                tokio::time::sleep(self.config.poll_interval).await;
            }
        }
    }

    /// Forgets everything derived from L1 and follows again from the deployment block.
    fn resync(&self, origins: &mut Origins, config: impl Fn(u64) -> FollowerConfig) -> L1Follower {
        *self.chain.write().expect("poisoned") = Default::default();
        if let Err(e) = self.store.truncate_above(0) {
            error!(%e, "cannot clear the stored blocks");
        }
        origins.clear();
        self.metrics.reorgs.inc();
        L1Follower::new(self.provider.clone(), config(self.deployment.deploy_block))
    }

    /// How the node's tip differs from the Rollup's pending tip as of L1 block `at`, if it does.
    async fn consistent_with(&self, at: &L1Block) -> eyre::Result<Option<String>> {
        let id = BlockId::hash(at.hash);
        let pending: u64 = self
            .reader
            .rollup
            .getPendingBlockNumber()
            .block(id)
            .call()
            .await?
            .saturating_to();
        let (tip, archive) = {
            let c = self.chain.read().expect("poisoned");
            (c.tip(), c.archive())
        };
        if tip != pending {
            return Ok(Some(format!("node at block {tip}, L1 at {pending}")));
        }
        if tip == 0 {
            return Ok(None);
        }
        let recorded = self
            .reader
            .rollup
            .getBlock(U256::from(tip))
            .block(id)
            .call()
            .await?
            .archive;
        Ok((recorded != archive)
            .then(|| format!("block {tip}: node has archive {archive}, L1 has {recorded}")))
    }

    async fn on_follower_event(
        &self,
        event: FollowerEvent,
        origins: &mut Origins,
    ) -> eyre::Result<()> {
        match event {
            FollowerEvent::Added(block) => {
                for ev in &block.events {
                    self.on_l1_event(&block, ev, origins).await?;
                }
            }
            FollowerEvent::Removed(block) => {
                let drop_from = origins
                    .iter()
                    .find(|(_, l1)| **l1 >= block.number)
                    .map(|(n, _)| *n);
                self.chain
                    .write()
                    .expect("poisoned")
                    .unqueue_l1_block(block.number);
                if let Some(first) = drop_from {
                    warn!(
                        l1_block = block.number,
                        from_block = first,
                        "L1 reorg: dropping its L2 blocks"
                    );
                    self.rollback_to(first - 1, origins)?;
                }
                self.metrics.reorgs.inc();
            }
        }
        Ok(())
    }

    async fn on_l1_event(
        &self,
        block: &L1Block,
        ev: &L1Event,
        origins: &mut Origins,
    ) -> eyre::Result<()> {
        match &ev.event {
            ProoflineEvent::Queue(
                ForcedInclusionQueue::ForcedInclusionQueueEvents::ForcedTxQueued(q),
            ) => {
                self.chain
                    .write()
                    .expect("poisoned")
                    .on_queued(queue_entry(q, block.number));
            }
            ProoflineEvent::Rollup(Rollup::RollupEvents::L2BlockProposed(p)) => {
                let number: u64 = p.blockNumber.saturating_to();
                self.on_block_proposed(
                    block,
                    ev.tx_hash,
                    number,
                    p.archive,
                    Slot(p.slot.saturating_to()),
                    origins,
                )
                .await?;
            }
            ProoflineEvent::Rollup(Rollup::RollupEvents::PrunedPending(p)) => {
                let proven: u64 = p.provenBlockNumber.saturating_to();
                info!(proven, pending = %p.pendingBlockNumber, "pending chain pruned");
                self.rollback_to(proven, origins)?;
            }
            ProoflineEvent::Rollup(Rollup::RollupEvents::L2ProofVerified(p)) => {
                let end: u64 = p.endBlockNumber.saturating_to();
                self.chain.write().expect("poisoned").checkpoint_at(end);
            }
            ProoflineEvent::Rollup(Rollup::RollupEvents::L2BlockProvenInFallback(p)) => {
                let number: u64 = p.blockNumber.saturating_to();
                self.chain.write().expect("poisoned").checkpoint_at(number);
            }
            _ => {}
        }
        Ok(())
    }

    async fn on_block_proposed(
        &self,
        l1: &L1Block,
        tx_hash: B256,
        number: u64,
        archive: B256,
        slot: Slot,
        origins: &mut Origins,
    ) -> eyre::Result<()> {
        if number == 0 {
            // The Rollup's constructor records the genesis block.
            if archive != proofline_l2::genesis_archive() {
                bail!("the Rollup's genesis archive {archive} is not the agents' genesis; deployed with another GENESIS_ARCHIVE?");
            }
            return Ok(());
        }
        let tip = self.chain.read().expect("poisoned").tip();
        if number <= tip {
            let known = self.chain.read().expect("poisoned").archive_after(number);
            if known == Some(archive) {
                return Ok(());
            }
            // A prune the node did not see: this block replaces ours.
            self.rollback_to(number - 1, origins)?;
        } else if number > tip + 1 {
            bail!("L1 has block {number} but this node is at {tip}: missing blocks");
        }
        let block = match self.take_built(archive).filter(|b| b.number == number) {
            Some(block) => block,
            None => self.derive(l1, tx_hash, number, archive, slot).await?,
        };
        let bytes = block.encode();
        let state_applied = {
            let mut chain = self.chain.write().expect("poisoned");
            chain.apply(block)?;
            chain.tip()
        };
        self.store.put_block(
            number,
            L1Origin {
                block_number: l1.number,
                block_hash: l1.hash,
            },
            &bytes,
        )?;
        origins.insert(number, l1.number);
        {
            let chain = self.chain.read().expect("poisoned");
            self.mempool
                .lock()
                .expect("poisoned")
                .on_block(chain.l2().state());
        }
        self.metrics.blocks_synced.inc();
        debug!(block = state_applied, l1_block = l1.number, "block synced");
        Ok(())
    }

    /// A block someone else proposed, from its calldata and blobs.
    async fn derive(
        &self,
        l1: &L1Block,
        tx_hash: B256,
        number: u64,
        archive: B256,
        slot: Slot,
    ) -> eyre::Result<StoredBlock> {
        let proposal = fetch_proposal(&self.provider, tx_hash).await?;
        let args = &proposal.args;
        let forced_count: u64 = args.forced_tx_count.saturating_to();
        let body = if args.blob_hashes.is_empty() {
            Default::default()
        } else {
            let blobs = self
                .blobs
                .fetch(
                    &BlockRef {
                        number: l1.number,
                        hash: l1.hash,
                        timestamp: l1.timestamp,
                    },
                    tx_hash,
                    &args.blob_hashes,
                )
                .await?;
            proofline_l2::decode_body(&blobs)?
        };
        let txs = body
            .non_forced_txs(forced_count as usize)
            .ok_or_else(|| eyre!("block {number}: a non-forced tx in its body failed"))?;
        let forced = self
            .chain
            .read()
            .expect("poisoned")
            .forced_data(forced_count)
            .map_err(|i| {
                eyre!("block {number} takes forced entry {i}, which this node never saw queued")
            })?;
        Ok(StoredBlock {
            number,
            slot,
            coinbase: proposal.from,
            forced,
            txs: txs.iter().map(|t| Bytes::from(t.encode())).collect(),
            archive,
        })
    }
}

fn queue_entry(ev: &ForcedInclusionQueue::ForcedTxQueued, l1_block: u64) -> QueueEntry {
    QueueEntry {
        index: ev.index.saturating_to(),
        tx_hash: ev.txHash,
        due_epoch: Epoch(ev.includedByEpoch.saturating_to()),
        data: ev.txData.clone(),
        l1_block,
    }
}
