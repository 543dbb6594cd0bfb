//! `BlobSource` end to end: a block body's blobs sent in a real blob transaction to a real anvil
//! and read back through anvil's RPC and through anvil's beacon API (its `blobs` endpoint), and
//! the same read through `blob_sidecars` from a stand-in beacon node.
//!
//! The anvil test starts the pinned binary from node_modules (prague, its own port); when the
//! binary is missing it says so and returns, like the proofline-l1 tests.
//!
//! The "beacon node" here is NOT a beacon node: it is a small axum server in this test that
//! serves the standard beacon API answers (`/eth/v1/beacon/genesis`, `/eth/v1/config/spec`,
//! `/eth/v1/beacon/blob_sidecars/{slot}`) for blobs the test commits to, with real commitments
//! and proofs; the signed block header and the inclusion proof in it are placeholders (the node
//! does not read them).

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use alloy::{
    eips::eip4844::Blob,
    primitives::{keccak256, Address, B256},
    providers::Provider,
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use axum::{
    extract::{Path as UrlPath, State},
    http::{header, StatusCode},
    routing::get,
    Router,
};
use proofline_chain::blobs::{BlobFetchError, BlobSource, BlockRef};
use proofline_l1::{connect, RpcConfig, TxCandidate, TxManager, TxManagerConfig};
use proofline_l2::{decode_body, BlockBlobs, BlockBody, FailureReason, TxEffect};
use serde_json::json;

/// anvil's first dev key (the "test test ... junk" mnemonic).
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A body of `n` failed forced txs (three field elements each): 1,500 of them need two blobs.
fn body(n: u32) -> BlockBody {
    BlockBody::new(
        (0..n)
            .map(|i| TxEffect::Failed {
                tx_hash: keccak256(i.to_be_bytes()),
                reason: FailureReason::Malformed,
            })
            .collect(),
    )
}

/// An anvil process of this test, killed when dropped.
struct AnvilProcess {
    child: Child,
    url: Url,
}

impl Drop for AnvilProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts anvil on a port it picks, or returns `None` (saying why) when the binary is missing.
fn spawn_anvil(test: &str, chain_id: u64) -> Option<AnvilProcess> {
    let bin = root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if !bin.is_file() {
        eprintln!(
            "SKIPPED {test}: anvil not found at {} (run `make install`)",
            bin.display()
        );
        return None;
    }
    let mut child = Command::new(bin)
        .args(["--hardfork", "prague", "--host", "127.0.0.1", "--port", "0"])
        .args(["--chain-id", &chain_id.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("anvil starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut anvil = AnvilProcess {
        child,
        url: "http://127.0.0.1".parse().unwrap(),
    };
    let address = loop {
        let line = lines
            .next()
            .expect("anvil prints where it listens")
            .unwrap();
        if let Some(address) = line.trim().strip_prefix("Listening on ") {
            break address.to_string();
        }
    };
    anvil.url = format!("http://{address}").parse().unwrap();
    // Keep reading anvil's log, or it blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Some(anvil)
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_anvil_serves_a_blob_tx_back_verified() {
    let Some(anvil) = spawn_anvil("blobs_anvil_serves_a_blob_tx_back_verified", 31_337_044) else {
        return;
    };
    let mut config = RpcConfig::new(anvil.url.clone());
    config.max_retries = 3;
    config.initial_backoff = Duration::from_millis(50);
    let provider = connect(&config).unwrap();

    let body = body(1_500);
    let blobs = BlockBlobs::from_body(&body).unwrap();
    assert_eq!(blobs.blobs.len(), 2);
    let hashes = blobs.versioned_hashes.clone();

    // Sent as the proposer sends: the transaction manager, anvil's first dev key.
    let signer: PrivateKeySigner = DEV_KEY.parse().unwrap();
    let mgr = TxManager::new(
        provider.clone(),
        signer,
        TxManagerConfig {
            poll_interval: Duration::from_millis(20),
            ..TxManagerConfig::default()
        },
    )
    .await
    .unwrap();
    // Block 1 at the start of slot 1, for the beacon API below.
    let genesis_time = provider
        .get_block_by_number(0.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let _: serde_json::Value = provider
        .raw_request(
            "evm_setNextBlockTimestamp".into(),
            (genesis_time + SECONDS_PER_SLOT,),
        )
        .await
        .unwrap();
    let candidate = TxCandidate::new(Address::repeat_byte(0x42), Vec::<u8>::new())
        .with_sidecar(blobs.sidecar_4844().unwrap());
    let outcome = mgr.send_and_wait("propose", candidate).await.unwrap();
    assert!(outcome.receipt.status());
    let number = outcome.receipt.block_number.unwrap();
    let l1_block = provider
        .get_block_by_number(number.into())
        .await
        .unwrap()
        .unwrap();
    let block = BlockRef {
        number,
        hash: outcome.receipt.block_hash.unwrap(),
        timestamp: l1_block.header.timestamp,
    };
    assert_eq!(number, 1);
    let tx = outcome.tx_hash;

    // anvil's own beacon API answers 410 Gone on `blob_sidecars` and serves `blobs/{block}`: with
    // 12-second slots from block 0 and block 1 mined at its slot start, slot 1 is block 1.
    let beacon = BlobSource::Beacon {
        url: anvil.url.clone(),
        genesis_time,
        seconds_per_slot: SECONDS_PER_SLOT,
    };
    assert_eq!(
        beacon.fetch(&block, tx, &hashes).await.unwrap(),
        blobs.blobs
    );
    let missing = B256::repeat_byte(1);
    let err = beacon
        .fetch(&block, tx, &[hashes[1], missing])
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobFetchError::Missing { hash } if hash == missing),
        "{err}"
    );

    let source = BlobSource::Anvil { rpc: provider };
    let fetched = source.fetch(&block, tx, &hashes).await.unwrap();
    assert_eq!(fetched, blobs.blobs);
    assert_eq!(decode_body(&fetched).unwrap(), body);

    // No hash, no blob (and no request).
    assert!(source
        .fetch(&block, B256::ZERO, &[])
        .await
        .unwrap()
        .is_empty());

    // Out of order: the first blob is not the one the first hash commits to.
    let swapped = [hashes[1], hashes[0]];
    match source.fetch(&block, tx, &swapped).await {
        Err(BlobFetchError::Mismatch { hash, got }) => {
            assert_eq!((hash, got), (hashes[1], hashes[0]));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    // A hash the transaction has no blob for.
    let err = source
        .fetch(&block, tx, &[hashes[0], hashes[1], missing])
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobFetchError::Missing { hash } if hash == missing),
        "{err}"
    );
    assert!(err.to_string().contains(&missing.to_string()));
    // The transaction carries a blob the block does not commit to.
    assert!(matches!(
        source.fetch(&block, tx, &hashes[..1]).await,
        Err(BlobFetchError::ExtraBlobs {
            expected: 1,
            carried: 2,
            ..
        })
    ));
    // A transaction anvil does not know.
    assert!(matches!(
        source.fetch(&block, B256::repeat_byte(9), &hashes).await,
        Err(BlobFetchError::NoBlobs { .. })
    ));
}

const GENESIS_TIME: u64 = 1_700_000_000;
const SECONDS_PER_SLOT: u64 = 12;

/// A `blob_sidecars` answer for a beacon block at `slot` holding these blobs (with real
/// commitments and proofs; placeholder header and inclusion proofs).
fn sidecars_json(slot: u64, blobs: &BlockBlobs, commitments_claimed: &[String]) -> String {
    let sidecar = blobs.sidecar_4844().unwrap();
    let data: Vec<_> = sidecar
        .blobs
        .iter()
        .zip(&sidecar.proofs)
        .zip(commitments_claimed)
        .enumerate()
        .map(|(index, ((blob, proof), commitment))| {
            json!({
                "index": index.to_string(),
                "blob": blob.to_string(),
                "kzg_commitment": commitment,
                "kzg_proof": proof.to_string(),
                "signed_block_header": {
                    "message": {
                        "slot": slot.to_string(),
                        "proposer_index": "7",
                        "parent_root": B256::repeat_byte(0xaa),
                        "state_root": B256::repeat_byte(0xbb),
                        "body_root": B256::repeat_byte(0xcc),
                    },
                    "signature": format!("0x{}", "00".repeat(96)),
                },
                "kzg_commitment_inclusion_proof": vec![B256::ZERO; 17],
            })
        })
        .collect();
    json!({
        "version": "deneb",
        "execution_optimistic": false,
        "finalized": true,
        "data": data,
    })
    .to_string()
}

async fn sidecars(
    State(by_slot): State<Arc<HashMap<u64, String>>>,
    UrlPath(slot): UrlPath<String>,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let json = [(header::CONTENT_TYPE, "application/json")];
    match slot.parse().ok().and_then(|s: u64| by_slot.get(&s)) {
        Some(body) => (StatusCode::OK, json, body.clone()),
        None => (
            StatusCode::NOT_FOUND,
            json,
            json!({"code": 404, "message": "NOT_FOUND: beacon block"}).to_string(),
        ),
    }
}

async fn json_ok(body: String) -> ([(header::HeaderName, &'static str); 1], String) {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

/// Serves the stand-in beacon API on a free local port and returns its base URL.
async fn stand_in_beacon(by_slot: HashMap<u64, String>) -> Url {
    let genesis = json!({"data": {
        "genesis_time": GENESIS_TIME.to_string(),
        "genesis_validators_root": B256::repeat_byte(0x11),
        "genesis_fork_version": "0x10000038",
    }})
    .to_string();
    let spec = json!({"data": {
        "SECONDS_PER_SLOT": SECONDS_PER_SLOT.to_string(),
        "SLOTS_PER_EPOCH": "32",
    }})
    .to_string();
    let app = Router::new()
        .route(
            "/eth/v1/beacon/genesis",
            get(move || json_ok(genesis.clone())),
        )
        .route("/eth/v1/config/spec", get(move || json_ok(spec.clone())))
        .route("/eth/v1/beacon/blob_sidecars/{slot}", get(sidecars))
        .with_state(Arc::new(by_slot));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/").parse().unwrap()
}

fn block_at_slot(slot: u64) -> BlockRef {
    BlockRef {
        number: 1_000 + slot,
        hash: B256::repeat_byte(slot as u8),
        timestamp: GENESIS_TIME + slot * SECONDS_PER_SLOT,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_beacon_sidecars_are_picked_and_verified() {
    // The beacon block at slot 42 holds another rollup's blob, then our block's two.
    let other = BlockBlobs::from_body(&BlockBody::new(vec![TxEffect::Failed {
        tx_hash: B256::repeat_byte(0xee),
        reason: FailureReason::NoteTreeFull,
    }]))
    .unwrap();
    let ours = BlockBlobs::from_body(&body(1_500)).unwrap();
    let all = BlockBlobs::from_blobs(
        other
            .blobs
            .iter()
            .chain(&ours.blobs)
            .copied()
            .collect::<Vec<Blob>>(),
    )
    .unwrap();
    let honest: Vec<String> = all.commitments.iter().map(|c| c.to_string()).collect();
    // At slot 43 a lying node claims our commitments for other blobs.
    let lying_blobs = BlockBlobs::from_blobs(vec![other.blobs[0], Blob::ZERO]).unwrap();
    let lying: Vec<String> = ours.commitments.iter().map(|c| c.to_string()).collect();
    let url = stand_in_beacon(HashMap::from([
        (42, sidecars_json(42, &all, &honest)),
        (43, sidecars_json(43, &lying_blobs, &lying)),
    ]))
    .await;

    let source = BlobSource::beacon_from_node(url.clone()).await.unwrap();
    match &source {
        BlobSource::Beacon {
            url: u,
            genesis_time,
            seconds_per_slot,
        } => {
            assert_eq!(u, &url);
            assert_eq!((*genesis_time, *seconds_per_slot), (GENESIS_TIME, 12));
        }
        other => panic!("not a beacon source: {other:?}"),
    }
    let tx = B256::repeat_byte(0x77);
    let hashes = ours.versioned_hashes.clone();

    let fetched = source.fetch(&block_at_slot(42), tx, &hashes).await.unwrap();
    assert_eq!(fetched, ours.blobs);
    assert_eq!(decode_body(&fetched).unwrap(), body(1_500));
    // The order is the hashes' order.
    let reversed = source
        .fetch(&block_at_slot(42), tx, &[hashes[1], hashes[0]])
        .await
        .unwrap();
    assert_eq!(reversed, vec![ours.blobs[1], ours.blobs[0]]);

    // A hash no sidecar of the block commits to.
    let missing = B256::repeat_byte(3);
    let err = source
        .fetch(&block_at_slot(42), tx, &[hashes[0], missing])
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobFetchError::Missing { hash } if hash == missing),
        "{err}"
    );

    // Sidecars whose blobs are not what their commitments say.
    let err = source
        .fetch(&block_at_slot(43), tx, &hashes)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobFetchError::Mismatch { hash, got } if hash == hashes[0] && got == other.versioned_hashes[0]),
        "{err}"
    );

    // No block (or blobs pruned) at that slot.
    let err = source
        .fetch(&block_at_slot(44), tx, &hashes)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobFetchError::BeaconStatus { status: 404, .. }),
        "{err}"
    );

    // An execution block whose timestamp is no slot start.
    let mut off = block_at_slot(42);
    off.timestamp += 1;
    assert!(matches!(
        source.fetch(&off, tx, &hashes).await,
        Err(BlobFetchError::NotASlot { .. })
    ));
}
