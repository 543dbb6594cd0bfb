//! The Proofline contracts' events, decoded with the generated bindings.

use alloy::{
    primitives::{Address, B256},
    rpc::types::Log,
    sol_types::SolEventInterface,
};
use proofline_bindings::{ForcedInclusionQueue, ProverEscrow, Rollup};

use crate::deployment::Deployment;

/// The contracts whose events are followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchedContracts {
    pub rollup: Address,
    /// `ForcedTxQueued`, `ForcedTxsConsumed`, `ForcedTxsRequeued`, ...
    pub queue: Option<Address>,
    /// `Deposited`, `BondStaked`, `BondSlashed`, ...
    pub escrow: Option<Address>,
}

impl WatchedContracts {
    pub fn addresses(&self) -> Vec<Address> {
        [Some(self.rollup), self.queue, self.escrow]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Decodes a log of one of the watched contracts; `None` for any other log, or one whose
    /// topics the binding does not know.
    pub fn decode(&self, log: &Log) -> Option<ProoflineEvent> {
        let (topics, data) = (log.topics(), &log.data().data);
        let address = log.address();
        if address == self.rollup {
            Rollup::RollupEvents::decode_raw_log(topics, data)
                .ok()
                .map(ProoflineEvent::Rollup)
        } else if Some(address) == self.queue {
            ForcedInclusionQueue::ForcedInclusionQueueEvents::decode_raw_log(topics, data)
                .ok()
                .map(ProoflineEvent::Queue)
        } else if Some(address) == self.escrow {
            ProverEscrow::ProverEscrowEvents::decode_raw_log(topics, data)
                .ok()
                .map(ProoflineEvent::Escrow)
        } else {
            None
        }
    }
}

impl From<&Deployment> for WatchedContracts {
    fn from(d: &Deployment) -> Self {
        Self {
            rollup: d.rollup,
            queue: Some(d.forced_inclusion_queue),
            escrow: Some(d.escrow),
        }
    }
}

/// An event of one of the Proofline contracts, as its generated type: e.g.
/// `ProoflineEvent::Rollup(Rollup::RollupEvents::L2BlockProposed(..))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProoflineEvent {
    Rollup(Rollup::RollupEvents),
    Queue(ForcedInclusionQueue::ForcedInclusionQueueEvents),
    Escrow(ProverEscrow::ProverEscrowEvents),
}

/// A decoded event and where it was emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Event {
    pub address: Address,
    pub tx_hash: B256,
    pub tx_index: u64,
    /// Position among all logs of the block (events of one block come in this order).
    pub log_index: u64,
    pub event: ProoflineEvent,
}

impl L1Event {
    pub fn rollup(&self) -> Option<&Rollup::RollupEvents> {
        match &self.event {
            ProoflineEvent::Rollup(e) => Some(e),
            _ => None,
        }
    }

    pub fn queue(&self) -> Option<&ForcedInclusionQueue::ForcedInclusionQueueEvents> {
        match &self.event {
            ProoflineEvent::Queue(e) => Some(e),
            _ => None,
        }
    }

    pub fn escrow(&self) -> Option<&ProverEscrow::ProverEscrowEvents> {
        match &self.event {
            ProoflineEvent::Escrow(e) => Some(e),
            _ => None,
        }
    }
}
