//! Slot start to `propose` sent, end to end (issue 5 target: under 1 s with 48 attesters and
//! 100 txs).
//!
//! Starts a real devnet the way `script/devnet.sh` does, on its own port and chain id: anvil
//! (prague, 1 s blocks), `script/Deploy.s.sol` with 48 staked validators and a committee of 48,
//! short slots and epochs, and two `proofline node` processes (this crate's binary, built in the
//! bench profile) holding 24 validators each, so that every proposal needs attestations from the
//! other process over libp2p (quorum 33). The bench keeps each node's pool above 100 txs over
//! JSON-RPC and watches the committee slots (from epoch 2 on) until it has enough proposals.
//!
//! For each committee proposal it reports, in wall-clock time from the slot's start:
//!
//! - **L1 block**: when the first L1 block of the slot appeared (the bench polls anvil every
//!   10 ms). The node proposes only once that block exists (`propose` runs against it), so this
//!   part is anvil's block timing, not the node's;
//! - **notice**: from that block to the node starting to propose (its L1 clock poll and its duty
//!   loop's reaction);
//! - **node work**: the node's `build_ms` (start of `propose_in` to `propose` sent), split into
//!   Rollup reads, block building, own signatures, peers' attestations and the L1 send;
//! - **total**: slot start to `propose` sent (the `proposed` log line's timestamp);
//! - **metric**: the value the node put in `proofline_propose_latency_seconds` (slot start by
//!   the node's L1 clock, which follows block timestamps, so it leaves out the L1 block wait).
//!
//! It also prints both nodes' `proofline_propose_latency_seconds` histograms over the committee
//! slots (read from `/metrics` at the first committee slot and at the end).
//!
//! ```text
//! nice cargo bench -p proofline --bench propose_latency
//! PROPOSE_PROPOSALS=20 PROPOSE_SLOT_DURATION=6 nice cargo bench -p proofline --bench propose_latency
//! ```
//!
//! Environment: `PROPOSE_PROPOSALS` committee proposals to observe (12), `PROPOSE_SLOT_DURATION`
//! seconds (4), `PROPOSE_EPOCH_DURATION` slots (4), `PROPOSE_CHAIN_ID` (31477),
//! `PROPOSE_KEEP=1` keeps the work directory (logs, node data). The deployment file and forge's
//! broadcast and cache records for the chain id are deleted at the end.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    eips::BlockNumberOrTag, primitives::Bytes, providers::Provider, transports::http::reqwest::Url,
};
use jsonrpsee::{
    core::{client::ClientT, params::BatchRequestBuilder},
    http_client::HttpClientBuilder,
    rpc_params,
};
use proofline_devnet::txgen::TxGen;
use proofline_l1::{Deployment, RpcConfig};
use proofline_node::rpc::NodeApiClient;
use serde_json::Value;

/// anvil's first dev key (the "test test ... junk" mnemonic, index 0): the deployer.
use proofline_devnet::harness::{self, MNEMONIC};
const VALIDATORS: usize = 48;
const NODES: usize = 2;
/// The pool is topped up to `POOL_TARGET` whenever it is below `POOL_FLOOR`.
const POOL_FLOOR: u64 = 250;
const POOL_TARGET: u64 = 400;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    harness::work_tree()
}

fn tool(name: &str) -> PathBuf {
    harness::tool(&root(), name)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// What the bench started and wrote: stopped and removed when dropped, also on a panic (the
/// harness removes what the deployment wrote into the work tree).
struct Devnet {
    children: Vec<(String, Child)>,
    chain_id: u64,
    work: PathBuf,
    keep: bool,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        // Nodes first, anvil last (it was started first).
        while let Some((_, mut child)) = self.children.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if self.keep || std::thread::panicking() {
            eprintln!("work directory kept: {}", self.work.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

impl Devnet {
    fn check_alive(&mut self) {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{name} exited ({status}); see {}",
                    self.work.join(format!("{name}.log")).display()
                );
            }
        }
    }
}

/// Starts anvil on a port it picks; returns its URL.
fn spawn_anvil(devnet: &mut Devnet) -> Url {
    let mut child = Command::new(tool("anvil"))
        .args(["--host", "127.0.0.1", "--port", "0", "--hardfork", "prague"])
        .args(["--chain-id", &devnet.chain_id.to_string()])
        .args(["--block-time", "1"])
        .args(["--accounts", &(VALIDATORS + 4).to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("anvil starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    devnet.children.push(("anvil".into(), child));
    let address = loop {
        let line = lines
            .next()
            .expect("anvil prints where it listens")
            .expect("anvil output");
        if let Some(address) = line.trim().strip_prefix("Listening on ") {
            break address.to_string();
        }
    };
    // Keep draining anvil's log into a file, or it blocks on a full pipe.
    let mut log = File::create(devnet.work.join("anvil.log")).expect("anvil.log");
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
        }
    });
    format!("http://{address}").parse().expect("anvil URL")
}

/// Deploys with `script/Deploy.s.sol` (as `make devnet` does) and returns the deployment, copied
/// into the work directory as `deployment.json`.
fn deploy(devnet: &Devnet, rpc: &Url, slot: u64, epoch: u64) -> (Deployment, PathBuf) {
    let env = [
        ("STAKE_VALIDATORS", VALIDATORS.to_string()),
        ("TARGET_COMMITTEE_SIZE", VALIDATORS.to_string()),
        ("SLOT_DURATION", slot.to_string()),
        ("EPOCH_DURATION", epoch.to_string()),
        // No prover runs here: keep based fallback out of the way (as script/devnet.sh does).
        ("FALLBACK_ENTER", (1000 * epoch).to_string()),
    ];
    let copy = devnet.work.join("deployment.json");
    let deployment = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(harness::deploy(
            &root(),
            rpc.as_str(),
            devnet.chain_id,
            &env,
            &devnet.work.join("deploy.log"),
            &copy,
        ))
        .unwrap_or_else(|e| panic!("deployment failed: {e:#}"));
    assert_eq!(deployment.validators.len(), VALIDATORS);
    assert_eq!(deployment.target_committee_size, VALIDATORS as u64);
    (deployment, copy)
}

/// The validators' keys (test mnemonic indices 1..=48, as Deploy.s.sol staked them), dealt
/// round-robin to the nodes; returns each node's keys file.
fn write_keys(devnet: &Devnet) -> Vec<PathBuf> {
    let children: Vec<_> = (1..=VALIDATORS)
        .map(|i| {
            Command::new(tool("cast"))
                .args(["wallet", "private-key", "--mnemonic", MNEMONIC])
                .args(["--mnemonic-index", &i.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .expect("cast runs")
        })
        .collect();
    let mut keys = vec![String::new(); NODES];
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("cast");
        assert!(out.status.success(), "cast wallet private-key failed");
        keys[i % NODES].push_str(String::from_utf8_lossy(&out.stdout).trim());
        keys[i % NODES].push('\n');
    }
    keys.iter()
        .enumerate()
        .map(|(k, text)| {
            let path = devnet.work.join(format!("node{k}.keys"));
            std::fs::write(&path, text).expect("keys file");
            path
        })
        .collect()
}

struct NodePorts {
    rpc: u16,
    metrics: u16,
    p2p: u16,
}

fn spawn_nodes(
    devnet: &mut Devnet,
    rpc: &Url,
    deployment: &Path,
    keys: &[PathBuf],
) -> Vec<NodePorts> {
    let ports: Vec<NodePorts> = (0..NODES)
        .map(|_| NodePorts {
            rpc: free_port(),
            metrics: free_port(),
            p2p: free_port(),
        })
        .collect();
    let p2p = |k: usize| format!("/ip4/127.0.0.1/tcp/{}", ports[k].p2p);
    for k in 0..NODES {
        let log = File::create(devnet.work.join(format!("node{k}.log"))).expect("node log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofline"));
        cmd.args(["--log-format", "json", "node", "--l1-rpc", rpc.as_str()])
            .arg("--deployment")
            .arg(deployment)
            .arg("--validator-keys-file")
            .arg(&keys[k])
            .arg("--data-dir")
            .arg(devnet.work.join(format!("node{k}")))
            .args(["--rpc-addr", &format!("127.0.0.1:{}", ports[k].rpc)])
            .args(["--metrics-addr", &format!("127.0.0.1:{}", ports[k].metrics)])
            .args(["--p2p-listen", &p2p(k)])
            .args(["--poll-ms", "500"])
            .env("RUST_LOG", "info");
        for j in (0..NODES).filter(|&j| j != k) {
            cmd.args(["--peer", &p2p(j)]);
        }
        let child = cmd
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("proofline node starts");
        devnet.children.push((format!("node{k}"), child));
    }
    ports
}

/// Every L1 block as the bench first saw it: (number, timestamp, wall-clock time seen).
type Blocks = Arc<Mutex<Vec<(u64, u64, f64)>>>;

/// Polls anvil every 10 ms and records when each block appeared.
async fn watch_blocks(rpc: Url, blocks: Blocks) {
    let provider = proofline_l1::connect(&RpcConfig::new(rpc)).expect("provider");
    let mut last = None;
    loop {
        if let Ok(Some(b)) = provider.get_block_by_number(BlockNumberOrTag::Latest).await {
            let seen = now();
            if last != Some(b.header.number) {
                last = Some(b.header.number);
                blocks
                    .lock()
                    .unwrap()
                    .push((b.header.number, b.header.timestamp, seen));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Keeps node `k`'s pool at `POOL_FLOOR` txs or more; returns never.
async fn feed_txs(k: usize, port: u16, sent: Arc<Mutex<u64>>) {
    let url = format!("http://127.0.0.1:{port}");
    let client = HttpClientBuilder::default().build(&url).expect("client");
    let mut gen = TxGen::new(1_000 + k as u64);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Ok(status) = client.get_status().await else {
            continue;
        };
        if status.mempool_txs >= POOL_FLOOR {
            continue;
        }
        let missing = (POOL_TARGET - status.mempool_txs) as usize;
        let mut batch = BatchRequestBuilder::new();
        for tx in (&mut gen).take(missing) {
            let data = Bytes::from(tx.encode());
            batch
                .insert("node_sendTx", rpc_params![data])
                .expect("params");
        }
        if let Ok(res) = client.batch_request::<alloy::primitives::B256>(batch).await {
            *sent.lock().unwrap() += res.num_successful_calls() as u64;
        }
    }
}

/// `proofline_propose_latency_seconds` of a node: bucket bounds to cumulative counts, the sum,
/// the count.
#[derive(Clone, Debug, Default)]
struct Histogram {
    buckets: BTreeMap<String, f64>,
    sum: f64,
    count: f64,
}

async fn histogram(metrics_port: u16) -> Histogram {
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let text = match alloy::transports::http::reqwest::get(&url).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let mut h = Histogram::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("proofline_propose_latency_seconds") else {
            continue;
        };
        let Some((name, value)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        if let Some(le) = name
            .strip_prefix("_bucket{le=\"")
            .and_then(|s| s.strip_suffix("\"}"))
        {
            h.buckets.insert(le.to_string(), value);
        } else if name == "_sum" {
            h.sum = value;
        } else if name == "_count" {
            h.count = value;
        }
    }
    h
}

/// Seconds since 1970 of an RFC 3339 UTC timestamp as tracing-subscriber writes it
/// (`2025-11-21T16:07:06.123456Z`).
fn parse_timestamp(ts: &str) -> Option<f64> {
    let ts = ts.strip_suffix('Z')?;
    let (date, time) = ts.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3_600 + min * 60) as f64 + sec)
}

fn field_u64(v: &Value, name: &str) -> Option<u64> {
    match &v["fields"][name] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A `proposed` log line.
#[derive(Clone, Debug)]
struct Proposal {
    node: usize,
    slot: u64,
    block: u64,
    txs: u64,
    attestations: u64,
    sent_at: f64,
    build_ms: u64,
    latency_ms: u64,
    l1_reads_ms: u64,
    execute_ms: u64,
    sign_ms: u64,
    attest_ms: u64,
    blobs_ms: u64,
    send_ms: u64,
}

/// The node's `proposed` lines, and the slots in which it proposed nothing (pruned instead, or
/// failed), with why.
fn read_log(node: usize, path: &Path) -> (Vec<Proposal>, Vec<(u64, String)>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut proposals = Vec::new();
    let mut missed = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let message = v["fields"]["message"].as_str().unwrap_or_default();
        if message == "proposed" {
            let f = |name| field_u64(&v, name).unwrap_or(0);
            proposals.push(Proposal {
                node,
                slot: f("slot"),
                block: f("block"),
                txs: f("txs"),
                attestations: f("attestations"),
                sent_at: v["timestamp"]
                    .as_str()
                    .and_then(parse_timestamp)
                    .unwrap_or(0.0),
                build_ms: f("build_ms"),
                latency_ms: f("latency_ms"),
                l1_reads_ms: f("l1_reads_ms"),
                execute_ms: f("execute_ms"),
                sign_ms: f("sign_ms"),
                attest_ms: f("attest_ms"),
                blobs_ms: f("blobs_ms"),
                send_ms: f("send_ms"),
            });
        } else if message.starts_with("no block proposed") || message.contains("pruning instead") {
            // No prover runs here, so each epoch the pending chain is pruned: that slot's proposer
            // sends `prune` instead of a block.
            missed.push((field_u64(&v, "slot").unwrap_or(0), message.to_string()));
        }
    }
    (proposals, missed)
}

/// (p50, p90, max) of `values`.
fn summary(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9), values[values.len() - 1])
}

fn main() {
    let slot_duration: u64 = env_or("PROPOSE_SLOT_DURATION", 4);
    let epoch_duration: u64 = env_or("PROPOSE_EPOCH_DURATION", 4);
    let wanted: usize = env_or("PROPOSE_PROPOSALS", 12);
    let chain_id: u64 = env_or("PROPOSE_CHAIN_ID", 31_477);
    for t in ["anvil", "forge", "cast"] {
        if !tool(t).is_file() {
            println!(
                "SKIPPED: {} not found (run `make install`)",
                tool(t).display()
            );
            return;
        }
    }
    let work =
        std::env::temp_dir().join(format!("proofline-propose-latency-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work directory");
    let mut devnet = Devnet {
        children: Vec::new(),
        chain_id,
        work,
        keep: std::env::var("PROPOSE_KEEP").is_ok_and(|v| v == "1"),
    };
    println!(
        "devnet: {VALIDATORS} validators, committee {VALIDATORS}, {NODES} nodes, slots of \
         {slot_duration} s, epochs of {epoch_duration} slots, 1 s L1 blocks; work dir {}",
        devnet.work.display()
    );
    let rpc = spawn_anvil(&mut devnet);
    println!("anvil at {rpc} (chain {chain_id}); deploying");
    let (deployment, deployment_file) = deploy(&devnet, &rpc, slot_duration, epoch_duration);
    let keys = write_keys(&devnet);
    let ports = spawn_nodes(&mut devnet, &rpc, &deployment_file, &keys);
    let genesis = deployment.genesis_time;
    let slot_start = |slot: u64| (genesis + slot * slot_duration) as f64;
    let first = 2 * epoch_duration;
    println!(
        "rollup {} deployed; genesis {genesis}; committee slots from slot {first} (epoch 2), \
         {:.0} s from now",
        deployment.rollup,
        slot_start(first) - now()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let blocks: Blocks = Arc::default();
    let fed = Arc::new(Mutex::new(0u64));
    runtime.spawn(watch_blocks(rpc.clone(), blocks.clone()));
    for (k, p) in ports.iter().enumerate() {
        runtime.spawn(feed_txs(k, p.rpc, fed.clone()));
    }

    // Wait for the first committee slot, then read the histograms.
    while now() < slot_start(first) {
        devnet.check_alive();
        std::thread::sleep(Duration::from_millis(100));
    }
    let before: Vec<Histogram> = ports
        .iter()
        .map(|p| runtime.block_on(histogram(p.metrics)))
        .collect();

    let last_slot = first + (4 * wanted as u64).max(8);
    let logs: Vec<PathBuf> = (0..NODES)
        .map(|k| devnet.work.join(format!("node{k}.log")))
        .collect();
    let (proposals, missed) = loop {
        std::thread::sleep(Duration::from_secs(1));
        devnet.check_alive();
        let mut proposals = Vec::new();
        let mut missed = Vec::new();
        for (k, log) in logs.iter().enumerate() {
            let (p, m) = read_log(k, log);
            proposals.extend(p.into_iter().filter(|p| p.slot >= first));
            missed.extend(m.into_iter().filter(|(s, _)| *s >= first));
        }
        let current = ((now() - genesis as f64) / slot_duration as f64) as u64;
        if proposals.len() >= wanted || current > last_slot {
            break (proposals, missed);
        }
    };
    // The last proposal's histogram sample is recorded before its log line.
    let after: Vec<Histogram> = ports
        .iter()
        .map(|p| runtime.block_on(histogram(p.metrics)))
        .collect();
    let blocks = blocks.lock().unwrap().clone();
    let fed = *fed.lock().unwrap();
    runtime.shutdown_background();
    drop(devnet);

    report(
        &proposals,
        &missed,
        &blocks,
        &slot_start,
        slot_duration,
        &before,
        &after,
        fed,
    );
    assert!(
        proposals.len() >= wanted,
        "only {} committee proposals (wanted {wanted})",
        proposals.len()
    );
}

#[allow(clippy::too_many_arguments)]
fn report(
    proposals: &[Proposal],
    missed: &[(u64, String)],
    blocks: &[(u64, u64, f64)],
    slot_start: &dyn Fn(u64) -> f64,
    slot_duration: u64,
    before: &[Histogram],
    after: &[Histogram],
    fed: u64,
) {
    println!("\n{fed} txs sent to the nodes' pools");
    // anvil's block timestamps against this machine's clock.
    if let Some(lag) = blocks
        .iter()
        .map(|(_, ts, seen)| seen - *ts as f64)
        .reduce(f64::min)
    {
        println!(
            "L1 blocks appear {:.3} s (at best) after their timestamp (anvil mines at a fixed \
             phase of each second)",
            lag
        );
    }
    println!(
        "\ncommittee proposals (ms from slot start; L1 block = first block of the slot seen; \
         notice = from it to the node starting; node = build_ms):"
    );
    println!(
        "{:>4} {:>5} {:>5} {:>4} {:>4} | {:>8} {:>6} {:>6} {:>6} | {:>5} {:>5} {:>5} {:>6} {:>5} {:>5} | {:>6}",
        "node", "slot", "block", "txs", "atts", "L1 block", "notice", "node", "total",
        "reads", "build", "sign", "attest", "blobs", "send", "metric"
    );
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 11];
    // The node's own part: notice + work.
    let mut own: Vec<f64> = Vec::new();
    let mut proposals = proposals.to_vec();
    proposals.sort_by_key(|p| p.slot);
    for p in &proposals {
        let start = slot_start(p.slot);
        let first_block = blocks
            .iter()
            .filter(|(_, ts, _)| {
                (*ts as f64) >= start && (*ts as f64) < start + slot_duration as f64
            })
            .map(|(_, _, seen)| *seen)
            .reduce(f64::min);
        let total = (p.sent_at - start) * 1e3;
        let node_start = p.sent_at - p.build_ms as f64 / 1e3;
        let (l1, notice) = match first_block {
            Some(seen) => (((seen - start) * 1e3), ((node_start - seen) * 1e3)),
            None => (f64::NAN, f64::NAN),
        };
        let row = [
            l1,
            notice,
            p.build_ms as f64,
            total,
            p.l1_reads_ms as f64,
            p.execute_ms as f64,
            p.sign_ms as f64,
            p.attest_ms as f64,
            p.blobs_ms as f64,
            p.send_ms as f64,
            p.latency_ms as f64,
        ];
        println!(
            "{:>4} {:>5} {:>5} {:>4} {:>4} | {:>8.0} {:>6.0} {:>6.0} {:>6.0} | {:>5.0} {:>5.0} {:>5.0} {:>6.0} {:>5.0} {:>5.0} | {:>6.0}",
            p.node, p.slot, p.block, p.txs, p.attestations,
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10]
        );
        if notice.is_finite() {
            own.push(notice + p.build_ms as f64);
        }
        for (c, v) in cols.iter_mut().zip(row) {
            if v.is_finite() {
                c.push(v);
            }
        }
    }
    if proposals.is_empty() {
        println!("(none)");
    } else {
        let names = [
            "L1 block wait",
            "node notice",
            "node work (build_ms)",
            "total (slot start to sent)",
            "  Rollup reads",
            "  block building",
            "  own signatures",
            "  peers' attestations",
            "  blob proofs",
            "  propose send",
            "node metric (L1 clock)",
        ];
        println!("\n{:<28} {:>8} {:>8} {:>8}", "ms", "p50", "p90", "max");
        for (name, c) in names.iter().zip(cols.iter_mut()) {
            if c.is_empty() {
                continue;
            }
            let (p50, p90, max) = summary(c);
            println!("{name:<28} {p50:>8.0} {p90:>8.0} {max:>8.0}");
        }
        if !own.is_empty() {
            let (p50, p90, max) = summary(&mut own);
            println!(
                "{:<28} {p50:>8.0} {p90:>8.0} {max:>8.0}",
                "node's own (notice + work)"
            );
        }
        let txs: Vec<u64> = proposals.iter().map(|p| p.txs).collect();
        println!(
            "txs per block: min {}, max {}",
            txs.iter().min().unwrap(),
            txs.iter().max().unwrap()
        );
    }
    if !missed.is_empty() {
        println!("\nslots without a proposal (from the nodes' logs):");
        for (slot, why) in missed {
            println!("  slot {slot}: {why}");
        }
    }
    println!("\nproofline_propose_latency_seconds over the committee slots (both nodes):");
    let mut count = 0.0;
    let mut sum = 0.0;
    let mut buckets: Vec<(f64, String, f64)> = Vec::new();
    for (b, a) in before.iter().zip(after) {
        count += a.count - b.count;
        sum += a.sum - b.sum;
        for (le, v) in &a.buckets {
            let d = v - b.buckets.get(le).copied().unwrap_or(0.0);
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap_or(f64::INFINITY)
            };
            match buckets.iter_mut().find(|(_, l, _)| l == le) {
                Some(entry) => entry.2 += d,
                None => buckets.push((bound, le.clone(), d)),
            }
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let line: Vec<String> = buckets
        .iter()
        .map(|(_, le, v)| format!("le {le}: {v:.0}"))
        .collect();
    println!("  {}", line.join(", "));
    if count > 0.0 {
        println!("  count {count:.0}, mean {:.0} ms", sum / count * 1e3);
    }
}
