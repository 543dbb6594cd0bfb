//! The propose duty (SPEC 4, 7), collect -> decide -> act.
//!
//! When an L1 block of slot `s` exists and one of the node's validators is the proposer of `s`,
//! the node builds the next block on its synced tip (waiting up to a third of the slot for its
//! sync to reach L1's pending tip): the due forced-inclusion entries first (all of them, or
//! [`crate::duties::MAX_FORCED_PER_BLOCK`] and nothing else when more are due), then pool txs by fee. It records
//! the proposal's digest for `(proposer, s)` before anything leaves the process
//! ([`proofline_chain::store::Store::record_proposal`]), so a restarted node never proposes a second,
//! different block in a slot. It signs with its own committee members, asks its peers for the
//! others' signatures over the attestation transport until it has a quorum, and sends `propose`
//! with the body in blobs from the proposer's key.

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, Bytes, B256},
    signers::{local::PrivateKeySigner, SignerSync},
};
use eyre::{bail, eyre};
use proofline_bindings::Rollup;
use proofline_chain::{chain::StoredBlock, store::SignCheck};
use proofline_core::{quorum, ProposeArgs, Slot};
use proofline_l1::{Purpose, TxCandidate};

use crate::claims::Claim;
use tracing::{debug, info, warn};

use crate::{
    decide::{self, ProposeStep},
    duties::{build_block, committee_attestations, AttestRequest, AttestResponse, Attestation},
    node::{Fault, NodeInner},
};

/// Where a proposal's time went, for its `proposed` log line: the Rollup reads (proposer, prune
/// check, pending tip, committee), building the block (tx selection, execution on a copy of the
/// state, blob commitments), recording and making the node's own signatures (while the peers
/// re-execute the block), waiting for the rest of the peers' attestations after that, waiting for
/// the blob proofs (computed meanwhile), and sending `propose` (fees, gas estimate, signing,
/// broadcast).
#[derive(Debug, Default)]
struct ProposePhases {
    l1_reads: Duration,
    execute: Duration,
    sign: Duration,
    attest: Duration,
    blobs: Duration,
    send: Duration,
}

impl NodeInner {
    /// The propose duty of `slot`, collect -> decide -> act: if one of the node's validators
    /// proposes it, reads the chain view of the slot's block, decides (prune instead, or build on
    /// the pending tip), builds the block, gathers the committee's attestations and sends
    /// `propose`, or `proposeAndClaim` when the slot claims an epoch (the claim is chosen while
    /// the peers attest). `Ok(true)`: a block went out.
    pub async fn propose_in(&self, slot: Slot) -> eyre::Result<bool> {
        let started = Instant::now();
        let mut phases = ProposePhases::default();
        // Collect.
        let Some(signer) = self.slot_signer(slot).await? else {
            return Ok(false);
        };
        let view = self.view_at_least(self.clock_block()).await?;
        phases.l1_reads += started.elapsed();
        // Decide.
        let on_l1 = match decide::propose_step(&view) {
            ProposeStep::Prune => {
                info!(%slot, "the pending chain is due to be pruned: pruning instead of proposing");
                self.send_prune(&signer).await?;
                return Ok(false);
            }
            ProposeStep::Build { on } => on,
        };
        // Act.
        self.wait_for_tip(on_l1).await;
        let Some(mut proposal) = self.build_proposal(slot, &signer, on_l1, &mut phases)? else {
            return Ok(false);
        };
        let (attestations, claim) = tokio::join!(
            self.gather_attestations(slot, &proposal, &mut phases),
            self.choose_claim(slot, &signer)
        );
        proposal.claim = claim.unwrap_or_else(|e| {
            warn!(%slot, "no claim chosen: {e:#}");
            None
        });
        self.send_proposal(slot, &signer, proposal, attestations?, started, phases)
            .await?;
        Ok(true)
    }

    /// A proposal of `slot` (committee or fallback), bound to its slot: not sent once the node's
    /// L1 clock says no block could include it in time ([`decide::can_land`]: it would only revert
    /// `Rollup__InvalidSlot` and cost its gas), and given the slot's end as its deadline, at which
    /// the tx manager cancels it if still unmined.
    pub(crate) fn bound_to_slot(
        &self,
        candidate: TxCandidate,
        slot: Slot,
    ) -> eyre::Result<TxCandidate> {
        let now = self.clock_now_secs_f64().unwrap_or(f64::MAX);
        if !decide::can_land(&self.reader.schedule, slot, now) {
            bail!("too late: slot {slot} ends before an L1 block could include the proposal");
        }
        Ok(candidate.with_deadline(self.reader.slot_start(slot.next())))
    }

    async fn send_prune(&self, signer: &PrivateKeySigner) -> eyre::Result<()> {
        let txm = self.tx_manager(signer).await?;
        let call = Rollup::pruneCall {};
        if let Err(e) = txm
            .send(
                Purpose::new("prune"),
                TxCandidate::call(self.deployment.rollup, &call),
            )
            .await
        {
            debug!(%e, "prune not sent");
        }
        Ok(())
    }

    /// Builds the block of `slot` on block `on_l1` (the node must be synced to it), applies the
    /// injected faults, and records the proposal's digest (one per signer and slot, ever); starts
    /// the blob proofs on a blocking thread. `None`: nothing to propose (a fault, or a proposal
    /// of another block already recorded for the slot).
    fn build_proposal(
        &self,
        slot: Slot,
        signer: &PrivateKeySigner,
        on_l1: u64,
        phases: &mut ProposePhases,
    ) -> eyre::Result<Option<Proposal>> {
        let t = Instant::now();
        let (block, built) = {
            let chain = self.chain_at(on_l1)?;
            let pool = self.mempool.lock().expect("poisoned");
            let epoch = self.reader.epoch_of(slot);
            let (censor_pool, censor_forced) = self
                .config
                .fault
                .map_or((false, false), |f| f.censors(epoch));
            if censor_forced
                && chain
                    .pending_forced(1)
                    .first()
                    .is_some_and(|e| e.due_epoch <= epoch)
            {
                warn!(%slot, "fault injection: refusing the due forced txs, so proposing nothing");
                return Ok(None);
            }
            let max_txs = if censor_pool {
                warn!(%slot, "fault injection: censoring the pool's txs");
                0
            } else {
                self.config.max_block_txs
            };
            build_block(
                &chain,
                &pool,
                slot,
                epoch,
                signer.address(),
                max_txs,
                !censor_pool,
            )?
        };
        phases.execute = t.elapsed();
        let mut args = built.propose_args();
        if self.config.fault == Some(Fault::WrongStateRoot) {
            warn!(%slot, "fault injection: proposing a wrong state root");
            args.state_root = B256::repeat_byte(0xee);
        }
        let digest = args.digest(&self.domain);
        match self.store.record_proposal(signer.address(), slot, digest)? {
            SignCheck::Fresh | SignCheck::Repeat => {}
            SignCheck::Conflict { recorded } => {
                warn!(%slot, %recorded, "already proposed another block in this slot; not proposing again");
                return Ok(None);
            }
        }
        // The blob proofs (KZG, tens of milliseconds) are needed only for the send: compute them on
        // a blocking thread while the peers re-execute the block and attest.
        let sidecar = (!built.blobs.blobs.is_empty()).then(|| {
            let blobs = built.blobs.clone();
            tokio::task::spawn_blocking(move || blobs.sidecar_4844())
        });
        let signature = Bytes::from(signer.sign_hash_sync(&digest)?.as_bytes().to_vec());
        Ok(Some(Proposal {
            block,
            args,
            digest,
            signature,
            claim: None,
            sidecar,
        }))
    }

    /// The committee's attestations of `proposal`: the node's own validators', and the peers'
    /// until a quorum (asking the peers first when the node's own cannot make it). Fails without
    /// a quorum by the attestation timeout.
    async fn gather_attestations(
        &self,
        slot: Slot,
        proposal: &Proposal,
        phases: &mut ProposePhases,
    ) -> eyre::Result<(Vec<Address>, Vec<Attestation>)> {
        let t = Instant::now();
        let committee = self.reader.committee(self.reader.epoch_of(slot)).await?;
        phases.l1_reads += t.elapsed();
        let needed = quorum(committee.len());
        let held = self
            .validators
            .iter()
            .filter(|s| committee.contains(&s.address()))
            .count();
        let request = || AttestRequest {
            block: proposal.block.clone(),
            args: proposal.args.clone(),
            signature: proposal.signature.clone(),
        };
        // The peers re-execute the block before they sign: when the node's own members cannot
        // make the quorum, ask the peers first and sign while they work.
        let mut answers = None;
        if decide::ask_peers_first(held, needed) {
            let deadline = tokio::time::Instant::now() + self.config.attestation_timeout;
            answers = Some((self.p2p.request_all(request()).await, deadline));
        }
        let t = Instant::now();
        let mut attestations = self.sign_as(&committee, slot, proposal.digest);
        phases.sign = t.elapsed();
        let t = Instant::now();
        if attestations.len() < needed && answers.is_none() {
            let deadline = tokio::time::Instant::now() + self.config.attestation_timeout;
            answers = Some((self.p2p.request_all(request()).await, deadline));
        }
        if let Some((mut answers, deadline)) = answers {
            while attestations.len() < needed {
                match tokio::time::timeout_at(deadline, answers.recv()).await {
                    Ok(Some((peer, Ok(AttestResponse::Signed(sigs))))) => {
                        for a in sigs {
                            if decide::accept_attestation(
                                &committee,
                                &attestations,
                                &a,
                                proposal.digest,
                            ) {
                                attestations.push(a);
                            } else {
                                warn!(%peer, validator = %a.validator, "dropping an invalid attestation");
                            }
                        }
                    }
                    Ok(Some((peer, Ok(AttestResponse::Refused(why))))) => {
                        warn!(%peer, %why, "peer refused to attest");
                    }
                    Ok(Some((peer, Ok(AttestResponse::NotInCommittee)))) => {
                        debug!(%peer, "peer holds no committee member");
                    }
                    Ok(Some((peer, Err(e)))) => debug!(%peer, %e, "no attestation from peer"),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        phases.attest = t.elapsed();
        if attestations.len() < needed {
            bail!(
                "only {} of the {needed} attestations needed for block {} (slot {slot})",
                attestations.len(),
                proposal.block.number
            );
        }
        Ok((committee, attestations))
    }

    /// Sends `propose` for `proposal` with its attestations and blobs.
    async fn send_proposal(
        &self,
        slot: Slot,
        signer: &PrivateKeySigner,
        proposal: Proposal,
        (committee, attestations): (Vec<Address>, Vec<Attestation>),
        started: Instant,
        mut phases: ProposePhases,
    ) -> eyre::Result<()> {
        let Proposal {
            block,
            args,
            sidecar,
            claim,
            ..
        } = proposal;
        let t = Instant::now();
        let attestations_arg = committee_attestations(&committee, &attestations);
        let mut candidate = match &claim {
            // One transaction: a separate claim beside the blob propose would be refused by
            // real L1 pools (one key, blob and plain transactions pending together).
            Some(claim) => TxCandidate::call(
                self.deployment.rollup,
                &Rollup::proposeAndClaimCall {
                    args: (&args).into(),
                    attestations: attestations_arg,
                    quote: claim.quote.clone(),
                },
            ),
            None => TxCandidate::call(
                self.deployment.rollup,
                &Rollup::proposeCall {
                    args: (&args).into(),
                    attestations: attestations_arg,
                },
            ),
        };
        if let Some(sidecar) = sidecar {
            let sidecar = sidecar
                .await
                .map_err(|e| eyre!("computing the blob proofs: {e}"))??;
            candidate = candidate.with_sidecar(sidecar);
        }
        phases.blobs = t.elapsed();
        let t = Instant::now();
        let txm = self.tx_manager(signer).await?;
        let candidate = self.bound_to_slot(candidate, slot)?;
        self.remember_built(block.clone());
        let pending = txm.send(Purpose::new("propose"), candidate).await?;
        phases.send = t.elapsed();
        let slot_start = self.reader.slot_start(slot);
        let latency = self
            .clock_now_secs_f64()
            .map(|now| (now - slot_start as f64).max(0.0))
            .unwrap_or(0.0);
        self.metrics
            .observe_propose_latency(Duration::from_secs_f64(latency));
        self.metrics.blocks_proposed.inc();
        if let Some(claim) = &claim {
            self.metrics.claims_sent.inc();
            info!(
                %slot,
                epoch = claim.epoch.0,
                prover = %claim.prover,
                fee_bps = claim.fee_bps,
                tx = %pending.tx_hash(),
                "claim sent (with the block)"
            );
        }
        info!(
            block = block.number,
            %slot,
            txs = block.txs.len() + block.forced.len(),
            forced = block.forced.len(),
            attestations = attestations.len(),
            tx = %pending.tx_hash(),
            build_ms = started.elapsed().as_millis() as u64,
            latency_ms = (latency * 1e3) as u64,
            l1_reads_ms = phases.l1_reads.as_millis() as u64,
            execute_ms = phases.execute.as_millis() as u64,
            sign_ms = phases.sign.as_millis() as u64,
            attest_ms = phases.attest.as_millis() as u64,
            blobs_ms = phases.blobs.as_millis() as u64,
            send_ms = phases.send.as_millis() as u64,
            "proposed"
        );
        self.count_outcome("propose", pending);
        Ok(())
    }
}

/// A block built for proposing, before its attestations.
struct Proposal {
    block: StoredBlock,
    args: ProposeArgs,
    digest: B256,
    /// The proposer's signature over `digest` ([`AttestRequest::signature`]).
    signature: Bytes,
    /// The epoch this slot claims with the block, if any (chosen while the peers attest).
    claim: Option<Claim>,
    /// The blob proofs, being computed.
    sidecar: Option<
        tokio::task::JoinHandle<
            Result<alloy::eips::eip4844::BlobTransactionSidecar, proofline_l2::BlobError>,
        >,
    >,
}
