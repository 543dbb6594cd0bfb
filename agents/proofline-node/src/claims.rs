//! The proposer's claim duty (SPEC 5.3): in slot k < C of epoch N+1, the proposer of that slot
//! claims the right to prove epoch N for the best quote the node holds.
//!
//! The best quote is the pool's ([`crate::quotes::QuotePool::best`]: lowest `basisPointFee`,
//! then the higher bond), already validated against the node's last view of L1. Before sending,
//! the node asks the Rollup itself: `validateEpochProofRightClaim(quote, proposer)` runs every
//! check of the claim as a view at the latest block, so a quote L1 would refuse (escrow withdrawn
//! since, a claim that landed meanwhile) is dropped from the pool and the next best is tried. The
//! claim rides in the slot's block (`proposeAndClaim`): geth's and reth's pools refuse a plain
//! transaction from a key that has a blob transaction pending, so a separate claim beside the
//! blob `propose` failed at random on a real network. Only a proposer that sends no block claims
//! on its own (`claimEpochProofRight`).
//!
//! A proposer that holds no valid quote in its slot leaves the claim to the next slot's proposer
//! (the quote may still arrive); an epoch with no claim by the end of the window is pruned.

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use proofline_bindings::{RevertData, Rollup};
use proofline_core::{Epoch, Slot};
use proofline_l1::{Purpose, TxCandidate};
use tracing::{debug, info, warn};

use crate::{decide, node::NodeInner};

/// Quotes tried per slot at most (each costs one `eth_call`).
const MAX_TRIES: usize = 4;

/// A claim the slot's proposer makes: the epoch and the quote L1 just accepted in a view.
pub(crate) struct Claim {
    pub epoch: Epoch,
    pub quote: Rollup::SignedEpochProofQuote,
    pub prover: Address,
    pub fee_bps: u32,
}

impl NodeInner {
    /// Claims epoch N in `slot` on its own (`claimEpochProofRight`) if `slot` is in N's claim
    /// window, one of the node's validators proposes in it, and N is unclaimed. The proposer
    /// claims this way only when it sends no block: a block it sends carries the claim
    /// (`proposeAndClaim`), since real L1 pools refuse a plain transaction from a key beside its
    /// pending blob transaction.
    pub(crate) async fn claim_in(&self, slot: Slot) -> eyre::Result<()> {
        let Some(signer) = self.slot_signer(slot).await? else {
            return Ok(());
        };
        let Some(claim) = self.choose_claim(slot, &signer).await? else {
            return Ok(());
        };
        let n = claim.epoch.0;
        let txm = self.tx_manager(&signer).await?;
        let call = Rollup::claimEpochProofRightCall { quote: claim.quote };
        match txm
            .send(
                Purpose::new(format!("claim-{n}")),
                TxCandidate::call(self.deployment.rollup, &call),
            )
            .await
        {
            Ok(pending) => {
                info!(
                    %slot,
                    epoch = n,
                    prover = %claim.prover,
                    fee_bps = claim.fee_bps,
                    tx = %pending.tx_hash(),
                    "claim sent"
                );
                self.metrics.claims_sent.inc();
            }
            Err(e) => debug!(epoch = n, "claim not sent: {e}"),
        }
        Ok(())
    }

    /// The claim `slot`'s proposer (`signer`) makes, if `slot` is in a claim window and its epoch
    /// is unclaimed: the best pooled quote that L1 accepts now.
    pub(crate) async fn choose_claim(
        &self,
        slot: Slot,
        signer: &PrivateKeySigner,
    ) -> eyre::Result<Option<Claim>> {
        if !decide::in_claim_window(&self.reader.schedule, slot) {
            return Ok(None);
        }
        let view = self.view_at_least(self.clock_block()).await?;
        let state = self.reader.claim_state_of(&view).await?;
        let Some(epoch) = decide::claim_epoch(&self.reader.schedule, slot, &state) else {
            return Ok(None);
        };
        let n = epoch.0;
        for _ in 0..MAX_TRIES {
            let Some(best) = self.quotes.best(epoch) else {
                info!(%slot, epoch = n, "no valid quote to claim with");
                return Ok(None);
            };
            let quote: Rollup::SignedEpochProofQuote = (*best.signed()).into();
            let check = self
                .reader
                .rollup
                .validateEpochProofRightClaim(quote.clone(), signer.address())
                .call()
                .await;
            if let Err(e) = check {
                // Only L1's refusal (a revert) condemns the quote; a failed read (timeout, rate
                // limit) says nothing about it: keep it and leave the claim to a later try.
                if e.revert_data().is_none() {
                    warn!(
                        epoch = n,
                        "cannot ask L1 about the best quote; keeping it: {e}"
                    );
                    return Ok(None);
                }
                let digest = best.digest();
                warn!(epoch = n, prover = %best.prover(), "L1 refuses the best quote, dropping it: {e}");
                self.quotes.remove(epoch, &digest);
                continue;
            }
            return Ok(Some(Claim {
                epoch,
                quote,
                prover: best.prover(),
                fee_bps: best.quote().basis_point_fee,
            }));
        }
        Ok(None)
    }
}
