//! Tx intake over JSON-RPC (issue 5 target: 5,000 txs/s validated).
//!
//! Starts the node's JSON-RPC server in-process on loopback over a chain whose state already
//! holds a few thousand txs, then sends N distinct valid txs (`TxGen`) from several concurrent
//! HTTP clients, first one request per tx, then in JSON-RPC batches, and prints txs/s. Every
//! phase checks that all N were accepted and pooled. A baseline of `Mempool::add` alone (no
//! RPC) shows the validation ceiling.
//!
//! ```text
//! nice cargo bench -p proofline-node --bench intake
//! INTAKE_N=50000 nice cargo bench -p proofline-node --bench intake
//! ```

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use alloy::primitives::{Bytes, B256};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use proofline_chain::chain::{NodeChain, StoredBlock};
use proofline_devnet::txgen::TxGen;
use proofline_l2::Tx;
use proofline_node::mempool::{Mempool, MempoolConfig};
use proofline_node::rpc::{serve, NodeApiClient, NodeStatus, RpcState};

/// Txs applied to the chain before the run, so validation looks up a non-empty nullifier tree.
const PREFILL_TXS: usize = 5_000;

fn main() {
    let n: usize = std::env::var("INTAKE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(bench(n));
}

fn prefilled_chain() -> NodeChain {
    let mut chain = NodeChain::new();
    let mut txs: Vec<Tx> = TxGen::new(0).take(PREFILL_TXS).collect();
    let mut slot = 1;
    while !txs.is_empty() {
        let (chosen, rejected) = chain.l2().select_txs::<Vec<u8>>(&[], txs);
        assert!(!chosen.is_empty(), "no tx fits a block");
        let mut block = StoredBlock {
            number: chain.tip() + 1,
            slot: proofline_core::Slot(slot),
            coinbase: Default::default(),
            forced: vec![],
            txs: chosen.iter().map(|t| t.encode().into()).collect(),
            archive: Default::default(),
        };
        block.archive = chain.preview(&block).expect("prefill block").archive;
        chain.apply(block).expect("prefill block");
        slot += 1;
        txs = rejected.into_iter().map(|(tx, _)| tx).collect();
    }
    println!(
        "prefilled chain: {} blocks, {} txs, {} notes",
        chain.tip(),
        PREFILL_TXS,
        chain.l2().state().note_count()
    );
    chain
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

async fn bench(n: usize) {
    let chain = prefilled_chain();
    // Seed 1: disjoint from the prefill's seed 0.
    let txs: Vec<Bytes> = TxGen::new(1).take(n).map(|t| t.encode().into()).collect();
    let hashes: Vec<B256> = txs.iter().map(alloy::primitives::keccak256).collect();
    println!(
        "{n} txs, {} bytes on average",
        txs.iter().map(|d| d.len()).sum::<usize>() / n
    );

    // Baseline: validation and insert alone, one thread, no RPC.
    {
        let mut pool = Mempool::new(MempoolConfig { max_txs: n });
        let start = Instant::now();
        for d in &txs {
            pool.add(d, chain.l2().state()).expect("valid");
        }
        let e = start.elapsed();
        println!(
            "Mempool::add alone:              {:>9.0} txs/s  ({:.3} s)",
            rate(n, e),
            e.as_secs_f64()
        );
    }

    let (_status_tx, status) = tokio::sync::watch::channel(NodeStatus::default());
    let state = RpcState {
        mempool: Arc::new(Mutex::new(Mempool::new(MempoolConfig { max_txs: n }))),
        chain: Arc::new(RwLock::new(chain)),
        status,
        quotes: Default::default(),
        store: None,
    };
    let (addr, handle) = serve("127.0.0.1:0".parse().unwrap(), state.clone())
        .await
        .expect("server");
    let url = format!("http://{addr}");
    let txs = Arc::new(txs);

    let check = |label: &str| {
        let mut pool = state.mempool.lock().unwrap();
        assert_eq!(pool.len(), n, "{label}: not every tx was pooled");
        assert!(hashes.iter().all(|h| pool.contains(h)));
        pool.clear();
    };

    for clients in [1usize, 4, 16, 64] {
        let e = run(&url, &txs, clients, 1).await;
        check("single");
        println!(
            "single requests, {clients:>2} clients:     {:>9.0} txs/s  ({:.3} s)",
            rate(n, e),
            e.as_secs_f64()
        );
    }
    for (clients, batch) in [(1usize, 100usize), (4, 100), (4, 500)] {
        let e = run(&url, &txs, clients, batch).await;
        check("batched");
        println!(
            "batches of {batch:>3}, {clients:>2} clients:    {:>9.0} txs/s  ({:.3} s)",
            rate(n, e),
            e.as_secs_f64()
        );
    }
    handle.stop().unwrap();
    handle.stopped().await;
}

/// Send every tx from `clients` concurrent clients (one HTTP client each, each waiting for its
/// answer before the next request), `batch` txs per request. Returns the wall time.
async fn run(url: &str, txs: &Arc<Vec<Bytes>>, clients: usize, batch: usize) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let txs = txs.clone();
        let client = HttpClientBuilder::default().build(url).expect("client");
        tasks.push(tokio::spawn(async move {
            // Client c takes txs c, c + clients, c + 2·clients, …
            let mine: Vec<&Bytes> = txs.iter().skip(c).step_by(clients).collect();
            if batch == 1 {
                for d in mine {
                    client.send_tx(d.clone()).await.expect("accepted");
                }
            } else {
                for chunk in mine.chunks(batch) {
                    let mut b = BatchRequestBuilder::new();
                    for d in chunk {
                        b.insert("node_sendTx", rpc_params![d]).unwrap();
                    }
                    let res = client.batch_request::<B256>(b).await.expect("batch");
                    assert_eq!(res.num_successful_calls(), chunk.len(), "batch refused txs");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    start.elapsed()
}
