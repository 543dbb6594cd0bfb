//! The node process: wires L1 sync, the mempool and its JSON-RPC, the attestation transport, the
//! validators' duties, the store, and the metrics/health endpoint together.
//!
//! Tasks:
//! - **clock** ([`crate::clock`]): polls the newest L1 block, so the node knows the slot (`L1Clock`) and whether L1
//!   answers (health);
//! - **chain view**: on every new L1 block the clock sees, reads the Rollup's views pinned to that
//!   block into one [`ChainView`] (tips, epoch to prove and its claim, prune due, fallback);
//!   status, the quote context, claims, proposing and fallback proposing all read it;
//! - **sync**: the reorg-aware L1 follower, applying `L2BlockProposed`, prunes and queued forced
//!   txs to the [`NodeChain`] and the store ([`crate::sync`]);
//! - **duties**: once per slot, as soon as an L1 block of the slot exists, proposes if one of the
//!   node's validators is the proposer ([`crate::duties`]);
//! - **attester**: answers peers' attestation requests;
//! - **quotes**: on every new chain view, puts its claim state and the pooled provers' escrow
//!   into the quote intake's validation context ([`crate::quote_intake`]); beside it, the
//!   gossip validator of the quote topic and the outbox that gossips quotes taken over RPC;
//! - the JSON-RPC server and the metrics/health server.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
    sol_types::Eip712Domain,
};
use eyre::WrapErr;
use libp2p::Multiaddr;
use proofline_core::{
    quote::{ValidationContext, QUOTE_TOPIC, QUOTE_WIRE_LEN},
    rollup_domain, ChainView, Epoch, Slot,
};
use proofline_l1::{
    Deployment, L1Provider, PendingTx, RpcConfig, Supervisor, TxManager, TxManagerConfig,
};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use proofline_chain::blobs::BlobSource;
use proofline_chain::chain::{NodeChain, StoredBlock};
use proofline_chain::store::Store;
use proofline_chain::watcher::{ChainWatcher, ViewReceiver};
use proofline_p2p::{self as p2p, GossipConfig, P2pConfig, P2pHandle};

use crate::{
    decide,
    duties::{AttestRequest, AttestResponse},
    l1::{EscrowReader, L1Clock, RollupReader},
    mempool::{Mempool, MempoolConfig},
    metrics::AttestationResult,
    metrics::{Health, Metrics},
    quote_intake::{self, IntakeConfig, QuoteIntake},
    rpc::{NodeStatus, RpcState},
};

/// Gossip messages waiting for the quote validator; more are ignored (not forwarded, no penalty).
const GOSSIP_QUEUE: usize = 1_024;
/// Attestation requests answered at once; more are refused ("busy") until one ends.
const ATTESTS_IN_FLIGHT: usize = 8;
/// Attestation requests answered at once for one peer (an honest proposer has one per slot).
const ATTESTS_PER_PEER: usize = 2;

fn release(per_peer: &Mutex<HashMap<libp2p::PeerId, usize>>, peer: libp2p::PeerId) {
    let mut counts = per_peer.lock().expect("poisoned");
    if let Some(n) = counts.get_mut(&peer) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&peer);
        }
    }
}

/// Quotes taken over RPC waiting to be gossiped.
const QUOTE_OUTBOX: usize = 256;

/// A deliberate misbehaviour, for tests of the other nodes' checks. Never use outside a devnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Propose headers with a state root that re-execution does not give.
    WrongStateRoot,
    /// A censoring committee, for the censorship scenario. In slots of epochs `pool.0..pool.1`,
    /// propose blocks with the due forced txs only, never a pool tx (forced inclusion must still
    /// get txs in). In epochs `forced.0..forced.1`, refuse the forced txs too: a block that leaves
    /// out a due forced tx is invalid, so propose nothing while one is due (and, otherwise, no
    /// pool tx either). Based fallback must then get txs in. Bounded in epochs so the pool
    /// survives the censorship (it is not persisted, so a restart to end the fault would lose it).
    Censor {
        pool: (u64, u64),
        forced: (u64, u64),
    },
    /// Before every slot, ask the peers to attest an empty block as if from the slot's proposer
    /// ([`crate::rogue`]): the attestation-censorship attack.
    Impersonate,
}

impl Fault {
    /// Whether a proposer with this fault censors the pool's txs, and the forced txs, in `epoch`.
    pub fn censors(&self, epoch: Epoch) -> (bool, bool) {
        let epoch = epoch.0;
        match *self {
            Fault::Censor { pool, forced } => {
                let forced = (forced.0..forced.1).contains(&epoch);
                ((pool.0..pool.1).contains(&epoch) || forced, forced)
            }
            Fault::WrongStateRoot | Fault::Impersonate => (false, false),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub rpc: RpcConfig,
    pub deployment: Deployment,
    pub validators: Vec<PrivateKeySigner>,
    pub data_dir: PathBuf,
    pub rpc_listen: SocketAddr,
    pub metrics_listen: SocketAddr,
    pub p2p_listen: Multiaddr,
    pub peers: Vec<Multiaddr>,
    /// Seeds the node's libp2p identity, so a restarted node keeps its peer id.
    pub p2p_seed: [u8; 32],
    /// Beacon API for blobs; `None` reads them from the L1 node (anvil).
    pub beacon_url: Option<String>,
    pub max_block_txs: usize,
    pub mempool_max_txs: usize,
    pub attestation_timeout: Duration,
    pub poll_interval: Duration,
    /// The key the node proposes with in based fallback (SPEC 6): blocks with their proof,
    /// `proposeWithProof`. `None`: the node does not propose in fallback.
    pub fallback_key: Option<PrivateKeySigner>,
    pub fault: Option<Fault>,
}

pub(crate) struct NodeInner {
    pub(crate) config: NodeConfig,
    pub(crate) deployment: Deployment,
    pub(crate) provider: L1Provider,
    pub(crate) reader: RollupReader,
    pub(crate) domain: Eip712Domain,
    pub(crate) validators: Vec<PrivateKeySigner>,
    pub(crate) chain: Arc<RwLock<NodeChain>>,
    pub(crate) mempool: Arc<Mutex<Mempool>>,
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) p2p: P2pHandle<AttestRequest, AttestResponse>,
    pub(crate) quotes: QuoteIntake,
    pub(crate) blobs: BlobSource,
    pub(crate) clock: watch::Sender<Option<L1Clock>>,
    /// The chain as the newest L1 block the clock saw shows it (read by the chain view task).
    pub(crate) view: watch::Sender<Option<Arc<ChainView>>>,
    pub(crate) watcher: ChainWatcher,
    tx_managers: tokio::sync::Mutex<HashMap<Address, TxManager>>,
    /// Blocks this node built or attested, by archive: sync takes them from here instead of
    /// fetching their blobs.
    built: Mutex<HashMap<B256, StoredBlock>>,
    pub(crate) status: watch::Sender<NodeStatus>,
    pub(crate) health: watch::Sender<Health>,
}

/// A running node.
pub struct Node {
    inner: Arc<NodeInner>,
    tasks: Supervisor,
    pub rpc_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub p2p_addrs: Vec<Multiaddr>,
    rpc_handle: jsonrpsee::server::ServerHandle,
}

impl Node {
    /// Opens the store, replays the blocks it holds, and starts every task.
    pub async fn start(config: NodeConfig) -> eyre::Result<Self> {
        let provider = proofline_l1::connect(&config.rpc)?;
        let deployment = config.deployment.clone();
        std::fs::create_dir_all(&config.data_dir)
            .wrap_err_with(|| format!("creating {}", config.data_dir.display()))?;
        let store = Arc::new(Store::open(&config.data_dir.join("node.redb"))?);
        let reader = RollupReader::new(provider.clone(), &deployment)?;
        let watcher = ChainWatcher::new(provider.clone(), &deployment);
        let domain = rollup_domain(deployment.chain_id, deployment.rollup);
        let metrics = Arc::new(Metrics::new());
        let chain = Arc::new(RwLock::new(NodeChain::new()));
        let mempool = Arc::new(Mutex::new(Mempool::new(MempoolConfig {
            max_txs: config.mempool_max_txs,
        })));
        let blobs = match &config.beacon_url {
            Some(url) => {
                BlobSource::beacon_from_node(
                    url.parse().wrap_err_with(|| format!("beacon URL {url}"))?,
                )
                .await?
            }
            None => BlobSource::Anvil {
                rpc: provider.clone(),
            },
        };
        let quotes = QuoteIntake::new(
            IntakeConfig::default(),
            metrics.clone(),
            Arc::new(EscrowReader::new(provider.clone(), &deployment)),
        );
        let (gossip_tx, gossip_rx) = tokio::sync::mpsc::channel(GOSSIP_QUEUE);
        let (p2p, inbound) = p2p::spawn::<AttestRequest, AttestResponse>(P2pConfig {
            listen: config.p2p_listen.clone(),
            peers: config.peers.clone(),
            keypair: p2p::keypair_from_seed(config.p2p_seed),
            request_timeout: config.attestation_timeout,
            redial_interval: Duration::from_secs(1),
            gossip: Some(GossipConfig {
                topics: vec![QUOTE_TOPIC.to_owned()],
                max_message_size: QUOTE_WIRE_LEN,
                messages: gossip_tx,
            }),
        })
        .await?;
        let (outbox_tx, outbox_rx) = tokio::sync::mpsc::channel(QUOTE_OUTBOX);
        quotes.set_outbox(outbox_tx);
        let p2p_addrs = p2p.listen_addrs().await;

        let (status, status_rx) = watch::channel(NodeStatus::default());
        let (health, health_rx) = watch::channel(Health {
            healthy: false,
            l1_reachable: false,
            synced: false,
            last_l1_block_age_secs: 0,
            detail: "starting".into(),
        });
        let inner = Arc::new(NodeInner {
            validators: config.validators.clone(),
            config,
            deployment,
            provider,
            reader,
            domain,
            chain,
            mempool,
            store,
            metrics,
            p2p,
            quotes,
            blobs,
            clock: watch::channel(None).0,
            view: watch::channel(None).0,
            watcher,
            tx_managers: tokio::sync::Mutex::new(HashMap::new()),
            built: Mutex::new(HashMap::new()),
            status,
            health,
        });
        let start_l1 = inner.restore().await?;

        let (rpc_addr, rpc_handle) = crate::rpc::serve(
            inner.config.rpc_listen,
            RpcState {
                mempool: inner.mempool.clone(),
                chain: inner.chain.clone(),
                status: status_rx,
                quotes: inner.quotes.clone(),
                store: Some(inner.store.clone()),
            },
        )
        .await?;
        let (metrics_addr, metrics_task) = crate::metrics::serve(
            inner.config.metrics_listen,
            inner.metrics.clone(),
            health_rx,
        )
        .await?;

        let mut tasks = Supervisor::new();
        tasks.spawn_fallible("metrics server", async move {
            // Stopping the supervised task stops the server too.
            struct AbortOnDrop(tokio::task::AbortHandle);
            impl Drop for AbortOnDrop {
                fn drop(&mut self) {
                    self.0.abort();
                }
            }
            let _server = AbortOnDrop(metrics_task.abort_handle());
            metrics_task.await.map_err(|e| eyre::eyre!("{e}"))
        });
        tasks.spawn("clock", inner.clone().clock_loop());
        tasks.spawn("chain view", inner.clone().view_loop());
        tasks.spawn("sync", inner.clone().sync_loop(start_l1));
        tasks.spawn("duties", inner.clone().duty_loop());
        tasks.spawn("attester", inner.clone().attester_loop(inbound));
        if inner.config.fault == Some(Fault::Impersonate) {
            tasks.spawn("impersonator", inner.clone().impersonate_loop());
        }
        tasks.spawn("quote context", inner.clone().quote_loop());
        tasks.spawn(
            "quote gossip",
            quote_intake::run_gossip(inner.quotes.clone(), gossip_rx),
        );
        tasks.spawn(
            "quote outbox",
            quote_intake::run_outbox(inner.p2p.clone(), outbox_rx),
        );
        info!(
            rpc = %rpc_addr,
            metrics = %metrics_addr,
            p2p = ?p2p_addrs,
            validators = inner.validators.len(),
            "node started"
        );
        Ok(Self {
            inner,
            tasks,
            rpc_addr,
            metrics_addr,
            p2p_addrs,
            rpc_handle,
        })
    }

    pub fn status(&self) -> watch::Receiver<NodeStatus> {
        self.inner.status.subscribe()
    }

    pub fn chain(&self) -> Arc<RwLock<NodeChain>> {
        self.inner.chain.clone()
    }

    /// The node's chain view, one per L1 block with the clock moving between blocks: the prover
    /// process's prover and submitter read it (one watcher per process).
    pub fn views(&self) -> ViewReceiver {
        self.inner.view.subscribe()
    }

    /// The node's quote intake and pool.
    pub fn quotes(&self) -> QuoteIntake {
        self.inner.quotes.clone()
    }

    /// Runs `task` under the node's supervisor, beside the node's own tasks (the prover process
    /// runs its prover, submitter and chain watcher so).
    pub fn supervise(
        &mut self,
        name: &str,
        task: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        self.tasks.spawn(name, task);
    }

    /// Runs until `shutdown` resolves (`Ok`) or one of the node's tasks ends, which none should
    /// (an error naming it: the process should exit and be restarted). Stops cleanly either way.
    pub async fn run_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> eyre::Result<()> {
        let tasks = std::mem::take(&mut self.tasks);
        let outcome = tasks.run_until(shutdown).await;
        self.stop().await;
        outcome
    }

    /// Stops every task, the RPC server and the tx managers.
    pub async fn stop(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        let _ = tasks.run_until(async {}).await;
        let _ = self.rpc_handle.stop();
        let managers: Vec<TxManager> = self
            .inner
            .tx_managers
            .lock()
            .await
            .drain()
            .map(|(_, m)| m)
            .collect();
        for m in managers {
            m.shutdown().await;
        }
    }
}

impl NodeInner {
    /// The newest L1 block the clock has seen (0 before the first).
    pub(crate) fn clock_block(&self) -> u64 {
        self.clock.borrow().map(|c| c.block).unwrap_or_default()
    }

    pub(crate) fn current_slot(&self) -> Slot {
        let now = self.clock.borrow().map(|c| c.now()).unwrap_or(0);
        self.reader.schedule.slot_at(proofline_core::Timestamp(now))
    }

    pub(crate) fn clock_now_secs_f64(&self) -> Option<f64> {
        self.clock.borrow().map(|c| c.now_secs_f64())
    }

    pub(crate) fn remember_built(&self, block: StoredBlock) {
        let mut built = self.built.lock().expect("poisoned");
        let tip = self.chain.read().expect("poisoned").tip();
        built.retain(|_, b| b.number > tip);
        built.insert(block.archive, block);
    }

    pub(crate) fn take_built(&self, archive: B256) -> Option<StoredBlock> {
        self.built.lock().expect("poisoned").remove(&archive)
    }

    /// Counts how `pending` ends in `proofline_l1_txs_total{purpose}`, in the background.
    pub(crate) fn count_outcome(&self, purpose: &'static str, pending: PendingTx) {
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            match pending.wait().await {
                Ok(o) => {
                    let outcome = if o.receipt.status() {
                        "success"
                    } else {
                        "reverted"
                    };
                    metrics.l1_tx(purpose, outcome);
                }
                Err(e) => {
                    metrics.l1_tx(purpose, "failed");
                    warn!(%e, purpose, "transaction failed");
                }
            }
        });
    }

    pub(crate) async fn tx_manager(&self, signer: &PrivateKeySigner) -> eyre::Result<TxManager> {
        let mut managers = self.tx_managers.lock().await;
        if let Some(m) = managers.get(&signer.address()) {
            return Ok(m.clone());
        }
        let config = TxManagerConfig {
            poll_interval: self.config.poll_interval,
            resubmit_after_blocks: 2,
            ..TxManagerConfig::default()
        };
        let m = TxManager::new(self.provider.clone(), signer.clone(), config).await?;
        managers.insert(signer.address(), m.clone());
        Ok(m)
    }

    async fn duty_loop(self: Arc<Self>) {
        let mut done = Slot(0);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let mut new_block = self.clock.subscribe();
        loop {
            // A new L1 block wakes the loop at once (the first block of a slot is what it waits
            // for); the tick is a fallback.
            tokio::select! {
                _ = tick.tick() => {}
                _ = new_block.changed() => {}
            }
            let Some(clock) = *self.clock.borrow() else {
                continue;
            };
            // Propose once an L1 block of the slot exists: `propose` is simulated against it,
            // and the Rollup reads the slot from block.timestamp.
            let Ok(block_slot) = self
                .reader
                .schedule
                .time()
                .slot_at(proofline_core::Timestamp(clock.timestamp))
            else {
                continue;
            };
            if block_slot <= done || block_slot != self.current_slot() {
                continue;
            }
            done = block_slot;
            // Decide from the view of the slot's block (its fallback window), then act. Without
            // one (a restarted node whose first view is not read yet, L1 down) the committee
            // stands aside: it cannot know whether the slot is in based fallback.
            let fallback = match self.view_at_least(clock.block).await {
                Ok(view) => Some(view.fallback),
                Err(e) => {
                    warn!(slot = %block_slot, "no chain view of the slot's block: {e:#}");
                    None
                }
            };
            let duties = decide::slot_duties(
                block_slot,
                fallback.as_ref(),
                !self.validators.is_empty(),
                self.config.fallback_key.is_some(),
            );
            if duties.fallback_propose {
                let based = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = based.propose_in_fallback(block_slot).await {
                        warn!(slot = %block_slot, "no fallback block proposed: {e:#}");
                    }
                });
            }
            if duties.committee_skipped_for_fallback && fallback.is_some() {
                info!(slot = %block_slot, "based fallback: the committee does not propose");
            } else if duties.committee_skipped_for_fallback {
                warn!(slot = %block_slot, "no fallback reading of the slot: the committee does not propose");
            }
            if !duties.committee {
                continue;
            }
            // The claim (SPEC 5.3) rides in the block; without a block, it goes on its own.
            let proposed = self.propose_in(block_slot).await.unwrap_or_else(|e| {
                warn!(slot = %block_slot, "no block proposed: {e:#}");
                false
            });
            if !proposed {
                let claimer = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = claimer.claim_in(block_slot).await {
                        warn!(slot = %block_slot, "no claim sent: {e:#}");
                    }
                });
            }
        }
    }

    /// Keeps the quote intake's validation context as fresh as the newest L1 block: the claim
    /// state read at that block, the node's current slot, and (in [`QuoteIntake::refresh`]) the
    /// escrow of every prover with a pooled quote. Pooled quotes the new context refuses are
    /// dropped. A failed read leaves the previous context in place until the next block.
    async fn quote_loop(self: Arc<Self>) {
        let mut tick =
            tokio::time::interval(self.config.poll_interval.max(crate::clock::SLOT_START_POLL));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut new_view = self.view.subscribe();
        let mut last: Option<(u64, Slot)> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = new_view.changed() => {}
            }
            let Some(view) = self.view.borrow().clone() else {
                continue;
            };
            let slot = self.current_slot();
            if last == Some((view.l1_block, slot)) {
                continue;
            }
            let state = match self.reader.claim_state_of(&view).await {
                Ok(state) => state,
                Err(e) => {
                    warn!("quote context not refreshed: {e:#}");
                    continue;
                }
            };
            let ctx = ValidationContext::new(
                self.deployment.chain_id,
                self.deployment.rollup,
                &self.reader.schedule,
                slot,
                state.epoch_to_prove,
                state.min_bond,
                state.claimed,
            );
            let dropped = self.quotes.refresh(ctx).await;
            if dropped > 0 {
                info!(dropped, "quotes dropped: no claim can use them any more");
            }
            last = Some((view.l1_block, slot));
        }
    }

    /// Answers attestation requests, [`ATTESTS_IN_FLIGHT`] at a time and
    /// [`ATTESTS_PER_PEER`] per peer: an honest proposer sends one request per slot, so a peer
    /// with more in flight is refused at once ("busy"), and a flood from one peer cannot hold the
    /// attester from answering the others.
    async fn attester_loop(
        self: Arc<Self>,
        mut inbound: tokio::sync::mpsc::Receiver<p2p::Inbound<AttestRequest, AttestResponse>>,
    ) {
        let slots = Arc::new(tokio::sync::Semaphore::new(ATTESTS_IN_FLIGHT));
        let per_peer: Arc<Mutex<HashMap<libp2p::PeerId, usize>>> = Default::default();
        while let Some(request) = inbound.recv().await {
            let peer = request.peer;
            let admitted = {
                let mut counts = per_peer.lock().expect("poisoned");
                let n = counts.entry(peer).or_default();
                *n < ATTESTS_PER_PEER && {
                    *n += 1;
                    true
                }
            };
            let permit = admitted
                .then(|| slots.clone().try_acquire_owned().ok())
                .flatten();
            let Some(permit) = permit else {
                if admitted {
                    release(&per_peer, peer);
                }
                self.metrics.attestation(AttestationResult::Refused);
                debug!(%peer, "attestation request refused: too many in flight");
                request.respond(AttestResponse::Refused(
                    "busy: too many attestation requests in flight".into(),
                ));
                continue;
            };
            let inner = self.clone();
            let per_peer = per_peer.clone();
            tokio::spawn(async move {
                let answer = inner.attest(request.request.clone()).await;
                request.respond(answer);
                release(&per_peer, peer);
                drop(permit);
            });
        }
    }
}
