//! Proposing in based fallback (SPEC 6).
//!
//! While the Rollup is in fallback, `propose` and claims are refused and anyone may append a
//! block with its proof in the same transaction (`proposeWithProof`), without attestations. A
//! node run with a fallback key ([`crate::node::NodeConfig::fallback_key`]) does so once per
//! slot, as soon as an L1 block of the slot exists:
//!
//! - it reads the Rollup's tips and fallback status at L1's newest block, and waits (up to a third
//!   of a slot) for its sync to reach the pending tip;
//! - it builds on the **proven** tip: the Rollup drops the committee's unproven blocks before it
//!   appends a fallback block, so the node builds on a copy of its chain rolled back to there;
//! - the block is the one a committee proposer would build in the current slot (the due forced
//!   txs first, then pool txs by fee), with the fallback key's address as coinbase;
//! - the proof's public inputs are [`ProposeArgs::block_proof_inputs`]; the node makes the dev
//!   verifier's proof ([`ProposeArgs::dev_block_proof`]), which proves nothing, so this runs on
//!   devnets only until a block prover stands behind it.
//!
//! The committee's own proposers skip slots in fallback ([`FallbackWindow::covers`]), read from
//! the status the node polls, so they do not gather attestations for a block the Rollup refuses.

use std::time::Instant;

use alloy::primitives::Bytes;
use eyre::eyre;
use proofline_bindings::Rollup;
use proofline_core::Slot;
use proofline_l1::{Purpose, TxCandidate};
use tracing::info;

use crate::{decide, duties::build_block, node::NodeInner};

impl NodeInner {
    /// Builds the block of `slot` on the proven tip and sends it with its proof, if the Rollup is
    /// in fallback and the node has a fallback key.
    pub async fn propose_in_fallback(&self, slot: Slot) -> eyre::Result<()> {
        let Some(signer) = self.config.fallback_key.clone() else {
            return Ok(());
        };
        let started = Instant::now();
        let view = self.view_at_least(self.clock_block()).await?;
        if !decide::fallback_propose_now(&view.fallback, slot) {
            return Ok(());
        }
        let (pending, proven) = (view.pending, view.proven);
        self.wait_for_tip(pending).await;
        let epoch = self.reader.epoch_of(slot);
        let (block, built) = {
            let chain = self.chain_at(pending)?;
            let pool = self.mempool.lock().expect("poisoned");
            // The Rollup drops the unproven blocks first: build on the proven tip, with the
            // dropped blocks' txs back in (a copy of) the pool, as a prune would put them.
            let rolled_back = (proven < pending).then(|| {
                let mut base = chain.clone();
                let mut pool = pool.clone();
                for tx in base.rollback(proven).iter().flat_map(|b| &b.txs) {
                    let _ = pool.add(tx, base.l2().state());
                }
                (base, pool)
            });
            let (base, pool) = match &rolled_back {
                Some((base, pool)) => (base, pool),
                None => (&*chain, &*pool),
            };
            build_block(
                base,
                pool,
                slot,
                epoch,
                signer.address(),
                self.config.max_block_txs,
                true,
            )?
        };
        let args = built.propose_args();
        let proof = args.dev_block_proof(&self.domain, epoch.0, signer.address());
        let call = Rollup::proposeWithProofCall {
            args: (&args).into(),
            proof: Bytes::from(proof.to_vec()),
        };
        let mut candidate = TxCandidate::call(self.deployment.rollup, &call);
        if !built.blobs.blobs.is_empty() {
            let blobs = built.blobs.clone();
            let sidecar = tokio::task::spawn_blocking(move || blobs.sidecar_4844())
                .await
                .map_err(|e| eyre!("computing the blob proofs: {e}"))??;
            candidate = candidate.with_sidecar(sidecar);
        }
        let txm = self.tx_manager(&signer).await?;
        let candidate = self.bound_to_slot(candidate, slot)?;
        self.remember_built(block.clone());
        let pending_tx = txm.send(Purpose::new("propose"), candidate).await?;
        self.metrics.fallback_blocks_proposed.inc();
        info!(
            block = block.number,
            %slot,
            on_proven = proven,
            dropped = pending - proven,
            txs = block.txs.len() + block.forced.len(),
            forced = block.forced.len(),
            tx = %pending_tx.tx_hash(),
            build_ms = started.elapsed().as_millis() as u64,
            "proposed in based fallback, with proof"
        );
        self.count_outcome("propose_with_proof", pending_tx);
        Ok(())
    }
}
