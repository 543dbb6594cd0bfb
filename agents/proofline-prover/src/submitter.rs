//! The proof submitter (SPEC 5.4: anyone may submit). It lands the proofs it holds (from its own
//! prover, from provers that push them over JSON-RPC, or found in a directory), each inside its
//! window: from the end of epoch N to the end of epoch N+1, and never for an epoch already
//! proven. It can also call `prune()` when one is due.
//!
//! **Fees.** Proof transactions go through the [`TxManager`], configured for the deadline: a
//! transaction not mined within a block is replaced at the market's price (base fee times the
//! multiplier plus a tip, and at least the replacement bump), up to the configured cap, so a
//! spike of the base fee is followed block by block. A proof that cannot be priced under the cap
//! waits and is retried while the window is open.
//!
//! **Trust nothing received.** A proof handed over (RPC, `--proof-dir`, its own prover) is kept
//! as a candidate of its epoch, per proof (by hash), not first-come per epoch: at most
//! [`MAX_CANDIDATES_PER_EPOCH`](crate::store::MAX_CANDIDATES_PER_EPOCH) per epoch, through an
//! inbox of [`INBOX`] proofs. When its epoch is due, each candidate whose statement matches the
//! chain is simulated (the tx manager's `eth_call` of `submitEpochRootProof`) before it is sent;
//! one that would revert is dropped and the next is tried, so a garbage proof sent first cannot
//! shadow the valid one and let the bond be slashed.
//!
//! **Never twice.** Before each send the submitter reads the chain: the epoch must still be the
//! epoch to prove and the proven tip the proof's starting point. A proof of ours still in flight
//! when someone else's lands is cancelled (replaced by a self-transfer) instead of reverting.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use alloy::primitives::Address;
use proofline_bindings::Rollup;
use proofline_chain::watcher::ViewReceiver;
use proofline_core::{ChainView, Epoch, Schedule};
use proofline_l1::{
    Deployment, L1Provider, Purpose, TxCandidate, TxError, TxManager, TxManagerConfig,
};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::{
    decide::{obsolete_in_flight, should_prune, should_submit},
    metrics::ProverMetrics,
    proof::EpochProof,
    store::ProverStore,
};

const GWEI: u128 = 1_000_000_000;

/// Proofs received and not yet taken into the store; a full inbox refuses more.
pub const INBOX: usize = 64;

#[derive(Clone, Debug)]
pub struct SubmitterConfig {
    /// Highest `maxFeePerGas` the submitter signs, in wei.
    pub max_fee_per_gas: u128,
    /// Call `prune()` when one is due.
    pub prune: bool,
    /// JSON files of [`EpochProof`] dropped here are picked up (and removed once stored).
    pub proof_dir: Option<PathBuf>,
    pub poll_interval: Duration,
}

impl Default for SubmitterConfig {
    fn default() -> Self {
        Self {
            max_fee_per_gas: 10_000 * GWEI,
            prune: true,
            proof_dir: None,
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// The manager's settings for proofs: replace after one block, bump from the market, capped.
pub fn tx_config(cfg: &SubmitterConfig) -> TxManagerConfig {
    let defaults = TxManagerConfig::default();
    TxManagerConfig {
        poll_interval: Duration::from_millis(500),
        resubmit_after_blocks: 1,
        fees: proofline_l1::txmgr::FeePolicy {
            max_fee_per_gas_cap: cfg.max_fee_per_gas,
            max_priority_fee_per_gas_cap: defaults
                .fees
                .max_priority_fee_per_gas_cap
                .min(cfg.max_fee_per_gas),
            ..defaults.fees
        },
        ..defaults
    }
}

pub struct Submitter {
    cfg: SubmitterConfig,
    rollup: Rollup::RollupInstance<L1Provider>,
    txmgr: TxManager,
    store: ProverStore,
    metrics: Arc<ProverMetrics>,
    schedule: Schedule,
    views: ViewReceiver,
    /// Epochs with a proof transaction in flight.
    in_flight: HashMap<Epoch, Purpose>,
    done: mpsc::UnboundedSender<(Epoch, Result<(), String>)>,
    outcomes: mpsc::UnboundedReceiver<(Epoch, Result<(), String>)>,
    /// Proofs received, waiting to be kept as candidates ([`INBOX`] at most).
    inbox: mpsc::Receiver<EpochProof>,
}

/// Where provers hand proofs to a running submitter.
#[derive(Clone, Debug)]
pub struct ProofInbox(mpsc::Sender<EpochProof>);

impl ProofInbox {
    /// False when the submitter is gone or its inbox is full (retry later).
    pub fn hand_over(&self, proof: EpochProof) -> bool {
        self.0.try_send(proof).is_ok()
    }
}

/// A proof's identity among its epoch's candidates.
fn proof_hash(proof: &EpochProof) -> [u8; 32] {
    alloy::primitives::keccak256(serde_json::to_vec(proof).expect("a proof serialises")).0
}

impl Submitter {
    /// `txmgr` sends the proofs and prunes; build it with [`tx_config`] (a prover shares its
    /// manager with its submitter: one manager per key).
    pub fn new(
        cfg: SubmitterConfig,
        provider: L1Provider,
        deployment: &Deployment,
        txmgr: TxManager,
        store: ProverStore,
        metrics: Arc<ProverMetrics>,
        views: ViewReceiver,
    ) -> eyre::Result<(Self, ProofInbox)> {
        let (done, outcomes) = mpsc::unbounded_channel();
        let (inbox_tx, inbox) = mpsc::channel(INBOX);
        Ok((
            Self {
                cfg,
                rollup: Rollup::new(deployment.rollup, provider),
                txmgr,
                store,
                metrics,
                schedule: deployment.schedule()?,
                views,
                in_flight: HashMap::new(),
                done,
                outcomes,
                inbox,
            },
            ProofInbox(inbox_tx),
        ))
    }

    pub fn address(&self) -> Address {
        self.txmgr.address()
    }

    /// The latest view of the chain (the process's watcher reads it once per L1 block).
    fn view(&self) -> Option<ChainView> {
        self.views.borrow().as_deref().copied()
    }

    /// Runs until the task is dropped.
    pub async fn run(mut self) {
        loop {
            if let Err(e) = self.pass().await {
                warn!(error = %format!("{e:#}"), "submitter pass failed");
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    /// Keeps a received proof as a candidate of its epoch; false when it cannot be kept now.
    fn keep(&self, proof: &EpochProof) -> bool {
        let epoch = proof.statement.epoch;
        match self.store.add_candidate(epoch, proof_hash(proof), proof) {
            Ok(true) => true,
            Ok(false) => {
                warn!(%epoch, "proof dropped: the epoch already holds the most candidates");
                false
            }
            Err(e) => {
                warn!(%epoch, error = %e, "could not store a received proof");
                false
            }
        }
    }

    fn take_incoming(&mut self) {
        while let Ok(proof) = self.inbox.try_recv() {
            self.keep(&proof);
        }
        let Some(dir) = &self.cfg.proof_dir else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path).map(|b| serde_json::from_slice::<EpochProof>(&b)) {
                Ok(Ok(proof)) => {
                    self.keep(&proof);
                    let _ = std::fs::remove_file(&path);
                }
                Ok(Err(e)) => warn!(path = %path.display(), error = %e, "not a proof file"),
                Err(e) => warn!(path = %path.display(), error = %e, "cannot read proof file"),
            }
        }
    }

    /// One look at the chain: send what is due, cancel what someone else made useless.
    pub async fn pass(&mut self) -> eyre::Result<()> {
        self.take_incoming();
        while let Ok((epoch, outcome)) = self.outcomes.try_recv() {
            self.in_flight.remove(&epoch);
            if let Err(e) = outcome {
                info!(%epoch, error = %e, "proof transaction did not land");
            }
        }
        let Some(view) = self.view() else {
            return Ok(());
        };
        if should_prune(&view, self.cfg.prune) {
            self.prune().await;
        }
        // Proofs of epochs now behind the epoch to prove were landed (by us or anyone) or pruned.
        for epoch in obsolete_in_flight(&view, self.in_flight.keys().copied()) {
            if let Some(purpose) = self.in_flight.remove(&epoch) {
                if self.txmgr.cancel(&purpose).await.is_ok() {
                    info!(%epoch, "cancelled our proof transaction: no longer needed");
                }
            }
        }
        let Some(epoch) = view.epoch_to_prove else {
            return Ok(());
        };
        self.store.prune_candidates_below(epoch)?;
        if self.in_flight.contains_key(&epoch) {
            return Ok(());
        }
        // The own prover's proof first (stored by it), then what others handed over.
        let own = self.store.proof::<EpochProof>(epoch)?.map(|p| (None, p));
        let received = self.store.candidates::<EpochProof>(epoch)?;
        let candidates = own
            .into_iter()
            .chain(received.into_iter().map(|(h, p)| (Some(h), p)));
        for (hash, proof) in candidates {
            if !should_submit(&proof, &view, &self.schedule) {
                continue;
            }
            match self.send_proof(epoch, proof).await {
                Ok(()) => break,
                Err(TxError::WouldRevert { revert, .. }) => {
                    // Simulated against the chain: this proof does not verify (or does not fit
                    // the chain): drop it and try the next.
                    warn!(%epoch, %revert, "a proof that would revert is dropped");
                    self.metrics.proofs_refused.inc();
                    if let Some(hash) = hash {
                        self.store.remove_candidate(epoch, hash)?;
                    }
                }
                Err(e) => {
                    warn!(%epoch, error = %e, "proof not sent");
                    break;
                }
            }
        }
        Ok(())
    }

    async fn send_proof(&mut self, epoch: Epoch, proof: EpochProof) -> Result<(), TxError> {
        let purpose = Purpose::new(format!("proof-{epoch}"));
        let call = Rollup::submitEpochRootProofCall {
            args: proof.to_args(),
        };
        let candidate = TxCandidate::call(*self.rollup.address(), &call);
        match self.txmgr.send(purpose.clone(), candidate).await {
            Ok(pending) => {
                info!(%epoch, tx = %pending.tx_hash(), "proof sent");
                self.in_flight.insert(epoch, purpose);
                let done = self.done.clone();
                let metrics = self.metrics.clone();
                let epoch_ended_at = self.schedule.proof_opens(epoch).0;
                tokio::spawn(async move {
                    let outcome = pending.wait().await;
                    let label = match &outcome {
                        Ok(_) => "landed",
                        Err(TxError::Cancelled { .. }) => "cancelled",
                        Err(_) => "failed",
                    };
                    metrics
                        .proofs_submitted
                        .get_or_create(&crate::metrics::OutcomeLabels { outcome: label })
                        .inc();
                    if outcome.is_ok() {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_secs_f64())
                            .unwrap_or_default();
                        metrics
                            .proof_latency_seconds
                            .observe((now - epoch_ended_at as f64).max(0.0));
                        info!(%epoch, "proof landed");
                    }
                    let _ = done.send((epoch, outcome.map(|_| ()).map_err(|e| e.to_string())));
                });
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn prune(&mut self) {
        let purpose = Purpose::new("prune");
        if self.txmgr.in_flight(&purpose).is_some() {
            return;
        }
        let candidate = TxCandidate::call(*self.rollup.address(), &Rollup::pruneCall {});
        match self.txmgr.send(purpose, candidate).await {
            Ok(pending) => {
                let metrics = self.metrics.clone();
                tokio::spawn(async move {
                    if pending.wait().await.is_ok() {
                        metrics.prunes.inc();
                        info!("pruned the pending chain");
                    }
                });
            }
            Err(e) => info!(error = %e, "prune not sent"),
        }
    }
}
