//! Reading a proposed block's blobs back from L1, verified against the versioned hashes its
//! header commits to (SPEC 4, 8).
//!
//! Blob data is not in the execution layer's blocks: a testnet's consensus layer keeps it for
//! about 18 days (beacon API: `blob_sidecars/{slot}`, and since Fulu `blobs/{slot}`, which
//! answers blobs without commitments and is tried when `blob_sidecars` is refused), and a local
//! anvil keeps the sidecars of the blob transactions it mined: the pinned anvil (1.7.1) serves
//! `anvil_getBlobsByTransactionHash`
//! (used here: all of a transaction's blobs, in order, or null) and `anvil_getBlobByHash` (one
//! blob by versioned hash), but not `anvil_getBlobsByBlockId`, `eth_getBlobSidecars` or
//! `eth_getBlobsV1`.
//!
//! Nothing a source returns is trusted: each blob's KZG commitment is computed here from the
//! blob itself and must hash ([`kzg_to_versioned_hash`]) to the expected versioned hash, in the
//! order the header lists them. A missing or mismatching blob is an error naming the hash.

use std::{sync::OnceLock, time::Duration};

use alloy::{
    eips::eip4844::{kzg_to_versioned_hash, Blob, Bytes48, BYTES_PER_BLOB},
    primitives::{Bytes, B256},
    providers::Provider,
    transports::{
        http::reqwest::{self, Url},
        TransportError,
    },
};
use proofline_l1::{L1Block, L1Provider};
use proofline_l2::{blob::commitment, BlobError};
use serde::Deserialize;
use thiserror::Error;
use tracing::debug;

/// The L1 block a proposal landed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockRef {
    pub number: u64,
    pub hash: B256,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
}

impl From<&L1Block> for BlockRef {
    fn from(block: &L1Block) -> Self {
        Self {
            number: block.number,
            hash: block.hash,
            timestamp: block.timestamp,
        }
    }
}

/// Where the node reads blobs from.
#[derive(Debug, Clone)]
pub enum BlobSource {
    /// A local anvil, through `anvil_getBlobsByTransactionHash`.
    Anvil { rpc: L1Provider },
    /// A beacon node's API: `GET {url}/eth/v1/beacon/blob_sidecars/{slot}`, or when that answers
    /// an error status (it is deprecated since Fulu; anvil answers 410 Gone),
    /// `GET {url}/eth/v1/beacon/blobs/{slot}?versioned_hashes=...`. The slot of an execution
    /// block is `(timestamp - genesis_time) / seconds_per_slot`.
    Beacon {
        url: Url,
        genesis_time: u64,
        seconds_per_slot: u64,
    },
}

#[derive(Debug, Error)]
pub enum BlobFetchError {
    #[error("L1 RPC: {0}")]
    Rpc(#[from] TransportError),
    #[error("anvil has no blobs for transaction {tx_hash} (unknown, or not a blob transaction)")]
    NoBlobs { tx_hash: B256 },
    #[error("transaction {tx_hash} carries {carried} blobs, the block commits to {expected}")]
    ExtraBlobs {
        tx_hash: B256,
        expected: usize,
        carried: usize,
    },
    #[error("beacon API request {url}: {error}")]
    Http { url: Url, error: reqwest::Error },
    #[error("beacon API {url} answered {status}: {body}")]
    BeaconStatus { url: Url, status: u16, body: String },
    #[error("beacon API {url} answered something unexpected: {reason}")]
    BeaconResponse { url: Url, reason: String },
    #[error(
        "block timestamp {timestamp} is not a slot start (genesis {genesis_time}, {seconds_per_slot} s slots)"
    )]
    NotASlot {
        timestamp: u64,
        genesis_time: u64,
        seconds_per_slot: u64,
    },
    #[error("blob {hash} is missing")]
    Missing { hash: B256 },
    #[error("blob {hash} is not the blob committed to: its commitment hashes to {got}")]
    Mismatch { hash: B256, got: B256 },
    #[error("blob {hash} has {len} bytes, not {BYTES_PER_BLOB}")]
    WrongSize { hash: B256, len: usize },
    #[error("blob {hash} is not a valid blob: {error}")]
    Invalid { hash: B256, error: BlobError },
}

/// Seconds one beacon API request may take.
const BEACON_TIMEOUT: Duration = Duration::from_secs(30);

impl BlobSource {
    /// A beacon source whose genesis time and slot length are read from the node itself
    /// (`/eth/v1/beacon/genesis` and `/eth/v1/config/spec`).
    pub async fn beacon_from_node(url: Url) -> Result<Self, BlobFetchError> {
        #[derive(Deserialize)]
        struct Genesis {
            genesis_time: String,
        }
        #[derive(Deserialize)]
        struct Spec {
            #[serde(rename = "SECONDS_PER_SLOT")]
            seconds_per_slot: String,
        }
        let genesis_url = beacon_url(&url, "eth/v1/beacon/genesis");
        let genesis: Genesis = beacon_get(&genesis_url).await?;
        let spec_url = beacon_url(&url, "eth/v1/config/spec");
        let spec: Spec = beacon_get(&spec_url).await?;
        let number = |url: &Url, field: &str, value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| BlobFetchError::BeaconResponse {
                    url: url.clone(),
                    reason: format!("{field} {value:?} is not a number"),
                })
        };
        Ok(BlobSource::Beacon {
            genesis_time: number(&genesis_url, "genesis_time", &genesis.genesis_time)?,
            seconds_per_slot: number(&spec_url, "SECONDS_PER_SLOT", &spec.seconds_per_slot)?,
            url,
        })
    }

    /// The blobs of blob transaction `tx_hash` in L1 block `block`, one per versioned hash and
    /// in that order, each checked against its hash. No hash, no request: an empty body has no
    /// blob.
    ///
    /// From anvil, the transaction must carry exactly these blobs, as the Rollup requires. From a
    /// beacon node, the blobs are picked out of all the block's sidecars by their commitments.
    pub async fn fetch(
        &self,
        block: &BlockRef,
        tx_hash: B256,
        versioned_hashes: &[B256],
    ) -> Result<Vec<Blob>, BlobFetchError> {
        if versioned_hashes.is_empty() {
            return Ok(Vec::new());
        }
        let expected = versioned_hashes.to_vec();
        match self {
            BlobSource::Anvil { rpc } => {
                // Read as bytes and copied into blobs by `to_blobs`: deserializing 128 KiB `Blob`s
                // directly moves each through several stack frames, which overflowed a test
                // thread's stack in a debug build.
                let blobs: Option<Vec<Bytes>> = rpc
                    .raw_request("anvil_getBlobsByTransactionHash".into(), (tx_hash,))
                    .await?;
                let blobs = blobs.ok_or(BlobFetchError::NoBlobs { tx_hash })?;
                debug!(%tx_hash, block = block.number, blobs = blobs.len(), "blobs from anvil");
                if blobs.len() > expected.len() {
                    return Err(BlobFetchError::ExtraBlobs {
                        tx_hash,
                        expected: expected.len(),
                        carried: blobs.len(),
                    });
                }
                verify_off_thread(move || {
                    let blobs = to_blobs(expected.iter().copied().zip(&blobs))?;
                    verify_blobs(&expected, blobs)
                })
                .await
            }
            BlobSource::Beacon {
                url,
                genesis_time,
                seconds_per_slot,
            } => {
                let slot = beacon_slot(block.timestamp, *genesis_time, *seconds_per_slot)?;
                let sidecars_url = beacon_url(url, &format!("eth/v1/beacon/blob_sidecars/{slot}"));
                match beacon_get::<Vec<BeaconSidecar>>(&sidecars_url).await {
                    Ok(sidecars) => {
                        debug!(%tx_hash, block = block.number, slot, sidecars = sidecars.len(), "blob sidecars from the beacon node");
                        let candidates = sidecars
                            .into_iter()
                            .map(|s| (s.kzg_commitment, s.blob))
                            .collect();
                        verify_off_thread(move || select_blobs(&expected, candidates)).await
                    }
                    // Deprecated since Fulu (anvil answers 410 Gone): the `blobs` endpoint.
                    Err(BlobFetchError::BeaconStatus { status, body, .. }) => {
                        debug!(status, %body, slot, "blob_sidecars refused; trying the blobs endpoint");
                        // One comma-separated parameter: anvil reads only the last of repeated
                        // ones. A node that ignores the filter answers all the block's blobs,
                        // which are picked by content all the same.
                        let mut blobs_url = beacon_url(url, &format!("eth/v1/beacon/blobs/{slot}"));
                        let hashes: Vec<String> = expected.iter().map(B256::to_string).collect();
                        blobs_url
                            .query_pairs_mut()
                            .append_pair("versioned_hashes", &hashes.join(","));
                        let blobs: Vec<Bytes> = beacon_get(&blobs_url).await?;
                        debug!(%tx_hash, block = block.number, slot, blobs = blobs.len(), "blobs from the beacon node");
                        verify_off_thread(move || select_by_content(&expected, blobs)).await
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }
}

/// Checks that `blobs[i]` commits to `versioned_hashes[i]` for every hash, and returns the blobs.
/// Blobs beyond the hashes are dropped.
pub fn verify_blobs(
    versioned_hashes: &[B256],
    blobs: Vec<Blob>,
) -> Result<Vec<Blob>, BlobFetchError> {
    if let Some(hash) = versioned_hashes.get(blobs.len()) {
        return Err(BlobFetchError::Missing { hash: *hash });
    }
    let mut blobs = blobs;
    blobs.truncate(versioned_hashes.len());
    for (hash, blob) in versioned_hashes.iter().zip(&blobs) {
        let got = versioned_hash(*hash, blob)?;
        if got != *hash {
            return Err(BlobFetchError::Mismatch { hash: *hash, got });
        }
    }
    Ok(blobs)
}

/// Picks the blob of each versioned hash, in order, from (claimed commitment, blob) pairs; the
/// claim only selects, the blob's own commitment is what is checked.
fn select_blobs(
    versioned_hashes: &[B256],
    candidates: Vec<(Bytes48, Bytes)>,
) -> Result<Vec<Blob>, BlobFetchError> {
    let claimed: Vec<B256> = candidates
        .iter()
        .map(|(c, _)| kzg_to_versioned_hash(c.as_slice()))
        .collect();
    let mut picked = Vec::with_capacity(versioned_hashes.len());
    for hash in versioned_hashes {
        let i = claimed
            .iter()
            .position(|c| c == hash)
            .ok_or(BlobFetchError::Missing { hash: *hash })?;
        picked.push((*hash, &candidates[i].1));
    }
    verify_blobs(versioned_hashes, to_blobs(picked)?)
}

/// Picks the blob of each versioned hash, in order, from blobs without commitments: each
/// blob's commitment is computed and the blob taken for the hash it gives.
fn select_by_content(
    versioned_hashes: &[B256],
    candidates: Vec<Bytes>,
) -> Result<Vec<Blob>, BlobFetchError> {
    // The versioned hash of each candidate (none for bytes that are not a blob).
    let hashes: Vec<Option<B256>> = candidates
        .iter()
        .map(|bytes| {
            let blob = <&Blob>::try_from(bytes.as_ref()).ok()?;
            let c = commitment(blob).ok()?;
            Some(kzg_to_versioned_hash(c.as_slice()))
        })
        .collect();
    let mut picked = Vec::with_capacity(versioned_hashes.len());
    for hash in versioned_hashes {
        let i = hashes
            .iter()
            .position(|h| h.as_ref() == Some(hash))
            .ok_or(BlobFetchError::Missing { hash: *hash })?;
        picked.push((*hash, &candidates[i]));
    }
    to_blobs(picked)
}

/// Each blob's bytes (paired with the hash it should commit to, which names it in errors) as a
/// blob. Written to keep blobs off the stack: a `Result<Blob, _>` passed through iterator
/// adapters is copied at every layer of a debug build, enough to overflow a thread's stack.
fn to_blobs<'a>(
    pairs: impl IntoIterator<Item = (B256, &'a Bytes)>,
) -> Result<Vec<Blob>, BlobFetchError> {
    let pairs: Vec<_> = pairs.into_iter().collect();
    if let Some((hash, bytes)) = pairs.iter().find(|(_, b)| b.len() != BYTES_PER_BLOB) {
        return Err(BlobFetchError::WrongSize {
            hash: *hash,
            len: bytes.len(),
        });
    }
    let mut blobs = vec![Blob::ZERO; pairs.len()];
    for (blob, (_, bytes)) in blobs.iter_mut().zip(&pairs) {
        blob.copy_from_slice(bytes);
    }
    Ok(blobs)
}

/// The versioned hash of `blob`'s commitment, computed here (`expected` names it in errors).
fn versioned_hash(expected: B256, blob: &Blob) -> Result<B256, BlobFetchError> {
    let c = commitment(blob).map_err(|error| BlobFetchError::Invalid {
        hash: expected,
        error,
    })?;
    Ok(kzg_to_versioned_hash(c.as_slice()))
}

/// KZG commitments take milliseconds each: keep them off the async workers.
async fn verify_off_thread(
    f: impl FnOnce() -> Result<Vec<Blob>, BlobFetchError> + Send + 'static,
) -> Result<Vec<Blob>, BlobFetchError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// The beacon slot of an execution block with this timestamp.
pub fn beacon_slot(
    timestamp: u64,
    genesis_time: u64,
    seconds_per_slot: u64,
) -> Result<u64, BlobFetchError> {
    let not_a_slot = BlobFetchError::NotASlot {
        timestamp,
        genesis_time,
        seconds_per_slot,
    };
    let since = timestamp.checked_sub(genesis_time);
    match since {
        Some(since) if seconds_per_slot > 0 && since % seconds_per_slot == 0 => {
            Ok(since / seconds_per_slot)
        }
        _ => Err(not_a_slot),
    }
}

/// One entry of a `blob_sidecars` answer; the other fields (index, proof, header, inclusion proof) are
/// not needed: the blob's commitment is recomputed and checked against the header's hashes.
#[derive(Deserialize)]
struct BeaconSidecar {
    blob: Bytes,
    kzg_commitment: Bytes48,
}

/// `path` under the beacon API base `base` (which may have a path of its own, and a query).
fn beacon_url(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{path}", base.path().trim_end_matches('/'));
    url.set_path(&joined);
    url
}

fn http_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(BEACON_TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

/// GETs a beacon API JSON answer and returns its `data`.
async fn beacon_get<T: for<'de> Deserialize<'de>>(url: &Url) -> Result<T, BlobFetchError> {
    #[derive(Deserialize)]
    struct Envelope<T> {
        data: T,
    }
    let http = |error| BlobFetchError::Http {
        url: url.clone(),
        error,
    };
    let response = http_client()
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(http)?;
    let status = response.status();
    let body = response.bytes().await.map_err(http)?;
    if !status.is_success() {
        let mut body = String::from_utf8_lossy(&body).into_owned();
        body.truncate(body.floor_char_boundary(500));
        return Err(BlobFetchError::BeaconStatus {
            url: url.clone(),
            status: status.as_u16(),
            body,
        });
    }
    serde_json::from_slice::<Envelope<T>>(&body)
        .map(|e| e.data)
        .map_err(|e| BlobFetchError::BeaconResponse {
            url: url.clone(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_beacon_slot_is_counted_from_genesis() {
        assert_eq!(beacon_slot(1_000, 1_000, 12).unwrap(), 0);
        assert_eq!(beacon_slot(1_120, 1_000, 12).unwrap(), 10);
        assert!(matches!(
            beacon_slot(1_121, 1_000, 12),
            Err(BlobFetchError::NotASlot { .. })
        ));
        assert!(beacon_slot(999, 1_000, 12).is_err());
        assert!(beacon_slot(1_000, 1_000, 0).is_err());
    }

    #[test]
    fn blobs_beacon_urls_keep_the_base_path_and_query() {
        let base: Url = "http://beacon:5052".parse().unwrap();
        assert_eq!(
            beacon_url(&base, "eth/v1/beacon/blob_sidecars/7").as_str(),
            "http://beacon:5052/eth/v1/beacon/blob_sidecars/7"
        );
        let base: Url = "https://host/key/abc/?x=1".parse().unwrap();
        assert_eq!(
            beacon_url(&base, "eth/v1/beacon/genesis").as_str(),
            "https://host/key/abc/eth/v1/beacon/genesis?x=1"
        );
    }

    /// Two blobs on the heap (a blob is 128 KiB: a few on the stack overflow a test thread).
    fn two_blobs() -> Vec<Blob> {
        let mut blobs = vec![Blob::ZERO; 2];
        blobs[0][1] = 1;
        blobs
    }

    #[test]
    fn blobs_verify_checks_each_hash_in_order() {
        let blobs = two_blobs();
        let ha = versioned_hash(B256::ZERO, &blobs[0]).unwrap();
        let hb = versioned_hash(B256::ZERO, &blobs[1]).unwrap();
        assert_eq!(verify_blobs(&[ha, hb], blobs.clone()).unwrap(), blobs);
        assert!(matches!(
            verify_blobs(&[hb, ha], blobs.clone()),
            Err(BlobFetchError::Mismatch { hash, got }) if hash == hb && got == ha
        ));
        assert!(matches!(
            verify_blobs(&[ha, hb], blobs[..1].to_vec()),
            Err(BlobFetchError::Missing { hash }) if hash == hb
        ));
        // Blobs beyond the hashes are dropped.
        assert_eq!(verify_blobs(&[ha], blobs.clone()).unwrap(), blobs[..1]);

        // Selection by claimed commitment: the order is the hashes', a false claim is caught.
        let ca = commitment(&blobs[0]).unwrap();
        let cb = commitment(&blobs[1]).unwrap();
        let claims = vec![(ca, blobs[0].into()), (cb, blobs[1].into())];
        let picked = select_blobs(&[hb, ha], claims).unwrap();
        assert!(picked[0] == blobs[1] && picked[1] == blobs[0]);
        assert!(matches!(
            select_blobs(&[ha], vec![(ca, blobs[1].into())]),
            Err(BlobFetchError::Mismatch { hash, got }) if hash == ha && got == hb
        ));
        assert!(matches!(
            select_blobs(&[ha], vec![(ca, Bytes::from(vec![0u8; 31]))]),
            Err(BlobFetchError::WrongSize { hash, len: 31 }) if hash == ha
        ));

        // Blobs without commitments are picked by their content, in the hashes' order.
        let raw: Vec<Bytes> = vec![Bytes::from(vec![7u8; 5]), blobs[0].into(), blobs[1].into()];
        let picked = select_by_content(&[hb, ha], raw.clone()).unwrap();
        assert!(picked[0] == blobs[1] && picked[1] == blobs[0]);
        let other = B256::repeat_byte(1);
        assert!(matches!(
            select_by_content(&[ha, other], raw),
            Err(BlobFetchError::Missing { hash }) if hash == other
        ));

        // A field element at or above the modulus is not a blob.
        let mut bad = blobs;
        bad[0][0] = 0xff;
        assert!(matches!(
            verify_blobs(&[ha], bad),
            Err(BlobFetchError::Invalid { hash, .. }) if hash == ha
        ));
    }
}
