//! The epoch proof a prover hands to a submitter (SPEC 5.4), and the dev proof that stands in for
//! real proving.
//!
//! The public inputs are the Rollup's, in its order (`contracts/interfaces/IEpochVerifier.sol`):
//! `[previousArchive, endArchive, epoch, endBlockNumber, prover, keccak256(abi.encode(fees))]`.
//! `InsecureDevEpochVerifier` accepts keccak256 of their concatenation as the proof.

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::sol_types::SolValue;
use proofline_bindings::Rollup;
use proofline_core::Epoch;
use serde::{Deserialize, Serialize};

/// One proven block's reward recipient and the fees it collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockFees {
    pub coinbase: Address,
    pub fees: U256,
}

/// What a proof of one epoch binds, gathered from the derived L2 chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochStatement {
    pub epoch: Epoch,
    /// The proven tip the proof starts from, and its archive.
    pub proven_tip: u64,
    pub previous_archive: B256,
    /// The epoch's last block, and its archive.
    pub end_block: u64,
    pub end_archive: B256,
    pub prover: Address,
    /// One entry per block `proven_tip + 1 ..= end_block`.
    pub fees: Vec<BlockFees>,
}

/// A finished proof, ready for any submitter: it is only valid for this statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochProof {
    pub statement: EpochStatement,
    pub proof: Bytes,
}

impl EpochStatement {
    fn fee_recipients(&self) -> Vec<Rollup::FeeRecipient> {
        self.fees
            .iter()
            .map(|f| Rollup::FeeRecipient {
                recipient: f.coinbase,
                value: f.fees,
            })
            .collect()
    }

    /// The verifier's public inputs, as `submitEpochRootProof` builds them.
    pub fn public_inputs(&self) -> [B256; 6] {
        [
            self.previous_archive,
            self.end_archive,
            B256::from(U256::from(self.epoch.0)),
            B256::from(U256::from(self.end_block)),
            self.prover.into_word(),
            keccak256(self.fee_recipients().abi_encode()),
        ]
    }

    /// The proof `InsecureDevEpochVerifier` accepts. It proves nothing.
    pub fn dev_proof(&self) -> EpochProof {
        let proof = keccak256(self.public_inputs().concat());
        EpochProof {
            statement: self.clone(),
            proof: Bytes::from(proof.to_vec()),
        }
    }
}

impl EpochProof {
    pub fn to_args(&self) -> Rollup::EpochProofArgs {
        let s = &self.statement;
        Rollup::EpochProofArgs {
            epoch: U256::from(s.epoch.0),
            endBlockNumber: U256::from(s.end_block),
            previousArchive: s.previous_archive,
            endArchive: s.end_archive,
            prover: s.prover,
            fees: s.fee_recipients(),
            proof: self.proof.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolCall;

    /// The public inputs match what the Rollup hashes: checked against an independent encoding of
    /// `abi.encode(FeeRecipient[])` (offset, length, then the static tuples).
    #[test]
    fn fees_hash_is_abi_encode_of_the_array() {
        let s = EpochStatement {
            epoch: Epoch(3),
            proven_tip: 10,
            previous_archive: B256::repeat_byte(1),
            end_block: 12,
            end_archive: B256::repeat_byte(2),
            prover: Address::repeat_byte(9),
            fees: vec![
                BlockFees {
                    coinbase: Address::repeat_byte(7),
                    fees: U256::from(5u64),
                },
                BlockFees {
                    coinbase: Address::repeat_byte(8),
                    fees: U256::from(6u64),
                },
            ],
        };
        let mut enc = Vec::new();
        enc.extend_from_slice(&U256::from(32u64).to_be_bytes::<32>());
        enc.extend_from_slice(&U256::from(2u64).to_be_bytes::<32>());
        for f in &s.fees {
            enc.extend_from_slice(f.coinbase.into_word().as_slice());
            enc.extend_from_slice(&f.fees.to_be_bytes::<32>());
        }
        assert_eq!(s.public_inputs()[5], keccak256(&enc));
        assert_eq!(s.public_inputs()[2], B256::from(U256::from(3u64)));
        let p = s.dev_proof();
        assert_eq!(p.proof.len(), 32);
        // The call encodes (a smoke check that the binding's struct takes what we give it).
        let call = Rollup::submitEpochRootProofCall { args: p.to_args() };
        assert!(call.abi_encode().len() > 4 + 32 * 8);
    }

    /// The epoch is stored and sent as a plain number (`Epoch` is serde-transparent), so proof
    /// files, stored proofs and `submitter_submitProof` params keep their format.
    #[test]
    fn the_epoch_serialises_as_a_number() {
        let s = EpochStatement {
            epoch: Epoch(3),
            proven_tip: 10,
            previous_archive: B256::ZERO,
            end_block: 12,
            end_archive: B256::ZERO,
            prover: Address::ZERO,
            fees: vec![],
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["epoch"], serde_json::json!(3));
        assert_eq!(serde_json::from_value::<EpochStatement>(json).unwrap(), s);
    }
}
