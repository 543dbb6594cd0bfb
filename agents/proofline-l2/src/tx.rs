//! The L2 transaction (SPEC 9) and its canonical encoding.
//!
//! A tx carries note hashes (appended to the note-hash tree), nullifiers (inserted into the
//! nullifier set; the first is the tx's own, so the same tx can never be included twice),
//! public-data writes (slot -> value) and a fee, paid from its payer's L2 fee balance (fed by
//! L1 fee deposits: [`crate::execution`]).
//!
//! # Encoding (versions 1 and 2)
//!
//! All integers big-endian; `n`, `m`, `w` are single bytes.
//!
//! ```text
//! offset        size   field
//! 0             1      version: 0x01 unpaid (fee must be 0), 0x02 paid
//! 1             16     fee (u128)
//! 17            1      n  = note hash count        0 ..= MAX_NOTE_HASHES_PER_TX
//! 18            1      m  = nullifier count        1 ..= MAX_NULLIFIERS_PER_TX
//! 19            1      w  = public write count     0 ..= MAX_PUBLIC_WRITES_PER_TX
//! 20            32·n   note hashes
//! 20+32n        32·m   nullifiers (the first is the tx's own)
//! 20+32(n+m)    64·w   writes: slot (32) then value (32)
//! version 2 only:
//! 20+32(n+m)+64w 65    the payer's signature: r (32) ‖ s (32) ‖ v (27 or 28), low s, over
//!                      keccak256 of every byte before it
//! ```
//!
//! The payer is the address the signature recovers to: it pays the fee, so only its key can
//! spend its balance. The encoding is exactly `20 + 32n + 32m + 64w` bytes (plus 65 for version
//! 2). Decoding refuses (as [`TxError`]) anything else, and a tx that breaks a rule that holds
//! whatever the state is: no nullifier, a zero note hash or nullifier (zero is the empty leaf of
//! the trees), the same nullifier twice, the same slot written twice, a write to a reserved slot
//! (first byte [`RESERVED_SLOT_PREFIX`]: the fee balances live there, [`balance_slot`]), a fee
//! without a payer, a bad or high-s signature. So every [`Tx`] value is well-formed, and
//! `decode(encode(tx)) == tx`, `encode(decode(b)) == b` for every `b` that decodes.
//!
//! The tx hash is `keccak256(encoding)`. It is what the forced-inclusion queue stores for a
//! forced tx (`txData` is the encoding) and what `forcedTxsHash` in the header chains. The tx's
//! first nullifier is its identity inside L2 (what stops a replay); the hash is its identity on L1.
//!
//! A write of value zero clears the slot, as an EVM `SSTORE` of zero does.

use std::collections::HashSet;

use alloy::primitives::{keccak256, Address, Bytes, Signature, B256, U256};
use alloy::signers::{local::PrivateKeySigner, SignerSync};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Version byte of an unpaid tx (fee zero, no payer).
pub const TX_VERSION: u8 = 1;
/// Version byte of a paid tx (a fee and its payer's signature).
pub const PAID_TX_VERSION: u8 = 2;
/// Bytes of a paid tx's signature: r, s, v.
pub const SIGNATURE_LEN: usize = 65;
/// First byte of the public-data slots no tx may write: the fee balances ([`balance_slot`]).
pub const RESERVED_SLOT_PREFIX: u8 = 0xfe;
/// Half the secp256k1 group order: a canonical signature's s is at most this.
const HALF_ORDER: U256 = U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// The public-data slot holding `account`'s L2 fee balance (a `U256`, big-endian):
/// `0xfe ‖ 11 zero bytes ‖ account`. Reserved: txs may not write it, only deposits and fees
/// change it.
pub fn balance_slot(account: Address) -> B256 {
    let mut slot = [0u8; 32];
    slot[0] = RESERVED_SLOT_PREFIX;
    slot[12..].copy_from_slice(account.as_slice());
    B256::from(slot)
}
/// At most this many note hashes per tx.
pub const MAX_NOTE_HASHES_PER_TX: usize = 64;
/// At most this many nullifiers per tx (at least one: the tx's own).
pub const MAX_NULLIFIERS_PER_TX: usize = 64;
/// At most this many public-data writes per tx.
pub const MAX_PUBLIC_WRITES_PER_TX: usize = 64;
/// Bytes before the note hashes: version, fee and the three counts.
const PREFIX_LEN: usize = 1 + 16 + 3;
/// The longest encoding: 20 + 32·64 + 32·64 + 64·64 + 65 = 8277 bytes (a paid tx).
pub const MAX_TX_ENCODED_LEN: usize = PREFIX_LEN
    + 32 * MAX_NOTE_HASHES_PER_TX
    + 32 * MAX_NULLIFIERS_PER_TX
    + 64 * MAX_PUBLIC_WRITES_PER_TX
    + SIGNATURE_LEN;

/// One public-data write: `slot := value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicDataWrite {
    pub slot: B256,
    pub value: B256,
}

/// Why bytes are not a tx, or fields cannot make one. Every case holds whatever the state is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    #[error("tx encoding is empty")]
    Empty,
    #[error("unknown tx encoding version {0}")]
    UnknownVersion(u8),
    #[error("tx encoding is {actual} bytes, its counts need {expected}")]
    WrongLength { expected: usize, actual: usize },
    #[error("tx has no nullifier (the first nullifier is the tx's own)")]
    NoNullifier,
    #[error("tx has {count} {what}, at most {max} allowed")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("tx note hash {index} is zero")]
    ZeroNoteHash { index: usize },
    #[error("tx nullifier {index} is zero")]
    ZeroNullifier { index: usize },
    #[error("tx repeats nullifier {0}")]
    RepeatedNullifier(B256),
    #[error("tx writes slot {0} twice")]
    RepeatedSlot(B256),
    #[error("tx writes reserved slot {0} (fee balances)")]
    ReservedSlot(B256),
    #[error("unpaid (version 1) tx declares a fee of {0}")]
    FeeWithoutPayer(u128),
    #[error("paid tx signature is malformed, high-s or does not recover")]
    BadSignature,
    #[error("signing a paid tx failed: {0}")]
    Signing(String),
}

/// Who pays a paid tx's fee, and its signature over the tx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Payment {
    payer: Address,
    signature: [u8; SIGNATURE_LEN],
}

/// A well-formed L2 tx: every value of this type satisfies the rules in the module doc.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Bytes", into = "Bytes")]
pub struct Tx {
    note_hashes: Vec<B256>,
    nullifiers: Vec<B256>,
    public_writes: Vec<PublicDataWrite>,
    fee: u128,
    payment: Option<Payment>,
}

impl Tx {
    /// An unpaid tx (version 1, fee zero) from its fields, checked against the rules of the
    /// module doc.
    pub fn new(
        note_hashes: Vec<B256>,
        nullifiers: Vec<B256>,
        public_writes: Vec<PublicDataWrite>,
    ) -> Result<Self, TxError> {
        Self::checked(note_hashes, nullifiers, public_writes, 0, None)
    }

    /// A paid tx (version 2): `fee` comes out of `payer`'s L2 fee balance, and `payer` signs.
    pub fn paid(
        note_hashes: Vec<B256>,
        nullifiers: Vec<B256>,
        public_writes: Vec<PublicDataWrite>,
        fee: u128,
        payer: &PrivateKeySigner,
    ) -> Result<Self, TxError> {
        let mut tx = Self::checked(note_hashes, nullifiers, public_writes, fee, None)?;
        let digest = keccak256(tx.body_encoding(PAID_TX_VERSION));
        let sig = payer
            .sign_hash_sync(&digest)
            .map_err(|e| TxError::Signing(e.to_string()))?;
        // alloy signs low-s (RFC 6979 with normalisation), as decoding requires.
        tx.payment = Some(Payment {
            payer: payer.address(),
            signature: sig.as_bytes(),
        });
        Ok(tx)
    }

    fn checked(
        note_hashes: Vec<B256>,
        nullifiers: Vec<B256>,
        public_writes: Vec<PublicDataWrite>,
        fee: u128,
        payment: Option<Payment>,
    ) -> Result<Self, TxError> {
        check_count("note hashes", note_hashes.len(), MAX_NOTE_HASHES_PER_TX)?;
        check_count("nullifiers", nullifiers.len(), MAX_NULLIFIERS_PER_TX)?;
        check_count(
            "public writes",
            public_writes.len(),
            MAX_PUBLIC_WRITES_PER_TX,
        )?;
        if nullifiers.is_empty() {
            return Err(TxError::NoNullifier);
        }
        if let Some(index) = note_hashes.iter().position(B256::is_zero) {
            return Err(TxError::ZeroNoteHash { index });
        }
        if let Some(index) = nullifiers.iter().position(B256::is_zero) {
            return Err(TxError::ZeroNullifier { index });
        }
        let mut seen = HashSet::with_capacity(nullifiers.len());
        if let Some(n) = nullifiers.iter().find(|n| !seen.insert(**n)) {
            return Err(TxError::RepeatedNullifier(*n));
        }
        let mut slots = HashSet::with_capacity(public_writes.len());
        if let Some(w) = public_writes.iter().find(|w| !slots.insert(w.slot)) {
            return Err(TxError::RepeatedSlot(w.slot));
        }
        if let Some(w) = public_writes
            .iter()
            .find(|w| w.slot[0] == RESERVED_SLOT_PREFIX)
        {
            return Err(TxError::ReservedSlot(w.slot));
        }
        Ok(Self {
            note_hashes,
            nullifiers,
            public_writes,
            fee,
            payment,
        })
    }

    pub fn note_hashes(&self) -> &[B256] {
        &self.note_hashes
    }

    pub fn nullifiers(&self) -> &[B256] {
        &self.nullifiers
    }

    /// The tx's own nullifier: its identity inside L2.
    pub fn tx_nullifier(&self) -> B256 {
        self.nullifiers[0]
    }

    pub fn public_writes(&self) -> &[PublicDataWrite] {
        &self.public_writes
    }

    /// The fee, out of [`Tx::payer`]'s balance (zero for an unpaid tx).
    pub fn fee(&self) -> u128 {
        self.fee
    }

    /// Who pays the fee: the signer of a paid tx; none for an unpaid one.
    pub fn payer(&self) -> Option<Address> {
        self.payment.map(|p| p.payer)
    }

    /// Length of [`Tx::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        PREFIX_LEN
            + 32 * self.note_hashes.len()
            + 32 * self.nullifiers.len()
            + 64 * self.public_writes.len()
            + if self.payment.is_some() {
                SIGNATURE_LEN
            } else {
                0
            }
    }

    /// The canonical encoding (module doc).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Append the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match &self.payment {
            None => self.body_into(TX_VERSION, out),
            Some(p) => {
                self.body_into(PAID_TX_VERSION, out);
                out.extend_from_slice(&p.signature);
            }
        }
    }

    /// Everything but the signature, under `version`: what a paid tx's payer signs.
    fn body_encoding(&self, version: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.body_into(version, &mut out);
        out
    }

    fn body_into(&self, version: u8, out: &mut Vec<u8>) {
        out.push(version);
        out.extend_from_slice(&self.fee.to_be_bytes());
        // Counts fit a byte: the limits are checked at construction.
        out.push(self.note_hashes.len() as u8);
        out.push(self.nullifiers.len() as u8);
        out.push(self.public_writes.len() as u8);
        for h in &self.note_hashes {
            out.extend_from_slice(h.as_slice());
        }
        for n in &self.nullifiers {
            out.extend_from_slice(n.as_slice());
        }
        for w in &self.public_writes {
            out.extend_from_slice(w.slot.as_slice());
            out.extend_from_slice(w.value.as_slice());
        }
    }

    /// Decode the canonical encoding; refuses anything [`Tx::encode`] would not produce.
    pub fn decode(bytes: &[u8]) -> Result<Self, TxError> {
        let (&version, rest) = bytes.split_first().ok_or(TxError::Empty)?;
        let signature_len = match version {
            TX_VERSION => 0,
            PAID_TX_VERSION => SIGNATURE_LEN,
            other => return Err(TxError::UnknownVersion(other)),
        };
        if bytes.len() < PREFIX_LEN {
            return Err(TxError::WrongLength {
                expected: PREFIX_LEN,
                actual: bytes.len(),
            });
        }
        let fee = u128::from_be_bytes(rest[..16].try_into().expect("16 bytes"));
        let (n, m, w) = (bytes[17] as usize, bytes[18] as usize, bytes[19] as usize);
        let body_len = PREFIX_LEN + 32 * n + 32 * m + 64 * w;
        let expected = body_len + signature_len;
        if bytes.len() != expected {
            return Err(TxError::WrongLength {
                expected,
                actual: bytes.len(),
            });
        }
        let payment = if version == PAID_TX_VERSION {
            Some(recover_payer(&bytes[..body_len], &bytes[body_len..])?)
        } else if fee != 0 {
            return Err(TxError::FeeWithoutPayer(fee));
        } else {
            None
        };
        let mut words = bytes[PREFIX_LEN..body_len]
            .chunks_exact(32)
            .map(B256::from_slice);
        let note_hashes = words.by_ref().take(n).collect();
        let nullifiers = words.by_ref().take(m).collect();
        let mut public_writes = Vec::with_capacity(w);
        while let (Some(slot), Some(value)) = (words.next(), words.next()) {
            public_writes.push(PublicDataWrite { slot, value });
        }
        Self::checked(note_hashes, nullifiers, public_writes, fee, payment)
    }

    /// `keccak256(encoding)`: the hash the forced-inclusion queue stores.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }
}

/// The payer of a paid tx: who signed `body`. Only canonical signatures (v 27 or 28, low s) are
/// taken, so a tx has one encoding.
fn recover_payer(body: &[u8], signature: &[u8]) -> Result<Payment, TxError> {
    let bytes: [u8; SIGNATURE_LEN] = signature.try_into().map_err(|_| TxError::BadSignature)?;
    if !matches!(bytes[64], 27 | 28) {
        return Err(TxError::BadSignature);
    }
    let sig = Signature::try_from(&bytes[..]).map_err(|_| TxError::BadSignature)?;
    if sig.s() > HALF_ORDER {
        return Err(TxError::BadSignature);
    }
    let payer = sig
        .recover_address_from_prehash(&keccak256(body))
        .map_err(|_| TxError::BadSignature)?;
    Ok(Payment {
        payer,
        signature: bytes,
    })
}

/// The hash of raw tx data as the forced-inclusion queue computes it, whether or not it decodes.
pub fn tx_data_hash(data: &[u8]) -> B256 {
    keccak256(data)
}

fn check_count(what: &'static str, count: usize, max: usize) -> Result<(), TxError> {
    if count > max {
        return Err(TxError::TooMany { what, count, max });
    }
    Ok(())
}

impl TryFrom<Bytes> for Tx {
    type Error = TxError;

    fn try_from(bytes: Bytes) -> Result<Self, TxError> {
        Self::decode(&bytes)
    }
}

impl From<Tx> for Bytes {
    fn from(tx: Tx) -> Self {
        tx.encode().into()
    }
}

/// proptest strategies for well-formed txs, shared by this crate's tests.
#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub fn nonzero_word() -> impl Strategy<Value = B256> {
        any::<[u8; 32]>().prop_map(|mut b| {
            b[0] |= 1;
            B256::from(b)
        })
    }

    /// A payer key for the tests (its fee balance has to be credited by a deposit first).
    pub fn payer() -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::with_last_byte(0x42)).expect("a valid key")
    }

    /// Well-formed txs with up to `max` entries in each list, unpaid or (half the time) paid by
    /// [`payer`] (random words never repeat in practice; construction would refuse a repeat or a
    /// reserved slot and the strategy filters it).
    pub fn tx(max: usize) -> impl Strategy<Value = Tx> {
        (
            prop::collection::vec(nonzero_word(), 0..=max),
            prop::collection::vec(nonzero_word(), 1..=max.max(1)),
            prop::collection::vec((any::<[u8; 32]>(), any::<[u8; 32]>()), 0..=max),
            prop::option::of(any::<u128>()),
        )
            .prop_filter_map(
                "repeated nullifier or slot",
                |(notes, nulls, writes, fee)| {
                    let writes = writes
                        .into_iter()
                        .map(|(s, v)| PublicDataWrite {
                            slot: s.into(),
                            value: v.into(),
                        })
                        .collect();
                    match fee {
                        None => Tx::new(notes, nulls, writes).ok(),
                        Some(fee) => Tx::paid(notes, nulls, writes, fee, &payer()).ok(),
                    }
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{b256, hex};
    use proptest::prelude::*;

    fn w(n: u8) -> B256 {
        B256::with_last_byte(n)
    }

    fn sample() -> Tx {
        Tx::new(
            vec![w(1), w(2)],
            vec![w(3)],
            vec![PublicDataWrite {
                slot: w(4),
                value: w(5),
            }],
        )
        .unwrap()
    }

    fn paid_sample() -> Tx {
        Tx::paid(
            vec![w(1), w(2)],
            vec![w(3)],
            vec![PublicDataWrite {
                slot: w(4),
                value: w(5),
            }],
            0x0102,
            &strategies::payer(),
        )
        .unwrap()
    }

    #[test]
    fn encoding_layout_is_as_documented() {
        let enc = sample().encode();
        assert_eq!(enc.len(), 20 + 32 * 2 + 32 + 64);
        assert_eq!(enc[0], 1);
        assert_eq!(&enc[1..17], &[0u8; 16]);
        assert_eq!(&enc[17..20], &[2, 1, 1]);
        assert_eq!(&enc[20..52], w(1).as_slice());
        assert_eq!(&enc[84..116], w(3).as_slice());
        assert_eq!(&enc[116..148], w(4).as_slice());
        assert_eq!(&enc[148..180], w(5).as_slice());
    }

    /// A fixed tx and its hash, to catch an accidental change of the encoding.
    #[test]
    fn hash_of_a_fixed_tx() {
        let tx = sample();
        let expected = hex!(
            "01 00000000000000000000000000000000 02 01 01"
            "0000000000000000000000000000000000000000000000000000000000000001"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "0000000000000000000000000000000000000000000000000000000000000003"
            "0000000000000000000000000000000000000000000000000000000000000004"
            "0000000000000000000000000000000000000000000000000000000000000005"
        );
        assert_eq!(tx.encode(), expected);
        assert_eq!(tx.hash(), keccak256(expected));
        assert_eq!(tx.hash(), tx_data_hash(&expected));
        assert_ne!(
            tx.hash(),
            b256!("0000000000000000000000000000000000000000000000000000000000000000")
        );
    }

    #[test]
    fn construction_rules() {
        assert_eq!(Tx::new(vec![], vec![], vec![]), Err(TxError::NoNullifier));
        assert_eq!(
            Tx::new(vec![w(1), B256::ZERO], vec![w(1)], vec![]),
            Err(TxError::ZeroNoteHash { index: 1 })
        );
        assert_eq!(
            Tx::new(vec![], vec![B256::ZERO], vec![]),
            Err(TxError::ZeroNullifier { index: 0 })
        );
        assert_eq!(
            Tx::new(vec![], vec![w(7), w(7)], vec![]),
            Err(TxError::RepeatedNullifier(w(7)))
        );
        let write = PublicDataWrite {
            slot: w(9),
            value: w(1),
        };
        assert_eq!(
            Tx::new(vec![], vec![w(1)], vec![write, write]),
            Err(TxError::RepeatedSlot(w(9)))
        );
        let too_many = vec![w(1); MAX_NOTE_HASHES_PER_TX + 1];
        assert!(matches!(
            Tx::new(too_many, vec![w(1)], vec![]),
            Err(TxError::TooMany { .. })
        ));
        // The same note hash twice is fine: notes are not a set.
        assert!(Tx::new(vec![w(2), w(2)], vec![w(1)], vec![]).is_ok());
        // Zero values are writes that clear the slot.
        let clear = PublicDataWrite {
            slot: w(9),
            value: B256::ZERO,
        };
        assert!(Tx::new(vec![], vec![w(1)], vec![clear]).is_ok());
    }

    #[test]
    fn decoding_refuses_non_canonical_bytes() {
        let enc = sample().encode();
        assert_eq!(Tx::decode(&[]), Err(TxError::Empty));
        let mut v3 = enc.clone();
        v3[0] = 3;
        assert_eq!(Tx::decode(&v3), Err(TxError::UnknownVersion(3)));
        // Version 2 without its signature.
        let mut v2 = enc.clone();
        v2[0] = 2;
        assert!(matches!(Tx::decode(&v2), Err(TxError::WrongLength { .. })));
        // A fee on an unpaid tx.
        let mut fee = enc.clone();
        fee[16] = 1;
        assert_eq!(Tx::decode(&fee), Err(TxError::FeeWithoutPayer(1)));
        assert!(matches!(
            Tx::decode(&enc[..10]),
            Err(TxError::WrongLength { .. })
        ));
        assert!(matches!(
            Tx::decode(&enc[..enc.len() - 1]),
            Err(TxError::WrongLength { .. })
        ));
        let mut long = enc.clone();
        long.push(0);
        assert!(matches!(
            Tx::decode(&long),
            Err(TxError::WrongLength { .. })
        ));
        let mut no_null = enc.clone();
        no_null[18] = 0;
        no_null.drain(84..116);
        assert_eq!(Tx::decode(&no_null), Err(TxError::NoNullifier));
        let mut too_many = vec![1u8; PREFIX_LEN];
        too_many[1..17].fill(0); // no fee: an unpaid tx
        too_many[17] = 65;
        too_many[18] = 1;
        too_many[19] = 0;
        too_many.resize(PREFIX_LEN + 32 * 66, 1);
        assert!(matches!(
            Tx::decode(&too_many),
            Err(TxError::TooMany { count: 65, .. })
        ));
    }

    /// A paid tx recovers its payer from its signature; any change to what was signed changes the
    /// payer (so it pays from someone else's, most likely empty, balance) or breaks the signature.
    #[test]
    fn a_paid_tx_names_its_signer_as_payer() {
        let tx = paid_sample();
        let enc = tx.encode();
        assert_eq!(enc.len(), 20 + 32 * 2 + 32 + 64 + SIGNATURE_LEN);
        assert_eq!(enc[0], PAID_TX_VERSION);
        assert_eq!(&enc[1..17], &0x0102u128.to_be_bytes());
        assert_eq!(tx.payer(), Some(strategies::payer().address()));
        assert_eq!(tx.fee(), 0x0102);
        assert_eq!(Tx::decode(&enc).unwrap(), tx);

        let mut more_fee = enc.clone();
        more_fee[16] = 0xff;
        match Tx::decode(&more_fee) {
            Ok(other) => assert_ne!(other.payer(), tx.payer()),
            Err(e) => assert_eq!(e, TxError::BadSignature),
        }
        // As an unpaid tx it is malformed: a fee and 65 stray bytes.
        let mut unpaid = enc.clone();
        unpaid[0] = TX_VERSION;
        assert!(Tx::decode(&unpaid).is_err());
    }

    /// High-s twins and other v bytes are refused: one tx, one encoding, one hash.
    #[test]
    fn paid_tx_signatures_must_be_canonical() {
        let enc = paid_sample().encode();
        let sig = enc.len() - SIGNATURE_LEN;
        let mut high_s = enc.clone();
        let s = U256::from_be_slice(&enc[sig + 32..sig + 64]);
        let n = HALF_ORDER * U256::from(2) + U256::from(1);
        high_s[sig + 32..sig + 64].copy_from_slice(&(n - s).to_be_bytes::<32>());
        high_s[sig + 64] ^= 1; // 27 <-> 28: the twin recovers the same key
        assert_eq!(Tx::decode(&high_s), Err(TxError::BadSignature));
        let mut v = enc.clone();
        v[sig + 64] -= 27;
        assert_eq!(Tx::decode(&v), Err(TxError::BadSignature));
    }

    #[test]
    fn fee_balances_cannot_be_written_by_txs() {
        let slot = balance_slot(strategies::payer().address());
        assert_eq!(slot[0], RESERVED_SLOT_PREFIX);
        assert_eq!(&slot[12..], strategies::payer().address().as_slice());
        let write = PublicDataWrite {
            slot,
            value: B256::with_last_byte(1),
        };
        assert_eq!(
            Tx::new(vec![], vec![w(1)], vec![write]),
            Err(TxError::ReservedSlot(slot))
        );
    }

    #[test]
    fn serde_is_the_hex_encoding() {
        let tx = sample();
        let json = serde_json::to_string(&tx).unwrap();
        assert_eq!(json, format!("\"0x{}\"", hex::encode(tx.encode())));
        assert_eq!(serde_json::from_str::<Tx>(&json).unwrap(), tx);
        assert!(serde_json::from_str::<Tx>("\"0x02\"").is_err());
    }

    proptest! {
        #[test]
        fn encoding_round_trips(tx in strategies::tx(8)) {
            let enc = tx.encode();
            prop_assert_eq!(enc.len(), tx.encoded_len());
            prop_assert_eq!(Tx::decode(&enc).unwrap(), tx);
        }

        /// Whatever bytes decode re-encode to themselves: the encoding is canonical.
        #[test]
        fn decoded_bytes_re_encode_identically(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(tx) = Tx::decode(&bytes) {
                prop_assert_eq!(tx.encode(), bytes);
            }
        }

        /// Mutating one byte of a valid encoding never yields a different tx with the same bytes
        /// (canonicity), and a length change is always refused.
        #[test]
        fn single_byte_changes_are_caught_or_change_the_tx(tx in strategies::tx(4), pos in any::<prop::sample::Index>(), b in any::<u8>()) {
            let mut enc = tx.encode();
            let i = pos.index(enc.len());
            enc[i] = b;
            if let Ok(other) = Tx::decode(&enc) {
                prop_assert_eq!(other.encode(), enc);
            }
        }
    }
}
