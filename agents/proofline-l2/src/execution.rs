//! Executing a block's txs: validity, failed forced txs, and the tx effects a block publishes.
//!
//! A block is its forced entries (the forced-inclusion queue's next entries, as raw `txData`, in
//! queue order) followed by its other txs. They run in order against the state, each seeing the
//! effects of those before it.
//!
//! # Fee deposits
//!
//! The queue is the rollup's one L1-to-L2 inbox: besides forced txs it carries fee deposits,
//! `DEPOSIT_TAG (0xfd) ‖ recipient (20) ‖ amount (16, big-endian)`, which only the queue's
//! `depositFee` can queue (a forced tx may not start with 0xfd) and which moved `amount` of the
//! fee token to the Rollup on L1. A block that takes one credits `amount` to the recipient's fee
//! balance ([`crate::state::State::credit`]); a deposit never fails. Every fee a block collects
//! comes out of such balances, so what the epoch proofs make the Rollup pay in fees never
//! exceeds what was deposited (docs/proving.md, "Economics").
//!
//! # Valid, invalid, failed
//!
//! A tx *fails* in this VM exactly when, at its turn:
//!
//! - its bytes are not a well-formed tx ([`crate::tx::TxError`]; only a forced tx can be raw
//!   bytes): [`FailureReason::Malformed`];
//! - one of its nullifiers is already in the nullifier set, from the state or from an earlier tx
//!   of the same block: [`FailureReason::NullifierExists`];
//! - the note-hash tree has no room for its notes: [`FailureReason::NoteTreeFull`];
//! - it is paid and its fee exceeds its payer's balance (as deposits and the fees of earlier txs
//!   of the block left it): [`FailureReason::FeeNotCovered`].
//!
//! Nothing else can fail: public-data writes always apply (none touches a fee balance), and the
//! fee (a `u128`, summed in a `U256`) cannot overflow.
//!
//! A *forced* tx that fails is still included (SPEC 7): it counts in `txCount`, its hash in
//! `forcedTxsHash`, and its effect is [`TxEffect::Failed`] with the reason, with no note hash,
//! nullifier, write or fee. So one bad queue entry never stalls the queue, and a forced tx that
//! was already included through the mempool (its nullifier is spent) simply fails.
//!
//! Any *other* tx that would fail makes the whole block invalid: [`execute_block`] returns
//! [`BlockError::InvalidTx`] and changes nothing. A proposer filters its candidates with
//! [`select_txs`] so that never happens to its own blocks; an attester re-executing a proposed
//! block refuses to sign it.
//!
//! # Tx effect encoding (the block body, inside the blobs)
//!
//! ```text
//! executed:  0x00 ‖ tx encoding           (the effects are the tx's fields; hash = keccak256(tx encoding))
//! failed:    0x01 ‖ tx hash (32) ‖ reason (1 byte: 1 malformed, 2 nullifier exists, 3 note tree full,
//!                                          4 fee not covered)
//! deposit:   0x02 ‖ recipient (20) ‖ amount (16)   (hash = keccak256(0xfd ‖ recipient ‖ amount))
//! ```
//!
//! An executed tx's effects are its own fields in this VM, so the body carries the tx itself and
//! anyone can recompute its hash; a failed forced tx's data is on L1 already (the queue's
//! `ForcedTxQueued` event), so the body carries only its hash and why it failed.

use std::collections::{HashMap, HashSet};

use alloy::primitives::{keccak256, Address, B256, U256};
use thiserror::Error;

use crate::blob::{field_elements_for, MAX_BODY_FIELD_ELEMENTS};
use crate::state::{State, StateError};
use crate::tx::{PublicDataWrite, Tx, TxError};

/// Why a forced tx was included as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FailureReason {
    /// Its bytes are not a well-formed tx.
    Malformed = 1,
    /// One of its nullifiers was already spent (in the state or earlier in the block).
    NullifierExists = 2,
    /// The note-hash tree had no room for its notes.
    NoteTreeFull = 3,
    /// Its fee exceeded its payer's balance.
    FeeNotCovered = 4,
}

/// First byte of a fee deposit's queue entry (the contracts' `DEPOSIT_TAG`).
pub const DEPOSIT_TAG: u8 = 0xfd;
/// Bytes of a fee deposit's queue entry: tag, recipient, amount.
pub const DEPOSIT_LEN: usize = 1 + 20 + 16;

/// What a forced-inclusion queue entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForcedEntry {
    /// A fee deposit: `amount` for `recipient`'s fee balance.
    Deposit { recipient: Address, amount: u128 },
    /// A well-formed tx.
    Tx(Tx),
    /// Neither: included as a failed tx.
    Malformed,
}

impl ForcedEntry {
    pub fn parse(data: &[u8]) -> Self {
        if data.first() == Some(&DEPOSIT_TAG) {
            if data.len() != DEPOSIT_LEN {
                return Self::Malformed;
            }
            return Self::Deposit {
                recipient: Address::from_slice(&data[1..21]),
                amount: u128::from_be_bytes(data[21..].try_into().expect("16 bytes")),
            };
        }
        Tx::decode(data).map_or(Self::Malformed, Self::Tx)
    }
}

/// A fee deposit's queue data: `DEPOSIT_TAG ‖ recipient ‖ amount`.
pub fn deposit_data(recipient: Address, amount: u128) -> Vec<u8> {
    let mut data = Vec::with_capacity(DEPOSIT_LEN);
    data.push(DEPOSIT_TAG);
    data.extend_from_slice(recipient.as_slice());
    data.extend_from_slice(&amount.to_be_bytes());
    data
}

impl FailureReason {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Malformed),
            2 => Some(Self::NullifierExists),
            3 => Some(Self::NoteTreeFull),
            4 => Some(Self::FeeNotCovered),
            _ => None,
        }
    }

    fn of(error: &StateError) -> Self {
        match error {
            StateError::NullifierExists(_) => Self::NullifierExists,
            StateError::NoteTreeFull { .. } => Self::NoteTreeFull,
            StateError::FeeNotCovered { .. } => Self::FeeNotCovered,
        }
    }
}

/// Outcome of one tx, as the block publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TxEffect {
    /// The tx ran: its note hashes, nullifiers and writes are in the state, its fee in the block's.
    Executed(Tx),
    /// A forced tx that failed: included, without any effect.
    Failed {
        tx_hash: B256,
        reason: FailureReason,
    },
    /// A fee deposit: `amount` credited to `recipient`.
    Deposit { recipient: Address, amount: u128 },
}

const EXECUTED_TAG: u8 = 0;
const FAILED_TAG: u8 = 1;
const DEPOSIT_EFFECT_TAG: u8 = 2;
const FAILED_LEN: usize = 1 + 32 + 1;

/// Why bytes are not a tx effect.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EffectError {
    #[error("tx effect is empty")]
    Empty,
    #[error("unknown tx effect tag {0}")]
    UnknownTag(u8),
    #[error("failed tx effect is {0} bytes, expected 34")]
    FailedLength(usize),
    #[error("deposit effect is {0} bytes, expected 37")]
    DepositLength(usize),
    #[error("unknown failure reason {0}")]
    UnknownReason(u8),
    #[error("executed tx effect: {0}")]
    Tx(#[from] TxError),
}

impl TxEffect {
    /// The tx's hash: `keccak256(txData)`.
    pub fn tx_hash(&self) -> B256 {
        match self {
            Self::Executed(tx) => tx.hash(),
            Self::Failed { tx_hash, .. } => *tx_hash,
            Self::Deposit { recipient, amount } => keccak256(deposit_data(*recipient, *amount)),
        }
    }

    pub fn is_executed(&self) -> bool {
        matches!(self, Self::Executed(_))
    }

    /// The failure reason, if the tx failed.
    pub fn failure(&self) -> Option<FailureReason> {
        match self {
            Self::Failed { reason, .. } => Some(*reason),
            Self::Executed(_) | Self::Deposit { .. } => None,
        }
    }

    /// The executed tx, if it ran.
    pub fn tx(&self) -> Option<&Tx> {
        match self {
            Self::Executed(tx) => Some(tx),
            Self::Failed { .. } | Self::Deposit { .. } => None,
        }
    }

    pub fn note_hashes(&self) -> &[B256] {
        self.tx().map_or(&[], Tx::note_hashes)
    }

    pub fn nullifiers(&self) -> &[B256] {
        self.tx().map_or(&[], Tx::nullifiers)
    }

    pub fn public_writes(&self) -> &[PublicDataWrite] {
        self.tx().map_or(&[], Tx::public_writes)
    }

    /// The fee the block collects from this tx (zero when it failed).
    pub fn fee(&self) -> u128 {
        self.tx().map_or(0, Tx::fee)
    }

    pub fn encoded_len(&self) -> usize {
        match self {
            Self::Executed(tx) => 1 + tx.encoded_len(),
            Self::Failed { .. } => FAILED_LEN,
            Self::Deposit { .. } => DEPOSIT_LEN,
        }
    }

    /// The body encoding (module doc).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        match self {
            Self::Executed(tx) => {
                out.push(EXECUTED_TAG);
                tx.encode_into(&mut out);
            }
            Self::Failed { tx_hash, reason } => {
                out.push(FAILED_TAG);
                out.extend_from_slice(tx_hash.as_slice());
                out.push(reason.code());
            }
            Self::Deposit { recipient, amount } => {
                out.push(DEPOSIT_EFFECT_TAG);
                out.extend_from_slice(recipient.as_slice());
                out.extend_from_slice(&amount.to_be_bytes());
            }
        }
        out
    }

    /// Decode the body encoding; refuses anything [`TxEffect::encode`] would not produce.
    pub fn decode(bytes: &[u8]) -> Result<Self, EffectError> {
        let (&tag, rest) = bytes.split_first().ok_or(EffectError::Empty)?;
        match tag {
            EXECUTED_TAG => Ok(Self::Executed(Tx::decode(rest)?)),
            FAILED_TAG => {
                if bytes.len() != FAILED_LEN {
                    return Err(EffectError::FailedLength(bytes.len()));
                }
                let reason = FailureReason::from_code(rest[32])
                    .ok_or(EffectError::UnknownReason(rest[32]))?;
                Ok(Self::Failed {
                    tx_hash: B256::from_slice(&rest[..32]),
                    reason,
                })
            }
            DEPOSIT_EFFECT_TAG => {
                if bytes.len() != DEPOSIT_LEN {
                    return Err(EffectError::DepositLength(bytes.len()));
                }
                Ok(Self::Deposit {
                    recipient: Address::from_slice(&rest[..20]),
                    amount: u128::from_be_bytes(rest[20..].try_into().expect("16 bytes")),
                })
            }
            other => Err(EffectError::UnknownTag(other)),
        }
    }
}

/// A block's tx effects in order, forced txs first: what its blobs carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BlockBody {
    pub effects: Vec<TxEffect>,
}

impl BlockBody {
    pub fn new(effects: Vec<TxEffect>) -> Self {
        Self { effects }
    }

    pub fn tx_count(&self) -> u64 {
        self.effects.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }

    /// Sum of the fees of the executed txs.
    pub fn fees(&self) -> U256 {
        self.effects.iter().map(|e| U256::from(e.fee())).sum()
    }

    /// The hashes of all txs, in order.
    pub fn tx_hashes(&self) -> Vec<B256> {
        self.effects.iter().map(TxEffect::tx_hash).collect()
    }

    /// The txs after the first `forced_count`, if all of them executed (as a valid block's must).
    pub fn non_forced_txs(&self, forced_count: usize) -> Option<Vec<Tx>> {
        self.effects
            .iter()
            .skip(forced_count)
            .map(|e| e.tx().cloned())
            .collect()
    }
}

/// `forcedTxsHash` as the Rollup and the queue compute it: `keccak256(abi.encodePacked(hashes))`,
/// and zero when there are none.
pub fn forced_txs_hash(hashes: &[B256]) -> B256 {
    if hashes.is_empty() {
        return B256::ZERO;
    }
    keccak256(hashes.concat())
}

/// Why a block cannot be executed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// A non-forced tx would fail: the block is invalid.
    #[error("tx {index} of the block is invalid: {error}")]
    InvalidTx { index: usize, error: StateError },
    /// The body would need more than [`crate::blob::MAX_BLOBS_PER_BLOCK`] blobs.
    #[error(
        "block body needs {field_elements} field elements, at most {MAX_BODY_FIELD_ELEMENTS} fit"
    )]
    BodyTooLarge { field_elements: usize },
}

/// What a block's execution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockExecution {
    pub body: BlockBody,
    pub forced_tx_count: u64,
    pub forced_txs_hash: B256,
}

/// Execute a block: its forced txs (raw queue data, in queue order) then `txs`. On success the
/// state holds the block's effects; on error it is unchanged.
pub fn execute_block<D: AsRef<[u8]>>(
    state: &mut State,
    forced: &[D],
    txs: &[Tx],
) -> Result<BlockExecution, BlockError> {
    let executed = plan_block(state, forced, txs)?;
    executed.apply(state);
    Ok(executed)
}

/// Decide the outcome of every tx of a block without touching the state;
/// [`BlockExecution::apply`] then applies them. Also refuses a body that would not fit
/// [`crate::blob::MAX_BLOBS_PER_BLOCK`] blobs.
pub fn plan_block<D: AsRef<[u8]>>(
    state: &State,
    forced: &[D],
    txs: &[Tx],
) -> Result<BlockExecution, BlockError> {
    // Every outcome is decided before anything is applied, and nothing can fail once it is, so
    // an invalid block leaves the state as it was without a copy of it.
    let mut plan = Plan::new(state);
    let mut effects = Vec::with_capacity(forced.len() + txs.len());
    let mut forced_hashes = Vec::with_capacity(forced.len());
    for data in forced {
        let data = data.as_ref();
        let tx_hash = keccak256(data);
        forced_hashes.push(tx_hash);
        let effect = match ForcedEntry::parse(data) {
            ForcedEntry::Deposit { recipient, amount } => {
                plan.deposit(recipient, amount);
                TxEffect::Deposit { recipient, amount }
            }
            ForcedEntry::Malformed => TxEffect::Failed {
                tx_hash,
                reason: FailureReason::Malformed,
            },
            ForcedEntry::Tx(tx) => match plan.admit(&tx) {
                Ok(()) => TxEffect::Executed(tx),
                Err(e) => TxEffect::Failed {
                    tx_hash,
                    reason: FailureReason::of(&e),
                },
            },
        };
        effects.push(effect);
    }
    for (i, tx) in txs.iter().enumerate() {
        plan.admit(tx).map_err(|error| BlockError::InvalidTx {
            index: forced.len() + i,
            error,
        })?;
        effects.push(TxEffect::Executed(tx.clone()));
    }
    let field_elements = effects
        .iter()
        .map(|e| field_elements_for(e.encoded_len()))
        .sum();
    if field_elements > MAX_BODY_FIELD_ELEMENTS {
        return Err(BlockError::BodyTooLarge { field_elements });
    }
    Ok(BlockExecution {
        forced_tx_count: forced.len() as u64,
        forced_txs_hash: forced_txs_hash(&forced_hashes),
        body: BlockBody::new(effects),
    })
}

impl BlockExecution {
    /// Apply the executed txs' effects to `state`, which must be the state the block was planned
    /// on ([`plan_block`]).
    ///
    /// # Panics
    ///
    /// If `state` is not that state (a tx then finds a spent nullifier): a bug of the caller.
    pub fn apply(&self, state: &mut State) {
        for effect in &self.body.effects {
            match effect {
                TxEffect::Executed(tx) => state
                    .apply_tx(tx)
                    .expect("the block was planned on this state"),
                TxEffect::Deposit { recipient, amount } => state.credit(*recipient, *amount),
                TxEffect::Failed { .. } => {}
            }
        }
    }
}

/// Which of `candidates` a proposer can add after `forced` (in order, keeping the first of any
/// conflicting pair), and why the others were left out. `fits` is asked, for each valid
/// candidate in turn, whether it still fits the block, and takes its room if so (for blob space:
/// [`crate::blob::BodySpace::take_tx`]).
pub fn select_txs<D: AsRef<[u8]>>(
    state: &State,
    forced: &[D],
    candidates: impl IntoIterator<Item = Tx>,
    mut fits: impl FnMut(&Tx) -> bool,
) -> (Vec<Tx>, Vec<(Tx, Rejection)>) {
    let mut plan = Plan::new(state);
    for data in forced {
        match ForcedEntry::parse(data.as_ref()) {
            ForcedEntry::Deposit { recipient, amount } => plan.deposit(recipient, amount),
            // A failing forced tx changes nothing, so its outcome does not matter here.
            ForcedEntry::Tx(tx) => {
                let _ = plan.admit(&tx);
            }
            ForcedEntry::Malformed => {}
        }
    }
    let mut chosen = Vec::new();
    let mut rejected = Vec::new();
    for tx in candidates {
        if let Err(e) = plan.check(&tx) {
            rejected.push((tx, Rejection::Invalid(e)));
            continue;
        }
        if !fits(&tx) {
            rejected.push((tx, Rejection::NoRoom));
            continue;
        }
        plan.admit(&tx).expect("checked");
        chosen.push(tx);
    }
    (chosen, rejected)
}

/// Why [`select_txs`] left a candidate out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    #[error("invalid: {0}")]
    Invalid(StateError),
    #[error("no room left in the block's blobs")]
    NoRoom,
}

/// The state as of the entries admitted so far: the block's nullifiers, note count and fee
/// balances on top of a state that is not touched.
struct Plan<'a> {
    state: &'a State,
    nullifiers: HashSet<B256>,
    notes: u64,
    balances: HashMap<Address, U256>,
}

impl<'a> Plan<'a> {
    fn new(state: &'a State) -> Self {
        Self {
            state,
            nullifiers: HashSet::new(),
            notes: 0,
            balances: HashMap::new(),
        }
    }

    fn balance(&self, account: Address) -> U256 {
        self.balances
            .get(&account)
            .copied()
            .unwrap_or_else(|| self.state.balance_of(account))
    }

    fn deposit(&mut self, recipient: Address, amount: u128) {
        let balance = self.balance(recipient).saturating_add(U256::from(amount));
        self.balances.insert(recipient, balance);
    }

    fn check(&self, tx: &Tx) -> Result<(), StateError> {
        crate::state::check_tx_against(
            tx,
            |n| self.nullifiers.contains(&n) || self.state.contains_nullifier(n),
            self.state.notes_remaining() - self.notes,
            |payer| self.balance(payer),
        )
    }

    fn admit(&mut self, tx: &Tx) -> Result<(), StateError> {
        self.check(tx)?;
        self.nullifiers.extend(tx.nullifiers().iter().copied());
        self.notes += tx.note_hashes().len() as u64;
        if let Some(payer) = tx.payer() {
            let balance = self.balance(payer) - U256::from(tx.fee());
            self.balances.insert(payer, balance);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::strategies;
    use proptest::prelude::*;

    fn w(n: u8) -> B256 {
        B256::with_last_byte(n)
    }

    /// Unpaid when `fee` is zero, else paid by the tests' payer.
    fn tx(nulls: &[u8], fee: u128) -> Tx {
        let writes = vec![PublicDataWrite {
            slot: w(nulls[0]),
            value: w(1),
        }];
        let notes = vec![w(nulls[0])];
        let nulls = nulls.iter().map(|n| w(*n)).collect();
        if fee == 0 {
            Tx::new(notes, nulls, writes).unwrap()
        } else {
            Tx::paid(notes, nulls, writes, fee, &strategies::payer()).unwrap()
        }
    }

    fn payer() -> Address {
        strategies::payer().address()
    }

    /// A state where the tests' payer holds `balance`.
    fn funded(balance: u128) -> State {
        let mut s = State::new();
        s.credit(payer(), balance);
        s
    }

    const NO_FORCED: &[&[u8]] = &[];

    #[test]
    fn txs_run_in_order_and_fees_add_up() {
        let mut s = funded(12);
        let out = execute_block(&mut s, NO_FORCED, &[tx(&[1], 5), tx(&[2, 3], 7)]).unwrap();
        assert_eq!(out.body.tx_count(), 2);
        assert_eq!(out.body.fees(), U256::from(12));
        assert_eq!(out.forced_tx_count, 0);
        assert_eq!(out.forced_txs_hash, B256::ZERO);
        assert_eq!(s.note_count(), 2);
        assert!(s.contains_nullifier(w(3)));
    }

    #[test]
    fn a_duplicate_nullifier_within_the_block_invalidates_it() {
        let mut s = State::new();
        let root = s.state_root();
        let err = execute_block(&mut s, NO_FORCED, &[tx(&[1, 2], 0), tx(&[3, 2], 0)]).unwrap_err();
        assert_eq!(
            err,
            BlockError::InvalidTx {
                index: 1,
                error: StateError::NullifierExists(w(2))
            }
        );
        assert_eq!(s.state_root(), root, "an invalid block changes nothing");
    }

    #[test]
    fn a_nullifier_spent_in_the_state_invalidates_the_block() {
        let mut s = State::new();
        execute_block(&mut s, NO_FORCED, &[tx(&[1], 0)]).unwrap();
        let err = execute_block(&mut s, NO_FORCED, &[tx(&[2], 0), tx(&[1], 0)]).unwrap_err();
        assert_eq!(
            err,
            BlockError::InvalidTx {
                index: 1,
                error: StateError::NullifierExists(w(1))
            }
        );
    }

    #[test]
    fn failing_forced_txs_are_included_without_effects() {
        let mut s = funded(5);
        execute_block(&mut s, NO_FORCED, &[tx(&[9], 0)]).unwrap();
        let root = s.state_root();

        let garbage = vec![0xde, 0xad];
        let replay = tx(&[9], 100).encode(); // nullifier 9 is spent
        let good = tx(&[4], 3).encode();
        let twin = tx(&[5, 4], 1).encode(); // spends 4, which `good` spent just before
        let forced = [garbage.clone(), replay.clone(), good.clone(), twin.clone()];
        let out = execute_block(&mut s, &forced, &[tx(&[6], 2)]).unwrap();

        let reasons: Vec<_> = out.body.effects.iter().map(TxEffect::failure).collect();
        assert_eq!(
            reasons,
            [
                Some(FailureReason::Malformed),
                Some(FailureReason::NullifierExists),
                None,
                Some(FailureReason::NullifierExists),
                None
            ]
        );
        assert_eq!(out.forced_tx_count, 4);
        let hashes: Vec<B256> = forced.iter().map(keccak256).collect();
        assert_eq!(out.body.tx_hashes()[..4], hashes);
        assert_eq!(out.forced_txs_hash, keccak256(hashes.concat()));
        assert_eq!(out.body.fees(), U256::from(5), "failed txs pay nothing");
        assert_ne!(s.state_root(), root);
        assert!(!s.contains_nullifier(w(5)), "a failed tx spends nothing");
        assert_eq!(s.note_count(), 3);
    }

    /// A deposit in the block's forced entries funds the fees of the txs after it, in the same
    /// block; a fee beyond the balance fails a forced tx and invalidates a block's other tx.
    #[test]
    fn deposits_fund_fees_and_a_fee_beyond_the_balance_fails() {
        let mut s = State::new();
        let deposit = deposit_data(payer(), 10);
        assert_eq!(deposit.len(), DEPOSIT_LEN);
        assert_eq!(
            ForcedEntry::parse(&deposit),
            ForcedEntry::Deposit {
                recipient: payer(),
                amount: 10
            }
        );
        let too_dear = tx(&[1], 11).encode();
        let forced = [deposit.clone(), too_dear.clone()];
        let out = execute_block(&mut s, &forced, &[tx(&[2], 4), tx(&[3], 6)]).unwrap();
        assert_eq!(
            out.body.effects[0],
            TxEffect::Deposit {
                recipient: payer(),
                amount: 10
            }
        );
        assert_eq!(
            out.body.effects[0].tx_hash(),
            keccak256(&deposit),
            "the queue's hash"
        );
        assert_eq!(
            out.body.effects[1].failure(),
            Some(FailureReason::FeeNotCovered)
        );
        assert_eq!(out.body.fees(), U256::from(10));
        assert_eq!(s.balance_of(payer()), U256::ZERO);

        let root = s.state_root();
        let err = execute_block(&mut s, NO_FORCED, &[tx(&[4], 1)]).unwrap_err();
        assert!(matches!(
            err,
            BlockError::InvalidTx {
                index: 0,
                error: StateError::FeeNotCovered { fee: 1, .. }
            }
        ));
        assert_eq!(s.state_root(), root);
        // A proposer leaves out what the balance cannot cover, and keeps what it can.
        let mut t = funded(5);
        let (chosen, rejected) = select_txs(
            &t,
            NO_FORCED,
            [tx(&[5], 3), tx(&[6], 3), tx(&[7], 2)],
            |_| true,
        );
        assert_eq!(chosen, vec![tx(&[5], 3), tx(&[7], 2)]);
        assert!(matches!(
            rejected[0].1,
            Rejection::Invalid(StateError::FeeNotCovered { .. })
        ));
        execute_block(&mut t, NO_FORCED, &chosen).unwrap();
    }

    /// Queue data that starts with the deposit tag but is not a deposit fails as malformed.
    #[test]
    fn a_malformed_deposit_fails_and_credits_nothing() {
        let mut s = State::new();
        let mut bad = deposit_data(payer(), 10);
        bad.push(0);
        let out = execute_block(&mut s, &[bad], &[]).unwrap();
        assert_eq!(
            out.body.effects[0].failure(),
            Some(FailureReason::Malformed)
        );
        assert_eq!(s.balance_of(payer()), U256::ZERO);
    }

    #[test]
    fn a_block_of_only_failed_forced_txs_keeps_the_state() {
        let mut s = State::new();
        let root = s.state_root();
        let out = execute_block(&mut s, &[vec![7u8; 3]], &[]).unwrap();
        assert_eq!(out.body.tx_count(), 1);
        assert_eq!(s.state_root(), root);
    }

    #[test]
    fn select_keeps_the_first_of_conflicting_candidates() {
        let mut s = State::new();
        execute_block(&mut s, NO_FORCED, &[tx(&[1], 0)]).unwrap();
        let forced = [tx(&[2], 0).encode()];
        let candidates = vec![
            tx(&[1], 0),
            tx(&[2], 0),
            tx(&[3], 0),
            tx(&[4, 3], 0),
            tx(&[5], 0),
        ];
        let mut room = 2;
        let (chosen, rejected) = select_txs(&s, &forced, candidates, |_| {
            room -= 1;
            room >= 0
        });
        assert_eq!(chosen, vec![tx(&[3], 0), tx(&[5], 0)]);
        let why: Vec<_> = rejected.iter().map(|(_, r)| r.clone()).collect();
        assert_eq!(
            why,
            [
                Rejection::Invalid(StateError::NullifierExists(w(1))),
                Rejection::Invalid(StateError::NullifierExists(w(2))),
                Rejection::Invalid(StateError::NullifierExists(w(3))),
            ]
        );
        // What select chose always executes.
        execute_block(&mut s, &forced, &chosen).unwrap();
    }

    #[test]
    fn a_body_past_six_blobs_invalidates_the_block() {
        // The largest txs (8,213-byte effects, 266 field elements): 92 fit in six blobs.
        let big = |i: usize| {
            let word = |kind: u8, j: usize| {
                B256::from(U256::from((i << 16) | ((kind as usize) << 8) | j) + U256::from(1))
            };
            Tx::new(
                (0..64).map(|j| word(1, j)).collect(),
                (0..64).map(|j| word(2, j)).collect(),
                (0..64)
                    .map(|j| PublicDataWrite {
                        slot: word(3, j),
                        value: word(4, j),
                    })
                    .collect(),
            )
            .unwrap()
        };
        let s = State::new();
        let fitting: Vec<Tx> = (0..92).map(big).collect();
        assert!(plan_block(&s, NO_FORCED, &fitting).is_ok());
        let over: Vec<Tx> = (0..93).map(big).collect();
        assert_eq!(
            plan_block(&s, NO_FORCED, &over),
            Err(BlockError::BodyTooLarge {
                field_elements: 93 * 266
            })
        );
    }

    #[test]
    fn effect_encoding_layout() {
        let failed = TxEffect::Failed {
            tx_hash: w(7),
            reason: FailureReason::NoteTreeFull,
        };
        let enc = failed.encode();
        assert_eq!(enc.len(), 34);
        assert_eq!(enc[0], 1);
        assert_eq!(&enc[1..33], w(7).as_slice());
        assert_eq!(enc[33], 3);
        let t = tx(&[1], 9);
        let enc = TxEffect::Executed(t.clone()).encode();
        assert_eq!(enc[0], 0);
        assert_eq!(&enc[1..], t.encode());
    }

    #[test]
    fn effect_decoding_refuses_bad_bytes() {
        assert_eq!(TxEffect::decode(&[]), Err(EffectError::Empty));
        assert_eq!(TxEffect::decode(&[3]), Err(EffectError::UnknownTag(3)));
        assert_eq!(
            TxEffect::decode(&[2; 36]),
            Err(EffectError::DepositLength(36))
        );
        assert_eq!(
            TxEffect::decode(&[1; 33]),
            Err(EffectError::FailedLength(33))
        );
        let mut bad_reason = vec![1u8; 34];
        bad_reason[33] = 0;
        assert_eq!(
            TxEffect::decode(&bad_reason),
            Err(EffectError::UnknownReason(0))
        );
        assert!(matches!(TxEffect::decode(&[0, 1]), Err(EffectError::Tx(_))));
    }

    fn effect() -> impl Strategy<Value = TxEffect> {
        prop_oneof![
            strategies::tx(4).prop_map(TxEffect::Executed),
            (any::<[u8; 32]>(), 1u8..=4).prop_map(|(h, r)| TxEffect::Failed {
                tx_hash: h.into(),
                reason: FailureReason::from_code(r).unwrap()
            }),
            (any::<[u8; 20]>(), any::<u128>()).prop_map(|(a, amount)| TxEffect::Deposit {
                recipient: a.into(),
                amount
            }),
        ]
    }

    proptest! {
        // Few cases: each runs hundreds of depth-256 tree updates, slow in an unoptimised build.
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn effect_encoding_round_trips(e in effect()) {
            let enc = e.encode();
            prop_assert_eq!(enc.len(), e.encoded_len());
            prop_assert_eq!(TxEffect::decode(&enc).unwrap(), e);
        }

        /// Executing txs one block at a time or all in one block reaches the same state, and
        /// forced txs that all execute act as ordinary txs.
        #[test]
        fn block_boundaries_do_not_change_the_state(txs in prop::collection::vec(strategies::tx(2), 0..6), split in any::<prop::sample::Index>()) {
            // Six fees of up to 2^128 - 1 each: room for all of them.
            let mut one = funded(u128::MAX);
            one.credit(payer(), u128::MAX);
            let mut two = one.clone();
            for _ in 0..6 {
                one.credit(payer(), u128::MAX);
                two.credit(payer(), u128::MAX);
            }
            let cut = if txs.is_empty() { 0 } else { split.index(txs.len() + 1) };
            let forced: Vec<Vec<u8>> = txs[..cut].iter().map(Tx::encode).collect();
            let whole = execute_block(&mut one, &forced, &txs[cut..]).unwrap();
            prop_assert!(whole.body.effects.iter().all(TxEffect::is_executed));
            execute_block(&mut two, NO_FORCED, &txs[..cut]).unwrap();
            execute_block(&mut two, NO_FORCED, &txs[cut..]).unwrap();
            prop_assert_eq!(one.state_root(), two.state_root());
        }
    }
}
