//! The L2 state (SPEC 9): a note-hash tree, a nullifier tree and a public-data tree.
//!
//! | tree        | shape                          | depth | leaf                                   |
//! |-------------|--------------------------------|-------|----------------------------------------|
//! | note hashes | append-only, index = insertion | 32    | the note hash                          |
//! | nullifiers  | sparse, index = the nullifier  | 256   | [`NULLIFIER_LEAF`] (0x00…01) if present |
//! | public data | sparse, index = the slot       | 256   | the slot's value (zero: unset)         |
//!
//! All three are [`crate::merkle`] trees (keccak256, zero leaves, fixed depth). Keying the
//! nullifier and public-data trees by the full 32-byte value means no two keys share a leaf, so
//! membership and non-membership are both one Merkle path (the leaf is `NULLIFIER_LEAF` or zero),
//! with no low-leaf bookkeeping as an indexed tree would need. Depth 32 for notes allows 2^32
//! notes, beyond any devnet or testnet.
//!
//! ```text
//! stateRoot = keccak256(noteHashRoot ‖ nullifierRoot ‖ publicDataRoot)
//! ```
//!
//! (equal to `keccak256(abi.encode(bytes32, bytes32, bytes32))`). The note tree's size is not in
//! the root: note hashes are never zero, so it is the index of the first zero leaf.
//!
//! Fee balances are public data at reserved slots ([`crate::tx::balance_slot`]), which no tx may
//! write: a fee deposit credits one, a paid tx's fee debits its payer's.

use alloy::primitives::{keccak256, Address, B256, U256};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::merkle::{AppendOnlyTree, MerkleError, MerkleProof, SparseMerkleTree};
use crate::tx::{balance_slot, Tx};

/// Depth of the note-hash tree.
pub const NOTE_HASH_TREE_DEPTH: usize = 32;
/// Depth of the nullifier tree (keyed by the nullifier itself).
pub const NULLIFIER_TREE_DEPTH: usize = 256;
/// Depth of the public-data tree (keyed by the slot itself).
pub const PUBLIC_DATA_TREE_DEPTH: usize = 256;
/// The leaf that marks a nullifier as present.
pub const NULLIFIER_LEAF: B256 = B256::with_last_byte(1);

/// Why a tx cannot be applied to the current state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// The nullifier is already in the set (in the state, or earlier in the same block).
    #[error("nullifier {0} is already spent")]
    NullifierExists(B256),
    /// The note-hash tree cannot take this tx's notes.
    #[error("note-hash tree has room for {remaining} notes, the tx brings {needed}")]
    NoteTreeFull { needed: usize, remaining: u64 },
    /// The payer's fee balance is below the tx's fee.
    #[error("fee {fee} exceeds payer {payer}'s balance {balance}")]
    FeeNotCovered {
        payer: Address,
        fee: u128,
        balance: U256,
    },
}

/// The three roots and what they hash to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRoots {
    pub note_hash_root: B256,
    pub nullifier_root: B256,
    pub public_data_root: B256,
}

impl StateRoots {
    /// `keccak256(noteHashRoot ‖ nullifierRoot ‖ publicDataRoot)`.
    pub fn state_root(&self) -> B256 {
        let mut buf = [0u8; 96];
        buf[..32].copy_from_slice(self.note_hash_root.as_slice());
        buf[32..64].copy_from_slice(self.nullifier_root.as_slice());
        buf[64..].copy_from_slice(self.public_data_root.as_slice());
        keccak256(buf)
    }
}

/// The L2 state. Cloning copies the trees (the agents keep a copy at the proven tip to fall back
/// to when the pending chain is pruned).
#[derive(Debug, Clone)]
pub struct State {
    note_hashes: AppendOnlyTree,
    nullifiers: SparseMerkleTree,
    public_data: SparseMerkleTree,
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    /// The empty (genesis) state.
    pub fn new() -> Self {
        Self {
            note_hashes: AppendOnlyTree::new(NOTE_HASH_TREE_DEPTH),
            nullifiers: SparseMerkleTree::new(NULLIFIER_TREE_DEPTH),
            public_data: SparseMerkleTree::new(PUBLIC_DATA_TREE_DEPTH),
        }
    }

    pub fn roots(&self) -> StateRoots {
        StateRoots {
            note_hash_root: self.note_hashes.root(),
            nullifier_root: self.nullifiers.root(),
            public_data_root: self.public_data.root(),
        }
    }

    pub fn state_root(&self) -> B256 {
        self.roots().state_root()
    }

    /// Number of notes in the note-hash tree.
    pub fn note_count(&self) -> u64 {
        self.note_hashes.size()
    }

    /// Room left in the note-hash tree.
    pub fn notes_remaining(&self) -> u64 {
        self.note_hashes.remaining()
    }

    pub fn note_hash(&self, index: u64) -> B256 {
        self.note_hashes.get(index)
    }

    pub fn contains_nullifier(&self, nullifier: B256) -> bool {
        !self.nullifiers.get(key(nullifier)).is_zero()
    }

    /// The value of a public-data slot (zero when unset).
    pub fn public_data(&self, slot: B256) -> B256 {
        self.public_data.get(key(slot))
    }

    /// Proof of the note hash at `index` under the note-hash root.
    pub fn note_hash_proof(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        self.note_hashes.proof(index)
    }

    /// Proof of membership (leaf [`NULLIFIER_LEAF`]) or non-membership (leaf zero) of a nullifier.
    pub fn nullifier_proof(&self, nullifier: B256) -> MerkleProof {
        self.nullifiers
            .proof(key(nullifier))
            .expect("depth 256 takes every key")
    }

    /// Proof of a slot's value under the public-data root.
    pub fn public_data_proof(&self, slot: B256) -> MerkleProof {
        self.public_data
            .proof(key(slot))
            .expect("depth 256 takes every key")
    }

    /// `account`'s L2 fee balance.
    pub fn balance_of(&self, account: Address) -> U256 {
        U256::from_be_bytes(self.public_data(balance_slot(account)).0)
    }

    /// A fee deposit reached L2: `amount` more for `account`.
    pub fn credit(&mut self, account: Address, amount: u128) {
        let balance = self.balance_of(account).saturating_add(U256::from(amount));
        self.set_balance(account, balance);
    }

    fn set_balance(&mut self, account: Address, balance: U256) {
        self.public_data
            .set(key(balance_slot(account)), B256::from(balance))
            .expect("depth 256 takes every key");
    }

    /// Whether `tx` could be applied now, alone.
    pub fn check_tx(&self, tx: &Tx) -> Result<(), StateError> {
        check_tx_against(
            tx,
            |n| self.contains_nullifier(n),
            self.notes_remaining(),
            |payer| self.balance_of(payer),
        )
    }

    /// Apply a tx's effects: its note hashes, nullifiers and writes, in that order, then its fee
    /// out of its payer's balance. Checks first and changes nothing on error.
    pub fn apply_tx(&mut self, tx: &Tx) -> Result<(), StateError> {
        self.check_tx(tx)?;
        if let Some(payer) = tx.payer() {
            let balance = self.balance_of(payer) - U256::from(tx.fee());
            self.set_balance(payer, balance);
        }
        for h in tx.note_hashes() {
            self.note_hashes.append(*h).expect("room checked");
        }
        for n in tx.nullifiers() {
            self.nullifiers
                .set(key(*n), NULLIFIER_LEAF)
                .expect("depth 256 takes every key");
        }
        for w in tx.public_writes() {
            self.public_data
                .set(key(w.slot), w.value)
                .expect("depth 256 takes every key");
        }
        Ok(())
    }
}

/// A 32-byte value as a leaf index of a depth-256 tree.
fn key(word: B256) -> U256 {
    U256::from_be_bytes(word.0)
}

/// The checks a tx must pass against a state (SPEC 9): none of its nullifiers is spent
/// (`spent`), the note tree has room for its note hashes (`notes_remaining`), and its payer's fee
/// balance (`balance`) covers its fee. The state checks one tx alone; a block being executed
/// checks each tx against the state plus the block's effects so far.
pub(crate) fn check_tx_against(
    tx: &Tx,
    spent: impl Fn(B256) -> bool,
    notes_remaining: u64,
    balance: impl Fn(Address) -> U256,
) -> Result<(), StateError> {
    if let Some(n) = tx.nullifiers().iter().find(|n| spent(**n)) {
        return Err(StateError::NullifierExists(*n));
    }
    let needed = tx.note_hashes().len();
    if needed as u64 > notes_remaining {
        return Err(StateError::NoteTreeFull {
            needed,
            remaining: notes_remaining,
        });
    }
    if let Some(payer) = tx.payer() {
        let balance = balance(payer);
        if balance < U256::from(tx.fee()) {
            return Err(StateError::FeeNotCovered {
                payer,
                fee: tx.fee(),
                balance,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::hash_pair;
    use crate::tx::PublicDataWrite;

    fn w(n: u8) -> B256 {
        B256::with_last_byte(n)
    }

    fn tx(notes: &[u8], nulls: &[u8], writes: &[(u8, u8)]) -> Tx {
        Tx::new(
            notes.iter().map(|n| w(*n)).collect(),
            nulls.iter().map(|n| w(*n)).collect(),
            writes
                .iter()
                .map(|(s, v)| PublicDataWrite {
                    slot: w(*s),
                    value: w(*v),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_fee_comes_out_of_the_payers_balance_and_no_further() {
        let payer = crate::tx::strategies::payer();
        let paid =
            |null: u8, fee: u128| Tx::paid(vec![], vec![w(null)], vec![], fee, &payer).unwrap();
        let mut s = State::new();
        let root = s.state_root();
        assert_eq!(
            s.apply_tx(&paid(1, 5)),
            Err(StateError::FeeNotCovered {
                payer: payer.address(),
                fee: 5,
                balance: U256::ZERO
            })
        );
        assert_eq!(s.state_root(), root, "a refused tx changes nothing");
        s.credit(payer.address(), 7);
        assert_eq!(s.balance_of(payer.address()), U256::from(7));
        s.apply_tx(&paid(1, 5)).unwrap();
        assert_eq!(s.balance_of(payer.address()), U256::from(2));
        assert!(matches!(
            s.apply_tx(&paid(2, 3)),
            Err(StateError::FeeNotCovered { .. })
        ));
        s.apply_tx(&paid(2, 2)).unwrap();
        assert_eq!(s.balance_of(payer.address()), U256::ZERO);
        // The balance lives in the public-data tree, at its reserved slot.
        assert_eq!(
            s.public_data(balance_slot(payer.address())),
            B256::ZERO,
            "a zero balance is an unset slot"
        );
    }

    #[test]
    fn empty_state_root_is_the_hash_of_three_empty_roots() {
        let s = State::new();
        let mut empty32 = B256::ZERO;
        for _ in 0..32 {
            empty32 = hash_pair(empty32, empty32);
        }
        let mut empty256 = B256::ZERO;
        for _ in 0..256 {
            empty256 = hash_pair(empty256, empty256);
        }
        let r = s.roots();
        assert_eq!(r.note_hash_root, empty32);
        assert_eq!(r.nullifier_root, empty256);
        assert_eq!(r.public_data_root, empty256);
        let packed = [empty32.as_slice(), empty256.as_slice(), empty256.as_slice()].concat();
        assert_eq!(s.state_root(), keccak256(packed));
    }

    #[test]
    fn applying_a_tx_updates_all_three_trees() {
        let mut s = State::new();
        let before = s.roots();
        s.apply_tx(&tx(&[10, 11], &[20, 21], &[(30, 31)])).unwrap();
        let after = s.roots();
        assert_ne!(before.note_hash_root, after.note_hash_root);
        assert_ne!(before.nullifier_root, after.nullifier_root);
        assert_ne!(before.public_data_root, after.public_data_root);
        assert_eq!(s.note_count(), 2);
        assert_eq!(s.note_hash(1), w(11));
        assert!(s.contains_nullifier(w(20)) && s.contains_nullifier(w(21)));
        assert!(!s.contains_nullifier(w(22)));
        assert_eq!(s.public_data(w(30)), w(31));

        assert!(s
            .note_hash_proof(1)
            .unwrap()
            .verify(after.note_hash_root, w(11)));
        assert!(s
            .nullifier_proof(w(21))
            .verify(after.nullifier_root, NULLIFIER_LEAF));
        assert!(s
            .nullifier_proof(w(22))
            .verify(after.nullifier_root, B256::ZERO));
        assert!(s
            .public_data_proof(w(30))
            .verify(after.public_data_root, w(31)));
    }

    #[test]
    fn a_spent_nullifier_refuses_the_tx_and_changes_nothing() {
        let mut s = State::new();
        s.apply_tx(&tx(&[1], &[5], &[])).unwrap();
        let root = s.state_root();
        // Its own nullifier is fresh, its second one is spent.
        let err = s.apply_tx(&tx(&[2], &[6, 5], &[(1, 1)])).unwrap_err();
        assert_eq!(err, StateError::NullifierExists(w(5)));
        assert_eq!(s.state_root(), root);
        assert_eq!(s.note_count(), 1);
    }

    #[test]
    fn writing_zero_clears_a_slot() {
        let mut s = State::new();
        let empty_public = s.roots().public_data_root;
        s.apply_tx(&tx(&[], &[1], &[(7, 9)])).unwrap();
        s.apply_tx(&tx(&[], &[2], &[(7, 0)])).unwrap();
        assert_eq!(s.public_data(w(7)), B256::ZERO);
        assert_eq!(s.roots().public_data_root, empty_public);
    }

    #[test]
    fn later_writes_win() {
        let mut s = State::new();
        s.apply_tx(&tx(&[], &[1], &[(7, 9)])).unwrap();
        s.apply_tx(&tx(&[], &[2], &[(7, 8)])).unwrap();
        assert_eq!(s.public_data(w(7)), w(8));
    }
}
