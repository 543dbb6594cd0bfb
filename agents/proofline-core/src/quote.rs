//! Epoch proof quotes (SPEC 5.1, 5.3, 8): provers' signed bids to prove an epoch, and the rules
//! that decide whether a claim could use one. (The pool of valid bids a node keeps for its
//! proposers is the node's, not the protocol's.)
//!
//! Quotes reach the node over gossip (topic [`QUOTE_TOPIC`], the node's quote intake) and
//! JSON-RPC (`node_submitEpochBid`). Everything here is synchronous and pure: the
//! L1 reads validation needs are taken by the caller into a [`ValidationContext`].
//!
//! # Types and encodings
//!
//! [`EpochProofQuote`] and [`SignedEpochProofQuote`] are the Solidity structs field for field
//! (`EpochProofQuoteLib.sol`, `Signature` in `IRollup.sol`), with `From` conversions to and from
//! their `proofline_bindings::Rollup` bindings. In JSON (RPC) they use the Solidity names:
//!
//! ```json
//! {"quote": {"epochToProve": "0x7", "validUntilSlot": "0xe6", "bondAmount": "0x56bc75e2d63100000",
//!            "prover": "0x…", "basisPointFee": 250},
//!  "signature": {"v": 27, "r": "0x…32 bytes", "s": "0x…32 bytes"}}
//! ```
//!
//! Numbers of `uint256` fields are `0x` hex strings on output; decimal strings and JSON numbers
//! are accepted on input. Unknown fields are refused. On gossip a quote is its ABI encoding, as in
//! `claimEpochProofRight` calldata without the selector: [`QUOTE_WIRE_LEN`] bytes, exactly, and
//! canonical (see [`SignedEpochProofQuote::from_wire`]).
//!
//! # Digest and signature
//!
//! The EIP-712 digest ([`EpochProofQuote::digest`]) is the Rollup's `quoteToDigest`: the struct
//! hash of `EpochProofQuote(uint256 epochToProve,uint256 validUntilSlot,uint256 bondAmount,address
//! prover,uint32 basisPointFee)` under the Rollup's domain `{name: "Proofline Rollup", version:
//! "1", chainId, verifyingContract: rollup}` ([`crate::proposal::rollup_domain`]), computed by alloy's
//! `SolStruct::eip712_signing_hash` on the binding. The signer must be `quote.prover`, recovered as
//! OpenZeppelin's `ECDSA.tryRecover(digest, v, r, s)` does ([`recover_signer`]): `s` above n/2
//! (malleable) is refused, `v` must be 27 or 28, and `ecrecover`'s own failures (r or s zero, r not
//! below n, no point) count as no signer.
//!
//! # Validation ([`validate`])
//!
//! The checks of the Rollup's `_validateClaim`, in its order, so the first that fails names the
//! revert a claim with this quote would get now; two checks marked *node* are the node's own,
//! about whether a claim could ever use the quote:
//!
//! | # | check | error | the contract's revert |
//! |---|-------|-------|-----------------------|
//! | 1 | there is an epoch to prove | [`QuoteError::NoEpochToProve`] | `Rollup__NoEpochToProve` |
//! | 2 | *node*: its claim window has not ended | [`QuoteError::ClaimWindowClosed`] | `Rollup__NotInClaimPhase` |
//! | 3 | the signature recovers to `quote.prover` | [`QuoteError::InvalidSignature`] | `Rollup__InvalidQuoteSignature` |
//! | 4 | `epochToProve` is the epoch to prove | [`QuoteError::WrongEpoch`] | `Rollup__NotClaimingCorrectEpoch` |
//! | 5 | `validUntilSlot >= current slot` | [`QuoteError::Expired`] | `Rollup__QuoteExpired` |
//! | 6 | *node*: `validUntilSlot >=` the window's first slot | [`QuoteError::ExpiresBeforeClaimWindow`] | none: no claim could use it |
//! | 7 | `basisPointFee <= 10000` | [`QuoteError::FeeTooHigh`] | `Rollup__InvalidBasisPointFee` |
//! | 8 | `bondAmount >= MIN_BOND` | [`QuoteError::BondTooLow`] | `Rollup__InsufficientBondAmount` |
//! | 9 | the epoch is not claimed yet | [`QuoteError::AlreadyClaimed`] | `Rollup__ProofRightAlreadyClaimed` |
//! | 10 | `escrow.minBalanceAtTime(prover, epochStart(epoch + 2)) >= bondAmount` | [`QuoteError::InsufficientEscrow`], or [`QuoteError::EscrowUnknown`] when the context lacks that balance | `Rollup__InsufficientEscrowBalance` |
//!
//! The contract's other checks are about the claim transaction, not the quote: that it is sent
//! inside the claim window (a quote arrives before the window and waits for it) and by the slot's
//! proposer. The escrow deadline is the contract's: the bond must still be there when the proof is
//! due, at the end of the epoch after the one to prove.

use std::cmp::Reverse;
use std::collections::HashMap;

use alloy::primitives::{uint, Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::{Eip712Domain, SolStruct, SolValue};
use proofline_bindings::Rollup;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::proposal::rollup_domain;
use crate::schedule::Schedule;
use crate::time::{Epoch, Slot, Timestamp};

/// The gossipsub topic quotes travel on (SPEC 8).
pub const QUOTE_TOPIC: &str = "/proofline/epoch-proof-quotes/0.1.0";

/// Bytes of a quote on gossip: the ABI encoding of `SignedEpochProofQuote`, eight 32-byte words.
pub const QUOTE_WIRE_LEN: usize = 8 * 32;

/// The largest `basisPointFee` (the Rollup's `BPS`): the prover takes all the epoch's rewards.
pub const MAX_BASIS_POINT_FEE: u32 = 10_000;

/// The EIP-712 type of a quote (SPEC 5.1); `EpochProofQuoteLib.EPOCH_PROOF_QUOTE_TYPEHASH` hashes
/// this string.
pub const QUOTE_TYPE: &str = "EpochProofQuote(uint256 epochToProve,uint256 validUntilSlot,uint256 bondAmount,address prover,uint32 basisPointFee)";

/// The order n of secp256k1's group: `ecrecover` fails for `r` or `s` not in `(0, n)`.
pub const SECP256K1_N: U256 =
    uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

/// The largest `s` OpenZeppelin's `ECDSA.tryRecover` accepts (n / 2): each signature then has a
/// single valid encoding.
pub const SECP256K1_HALF_N: U256 =
    uint!(0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0_U256);

/// A prover's offer to prove one epoch (`EpochProofQuote` in `EpochProofQuoteLib.sol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EpochProofQuote {
    pub epoch_to_prove: U256,
    /// The last slot a claim may use the quote in.
    pub valid_until_slot: U256,
    /// What the prover stakes from its escrow, slashed if the proof does not come.
    pub bond_amount: U256,
    /// Who signs the quote and provides the bond.
    pub prover: Address,
    /// The prover's share of the epoch's rewards, in basis points (0..=10000).
    pub basis_point_fee: u32,
}

/// An ECDSA signature as the contract's `Signature` struct takes it: `v` is 27 or 28.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteSignature {
    pub v: u8,
    pub r: B256,
    pub s: B256,
}

/// A quote and its prover's signature (`SignedEpochProofQuote`), what `claimEpochProofRight`
/// takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEpochProofQuote {
    pub quote: EpochProofQuote,
    pub signature: QuoteSignature,
}

impl EpochProofQuote {
    /// `EpochProofQuoteLib.structHash(quote)`.
    pub fn struct_hash(&self) -> B256 {
        Rollup::EpochProofQuote::from(*self).eip712_hash_struct()
    }

    /// `Rollup.quoteToDigest(quote)` for the Rollup at `domain`: what the prover signs.
    pub fn digest(&self, domain: &Eip712Domain) -> B256 {
        Rollup::EpochProofQuote::from(*self).eip712_signing_hash(domain)
    }
}

impl From<EpochProofQuote> for Rollup::EpochProofQuote {
    fn from(q: EpochProofQuote) -> Self {
        Self {
            epochToProve: q.epoch_to_prove,
            validUntilSlot: q.valid_until_slot,
            bondAmount: q.bond_amount,
            prover: q.prover,
            basisPointFee: q.basis_point_fee,
        }
    }
}

impl From<Rollup::EpochProofQuote> for EpochProofQuote {
    fn from(q: Rollup::EpochProofQuote) -> Self {
        Self {
            epoch_to_prove: q.epochToProve,
            valid_until_slot: q.validUntilSlot,
            bond_amount: q.bondAmount,
            prover: q.prover,
            basis_point_fee: q.basisPointFee,
        }
    }
}

impl From<QuoteSignature> for Rollup::Signature {
    fn from(s: QuoteSignature) -> Self {
        Self {
            v: s.v,
            r: s.r,
            s: s.s,
        }
    }
}

impl From<Rollup::Signature> for QuoteSignature {
    fn from(s: Rollup::Signature) -> Self {
        Self {
            v: s.v,
            r: s.r,
            s: s.s,
        }
    }
}

impl From<alloy::primitives::Signature> for QuoteSignature {
    fn from(sig: alloy::primitives::Signature) -> Self {
        Self {
            v: 27 + u8::from(sig.v()),
            r: sig.r().into(),
            s: sig.s().into(),
        }
    }
}

impl From<SignedEpochProofQuote> for Rollup::SignedEpochProofQuote {
    fn from(q: SignedEpochProofQuote) -> Self {
        Self {
            quote: q.quote.into(),
            signature: q.signature.into(),
        }
    }
}

impl From<Rollup::SignedEpochProofQuote> for SignedEpochProofQuote {
    fn from(q: Rollup::SignedEpochProofQuote) -> Self {
        Self {
            quote: q.quote.into(),
            signature: q.signature.into(),
        }
    }
}

/// Why a gossip message is not a quote.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("a quote is {QUOTE_WIRE_LEN} bytes, got {0}")]
    Length(usize),
    #[error("not an ABI-encoded SignedEpochProofQuote: {0}")]
    Abi(String),
    /// A field word has bits its type does not use (e.g. a `uint8 v` above 255): the same quote
    /// could travel under many encodings, each a different gossip message.
    #[error("not the canonical ABI encoding (dirty padding)")]
    NotCanonical,
}

impl SignedEpochProofQuote {
    /// The quote's digest under `domain` (`Rollup.quoteToDigest`).
    pub fn digest(&self, domain: &Eip712Domain) -> B256 {
        self.quote.digest(domain)
    }

    /// Who signed the quote under `domain`, as `ECDSA.tryRecover` finds it ([`recover_signer`]).
    pub fn recover(&self, domain: &Eip712Domain) -> Result<Address, SignatureProblem> {
        recover_signer(self.digest(domain), &self.signature)
    }

    /// The gossip encoding: `abi.encode(signedQuote)`, [`QUOTE_WIRE_LEN`] bytes.
    pub fn to_wire(&self) -> Vec<u8> {
        Rollup::SignedEpochProofQuote::from(*self).abi_encode()
    }

    /// Decodes [`Self::to_wire`]'s output. Anything else is refused: another length, or an
    /// encoding with dirty padding, so each quote has exactly one gossip encoding.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() != QUOTE_WIRE_LEN {
            return Err(WireError::Length(bytes.len()));
        }
        let decoded = Rollup::SignedEpochProofQuote::abi_decode(bytes)
            .map_err(|e| WireError::Abi(e.to_string()))?;
        let quote = Self::from(decoded);
        if quote.to_wire() != bytes {
            return Err(WireError::NotCanonical);
        }
        Ok(quote)
    }
}

/// Signs `quote` for the Rollup at `domain` with the prover's key. The quote's `prover` should be
/// `signer.address()`, or the quote will not validate.
pub fn sign_quote(
    signer: &PrivateKeySigner,
    domain: &Eip712Domain,
    quote: EpochProofQuote,
) -> Result<SignedEpochProofQuote, alloy::signers::Error> {
    let sig = signer.sign_hash_sync(&quote.digest(domain))?;
    Ok(SignedEpochProofQuote {
        quote,
        signature: sig.into(),
    })
}

/// Why a signature names no signer, as `ECDSA.tryRecover` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SignatureProblem {
    /// `s > n / 2`: OpenZeppelin's `InvalidSignatureS`.
    #[error("s is in the upper half of the curve order (malleable signature)")]
    HighS,
    /// `ecrecover` takes only 27 and 28.
    #[error("v is {0}, not 27 or 28")]
    InvalidV(u8),
    /// `ecrecover` returns no address: r or s zero, r not below n, or no curve point for r.
    #[error("no signer can be recovered")]
    Unrecoverable,
}

/// The signer of `digest`, recovered exactly as OpenZeppelin's `ECDSA.tryRecover(digest, v, r, s)`
/// over the `ecrecover` precompile does: an `Err` wherever it reports an error.
pub fn recover_signer(digest: B256, sig: &QuoteSignature) -> Result<Address, SignatureProblem> {
    let s = U256::from_be_bytes(sig.s.0);
    if s > SECP256K1_HALF_N {
        return Err(SignatureProblem::HighS);
    }
    let y_parity = match sig.v {
        27 => false,
        28 => true,
        v => return Err(SignatureProblem::InvalidV(v)),
    };
    let r = U256::from_be_bytes(sig.r.0);
    if r.is_zero() || r >= SECP256K1_N || s.is_zero() {
        return Err(SignatureProblem::Unrecoverable);
    }
    alloy::primitives::Signature::new(r, s, y_parity)
        .recover_address_from_prehash(&digest)
        .map_err(|_| SignatureProblem::Unrecoverable)
}

/// What validation needs from L1 and the clock, as the caller last read it: a snapshot, so
/// [`validate`] is a pure function. [`ValidationContext::new`] fills the derived fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationContext {
    /// The domain's chain id.
    pub chain_id: u64,
    /// The Rollup: the domain's verifying contract.
    pub rollup: Address,
    pub current_slot: Slot,
    /// `Rollup.getEpochToProve()`; `None` when the pending chain has nothing unproven.
    pub epoch_to_prove: Option<Epoch>,
    /// First slot of the epoch to prove's claim window (the first slot of the next epoch).
    pub claim_window_start: Slot,
    /// First slot after that window (`claim_window_start + PROOF_CLAIM_WINDOW`).
    pub claim_window_end: Slot,
    /// `Rollup.MIN_BOND()`.
    pub min_bond: U256,
    /// Whether `Rollup.getProofClaim(epoch)` names a bond provider.
    pub claimed: bool,
    /// The timestamp the contract checks escrow at: `epochStart(epoch + 2)`.
    pub escrow_deadline: Timestamp,
    /// `ProverEscrow.minBalanceAtTime(prover, escrow_deadline)` of the provers the caller looked up.
    pub escrow: HashMap<Address, U256>,
}

impl ValidationContext {
    /// A context for `epoch_to_prove` with the claim window and escrow deadline the deployment's
    /// [`Schedule`] gives (as `TimeLib` does), and no escrow balance yet. Saturates instead of
    /// overflowing (an epoch near `u64::MAX` has a window that never ends).
    pub fn new(
        chain_id: u64,
        rollup: Address,
        schedule: &Schedule,
        current_slot: Slot,
        epoch_to_prove: Option<Epoch>,
        min_bond: U256,
        claimed: bool,
    ) -> Self {
        let epoch = epoch_to_prove.unwrap_or_default();
        let window = schedule.claim_window(epoch);
        Self {
            chain_id,
            rollup,
            current_slot,
            epoch_to_prove,
            claim_window_start: window.start,
            claim_window_end: window.end,
            min_bond,
            claimed,
            // `_validateClaim`: the bond must still be there at the end of the next epoch.
            escrow_deadline: schedule.escrow_deadline(epoch),
            escrow: HashMap::new(),
        }
    }

    /// The Rollup's EIP-712 domain.
    pub fn domain(&self) -> Eip712Domain {
        rollup_domain(self.chain_id, self.rollup)
    }

    /// Whether `other` describes the same claim (epoch, deadline, deployment), so escrow balances
    /// looked up for one hold for the other.
    pub fn same_claim(&self, other: &Self) -> bool {
        self.chain_id == other.chain_id
            && self.rollup == other.rollup
            && self.epoch_to_prove == other.epoch_to_prove
            && self.escrow_deadline == other.escrow_deadline
    }
}

/// Why a quote is refused, by validation or by the pool. Each variant has its own RPC error code
/// (the node's `quote_error_code`) and metrics label ([`QuoteError::reason`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuoteError {
    /// The gossip bytes are not a quote.
    #[error("malformed quote: {0}")]
    Malformed(#[from] WireError),
    /// The source sent more quotes than its rate allows.
    #[error("too many quotes from this source; retry later")]
    RateLimited,
    /// The node has not read the Rollup's state yet.
    #[error("the node has not read the Rollup's state yet; retry later")]
    NotReady,
    #[error("no epoch to prove: every pending block is proven")]
    NoEpochToProve,
    #[error("the claim window of epoch {epoch} ended at slot {window_end} (current slot {current_slot})")]
    ClaimWindowClosed {
        epoch: Epoch,
        window_end: Slot,
        current_slot: Slot,
    },
    #[error("the signature is not the prover's ({prover}): {}", signature_detail(.recovered, .problem))]
    InvalidSignature {
        prover: Address,
        /// Who did sign, when someone did.
        recovered: Option<Address>,
        /// Why no one did, otherwise.
        problem: Option<SignatureProblem>,
    },
    #[error("the quote is for epoch {got}; the epoch to prove is {expected}")]
    WrongEpoch { expected: Epoch, got: U256 },
    #[error("the quote expired at slot {valid_until_slot} (current slot {current_slot})")]
    Expired {
        valid_until_slot: U256,
        current_slot: Slot,
    },
    #[error("the quote expires at slot {valid_until_slot}, before the claim window opens at slot {claim_window_start}")]
    ExpiresBeforeClaimWindow {
        valid_until_slot: U256,
        claim_window_start: Slot,
    },
    #[error("basisPointFee {basis_point_fee} is above {MAX_BASIS_POINT_FEE}")]
    FeeTooHigh { basis_point_fee: u32 },
    #[error("bond {bond_amount} is below the minimum bond {min_bond}")]
    BondTooLow { bond_amount: U256, min_bond: U256 },
    #[error("the proof right of epoch {epoch} is already claimed")]
    AlreadyClaimed { epoch: Epoch },
    #[error("the prover's escrow holds {available} for sure at {deadline}, less than the bond {bond_amount}")]
    InsufficientEscrow {
        bond_amount: U256,
        available: U256,
        deadline: Timestamp,
    },
    /// The context has no escrow balance for the prover: the caller looks it up and validates again.
    #[error("the escrow balance of {prover} at {deadline} has not been read")]
    EscrowUnknown {
        prover: Address,
        deadline: Timestamp,
    },
    /// Reading the prover's escrow balance from L1 failed.
    #[error("cannot read the prover's escrow balance from L1: {0}")]
    L1Unavailable(String),
    #[error("the quote {digest} is already pooled")]
    AlreadyKnown { digest: B256 },
    #[error("the prover's pooled quote {kept} for this epoch ranks at least as well")]
    NotBetter { kept: B256 },
    #[error("the quote pool is full ({max} quotes) and this one ranks below all of them")]
    PoolFull { max: usize },
    /// Not pooled yet, not refused: the quote is for the epoch after the epoch to prove, which
    /// its prover saw a block before this node. A node's intake policy, not a validation rule:
    /// the node holds it, pools it and gossips it once its epoch is the epoch to prove.
    #[error("held: the quote is for epoch {got}, the one after the epoch to prove ({expected}); it is pooled and gossiped once {got} is the epoch to prove")]
    Held { expected: Epoch, got: Epoch },
}

fn signature_detail(recovered: &Option<Address>, problem: &Option<SignatureProblem>) -> String {
    match (recovered, problem) {
        (Some(signer), _) => format!("it recovers to {signer}"),
        (None, Some(problem)) => problem.to_string(),
        (None, None) => "no signer".to_owned(),
    }
}

impl QuoteError {
    /// The metrics label: stable, snake case, one per variant.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::RateLimited => "rate_limited",
            Self::NotReady => "not_ready",
            Self::NoEpochToProve => "no_epoch_to_prove",
            Self::ClaimWindowClosed { .. } => "claim_window_closed",
            Self::InvalidSignature { .. } => "invalid_signature",
            Self::WrongEpoch { .. } => "wrong_epoch",
            Self::Expired { .. } => "expired",
            Self::ExpiresBeforeClaimWindow { .. } => "expires_before_claim_window",
            Self::FeeTooHigh { .. } => "fee_too_high",
            Self::BondTooLow { .. } => "bond_too_low",
            Self::AlreadyClaimed { .. } => "already_claimed",
            Self::InsufficientEscrow { .. } => "insufficient_escrow",
            Self::EscrowUnknown { .. } => "escrow_unknown",
            Self::L1Unavailable(_) => "l1_unavailable",
            Self::AlreadyKnown { .. } => "already_known",
            Self::NotBetter { .. } => "not_better",
            Self::PoolFull { .. } => "pool_full",
            Self::Held { .. } => "held",
        }
    }

    /// Whether the quote is wrong whatever the chain's state and the clock: badly encoded, not the
    /// prover's signature, a fee or bond no claim can ever take. A gossip peer that forwards such
    /// a quote did not validate it and is penalised; other refusals depend on a view of L1 or of
    /// time that peers may not share exactly, and are only not forwarded.
    pub fn is_objective(&self) -> bool {
        matches!(
            self,
            Self::Malformed(_)
                | Self::InvalidSignature { .. }
                | Self::FeeTooHigh { .. }
                | Self::BondTooLow { .. }
        )
    }
}

/// A quote that passed [`validate`], with its digest; only [`validate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidQuote {
    signed: SignedEpochProofQuote,
    digest: B256,
    epoch: Epoch,
}

impl ValidQuote {
    pub fn signed(&self) -> &SignedEpochProofQuote {
        &self.signed
    }

    pub fn quote(&self) -> &EpochProofQuote {
        &self.signed.quote
    }

    /// `Rollup.quoteToDigest(quote)`.
    pub fn digest(&self) -> B256 {
        self.digest
    }

    /// The epoch to prove it was validated for (its `epochToProve`).
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    pub fn prover(&self) -> Address {
        self.signed.quote.prover
    }

    pub fn rank(&self) -> QuoteRank {
        QuoteRank {
            basis_point_fee: self.signed.quote.basis_point_fee,
            bond_amount: Reverse(self.signed.quote.bond_amount),
            valid_until_slot: Reverse(self.signed.quote.valid_until_slot),
            digest: self.digest,
        }
    }
}

/// Where a quote stands among the bids for its epoch: smaller is better for the proposers (module
/// doc, The pool). Distinct quotes have distinct ranks (the digest is part of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuoteRank {
    pub basis_point_fee: u32,
    pub bond_amount: Reverse<U256>,
    pub valid_until_slot: Reverse<U256>,
    pub digest: B256,
}

/// Checks 1 and 2 of the module doc's table: the epoch to prove, if its claim window is still
/// to come or open.
fn check_window(ctx: &ValidationContext) -> Result<Epoch, QuoteError> {
    let epoch = ctx.epoch_to_prove.ok_or(QuoteError::NoEpochToProve)?;
    if ctx.current_slot >= ctx.claim_window_end {
        return Err(QuoteError::ClaimWindowClosed {
            epoch,
            window_end: ctx.claim_window_end,
            current_slot: ctx.current_slot,
        });
    }
    Ok(epoch)
}

/// Checks 4 to 10 of the module doc's table: everything about the quote but its signature.
fn check_terms(
    quote: &EpochProofQuote,
    epoch: Epoch,
    ctx: &ValidationContext,
) -> Result<(), QuoteError> {
    if quote.epoch_to_prove != U256::from(epoch.0) {
        return Err(QuoteError::WrongEpoch {
            expected: epoch,
            got: quote.epoch_to_prove,
        });
    }
    if quote.valid_until_slot < U256::from(ctx.current_slot.0) {
        return Err(QuoteError::Expired {
            valid_until_slot: quote.valid_until_slot,
            current_slot: ctx.current_slot,
        });
    }
    if quote.valid_until_slot < U256::from(ctx.claim_window_start.0) {
        return Err(QuoteError::ExpiresBeforeClaimWindow {
            valid_until_slot: quote.valid_until_slot,
            claim_window_start: ctx.claim_window_start,
        });
    }
    if quote.basis_point_fee > MAX_BASIS_POINT_FEE {
        return Err(QuoteError::FeeTooHigh {
            basis_point_fee: quote.basis_point_fee,
        });
    }
    if quote.bond_amount < ctx.min_bond {
        return Err(QuoteError::BondTooLow {
            bond_amount: quote.bond_amount,
            min_bond: ctx.min_bond,
        });
    }
    if ctx.claimed {
        return Err(QuoteError::AlreadyClaimed { epoch });
    }
    let available = ctx
        .escrow
        .get(&quote.prover)
        .ok_or(QuoteError::EscrowUnknown {
            prover: quote.prover,
            deadline: ctx.escrow_deadline,
        })?;
    if *available < quote.bond_amount {
        return Err(QuoteError::InsufficientEscrow {
            bond_amount: quote.bond_amount,
            available: *available,
            deadline: ctx.escrow_deadline,
        });
    }
    Ok(())
}

/// Whether a claim with `signed` would pass the Rollup's checks in the state `ctx` describes, and
/// whether a claim window could still use it (module doc, Validation). The signature recovery is
/// most of the cost (tens of microseconds).
pub fn validate(
    signed: &SignedEpochProofQuote,
    ctx: &ValidationContext,
) -> Result<ValidQuote, QuoteError> {
    let epoch = check_window(ctx)?;
    let digest = signed.digest(&ctx.domain());
    let prover = signed.quote.prover;
    match recover_signer(digest, &signed.signature) {
        Ok(signer) if signer == prover => {}
        Ok(signer) => {
            return Err(QuoteError::InvalidSignature {
                prover,
                recovered: Some(signer),
                problem: None,
            })
        }
        Err(problem) => {
            return Err(QuoteError::InvalidSignature {
                prover,
                recovered: None,
                problem: Some(problem),
            })
        }
    }
    check_terms(&signed.quote, epoch, ctx)?;
    Ok(ValidQuote {
        signed: *signed,
        digest,
        epoch,
    })
}

/// [`validate`] again for a quote that already passed it, against a newer context of the same
/// deployment: the signature is not checked again (it cannot change).
pub fn revalidate(quote: &ValidQuote, ctx: &ValidationContext) -> Result<(), QuoteError> {
    let epoch = check_window(ctx)?;
    check_terms(quote.quote(), epoch, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{TimeConfig, Timestamp};
    use alloy::primitives::{address, b256, keccak256};
    use proptest::prelude::*;
    use std::collections::HashSet;

    const CHAIN_ID: u64 = 31337;
    const ROLLUP: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const EPOCH: u64 = 7;
    const MIN_BOND: u64 = 1_000;

    fn key(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
    }

    fn time() -> TimeConfig {
        TimeConfig::new(Timestamp(1_700_000_000), 12, 32).unwrap()
    }

    /// Epoch 7 to prove, at slot 240 (epoch 7's slot 16): its window is slots 256..269.
    fn ctx() -> ValidationContext {
        let mut ctx = ValidationContext::new(
            CHAIN_ID,
            ROLLUP,
            &Schedule::new(time(), 13),
            Slot(240),
            Some(Epoch(EPOCH)),
            U256::from(MIN_BOND),
            false,
        );
        for i in 1..=20 {
            ctx.escrow.insert(key(i).address(), U256::from(1_000_000));
        }
        ctx
    }

    fn quote_by(signer: &PrivateKeySigner, fee: u32, bond: u64) -> EpochProofQuote {
        EpochProofQuote {
            epoch_to_prove: U256::from(EPOCH),
            valid_until_slot: U256::from(268),
            bond_amount: U256::from(bond),
            prover: signer.address(),
            basis_point_fee: fee,
        }
    }

    fn signed(signer: &PrivateKeySigner, quote: EpochProofQuote) -> SignedEpochProofQuote {
        sign_quote(signer, &ctx().domain(), quote).unwrap()
    }

    #[test]
    fn the_contexts_derived_fields_follow_the_contract() {
        let c = ctx();
        assert_eq!(c.claim_window_start, Slot(8 * 32));
        assert_eq!(c.claim_window_end, Slot(8 * 32 + 13));
        // TimeLib.epochStart(epoch + 2).
        assert_eq!(
            c.escrow_deadline,
            time().epoch_start(Epoch(EPOCH + 2)).unwrap()
        );
    }

    #[test]
    fn a_quote_signed_by_its_prover_validates() {
        let k = key(1);
        let s = signed(&k, quote_by(&k, 250, 5_000));
        let v = validate(&s, &ctx()).unwrap();
        assert_eq!(v.digest(), s.digest(&ctx().domain()));
        assert_eq!(v.prover(), k.address());
        assert_eq!(v.epoch(), Epoch(EPOCH));
        assert_eq!(s.recover(&ctx().domain()), Ok(k.address()));
        // alloy's signer gives the low-s, v ∈ {27, 28} form the contract takes.
        assert!(U256::from_be_bytes(s.signature.s.0) <= SECP256K1_HALF_N);
        assert!(matches!(s.signature.v, 27 | 28));
        // Boundaries that pass: valid until the window's first slot, fee 10000, bond == min,
        // escrow == bond, current slot == validUntilSlot.
        let mut q = quote_by(&k, MAX_BASIS_POINT_FEE, MIN_BOND);
        q.valid_until_slot = U256::from(256);
        let mut c = ctx();
        c.escrow.insert(k.address(), U256::from(MIN_BOND));
        validate(&signed(&k, q), &c).unwrap();
        c.current_slot = Slot(256);
        validate(&signed(&k, q), &c).unwrap();
    }

    fn refusal(s: &SignedEpochProofQuote, c: &ValidationContext) -> QuoteError {
        validate(s, c).expect_err("refused")
    }

    #[test]
    fn no_epoch_to_prove_and_a_closed_window_are_refused() {
        let k = key(1);
        let s = signed(&k, quote_by(&k, 0, MIN_BOND));
        let mut c = ctx();
        c.epoch_to_prove = None;
        assert_eq!(refusal(&s, &c), QuoteError::NoEpochToProve);
        let mut c = ctx();
        c.current_slot = c.claim_window_end;
        assert_eq!(
            refusal(&s, &c),
            QuoteError::ClaimWindowClosed {
                epoch: Epoch(EPOCH),
                window_end: Slot(269),
                current_slot: Slot(269)
            }
        );
        // The last slot of the window still takes quotes valid until then.
        c.current_slot = Slot(268);
        validate(&s, &c).unwrap();
    }

    #[test]
    fn another_signer_is_refused_with_who_signed() {
        let (k, other) = (key(1), key(2));
        let s = signed(&other, quote_by(&k, 0, MIN_BOND));
        assert_eq!(
            refusal(&s, &ctx()),
            QuoteError::InvalidSignature {
                prover: k.address(),
                recovered: Some(other.address()),
                problem: None
            }
        );
    }

    #[test]
    fn a_signature_for_another_chain_or_rollup_is_refused() {
        let k = key(1);
        let q = quote_by(&k, 0, MIN_BOND);
        for domain in [
            rollup_domain(CHAIN_ID + 1, ROLLUP),
            rollup_domain(CHAIN_ID, Address::repeat_byte(0x42)),
        ] {
            let s = sign_quote(&k, &domain, q).unwrap();
            assert_eq!(s.recover(&domain), Ok(k.address()));
            match refusal(&s, &ctx()) {
                QuoteError::InvalidSignature {
                    prover,
                    recovered: Some(r),
                    problem: None,
                } => {
                    assert_eq!(prover, k.address());
                    assert_ne!(r, k.address());
                }
                e => panic!("expected InvalidSignature, got {e:?}"),
            }
        }
    }

    #[test]
    fn malleable_and_malformed_signatures_are_refused_as_tryrecover_does() {
        let k = key(1);
        let good = signed(&k, quote_by(&k, 0, MIN_BOND));
        let problem = |s: &SignedEpochProofQuote| match refusal(s, &ctx()) {
            QuoteError::InvalidSignature {
                recovered: None,
                problem: Some(p),
                ..
            } => p,
            e => panic!("expected a signature problem, got {e:?}"),
        };
        // The high-s twin of a valid signature recovers the same key with alloy's normalising
        // recovery, but OpenZeppelin refuses it.
        let mut high = good;
        let s = U256::from_be_bytes(good.signature.s.0);
        high.signature.s = (SECP256K1_N - s).into();
        high.signature.v = if good.signature.v == 27 { 28 } else { 27 };
        assert_eq!(problem(&high), SignatureProblem::HighS);
        // Exactly n/2 is still accepted by the bound; n/2 + 1 is not.
        let mut edge = good;
        edge.signature.s = (SECP256K1_HALF_N + U256::from(1)).into();
        assert_eq!(problem(&edge), SignatureProblem::HighS);
        for v in [0u8, 1, 26, 29, 255] {
            let mut bad = good;
            bad.signature.v = v;
            assert_eq!(problem(&bad), SignatureProblem::InvalidV(v));
        }
        let mut zero_r = good;
        zero_r.signature.r = B256::ZERO;
        assert_eq!(problem(&zero_r), SignatureProblem::Unrecoverable);
        let mut zero_s = good;
        zero_s.signature.s = B256::ZERO;
        assert_eq!(problem(&zero_s), SignatureProblem::Unrecoverable);
        let mut big_r = good;
        big_r.signature.r = SECP256K1_N.into();
        assert_eq!(problem(&big_r), SignatureProblem::Unrecoverable);
        // r = 5 is no curve point's x coordinate (5^3 + 7 = 132 is not a square mod p).
        let mut no_point = good;
        no_point.signature.r = U256::from(5).into();
        assert_eq!(problem(&no_point), SignatureProblem::Unrecoverable);
    }

    #[test]
    fn a_quote_for_another_epoch_is_refused() {
        let k = key(1);
        for got in [EPOCH - 1, EPOCH + 1] {
            let mut q = quote_by(&k, 0, MIN_BOND);
            q.epoch_to_prove = U256::from(got);
            assert_eq!(
                refusal(&signed(&k, q), &ctx()),
                QuoteError::WrongEpoch {
                    expected: Epoch(EPOCH),
                    got: U256::from(got)
                }
            );
        }
    }

    #[test]
    fn expired_quotes_and_quotes_the_window_cannot_use_are_refused() {
        let k = key(1);
        let mut q = quote_by(&k, 0, MIN_BOND);
        q.valid_until_slot = U256::from(239);
        assert_eq!(
            refusal(&signed(&k, q), &ctx()),
            QuoteError::Expired {
                valid_until_slot: U256::from(239),
                current_slot: Slot(240)
            }
        );
        q.valid_until_slot = U256::from(255);
        assert_eq!(
            refusal(&signed(&k, q), &ctx()),
            QuoteError::ExpiresBeforeClaimWindow {
                valid_until_slot: U256::from(255),
                claim_window_start: Slot(256)
            }
        );
        // Inside the window, the contract's own check is what refuses.
        let mut c = ctx();
        c.current_slot = Slot(260);
        q.valid_until_slot = U256::from(259);
        assert_eq!(
            refusal(&signed(&k, q), &c),
            QuoteError::Expired {
                valid_until_slot: U256::from(259),
                current_slot: Slot(260)
            }
        );
    }

    #[test]
    fn fee_bond_claim_and_escrow_refusals() {
        let k = key(1);
        let s = signed(&k, quote_by(&k, MAX_BASIS_POINT_FEE + 1, MIN_BOND));
        assert_eq!(
            refusal(&s, &ctx()),
            QuoteError::FeeTooHigh {
                basis_point_fee: 10_001
            }
        );
        let s = signed(&k, quote_by(&k, 0, MIN_BOND - 1));
        assert_eq!(
            refusal(&s, &ctx()),
            QuoteError::BondTooLow {
                bond_amount: U256::from(MIN_BOND - 1),
                min_bond: U256::from(MIN_BOND)
            }
        );
        let s = signed(&k, quote_by(&k, 0, 5_000));
        let mut c = ctx();
        c.claimed = true;
        assert_eq!(
            refusal(&s, &c),
            QuoteError::AlreadyClaimed {
                epoch: Epoch(EPOCH)
            }
        );
        let mut c = ctx();
        c.escrow.insert(k.address(), U256::from(4_999));
        assert_eq!(
            refusal(&s, &c),
            QuoteError::InsufficientEscrow {
                bond_amount: U256::from(5_000),
                available: U256::from(4_999),
                deadline: c.escrow_deadline
            }
        );
        c.escrow.remove(&k.address());
        assert_eq!(
            refusal(&s, &c),
            QuoteError::EscrowUnknown {
                prover: k.address(),
                deadline: c.escrow_deadline
            }
        );
    }

    #[test]
    fn the_first_failing_check_is_the_contracts_first() {
        // Wrong signer and wrong epoch: the signature is checked first, as in _validateClaim.
        let (k, other) = (key(1), key(2));
        let mut q = quote_by(&k, MAX_BASIS_POINT_FEE + 1, 0);
        q.epoch_to_prove = U256::from(EPOCH + 1);
        let e = refusal(&signed(&other, q), &ctx());
        assert_eq!(e.reason(), "invalid_signature");
        assert_eq!(refusal(&signed(&k, q), &ctx()).reason(), "wrong_epoch");
        q.epoch_to_prove = U256::from(EPOCH);
        assert_eq!(refusal(&signed(&k, q), &ctx()).reason(), "fee_too_high");
    }

    #[test]
    fn each_refusal_has_its_own_reason() {
        let errors = [
            QuoteError::Malformed(WireError::Length(1)),
            QuoteError::RateLimited,
            QuoteError::NotReady,
            QuoteError::NoEpochToProve,
            QuoteError::ClaimWindowClosed {
                epoch: Epoch(0),
                window_end: Slot(0),
                current_slot: Slot(0),
            },
            QuoteError::InvalidSignature {
                prover: Address::ZERO,
                recovered: None,
                problem: None,
            },
            QuoteError::WrongEpoch {
                expected: Epoch(0),
                got: U256::ZERO,
            },
            QuoteError::Expired {
                valid_until_slot: U256::ZERO,
                current_slot: Slot(0),
            },
            QuoteError::ExpiresBeforeClaimWindow {
                valid_until_slot: U256::ZERO,
                claim_window_start: Slot(0),
            },
            QuoteError::FeeTooHigh { basis_point_fee: 0 },
            QuoteError::BondTooLow {
                bond_amount: U256::ZERO,
                min_bond: U256::ZERO,
            },
            QuoteError::AlreadyClaimed { epoch: Epoch(0) },
            QuoteError::InsufficientEscrow {
                bond_amount: U256::ZERO,
                available: U256::ZERO,
                deadline: Timestamp(0),
            },
            QuoteError::EscrowUnknown {
                prover: Address::ZERO,
                deadline: Timestamp(0),
            },
            QuoteError::L1Unavailable(String::new()),
            QuoteError::AlreadyKnown { digest: B256::ZERO },
            QuoteError::NotBetter { kept: B256::ZERO },
            QuoteError::PoolFull { max: 0 },
            QuoteError::Held {
                expected: Epoch(1),
                got: Epoch(2),
            },
        ];
        let reasons: HashSet<&str> = errors.iter().map(QuoteError::reason).collect();
        assert_eq!(reasons.len(), errors.len());
    }

    #[test]
    fn json_uses_the_solidity_names() {
        let k = key(1);
        let s = signed(&k, quote_by(&k, 250, 5_000));
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["quote"]["epochToProve"], "0x7");
        assert_eq!(json["quote"]["validUntilSlot"], "0x10c");
        assert_eq!(json["quote"]["bondAmount"], "0x1388");
        assert_eq!(json["quote"]["prover"], serde_json::json!(k.address()));
        assert_eq!(json["quote"]["basisPointFee"], 250);
        assert_eq!(json["signature"]["v"], s.signature.v);
        assert_eq!(json["signature"]["r"], serde_json::json!(s.signature.r));
        assert_eq!(json["signature"]["s"], serde_json::json!(s.signature.s));
        assert_eq!(
            serde_json::from_value::<SignedEpochProofQuote>(json.clone()).unwrap(),
            s
        );
        // Decimal strings and numbers are taken for uint256 fields.
        let mut dec = json.clone();
        dec["quote"]["epochToProve"] = "7".into();
        dec["quote"]["bondAmount"] = 5000.into();
        assert_eq!(
            serde_json::from_value::<SignedEpochProofQuote>(dec).unwrap(),
            s
        );
        // Unknown or missing fields, and out-of-range numbers, are refused.
        let mut extra = json.clone();
        extra["quote"]["tip"] = 1.into();
        assert!(serde_json::from_value::<SignedEpochProofQuote>(extra).is_err());
        let mut missing = json.clone();
        missing["signature"].as_object_mut().unwrap().remove("v");
        assert!(serde_json::from_value::<SignedEpochProofQuote>(missing).is_err());
        let mut big_v = json;
        big_v["signature"]["v"] = 256.into();
        assert!(serde_json::from_value::<SignedEpochProofQuote>(big_v).is_err());
    }

    #[test]
    fn bindings_round_trip() {
        let k = key(3);
        let s = signed(&k, quote_by(&k, 1, 2));
        let b = Rollup::SignedEpochProofQuote::from(s);
        assert_eq!(b.quote.prover, k.address());
        assert_eq!(b.signature.v, s.signature.v);
        assert_eq!(SignedEpochProofQuote::from(b.clone()), s);
        // claimEpochProofRight's calldata is the selector and the wire encoding.
        let call = Rollup::claimEpochProofRightCall { quote: b };
        use alloy::sol_types::SolCall;
        assert_eq!(call.abi_encode()[4..], s.to_wire()[..]);
    }

    #[test]
    fn wire_encoding_round_trips_and_refuses_everything_else() {
        let k = key(1);
        let s = signed(&k, quote_by(&k, 250, 5_000));
        let wire = s.to_wire();
        assert_eq!(wire.len(), QUOTE_WIRE_LEN);
        assert_eq!(SignedEpochProofQuote::from_wire(&wire), Ok(s));
        assert_eq!(
            SignedEpochProofQuote::from_wire(&wire[..255]),
            Err(WireError::Length(255))
        );
        let mut long = wire.clone();
        long.push(0);
        assert_eq!(
            SignedEpochProofQuote::from_wire(&long),
            Err(WireError::Length(257))
        );
        // Dirty padding in the uint32 fee word (word 4) and the uint8 v word (word 5).
        for at in [4 * 32, 5 * 32, 3 * 32] {
            let mut dirty = wire.clone();
            dirty[at] = 1;
            assert!(
                SignedEpochProofQuote::from_wire(&dirty).is_err(),
                "byte {at}"
            );
        }
    }

    /// The typehash, domain separator, struct hash and digest derived by hand from EIP-712 (no
    /// `SolStruct`), for a fixed quote under the domain `test/vectors/ProposalVector.t.sol`
    /// recorded from the deployed contract (`test-vectors/proposal.json`): the domain separator
    /// there is the contract's own.
    #[test]
    fn digest_matches_a_hand_derived_eip712_encoding() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../test-vectors/proposal.json");
        let vector: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let chain_id: u64 = vector["chainId"].as_str().unwrap().parse().unwrap();
        let rollup: Address = vector["rollup"].as_str().unwrap().parse().unwrap();
        let contract_separator: B256 = vector["domainSeparator"].as_str().unwrap().parse().unwrap();

        let word = |v: U256| B256::from(v).0;
        let domain_type = keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        );
        let mut enc = Vec::new();
        enc.extend_from_slice(domain_type.as_slice());
        enc.extend_from_slice(keccak256("Proofline Rollup").as_slice());
        enc.extend_from_slice(keccak256("1").as_slice());
        enc.extend_from_slice(&word(U256::from(chain_id)));
        enc.extend_from_slice(&word(U256::from_be_slice(rollup.as_slice())));
        let separator = keccak256(&enc);
        assert_eq!(separator, contract_separator, "domain separator");

        let quote = EpochProofQuote {
            epoch_to_prove: U256::from(123_456),
            valid_until_slot: U256::from(3_950_624),
            bond_amount: U256::from(10u128.pow(20)),
            prover: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            basis_point_fee: 4_321,
        };
        let typehash = keccak256(QUOTE_TYPE);
        let mut enc = Vec::new();
        enc.extend_from_slice(typehash.as_slice());
        enc.extend_from_slice(&word(quote.epoch_to_prove));
        enc.extend_from_slice(&word(quote.valid_until_slot));
        enc.extend_from_slice(&word(quote.bond_amount));
        enc.extend_from_slice(&word(U256::from_be_slice(quote.prover.as_slice())));
        enc.extend_from_slice(&word(U256::from(quote.basis_point_fee)));
        let struct_hash = keccak256(&enc);
        let mut pre = vec![0x19, 0x01];
        pre.extend_from_slice(separator.as_slice());
        pre.extend_from_slice(struct_hash.as_slice());
        let digest = keccak256(&pre);

        let domain = rollup_domain(chain_id, rollup);
        assert_eq!(
            Rollup::EpochProofQuote::eip712_encode_type(),
            QUOTE_TYPE,
            "the binding's EIP-712 type"
        );
        assert_eq!(domain.separator(), separator);
        assert_eq!(quote.struct_hash(), struct_hash, "struct hash");
        assert_eq!(quote.digest(&domain), digest, "digest");
        // Pinned, so a change to either derivation shows.
        assert_eq!(
            digest,
            b256!("0x31b7960f2dd2f6278d06a4b9fca57d64347f577b760fe9145c483823b1899b93")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The rank is a total order consistent with the documented priorities.
        #[test]
        fn rank_orders_by_fee_then_bond_then_validity_then_digest(
            a in (0u32..20_000, 0u64..10, 0u64..10, any::<[u8; 32]>()),
            b in (0u32..20_000, 0u64..10, 0u64..10, any::<[u8; 32]>()),
        ) {
            let rank = |(fee, bond, until, digest): (u32, u64, u64, [u8; 32])| QuoteRank {
                basis_point_fee: fee,
                bond_amount: Reverse(U256::from(bond)),
                valid_until_slot: Reverse(U256::from(until)),
                digest: B256::from(digest),
            };
            let (ra, rb) = (rank(a), rank(b));
            let expected = a.0.cmp(&b.0)
                .then(b.1.cmp(&a.1))
                .then(b.2.cmp(&a.2))
                .then(a.3.cmp(&b.3));
            prop_assert_eq!(ra.cmp(&rb), expected);
        }

        /// Any bytes: `from_wire` answers, and whatever it accepts encodes back to the same bytes.
        #[test]
        fn from_wire_takes_only_canonical_encodings(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(q) = SignedEpochProofQuote::from_wire(&bytes) {
                prop_assert_eq!(q.to_wire(), bytes);
            }
        }

        /// Random 256-byte words with clean padding decode, and validation refuses them cleanly.
        #[test]
        fn random_quotes_are_refused_cleanly(words in any::<[[u8; 32]; 8]>(), fee in any::<u32>(), v in any::<u8>()) {
            let mut bytes: Vec<u8> = words.concat();
            bytes[3 * 32..3 * 32 + 12].fill(0);
            bytes[4 * 32..5 * 32 - 4].fill(0);
            bytes[5 * 32 - 4..5 * 32].copy_from_slice(&fee.to_be_bytes());
            bytes[5 * 32..6 * 32 - 1].fill(0);
            bytes[6 * 32 - 1] = v;
            let q = SignedEpochProofQuote::from_wire(&bytes).unwrap();
            prop_assert!(validate(&q, &ctx()).is_err());
        }
    }

    /// `test-vectors/protocol.json`, as `test/vectors/ProtocolVector.t.sol` writes it from the
    /// deployed Rollup: the quote's hashes and a signature of it, byte for byte ours.
    #[test]
    fn quote_digest_and_signature_match_the_contract_vector() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Vector {
            chain_id: U256,
            rollup: Address,
            quote: EpochProofQuote,
            quote_type_hash: B256,
            quote_struct_hash: B256,
            quote_digest: B256,
            signature: QuoteSignature,
        }
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../test-vectors/protocol.json");
        let json = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (generate it: see test/vectors/ProtocolVector.t.sol)",
                path.display()
            )
        });
        let v: Vector = serde_json::from_str(&json).expect("vector parses");
        let domain = rollup_domain(v.chain_id.to::<u64>(), v.rollup);
        assert_eq!(keccak256(QUOTE_TYPE), v.quote_type_hash, "type hash");
        assert_eq!(v.quote.struct_hash(), v.quote_struct_hash, "struct hash");
        assert_eq!(v.quote.digest(&domain), v.quote_digest, "digest");
        let signed = SignedEpochProofQuote {
            quote: v.quote,
            signature: v.signature,
        };
        assert_eq!(signed.recover(&domain), Ok(v.quote.prover), "signer");
        // Every field is set, so a field left out of the hash would show.
        assert!(v.quote.basis_point_fee > 0 && v.quote.bond_amount > U256::ZERO);
        assert!(v.quote.epoch_to_prove > U256::ZERO && v.quote.valid_until_slot > U256::ZERO);
    }
}
