//! The proposer's claim duty (SPEC 5.3): in slot k < C of epoch N+1, the proposer of that slot
//! claims the right to prove epoch N for the best quote the node holds.
//!
//! The best quote is the pool's ([`crate::quotes::QuotePool::best`]: lowest `basisPointFee`,
//! then the higher bond), already validated against the node's last view of L1. Before sending,
//! the node asks the Rollup itself: `validateEpochProofRightClaim(quote, proposer)` runs every
//! check of the claim as a view at the latest block, so a quote L1 would refuse (escrow withdrawn
//! since, a claim that landed meanwhile) is dropped from the pool and the next best is tried. The
//! claim goes out as its own transaction from the proposer's key (`claimEpochProofRight`), next to
//! the slot's `propose`; the tx manager orders both by nonce.
//!
//! A proposer that holds no valid quote in its slot leaves the claim to the next slot's proposer
//! (the quote may still arrive); an epoch with no claim by the end of the window is pruned.

use proofline_bindings::Rollup;
use proofline_core::Slot;
use proofline_l1::{Purpose, TxCandidate};
use tracing::{debug, info, warn};

use crate::{decide, node::NodeInner};

/// Quotes tried per slot at most (each costs one `eth_call`).
const MAX_TRIES: usize = 4;

impl NodeInner {
    /// Claims epoch N in `slot` if `slot` is in N's claim window, one of the node's validators
    /// proposes in it, and N is unclaimed.
    pub(crate) async fn claim_in(&self, slot: Slot) -> eyre::Result<()> {
        if !decide::in_claim_window(&self.reader.schedule, slot) {
            return Ok(());
        }
        let Some(signer) = self.slot_signer(slot).await? else {
            return Ok(());
        };
        let view = self.view_at_least(self.clock_block()).await?;
        let state = self.reader.claim_state_of(&view).await?;
        let Some(epoch) = decide::claim_epoch(&self.reader.schedule, slot, &state) else {
            return Ok(());
        };
        let n = epoch.0;
        let purpose = Purpose::new(format!("claim-{n}"));
        let txm = self.tx_manager(&signer).await?;
        if txm.in_flight(&purpose).is_some() {
            return Ok(());
        }
        for _ in 0..MAX_TRIES {
            let Some(best) = self.quotes.best(epoch) else {
                info!(%slot, epoch = n, "no valid quote to claim with");
                return Ok(());
            };
            let quote: Rollup::SignedEpochProofQuote = (*best.signed()).into();
            let check = self
                .reader
                .rollup
                .validateEpochProofRightClaim(quote.clone(), signer.address())
                .call()
                .await;
            if let Err(e) = check {
                let digest = best.digest();
                warn!(epoch = n, prover = %best.prover(), "L1 refuses the best quote, dropping it: {e}");
                self.quotes.remove(epoch, &digest);
                continue;
            }
            let call = Rollup::claimEpochProofRightCall { quote };
            match txm
                .send(purpose, TxCandidate::call(self.deployment.rollup, &call))
                .await
            {
                Ok(pending) => {
                    info!(
                        %slot,
                        epoch = n,
                        prover = %best.prover(),
                        fee_bps = best.quote().basis_point_fee,
                        tx = %pending.tx_hash(),
                        "claim sent"
                    );
                    self.metrics.claims_sent.inc();
                }
                Err(e) => debug!(epoch = n, "claim not sent: {e}"),
            }
            return Ok(());
        }
        Ok(())
    }
}
