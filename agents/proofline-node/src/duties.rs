//! The validators' duties: attesting other proposers' blocks, and what proposing shares with
//! it (building a block, the attestation wire types). Proposing itself: [`crate::propose`].
//!
//! # Attesting
//!
//! An attester signs a proposal only if it is for the current slot (waiting up to a third of a
//! slot for its own L1 clock when the proposal is for the next one), from that slot's proposer,
//! builds on the attester's own tip, takes the queue entries the attester saw queued, and
//! re-executing it gives exactly the proposed header (state root, archive, blobs, counts). Each
//! signature is recorded per `(validator, slot)` first, so no validator signs two different
//! blocks for one slot, even across restarts.

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, Bytes, B256, U256},
    signers::{local::PrivateKeySigner, SignerSync},
};
use proofline_bindings::Rollup;
use proofline_core::{Epoch, ProposeArgs, Slot};
use proofline_l1::TxCandidate;
use proofline_l2::{L2Block, Tx};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use proofline_chain::chain::{ApplyError, NodeChain, StoredBlock};
use proofline_chain::store::{Seen, SignCheck, SignedDigest};

use crate::{decide, mempool::Mempool, metrics::AttestationResult, node::NodeInner};

/// Forced entries a block takes at most. SPEC 7 asks for min(due, MIN_FORCED_TXS_PER_BLOCK); a
/// block that cannot take every due entry carries nothing else.
pub const MAX_FORCED_PER_BLOCK: usize = 64;

/// What a proposer sends its peers: the block, the header it claims, and the proposer's
/// signature over the header's digest (the proposal digest attesters sign), which says the slot's
/// proposer, and nobody else, proposes this block.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttestRequest {
    pub block: StoredBlock,
    pub args: ProposeArgs,
    /// 65 bytes: r, s, v.
    pub signature: Bytes,
}

/// A peer's answer: its committee members' signatures, or why it refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum AttestResponse {
    Signed(Vec<Attestation>),
    Refused(String),
    /// None of the node's validators sits in the slot's committee (a prover's follower node, a
    /// validator between committees): nothing to sign, and nothing wrong.
    NotInCommittee,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attestation {
    pub validator: Address,
    /// 65 bytes: r, s, v (27 or 28).
    pub signature: Bytes,
}

impl Attestation {
    pub(crate) fn sign(signer: &PrivateKeySigner, digest: B256) -> eyre::Result<Self> {
        let sig = signer.sign_hash_sync(&digest)?;
        Ok(Self {
            validator: signer.address(),
            signature: Bytes::from(sig.as_bytes().to_vec()),
        })
    }

    fn to_binding(&self) -> Option<Rollup::Signature> {
        let b = &self.signature;
        if b.len() != 65 {
            return None;
        }
        Some(Rollup::Signature {
            r: B256::from_slice(&b[0..32]),
            s: B256::from_slice(&b[32..64]),
            v: b[64],
        })
    }

    /// Whether this is `validator`'s signature over `digest`.
    pub(crate) fn verify(&self, digest: B256) -> bool {
        alloy::primitives::Signature::try_from(&self.signature[..])
            .ok()
            .and_then(|s| s.recover_address_from_prehash(&digest).ok())
            == Some(self.validator)
    }
}

/// The attestations `propose` takes: a bitmap of committee positions and the signatures in
/// position order. Signatures of non-members or repeated members are left out.
pub fn committee_attestations(
    committee: &[Address],
    attestations: &[Attestation],
) -> Rollup::CommitteeAttestations {
    let mut by_index: Vec<(usize, Rollup::Signature)> = Vec::new();
    for a in attestations {
        let Some(index) = committee.iter().position(|m| *m == a.validator) else {
            continue;
        };
        if by_index.iter().any(|(i, _)| *i == index) {
            continue;
        }
        if let Some(sig) = a.to_binding() {
            by_index.push((index, sig));
        }
    }
    by_index.sort_by_key(|(i, _)| *i);
    let mut signers = U256::ZERO;
    for (i, _) in &by_index {
        signers |= U256::from(1) << *i;
    }
    Rollup::CommitteeAttestations {
        signers,
        signatures: by_index.into_iter().map(|(_, s)| s).collect(),
    }
}

/// The block a proposer makes on `chain`'s tip in `slot` (of `epoch`): the queue's entries
/// first, then the pool's txs by fee as long as they are valid together and fit the blobs.
///
/// With more than [`MAX_FORCED_PER_BLOCK`] entries due, the block takes that many and nothing
/// else (SPEC 7). Otherwise an `eager` proposer takes every queued entry up to that many, due or
/// not (SPEC 7 allows it): fee deposits then reach L2 in the next block, not
/// FORCED_INCLUSION_DELAY epochs later, and the queue stays short, which keeps its enqueue fee
/// low. A proposer that is not eager (the devnet's censoring fault) takes the due ones only.
pub fn build_block(
    chain: &NodeChain,
    pool: &Mempool,
    slot: Slot,
    epoch: Epoch,
    coinbase: Address,
    max_txs: usize,
    eager: bool,
) -> Result<(StoredBlock, L2Block), ApplyError> {
    let queued = chain.pending_forced(MAX_FORCED_PER_BLOCK + 1);
    // Entries are queued in due-epoch order: the due ones lead.
    let due = queued.iter().take_while(|e| e.due_epoch <= epoch).count();
    let only_forced = due > MAX_FORCED_PER_BLOCK;
    let take = if only_forced || eager {
        queued.len().min(MAX_FORCED_PER_BLOCK)
    } else {
        due
    };
    let forced: Vec<Bytes> = queued[..take].iter().map(|e| e.data.clone()).collect();
    let candidates: Vec<Tx> = if only_forced {
        Vec::new()
    } else {
        pool.pending(max_txs)
    };
    let (txs, _left_out) = chain.l2().select_txs(&forced, candidates);
    let mut block = StoredBlock {
        number: chain.tip() + 1,
        slot,
        coinbase,
        forced,
        txs: txs.iter().map(|t| Bytes::from(t.encode())).collect(),
        archive: B256::ZERO,
    };
    let built = chain.preview(&block)?;
    block.archive = built.archive;
    Ok((block, built))
}

impl NodeInner {
    /// Signs `digest` for `slot` with each of `members` the node holds, skipping a validator that
    /// already signed something else for the slot. The signatures are recorded together, in one
    /// durable write, before any is made.
    pub(crate) fn sign_as(
        &self,
        members: &[Address],
        slot: Slot,
        digest: B256,
    ) -> Vec<Attestation> {
        let held: Vec<&PrivateKeySigner> = self
            .validators
            .iter()
            .filter(|s| members.contains(&s.address()))
            .collect();
        if held.is_empty() {
            return Vec::new();
        }
        let addresses: Vec<Address> = held.iter().map(|s| s.address()).collect();
        let checks = match self.store.record_signatures(&addresses, slot, digest) {
            Ok(checks) => checks,
            Err(e) => {
                warn!(%e, %slot, "cannot record the signatures; not signing");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (signer, check) in held.into_iter().zip(checks) {
            let validator = signer.address();
            match check {
                SignCheck::Fresh | SignCheck::Repeat => match Attestation::sign(signer, digest) {
                    Ok(a) => out.push(a),
                    Err(e) => warn!(%validator, %e, "signing failed"),
                },
                SignCheck::Conflict { recorded } => warn!(
                    %validator, %slot, %recorded, %digest,
                    "not signing: this validator already signed another block for the slot"
                ),
            }
        }
        out
    }

    /// Re-executes a proposal and signs it with the node's committee members if it holds.
    pub async fn attest(&self, req: AttestRequest) -> AttestResponse {
        if self.validators.is_empty() {
            // A follower (a prover's node): nothing to sign, no work to do for the request.
            return AttestResponse::NotInCommittee;
        }
        match self.check_proposal(&req).await {
            Ok((members, digest)) => {
                let sigs = self.sign_as(&members, req.block.slot, digest);
                self.metrics.attestation(AttestationResult::Signed);
                if !sigs.is_empty() {
                    self.remember_built(req.block.clone());
                }
                info!(
                    block = req.block.number,
                    slot = %req.block.slot,
                    signatures = sigs.len(),
                    "attested"
                );
                AttestResponse::Signed(sigs)
            }
            Err(e)
                if matches!(
                    e.downcast_ref::<decide::Refusal>(),
                    Some(decide::Refusal::NotInCommittee(_))
                ) =>
            {
                // Expected, not a warning: an idle node must not shout every slot.
                debug!(block = req.block.number, slot = %req.block.slot, "not attesting: {e:#}");
                AttestResponse::NotInCommittee
            }
            Err(e) => {
                self.metrics.attestation(AttestationResult::Refused);
                warn!(
                    block = req.block.number,
                    slot = %req.block.slot,
                    "refusing to attest: {e:#}"
                );
                AttestResponse::Refused(format!("{e:#}"))
            }
        }
    }

    /// The node's committee members for the proposal's slot, if it should sign it, and the
    /// proposal's digest: collects what [`decide::attest`] needs, waiting a moment for the node's
    /// clock and sync to reach the proposal, and lets it decide.
    async fn check_proposal(&self, req: &AttestRequest) -> eyre::Result<(Vec<Address>, B256)> {
        let block = &req.block;
        let slot = block.slot;
        let patience = Duration::from_secs(self.reader.schedule.time().slot_duration() / 3);
        // The proposer proposes as soon as it sees the slot's first L1 block; this node's L1
        // clock (its newest block's timestamp plus whole seconds since) can still be in the slot
        // before for up to a second: wait for it to get there rather than refuse.
        let deadline = Instant::now() + patience;
        while self.current_slot().next() == slot && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let current_slot = self.current_slot();
        if slot != current_slot {
            // Refused before any L1 read: a proposal for another slot costs the node nothing.
            return Err(decide::Refusal::WrongSlot {
                proposal: slot,
                current: current_slot,
            }
            .into());
        }
        // Authenticated before anything is recorded, read (but the slot's proposer, cached) or
        // executed for it: only the slot's proposer gets work done.
        let digest = req.args.digest(&self.domain);
        let proposer = self.reader.proposer_at(slot).await?;
        let proposer = decide::authenticate(current_slot, proposer, digest, req)?;
        let signed = SignedDigest {
            digest,
            signature: req.signature.clone(),
        };
        if let Seen::Equivocation(e) = self.store.record_seen_proposal(proposer, slot, &signed)? {
            warn!(
                %slot, %proposer, first = %e.first.digest, second = %e.second.digest,
                "the slot's proposer signed two different proposals: kept as evidence (node_getEquivocations)"
            );
            self.metrics.equivocation();
            return Err(decide::Refusal::Equivocation {
                slot,
                first: e.first.digest,
            }
            .into());
        }
        let epoch = self.reader.epoch_of(slot);
        let committee = self.reader.committee(epoch).await?;
        // The proposer may be a moment ahead of this node's sync: wait for the parent.
        let deadline = Instant::now() + patience;
        while self.chain.read().expect("poisoned").tip() + 1 < block.number
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let validators: Vec<Address> = self.validators.iter().map(|s| s.address()).collect();
        let reading = decide::AttestReading {
            current_slot,
            epoch,
            committee: &committee,
            proposer: Some(proposer),
            validators: &validators,
        };
        let chain = self.chain.read().expect("poisoned");
        let members = decide::attest_authenticated(&reading, &chain, req)?;
        Ok((members, digest))
    }

    /// The key of the node's validator that proposes (and may claim) in `slot`, if any.
    pub(crate) async fn slot_signer(&self, slot: Slot) -> eyre::Result<Option<PrivateKeySigner>> {
        let proposer = match self.reader.proposer_at(slot).await? {
            Some(proposer) => proposer,
            None => {
                // Neither this epoch nor the one before was set up (no block, claim or setup in
                // all of the last epoch: after based fallback, or an idle stretch), so its seed
                // is not drawn and no one knows the proposers: draw it, as anyone may.
                self.set_up_epoch(slot).await?;
                self.reader.proposer_at(slot).await?.ok_or_else(|| {
                    eyre::eyre!("slot {slot}'s epoch is still not set up after setupEpoch()")
                })?
            }
        };
        if proposer != Address::ZERO {
            return Ok(self
                .validators
                .iter()
                .find(|s| s.address() == proposer)
                .cloned());
        }
        // No committee yet (the first epochs after deployment): anyone may propose. To keep the
        // nodes from racing, the deployment's staked validators take turns by slot; a node with
        // none of them proposes with its first key.
        let staked = &self.deployment.validators;
        let turn = (!staked.is_empty()).then(|| staked[(slot.0 % staked.len() as u64) as usize]);
        let holds_any = self
            .validators
            .iter()
            .any(|s| staked.contains(&s.address()));
        Ok(match turn {
            Some(turn) if holds_any => self.validators.iter().find(|s| s.address() == turn),
            _ => self.validators.first(),
        }
        .cloned())
    }

    /// Sends `setupEpoch()` for `slot`'s epoch from the node's first validator key and waits for it
    /// (another node's may land first: the second is a cheap no-op).
    async fn set_up_epoch(&self, slot: Slot) -> eyre::Result<()> {
        let signer = self
            .validators
            .first()
            .ok_or_else(|| eyre::eyre!("no validator key to set the epoch up with"))?;
        let epoch = self.reader.epoch_of(slot);
        info!(%slot, %epoch, "the epoch's seed is not drawn yet: sending setupEpoch()");
        let txm = self.tx_manager(signer).await?;
        txm.send_and_wait(
            "setup-epoch",
            TxCandidate::call(self.deployment.rollup, &Rollup::setupEpochCall {}),
        )
        .await?;
        Ok(())
    }

    /// Waits up to a third of a slot for the node's sync to reach block `tip`. Just after a
    /// restart or an L1 outage (or when the parent landed late in the previous slot) the sync
    /// can be a moment behind L1's tip: a proposer waits for it, as an attester waits for the
    /// parent, rather than give the slot up at once.
    /// The chain, read-locked, if the node holds exactly the pending block `tip` (what it must
    /// build on); an error otherwise.
    pub(crate) fn chain_at(
        &self,
        tip: u64,
    ) -> eyre::Result<std::sync::RwLockReadGuard<'_, NodeChain>> {
        let chain = self.chain.read().expect("poisoned");
        if chain.tip() != tip {
            eyre::bail!(
                "not synced: this node is at block {}, L1 at {tip}",
                chain.tip()
            );
        }
        Ok(chain)
    }

    pub(crate) async fn wait_for_tip(&self, tip: u64) {
        let deadline =
            Instant::now() + Duration::from_secs(self.reader.schedule.time().slot_duration() / 3);
        while self.chain.read().expect("poisoned").tip() < tip && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::MempoolConfig;
    use proofline_chain::chain::QueueEntry;
    use proofline_devnet::txgen::TxGen;

    fn pool_of(chain: &NodeChain, n: usize) -> Mempool {
        let mut pool = Mempool::new(MempoolConfig { max_txs: 1000 });
        for tx in TxGen::new(7).take(n) {
            pool.add(&tx.encode(), chain.l2().state()).expect("valid");
        }
        pool
    }

    fn queue(chain: &mut NodeChain, n: u64, due_epoch: Epoch) {
        for i in 0..n {
            let tx = TxGen::new(1000 + i).next_tx();
            chain.on_queued(QueueEntry {
                index: i,
                tx_hash: alloy::primitives::keccak256(tx.encode()),
                due_epoch,
                data: Bytes::from(tx.encode()),
                l1_block: 1,
            });
        }
    }

    #[test]
    fn a_block_takes_pool_txs_up_to_the_limit() {
        let chain = NodeChain::new();
        let pool = pool_of(&chain, 30);
        let (block, built) = build_block(
            &chain,
            &pool,
            Slot(5),
            Epoch(0),
            Address::repeat_byte(1),
            20,
            true,
        )
        .unwrap();
        assert_eq!(block.txs.len(), 20);
        assert!(block.forced.is_empty());
        assert_eq!(built.header.tx_count, 20);
        assert_eq!(block.number, 1);
        // It applies as built.
        let mut copy = chain.clone();
        copy.apply(block).unwrap();
    }

    /// Not eager (the censoring fault): due entries lead, the others wait.
    #[test]
    fn due_forced_entries_lead_and_not_due_ones_wait() {
        let mut chain = NodeChain::new();
        queue(&mut chain, 3, Epoch(2));
        let pool = pool_of(&chain, 5);
        let (early, _) =
            build_block(&chain, &pool, Slot(5), Epoch(1), Address::ZERO, 100, false).unwrap();
        assert!(early.forced.is_empty(), "not due in epoch 1");
        assert_eq!(early.txs.len(), 5);
        let (due, built) =
            build_block(&chain, &pool, Slot(20), Epoch(2), Address::ZERO, 100, false).unwrap();
        assert_eq!(due.forced.len(), 3);
        assert_eq!(due.txs.len(), 5);
        assert_eq!(built.header.forced_tx_count, 3);
    }

    /// An honest proposer takes every queued entry at once, due or not (fee deposits arrive in
    /// the next block), up to the cap.
    #[test]
    fn an_eager_proposer_takes_entries_before_they_are_due() {
        let mut chain = NodeChain::new();
        queue(&mut chain, 3, Epoch(2));
        let pool = pool_of(&chain, 5);
        let (block, built) =
            build_block(&chain, &pool, Slot(5), Epoch(1), Address::ZERO, 100, true).unwrap();
        assert_eq!(block.forced.len(), 3, "taken in epoch 1, due in epoch 2");
        assert_eq!(block.txs.len(), 5);
        assert_eq!(built.header.forced_tx_count, 3);
        let mut more = NodeChain::new();
        queue(&mut more, MAX_FORCED_PER_BLOCK as u64 + 5, Epoch(9));
        let (block, _) =
            build_block(&more, &pool, Slot(5), Epoch(1), Address::ZERO, 100, true).unwrap();
        assert_eq!(block.forced.len(), MAX_FORCED_PER_BLOCK);
        assert_eq!(block.txs.len(), 5, "none is due, so other txs may follow");
    }

    #[test]
    fn more_due_entries_than_a_block_takes_leave_no_room_for_others() {
        let mut chain = NodeChain::new();
        queue(&mut chain, MAX_FORCED_PER_BLOCK as u64 + 1, Epoch(0));
        let pool = pool_of(&chain, 5);
        for eager in [true, false] {
            let (block, _) =
                build_block(&chain, &pool, Slot(1), Epoch(0), Address::ZERO, 100, eager).unwrap();
            assert_eq!(block.forced.len(), MAX_FORCED_PER_BLOCK);
            assert!(block.txs.is_empty());
        }
    }

    #[test]
    fn attestations_are_ordered_by_committee_position() {
        let signers: Vec<PrivateKeySigner> = (0..4).map(|_| PrivateKeySigner::random()).collect();
        let committee: Vec<Address> = signers.iter().map(|s| s.address()).collect();
        let digest = B256::repeat_byte(9);
        // Signed in reverse order, one repeated, one outsider.
        let mut atts: Vec<Attestation> = signers
            .iter()
            .rev()
            .map(|s| Attestation::sign(s, digest).unwrap())
            .collect();
        atts.push(atts[0].clone());
        atts.push(Attestation::sign(&PrivateKeySigner::random(), digest).unwrap());
        assert!(atts.iter().all(|a| a.verify(digest)));
        assert!(!atts[0].verify(B256::repeat_byte(8)));
        let ca = committee_attestations(&committee[..], &atts[1..4]);
        // Members 0, 1, 2 signed (atts[1..4] are members 2, 1, 0).
        assert_eq!(ca.signers, U256::from(0b0111));
        assert_eq!(ca.signatures.len(), 3);
        for (i, sig) in ca.signatures.iter().enumerate() {
            let mut bytes = [0u8; 65];
            bytes[..32].copy_from_slice(sig.r.as_slice());
            bytes[32..64].copy_from_slice(sig.s.as_slice());
            bytes[64] = sig.v;
            let a = Attestation {
                validator: committee[i],
                signature: Bytes::from(bytes.to_vec()),
            };
            assert!(a.verify(digest), "signature {i} is member {i}'s");
        }
        let all = committee_attestations(&committee, &atts);
        assert_eq!(all.signers, U256::from(0b1111));
        assert_eq!(all.signatures.len(), 4);
    }
}
