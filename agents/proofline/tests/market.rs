//! End-to-end tests of the prover market (issue 6): the real `proofline` binary (two nodes, two
//! provers, one submitter), a real anvil and the real deploy script.
//!
//! Chain: 8 validators, 4 s slots, 6-slot epochs, a 2-slot claim window, 1 s L1 blocks. Nodes
//! `a` and `b` hold 4 validators each. Prover `cheap` (10 % margin) publishes its quotes over
//! RPC only (`--publish-to a`, no p2p peer) and hands its proofs to the submitter; prover `dear`
//! (200 % margin) publishes over gossip only (peered with `b`, no `--publish-to`) and submits its
//! own proofs. One test, in order:
//!
//! 1. The cheapest valid quote wins: epochs are claimed with `cheap`'s quotes (each with its
//!    slot's block, `proposeAndClaim`) and proven, the proofs landed by the submitter, although garbage proofs for every coming epoch reached the
//!    submitter first. Meanwhile quotes that are expired, signed for another chain,
//!    for the wrong epoch or from a prover without escrow, each at a 0 fee, are refused by the
//!    node over RPC with their own error code, and never claimed.
//! 2. `cheap`, killed right after it quoted an epoch and started again, honours that quote: the
//!    epoch is claimed with it and proven, and it never signed a second quote for the epoch.
//! 3. `cheap` restarted with a 10 s proving time, so its proof goes out in the second half of the
//!    proof window; the base fee multiplied by 50 from its claim on (anvil's
//!    `anvil_setNextBlockBaseFeePerGas` before every block): the proof still lands before the
//!    deadline, in a spiked block.
//! 4. `cheap` SIGKILLed while it proves its next claimed epoch: at the deadline its bond is
//!    slashed and the chain pruned, and a later epoch is claimed with `dear`'s gossip-only quote
//!    and proven, with no one touching anything. Then `proofline escrow` shows and starts a
//!    withdrawal of `dear`'s escrow.
//! 5. Fees are backed (review F-03), end to end: the tx generator paid real fees from an L2
//!    balance it funded with a fee deposit through the queue; what the Rollup has paid out in
//!    fees is exactly the fees of the proven blocks as the node executed them, the rest of the
//!    deposit is still in its books, and the payer's L2 balance is the deposit minus the fees of
//!    every block the node holds.
//!
//! Malformed JSON-RPC and gossip messages (fuzzed) are covered against the node's real servers in
//! `agents/proofline-node/tests/quote_rpc.rs` and `quote_gossip.rs`.

mod common;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use common::*;
use proofline_core::quote::{sign_quote, EpochProofQuote};
use serde_json::json;

const SLOT: u64 = 4;
const EPOCH: u64 = 6;
const CLAIM_WINDOW: u64 = 2;
const VALIDATORS: usize = 8;

/// A `proofline prover` or `proofline submitter` process, started again with the same flags (and
/// data directory) after a kill.
struct Agent {
    name: String,
    args: Vec<String>,
    log: PathBuf,
    proc: Option<Proc>,
    runs: u32,
}

impl Agent {
    fn new(net: &Devnet, name: &str, args: Vec<String>) -> Agent {
        let log = net.diag.dir().join(format!("{name}.log"));
        net.diag.watch_log(name, &log);
        Agent {
            name: name.into(),
            args,
            log,
            proc: None,
            runs: 0,
        }
    }

    fn start(&mut self) {
        self.runs += 1;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofline"));
        cmd.args(&self.args);
        clear_proofline_env(&mut cmd);
        cmd.env("RUST_LOG", "info");
        self.proc = Some(Proc::spawn(&self.name, cmd, &self.log));
        log(format!("{} started (run {})", self.name, self.runs));
    }

    fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
            log(format!("{} killed (SIGKILL)", self.name));
        }
    }

    fn log_text(&self) -> String {
        read_log(&self.log)
    }
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// A key file (owner-only) holding `k`, in the test's directory: agents take no key on their
/// command line.
fn key_file(net: &Devnet, k: &PrivateKeySigner) -> String {
    let path = net
        .diag
        .dir()
        .join("keys")
        .join(format!("{}.key", k.address()));
    proofline_devnet::harness::write_key_file(&path, &[format!("{}", k.to_bytes())])
        .unwrap()
        .display()
        .to_string()
}

#[allow(clippy::too_many_arguments)]
fn prover_args(
    net: &Devnet,
    name: &str,
    key: &PrivateKeySigner,
    margin_bps: u32,
    proving_ms: u64,
    peers: &[u16],
    publish_to: &[String],
    submitter: Option<&str>,
) -> Vec<String> {
    let mut a = vec![
        "prover".to_string(),
        "--l1-rpc".into(),
        net.url.clone(),
        "--deployment".into(),
        net.deployment_file.display().to_string(),
        "--prover-key-file".into(),
        key_file(net, key),
        "--data-dir".into(),
        net.diag.dir().join(name).display().to_string(),
        "--rpc-addr".into(),
        addr(free_port()),
        "--metrics-addr".into(),
        addr(free_port()),
        "--p2p-listen".into(),
        format!("/ip4/127.0.0.1/tcp/{}", free_port()),
        "--prover-metrics-addr".into(),
        addr(free_port()),
        "--poll-ms".into(),
        "500".into(),
        "--dev-mint".into(),
        "--margin-bps".into(),
        margin_bps.to_string(),
        "--proving-ms".into(),
        proving_ms.to_string(),
        "--proving-ms-per-block".into(),
        "20".into(),
        "--quote-lead-secs".into(),
        "3".into(),
    ];
    for p in peers {
        a.push("--peer".into());
        a.push(format!("/ip4/127.0.0.1/tcp/{p}"));
    }
    for url in publish_to {
        a.push("--publish-to".into());
        a.push(url.clone());
    }
    if let Some(url) = submitter {
        a.push("--no-submit".into());
        a.push("--submitter".into());
        a.push(url.into());
    }
    a
}

/// Sets the replaced flag of a prover's args (the proving time) in place.
fn set_arg(args: &mut [String], flag: &str, value: &str) {
    let i = args.iter().position(|a| a == flag).expect("flag present");
    args[i + 1] = value.into();
}

/// `ProofRightClaimed`: epoch -> (bond provider, claim slot).
async fn claims(net: &Devnet) -> BTreeMap<u64, (Address, u64)> {
    let logs = net
        .l1
        .rollup
        .ProofRightClaimed_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    logs.into_iter()
        .map(|(e, _)| {
            (
                e.epoch.saturating_to(),
                (e.bondProvider, e.currentSlot.saturating_to()),
            )
        })
        .collect()
}

/// The next epoch claimed with `prover`'s quote, after every claim made so far.
async fn next_claim_by(net: &Devnet, prover: Address) -> u64 {
    let known = claims(net).await.keys().max().copied().unwrap_or(0);
    wait_for(
        &format!("a new claim with {prover}'s quote"),
        Duration::from_secs(90),
        Duration::from_millis(200),
        || async {
            claims(net)
                .await
                .into_iter()
                .find(|(e, (w, _))| *e > known && *w == prover)
                .map(|(e, _)| e)
        },
    )
    .await
}

/// The slots that have a block (`L2BlockProposed`).
async fn block_slots(net: &Devnet) -> std::collections::BTreeSet<u64> {
    let logs = net
        .l1
        .rollup
        .L2BlockProposed_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    logs.into_iter()
        .map(|(e, _)| e.slot.saturating_to())
        .collect()
}

/// `L2ProofVerified`: epoch -> (prover, L1 transaction sender).
async fn proofs(net: &Devnet) -> BTreeMap<u64, (Address, Address)> {
    let logs = net
        .l1
        .rollup
        .L2ProofVerified_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for (e, log) in logs {
        let tx = net
            .l1
            .provider
            .get_transaction_by_hash(log.transaction_hash.unwrap())
            .await
            .unwrap()
            .unwrap();
        out.insert(e.epoch.saturating_to(), (e.prover, tx.inner.signer()));
    }
    out
}

async fn slashes(net: &Devnet) -> Vec<(u64, Address)> {
    let logs = net
        .l1
        .rollup
        .BondSlashed_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    logs.into_iter()
        .map(|(e, _)| (e.epoch.saturating_to(), e.bondProvider))
        .collect()
}

/// `node_submitEpochBid` over raw HTTP: `Ok(())` or the JSON-RPC error code.
async fn submit_bid(url: &str, quote: &serde_json::Value) -> Result<(), i64> {
    let client = alloy::transports::http::reqwest::Client::new();
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "node_submitEpochBid", "params": [quote]});
    let v: serde_json::Value = client
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match v.get("error") {
        None => Ok(()),
        Some(e) => Err(e["code"].as_i64().unwrap()),
    }
}

/// Pushes a garbage proof (right prover, made-up statement and proof bytes) for each of
/// `epochs` to the submitter at `url`, as anyone may; returns how many it took. Each arrives
/// before the real proof of its epoch.
async fn push_bogus_proofs(url: &str, prover: Address, epochs: std::ops::Range<u64>) -> usize {
    let client = alloy::transports::http::reqwest::Client::new();
    let mut taken = 0;
    for epoch in epochs {
        let proof = json!({
            "statement": {
                "epoch": epoch,
                "provenTip": epoch * EPOCH,
                "previousArchive": B256::repeat_byte(1),
                "endBlock": (epoch + 1) * EPOCH,
                "endArchive": B256::repeat_byte(2),
                "prover": prover,
                "fees": [],
            },
            "proof": "0xdeadbeef",
        });
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "submitter_submitProof", "params": [proof]});
        let answer: Option<serde_json::Value> = match client.post(url).json(&body).send().await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        if answer.is_some_and(|v| v["result"] == json!(true)) {
            taken += 1;
        }
    }
    taken
}

/// Waits for `what` (checked every second) up to `timeout`.
async fn until<F, Fut>(what: &str, timeout: Duration, f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut f = f;
    wait_for(what, timeout, Duration::from_secs(1), || {
        let fut = f();
        async move { fut.await.then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prover_market() {
    if !tools_present("prover_market") {
        return;
    }
    let started = Instant::now();
    let diag = Diagnostics::new("prover_market");
    let _report = FailureReport(diag.clone());
    let net = Devnet::start(
        diag.clone(),
        DevnetConfig {
            validators: VALIDATORS,
            slot_duration: SLOT,
            epoch_duration: EPOCH,
            block_time: 1,
            claim_window: Some(CLAIM_WINDOW),
            extra_accounts: 8,
            fallback_enter: None,
        },
    )
    .await;
    let validators: Vec<_> = net.validators.clone();
    let mut a = NodeProc::new(
        net.node_spec("a", &[0, 2, 4, 6].map(|i| validators[i].clone()), &net.url),
        &diag,
    );
    let mut b = NodeProc::new(
        net.node_spec("b", &[1, 3, 5, 7].map(|i| validators[i].clone()), &net.url),
        &diag,
    );
    a.spec.peers = vec![b.spec.p2p_port];
    b.spec.peers = vec![a.spec.p2p_port];
    a.start();
    b.start();
    let payer = net.dev_key(VALIDATORS + 4);
    let _txgen = net.txgen_paid(&a, 1, 2, &payer);

    let cheap_key = net.dev_key(VALIDATORS + 1);
    let dear_key = net.dev_key(VALIDATORS + 2);
    let submitter_key = net.dev_key(VALIDATORS + 3);
    let submitter_port = free_port();
    let submitter_url = format!("http://127.0.0.1:{submitter_port}");
    let mut submitter = Agent::new(
        &net,
        "submitter",
        vec![
            "submitter".into(),
            "--l1-rpc".into(),
            net.url.clone(),
            "--deployment".into(),
            net.deployment_file.display().to_string(),
            "--key-file".into(),
            key_file(&net, &submitter_key),
            "--data-dir".into(),
            net.diag.dir().join("submitter").display().to_string(),
            "--rpc-addr".into(),
            addr(submitter_port),
            "--metrics-addr".into(),
            addr(free_port()),
        ],
    );
    submitter.start();
    let cheap_args = prover_args(
        &net,
        "cheap",
        &cheap_key,
        1_000,
        1_000,
        &[],
        &[a.rpc_url()],
        Some(&submitter_url),
    );
    let mut cheap = Agent::new(&net, "cheap", cheap_args);
    let mut dear = Agent::new(
        &net,
        "dear",
        prover_args(
            &net,
            "dear",
            &dear_key,
            20_000,
            1_000,
            &[b.spec.p2p_port],
            &[],
            None,
        ),
    );
    cheap.start();
    dear.start();
    let (cheap_addr, dear_addr) = (cheap_key.address(), dear_key.address());
    // Garbage proofs for the coming epochs reach the submitter before the real ones (issue 15:
    // it kept the first proof of each epoch, so one garbage proof got the bond slashed).
    let mut bogus = 0;
    for _ in 0..60 {
        // Until the submitter is up and takes them all (the same proof again is kept once).
        bogus = push_bogus_proofs(&submitter_url, cheap_addr, 0..16).await;
        if bogus == 16 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(bogus, 16, "the submitter took the garbage proofs");
    log(format!("{bogus} garbage proofs pushed to the submitter"));

    // ---------------------------------------------------------------- 1: the cheapest wins
    let bad_provers = bad_quotes_are_refused(&net, &a).await;
    until(
        "two epochs claimed with cheap's quotes and proven via the submitter",
        Duration::from_secs(150),
        || async {
            let (c, p) = (claims(&net).await, proofs(&net).await);
            c.iter()
                .filter(|(e, (who, _))| {
                    *who == cheap_addr && p.get(e) == Some(&(cheap_addr, submitter_key.address()))
                })
                .count()
                >= 2
        },
    )
    .await;
    let c = claims(&net).await;
    let first_cheap = c.iter().find(|(_, (w, _))| *w == cheap_addr).unwrap().0;
    for (epoch, (who, slot)) in &c {
        assert!(!bad_provers.contains(who), "a refused quote was claimed");
        if epoch >= first_cheap {
            assert_eq!(*who, cheap_addr, "epoch {epoch}: the cheapest quote wins");
            let window_start = (epoch + 1) * EPOCH;
            assert!(
                *slot >= window_start && *slot < window_start + CLAIM_WINDOW,
                "claimed inside the window"
            );
        }
    }
    // The claiming proposer's block of the claim's slot landed too: its claim and its block go
    // out together (`proposeAndClaim`), as real L1 pools refuse a key's plain transaction beside
    // its blob one (the tx manager enforces that rule on anvil; a separate claim made the slot's
    // block fail).
    let with_block = block_slots(&net).await;
    for (epoch, (_, slot)) in &c {
        assert!(
            with_block.contains(slot),
            "epoch {epoch} was claimed in slot {slot}, whose block did not land"
        );
    }
    log(format!("1 done at {:?}: claims {c:?}", started.elapsed()));

    // ---------------------------------------------------------------- 2: restart honours quote
    let quoted_before = cheap.log_text().matches("quoted").count();
    let epoch_quoted = wait_for(
        "cheap to quote a new epoch",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let text = cheap.log_text();
            (text.matches("quoted").count() > quoted_before)
                .then(|| {
                    text.lines()
                        .rev()
                        .find(|l| l.contains("quoted"))
                        .and_then(|l| field(l, "epoch"))
                        .and_then(|e| e.parse::<u64>().ok())
                })
                .flatten()
        },
    )
    .await;
    // Killed once its quote reached the node it publishes to: had the kill come first, the
    // restarted prover would re-send the same quote, but after its restart (a few seconds of
    // replaying its follower's chain), which can be after the claim slot.
    until(
        "cheap's quote pooled by node a",
        Duration::from_secs(10),
        || async {
            let client = alloy::transports::http::reqwest::Client::new();
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "node_getEpochBids", "params": [epoch_quoted]});
            let Ok(r) = client.post(a.rpc_url()).json(&body).send().await else {
                return false;
            };
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            v["result"].as_array().is_some_and(|bids| {
                bids.iter().any(|b| {
                    b["quote"]["prover"]
                        .as_str()
                        .is_some_and(|p| p.eq_ignore_ascii_case(&cheap_addr.to_string()))
                })
            })
        },
    )
    .await;
    cheap.kill();
    cheap.start();
    until(
        "the epoch quoted before the restart to be claimed with cheap's quote and proven",
        Duration::from_secs(90),
        || async {
            claims(&net).await.get(&epoch_quoted).map(|c| c.0) == Some(cheap_addr)
                && proofs(&net).await.get(&epoch_quoted).map(|p| p.0) == Some(cheap_addr)
        },
    )
    .await;
    let quotes_for_epoch = cheap
        .log_text()
        .lines()
        .filter(|l| l.contains("quoted") && has_field(l, "epoch", epoch_quoted))
        .count();
    assert_eq!(
        quotes_for_epoch, 1,
        "one quote signed for epoch {epoch_quoted}"
    );
    log(format!(
        "2 done at {:?}: epoch {epoch_quoted}",
        started.elapsed()
    ));

    // ---------------------------------------------------------------- 3: base fee x50
    // From here `cheap` takes 10 s to prove, so its proofs are sent in the second half of the
    // proof window, towards the deadline.
    cheap.kill();
    set_arg(&mut cheap.args, "--proving-ms", "10000");
    cheap.start();
    let next_claim = next_claim_by(&net, cheap_addr).await;
    let base = net
        .l1
        .provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .base_fee_per_gas
        .unwrap();
    let spiked = (u128::from(base) * 50).max(50_000_000_000);
    let stop = Arc::new(AtomicBool::new(false));
    let spike = {
        let (url, stop) = (net.url.clone(), stop.clone());
        tokio::spawn(async move {
            let client = alloy::transports::http::reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "anvil_setNextBlockBaseFeePerGas", "params": [format!("{spiked:#x}")]});
                let _ = client.post(&url).json(&body).send().await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    log(format!(
        "3: base fee {base} wei -> {spiked} wei while epoch {next_claim} is proven"
    ));
    until(
        "the claimed epoch's proof to land under the spiked base fee",
        Duration::from_secs(60),
        || async { proofs(&net).await.contains_key(&next_claim) },
    )
    .await;
    let (landed_fee, landed_at) = {
        let logs = net
            .l1
            .rollup
            .L2ProofVerified_filter()
            .topic1(U256::from(next_claim))
            .from_block(0)
            .query()
            .await
            .unwrap();
        let block = logs[0].1.block_number.unwrap();
        let header = net
            .l1
            .provider
            .get_block_by_number(block.into())
            .await
            .unwrap()
            .unwrap()
            .header;
        (header.base_fee_per_gas.unwrap(), header.timestamp)
    };
    stop.store(true, Ordering::Relaxed);
    spike.await.unwrap();
    assert!(
        u128::from(landed_fee) >= spiked / 2,
        "the proof landed in a spiked block (base fee {landed_fee})"
    );
    let d = &net.deployment;
    let window_open = d.genesis_time + (next_claim + 1) * EPOCH * SLOT;
    assert!(
        landed_at >= window_open + EPOCH * SLOT / 2 && landed_at < window_open + EPOCH * SLOT,
        "the proof landed in the second half of its window, before the deadline ({} s in)",
        landed_at - window_open
    );
    log(format!("3 done at {:?}", started.elapsed()));

    // ---------------------------------------------------------------- 4: killed prover, slashed
    let victim = next_claim_by(&net, cheap_addr).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cheap.kill();
    log(format!("4: cheap killed while proving epoch {victim}"));
    until(
        "cheap's bond slashed for the epoch",
        Duration::from_secs(60),
        || async { slashes(&net).await.contains(&(victim, cheap_addr)) },
    )
    .await;
    assert!(
        !proofs(&net).await.contains_key(&victim),
        "the killed prover's epoch was not proven"
    );
    until(
        "a later epoch claimed with dear's gossip-only quote and proven",
        Duration::from_secs(120),
        || async {
            let (c, p) = (claims(&net).await, proofs(&net).await);
            c.iter().any(|(e, (w, _))| {
                *e > victim && *w == dear_addr && p.get(e).map(|x| x.0) == Some(dear_addr)
            })
        },
    )
    .await;
    let pruned = net
        .l1
        .rollup
        .PrunedPending_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    assert!(!pruned.is_empty(), "the chain was pruned");

    // The operator's escrow command: a withdrawal started by hand shows as pending.
    let escrow = |action: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_proofline"))
            .args(["escrow", "--l1-rpc", &net.url, "--deployment"])
            .arg(&net.deployment_file)
            .args(["--prover-key-file", &key_file(&net, &dear_key)])
            .args(action)
            .env_remove("PROOFLINE_PROVER_KEY_FILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "proofline escrow {action:?} failed: {out:?}"
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(escrow(&["show"]).contains("withdrawing 0 tokens"));
    let after = escrow(&["start-withdraw", "1"]);
    assert!(after.contains("withdrawing 1 tokens"), "{after}");

    // ---------------------------------------------------------------- 5: fees backed by deposits
    let queue = proofline_bindings::ForcedInclusionQueue::new(
        net.deployment.forced_inclusion_queue,
        net.l1.provider.clone(),
    );
    let deposits = queue
        .FeeDeposited_filter()
        .from_block(0)
        .query()
        .await
        .unwrap();
    assert!(!deposits.is_empty(), "the tx generator made no fee deposit");
    let deposited: U256 = deposits.iter().map(|(ev, _)| ev.amount).sum();
    // The Rollup's books and its proven tip at one L1 block, and node a's blocks up to that tip.
    let at = net.l1.provider.get_block_number().await.unwrap();
    let proven: u64 = net
        .l1
        .rollup
        .getProvenBlockNumber()
        .block(at.into())
        .call()
        .await
        .unwrap()
        .saturating_to();
    let books = net
        .l1
        .rollup
        .getRewardBooks()
        .block(at.into())
        .call()
        .await
        .unwrap();
    until(
        "node a synced to the proven tip",
        Duration::from_secs(30),
        || async { a.status().await.is_ok_and(|s| s.synced_block >= proven) },
    )
    .await;
    let mut paid = U256::ZERO;
    for n in 1..=proven {
        paid += a.block(n).await.unwrap().expect("a proven block").fees;
    }
    assert!(paid > U256::ZERO, "no proven block carried a paid tx");
    assert_eq!(
        books.feePot,
        deposited - paid,
        "the Rollup paid out other than the proven blocks' fees"
    );
    // L2: the payer's balance is the deposit less every fee it paid, in the blocks node a holds.
    let (tip, balance) = loop {
        let before = a.status().await.unwrap().synced_block;
        let balance = a.fee_balance(payer.address()).await.unwrap();
        if a.status().await.unwrap().synced_block == before {
            break (before, balance);
        }
    };
    let mut spent = U256::ZERO;
    for n in 1..=tip {
        spent += a.block(n).await.unwrap().expect("a synced block").fees;
    }
    assert_eq!(balance, deposited - spent, "the payer's L2 balance");
    log(format!(
        "5: {deposited} deposited, {paid} paid out in fees for {proven} proven blocks"
    ));
    log(format!("prover_market passed in {:?}", started.elapsed()));
}

/// Quotes the node must refuse, each at a 0 fee (so it would win if accepted), sent over RPC to
/// `node` in the last slot of epoch N while N is the unclaimed epoch to prove: one from a prover
/// with no escrow, one that expired a slot ago, one signed for another chain, one for the wrong
/// epoch. Returns their provers.
async fn bad_quotes_are_refused(net: &Devnet, node: &NodeProc) -> Vec<Address> {
    let l1 = &net.l1;
    let d = &net.deployment;
    let (epoch, slot) = wait_for(
        "the last slot of the epoch to prove",
        Duration::from_secs(120),
        Duration::from_millis(250),
        || async {
            let tips = l1.rollup.getTips().call().await.ok()?;
            if tips.pendingBlockNumber <= tips.provenBlockNumber {
                return None;
            }
            let epoch: u64 = l1
                .rollup
                .getEpochToProve()
                .call()
                .await
                .ok()?
                .saturating_to();
            let slot = l1.wall_slot();
            (slot == (epoch + 1) * EPOCH - 1).then_some((epoch, slot))
        },
    )
    .await;
    let keys: Vec<PrivateKeySigner> = (0..4).map(|_| PrivateKeySigner::random()).collect();
    let domain = proofline_core::rollup_domain(d.chain_id, d.rollup);
    let other_chain = proofline_core::rollup_domain(d.chain_id + 1, d.rollup);
    let quote = |k: &PrivateKeySigner, epoch: u64, valid_until: u64| EpochProofQuote {
        epoch_to_prove: U256::from(epoch),
        valid_until_slot: U256::from(valid_until),
        bond_amount: d.min_bond,
        prover: k.address(),
        basis_point_fee: 0,
    };
    let window_end = (epoch + 1) * EPOCH + CLAIM_WINDOW - 1;
    // The expired quote is also one that ends before the window opens: the node may say either.
    let cases = [
        (
            "no escrow",
            &keys[0],
            &domain,
            quote(&keys[0], epoch, window_end),
            &[-33022][..],
        ),
        (
            "expired",
            &keys[1],
            &domain,
            quote(&keys[1], epoch, slot - 1),
            &[-33017, -33018][..],
        ),
        (
            "another chain",
            &keys[2],
            &other_chain,
            quote(&keys[2], epoch, window_end),
            &[-33015][..],
        ),
        (
            "wrong epoch",
            &keys[3],
            &domain,
            quote(&keys[3], epoch + 2, window_end),
            &[-33016][..],
        ),
    ];
    for (what, key, domain, q, codes) in cases {
        let signed = serde_json::to_value(sign_quote(key, domain, q).unwrap()).unwrap();
        let got = submit_bid(&node.rpc_url(), &signed).await;
        assert!(
            matches!(got, Err(c) if codes.contains(&c)),
            "{what} quote: expected one of {codes:?}, got {got:?}"
        );
    }
    log(format!(
        "bad quotes refused for epoch {epoch} in slot {slot}"
    ));
    keys.iter().map(|k| k.address()).collect()
}
