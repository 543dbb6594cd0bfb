//! The block body in EIP-4844 blobs, and the versioned hashes the header commits to (SPEC 4).
//!
//! # Framing
//!
//! The body is its tx effects in order (encoding: [`crate::execution`]), each framed by alloy's
//! [`SimpleCoder`]: every 32-byte field element keeps its first byte zero (so it is always below
//! the BLS modulus) and carries 31 data bytes; an item is one element holding its length as a
//! big-endian `u64` (in bytes 1..9), then its bytes in 31-byte chunks, the last one zero-padded.
//! Items follow each other across blob boundaries; the first element whose length is zero ends
//! the body. A tx effect of `b` bytes thus takes `ceil(b / 31) + 1` of the 4096 elements a blob
//! has.
//!
//! - An empty body has **no blob** (the Rollup accepts a block with no blob hash; docs/decisions.md).
//! - A body spans as many blobs as it needs, at most [`MAX_BLOBS_PER_BLOCK`].
//! - Decoding is strict: blobs decode only if encoding the decoded body gives them back byte for
//!   byte, so one body has exactly one blob encoding and one list of versioned hashes. Trailing
//!   data after the end marker, a non-zero padding byte or an extra empty blob is refused.
//!
//! # Commitments
//!
//! Versioned hashes are `0x01 ‖ sha256(commitment)[1..]` of each blob's KZG commitment, computed
//! with c-kzg and Ethereum's trusted setup (alloy's `kzg` feature). [`BlockBlobs::sidecar_4844`]
//! and [`BlockBlobs::sidecar_7594`] add the proofs a blob transaction needs, for the L1 client.

use alloy::eips::eip4844::builder::{SidecarBuilder, SidecarCoder, SimpleCoder};
use alloy::eips::eip4844::env_settings::EnvKzgSettings;
use alloy::eips::eip4844::{
    c_kzg, kzg_to_versioned_hash, Blob, BlobTransactionSidecar, Bytes48, FIELD_ELEMENTS_PER_BLOB,
};
use alloy::eips::eip7594::BlobTransactionSidecarEip7594;
use alloy::primitives::B256;
use thiserror::Error;

use crate::execution::{BlockBody, EffectError, TxEffect};
use crate::tx::Tx;

/// Blobs one block may use: the per-transaction blob limit of EIP-7594 (Fusaka), also Cancun's
/// per-block maximum.
pub const MAX_BLOBS_PER_BLOCK: usize = 6;
/// Field elements the body of one block may use.
pub const MAX_BODY_FIELD_ELEMENTS: usize = MAX_BLOBS_PER_BLOCK * FIELD_ELEMENTS_PER_BLOB as usize;

/// Why a body cannot be put in blobs, or blobs are not a body.
#[derive(Debug, Error)]
pub enum BlobError {
    #[error("body needs {needed} blobs, a block may carry {MAX_BLOBS_PER_BLOCK}")]
    TooManyBlobs { needed: usize },
    #[error(
        "blobs do not decode with the simple coder (a field element out of range or a bad length)"
    )]
    Undecodable,
    #[error("blob item {index} is not a tx effect: {error}")]
    BadEffect { index: usize, error: EffectError },
    #[error("blobs are not the canonical encoding of the body they decode to")]
    NotCanonical,
    #[error("kzg: {0}")]
    Kzg(#[from] c_kzg::Error),
}

/// Field elements one item of `len > 0` bytes takes: its length, then 31 bytes per element.
pub fn field_elements_for(len: usize) -> usize {
    1 + len.div_ceil(31)
}

/// Room left in a block's blobs, for a proposer filling a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodySpace {
    used: usize,
    capacity: usize,
}

impl Default for BodySpace {
    fn default() -> Self {
        Self::new()
    }
}

impl BodySpace {
    /// An empty block's worth of room ([`MAX_BODY_FIELD_ELEMENTS`]).
    pub fn new() -> Self {
        Self::with_capacity(MAX_BODY_FIELD_ELEMENTS)
    }

    /// Room for `capacity` field elements (a proposer that wants fewer blobs).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { used: 0, capacity }
    }

    pub fn used(&self) -> usize {
        self.used
    }

    /// Take room for an effect of `len` bytes; false (and nothing taken) if it does not fit.
    pub fn take(&mut self, len: usize) -> bool {
        let fes = field_elements_for(len);
        if self.used + fes > self.capacity {
            return false;
        }
        self.used += fes;
        true
    }

    /// Take room for `tx` as an executed tx.
    pub fn take_tx(&mut self, tx: &Tx) -> bool {
        self.take(1 + tx.encoded_len())
    }

    /// Take room for a forced tx whatever its outcome (executed, or failed: 34 bytes).
    pub fn take_forced(&mut self, data: &[u8]) -> bool {
        self.take((1 + data.len()).max(34))
    }
}

/// Encode a body into blobs (none for an empty body).
pub fn encode_body(body: &BlockBody) -> Result<Vec<Blob>, BlobError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<Vec<u8>> = body.effects.iter().map(TxEffect::encode).collect();
    let fes: usize = items.iter().map(|i| field_elements_for(i.len())).sum();
    let needed = fes.div_ceil(FIELD_ELEMENTS_PER_BLOB as usize);
    if needed > MAX_BLOBS_PER_BLOCK {
        return Err(BlobError::TooManyBlobs { needed });
    }
    let mut builder = SidecarBuilder::<SimpleCoder>::with_capacity(needed);
    for item in &items {
        builder.ingest(item);
    }
    let blobs = builder.take();
    debug_assert_eq!(blobs.len(), needed);
    Ok(blobs)
}

/// Decode blobs into the body they carry; strict (module doc).
pub fn decode_body(blobs: &[Blob]) -> Result<BlockBody, BlobError> {
    if blobs.is_empty() {
        return Ok(BlockBody::default());
    }
    if blobs.len() > MAX_BLOBS_PER_BLOCK {
        return Err(BlobError::TooManyBlobs {
            needed: blobs.len(),
        });
    }
    let items = SimpleCoder::default()
        .decode_all(blobs)
        .ok_or(BlobError::Undecodable)?;
    let effects = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            TxEffect::decode(item).map_err(|error| BlobError::BadEffect { index, error })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body = BlockBody::new(effects);
    if encode_body(&body)? != blobs {
        return Err(BlobError::NotCanonical);
    }
    Ok(body)
}

/// The KZG commitment of a blob.
pub fn commitment(blob: &Blob) -> Result<Bytes48, BlobError> {
    let blob = c_kzg::Blob::from_bytes(blob.as_slice())?;
    let commitment = EnvKzgSettings::Default
        .get()
        .blob_to_kzg_commitment(&blob)?;
    Ok(Bytes48::from(commitment.to_bytes().into_inner()))
}

pub use proofline_core::proposal::blobs_hash;

/// A body's blobs with their commitments and versioned hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockBlobs {
    pub blobs: Vec<Blob>,
    pub commitments: Vec<Bytes48>,
    pub versioned_hashes: Vec<B256>,
}

impl BlockBlobs {
    /// Encode `body` and commit to its blobs.
    pub fn from_body(body: &BlockBody) -> Result<Self, BlobError> {
        Self::from_blobs(encode_body(body)?)
    }

    /// Commit to `blobs`.
    pub fn from_blobs(blobs: Vec<Blob>) -> Result<Self, BlobError> {
        let commitments = blobs
            .iter()
            .map(commitment)
            .collect::<Result<Vec<_>, _>>()?;
        let versioned_hashes = commitments
            .iter()
            .map(|c| kzg_to_versioned_hash(c.as_slice()))
            .collect();
        Ok(Self {
            blobs,
            commitments,
            versioned_hashes,
        })
    }

    pub fn blobs_hash(&self) -> B256 {
        blobs_hash(&self.versioned_hashes)
    }

    /// The sidecar of a type-3 transaction with blob proofs (EIP-4844).
    pub fn sidecar_4844(&self) -> Result<BlobTransactionSidecar, BlobError> {
        Ok(BlobTransactionSidecar::try_from_blobs_with_settings(
            self.blobs.clone(),
            EnvKzgSettings::Default.get(),
        )?)
    }

    /// The sidecar with cell proofs (EIP-7594, from Fusaka on).
    pub fn sidecar_7594(&self) -> Result<BlobTransactionSidecarEip7594, BlobError> {
        Ok(BlobTransactionSidecarEip7594::try_from_blobs_with_settings(
            self.blobs.clone(),
            EnvKzgSettings::Default.get(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::FailureReason;
    use crate::tx::{strategies, PublicDataWrite, MAX_NOTE_HASHES_PER_TX, MAX_NULLIFIERS_PER_TX};
    use alloy::primitives::keccak256;
    use proptest::prelude::*;

    fn failed(n: u8) -> TxEffect {
        TxEffect::Failed {
            tx_hash: B256::repeat_byte(n),
            reason: FailureReason::Malformed,
        }
    }

    /// The largest tx: 64 notes, 64 nullifiers, 64 writes (8,212 bytes).
    fn big_tx(seed: u8) -> Tx {
        let word = |kind: u8, i: usize| {
            let mut b = [seed; 32];
            b[0] = kind;
            b[1] = i as u8;
            B256::from(b)
        };
        Tx::new(
            (0..MAX_NOTE_HASHES_PER_TX).map(|i| word(1, i)).collect(),
            (0..MAX_NULLIFIERS_PER_TX).map(|i| word(2, i)).collect(),
            (0..64)
                .map(|i| PublicDataWrite {
                    slot: word(3, i),
                    value: word(4, i),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn field_elements_for_matches_the_coder() {
        for len in [1, 30, 31, 32, 62, 63, 8213] {
            assert_eq!(
                field_elements_for(len),
                SimpleCoder::default().required_fe(&vec![1u8; len]),
                "len {len}"
            );
        }
    }

    #[test]
    fn empty_body_has_no_blob() {
        assert!(encode_body(&BlockBody::default()).unwrap().is_empty());
        assert_eq!(decode_body(&[]).unwrap(), BlockBody::default());
        let b = BlockBlobs::from_body(&BlockBody::default()).unwrap();
        assert!(b.versioned_hashes.is_empty());
        assert_eq!(b.blobs_hash(), keccak256([]));
    }

    #[test]
    fn one_small_effect_is_one_blob_laid_out_as_documented() {
        let body = BlockBody::new(vec![failed(7)]);
        let blobs = encode_body(&body).unwrap();
        assert_eq!(blobs.len(), 1);
        let b = &blobs[0];
        // Length element: 34 as a u64 in bytes 1..9.
        assert_eq!(&b[..9], &[0, 0, 0, 0, 0, 0, 0, 0, 34]);
        // Data: tag 1, then the hash, 31 bytes per element behind a zero byte.
        assert_eq!(b[32], 0);
        assert_eq!(b[33], 1);
        assert_eq!(&b[34..64], &[7u8; 30]);
        assert_eq!(b[64], 0);
        assert_eq!(&b[65..67], &[7, 7]);
        assert_eq!(b[67], 1); // reason
        assert!(b[68..].iter().all(|x| *x == 0));
        assert_eq!(decode_body(&blobs).unwrap(), body);
    }

    #[test]
    fn a_body_spans_blobs_and_refuses_past_the_limit() {
        // 8,213-byte effects take 266 elements each: 15 per blob, 92 in six blobs.
        let per = field_elements_for(1 + big_tx(0).encoded_len());
        assert_eq!(per, 266);
        let fitting = MAX_BODY_FIELD_ELEMENTS / per;
        let body = BlockBody::new(
            (0..fitting)
                .map(|i| TxEffect::Executed(big_tx(i as u8)))
                .collect(),
        );
        let blobs = encode_body(&body).unwrap();
        assert_eq!(blobs.len(), MAX_BLOBS_PER_BLOCK);
        assert_eq!(decode_body(&blobs).unwrap(), body);

        let mut over = body.clone();
        over.effects.push(TxEffect::Executed(big_tx(200)));
        assert!(matches!(
            encode_body(&over),
            Err(BlobError::TooManyBlobs { needed: 7 })
        ));

        let mut space = BodySpace::new();
        let taken = (0..200).take_while(|i| space.take_tx(&big_tx(*i))).count();
        assert_eq!(taken, fitting);
    }

    #[test]
    fn decoding_refuses_non_canonical_blobs() {
        let body = BlockBody::new(vec![failed(1), failed(2)]);
        let blobs = encode_body(&body).unwrap();

        // Data after the end marker.
        let mut trailing = blobs.clone();
        trailing[0][32 * 200 + 5] = 1;
        assert!(matches!(
            decode_body(&trailing),
            Err(BlobError::NotCanonical)
        ));

        // A non-zero byte in the padding of an item's last element.
        let mut padded = blobs.clone();
        padded[0][32 * 2 + 10] = 9;
        assert!(matches!(decode_body(&padded), Err(BlobError::NotCanonical)));

        // A field element at or above the modulus (first byte set).
        let mut high = blobs.clone();
        high[0][32 * 300] = 0xff;
        assert!(matches!(decode_body(&high), Err(BlobError::Undecodable)));

        // An extra empty blob.
        let mut extra = blobs.clone();
        extra.push(Blob::ZERO);
        assert!(matches!(decode_body(&extra), Err(BlobError::NotCanonical)));

        // One all-zero blob is not the empty body's encoding (that has no blob).
        assert!(matches!(
            decode_body(&[Blob::ZERO]),
            Err(BlobError::NotCanonical)
        ));

        // An item that is not a tx effect.
        let mut bad = blobs;
        bad[0][33] = 5;
        assert!(matches!(
            decode_body(&bad),
            Err(BlobError::BadEffect { index: 0, .. })
        ));
    }

    #[test]
    fn versioned_hashes_follow_eip_4844() {
        let body = BlockBody::new(vec![failed(3)]);
        let b = BlockBlobs::from_body(&body).unwrap();
        assert_eq!(b.versioned_hashes.len(), 1);
        assert_eq!(b.versioned_hashes[0][0], 0x01);
        let sidecar = b.sidecar_4844().unwrap();
        let from_sidecar: Vec<B256> = sidecar.versioned_hashes().collect();
        assert_eq!(from_sidecar, b.versioned_hashes);
        assert_eq!(sidecar.commitments, b.commitments);
        assert_eq!(b.blobs_hash(), keccak256(b.versioned_hashes[0]));
        // The zero blob commits to the point at infinity.
        let zero = commitment(&Blob::ZERO).unwrap();
        assert_eq!(zero[0], 0xc0);
        assert!(zero[1..].iter().all(|x| *x == 0));
    }

    fn effect() -> impl Strategy<Value = TxEffect> {
        prop_oneof![
            strategies::tx(6).prop_map(TxEffect::Executed),
            (any::<[u8; 32]>(), 1u8..=3).prop_map(|(h, r)| TxEffect::Failed {
                tx_hash: h.into(),
                reason: FailureReason::from_code(r).unwrap()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Bodies from empty to six blobs round-trip, with as many blobs as they need.
        #[test]
        fn bodies_round_trip(
            effects in prop_oneof![Just(Vec::new()), prop::collection::vec(effect(), 1..40)],
            big in prop_oneof![Just(0usize), 1usize..=80],
        ) {
            let mut effects = effects;
            // Up to 80 of the largest txs (266 field elements each): up to six blobs.
            effects.extend((0..big).map(|i| TxEffect::Executed(big_tx(i as u8))));
            let body = BlockBody::new(effects);
            let fes: usize = body.effects.iter().map(|e| field_elements_for(e.encoded_len())).sum();
            let blobs = encode_body(&body).unwrap();
            prop_assert_eq!(blobs.len(), fes.div_ceil(FIELD_ELEMENTS_PER_BLOB as usize));
            prop_assert!(blobs.len() <= MAX_BLOBS_PER_BLOCK);
            prop_assert_eq!(decode_body(&blobs).unwrap(), body);
        }

        /// Any single byte changed in a body's blobs either fails to decode or decodes to a body
        /// whose own encoding is exactly the changed blobs: never two encodings of one body.
        #[test]
        fn changed_blobs_never_alias(effects in prop::collection::vec(effect(), 1..6), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let body = BlockBody::new(effects);
            let mut blobs = encode_body(&body).unwrap();
            let used = body.effects.iter().map(|e| field_elements_for(e.encoded_len())).sum::<usize>() * 32 + 64;
            let i = pos.index(used.min(blobs.len() * blobs[0].len()));
            blobs[i / 131_072][i % 131_072] = byte;
            if let Ok(decoded) = decode_body(&blobs) {
                prop_assert_eq!(encode_body(&decoded).unwrap(), blobs);
            }
        }
    }
}
