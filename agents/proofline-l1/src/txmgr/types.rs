//! What the transaction manager takes and gives: the candidate to send and its purpose, the
//! manager's settings, the outcome, the errors (with decoded reverts) and the events it emits.

use std::{fmt, time::Duration};

use alloy::{
    eips::eip7594::BlobTransactionSidecarVariant,
    primitives::{Address, Bytes, B256, U256},
    rpc::types::TransactionReceipt,
    sol_types::SolCall,
    transports::TransportError,
};
use proofline_bindings::DecodedError;

use super::{FeeCapError, FeePolicy, Fees, GWEI};

/// What a transaction is for ("propose", "claim", "proof", ...). At most one transaction per
/// purpose is in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purpose(String);

impl Purpose {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Purpose {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A call the manager is asked to make. Contract creation is not supported: deployments go
/// through the forge script.
#[derive(Clone, Debug)]
pub struct TxCandidate {
    pub to: Address,
    pub input: Bytes,
    pub value: U256,
    /// Estimated (plus `gas_limit_margin_percent`) when not given.
    pub gas_limit: Option<u64>,
    /// Makes the transaction an EIP-4844 blob transaction; its versioned hashes are the
    /// transaction's `blob_versioned_hashes`.
    pub sidecar: Option<BlobTransactionSidecarVariant>,
    /// The L1 timestamp (Unix seconds) before which the transaction must be mined, if any: a
    /// proposal only counts in its slot. Not sent when the next block cannot be before it; once
    /// the chain reaches it unmined, it is cancelled (replaced by a self-transfer) instead of
    /// re-priced, so it never lands late and reverts.
    pub deadline: Option<u64>,
}

impl TxCandidate {
    pub fn new(to: Address, input: impl Into<Bytes>) -> Self {
        Self {
            to,
            input: input.into(),
            value: U256::ZERO,
            gas_limit: None,
            sidecar: None,
            deadline: None,
        }
    }

    /// See [`TxCandidate::deadline`].
    pub fn with_deadline(mut self, deadline: u64) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// A call of a generated binding's function: `TxCandidate::call(rollup, &Rollup::pruneCall {})`.
    pub fn call(to: Address, call: &impl SolCall) -> Self {
        Self::new(to, call.abi_encode())
    }

    pub fn with_value(mut self, value: U256) -> Self {
        self.value = value;
        self
    }

    pub fn with_gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = Some(gas_limit);
        self
    }

    pub fn with_sidecar(mut self, sidecar: impl Into<BlobTransactionSidecarVariant>) -> Self {
        self.sidecar = Some(sidecar.into());
        self
    }

    pub fn blob_versioned_hashes(&self) -> Vec<B256> {
        self.sidecar
            .as_ref()
            .map(|s| s.versioned_hashes().collect())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug)]
pub struct TxManagerConfig {
    /// How often in-flight transactions are checked for inclusion and staleness.
    pub poll_interval: Duration,
    /// Blocks without inclusion after which a transaction is re-priced and replaced.
    pub resubmit_after_blocks: u64,
    /// Blocks a receipt must be buried under (1: the block that includes it) before the outcome
    /// is reported; the receipt's block is checked to still be canonical then.
    pub confirmations: u64,
    /// Added to the gas estimate.
    pub gas_limit_margin_percent: u64,
    pub fees: FeePolicy,
}

impl Default for TxManagerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            resubmit_after_blocks: 3,
            confirmations: 1,
            gas_limit_margin_percent: 20,
            fees: FeePolicy {
                base_fee_multiplier: 2,
                blob_base_fee_multiplier: 2,
                min_priority_fee_per_gas: GWEI / 10,
                max_fee_per_gas_cap: 1_000 * GWEI,
                max_priority_fee_per_gas_cap: 50 * GWEI,
                max_fee_per_blob_gas_cap: 1_000 * GWEI,
                bump_percent: 10,
                blob_bump_percent: 100,
            },
        }
    }
}

/// A transaction that landed and succeeded.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    pub purpose: Purpose,
    pub nonce: u64,
    /// The hash of the version that was mined (the first one unless it was replaced).
    pub tx_hash: B256,
    /// How many times the transaction was re-priced before it landed.
    pub replacements: u32,
    pub receipt: TransactionReceipt,
}

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// A blob transaction while the key has a non-blob one pending, or the reverse: geth's and
    /// reth's pools keep an account's blob and other transactions apart and refuse the second
    /// kind while the first is pending (anvil takes both). Send it once `pending` has settled, or
    /// from another key.
    #[error("the key has a {pending} transaction pending ({purpose}); real L1 pools refuse a {wanted} one beside it")]
    PoolKindConflict {
        purpose: Purpose,
        pending: &'static str,
        wanted: &'static str,
    },
    /// The candidate's deadline has passed (the next block would be mined after it): not sent.
    #[error(
        "too late: the transaction had to be mined before L1 time {deadline} (L1 is at {now})"
    )]
    DeadlinePassed { deadline: u64, now: u64 },
    #[error("a {0} transaction is already in flight")]
    PurposeBusy(Purpose),
    #[error(
        "another transaction manager for {address} on chain {chain_id} is running in this process"
    )]
    KeyInUse { address: Address, chain_id: u64 },
    #[error("the transaction would revert: {revert}")]
    WouldRevert {
        revert: Box<Revert>,
        source: Box<TransportError>,
    },
    #[error("transaction {tx_hash} reverted in block {block}: {revert}")]
    Reverted {
        tx_hash: B256,
        block: u64,
        revert: Box<Revert>,
        receipt: Box<TransactionReceipt>,
    },
    #[error(
        "the transaction at nonce {nonce} was cancelled: self-transfer {tx_hash} took its nonce"
    )]
    Cancelled { nonce: u64, tx_hash: B256 },
    #[error("nonce {nonce} was used by a transaction this manager did not send (is another sender using the key?)")]
    NonceConsumed { nonce: u64 },
    #[error("cannot price the transaction: {0}")]
    FeeCap(#[from] FeeCapError),
    #[error("the transaction at nonce {nonce} pays so close to the fee caps that no replacement can outbid it")]
    NoRoomToReplace { nonce: u64 },
    #[error("no {0} transaction in flight")]
    NotInFlight(Purpose),
    #[error("signing failed: {0}")]
    Signer(#[from] alloy::signers::Error),
    #[error("L1 RPC failed: {0}")]
    Rpc(#[from] TransportError),
    #[error("the node returned a block without a base fee (pre-London chain?)")]
    NoBaseFee,
    #[error("the transaction manager stopped before the transaction was settled")]
    Stopped,
}

/// Why a call reverted: the payload the node returned, decoded with the contract bindings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revert {
    pub data: Option<Bytes>,
    pub decoded: Option<DecodedError>,
}

impl Revert {
    pub fn from_data(data: Option<Bytes>) -> Self {
        let decoded = data
            .as_ref()
            .and_then(|d| proofline_bindings::decode_revert(d));
        Self { data, decoded }
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.decoded, &self.data) {
            (Some(decoded), _) => write!(f, "{decoded}"),
            (None, Some(data)) if !data.is_empty() => write!(f, "unknown error {data}"),
            _ => f.write_str("no revert data"),
        }
    }
}

impl TxError {
    /// The decoded revert, for `WouldRevert` and `Reverted`.
    pub fn revert(&self) -> Option<&DecodedError> {
        match self {
            Self::WouldRevert { revert, .. } | Self::Reverted { revert, .. } => {
                revert.decoded.as_ref()
            }
            _ => None,
        }
    }
}

/// What the manager did, for logs, metrics and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxEvent {
    pub purpose: Purpose,
    pub nonce: u64,
    pub kind: TxEventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxEventKind {
    Sent {
        tx_hash: B256,
        fees: Fees,
    },
    /// A version re-priced after `resubmit_after_blocks` without inclusion.
    Replaced {
        tx_hash: B256,
        replaced: B256,
        fees: Fees,
    },
    /// Stuck, but the caps leave no room for a replacement: the current version was re-sent as is.
    FeeCapReached {
        tx_hash: B256,
    },
    CancelSent {
        tx_hash: B256,
        fees: Fees,
    },
    Mined {
        tx_hash: B256,
        block: u64,
        success: bool,
    },
    NonceConsumed,
}
