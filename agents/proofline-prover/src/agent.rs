//! `proofline prover`: the prover-bidder and prover (SPEC 5).
//!
//! It runs a follower node (no validator keys) for the derived L2 chain and the quote gossip, and
//! on every poll:
//!
//! 1. **Escrow.** Keeps its free escrow balance at or above `escrow_min` by depositing up to
//!    `escrow_target` (approving the escrow first; a devnet prover may mint the DevToken it
//!    lacks).
//! 2. **Quote.** From shortly before epoch N ends until its claim window closes, when N has blocks
//!    and no claim: prices N with the cost model (or the external endpoint), declines what it
//!    cannot prove in time or at a profit, signs the quote (EIP-712, the Rollup's domain,
//!    `validUntilSlot` the window's last slot), records it durably, then hands it to its node
//!    (which gossips it on `/proofline/epoch-proof-quotes/0.1.0`) and to every configured node
//!    over `node_submitEpochBid`. It re-sends the same quote each slot of the window; a restart
//!    re-sends the recorded quote and never signs a second one for the epoch.
//! 3. **Prove.** When a claim names it, it waits for the epoch to end and its node to hold the
//!    epoch's blocks, builds the statement (archives, per-block coinbase and fees) from the
//!    re-executed chain, takes the configured proving time (the dev proof stands in for real
//!    proving), records the proof durably and hands it to the submitter(s).
//! 4. **Watch.** Counts claims, bonds at stake, slashes (`BondSlashed` naming it) and the profit
//!    of each epoch it proved.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{Arc, RwLock},
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
    sol_types::Eip712Domain,
};
use futures::future::BoxFuture;
use proofline_bindings::{DevToken, ProverEscrow, Rollup};
use proofline_chain::chain::NodeChain;
use proofline_chain::watcher::ViewReceiver;
use proofline_core::quote::{sign_quote, EpochProofQuote, SignedEpochProofQuote};
use proofline_core::{ChainView, Epoch, Schedule};
use proofline_l1::{logs, Deployment, L1Provider, TxCandidate, TxManager};
use tracing::{info, warn};

use crate::{
    decide::{self, NewClaim},
    metrics::{tokens, ProverMetrics, ReasonLabels},
    pricing::{check_capacity, CostModel, Decline, EpochWork, ExternalPricer, ProvingTime},
    proof::EpochProof,
    store::ProverStore,
    submitter::ProofInbox,
};

/// Where the prover hands its signed quotes for gossip: its own follower node's quote intake
/// (the binary wires it), so the prover needs no node of its own kind and depends on no node
/// crate. Errors are the node's refusal, for the log.
pub trait QuoteSink: Send + Sync {
    fn submit(&self, quote: SignedEpochProofQuote) -> BoxFuture<'_, Result<(), String>>;
}

/// How the prover prices epochs.
#[derive(Clone, Debug)]
pub enum Pricing {
    Model(CostModel),
    External(String),
}

/// A fault the tests (and scenario runs) inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProverFault {
    /// Quote and get claimed, but never produce the proof.
    WithholdProofs,
}

#[derive(Clone, Debug)]
pub struct ProverConfig {
    pub key: PrivateKeySigner,
    /// The bond each quote offers; `None`: the Rollup's MIN_BOND.
    pub bond: Option<U256>,
    pub escrow_min: U256,
    pub escrow_target: U256,
    /// Mint the bond token when the wallet lacks it (DevToken deployments only).
    pub dev_mint: bool,
    pub pricing: Pricing,
    pub proving_time: ProvingTime,
    /// Epochs proven at once at most.
    pub capacity: usize,
    /// Seconds before an epoch ends from which it is quoted (its last blocks may still come; the
    /// quote's fee is a share of whatever the epoch pays).
    pub quote_lead_secs: u64,
    /// Seconds kept at the end of the proof window for landing the proof.
    pub submit_margin_secs: u64,
    /// Nodes' JSON-RPC URLs that get each quote over `node_submitEpochBid`.
    pub publish_to: Vec<String>,
    /// External submitters' JSON-RPC URLs that get each proof over `submitter_submitProof`.
    pub submitters: Vec<String>,
    pub poll_interval: Duration,
    pub fault: Option<ProverFault>,
    /// Largest block range of one `eth_getLogs` ([`proofline_l1::logs`]).
    pub max_log_range: u64,
}

/// The store's cursor of the slash and proof event scan.
const EVENT_CURSOR: &str = "events";

pub struct Prover {
    cfg: ProverConfig,
    deployment: Deployment,
    provider: L1Provider,
    rollup: Rollup::RollupInstance<L1Provider>,
    escrow: ProverEscrow::ProverEscrowInstance<L1Provider>,
    domain: Eip712Domain,
    chain: Arc<RwLock<NodeChain>>,
    views: ViewReceiver,
    schedule: Schedule,
    intake: Arc<dyn QuoteSink>,
    store: ProverStore,
    metrics: Arc<ProverMetrics>,
    inbox: Option<ProofInbox>,
    txmgr: TxManager,
    http: reqwest::Client,
    external: Option<ExternalPricer>,
    block_reward: U256,
    min_bond: U256,
    /// Epochs whose claim named us (seen once), being proven or proven.
    claimed: BTreeSet<Epoch>,
    proving: Arc<std::sync::Mutex<HashSet<Epoch>>>,
    event_scan_from: u64,
}

impl Prover {
    #[allow(clippy::too_many_arguments)]
    pub async fn new(
        cfg: ProverConfig,
        deployment: Deployment,
        provider: L1Provider,
        chain: Arc<RwLock<NodeChain>>,
        views: ViewReceiver,
        intake: Arc<dyn QuoteSink>,
        store: ProverStore,
        metrics: Arc<ProverMetrics>,
        inbox: Option<ProofInbox>,
        txmgr: TxManager,
    ) -> eyre::Result<Self> {
        let rollup = Rollup::new(deployment.rollup, provider.clone());
        let escrow = ProverEscrow::new(deployment.escrow, provider.clone());
        let block_reward = rollup.BLOCK_REWARD().call().await?;
        let min_bond = rollup.MIN_BOND().call().await?;
        let external = match &cfg.pricing {
            Pricing::External(url) => Some(ExternalPricer::new(url.clone())),
            Pricing::Model(_) => None,
        };
        Ok(Self {
            domain: proofline_core::rollup_domain(deployment.chain_id, deployment.rollup),
            event_scan_from: deployment.deploy_block,
            schedule: deployment.schedule()?,
            views,
            cfg,
            deployment,
            provider,
            rollup,
            escrow,
            chain,
            intake,
            store,
            metrics,
            inbox,
            txmgr,
            http: {
                proofline_l1::install_tls_provider();
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .expect("a plain HTTP client builds")
            },
            external,
            block_reward,
            min_bond,
            claimed: BTreeSet::new(),
            proving: Arc::default(),
        })
    }

    pub fn address(&self) -> Address {
        self.cfg.key.address()
    }

    fn bond(&self) -> U256 {
        self.cfg.bond.unwrap_or(self.min_bond).max(self.min_bond)
    }

    /// Runs until the task is dropped.
    pub async fn run(mut self) {
        // Proofs recorded before a restart go to the submitter(s) again.
        if let Ok(proofs) = self.store.proofs_from::<EpochProof>(Epoch(0)) {
            for (_, proof) in proofs {
                self.hand_over(proof).await;
            }
        }
        let mut escrow_checked = 0u64;
        loop {
            // Collect: the process's latest view of the chain (one per L1 block, clock moving).
            let view = self.views.borrow_and_update().as_deref().copied();
            if let Some(s) = view {
                if s.l1_block >= escrow_checked + 5 {
                    escrow_checked = s.l1_block;
                    if let Err(e) = self.upkeep_escrow().await {
                        warn!(error = %format!("{e:#}"), "escrow upkeep failed");
                    }
                }
                // Decide and act: quote, then prove what a claim gave us.
                if let Err(e) = self.quote(&s).await {
                    warn!(error = %format!("{e:#}"), "quoting failed");
                }
                self.watch_claim(&s);
                if let Err(e) = self.watch_events(s.l1_block).await {
                    warn!(error = %format!("{e:#}"), "reading the Rollup's events failed");
                }
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    async fn upkeep_escrow(&self) -> eyre::Result<()> {
        let me = self.address();
        let free = self.escrow.freeBalance(me).call().await?;
        self.metrics.escrow_free.set(tokens(free));
        let staked = self.escrow.stakedBalance(me).call().await?;
        self.metrics.bond_at_stake.set(tokens(staked));
        if free >= self.cfg.escrow_min || self.cfg.escrow_target <= free {
            return Ok(());
        }
        let amount = self.cfg.escrow_target - free;
        let token = DevToken::new(self.deployment.bond_asset, self.provider.clone());
        let held = token.balanceOf(me).call().await?;
        if held < amount {
            eyre::ensure!(
                self.cfg.dev_mint,
                "the wallet holds {held} bond tokens, {amount} are needed for the escrow"
            );
            self.txmgr
                .send_and_wait(
                    "mint-bond",
                    TxCandidate::call(
                        *token.address(),
                        &DevToken::mintCall {
                            to: me,
                            amount: amount - held,
                        },
                    ),
                )
                .await?;
        }
        let allowance = token.allowance(me, self.deployment.escrow).call().await?;
        if allowance < amount {
            self.txmgr
                .send_and_wait(
                    "approve-escrow",
                    TxCandidate::call(
                        *token.address(),
                        &DevToken::approveCall {
                            spender: self.deployment.escrow,
                            value: U256::MAX,
                        },
                    ),
                )
                .await?;
        }
        self.txmgr
            .send_and_wait(
                "deposit",
                TxCandidate::call(
                    self.deployment.escrow,
                    &ProverEscrow::depositCall { amount },
                ),
            )
            .await?;
        info!(%amount, "escrow topped up");
        Ok(())
    }

    /// The work epoch `n` holds, from the node's chain (blocks above the proven tip whose slot is
    /// in `n`).
    fn work(&self, n: Epoch, s: &ChainView, base_fee: u128) -> EpochWork {
        let chain = self.chain.read().expect("chain lock poisoned");
        let mut blocks = 0u64;
        let mut txs = 0u64;
        let mut fees = U256::ZERO;
        for number in s.proven + 1..=chain.tip() {
            let Some(b) = chain.block(number) else { break };
            if self.schedule.epoch_of(b.slot) != n {
                continue;
            }
            blocks += 1;
            txs += (b.txs.len() + b.forced.len()) as u64;
            fees += chain.fees_of(number).unwrap_or_default();
        }
        EpochWork {
            epoch: n,
            blocks,
            txs,
            // A pool that ran short pays the epoch's block rewards pro rata: price what it can pay.
            rewards: (self.block_reward * U256::from(blocks)).min(s.reward_pool) + fees,
            base_fee,
            bond: self.bond(),
        }
    }

    async fn price(&self, work: &EpochWork) -> Result<u32, Decline> {
        match (&self.cfg.pricing, &self.external) {
            (_, Some(ext)) => ext.fee_bps(work).await,
            (Pricing::Model(m), None) => m.fee_bps(work),
            (Pricing::External(_), None) => {
                unreachable!("an external pricer is built for External")
            }
        }
    }

    fn decline(&self, d: &Decline) {
        let reason = match d {
            Decline::NoRewards { .. } => "no_rewards",
            Decline::Unprofitable { .. } => "unprofitable",
            Decline::TooSlow { .. } => "too_slow",
            Decline::AtCapacity { .. } => "capacity",
            Decline::External(_) => "external",
        };
        self.metrics
            .quotes_declined
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    async fn quote(&mut self, s: &ChainView) -> eyre::Result<()> {
        let Some(n) = decide::quote_epoch(s, &self.schedule, self.cfg.quote_lead_secs) else {
            return Ok(());
        };
        let signed = match self.store.quote::<SignedEpochProofQuote>(n)? {
            Some(q) => q,
            None => {
                let Some(signed) = self.new_quote(n, s).await? else {
                    return Ok(());
                };
                // Recorded before it leaves: a restart re-sends this one and never signs another.
                let signed = self.store.commit_quote(n, &signed)?;
                self.metrics.quotes_sent.inc();
                info!(epoch = %n, fee_bps = signed.quote.basis_point_fee, bond = %signed.quote.bond_amount, "quoted");
                signed
            }
        };
        self.publish(&signed).await;
        Ok(())
    }

    async fn new_quote(
        &self,
        n: Epoch,
        s: &ChainView,
    ) -> eyre::Result<Option<SignedEpochProofQuote>> {
        let base_fee = self
            .provider
            .get_block_by_number(s.l1_block.into())
            .await?
            .and_then(|b| b.header.base_fee_per_gas)
            .unwrap_or_default() as u128;
        let work = self.work(n, s, base_fee);
        // Claimed in the window's last slot at the latest; proven by the end of epoch N+1.
        let left_secs = self.schedule.proving_budget_secs(n);
        let proving = self.proving.lock().expect("poisoned").len();
        let checked = check_capacity(
            n,
            self.cfg.proving_time.for_work(work.blocks, work.txs),
            left_secs.saturating_sub(self.cfg.submit_margin_secs),
            proving,
            self.cfg.capacity,
        );
        let fee = match checked {
            Ok(()) => self.price(&work).await,
            Err(d) => Err(d),
        };
        let fee = match fee {
            Ok(fee) => fee,
            Err(d) => {
                self.decline(&d);
                info!(epoch = %n, reason = %d, "declined to quote");
                return Ok(None);
            }
        };
        let quote = EpochProofQuote {
            epoch_to_prove: U256::from(n.0),
            valid_until_slot: U256::from(self.schedule.quote_valid_until(n).0),
            bond_amount: work.bond,
            prover: self.address(),
            basis_point_fee: fee,
        };
        Ok(Some(sign_quote(&self.cfg.key, &self.domain, quote)?))
    }

    /// Hands the quote to the prover's own node (which gossips it) and to every configured node.
    async fn publish(&self, signed: &SignedEpochProofQuote) {
        if let Err(e) = self.intake.submit(*signed).await {
            tracing::debug!(error = %e, "own node did not take the quote");
        }
        for url in &self.cfg.publish_to {
            let body = serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": "node_submitEpochBid", "params": [signed],
            });
            match self.http.post(url).json(&body).send().await {
                Ok(r) => {
                    if let Ok(v) = r.json::<serde_json::Value>().await {
                        if let Some(err) = v.get("error") {
                            tracing::debug!(%url, %err, "node refused the quote");
                        }
                    }
                }
                Err(e) => tracing::debug!(%url, error = %e, "node unreachable"),
            }
        }
    }

    fn watch_claim(&mut self, s: &ChainView) {
        let Some(NewClaim { epoch: n, bond }) = decide::new_claim(s, self.address(), &self.claimed)
        else {
            return;
        };
        self.claimed.insert(n);
        self.metrics.claims.inc();
        info!(epoch = %n, %bond, "our quote was claimed");
        if self.cfg.fault == Some(ProverFault::WithholdProofs) {
            warn!(epoch = %n, "fault injected: the proof is withheld");
            return;
        }
        if matches!(self.store.proof::<EpochProof>(n), Ok(Some(_))) {
            return;
        }
        self.proving.lock().expect("poisoned").insert(n);
        let job = crate::prove::ProvingJob {
            epoch: n,
            prover: self.address(),
            genesis_archive: self.deployment.genesis_archive,
            schedule: self.schedule,
            views: self.views.clone(),
            chain: self.chain.clone(),
            proving_time: self.cfg.proving_time,
        };
        let store = self.store.clone();
        let proving = self.proving.clone();
        let inbox = self.inbox.clone();
        let submitters = self.cfg.submitters.clone();
        let http = self.http.clone();
        tokio::spawn(async move {
            match job.run().await {
                Ok(proof) => match store.put_proof(n, &proof) {
                    Ok(proof) => {
                        info!(epoch = %n, "proof ready");
                        hand_over(inbox.as_ref(), &submitters, &http, proof).await;
                    }
                    Err(e) => warn!(epoch = %n, error = %e, "proof not stored"),
                },
                Err(e) => warn!(epoch = %n, error = %format!("{e:#}"), "proving failed"),
            }
            proving.lock().expect("poisoned").remove(&n);
        });
    }

    async fn hand_over(&self, proof: EpochProof) {
        hand_over(self.inbox.as_ref(), &self.cfg.submitters, &self.http, proof).await;
    }

    /// Counts this prover's slashes, and books the profit of each epoch it proved: its share
    /// (`basisPointFee` of the block rewards and fees the proof bound) less the modelled cost.
    ///
    /// The scan resumes from its cursor in the store: a restarted prover counts nothing twice
    /// (its metrics jumped by every slash it had seen) and queries in bounded ranges, not the
    /// whole history in one `eth_getLogs` that public endpoints refuse.
    async fn watch_events(&mut self, l1_block: u64) -> eyre::Result<()> {
        if self.event_scan_from == self.deployment.deploy_block {
            if let Some(next) = self.store.cursor(EVENT_CURSOR)? {
                self.event_scan_from = next.max(self.deployment.deploy_block);
            }
        }
        if l1_block < self.event_scan_from {
            return Ok(());
        }
        let me = self.address();
        let (from, to) = (self.event_scan_from, l1_block);
        let slashed = self.rollup.BondSlashed_filter().topic2(me).filter;
        for log in logs::get_logs(
            self.rollup.provider(),
            &slashed,
            from,
            to,
            self.cfg.max_log_range,
        )
        .await?
        {
            let Ok(event) = log.log_decode::<Rollup::BondSlashed>() else {
                continue;
            };
            let event = event.inner.data;
            self.metrics.slashes.inc();
            warn!(epoch = %event.epoch, amount = %event.amount, "our bond was slashed");
        }
        let proven = self.rollup.L2ProofVerified_filter().topic2(me).filter;
        for log in logs::get_logs(
            self.rollup.provider(),
            &proven,
            from,
            to,
            self.cfg.max_log_range,
        )
        .await?
        {
            let Ok(event) = log.log_decode::<Rollup::L2ProofVerified>() else {
                continue;
            };
            let epoch = Epoch(event.inner.data.epoch.saturating_to());
            if let Some(profit) = self.profit(epoch) {
                self.metrics.profit_last_epoch.set(profit);
                info!(%epoch, profit, "epoch proven");
            }
        }
        self.event_scan_from = l1_block + 1;
        self.store.set_cursor(EVENT_CURSOR, self.event_scan_from)?;
        Ok(())
    }

    /// Share earned minus modelled cost for a proven epoch, from the recorded quote and proof.
    fn profit(&self, epoch: Epoch) -> Option<f64> {
        let quote = self.store.quote::<SignedEpochProofQuote>(epoch).ok()??;
        let proof = self.store.proof::<EpochProof>(epoch).ok()??;
        let s = &proof.statement;
        let blocks = s.end_block - s.proven_tip;
        let fees: U256 = s.fees.iter().map(|f| f.fees).sum();
        let rewards = self.block_reward * U256::from(blocks) + fees;
        let earned =
            rewards * U256::from(quote.quote.basis_point_fee) / U256::from(crate::pricing::BPS);
        let cost = match &self.cfg.pricing {
            Pricing::Model(m) => m.cost(&EpochWork {
                epoch,
                blocks,
                txs: 0,
                rewards,
                base_fee: 0,
                bond: quote.quote.bond_amount,
            }),
            Pricing::External(_) => U256::ZERO,
        };
        Some(if earned >= cost {
            tokens(earned - cost)
        } else {
            -tokens(cost - earned)
        })
    }
}

async fn hand_over(
    inbox: Option<&ProofInbox>,
    submitters: &[String],
    http: &reqwest::Client,
    proof: EpochProof,
) {
    for url in submitters {
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "submitter_submitProof", "params": [proof],
        });
        if let Err(e) = http.post(url).json(&body).send().await {
            warn!(%url, error = %e, "submitter unreachable");
        }
    }
    if let Some(inbox) = inbox {
        inbox.hand_over(proof);
    }
}
