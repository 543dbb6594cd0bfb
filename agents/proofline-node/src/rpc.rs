//! The node's JSON-RPC server (jsonrpsee, HTTP and WebSocket on one port).
//!
//! # Methods
//!
//! | method              | params                        | result                                   |
//! |---------------------|-------------------------------|------------------------------------------|
//! | `node_sendTx`       | `data`: hex bytes, the tx's canonical encoding | the tx hash (`keccak256(data)`) |
//! | `node_getStatus`    | none                          | [`NodeStatus`]                           |
//! | `node_getFeeBalance` | `account`: address           | its L2 fee balance at the synced tip (hex quantity) |
//! | `node_getTxStatus`  | `hash`: 32-byte hex           | `"pending"` or `"unknown"` ([`TxStatus`]) |
//! | `node_getBlock`     | `number`: L2 block number     | [`BlockInfo`] (with the block's fees), or `null` if the node does not hold that block |
//! | `node_submitEpochBid` | `quote`: [`SignedEpochProofQuote`] (JSON: `{quote: {epochToProve, validUntilSlot, bondAmount, prover, basisPointFee}, signature: {v, r, s}}`) | the quote's digest (`Rollup.quoteToDigest`) |
//! | `node_getEpochBids` | `epoch`: epoch number         | the valid bids held for it, best first: `[{quote, signature, digest}]` ([`EpochBid`]) |
//!
//! `node_getBlock` is read-only and answers from the node's chain (blocks 1 up to its synced tip;
//! block 0, the genesis, is not a block the node holds): the block's slot, coinbase, tx counts,
//! the archive L1 recorded for it and the state root the node's own execution of it gave. Two
//! nodes that agree on every block's archive and state root hold the same L2 state; the
//! end-to-end tests compare nodes with it (`agents/proofline/tests/e2e.rs`).
//!
//! `node_sendTx` validates the tx against the node's current L2 state and the mempool
//! ([`crate::mempool`]) and pools it. Batches of up to [`MAX_BATCH_LEN`] requests are served.
//!
//! # Error codes of `node_sendTx`
//!
//! One stable code per [`MempoolError`] kind; the message is the error's text, `data` (when
//! present) the details as JSON.
//!
//! | code     | kind                 | `data`                                                     |
//! |----------|----------------------|------------------------------------------------------------|
//! | `-33001` | malformed tx         | none (the message says what is wrong with the bytes)       |
//! | `-33002` | already pending      | `{"hash": tx hash}`                                        |
//! | `-33003` | already included     | `{"nullifier": the tx's own nullifier}`                    |
//! | `-33004` | double spend         | `{"nullifier": …, "conflict": "state" or the pending tx's hash}` |
//! | `-33005` | invalid against state| none (e.g. the note-hash tree is full)                     |
//! | `-33006` | mempool full         | `{"maxTxs": …}`                                            |
//! | `-33007` | fee not covered      | none when the fee alone exceeds the payer's balance; `{"payer", "pending", "balance"}` when it does with the payer's pending txs' fees |
//! | `-32603` | internal error       | a lock was poisoned by a panic elsewhere in the node       |
//!
//! A `data` param that is not hex is refused by jsonrpsee itself with `-32602` (invalid params).
//!
//! # Epoch proof quotes
//!
//! `node_submitEpochBid` validates the quote exactly as `claimEpochProofRight` would now (see
//! [`crate::quotes`], reading the prover's escrow from L1 if the node has not yet), pools it
//! and gossips it to the other nodes. The proposers of the claim window take the best bid
//! (`node_getEpochBids(epoch)[0]`). A quote that is not a well-formed `SignedEpochProofQuote`
//! (missing or unknown fields, a number out of range, bad hex) is refused by jsonrpsee with
//! `-32602`. Other refusals, one stable code per [`QuoteError`] kind, `data` as JSON:
//!
//! | code     | kind | `data` |
//! |----------|------|--------|
//! | `-33010` | malformed (gossip bytes only; never over RPC) | none |
//! | `-33011` | rate limited: too many quotes over RPC | none |
//! | `-33012` | not ready: the node has not read the Rollup yet | none |
//! | `-33013` | no epoch to prove | none |
//! | `-33014` | the epoch's claim window has ended | `{epoch, claimWindowEnd, currentSlot}` |
//! | `-33015` | the signature is not `quote.prover`'s (another signer, high s, bad v, unrecoverable) | `{prover, recovered}` (`recovered` null when no signer) |
//! | `-33016` | not the epoch to prove | `{expected, got}` |
//! | `-33017` | expired (`validUntilSlot` < current slot) | `{validUntilSlot, currentSlot}` |
//! | `-33018` | expires before the claim window opens | `{validUntilSlot, claimWindowStart}` |
//! | `-33019` | `basisPointFee` above 10000 | `{basisPointFee, max}` |
//! | `-33020` | bond below `MIN_BOND` | `{bondAmount, minBond}` |
//! | `-33021` | the epoch is already claimed | `{epoch}` |
//! | `-33022` | escrow at the deadline below the bond | `{bondAmount, available, deadline}` |
//! | `-33023` | escrow balance not known | `{prover, deadline}` |
//! | `-33024` | L1 unavailable (the escrow read failed) | none |
//! | `-33025` | already pooled (same digest) | `{digest}` |
//! | `-33026` | the prover's pooled quote for the epoch ranks at least as well | `{kept}` |
//! | `-33027` | the pool is full and the quote ranks below all of its epoch's | `{max}` |
//! | `-33028` | **held, not refused**: for the epoch after the epoch to prove; pooled and gossiped once that epoch is the epoch to prove | `{expected, got}` |
//!
//! The node's own codes (these and the quote codes) are -33001 to -33027: outside the range
//! JSON-RPC reserves (-32768 to -32000), which jsonrpsee and Ethereum clients draw their own codes
//! from (jsonrpsee's -32010 is "batch too large", for example). `INTERNAL` and `INVALID_PARAMS`
//! are JSON-RPC's.
//!
//! # Locking
//!
//! [`RpcState`] shares the chain (`RwLock`) and the mempool (`Mutex`) with the rest of the node.
//! `node_sendTx` decodes and hashes the tx before taking any lock, then holds the chain's read
//! lock and the mempool's lock only for the few map lookups of the checks and the insert, so the
//! check and the insert see one state (no tx that a just-applied block spent slips in between).
//! **Lock order: the chain before the mempool.** Whoever holds the mempool lock must not then
//! wait for the chain lock (e.g. call `on_block` as `pool.lock(); chain.read()`): take the
//! chain's lock first, or copy what is needed out of it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use alloy::primitives::{Address, Bytes, B256, U256};
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use proofline_chain::store::{Equivocation, Store};
use proofline_core::{Epoch, Slot};
use proofline_l2::StateError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::mempool::{Conflict, Mempool, MempoolError};
use crate::quote_intake::{QuoteIntake, QuoteSource};
use proofline_chain::chain::NodeChain;
use proofline_core::quote::{
    EpochProofQuote, QuoteError, QuoteSignature, SignedEpochProofQuote, ValidQuote,
    MAX_BASIS_POINT_FEE,
};

/// Stable JSON-RPC error codes (module doc).
pub mod codes {
    pub const MALFORMED: i32 = -33001;
    pub const ALREADY_KNOWN: i32 = -33002;
    pub const ALREADY_INCLUDED: i32 = -33003;
    pub const DOUBLE_SPEND: i32 = -33004;
    pub const INVALID: i32 = -33005;
    pub const POOL_FULL: i32 = -33006;
    /// The payer's fee balance does not cover the fee with its other pending txs' fees.
    pub const FEE_NOT_COVERED: i32 = -33007;
    /// JSON-RPC's internal error.
    pub const INTERNAL: i32 = -32603;
    /// JSON-RPC's invalid params (e.g. `data` is not hex), returned by jsonrpsee.
    pub const INVALID_PARAMS: i32 = -32602;

    /// Refusals of `node_submitEpochBid` (module doc, Epoch proof quotes).
    pub const QUOTE_MALFORMED: i32 = -33010;
    pub const QUOTE_RATE_LIMITED: i32 = -33011;
    pub const QUOTE_NOT_READY: i32 = -33012;
    pub const NO_EPOCH_TO_PROVE: i32 = -33013;
    pub const CLAIM_WINDOW_CLOSED: i32 = -33014;
    pub const INVALID_QUOTE_SIGNATURE: i32 = -33015;
    pub const WRONG_EPOCH: i32 = -33016;
    pub const QUOTE_EXPIRED: i32 = -33017;
    pub const QUOTE_EXPIRES_BEFORE_CLAIM_WINDOW: i32 = -33018;
    pub const FEE_TOO_HIGH: i32 = -33019;
    pub const BOND_TOO_LOW: i32 = -33020;
    pub const ALREADY_CLAIMED: i32 = -33021;
    pub const INSUFFICIENT_ESCROW: i32 = -33022;
    pub const ESCROW_UNKNOWN: i32 = -33023;
    pub const L1_UNAVAILABLE: i32 = -33024;
    pub const QUOTE_ALREADY_KNOWN: i32 = -33025;
    pub const QUOTE_NOT_BETTER: i32 = -33026;
    pub const QUOTE_POOL_FULL: i32 = -33027;
    /// Not refused: held until its epoch is the epoch to prove, then pooled and gossiped.
    pub const QUOTE_HELD: i32 = -33028;
}

/// Most requests in one JSON-RPC batch.
pub const MAX_BATCH_LEN: u32 = 1_000;
/// Largest request body: a full batch of the largest txs (8,212 bytes, 16.4 KB as hex) is ~17 MB;
/// 20 MiB leaves room for the JSON around them.
pub const MAX_REQUEST_BODY: u32 = 20 * 1024 * 1024;

/// What the node reports about itself (`node_getStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Latest L1 block the node has seen.
    pub l1_block: u64,
    /// Current L2 slot.
    pub slot: Slot,
    /// Current epoch.
    pub epoch: Epoch,
    /// Tip of the pending chain on L1.
    pub pending_block: u64,
    /// Tip of the proven chain on L1.
    pub proven_block: u64,
    /// The L2 block the node's state is at. `node_getStatus` reads it from the chain.
    pub synced_block: u64,
    /// Txs in the mempool. `node_getStatus` reads it from the mempool.
    pub mempool_txs: u64,
    /// Whether the rollup is in based fallback.
    pub in_fallback: bool,
    /// Txs (forced ones included) in the node's newest block. `node_getStatus` reads it from the
    /// chain.
    pub last_block_txs: u64,
}

/// One block of the node's chain (`node_getBlock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockInfo {
    pub number: u64,
    pub slot: Slot,
    /// Who proposed it (the sender of its `propose`).
    pub coinbase: Address,
    /// The archive after this block, as L1 recorded it (the node's execution reproduced it).
    pub archive: B256,
    /// The state root the node's execution of this block gave (its header's).
    pub state_root: B256,
    /// Txs in the block, forced ones included.
    pub tx_count: u64,
    /// Forced-inclusion entries leading the block.
    pub forced_tx_count: u64,
    /// The fees its txs paid (its header's `fees`, what an epoch proof asks the Rollup to pay).
    pub fees: U256,
}

/// Whether the node knows a tx (`node_getTxStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// In the mempool.
    Pending,
    /// Not in the mempool: never seen, refused, included or dropped.
    Unknown,
}

/// One bid of `node_getEpochBids`: the signed quote as `claimEpochProofRight` takes it, and its
/// digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochBid {
    pub quote: EpochProofQuote,
    pub signature: QuoteSignature,
    pub digest: B256,
}

impl EpochBid {
    pub fn signed(&self) -> SignedEpochProofQuote {
        SignedEpochProofQuote {
            quote: self.quote,
            signature: self.signature,
        }
    }
}

impl From<&ValidQuote> for EpochBid {
    fn from(q: &ValidQuote) -> Self {
        Self {
            quote: q.signed().quote,
            signature: q.signed().signature,
            digest: q.digest(),
        }
    }
}

/// The node's JSON-RPC API. `NodeApiClient` (generated) is the typed client, implemented by
/// jsonrpsee's `HttpClient` and `WsClient`.
#[rpc(server, client, namespace = "node")]
pub trait NodeApi {
    /// Validate a tx (its canonical encoding) and add it to the mempool. Returns its hash.
    #[method(name = "sendTx")]
    fn send_tx(&self, data: Bytes) -> RpcResult<B256>;

    /// The node's view of L1 and L2.
    #[method(name = "getStatus")]
    fn get_status(&self) -> RpcResult<NodeStatus>;

    /// `account`'s L2 fee balance at the node's synced tip (fee deposits in, fees out).
    #[method(name = "getFeeBalance")]
    fn get_fee_balance(&self, account: Address) -> RpcResult<U256>;

    /// Whether a tx is in the mempool.
    #[method(name = "getTxStatus")]
    fn get_tx_status(&self, hash: B256) -> RpcResult<TxStatus>;

    /// Block `number` of the node's chain (1..=synced tip), or `null`.
    #[method(name = "getBlock")]
    fn get_block(&self, number: u64) -> RpcResult<Option<BlockInfo>>;

    /// Validate a prover's signed quote as `claimEpochProofRight` would, pool it and gossip it.
    /// Returns its digest.
    #[method(name = "submitEpochBid")]
    async fn submit_epoch_bid(&self, quote: SignedEpochProofQuote) -> RpcResult<B256>;

    /// The valid bids the node holds for `epoch`, best first.
    #[method(name = "getEpochBids")]
    fn get_epoch_bids(&self, epoch: u64) -> RpcResult<Vec<EpochBid>>;

    /// Proposers that signed two different proposals for one slot, with both signed digests:
    /// evidence for slashing, newest slot first (at most [`MAX_EQUIVOCATIONS`]).
    #[method(name = "getEquivocations")]
    fn get_equivocations(&self) -> RpcResult<Vec<Equivocation>>;
}

/// Most equivocations `node_getEquivocations` returns.
pub const MAX_EQUIVOCATIONS: usize = 100;

/// What the server reads and writes; shared with the rest of the node (module doc, Locking).
#[derive(Debug, Clone)]
pub struct RpcState {
    pub mempool: Arc<Mutex<Mempool>>,
    pub chain: Arc<RwLock<NodeChain>>,
    /// Filled by the node; `synced_block` and `mempool_txs` are overridden with live values.
    pub status: tokio::sync::watch::Receiver<NodeStatus>,
    /// The quote pool and the validation context the node keeps fresh ([`crate::quote_intake`]).
    /// `QuoteIntake::default()` refuses every quote as not ready.
    pub quotes: QuoteIntake,
    /// The node's store, for the evidence it keeps (`node_getEquivocations`); `None`: none kept.
    pub store: Option<Arc<Store>>,
}

/// The stable code of a mempool refusal (module doc).
pub fn error_code(error: &MempoolError) -> i32 {
    match error {
        MempoolError::Malformed(_) => codes::MALFORMED,
        MempoolError::AlreadyKnown(_) => codes::ALREADY_KNOWN,
        MempoolError::AlreadyIncluded { .. } => codes::ALREADY_INCLUDED,
        MempoolError::DoubleSpend { .. } => codes::DOUBLE_SPEND,
        MempoolError::Invalid(StateError::FeeNotCovered { .. })
        | MempoolError::FeeNotCovered { .. } => codes::FEE_NOT_COVERED,
        MempoolError::Invalid(_) => codes::INVALID,
        MempoolError::PoolFull { .. } => codes::POOL_FULL,
    }
}

/// A mempool refusal as a JSON-RPC error object (module doc).
pub fn rpc_error(error: &MempoolError) -> ErrorObjectOwned {
    let data = match error {
        MempoolError::Malformed(_) | MempoolError::Invalid(_) => None,
        MempoolError::AlreadyKnown(hash) => Some(json!({ "hash": hash })),
        MempoolError::AlreadyIncluded { nullifier } => Some(json!({ "nullifier": nullifier })),
        MempoolError::DoubleSpend {
            nullifier,
            conflict,
        } => {
            let conflict = match conflict {
                Conflict::State => json!("state"),
                Conflict::Pooled(hash) => json!(hash),
            };
            Some(json!({ "nullifier": nullifier, "conflict": conflict }))
        }
        MempoolError::PoolFull { max_txs } => Some(json!({ "maxTxs": max_txs })),
        MempoolError::FeeNotCovered {
            payer,
            pooled,
            balance,
            ..
        } => Some(json!({ "payer": payer, "pending": pooled, "balance": balance })),
    };
    ErrorObjectOwned::owned(error_code(error), error.to_string(), data)
}

/// The stable code of a quote refusal (module doc).
pub fn quote_error_code(error: &QuoteError) -> i32 {
    match error {
        QuoteError::Malformed(_) => codes::QUOTE_MALFORMED,
        QuoteError::RateLimited => codes::QUOTE_RATE_LIMITED,
        QuoteError::NotReady => codes::QUOTE_NOT_READY,
        QuoteError::NoEpochToProve => codes::NO_EPOCH_TO_PROVE,
        QuoteError::ClaimWindowClosed { .. } => codes::CLAIM_WINDOW_CLOSED,
        QuoteError::InvalidSignature { .. } => codes::INVALID_QUOTE_SIGNATURE,
        QuoteError::WrongEpoch { .. } => codes::WRONG_EPOCH,
        QuoteError::Expired { .. } => codes::QUOTE_EXPIRED,
        QuoteError::ExpiresBeforeClaimWindow { .. } => codes::QUOTE_EXPIRES_BEFORE_CLAIM_WINDOW,
        QuoteError::FeeTooHigh { .. } => codes::FEE_TOO_HIGH,
        QuoteError::BondTooLow { .. } => codes::BOND_TOO_LOW,
        QuoteError::AlreadyClaimed { .. } => codes::ALREADY_CLAIMED,
        QuoteError::InsufficientEscrow { .. } => codes::INSUFFICIENT_ESCROW,
        QuoteError::EscrowUnknown { .. } => codes::ESCROW_UNKNOWN,
        QuoteError::L1Unavailable(_) => codes::L1_UNAVAILABLE,
        QuoteError::AlreadyKnown { .. } => codes::QUOTE_ALREADY_KNOWN,
        QuoteError::NotBetter { .. } => codes::QUOTE_NOT_BETTER,
        QuoteError::PoolFull { .. } => codes::QUOTE_POOL_FULL,
        QuoteError::Held { .. } => codes::QUOTE_HELD,
    }
}

/// A quote refusal as a JSON-RPC error object (module doc).
pub fn quote_rpc_error(error: &QuoteError) -> ErrorObjectOwned {
    let data = match error {
        QuoteError::Malformed(_)
        | QuoteError::RateLimited
        | QuoteError::NotReady
        | QuoteError::NoEpochToProve
        | QuoteError::L1Unavailable(_) => None,
        QuoteError::ClaimWindowClosed {
            epoch,
            window_end,
            current_slot,
        } => Some(json!({
            "epoch": epoch,
            "claimWindowEnd": window_end,
            "currentSlot": current_slot,
        })),
        QuoteError::InvalidSignature {
            prover, recovered, ..
        } => Some(json!({ "prover": prover, "recovered": recovered })),
        QuoteError::WrongEpoch { expected, got } => {
            Some(json!({ "expected": expected, "got": got }))
        }
        QuoteError::Expired {
            valid_until_slot,
            current_slot,
        } => Some(json!({ "validUntilSlot": valid_until_slot, "currentSlot": current_slot })),
        QuoteError::ExpiresBeforeClaimWindow {
            valid_until_slot,
            claim_window_start,
        } => Some(json!({
            "validUntilSlot": valid_until_slot,
            "claimWindowStart": claim_window_start,
        })),
        QuoteError::FeeTooHigh { basis_point_fee } => {
            Some(json!({ "basisPointFee": basis_point_fee, "max": MAX_BASIS_POINT_FEE }))
        }
        QuoteError::BondTooLow {
            bond_amount,
            min_bond,
        } => Some(json!({ "bondAmount": bond_amount, "minBond": min_bond })),
        QuoteError::AlreadyClaimed { epoch } => Some(json!({ "epoch": epoch })),
        QuoteError::InsufficientEscrow {
            bond_amount,
            available,
            deadline,
        } => Some(json!({
            "bondAmount": bond_amount,
            "available": available,
            "deadline": deadline,
        })),
        QuoteError::EscrowUnknown { prover, deadline } => {
            Some(json!({ "prover": prover, "deadline": deadline }))
        }
        QuoteError::AlreadyKnown { digest } => Some(json!({ "digest": digest })),
        QuoteError::NotBetter { kept } => Some(json!({ "kept": kept })),
        QuoteError::PoolFull { max } => Some(json!({ "max": max })),
        QuoteError::Held { expected, got } => Some(json!({ "expected": expected, "got": got })),
    };
    ErrorObjectOwned::owned(quote_error_code(error), error.to_string(), data)
}

fn poisoned(what: &str) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        codes::INTERNAL,
        format!("internal error: the {what} lock is poisoned"),
        None::<()>,
    )
}

struct NodeRpc {
    state: RpcState,
}

#[async_trait]
impl NodeApiServer for NodeRpc {
    fn send_tx(&self, data: Bytes) -> RpcResult<B256> {
        // Decoding and hashing need no lock.
        let candidate = Mempool::prepare(&data).map_err(|e| rpc_error(&e))?;
        let chain = self.state.chain.read().map_err(|_| poisoned("chain"))?;
        let mut pool = self.state.mempool.lock().map_err(|_| poisoned("mempool"))?;
        pool.insert(candidate, chain.l2().state())
            .map_err(|e| rpc_error(&e))
    }

    fn get_fee_balance(&self, account: Address) -> RpcResult<U256> {
        let chain = self.state.chain.read().map_err(|_| poisoned("chain"))?;
        Ok(chain.l2().state().balance_of(account))
    }

    fn get_status(&self) -> RpcResult<NodeStatus> {
        let mut status = self.state.status.borrow().clone();
        {
            let chain = self.state.chain.read().map_err(|_| poisoned("chain"))?;
            status.synced_block = chain.tip();
            status.last_block_txs = chain
                .block(chain.tip())
                .map_or(0, |b| (b.forced.len() + b.txs.len()) as u64);
        }
        status.mempool_txs = self
            .state
            .mempool
            .lock()
            .map_err(|_| poisoned("mempool"))?
            .len() as u64;
        Ok(status)
    }

    fn get_tx_status(&self, hash: B256) -> RpcResult<TxStatus> {
        let pool = self.state.mempool.lock().map_err(|_| poisoned("mempool"))?;
        Ok(if pool.contains(&hash) {
            TxStatus::Pending
        } else {
            TxStatus::Unknown
        })
    }

    fn get_block(&self, number: u64) -> RpcResult<Option<BlockInfo>> {
        let chain = self.state.chain.read().map_err(|_| poisoned("chain"))?;
        let (Some(block), Some(state_root), Some(fees)) = (
            chain.block(number),
            chain.state_root_of(number),
            chain.fees_of(number),
        ) else {
            return Ok(None);
        };
        Ok(Some(BlockInfo {
            number: block.number,
            slot: block.slot,
            coinbase: block.coinbase,
            archive: block.archive,
            state_root,
            tx_count: (block.forced.len() + block.txs.len()) as u64,
            forced_tx_count: block.forced.len() as u64,
            fees,
        }))
    }

    async fn submit_epoch_bid(&self, quote: SignedEpochProofQuote) -> RpcResult<B256> {
        self.state
            .quotes
            .submit(QuoteSource::Rpc, quote)
            .await
            .map(|accepted| accepted.digest)
            .map_err(|e| quote_rpc_error(&e))
    }

    fn get_equivocations(&self) -> RpcResult<Vec<Equivocation>> {
        let Some(store) = &self.state.store else {
            return Ok(Vec::new());
        };
        store.equivocations(MAX_EQUIVOCATIONS).map_err(|e| {
            ErrorObjectOwned::owned(codes::INTERNAL, format!("store: {e}"), None::<()>)
        })
    }

    fn get_epoch_bids(&self, epoch: u64) -> RpcResult<Vec<EpochBid>> {
        Ok(self
            .state
            .quotes
            .bids(Epoch(epoch))
            .iter()
            .map(EpochBid::from)
            .collect())
    }
}

/// Start the JSON-RPC server on `addr` (port 0 picks a free one). Returns the bound address and
/// the handle that stops it (`handle.stop()`, then `handle.stopped().await`).
pub async fn serve(addr: SocketAddr, state: RpcState) -> eyre::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BODY)
        .max_response_body_size(MAX_REQUEST_BODY)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH_LEN))
        .build();
    let server = Server::builder().set_config(config).build(addr).await?;
    let bound = server.local_addr()?;
    let handle = server.start(NodeRpc { state }.into_rpc());
    tracing::info!(%bound, "JSON-RPC server listening");
    Ok((bound, handle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::MempoolConfig;
    use jsonrpsee::core::client::{BatchResponse, ClientT};
    use jsonrpsee::core::params::BatchRequestBuilder;
    use jsonrpsee::core::ClientError;
    use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
    use jsonrpsee::rpc_params;
    use proofline_chain::chain::StoredBlock;
    use proofline_l2::{L2Chain, PublicDataWrite, Tx};
    use tokio::sync::watch;

    fn w(n: u64) -> B256 {
        B256::left_padding_from(&n.to_be_bytes())
    }

    fn payer() -> alloy::signers::local::PrivateKeySigner {
        alloy::signers::local::PrivateKeySigner::from_bytes(&w(0x78)).unwrap()
    }

    /// Unpaid when `fee` is zero, else paid by [`payer`] (block 1 of [`start`] funds it).
    fn tx(nulls: &[u64], fee: u128) -> Tx {
        let notes = vec![w(5000 + nulls[0])];
        let nulls = nulls.iter().map(|n| w(*n)).collect();
        let writes = vec![PublicDataWrite {
            slot: w(1),
            value: w(2),
        }];
        if fee == 0 {
            Tx::new(notes, nulls, writes).unwrap()
        } else {
            Tx::paid(notes, nulls, writes, fee, &payer()).unwrap()
        }
    }

    const FUNDING: u128 = 1_000_000;

    struct Node {
        addr: SocketAddr,
        client: HttpClient,
        state: RpcState,
        status_tx: watch::Sender<NodeStatus>,
        handle: ServerHandle,
    }

    /// A server over a chain at block 1 whose state spent nullifiers 1 and 2 and credited
    /// [`FUNDING`] to [`payer`] (a fee deposit).
    async fn start(max_txs: usize) -> Node {
        let mut l2 = L2Chain::genesis();
        let spend = tx(&[1, 2], 0);
        let deposit = Bytes::from(proofline_l2::deposit_data(payer().address(), FUNDING));
        let built = l2
            .apply_block(
                proofline_core::Slot(3),
                Default::default(),
                std::slice::from_ref(&deposit),
                std::slice::from_ref(&spend),
            )
            .unwrap();
        let mut chain = NodeChain::new();
        chain.on_queued(proofline_chain::chain::QueueEntry {
            index: 0,
            tx_hash: alloy::primitives::keccak256(&deposit),
            due_epoch: Epoch(0),
            data: deposit.clone(),
            l1_block: 1,
        });
        chain
            .apply(StoredBlock {
                number: 1,
                slot: Slot(3),
                coinbase: Default::default(),
                forced: vec![deposit],
                txs: vec![Bytes::from(spend.encode())],
                archive: built.archive,
            })
            .unwrap();
        let (status_tx, status) = watch::channel(NodeStatus::default());
        let state = RpcState {
            mempool: Arc::new(Mutex::new(Mempool::new(MempoolConfig { max_txs }))),
            chain: Arc::new(RwLock::new(chain)),
            status,
            quotes: QuoteIntake::default(),
            store: None,
        };
        let (addr, handle) = serve("127.0.0.1:0".parse().unwrap(), state.clone())
            .await
            .unwrap();
        assert_ne!(addr.port(), 0);
        let client = HttpClientBuilder::default()
            .build(format!("http://{addr}"))
            .unwrap();
        Node {
            addr,
            client,
            state,
            status_tx,
            handle,
        }
    }

    /// The JSON-RPC error of a failed call.
    fn call_error<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrorObjectOwned {
        match r {
            Err(ClientError::Call(e)) => e,
            other => panic!("expected a JSON-RPC error, got {other:?}"),
        }
    }

    fn data(e: &ErrorObjectOwned) -> serde_json::Value {
        serde_json::from_str(e.data().expect("error data").get()).unwrap()
    }

    #[tokio::test]
    async fn send_tx_accepts_then_refuses_with_stable_codes() {
        let node = start(100).await;
        let c = &node.client;

        // Valid.
        let t = tx(&[10, 11], 7);
        let hash = c.send_tx(t.encode().into()).await.unwrap();
        assert_eq!(hash, t.hash());
        assert!(node.state.mempool.lock().unwrap().contains(&hash));
        assert_eq!(c.get_tx_status(hash).await.unwrap(), TxStatus::Pending);
        assert_eq!(c.get_tx_status(w(9)).await.unwrap(), TxStatus::Unknown);

        // Malformed: unknown version, and truncated.
        let e = call_error(c.send_tx(Bytes::from_static(&[3, 0, 0])).await);
        assert_eq!(e.code(), codes::MALFORMED);
        assert!(e.message().contains("version"), "{}", e.message());
        let mut short = t.encode();
        short.pop();
        let e = call_error(c.send_tx(short.into()).await);
        assert_eq!(e.code(), codes::MALFORMED);
        assert!(e.data().is_none());

        // Duplicate.
        let e = call_error(c.send_tx(t.encode().into()).await);
        assert_eq!(e.code(), codes::ALREADY_KNOWN);
        assert_eq!(data(&e), json!({ "hash": hash }));

        // Already included: its own nullifier is in the state.
        let e = call_error(c.send_tx(tx(&[1], 1).encode().into()).await);
        assert_eq!(e.code(), codes::ALREADY_INCLUDED);
        assert_eq!(data(&e), json!({ "nullifier": w(1) }));

        // Double spend against the state.
        let e = call_error(c.send_tx(tx(&[20, 2], 1).encode().into()).await);
        assert_eq!(e.code(), codes::DOUBLE_SPEND);
        assert_eq!(data(&e), json!({ "nullifier": w(2), "conflict": "state" }));

        // Double spend against the pending tx.
        let e = call_error(c.send_tx(tx(&[21, 11], 99).encode().into()).await);
        assert_eq!(e.code(), codes::DOUBLE_SPEND);
        assert_eq!(data(&e), json!({ "nullifier": w(11), "conflict": hash }));
        assert!(e.message().contains("double-spends"), "{}", e.message());

        // Not hex: jsonrpsee's invalid params.
        let r: Result<B256, _> = c.request("node_sendTx", rpc_params!["0xzz"]).await;
        assert_eq!(call_error(r).code(), codes::INVALID_PARAMS);

        // Nothing refused was pooled.
        assert_eq!(node.state.mempool.lock().unwrap().len(), 1);
        node.handle.stop().unwrap();
        node.handle.stopped().await;
    }

    #[tokio::test]
    async fn a_full_pool_refuses_with_its_code() {
        let node = start(1).await;
        node.client
            .send_tx(tx(&[10], 1).encode().into())
            .await
            .unwrap();
        let e = call_error(node.client.send_tx(tx(&[11], 1).encode().into()).await);
        assert_eq!(e.code(), codes::POOL_FULL);
        assert_eq!(data(&e), json!({ "maxTxs": 1 }));
    }

    #[tokio::test]
    async fn status_combines_the_watch_with_live_chain_and_pool() {
        let node = start(100).await;
        node.status_tx.send_replace(NodeStatus {
            l1_block: 120,
            slot: Slot(9),
            epoch: Epoch(2),
            pending_block: 4,
            proven_block: 3,
            synced_block: 0,
            mempool_txs: 0,
            in_fallback: true,
            last_block_txs: 0,
        });
        node.client
            .send_tx(tx(&[10], 1).encode().into())
            .await
            .unwrap();
        let status = node.client.get_status().await.unwrap();
        assert_eq!(
            status,
            NodeStatus {
                l1_block: 120,
                slot: Slot(9),
                epoch: Epoch(2),
                pending_block: 4,
                proven_block: 3,
                synced_block: 1,
                mempool_txs: 1,
                in_fallback: true,
                last_block_txs: 2,
            }
        );
        // The wire format is camelCase.
        let raw: serde_json::Value = node
            .client
            .request("node_getStatus", rpc_params![])
            .await
            .unwrap();
        assert_eq!(raw["l1Block"], 120);
        assert_eq!(raw["syncedBlock"], 1);
        assert_eq!(raw["mempoolTxs"], 1);
        assert_eq!(raw["inFallback"], true);
    }

    #[tokio::test]
    async fn get_block_reports_the_chains_blocks_and_null_past_them() {
        let node = start(100).await;
        let (archive, state_root) = {
            let chain = node.state.chain.read().unwrap();
            (chain.archive(), chain.l2().state().state_root())
        };
        assert_ne!(
            state_root,
            proofline_l2::L2Chain::genesis().state().state_root()
        );
        let block = node.client.get_block(1).await.unwrap();
        assert_eq!(
            block,
            Some(BlockInfo {
                number: 1,
                slot: Slot(3),
                coinbase: Address::ZERO,
                archive,
                state_root,
                tx_count: 2,
                forced_tx_count: 1,
                fees: U256::ZERO,
            })
        );
        // Genesis and blocks above the tip: null.
        assert_eq!(node.client.get_block(0).await.unwrap(), None);
        assert_eq!(node.client.get_block(2).await.unwrap(), None);
        let raw: serde_json::Value = node
            .client
            .request("node_getBlock", rpc_params![1])
            .await
            .unwrap();
        assert_eq!(raw["stateRoot"], json!(state_root));
        assert_eq!(raw["txCount"], 2);
        assert_eq!(raw["forcedTxCount"], 1);
        let raw: serde_json::Value = node
            .client
            .request("node_getBlock", rpc_params![7])
            .await
            .unwrap();
        assert!(raw.is_null());
    }

    #[tokio::test]
    async fn batches_get_one_answer_per_tx() {
        let node = start(100).await;
        let good = tx(&[10], 1);
        let mut batch = BatchRequestBuilder::new();
        batch
            .insert("node_sendTx", rpc_params![Bytes::from(good.encode())])
            .unwrap();
        batch
            .insert("node_sendTx", rpc_params![Bytes::from(good.encode())])
            .unwrap();
        batch
            .insert(
                "node_sendTx",
                rpc_params![Bytes::from(tx(&[1], 1).encode())],
            )
            .unwrap();
        let res: BatchResponse<B256> = node.client.batch_request(batch).await.unwrap();
        let res: Vec<_> = res.into_iter().collect();
        assert_eq!(res.len(), 3);
        assert_eq!(res[0].as_ref().unwrap(), &good.hash());
        assert_eq!(res[1].as_ref().unwrap_err().code(), codes::ALREADY_KNOWN);
        assert_eq!(res[2].as_ref().unwrap_err().code(), codes::ALREADY_INCLUDED);
    }

    /// Many clients racing txs that pairwise conflict: exactly one of each conflicting group is
    /// pooled, so the check and the insert are atomic.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_conflicting_sends_pool_one_per_nullifier() {
        let node = start(10_000).await;
        let addr = format!("http://{}", node.addr);
        let mut tasks = Vec::new();
        for client_id in 0..8u64 {
            let addr = addr.clone();
            tasks.push(tokio::spawn(async move {
                let c = HttpClientBuilder::default().build(addr).unwrap();
                let mut accepted = 0;
                for group in 0..50u64 {
                    // All clients spend nullifier 1000+group, each with its own tx.
                    let t = tx(&[100_000 + client_id * 1000 + group, 1000 + group], 1);
                    match c.send_tx(t.encode().into()).await {
                        Ok(_) => accepted += 1,
                        Err(ClientError::Call(e)) => assert_eq!(e.code(), codes::DOUBLE_SPEND),
                        Err(e) => panic!("{e}"),
                    }
                }
                accepted
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            accepted += t.await.unwrap();
        }
        assert_eq!(accepted, 50);
        let pool = node.state.mempool.lock().unwrap();
        assert_eq!(pool.len(), 50);
        pool.check_invariants().unwrap();
    }

    #[test]
    fn every_quote_refusal_has_its_own_code_and_message() {
        use proofline_core::quote::WireError;
        let errors = [
            QuoteError::Malformed(WireError::Length(1)),
            QuoteError::RateLimited,
            QuoteError::NotReady,
            QuoteError::NoEpochToProve,
            QuoteError::ClaimWindowClosed {
                epoch: proofline_core::Epoch(1),
                window_end: proofline_core::Slot(2),
                current_slot: proofline_core::Slot(3),
            },
            QuoteError::InvalidSignature {
                prover: Address::ZERO,
                recovered: None,
                problem: None,
            },
            QuoteError::WrongEpoch {
                expected: proofline_core::Epoch(1),
                got: Default::default(),
            },
            QuoteError::Expired {
                valid_until_slot: Default::default(),
                current_slot: proofline_core::Slot(1),
            },
            QuoteError::ExpiresBeforeClaimWindow {
                valid_until_slot: Default::default(),
                claim_window_start: proofline_core::Slot(1),
            },
            QuoteError::FeeTooHigh {
                basis_point_fee: 10_001,
            },
            QuoteError::BondTooLow {
                bond_amount: Default::default(),
                min_bond: Default::default(),
            },
            QuoteError::AlreadyClaimed {
                epoch: proofline_core::Epoch(1),
            },
            QuoteError::InsufficientEscrow {
                bond_amount: Default::default(),
                available: Default::default(),
                deadline: proofline_core::Timestamp(1),
            },
            QuoteError::EscrowUnknown {
                prover: Address::ZERO,
                deadline: proofline_core::Timestamp(1),
            },
            QuoteError::L1Unavailable("down".into()),
            QuoteError::AlreadyKnown { digest: w(1) },
            QuoteError::NotBetter { kept: w(1) },
            QuoteError::PoolFull { max: 1 },
            QuoteError::Held {
                expected: proofline_core::Epoch(1),
                got: proofline_core::Epoch(2),
            },
        ];
        let quote_codes: std::collections::HashSet<i32> =
            errors.iter().map(quote_error_code).collect();
        assert_eq!(quote_codes.len(), errors.len());
        assert_eq!(
            quote_codes,
            (codes::QUOTE_HELD..=codes::QUOTE_MALFORMED).collect()
        );
        for e in &errors {
            let obj = quote_rpc_error(e);
            assert_eq!(obj.message(), e.to_string());
            assert!((-33099..=-33000).contains(&obj.code()));
            assert!(!(codes::POOL_FULL..=codes::MALFORMED).contains(&obj.code()));
        }
    }

    #[test]
    fn every_kind_has_a_distinct_code() {
        use proofline_l2::{StateError, TxError};
        let errors = [
            MempoolError::Malformed(TxError::Empty),
            MempoolError::AlreadyKnown(w(1)),
            MempoolError::AlreadyIncluded { nullifier: w(1) },
            MempoolError::DoubleSpend {
                nullifier: w(1),
                conflict: Conflict::State,
            },
            MempoolError::Invalid(StateError::NoteTreeFull {
                needed: 1,
                remaining: 0,
            }),
            MempoolError::PoolFull { max_txs: 1 },
        ];
        let codes: std::collections::HashSet<i32> = errors.iter().map(error_code).collect();
        assert_eq!(codes.len(), errors.len());
        for e in &errors {
            let obj = rpc_error(e);
            assert_eq!(obj.message(), e.to_string());
            // Outside the codes JSON-RPC reserves for the protocol itself.
            assert!((-33099..=-33000).contains(&obj.code()));
        }
    }

    /// Probing (issue 15): the node's codes collided with jsonrpsee's own (-32010 "batch too
    /// large", -32011, -32001 "unknown error", -32005 "batches not supported", -32007 "oversized
    /// request"...), so a client could not tell a refused quote from a refused batch. Every code
    /// of the node's own is outside the range JSON-RPC reserves (-32768 to -32000, which
    /// jsonrpsee and Ethereum clients draw from) and distinct.
    #[test]
    fn the_nodes_codes_are_its_own() {
        let ours = [
            codes::MALFORMED,
            codes::ALREADY_KNOWN,
            codes::ALREADY_INCLUDED,
            codes::DOUBLE_SPEND,
            codes::INVALID,
            codes::POOL_FULL,
            codes::FEE_NOT_COVERED,
            codes::QUOTE_MALFORMED,
            codes::QUOTE_RATE_LIMITED,
            codes::QUOTE_NOT_READY,
            codes::NO_EPOCH_TO_PROVE,
            codes::CLAIM_WINDOW_CLOSED,
            codes::INVALID_QUOTE_SIGNATURE,
            codes::WRONG_EPOCH,
            codes::QUOTE_EXPIRED,
            codes::QUOTE_EXPIRES_BEFORE_CLAIM_WINDOW,
            codes::FEE_TOO_HIGH,
            codes::BOND_TOO_LOW,
            codes::ALREADY_CLAIMED,
            codes::INSUFFICIENT_ESCROW,
            codes::ESCROW_UNKNOWN,
            codes::L1_UNAVAILABLE,
            codes::QUOTE_ALREADY_KNOWN,
            codes::QUOTE_NOT_BETTER,
            codes::QUOTE_POOL_FULL,
            codes::QUOTE_HELD,
        ];
        use jsonrpsee::types::error as lib;
        let library = [
            lib::PARSE_ERROR_CODE,
            lib::INVALID_REQUEST_CODE,
            lib::METHOD_NOT_FOUND_CODE,
            lib::INVALID_PARAMS_CODE,
            lib::INTERNAL_ERROR_CODE,
            lib::CALL_EXECUTION_FAILED_CODE,
            lib::UNKNOWN_ERROR_CODE,
            lib::BATCHES_NOT_SUPPORTED_CODE,
            lib::TOO_MANY_SUBSCRIPTIONS_CODE,
            lib::OVERSIZED_REQUEST_CODE,
            lib::OVERSIZED_RESPONSE_CODE,
            lib::SERVER_IS_BUSY_CODE,
            lib::TOO_BIG_BATCH_REQUEST_CODE,
            lib::TOO_BIG_BATCH_RESPONSE_CODE,
        ];
        for code in ours {
            assert!(
                !(-32768..=-32000).contains(&code),
                "{code} is in JSON-RPC's reserved range"
            );
            assert!(!library.contains(&code), "{code} is jsonrpsee's");
        }
        let distinct: std::collections::HashSet<i32> = ours.into_iter().collect();
        assert_eq!(distinct.len(), ours.len());
    }
}
