//! `node_submitEpochBid` and `node_getEpochBids` over real HTTP: every refusal with its stable
//! code and data, the bids' order, jsonrpsee's refusal of malformed params, and random JSON and
//! random request bodies answered cleanly.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::server::ServerHandle;
use jsonrpsee::types::ErrorObjectOwned;
use proofline_chain::chain::NodeChain;
use proofline_core::quote::{
    sign_quote, EpochProofQuote, SignedEpochProofQuote, ValidationContext,
};
use proofline_core::{Epoch, Schedule, Slot, TimeConfig, Timestamp};
use proofline_node::mempool::{Mempool, MempoolConfig};
use proofline_node::metrics::Metrics;
use proofline_node::quote_intake::{FixedEscrow, IntakeConfig, QuoteIntake};
use proofline_node::rpc::{codes, serve, EpochBid, NodeApiClient, NodeStatus, RpcState};
use proptest::prelude::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHAIN_ID: u64 = 31337;
const EPOCH: u64 = 1;
const MIN_BOND: u64 = 100;

fn rollup() -> Address {
    Address::repeat_byte(0x77)
}

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
}

/// Epoch 1 to prove at slot 40 (12 s slots, 32-slot epochs): its claim window is slots 64..77.
fn ctx() -> ValidationContext {
    ValidationContext::new(
        CHAIN_ID,
        rollup(),
        &Schedule::new(TimeConfig::new(Timestamp(1_000), 12, 32).unwrap(), 13),
        Slot(40),
        Some(Epoch(EPOCH)),
        U256::from(MIN_BOND),
        false,
    )
}

fn quote(k: &PrivateKeySigner, fee: u32, bond: u64) -> EpochProofQuote {
    EpochProofQuote {
        epoch_to_prove: U256::from(EPOCH),
        valid_until_slot: U256::from(76),
        bond_amount: U256::from(bond),
        prover: k.address(),
        basis_point_fee: fee,
    }
}

fn signed(k: &PrivateKeySigner, q: EpochProofQuote) -> SignedEpochProofQuote {
    sign_quote(k, &ctx().domain(), q).unwrap()
}

struct Server {
    addr: SocketAddr,
    client: HttpClient,
    quotes: QuoteIntake,
    handle: ServerHandle,
}

/// A server whose quote intake knows provers 1 to 4 with 10,000 in escrow each.
async fn start(config: IntakeConfig) -> Server {
    let escrow = FixedEscrow(
        (1..=4)
            .map(|i| (key(i).address(), U256::from(10_000)))
            .collect::<HashMap<_, _>>(),
    );
    let quotes = QuoteIntake::new(config, Arc::new(Metrics::new()), Arc::new(escrow));
    let (_status_tx, status) = tokio::sync::watch::channel(NodeStatus::default());
    let state = RpcState {
        mempool: Arc::new(Mutex::new(Mempool::new(MempoolConfig::default()))),
        chain: Arc::new(RwLock::new(NodeChain::new())),
        status,
        quotes: quotes.clone(),
        store: None,
    };
    let (addr, handle) = serve("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
    let client = HttpClientBuilder::default()
        .build(format!("http://{addr}"))
        .unwrap();
    Server {
        addr,
        client,
        quotes,
        handle,
    }
}

fn call_error<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrorObjectOwned {
    match r {
        Err(ClientError::Call(e)) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

fn data(e: &ErrorObjectOwned) -> Value {
    serde_json::from_str(e.data().expect("error data").get()).unwrap()
}

#[tokio::test]
async fn bids_are_pooled_ranked_and_listed() {
    let s = start(IntakeConfig::default()).await;
    let c = &s.client;
    let q1 = signed(&key(1), quote(&key(1), 300, 1_000));
    let e = call_error(c.submit_epoch_bid(q1).await);
    assert_eq!(e.code(), codes::QUOTE_NOT_READY);
    s.quotes.set_context(ctx());

    let d1 = c.submit_epoch_bid(q1).await.unwrap();
    assert_eq!(d1, q1.digest(&ctx().domain()));
    let q2 = signed(&key(2), quote(&key(2), 100, 1_000));
    let d2 = c.submit_epoch_bid(q2).await.unwrap();
    let q3 = signed(&key(3), quote(&key(3), 100, 5_000));
    let d3 = c.submit_epoch_bid(q3).await.unwrap();

    let bids = c.get_epoch_bids(EPOCH).await.unwrap();
    let digests: Vec<B256> = bids.iter().map(|b| b.digest).collect();
    assert_eq!(digests, vec![d3, d2, d1]);
    assert_eq!(bids[0].signed(), q3);
    assert!(c.get_epoch_bids(EPOCH + 1).await.unwrap().is_empty());

    // The wire format: the Solidity names, what claimEpochProofRight takes, plus the digest.
    let raw: Value = c
        .request("node_getEpochBids", rpc_params![EPOCH])
        .await
        .unwrap();
    assert_eq!(raw[0]["quote"]["epochToProve"], "0x1");
    assert_eq!(raw[0]["quote"]["bondAmount"], "0x1388");
    assert_eq!(raw[0]["quote"]["basisPointFee"], 100);
    assert_eq!(raw[0]["quote"]["prover"], json!(key(3).address()));
    assert_eq!(raw[0]["signature"]["v"], q3.signature.v);
    assert_eq!(raw[0]["digest"], json!(d3));
    let round: Vec<EpochBid> = serde_json::from_value(raw).unwrap();
    assert_eq!(round, bids);

    // A better quote of prover 1 replaces its first one.
    let q1b = signed(&key(1), quote(&key(1), 50, 1_000));
    let d1b = c.submit_epoch_bid(q1b).await.unwrap();
    let digests: Vec<B256> = c
        .get_epoch_bids(EPOCH)
        .await
        .unwrap()
        .iter()
        .map(|b| b.digest)
        .collect();
    assert_eq!(digests, vec![d1b, d3, d2]);
    s.quotes.with_pool(|p| p.check_invariants()).unwrap();
    s.handle.stop().unwrap();
    s.handle.stopped().await;
}

#[tokio::test]
async fn every_refusal_has_its_stable_code_and_data() {
    let s = start(IntakeConfig::default()).await;
    s.quotes.set_context(ctx());
    let c = &s.client;
    let (k1, k2) = (key(1), key(2));
    let refuse = |q: SignedEpochProofQuote| async move { call_error(c.submit_epoch_bid(q).await) };

    let good = signed(&k1, quote(&k1, 300, 1_000));
    let digest = c.submit_epoch_bid(good).await.unwrap();
    let e = refuse(good).await;
    assert_eq!(e.code(), codes::QUOTE_ALREADY_KNOWN);
    assert_eq!(data(&e), json!({ "digest": digest }));
    let e = refuse(signed(&k1, quote(&k1, 400, 1_000))).await;
    assert_eq!(e.code(), codes::QUOTE_NOT_BETTER);
    assert_eq!(data(&e), json!({ "kept": digest }));

    // Signed by another key, and signed for another rollup or chain.
    let e = refuse(signed(&k2, quote(&k1, 1, 1_000))).await;
    assert_eq!(e.code(), codes::INVALID_QUOTE_SIGNATURE);
    assert_eq!(
        data(&e),
        json!({ "prover": k1.address(), "recovered": k2.address() })
    );
    for domain in [
        proofline_core::rollup_domain(CHAIN_ID, Address::repeat_byte(1)),
        proofline_core::rollup_domain(CHAIN_ID + 1, rollup()),
    ] {
        let q = sign_quote(&k2, &domain, quote(&k2, 1, 1_000)).unwrap();
        assert_eq!(refuse(q).await.code(), codes::INVALID_QUOTE_SIGNATURE);
    }
    let mut bad_v = signed(&k2, quote(&k2, 1, 1_000));
    bad_v.signature.v = 29;
    let e = refuse(bad_v).await;
    assert_eq!(e.code(), codes::INVALID_QUOTE_SIGNATURE);
    assert_eq!(data(&e)["recovered"], Value::Null);
    assert!(e.message().contains("v is 29"), "{}", e.message());

    let mut q = quote(&k2, 1, 1_000);
    q.epoch_to_prove = U256::from(EPOCH + 2);
    let e = refuse(signed(&k2, q)).await;
    assert_eq!(e.code(), codes::WRONG_EPOCH);
    assert_eq!(data(&e), json!({ "expected": EPOCH, "got": "0x3" }));
    // The next epoch's quote is not refused: held, and the answer says so.
    let mut q = quote(&k2, 1, 1_000);
    q.epoch_to_prove = U256::from(EPOCH + 1);
    let e = refuse(signed(&k2, q)).await;
    assert_eq!(e.code(), codes::QUOTE_HELD);
    assert_eq!(data(&e), json!({ "expected": EPOCH, "got": EPOCH + 1 }));

    let mut q = quote(&k2, 1, 1_000);
    q.valid_until_slot = U256::from(39);
    let e = refuse(signed(&k2, q)).await;
    assert_eq!(e.code(), codes::QUOTE_EXPIRED);
    assert_eq!(
        data(&e),
        json!({ "validUntilSlot": "0x27", "currentSlot": 40 })
    );
    q.valid_until_slot = U256::from(63);
    let e = refuse(signed(&k2, q)).await;
    assert_eq!(e.code(), codes::QUOTE_EXPIRES_BEFORE_CLAIM_WINDOW);
    assert_eq!(
        data(&e),
        json!({ "validUntilSlot": "0x3f", "claimWindowStart": 64 })
    );

    let e = refuse(signed(&k2, quote(&k2, 10_001, 1_000))).await;
    assert_eq!(e.code(), codes::FEE_TOO_HIGH);
    assert_eq!(data(&e), json!({ "basisPointFee": 10_001, "max": 10_000 }));
    let e = refuse(signed(&k2, quote(&k2, 1, MIN_BOND - 1))).await;
    assert_eq!(e.code(), codes::BOND_TOO_LOW);
    assert_eq!(data(&e), json!({ "bondAmount": "0x63", "minBond": "0x64" }));
    let e = refuse(signed(&k2, quote(&k2, 1, 10_001))).await;
    assert_eq!(e.code(), codes::INSUFFICIENT_ESCROW);
    assert_eq!(
        data(&e),
        json!({ "bondAmount": "0x2711", "available": "0x2710", "deadline": ctx().escrow_deadline })
    );
    // Prover 9 has no escrow at all.
    let k9 = key(9);
    let e = refuse(signed(&k9, quote(&k9, 1, 1_000))).await;
    assert_eq!(e.code(), codes::INSUFFICIENT_ESCROW);
    assert_eq!(data(&e)["available"], "0x0");

    let mut claimed = ctx();
    claimed.claimed = true;
    s.quotes.set_context(claimed);
    let e = refuse(signed(&k2, quote(&k2, 1, 1_000))).await;
    assert_eq!(e.code(), codes::ALREADY_CLAIMED);
    assert_eq!(data(&e), json!({ "epoch": EPOCH }));
    // The claim also dropped the pooled bid.
    assert!(c.get_epoch_bids(EPOCH).await.unwrap().is_empty());

    let mut closed = ctx();
    closed.current_slot = closed.claim_window_end;
    s.quotes.set_context(closed);
    let e = refuse(signed(&k2, quote(&k2, 1, 1_000))).await;
    assert_eq!(e.code(), codes::CLAIM_WINDOW_CLOSED);
    assert_eq!(
        data(&e),
        json!({ "epoch": EPOCH, "claimWindowEnd": 77, "currentSlot": 77 })
    );

    let mut none = ctx();
    none.epoch_to_prove = None;
    s.quotes.set_context(none);
    let e = refuse(signed(&k2, quote(&k2, 1, 1_000))).await;
    assert_eq!(e.code(), codes::NO_EPOCH_TO_PROVE);
    assert!(e.data().is_none());
}

#[tokio::test]
async fn the_rpc_source_is_rate_limited() {
    let s = start(IntakeConfig {
        rpc_rate: 0.0,
        rpc_burst: 2,
        ..IntakeConfig::default()
    })
    .await;
    s.quotes.set_context(ctx());
    for i in 1..=2 {
        s.client
            .submit_epoch_bid(signed(&key(i), quote(&key(i), 1, 1_000)))
            .await
            .unwrap();
    }
    let e = call_error(
        s.client
            .submit_epoch_bid(signed(&key(3), quote(&key(3), 1, 1_000)))
            .await,
    );
    assert_eq!(e.code(), codes::QUOTE_RATE_LIMITED);
}

#[tokio::test]
async fn malformed_params_are_refused_by_jsonrpsee() {
    let s = start(IntakeConfig::default()).await;
    s.quotes.set_context(ctx());
    let good = serde_json::to_value(signed(&key(1), quote(&key(1), 1, 1_000))).unwrap();
    let mut cases = Vec::new();
    let mut missing = good.clone();
    missing["quote"].as_object_mut().unwrap().remove("prover");
    cases.push(missing);
    let mut extra = good.clone();
    extra["signature"]["w"] = 1.into();
    cases.push(extra);
    let mut big_v = good.clone();
    big_v["signature"]["v"] = 300.into();
    cases.push(big_v);
    let mut bad_hex = good.clone();
    bad_hex["signature"]["r"] = "0x12".into();
    cases.push(bad_hex);
    let mut negative = good.clone();
    negative["quote"]["bondAmount"] = (-1).into();
    cases.push(negative);
    let mut big_fee = good.clone();
    big_fee["quote"]["basisPointFee"] = 4_294_967_296u64.into();
    cases.push(big_fee);
    cases.push(json!("0x1234"));
    cases.push(json!([1, 2, 3]));
    for case in cases {
        let r: Result<Value, _> = s
            .client
            .request("node_submitEpochBid", rpc_params![case.clone()])
            .await;
        assert_eq!(call_error(r).code(), codes::INVALID_PARAMS, "{case}");
    }
    // No params at all.
    let r: Result<Value, _> = s.client.request("node_submitEpochBid", rpc_params![]).await;
    assert_eq!(call_error(r).code(), codes::INVALID_PARAMS);
    let r: Result<Value, _> = s
        .client
        .request("node_getEpochBids", rpc_params!["one"])
        .await;
    assert_eq!(call_error(r).code(), codes::INVALID_PARAMS);
    // By name, the param is `quote`.
    let mut named = jsonrpsee::core::params::ObjectParams::new();
    named.insert("quote", good).unwrap();
    let digest: B256 = s
        .client
        .request("node_submitEpochBid", named)
        .await
        .unwrap();
    assert_eq!(s.quotes.bids(Epoch(EPOCH))[0].digest(), digest);
}

// ------------------------------------------------------------------ fuzzing over HTTP

/// One server for all fuzz cases, on a runtime of its own (proptest's cases are synchronous).
fn fuzz_server() -> &'static (tokio::runtime::Runtime, Server) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, Server)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(async {
            let s = start(IntakeConfig {
                rpc_rate: 1e9,
                rpc_burst: u32::MAX,
                ..IntakeConfig::default()
            })
            .await;
            s.quotes.set_context(ctx());
            s
        });
        (rt, server)
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "0x[0-9a-fA-F]{0,70}".prop_map(Value::from),
    ];
    let key = prop_oneof![
        "[a-zA-Z]{1,12}",
        Just("quote".to_owned()),
        Just("signature".to_owned()),
        Just("epochToProve".to_owned()),
        Just("v".to_owned()),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A number field as the JSON a client might send: hex or decimal strings, numbers, garbage.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<u64>().prop_map(|n| Value::from(format!("{n:#x}"))),
        any::<u128>().prop_map(|n| Value::from(n.to_string())),
        "0x[0-9a-f]{60,70}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        json_value(),
    ]
}

/// Objects shaped like a signed quote, with random values: many parse, none is valid.
fn quote_shaped() -> impl Strategy<Value = Value> {
    (
        number(),
        number(),
        number(),
        prop_oneof!["0x[0-9a-f]{40}".prop_map(Value::from), json_value()],
        prop_oneof![(0u32..20_000).prop_map(Value::from), number()],
        prop_oneof![(0u16..300).prop_map(Value::from), json_value()],
        prop_oneof!["0x[0-9a-f]{64}".prop_map(Value::from), json_value()],
        prop_oneof!["0x[0-9a-f]{64}".prop_map(Value::from), json_value()],
    )
        .prop_map(|(epoch, until, bond, prover, fee, v, r, s)| {
            json!({
                "quote": {
                    "epochToProve": epoch,
                    "validUntilSlot": until,
                    "bondAmount": bond,
                    "prover": prover,
                    "basisPointFee": fee,
                },
                "signature": { "v": v, "r": r, "s": s },
            })
        })
}

/// A refusal is invalid params or one of the quote codes; never an internal error.
fn assert_clean_refusal(r: Result<Value, ClientError>) -> Result<(), TestCaseError> {
    match r {
        Err(ClientError::Call(e)) => {
            let code = e.code();
            prop_assert!(
                code == codes::INVALID_PARAMS
                    || (codes::QUOTE_POOL_FULL..=codes::QUOTE_MALFORMED).contains(&code),
                "unexpected code {code}: {}",
                e.message()
            );
            Ok(())
        }
        other => {
            prop_assert!(false, "expected a clean refusal, got {other:?}");
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_json_params_are_refused_cleanly(param in json_value()) {
        let (rt, s) = fuzz_server();
        let r = rt.block_on(s.client.request::<Value, _>("node_submitEpochBid", rpc_params![param]));
        assert_clean_refusal(r)?;
    }

    #[test]
    fn random_quote_shaped_params_are_refused_cleanly(param in quote_shaped()) {
        let (rt, s) = fuzz_server();
        let r = rt.block_on(s.client.request::<Value, _>("node_submitEpochBid", rpc_params![param]));
        assert_clean_refusal(r)?;
        // Random quotes never enter the pool.
        prop_assert!(s.quotes.is_empty());
    }

    /// Random bytes as the whole HTTP body: the server answers each with a JSON-RPC error (or an
    /// HTTP error status) and keeps serving.
    #[test]
    fn random_request_bodies_are_answered(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let (rt, s) = fuzz_server();
        let status = rt.block_on(post_raw(s.addr, &body));
        prop_assert!(
            status == 200 || (400..500).contains(&status),
            "status {status}"
        );
        let ok = rt.block_on(s.client.get_status());
        prop_assert!(ok.is_ok());
    }
}

/// POSTs `body` to the server as JSON; returns the HTTP status.
async fn post_raw(addr: SocketAddr, body: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw);
    raw.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"))
}
