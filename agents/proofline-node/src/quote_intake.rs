//! Quote intake: what happens to a quote the JSON-RPC server (`node_submitEpochBid`) or the
//! gossip topic ([`crate::quotes::QUOTE_TOPIC`]) hands the node.
//!
//! [`QuoteIntake`] is shared by both (cheap to clone). For each quote, in order:
//!
//! 1. the source's token bucket ([`RateLimiter`]; one per gossip peer, one for the RPC server,
//!    which does not pass the client's address to its methods) must have a token, else
//!    [`QuoteError::RateLimited`], before any decoding or signature recovery;
//! 2. gossip bytes are decoded ([`SignedEpochProofQuote::from_wire`]);
//! 3. [`validate`] against the current [`ValidationContext`] ([`QuoteError::NotReady`] until the
//!    node has set one). When the context lacks the prover's escrow balance, it is read from L1
//!    ([`EscrowSource`], bounded by [`IntakeConfig::escrow_timeout`]), kept in the context, and the
//!    quote validated again;
//! 4. the quote enters the [`QuotePool`];
//! 5. a quote that came over RPC is handed to the outbox ([`QuoteIntake::set_outbox`]), which the
//!    node publishes on gossip; one from gossip is forwarded by gossipsub itself once reported
//!    [`MessageAcceptance::Accept`] ([`gossip_acceptance`]).
//!
//! Every quote is counted in the metrics (`quotes_seen`, `quotes_accepted`, `quotes_rejected` by
//! reason) and `quote_bids` follows the pool.
//!
//! The node replaces the context as L1 moves ([`QuoteIntake::refresh`]): the epoch to prove, the
//! claim, the slot and the pooled provers' escrow balances are read again, and pooled quotes that
//! no longer pass are dropped. Between refreshes the context is at most one poll old.
//!
//! Locks: the context (`RwLock`) and the pool (`Mutex`) are never held across an `.await`, and
//! never both at once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use libp2p::gossipsub::MessageAcceptance;
use libp2p::PeerId;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::metrics::Metrics;
use crate::quotes::{Admission, PoolConfig, QuotePool, RateLimiter};
use proofline_core::quote::{
    validate, QuoteError, SignedEpochProofQuote, ValidQuote, ValidationContext, QUOTE_TOPIC,
};
use proofline_core::{Epoch, Timestamp};
use proofline_p2p::{GossipError, GossipMessage, P2pHandle};

/// Gossip messages validated at once by [`run_gossip`] (each may wait on an L1 escrow read).
pub const GOSSIP_VALIDATORS: usize = 16;

/// Where a quote came from: the key of its rate limit and its metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuoteSource {
    /// `node_submitEpochBid`.
    Rpc,
    /// The gossip peer that forwarded it (gossipsub's propagation source).
    Gossip(PeerId),
}

impl QuoteSource {
    /// The metrics label: `rpc` or `gossip`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Rpc => "rpc",
            Self::Gossip(_) => "gossip",
        }
    }
}

/// `ProverEscrow.minBalanceAtTime(prover, at)`, read from L1 by the node
/// ([`crate::l1::EscrowReader`]) or fixed in tests ([`FixedEscrow`]).
pub trait EscrowSource: Send + Sync {
    fn min_balance_at(&self, prover: Address, at: Timestamp) -> BoxFuture<'_, eyre::Result<U256>>;
}

/// Escrow balances that do not change with time; a prover not listed holds nothing.
#[derive(Debug, Clone, Default)]
pub struct FixedEscrow(pub HashMap<Address, U256>);

impl EscrowSource for FixedEscrow {
    fn min_balance_at(&self, prover: Address, _at: Timestamp) -> BoxFuture<'_, eyre::Result<U256>> {
        let balance = self.0.get(&prover).copied().unwrap_or_default();
        async move { Ok(balance) }.boxed()
    }
}

/// Limits of a [`QuoteIntake`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntakeConfig {
    pub pool: PoolConfig,
    /// Quotes a second over RPC, all clients together, and the burst allowed.
    pub rpc_rate: f64,
    pub rpc_burst: u32,
    /// Quotes a second from one gossip peer, and the burst allowed.
    pub peer_rate: f64,
    pub peer_burst: u32,
    /// Gossip peers with a bucket at once (the limiter's memory bound).
    pub max_peers: usize,
    /// Escrow balances kept in the context between refreshes (one L1 read each).
    pub max_escrow_entries: usize,
    /// How long one escrow read may take.
    pub escrow_timeout: Duration,
}

impl Default for IntakeConfig {
    /// A few provers bid a few times per epoch; the rates leave two orders of magnitude of room
    /// and stay far below the validation ceiling (`benches/quotes.rs`).
    fn default() -> Self {
        Self {
            pool: PoolConfig::default(),
            rpc_rate: 200.0,
            rpc_burst: 400,
            peer_rate: 50.0,
            peer_burst: 100,
            max_peers: 1_024,
            max_escrow_entries: 4_096,
            escrow_timeout: Duration::from_secs(5),
        }
    }
}

/// A quote the pool took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub digest: B256,
    pub epoch: Epoch,
    pub admission: Admission,
}

/// What gossipsub should do with a message that got `result` (module doc): forward it, penalise
/// the peer that sent it (a quote wrong whatever the chain's state, [`QuoteError::is_objective`]),
/// or drop it quietly (a refusal that depends on this node's view of L1 and the clock, a quote the
/// pool already has or does not want, a peer over its rate).
pub fn gossip_acceptance(result: &Result<Accepted, QuoteError>) -> MessageAcceptance {
    match result {
        Ok(_) => MessageAcceptance::Accept,
        Err(e) if e.is_objective() => MessageAcceptance::Reject,
        Err(_) => MessageAcceptance::Ignore,
    }
}

/// Most quotes held for the epoch after the one being taken ([`QuoteIntake::submit`]).
const HELD_MAX: usize = 64;

struct Inner {
    config: IntakeConfig,
    pool: Mutex<QuotePool>,
    /// Quotes refused only for being one epoch ahead: their prover saw the previous epoch's
    /// proof land before this node's context did (a block later, at most). Admitted again at the
    /// next refresh, so a gossiped quote, which a peer never sends twice, is not lost.
    held: Mutex<std::collections::VecDeque<SignedEpochProofQuote>>,
    context: RwLock<Option<ValidationContext>>,
    escrow: Arc<dyn EscrowSource>,
    limiter: Mutex<RateLimiter<QuoteSource>>,
    rpc_limiter: Mutex<RateLimiter<QuoteSource>>,
    metrics: Arc<Metrics>,
    outbox: Mutex<Option<mpsc::Sender<SignedEpochProofQuote>>>,
}

/// The node's quote intake and pool (module doc).
#[derive(Clone)]
pub struct QuoteIntake {
    inner: Arc<Inner>,
}

impl fmt::Debug for QuoteIntake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuoteIntake")
            .field("config", &self.inner.config)
            .field("bids", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for QuoteIntake {
    /// An intake with default limits, its own metrics, no escrow (every prover holds nothing) and
    /// no context: every quote is refused as [`QuoteError::NotReady`] until one is set.
    fn default() -> Self {
        Self::new(
            IntakeConfig::default(),
            Arc::new(Metrics::new()),
            Arc::new(FixedEscrow::default()),
        )
    }
}

impl QuoteIntake {
    pub fn new(config: IntakeConfig, metrics: Arc<Metrics>, escrow: Arc<dyn EscrowSource>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                pool: Mutex::new(QuotePool::new(config.pool)),
                held: Mutex::new(Default::default()),
                context: RwLock::new(None),
                escrow,
                limiter: Mutex::new(RateLimiter::new(
                    config.peer_rate,
                    config.peer_burst,
                    config.max_peers,
                )),
                rpc_limiter: Mutex::new(RateLimiter::new(config.rpc_rate, config.rpc_burst, 1)),
                metrics,
                outbox: Mutex::new(None),
            }),
        }
    }

    /// Where quotes accepted over RPC go to be gossiped. A full outbox drops the quote (logged):
    /// the pool has it anyway.
    pub fn set_outbox(&self, outbox: mpsc::Sender<SignedEpochProofQuote>) {
        *self.inner.outbox.lock().expect("poisoned") = Some(outbox);
    }

    /// The context quotes are validated against, if the node has set one.
    pub fn context(&self) -> Option<ValidationContext> {
        self.inner.context.read().expect("poisoned").clone()
    }

    /// Sets the context as is, and drops the pooled quotes it no longer admits. [`Self::refresh`]
    /// reads escrow balances first; this is for callers (tests, benches) that have them.
    pub fn set_context(&self, ctx: ValidationContext) -> usize {
        let dropped = self.inner.pool.lock().expect("poisoned").revalidate(&ctx);
        *self.inner.context.write().expect("poisoned") = Some(ctx);
        for (q, e) in &dropped {
            debug!(digest = %q.digest(), reason = e.reason(), "quote dropped from the pool");
        }
        self.update_gauge();
        dropped.len()
    }

    /// Replaces the context by `base` (all but its escrow balances, which are read here for every
    /// prover with a pooled quote for its epoch), then drops the pooled quotes it no longer
    /// admits. A balance that cannot be read keeps its previous value for the same claim. Returns
    /// how many quotes were dropped.
    pub async fn refresh(&self, mut base: ValidationContext) -> usize {
        let provers = match base.epoch_to_prove {
            Some(epoch) => self.inner.pool.lock().expect("poisoned").provers(epoch),
            None => Vec::new(),
        };
        let deadline = base.escrow_deadline;
        let timeout = self.inner.config.escrow_timeout;
        let escrow = &self.inner.escrow;
        let read: Vec<(Address, eyre::Result<U256>)> = futures::stream::iter(provers)
            .map(|p| async move {
                let balance = tokio::time::timeout(timeout, escrow.min_balance_at(p, deadline))
                    .await
                    .unwrap_or_else(|_| Err(eyre::eyre!("timed out after {timeout:?}")));
                (p, balance)
            })
            .buffer_unordered(16)
            .collect()
            .await;
        let previous = self.context();
        for (prover, balance) in read {
            match balance {
                Ok(b) => {
                    base.escrow.insert(prover, b);
                }
                Err(e) => {
                    warn!(%prover, "escrow balance not read: {e:#}");
                    let kept = previous
                        .as_ref()
                        .filter(|p| p.same_claim(&base))
                        .and_then(|p| p.escrow.get(&prover).copied());
                    if let Some(b) = kept {
                        base.escrow.insert(prover, b);
                    }
                }
            }
        }
        let dropped = self.set_context(base);
        let held: Vec<_> = self
            .inner
            .held
            .lock()
            .expect("poisoned")
            .drain(..)
            .collect();
        for quote in held {
            // Held again if still ahead; a stale one is dropped. One pooled now is gossiped from
            // here, whoever sent it: the peers that refused it as early must see it too.
            if let Ok(a) = self.admit(quote).await {
                debug!(digest = %a.digest, epoch = a.epoch.0, "held quote admitted");
                self.gossip(quote);
            }
        }
        self.update_gauge();
        dropped
    }

    /// Validates and pools a quote (module doc). Counts it in the metrics; a quote accepted over
    /// RPC goes to the outbox.
    pub async fn submit(
        &self,
        source: QuoteSource,
        quote: SignedEpochProofQuote,
    ) -> Result<Accepted, QuoteError> {
        let result = match self.take_token(source) {
            Ok(()) => self.admit(quote).await,
            Err(e) => Err(e),
        };
        self.count(source, &result);
        if result.is_ok() && source == QuoteSource::Rpc {
            self.gossip(quote);
        }
        result
    }

    /// Hands `quote` to the outbox, to be gossiped.
    fn gossip(&self, quote: SignedEpochProofQuote) {
        if let Some(outbox) = self.inner.outbox.lock().expect("poisoned").as_ref() {
            if let Err(e) = outbox.try_send(quote) {
                warn!("quote not gossiped: {e}");
            }
        }
    }

    /// [`Self::submit`] for a gossip message's bytes. The rate limit is checked before decoding.
    pub async fn submit_wire(&self, peer: PeerId, bytes: &[u8]) -> Result<Accepted, QuoteError> {
        let source = QuoteSource::Gossip(peer);
        let decoded = self
            .take_token(source)
            .and_then(|()| SignedEpochProofQuote::from_wire(bytes).map_err(QuoteError::from));
        let result = match decoded {
            Ok(quote) => self.admit(quote).await,
            Err(e) => Err(e),
        };
        self.count(source, &result);
        result
    }

    fn take_token(&self, source: QuoteSource) -> Result<(), QuoteError> {
        let limiter = match source {
            QuoteSource::Rpc => &self.inner.rpc_limiter,
            QuoteSource::Gossip(_) => &self.inner.limiter,
        };
        if limiter
            .lock()
            .expect("poisoned")
            .try_acquire(&source, Instant::now())
        {
            Ok(())
        } else {
            Err(QuoteError::RateLimited)
        }
    }

    fn count(&self, source: QuoteSource, result: &Result<Accepted, QuoteError>) {
        self.inner.metrics.quote(
            source.label(),
            result.as_ref().err().map(QuoteError::reason),
        );
        self.update_gauge();
    }

    fn update_gauge(&self) {
        let len = self.len();
        self.inner
            .metrics
            .quote_bids
            .set(i64::try_from(len).unwrap_or(i64::MAX));
    }

    /// [`Self::admit_now`], holding a quote for the epoch after the epoch to prove: the answer
    /// says so ([`QuoteError::Held`]), and [`Self::refresh`] pools and gossips it once its epoch
    /// is the epoch to prove. A refusal is final; a hold is not a refusal.
    async fn admit(&self, quote: SignedEpochProofQuote) -> Result<Accepted, QuoteError> {
        let result = self.admit_now(&quote).await;
        if let Err(QuoteError::WrongEpoch { expected, got }) = &result {
            let next = expected.next();
            if *got == U256::from(next.0) {
                let mut held = self.inner.held.lock().expect("poisoned");
                if !held.contains(&quote) {
                    if held.len() == HELD_MAX {
                        held.pop_front();
                    }
                    held.push_back(quote);
                }
                return Err(QuoteError::Held {
                    expected: *expected,
                    got: next,
                });
            }
        }
        result
    }

    async fn admit_now(&self, quote: &SignedEpochProofQuote) -> Result<Accepted, QuoteError> {
        let valid = match self.validate_now(quote, None) {
            Err(QuoteError::EscrowUnknown { prover, deadline }) => {
                let balance = tokio::time::timeout(
                    self.inner.config.escrow_timeout,
                    self.inner.escrow.min_balance_at(prover, deadline),
                )
                .await
                .map_err(|_| QuoteError::L1Unavailable("escrow read timed out".into()))?
                .map_err(|e| QuoteError::L1Unavailable(format!("{e:#}")))?;
                self.remember_balance(prover, deadline, balance);
                self.validate_now(quote, Some((prover, balance)))?
            }
            other => other?,
        };
        let (digest, epoch) = (valid.digest(), valid.epoch());
        let admission = self.inner.pool.lock().expect("poisoned").insert(valid)?;
        Ok(Accepted {
            digest,
            epoch,
            admission,
        })
    }

    /// [`validate`] against the current context; `extra` is a balance just read, used when the
    /// context could not keep it (full, or replaced meanwhile by one for the same claim without it).
    fn validate_now(
        &self,
        quote: &SignedEpochProofQuote,
        extra: Option<(Address, U256)>,
    ) -> Result<ValidQuote, QuoteError> {
        let guard = self.inner.context.read().expect("poisoned");
        let ctx = guard.as_ref().ok_or(QuoteError::NotReady)?;
        match (validate(quote, ctx), extra) {
            (Err(QuoteError::EscrowUnknown { prover, .. }), Some((p, balance))) if p == prover => {
                let mut with = ctx.clone();
                drop(guard);
                with.escrow.insert(p, balance);
                validate(quote, &with)
            }
            (result, _) => result,
        }
    }

    fn remember_balance(&self, prover: Address, deadline: Timestamp, balance: U256) {
        let mut guard = self.inner.context.write().expect("poisoned");
        if let Some(ctx) = guard.as_mut() {
            if ctx.escrow_deadline == deadline
                && ctx.escrow.len() < self.inner.config.max_escrow_entries
            {
                ctx.escrow.insert(prover, balance);
            }
        }
    }

    /// Bids held, all epochs.
    pub fn len(&self) -> usize {
        self.inner.pool.lock().expect("poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The best bid for `epoch` ([`QuotePool::best`]).
    pub fn best(&self, epoch: Epoch) -> Option<ValidQuote> {
        self.inner
            .pool
            .lock()
            .expect("poisoned")
            .best(epoch)
            .cloned()
    }

    /// The bids for `epoch`, best first.
    pub fn bids(&self, epoch: Epoch) -> Vec<ValidQuote> {
        self.inner
            .pool
            .lock()
            .expect("poisoned")
            .bids(epoch)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Drops a pooled bid ([`QuotePool::remove`]), e.g. one L1 refuses after all.
    pub fn remove(&self, epoch: Epoch, digest: &B256) -> Option<ValidQuote> {
        let removed = self
            .inner
            .pool
            .lock()
            .expect("poisoned")
            .remove(epoch, digest);
        self.update_gauge();
        removed
    }

    /// Runs `f` on the pool (e.g. to check its invariants).
    pub fn with_pool<T>(&self, f: impl FnOnce(&QuotePool) -> T) -> T {
        f(&self.inner.pool.lock().expect("poisoned"))
    }
}

/// Validates every quote gossip delivers on [`QUOTE_TOPIC`] and reports the verdict
/// ([`gossip_acceptance`]); messages on other topics are ignored. Runs until the transport
/// closes `messages`.
pub async fn run_gossip(intake: QuoteIntake, mut messages: mpsc::Receiver<GossipMessage>) {
    let permits = Arc::new(tokio::sync::Semaphore::new(GOSSIP_VALIDATORS));
    while let Some(msg) = messages.recv().await {
        if msg.topic != QUOTE_TOPIC {
            msg.report(MessageAcceptance::Ignore);
            continue;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let intake = intake.clone();
        tokio::spawn(async move {
            let result = intake.submit_wire(msg.source, &msg.data).await;
            if let Err(e) = &result {
                debug!(peer = %msg.source, "gossip quote refused: {e}");
            }
            msg.report(gossip_acceptance(&result));
            drop(permit);
        });
    }
}

/// Publishes on [`QUOTE_TOPIC`] every quote the intake accepted over RPC
/// ([`QuoteIntake::set_outbox`]). A quote no peer is subscribed for (yet) stays with this node.
pub async fn run_outbox<Req, Resp>(
    p2p: P2pHandle<Req, Resp>,
    mut outbox: mpsc::Receiver<SignedEpochProofQuote>,
) where
    Req: Send + 'static,
    Resp: Send + 'static,
{
    while let Some(quote) = outbox.recv().await {
        match p2p.publish(QUOTE_TOPIC, quote.to_wire()).await {
            Ok(()) | Err(GossipError::Duplicate) => {}
            Err(GossipError::Shutdown) => break,
            Err(e) => warn!(prover = %quote.quote.prover, "quote not gossiped: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;
    use proofline_core::quote::{sign_quote, EpochProofQuote};
    use proofline_core::{Schedule, Slot, TimeConfig};

    fn key(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
    }

    fn base() -> ValidationContext {
        at(40, 1)
    }

    /// The test chain's context in slot `slot`, with `epoch` to prove.
    fn at(slot: u64, epoch: u64) -> ValidationContext {
        ValidationContext::new(
            1,
            Address::repeat_byte(9),
            &Schedule::new(TimeConfig::new(Timestamp(1_000), 12, 32).unwrap(), 13),
            Slot(slot),
            Some(Epoch(epoch)),
            U256::from(100),
            false,
        )
    }

    fn quote(k: &PrivateKeySigner, fee: u32, bond: u64) -> SignedEpochProofQuote {
        let q = EpochProofQuote {
            epoch_to_prove: U256::from(1),
            valid_until_slot: U256::from(70),
            bond_amount: U256::from(bond),
            prover: k.address(),
            basis_point_fee: fee,
        };
        sign_quote(k, &base().domain(), q).unwrap()
    }

    /// Counts reads, so tests see when the intake goes to L1.
    struct CountingEscrow {
        balances: HashMap<Address, U256>,
        reads: Mutex<Vec<Address>>,
        fail: bool,
    }

    impl EscrowSource for CountingEscrow {
        fn min_balance_at(
            &self,
            prover: Address,
            _at: Timestamp,
        ) -> BoxFuture<'_, eyre::Result<U256>> {
            self.reads.lock().unwrap().push(prover);
            let result = if self.fail {
                Err(eyre::eyre!("L1 down"))
            } else {
                Ok(self.balances.get(&prover).copied().unwrap_or_default())
            };
            async move { result }.boxed()
        }
    }

    fn intake(balances: &[(u8, u64)], fail: bool) -> (QuoteIntake, Arc<CountingEscrow>) {
        let escrow = Arc::new(CountingEscrow {
            balances: balances
                .iter()
                .map(|(k, b)| (key(*k).address(), U256::from(*b)))
                .collect(),
            reads: Mutex::new(Vec::new()),
            fail,
        });
        let intake = QuoteIntake::new(
            IntakeConfig::default(),
            Arc::new(Metrics::new()),
            escrow.clone(),
        );
        (intake, escrow)
    }

    #[tokio::test]
    async fn refuses_until_a_context_is_set_then_reads_escrow_once_per_prover() {
        let (intake, escrow) = intake(&[(1, 10_000)], false);
        let q = quote(&key(1), 10, 1_000);
        assert_eq!(
            intake.submit(QuoteSource::Rpc, q).await,
            Err(QuoteError::NotReady)
        );
        intake.set_context(base());
        let accepted = intake.submit(QuoteSource::Rpc, q).await.unwrap();
        assert_eq!(accepted.epoch, Epoch(1));
        assert_eq!(intake.best(Epoch(1)).unwrap().digest(), accepted.digest);
        // A better quote of the same prover: no second read.
        intake
            .submit(QuoteSource::Rpc, quote(&key(1), 5, 1_000))
            .await
            .unwrap();
        assert_eq!(*escrow.reads.lock().unwrap(), vec![key(1).address()]);
        // A prover without escrow: read, then refused.
        assert_eq!(
            intake
                .submit(QuoteSource::Rpc, quote(&key(2), 5, 1_000))
                .await
                .unwrap_err()
                .reason(),
            "insufficient_escrow"
        );
        assert_eq!(intake.len(), 1);
        let text = intake.inner.metrics.encode();
        assert!(
            text.contains("proofline_quotes_accepted_total{source=\"rpc\"} 2"),
            "{text}"
        );
        assert!(text.contains("reason=\"not_ready\"} 1"), "{text}");
        assert!(text.contains("proofline_quote_bids 1"), "{text}");
    }

    /// A gossiped quote for the next epoch that arrives a block before this node sees the proof
    /// of the current one: held (the answer says so; not forwarded yet), then pooled and gossiped
    /// at the next refresh.
    #[tokio::test]
    async fn a_quote_one_epoch_ahead_is_held_until_the_context_catches_up() {
        let (intake, _) = intake(&[(1, 10_000), (2, 10_000)], false);
        intake.set_context(base());
        let (outbox, mut gossiped) = mpsc::channel(8);
        intake.set_outbox(outbox);
        let ahead = |k: u8, epoch: u64| {
            let q = EpochProofQuote {
                epoch_to_prove: U256::from(epoch),
                valid_until_slot: U256::from(200),
                bond_amount: U256::from(1_000),
                prover: key(k).address(),
                basis_point_fee: 10,
            };
            sign_quote(&key(k), &base().domain(), q).unwrap()
        };
        let next = ahead(1, 2);
        let result = intake.submit_wire(PeerId::random(), &next.to_wire()).await;
        assert_eq!(
            result,
            Err(QuoteError::Held {
                expected: Epoch(1),
                got: Epoch(2)
            }),
            "held, and the answer says so"
        );
        assert_eq!(gossip_acceptance(&result), MessageAcceptance::Ignore);
        // Sent again (a prover re-sends each poll): held once. Two epochs ahead: not held.
        let _ = intake.submit(QuoteSource::Rpc, next).await;
        let _ = intake.submit(QuoteSource::Rpc, ahead(2, 3)).await;
        assert_eq!(intake.inner.held.lock().unwrap().len(), 1);
        // The proof of epoch 1 lands: epoch 2 is taken now, in its claim window.
        intake.refresh(at(97, 2)).await;
        assert_eq!(
            intake.best(Epoch(2)).map(|q| *q.signed()),
            Some(next),
            "the held quote is pooled"
        );
        assert!(intake.inner.held.lock().unwrap().is_empty());
        // Pooled here, so gossiped from here: every node ends up with the same pool (probing,
        // issue 15: the node pooled it and never gossiped it).
        assert_eq!(gossiped.try_recv().ok(), Some(next));
        assert!(gossiped.try_recv().is_err(), "gossiped once");
    }

    #[tokio::test]
    async fn an_escrow_read_failure_is_l1_unavailable() {
        let (intake, _) = intake(&[], true);
        intake.set_context(base());
        assert!(matches!(
            intake
                .submit(QuoteSource::Rpc, quote(&key(1), 5, 1_000))
                .await,
            Err(QuoteError::L1Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn refresh_rereads_pooled_provers_and_drops_what_no_longer_passes() {
        let (intake, escrow) = intake(&[(1, 10_000), (2, 10_000)], false);
        intake.set_context(base());
        for k in [1, 2] {
            intake
                .submit(QuoteSource::Rpc, quote(&key(k), 5, 1_000))
                .await
                .unwrap();
        }
        escrow.reads.lock().unwrap().clear();
        assert_eq!(intake.refresh(base()).await, 0);
        let mut reads = escrow.reads.lock().unwrap().clone();
        reads.sort();
        let mut expected = vec![key(1).address(), key(2).address()];
        expected.sort();
        assert_eq!(reads, expected);
        // The epoch got claimed: every bid goes.
        let mut claimed = base();
        claimed.claimed = true;
        assert_eq!(intake.refresh(claimed).await, 2);
        assert!(intake.is_empty());
    }

    #[tokio::test]
    async fn a_source_over_its_rate_is_refused_before_decoding() {
        let config = IntakeConfig {
            peer_rate: 0.0,
            peer_burst: 2,
            ..IntakeConfig::default()
        };
        let intake = QuoteIntake::new(
            config,
            Arc::new(Metrics::new()),
            Arc::new(FixedEscrow::default()),
        );
        let peer = PeerId::random();
        for _ in 0..2 {
            assert!(matches!(
                intake.submit_wire(peer, b"junk").await,
                Err(QuoteError::Malformed(_))
            ));
        }
        let over = intake.submit_wire(peer, b"junk").await;
        assert_eq!(over, Err(QuoteError::RateLimited));
        assert_eq!(gossip_acceptance(&over), MessageAcceptance::Ignore);
        // Another peer has its own bucket.
        let other = intake.submit_wire(PeerId::random(), b"junk").await;
        assert_eq!(gossip_acceptance(&other), MessageAcceptance::Reject);
    }

    #[tokio::test]
    async fn rpc_acceptances_go_to_the_outbox_gossip_ones_do_not() {
        let (intake, _) = intake(&[(1, 10_000), (2, 10_000)], false);
        intake.set_context(base());
        let (tx, mut rx) = mpsc::channel(4);
        intake.set_outbox(tx);
        let q = quote(&key(1), 5, 1_000);
        intake.submit(QuoteSource::Rpc, q).await.unwrap();
        assert_eq!(rx.try_recv().unwrap(), q);
        let g = quote(&key(2), 5, 1_000);
        let r = intake.submit_wire(PeerId::random(), &g.to_wire()).await;
        assert_eq!(gossip_acceptance(&r), MessageAcceptance::Accept);
        assert!(rx.try_recv().is_err());
        // The same quote again: already known, not a fault of the peer.
        let again = intake.submit_wire(PeerId::random(), &g.to_wire()).await;
        assert_eq!(again.as_ref().unwrap_err().reason(), "already_known");
        assert_eq!(gossip_acceptance(&again), MessageAcceptance::Ignore);
    }
}
