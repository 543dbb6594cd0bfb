//! A tx generator for the devnet: valid, distinct txs, sent over the node's JSON-RPC.
//!
//! [`TxGen`] is a deterministic stream (by seed) of well-formed txs, each with fresh random
//! nullifiers, so none conflicts with another or with the state; paid by a payer key (fees
//! backed by its L2 fee balance) or unpaid. [`run`] sends them to a node at a steady rate with the
//! typed client ([`proofline_node::rpc::NodeApiClient`]), counting what the node accepted and refused. It
//! waits for a node that is not up yet (or restarts) with exponential backoff, retrying the same
//! tx, and never panics on a network error. [`fund`] gives a payer its fee balance the way any
//! user gets one: a fee deposit on L1 through the forced-inclusion queue, which a block then
//! takes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use eyre::WrapErr;
use futures::stream::{FuturesUnordered, StreamExt};
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use proofline_bindings::{DevToken, ForcedInclusionQueue};
use proofline_l1::{Deployment, TxCandidate, TxManager};
use proofline_l2::{PublicDataWrite, Tx};
use tokio::sync::watch;

use proofline_node::rpc::{codes, NodeApiClient};

/// splitmix64: small, fast, and good enough to make 256-bit values that never collide in practice.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn word(&mut self) -> B256 {
        let mut b = [0u8; 32];
        for chunk in b.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        B256::from(b)
    }

    /// A random word that is never zero (zero is the trees' empty leaf, refused in txs).
    fn nonzero_word(&mut self) -> B256 {
        let mut w = self.word();
        w.0[31] |= 1;
        w
    }

    /// A random public-data slot outside the reserved fee-balance slots.
    fn slot(&mut self) -> B256 {
        let mut w = self.word();
        w.0[0] &= 0x7f;
        w
    }
}

/// A deterministic stream of valid, distinct txs.
///
/// Each tx has 1 to 3 nullifiers (random 256-bit values), 0 to 3 note hashes, 0 to 2
/// public-data writes to random slots, and, when the generator has a payer, a fee in `1..=1000`
/// paid (and signed) by it; without one, txs are unpaid. Two generators with the same seed yield
/// the same txs, so give each sender its own seed ([`run`] picks a random one).
#[derive(Debug, Clone)]
pub struct TxGen {
    rng: SplitMix64,
    payer: Option<PrivateKeySigner>,
}

impl TxGen {
    /// Unpaid txs (fee zero).
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64(seed),
            payer: None,
        }
    }

    /// Txs whose fees `payer` pays: its L2 fee balance must cover them ([`fund`]).
    pub fn paying(seed: u64, payer: PrivateKeySigner) -> Self {
        Self {
            rng: SplitMix64(seed),
            payer: Some(payer),
        }
    }

    /// The next tx.
    pub fn next_tx(&mut self) -> Tx {
        let r = &mut self.rng;
        let notes = (0..r.below(4)).map(|_| r.nonzero_word()).collect();
        let nullifiers = (0..1 + r.below(3)).map(|_| r.nonzero_word()).collect();
        let writes = (0..r.below(3))
            .map(|_| PublicDataWrite {
                slot: r.slot(),
                value: r.word(),
            })
            .collect();
        let fee = 1 + u128::from(r.below(1000));
        // Random 256-bit words do not repeat and no slot is reserved, so this cannot fail.
        match &self.payer {
            None => Tx::new(notes, nullifiers, writes),
            Some(payer) => Tx::paid(notes, nullifiers, writes, fee, payer),
        }
        .expect("random words are distinct, nonzero and not reserved")
    }
}

impl Iterator for TxGen {
    type Item = Tx;

    fn next(&mut self) -> Option<Tx> {
        Some(self.next_tx())
    }
}

/// What [`run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxGenStats {
    /// Txs the node accepted.
    pub accepted: u64,
    /// Txs the node refused, by JSON-RPC error code.
    pub refused: BTreeMap<i32, u64>,
    /// Sends that failed before the node answered (node down, timeout); each was retried.
    pub transport_errors: u64,
    /// Txs given up on because `stop` came while they were being retried.
    pub abandoned: u64,
    pub elapsed: Duration,
}

impl TxGenStats {
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }

    /// Txs the node answered (accepted or refused).
    pub fn answered(&self) -> u64 {
        self.accepted + self.refused_total()
    }
}

/// Most sends in flight at once.
const MAX_IN_FLIGHT: usize = 64;
/// Backoff after a transport error: doubles from the first to the last.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Pacing granularity.
const TICK: Duration = Duration::from_millis(5);

/// How one send ended.
enum Outcome {
    Accepted,
    Refused(i32),
    Abandoned,
}

/// Send `tx` until the node answers or `stop` comes; counts transport errors in `errors`.
async fn send_until_answered(client: &HttpClient, tx: Tx, mut stop: StopSignal) -> (Outcome, u64) {
    let data: Bytes = tx.encode().into();
    let mut backoff = BACKOFF_MIN;
    let mut errors = 0;
    loop {
        match client.send_tx(data.clone()).await {
            Ok(_) => return (Outcome::Accepted, errors),
            // A retry of a send whose first attempt did reach the node: it is ours.
            Err(ClientError::Call(e)) if errors > 0 && e.code() == codes::ALREADY_KNOWN => {
                return (Outcome::Accepted, errors)
            }
            Err(ClientError::Call(e)) => return (Outcome::Refused(e.code()), errors),
            Err(e) => {
                errors += 1;
                if errors == 1 || errors.is_power_of_two() {
                    tracing::warn!(error = %e, attempt = errors, "txgen: node unreachable, retrying");
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.stopped() => return (Outcome::Abandoned, errors),
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// A stop flag from a `watch::Receiver<bool>`: stopped once it reads `true`. A dropped sender
/// means no stop will ever come.
#[derive(Clone)]
struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    async fn stopped(&mut self) {
        if self.0.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Send generated txs to the node at `url` (e.g. `http://127.0.0.1:8545`), `rate_per_sec` a
/// second, until `total` were answered (or forever) or `stop` turns `true`. A random seed picks
/// the txs; see [`run_seeded`].
pub async fn run(
    url: &str,
    rate_per_sec: f64,
    total: Option<u64>,
    stop: watch::Receiver<bool>,
) -> eyre::Result<TxGenStats> {
    let seed = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(Instant::now())
    };
    run_seeded(url, rate_per_sec, total, stop, seed, None).await
}

/// How long [`fund`] waits for its deposit to reach the node's L2 state.
const FUND_TIMEOUT: Duration = Duration::from_secs(600);

/// Give `payer` (the L2 account of the key `txmgr` sends with) at least `amount` of fee balance:
/// if the node at `node_url` shows less, deposit the difference through the forced-inclusion
/// queue's `depositFee` (approving the fee token, and minting it first when `dev_mint`, for
/// DevToken deployments), then wait until a block took the deposit and the node shows it.
pub async fn fund<P: Provider + Clone>(
    provider: P,
    deployment: &Deployment,
    txmgr: &TxManager,
    node_url: &str,
    amount: U256,
    dev_mint: bool,
) -> eyre::Result<()> {
    let payer = txmgr.address();
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(node_url)?;
    let balance = wait_for_node(&client, payer).await?;
    if balance >= amount {
        tracing::info!(%payer, %balance, "txgen: the payer's fee balance is enough");
        return Ok(());
    }
    let missing = amount - balance;
    let token = DevToken::new(deployment.reward_asset, provider.clone());
    let queue = ForcedInclusionQueue::new(deployment.forced_inclusion_queue, provider.clone());
    let held = token.balanceOf(payer).call().await?;
    if held < missing {
        eyre::ensure!(
            dev_mint,
            "{payer} holds {held} fee tokens, {missing} are needed for the deposit (or --dev-mint)"
        );
        let mint = DevToken::mintCall {
            to: payer,
            amount: missing - held,
        };
        txmgr
            .send_and_wait(
                "mint-fee-token",
                TxCandidate::call(deployment.reward_asset, &mint),
            )
            .await?;
    }
    let approve = DevToken::approveCall {
        spender: deployment.forced_inclusion_queue,
        value: missing,
    };
    txmgr
        .send_and_wait(
            "approve-fee-deposit",
            TxCandidate::call(deployment.reward_asset, &approve),
        )
        .await?;
    let length = queue.DEPOSIT_LENGTH().call().await?;
    // The fee rises with the entries waiting; pay some headroom (the queue keeps it all).
    let fee = queue.enqueueFee(length).call().await? * U256::from(2);
    let deposit = ForcedInclusionQueue::depositFeeCall {
        recipient: payer,
        amount: missing,
    };
    let outcome = txmgr
        .send_and_wait(
            "fee-deposit",
            TxCandidate::call(deployment.forced_inclusion_queue, &deposit).with_value(fee),
        )
        .await?;
    tracing::info!(%payer, amount = %missing, tx = %outcome.tx_hash, "txgen: fee deposit sent; waiting for a block to take it");
    let deadline = Instant::now() + FUND_TIMEOUT;
    loop {
        let balance = client
            .get_fee_balance(payer)
            .await
            .wrap_err("node_getFeeBalance")?;
        if balance >= amount {
            tracing::info!(%payer, %balance, "txgen: fee deposit arrived on L2");
            return Ok(());
        }
        eyre::ensure!(
            Instant::now() < deadline,
            "the fee deposit for {payer} did not reach the node's L2 state within {FUND_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The payer's balance, once the node answers.
async fn wait_for_node(client: &HttpClient, payer: Address) -> eyre::Result<U256> {
    let deadline = Instant::now() + FUND_TIMEOUT;
    loop {
        match client.get_fee_balance(payer).await {
            Ok(balance) => return Ok(balance),
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(error = %e, "txgen: node not answering yet");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).wrap_err("node_getFeeBalance"),
        }
    }
}

/// [`run`] with the generator's seed given, and its payer (none: unpaid txs).
pub async fn run_seeded(
    url: &str,
    rate_per_sec: f64,
    total: Option<u64>,
    stop: watch::Receiver<bool>,
    seed: u64,
    payer: Option<PrivateKeySigner>,
) -> eyre::Result<TxGenStats> {
    eyre::ensure!(
        rate_per_sec.is_finite() && rate_per_sec > 0.0,
        "rate must be a positive number of txs per second, got {rate_per_sec}"
    );
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)?;
    let mut gen = match payer {
        Some(payer) => TxGen::paying(seed, payer),
        None => TxGen::new(seed),
    };
    let stop = StopSignal(stop);
    let mut stats = TxGenStats::default();
    let start = Instant::now();
    let mut started: u64 = 0;
    let mut in_flight = FuturesUnordered::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop_wait = stop.clone();

    loop {
        let stopped = stop.is_stopped();
        if !stopped {
            // Start every send that is due by now, within the in-flight cap.
            let due = (start.elapsed().as_secs_f64() * rate_per_sec) as u64;
            let due = total.map_or(due, |t| due.min(t));
            while started < due && in_flight.len() < MAX_IN_FLIGHT {
                let tx = gen.next_tx();
                let client = &client;
                let stop = stop.clone();
                in_flight.push(send_until_answered(client, tx, stop));
                started += 1;
            }
        }
        if in_flight.is_empty() && (stopped || total.is_some_and(|t| started >= t)) {
            break;
        }
        tokio::select! {
            Some((outcome, errors)) = in_flight.next(), if !in_flight.is_empty() => {
                stats.transport_errors += errors;
                match outcome {
                    Outcome::Accepted => stats.accepted += 1,
                    Outcome::Refused(code) => *stats.refused.entry(code).or_default() += 1,
                    Outcome::Abandoned => stats.abandoned += 1,
                }
            }
            _ = ticker.tick() => {}
            _ = stop_wait.stopped(), if !stopped => {}
        }
    }
    stats.elapsed = start.elapsed();
    tracing::info!(
        accepted = stats.accepted,
        refused = stats.refused_total(),
        transport_errors = stats.transport_errors,
        secs = stats.elapsed.as_secs_f64(),
        "txgen done"
    );
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proofline_node::mempool::{Mempool, MempoolConfig};
    use proofline_node::rpc::{serve, NodeStatus, RpcState};
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex, RwLock};

    fn payer() -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::with_last_byte(0x51)).unwrap()
    }

    #[test]
    fn generated_txs_are_valid_distinct_and_deterministic() {
        let txs: Vec<Tx> = TxGen::paying(7, payer()).take(1000).collect();
        assert_eq!(
            txs,
            TxGen::paying(7, payer()).take(1000).collect::<Vec<_>>()
        );
        assert_ne!(txs[0], TxGen::paying(8, payer()).next_tx());
        let mut nullifiers = HashSet::new();
        let mut shapes = HashSet::new();
        for tx in &txs {
            for n in tx.nullifiers() {
                assert!(nullifiers.insert(*n), "nullifier {n} generated twice");
            }
            assert!((1..=1000).contains(&tx.fee()));
            assert_eq!(tx.payer(), Some(payer().address()));
            assert_eq!(Tx::decode(&tx.encode()).as_ref(), Ok(tx));
            shapes.insert((
                tx.note_hashes().len(),
                tx.nullifiers().len(),
                tx.public_writes().len(),
            ));
        }
        // Every combination of 0-3 notes, 1-3 nullifiers, 0-2 writes shows up.
        assert_eq!(shapes.len(), 4 * 3 * 3);
        let hashes: HashSet<B256> = txs.iter().map(Tx::hash).collect();
        assert_eq!(hashes.len(), txs.len());
        // Distinct nullifiers make them jointly valid once the payer's balance covers them;
        // apply a few (the state's depth-256 trees are slow unoptimised).
        let mut state = proofline_l2::State::new();
        state.credit(payer().address(), 10_000);
        for tx in &txs[..10] {
            state.apply_tx(tx).unwrap();
        }
        // Without a payer, the same shapes, unpaid.
        let unpaid = TxGen::new(7).next_tx();
        assert_eq!((unpaid.fee(), unpaid.payer()), (0, None));
        assert_eq!(unpaid.nullifiers(), txs[0].nullifiers());
    }

    async fn start_node() -> (String, RpcState, jsonrpsee::server::ServerHandle) {
        let (_tx, status) = watch::channel(NodeStatus::default());
        let state = RpcState {
            mempool: Arc::new(Mutex::new(Mempool::new(MempoolConfig { max_txs: 100_000 }))),
            chain: Arc::new(RwLock::new(proofline_chain::chain::NodeChain::new())),
            status,
            quotes: Default::default(),
            store: None,
        };
        let (addr, handle) = serve("127.0.0.1:0".parse().unwrap(), state.clone())
            .await
            .unwrap();
        (format!("http://{addr}"), state, handle)
    }

    #[tokio::test]
    async fn run_sends_total_txs_and_counts_them() {
        let (url, state, _handle) = start_node().await;
        let (_stop_tx, stop) = watch::channel(false);
        let stats = run_seeded(&url, 2000.0, Some(300), stop, 1, None)
            .await
            .unwrap();
        assert_eq!(stats.accepted, 300, "{stats:?}");
        assert_eq!(stats.refused_total(), 0);
        assert_eq!(stats.transport_errors, 0);
        assert_eq!(state.mempool.lock().unwrap().len(), 300);

        // The same seed again: every tx is already pending.
        let (_stop_tx, stop) = watch::channel(false);
        let stats = run_seeded(&url, 2000.0, Some(50), stop, 1, None)
            .await
            .unwrap();
        assert_eq!(stats.accepted, 0);
        assert_eq!(stats.refused.get(&codes::ALREADY_KNOWN), Some(&50));
    }

    #[tokio::test]
    async fn run_paces_at_the_rate() {
        let (url, _state, _handle) = start_node().await;
        let (_stop_tx, stop) = watch::channel(false);
        let stats = run_seeded(&url, 200.0, Some(60), stop, 2, None)
            .await
            .unwrap();
        assert_eq!(stats.accepted, 60);
        // 60 txs at 200/s take about 0.3 s.
        assert!(stats.elapsed >= Duration::from_millis(280), "{stats:?}");
        assert!(stats.elapsed < Duration::from_secs(3), "{stats:?}");
    }

    #[tokio::test]
    async fn run_waits_for_a_node_that_comes_up_late_and_stops_on_request() {
        // Reserve a port, free it, and start the node there only later.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url = format!("http://{addr}");
        let (stop_tx, stop) = watch::channel(false);
        let gen =
            tokio::spawn(async move { run_seeded(&url, 500.0, Some(20), stop, 3, None).await });
        tokio::time::sleep(Duration::from_millis(400)).await;

        let (_status_tx, status) = watch::channel(NodeStatus::default());
        let state = RpcState {
            mempool: Arc::new(Mutex::new(Mempool::new(MempoolConfig::default()))),
            chain: Arc::new(RwLock::new(proofline_chain::chain::NodeChain::new())),
            status,
            quotes: Default::default(),
            store: None,
        };
        let (_, handle) = serve(addr, state.clone()).await.unwrap();
        let stats = tokio::time::timeout(Duration::from_secs(20), gen)
            .await
            .expect("txgen finishes once the node is up")
            .unwrap()
            .unwrap();
        assert_eq!(stats.accepted, 20, "{stats:?}");
        assert!(stats.transport_errors > 0);
        assert_eq!(state.mempool.lock().unwrap().len(), 20);
        handle.stop().unwrap();
        handle.stopped().await;

        // With no node and no total, only `stop` ends it, without panicking.
        let (stop_tx2, stop2) = watch::channel(false);
        let url = format!("http://{addr}");
        let gen = tokio::spawn(async move { run_seeded(&url, 100.0, None, stop2, 4, None).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop_tx2.send_replace(true);
        let stats = tokio::time::timeout(Duration::from_secs(5), gen)
            .await
            .expect("stop ends txgen")
            .unwrap()
            .unwrap();
        assert_eq!(stats.accepted, 0);
        assert!(stats.abandoned > 0);
        drop(stop_tx);
    }

    #[tokio::test]
    async fn a_bad_rate_is_an_error() {
        let (_stop_tx, stop) = watch::channel(false);
        assert!(run("http://127.0.0.1:1", 0.0, Some(1), stop).await.is_err());
    }
}
