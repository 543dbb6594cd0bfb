//! Follows L1 block by block and reports the Proofline contracts' events per block, in chain
//! order, with reorgs as removals.
//!
//! The follower keeps the last `window` blocks it reported (hash, parent hash, events). Each
//! poll it first checks that its tip is still canonical, walking back and reporting
//! [`FollowerEvent::Removed`] for every block that is not, newest first, down to the fork point;
//! then it reports the canonical blocks from there with [`FollowerEvent::Added`], each linked to
//! its parent by hash. A consumer that applies `Added` and undoes `Removed` therefore sees every
//! canonical block exactly once and nothing else: no duplicate after a reorg, no gap.
//!
//! Each block's logs are read with `eth_getLogs` by block hash (EIP-234), never by number range,
//! so the events always belong to the exact block reported, even while the chain moves.
//! A catch-up costs two requests per block (header and logs); that is the price of that
//! exactness, and fine for the devnet and a follower started near the head.
//!
//! A reorg deeper than the window cannot be resolved from memory: the follower fails with
//! [`FollowerError::ReorgBeyondWindow`], and the consumer restarts from chain state (the agents
//! re-derive everything from L1 anyway).

use std::{collections::VecDeque, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::B256,
    providers::Provider,
    rpc::types::{Filter, Log},
    transports::TransportError,
};
use tokio::{sync::mpsc, task::JoinHandle};
use tracing::{debug, info, warn};

use crate::{
    events::{L1Event, WatchedContracts},
    rpc::L1Provider,
};

#[derive(Clone, Debug)]
pub struct FollowerConfig {
    pub contracts: WatchedContracts,
    /// The first block reported (e.g. the deployment's `deployBlock`).
    pub start_block: u64,
    /// Blocks remembered for reorg detection: the deepest reorg that can be followed.
    pub window: usize,
    /// Stay this many blocks behind the head (0: follow the head itself).
    pub follow_distance: u64,
    pub poll_interval: Duration,
    /// Blocks reported per poll at most, so a long catch-up hands over its events in batches.
    pub max_blocks_per_poll: usize,
}

impl FollowerConfig {
    pub fn new(contracts: WatchedContracts, start_block: u64) -> Self {
        Self {
            contracts,
            start_block,
            window: 128,
            follow_distance: 0,
            poll_interval: Duration::from_secs(2),
            max_blocks_per_poll: 256,
        }
    }
}

/// One L1 block as the follower reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Block {
    pub number: u64,
    pub hash: B256,
    pub parent_hash: B256,
    pub timestamp: u64,
    /// The watched contracts' events in this block, in log order.
    pub events: Vec<L1Event>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowerEvent {
    /// A block joined the followed chain; its parent is the previous `Added` block still standing.
    Added(L1Block),
    /// A block reported before is no longer canonical: undo its events. Removals come newest
    /// first, before the blocks that replace them.
    Removed(L1Block),
}

impl FollowerEvent {
    pub fn block(&self) -> &L1Block {
        match self {
            Self::Added(b) | Self::Removed(b) => b,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FollowerError {
    #[error("L1 RPC failed: {0}")]
    Rpc(#[from] TransportError),
    #[error("reorg deeper than the follower's window of {window} blocks (block {block} is gone)")]
    ReorgBeyondWindow { window: usize, block: u64 },
}

impl FollowerError {
    /// Whether polling again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Rpc(_))
    }
}

/// How many times one poll goes back to the tip check after the chain moved under it.
const MAX_PASSES_PER_POLL: usize = 8;

pub struct L1Follower {
    provider: L1Provider,
    config: FollowerConfig,
    /// The reported blocks still standing, oldest first, at most `config.window`.
    window: VecDeque<L1Block>,
    /// The number of the next block to report.
    next: u64,
    /// Reported by a poll, not yet handed out by `next()`. Events are queued here as they are
    /// found, so a poll that fails half-way loses nothing.
    queued: VecDeque<FollowerEvent>,
}

impl L1Follower {
    pub fn new(provider: L1Provider, config: FollowerConfig) -> Self {
        let next = config.start_block;
        Self {
            provider,
            config,
            window: VecDeque::new(),
            next,
            queued: VecDeque::new(),
        }
    }

    /// The last block reported and still standing.
    pub fn tip(&self) -> Option<&L1Block> {
        self.window.back()
    }

    pub fn config(&self) -> &FollowerConfig {
        &self.config
    }

    /// Looks at the chain once and returns what changed (possibly nothing).
    pub async fn poll(&mut self) -> Result<Vec<FollowerEvent>, FollowerError> {
        let result = self.advance().await;
        let events = self.queued.drain(..).collect();
        result.map(|()| events)
    }

    /// The next change, waiting for the chain to move. Transient RPC failures are logged and
    /// retried every `poll_interval`; only a reorg beyond the window is returned as an error.
    pub async fn next(&mut self) -> Result<FollowerEvent, FollowerError> {
        loop {
            if let Some(event) = self.queued.pop_front() {
                return Ok(event);
            }
            match self.advance().await {
                Ok(()) => {}
                Err(err) if err.is_transient() => warn!(%err, "L1 follower poll failed; retrying"),
                Err(err) => return Err(err),
            }
            if self.queued.is_empty() {
                tokio::time::sleep(self.config.poll_interval).await;
            }
        }
    }

    /// Runs the follower on its own task, sending its events to the returned channel until the
    /// receiver is dropped or a reorg beyond the window (sent as the last item) stops it.
    pub fn spawn(
        mut self,
        capacity: usize,
    ) -> (
        mpsc::Receiver<Result<FollowerEvent, FollowerError>>,
        JoinHandle<()>,
    ) {
        let (tx, rx) = mpsc::channel(capacity);
        let task = tokio::spawn(async move {
            loop {
                let item = self.next().await;
                let fatal = item.is_err();
                if tx.send(item).await.is_err() || fatal {
                    return;
                }
            }
        });
        (rx, task)
    }

    async fn advance(&mut self) -> Result<(), FollowerError> {
        let mut added = 0;
        for _ in 0..MAX_PASSES_PER_POLL {
            self.unwind_reorged().await?;
            let head = self
                .provider
                .get_block_number()
                .await?
                .saturating_sub(self.config.follow_distance);
            let mut chain_moved = false;
            while self.next <= head && added < self.config.max_blocks_per_poll {
                let Some(block) = self.fetch_next().await? else {
                    chain_moved = true;
                    break;
                };
                debug!(number = block.number, hash = %block.hash, events = block.events.len(), "L1 block");
                self.window.push_back(block.clone());
                // At least the tip: the next block's parent hash is checked against it.
                while self.window.len() > self.config.window.max(1) {
                    self.window.pop_front();
                }
                self.next += 1;
                added += 1;
                self.queued.push_back(FollowerEvent::Added(block));
            }
            if !chain_moved {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Removes reported blocks that are no longer canonical, newest first.
    async fn unwind_reorged(&mut self) -> Result<(), FollowerError> {
        while let Some(tip) = self.window.back() {
            let canonical = self
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(tip.number))
                .await?;
            if canonical.is_some_and(|b| b.header.hash == tip.hash) {
                return Ok(());
            }
            let removed = self.window.pop_back().expect("window has a tip");
            info!(number = removed.number, hash = %removed.hash, "L1 block reorged out");
            self.next = removed.number;
            let number = removed.number;
            self.queued.push_back(FollowerEvent::Removed(removed));
            if self.window.is_empty() && number > self.config.start_block {
                return Err(FollowerError::ReorgBeyondWindow {
                    window: self.config.window,
                    block: number,
                });
            }
        }
        Ok(())
    }

    /// The canonical block `self.next` with its events, or `None` if it does not extend the tip
    /// (the chain reorged or shrank since the tip check).
    async fn fetch_next(&self) -> Result<Option<L1Block>, FollowerError> {
        let Some(block) = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(self.next))
            .await?
        else {
            return Ok(None);
        };
        let header = &block.header;
        if self
            .window
            .back()
            .is_some_and(|tip| tip.hash != header.parent_hash)
        {
            return Ok(None);
        }
        let filter = Filter::new()
            .at_block_hash(header.hash)
            .address(self.config.contracts.addresses());
        let logs = self.provider.get_logs(&filter).await?;
        let events = logs
            .iter()
            .filter_map(|log| self.event(log, header.hash))
            .collect();
        Ok(Some(L1Block {
            number: header.number,
            hash: header.hash,
            parent_hash: header.parent_hash,
            timestamp: header.timestamp,
            events,
        }))
    }

    fn event(&self, log: &Log, block_hash: B256) -> Option<L1Event> {
        if log.block_hash.is_some_and(|h| h != block_hash) || log.removed {
            warn!(?log, "log of another block in a by-hash query; ignored");
            return None;
        }
        let Some(event) = self.config.contracts.decode(log) else {
            debug!(address = %log.address(), topics = ?log.topics(), "log not decoded by the bindings");
            return None;
        };
        Some(L1Event {
            address: log.address(),
            tx_hash: log.transaction_hash.unwrap_or_default(),
            tx_index: log.transaction_index.unwrap_or_default(),
            log_index: log.log_index.unwrap_or_default(),
            event,
        })
    }
}
