//! What the node reads from L1 besides events: the `propose` transaction behind an
//! `L2BlockProposed` event, the committee and proposer of a slot, the Rollup's tips, what quote
//! validation needs (the epoch to prove, its claim, the minimum bond, provers' escrow), and an
//! estimate of the L1 clock.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use alloy::{
    consensus::Transaction as _,
    network::TransactionResponse as _,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use eyre::{eyre, WrapErr};
use futures::{future::BoxFuture, FutureExt};
use proofline_bindings::{Errors, ProverEscrow, RevertData, Rollup};
use proofline_core::proposal::{decode_propose_input, ProposeArgs};
use proofline_core::{ChainView, Epoch, Schedule, Slot, Timestamp};
use proofline_l1::{Deployment, L1Provider};

/// A `propose`, `proposeAndClaim` or `proposeWithProof` call as it was sent.
#[derive(Clone, Debug)]
pub struct ProposalTx {
    pub from: Address,
    pub args: ProposeArgs,
}

/// The transaction that emitted an `L2BlockProposed` event, decoded.
pub async fn fetch_proposal(provider: &L1Provider, tx_hash: B256) -> eyre::Result<ProposalTx> {
    let tx = provider
        .get_transaction_by_hash(tx_hash)
        .await?
        .ok_or_else(|| eyre!("L1 transaction {tx_hash} not found"))?;
    let args = decode_propose_input(tx.input())
        .ok_or_else(|| eyre!("L1 transaction {tx_hash} is not a propose call"))?;
    Ok(ProposalTx {
        from: tx.from(),
        args,
    })
}

/// The Rollup's views the node asks, with the committee of each epoch cached (it is fixed once
/// the epoch is set up, SPEC 3).
pub struct RollupReader {
    pub rollup: Rollup::RollupInstance<L1Provider>,
    /// The deployment's time rules (slots, epochs, the claim window).
    pub schedule: Schedule,
    committees: Mutex<HashMap<u64, Vec<Address>>>,
    /// Proposers of recent slots (`proposer_at`), by slot.
    proposers: Mutex<HashMap<u64, Address>>,
    /// `MIN_BOND`, an immutable: read once.
    min_bond: Mutex<Option<U256>>,
}

/// The Rollup's claim state as of one L1 block: what quote validation reads
/// ([`proofline_core::quote::ValidationContext`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimState {
    /// `getEpochToProve()`, `None` when every pending block is proven.
    pub epoch_to_prove: Option<Epoch>,
    /// Whether `getProofClaim(epoch)` names a bond provider.
    pub claimed: bool,
    pub min_bond: U256,
}

impl RollupReader {
    pub fn new(provider: L1Provider, deployment: &Deployment) -> eyre::Result<Self> {
        let schedule = deployment
            .schedule()
            .map_err(|e| eyre!("deployment time parameters: {e}"))?;
        Ok(Self {
            rollup: Rollup::new(deployment.rollup, provider),
            schedule,
            committees: Mutex::new(HashMap::new()),
            proposers: Mutex::new(HashMap::new()),
            min_bond: Mutex::new(None),
        })
    }

    /// The claim state `view` shows, with the (cached) minimum bond.
    pub async fn claim_state_of(&self, view: &ChainView) -> eyre::Result<ClaimState> {
        let min_bond = self.min_bond().await?;
        Ok(claim_state(view, min_bond))
    }

    /// `MIN_BOND()`.
    pub async fn min_bond(&self) -> eyre::Result<U256> {
        if let Some(b) = *self.min_bond.lock().expect("poisoned") {
            return Ok(b);
        }
        let b = self
            .rollup
            .MIN_BOND()
            .call()
            .await
            .wrap_err("Rollup.MIN_BOND")?;
        *self.min_bond.lock().expect("poisoned") = Some(b);
        Ok(b)
    }

    pub fn slot_start(&self, slot: Slot) -> u64 {
        self.schedule.slot_start(slot).0
    }

    pub fn epoch_of(&self, slot: Slot) -> Epoch {
        self.schedule.epoch_of(slot)
    }

    /// The proposer of `slot`; the zero address when the epoch has no committee (anyone may
    /// propose, SPEC 3); `None` while the epoch's seed is not drawn (neither it nor the epoch
    /// before it was set up: `setupEpoch()` in it draws the seed).
    ///
    /// Once drawn, a slot's proposer never changes (SPEC 3: the seed is fixed after the set is
    /// final), so it is cached for the current slots: attesters look it up for every request.
    pub async fn proposer_at(&self, slot: Slot) -> eyre::Result<Option<Address>> {
        if let Some(p) = self.proposers.lock().expect("poisoned").get(&slot.0) {
            return Ok(Some(*p));
        }
        let ts = U256::from(self.slot_start(slot));
        match self.rollup.getProposerAt(ts).call().await {
            Ok(proposer) => {
                let mut cache = self.proposers.lock().expect("poisoned");
                // A few epochs of slots around the current one.
                let keep = 4 * self.schedule.time().epoch_duration();
                cache.retain(|s, _| s + keep > slot.0 && *s < slot.0 + keep);
                cache.insert(slot.0, proposer);
                Ok(Some(proposer))
            }
            Err(e)
                if e.decoded_revert()
                    .is_some_and(|d| d.is::<Errors::Rollup__SeedNotFixed>()) =>
            {
                Ok(None)
            }
            Err(e) => Err(e).wrap_err("Rollup.getProposerAt"),
        }
    }

    /// The committee of `epoch`, in committee order (empty: none).
    pub async fn committee(&self, epoch: Epoch) -> eyre::Result<Vec<Address>> {
        if let Some(c) = self.committees.lock().expect("poisoned").get(&epoch.0) {
            return Ok(c.clone());
        }
        let committee = self
            .rollup
            .getCommitteeAt(U256::from(epoch.0))
            .call()
            .await
            .wrap_err("Rollup.getCommitteeAt")?;
        let mut cache = self.committees.lock().expect("poisoned");
        // Keep a few epochs: the current one and its neighbours.
        cache.retain(|e, _| e + 4 > epoch.0);
        cache.insert(epoch.0, committee.clone());
        Ok(committee)
    }

    pub async fn pending_block(&self) -> eyre::Result<u64> {
        let n = self
            .rollup
            .getPendingBlockNumber()
            .call()
            .await
            .wrap_err("Rollup.getPendingBlockNumber")?;
        Ok(n.saturating_to())
    }

    pub async fn archive_of(&self, number: u64) -> eyre::Result<B256> {
        let block = self
            .rollup
            .getBlock(U256::from(number))
            .call()
            .await
            .wrap_err("Rollup.getBlock")?;
        Ok(block.archive)
    }
}

/// Reads provers' escrow for quote validation ([`crate::quote_intake::EscrowSource`]).
#[derive(Clone)]
pub struct EscrowReader {
    pub escrow: ProverEscrow::ProverEscrowInstance<L1Provider>,
}

impl EscrowReader {
    pub fn new(provider: L1Provider, deployment: &Deployment) -> Self {
        Self {
            escrow: ProverEscrow::new(deployment.escrow, provider),
        }
    }
}

impl crate::quote_intake::EscrowSource for EscrowReader {
    /// `minBalanceAtTime(prover, at)` at the latest block: the contract reads it at the claim's
    /// block, when more of a free balance can only count (it counts while `at < now + delay`),
    /// unless the prover starts a withdrawal meanwhile; the node reads it again every refresh.
    fn min_balance_at(&self, prover: Address, at: Timestamp) -> BoxFuture<'_, eyre::Result<U256>> {
        async move {
            self.escrow
                .minBalanceAtTime(prover, U256::from(at.0))
                .call()
                .await
                .wrap_err("ProverEscrow.minBalanceAtTime")
        }
        .boxed()
    }
}

/// The claim state a chain view shows: no epoch to prove when every pending block is proven.
pub fn claim_state(view: &ChainView, min_bond: U256) -> ClaimState {
    match view.epoch_to_prove.filter(|_| view.has_unproven()) {
        Some(epoch) => ClaimState {
            epoch_to_prove: Some(epoch),
            claimed: view.claim.is_some(),
            min_bond,
        },
        None => ClaimState {
            epoch_to_prove: None,
            claimed: false,
            min_bond,
        },
    }
}

/// The L1 clock as the node sees it: the newest block's timestamp, advanced by the time since
/// the node saw that block. Follows anvil's clock when a test moves it, and the wall clock
/// between blocks.
#[derive(Clone, Copy, Debug)]
pub struct L1Clock {
    pub block: u64,
    pub timestamp: u64,
    pub seen_at: Instant,
}

impl L1Clock {
    pub fn now(&self) -> u64 {
        self.timestamp + self.seen_at.elapsed().as_secs()
    }

    /// [`L1Clock::now`] to the sub-second.
    pub fn now_secs_f64(&self) -> f64 {
        self.timestamp as f64 + self.seen_at.elapsed().as_secs_f64()
    }

    /// How old the newest block is.
    pub fn age(&self) -> Duration {
        self.seen_at.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proofline_core::{FallbackWindow, ProofClaim};

    fn view(pending: u64, proven: u64, claimed: bool) -> ChainView {
        ChainView {
            l1_block: 9,
            l1_timestamp: Timestamp(100),
            now: Timestamp(100),
            pending,
            proven,
            epoch_to_prove: (pending > proven).then_some(Epoch(3)),
            claim: claimed.then_some(ProofClaim {
                bond_provider: Address::repeat_byte(1),
                bond_amount: U256::from(5),
                basis_point_fee: 0,
            }),
            can_prune: false,
            fallback: FallbackWindow::new(false, 0, 0),
            reward_pool: U256::ZERO,
        }
    }

    #[test]
    fn the_claim_state_of_a_view() {
        let bond = U256::from(7);
        let s = claim_state(&view(10, 4, false), bond);
        assert_eq!(s.epoch_to_prove, Some(Epoch(3)));
        assert!(!s.claimed);
        assert_eq!(s.min_bond, bond);
        assert!(claim_state(&view(10, 4, true), bond).claimed);
        // Everything proven: nothing to prove.
        let done = claim_state(&view(10, 10, true), bond);
        assert_eq!(done.epoch_to_prove, None);
        assert!(!done.claimed);
    }
}
