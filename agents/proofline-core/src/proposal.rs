//! What a proposer sends to `Rollup.propose` and the EIP-712 digest the committee signs (SPEC 4),
//! with the one conversion to and from the Rollup binding's `ProposeArgs` and the decoding of
//! the proposing calls' calldata.
//!
//! The struct and domain mirror `contracts/libraries/ProposalLib.sol` and the Rollup's
//! `EIP712("Proofline Rollup", "1")`:
//!
//! ```text
//! Proposal(uint256 slot,uint256 blockNumber,bytes32 previousArchive,bytes32 archive,bytes32 stateRoot,bytes32 blobsHash,uint256 txCount,uint256 forcedTxCount,bytes32 forcedTxsHash)
//! blobsHash = keccak256(abi.encodePacked(blobHashes))
//! domain    = {name: "Proofline Rollup", version: "1", chainId, verifyingContract: rollup}
//! digest    = keccak256(0x1901 ‖ domainSeparator ‖ structHash)
//! ```
//!
//! `test-vectors/proposal.json` is written by `test/vectors/ProposalVector.t.sol` from the
//! deployed contract; a test here recomputes it, so the two sides cannot drift apart silently.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol;
use alloy::sol_types::{Eip712Domain, SolCall, SolStruct};
use proofline_bindings::Rollup;
use serde::{Deserialize, Serialize};

/// `keccak256(abi.encodePacked(blobHashes))`: how a proposal and a header commit to their blobs.
pub fn blobs_hash(versioned_hashes: &[B256]) -> B256 {
    keccak256(versioned_hashes.concat())
}

/// EIP-712 domain name of the Rollup.
pub const DOMAIN_NAME: &str = "Proofline Rollup";
/// EIP-712 domain version of the Rollup.
pub const DOMAIN_VERSION: &str = "1";

sol! {
    /// The attested struct, field for field as `ProposalLib.PROPOSAL_TYPEHASH` declares it.
    #[derive(Debug, PartialEq, Eq)]
    struct Proposal {
        uint256 slot;
        uint256 blockNumber;
        bytes32 previousArchive;
        bytes32 archive;
        bytes32 stateRoot;
        bytes32 blobsHash;
        uint256 txCount;
        uint256 forcedTxCount;
        bytes32 forcedTxsHash;
    }
}

/// The Rollup's EIP-712 domain on `chain_id` at `rollup`.
pub fn rollup_domain(chain_id: u64, rollup: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(DOMAIN_NAME.into()),
        Some(DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(rollup),
        None,
    )
}

/// `IRollup.ProposeArgs`, field for field (numbers as `uint256`, so any calldata can be digested).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposeArgs {
    pub block_number: U256,
    pub slot: U256,
    pub previous_archive: B256,
    pub archive: B256,
    pub state_root: B256,
    pub blob_hashes: Vec<B256>,
    pub tx_count: U256,
    pub forced_tx_count: U256,
    pub forced_txs_hash: B256,
}

impl ProposeArgs {
    /// The EIP-712 struct these args are attested as.
    pub fn proposal(&self) -> Proposal {
        Proposal {
            slot: self.slot,
            blockNumber: self.block_number,
            previousArchive: self.previous_archive,
            archive: self.archive,
            stateRoot: self.state_root,
            blobsHash: blobs_hash(&self.blob_hashes),
            txCount: self.tx_count,
            forcedTxCount: self.forced_tx_count,
            forcedTxsHash: self.forced_txs_hash,
        }
    }

    /// `ProposalLib.structHash(args)`.
    pub fn struct_hash(&self) -> B256 {
        self.proposal().eip712_hash_struct()
    }

    /// `Rollup.proposalDigest(args)` for the Rollup at `domain`: what each attester signs.
    pub fn digest(&self, domain: &Eip712Domain) -> B256 {
        self.proposal().eip712_signing_hash(domain)
    }

    /// The public inputs of the block proof `Rollup.proposeWithProof` verifies (based fallback,
    /// SPEC 6), in its order: `[previousArchive, archive, epoch, blockNumber, proposer, 0,
    /// proposalDigest]`. `epoch` is the epoch of the block's slot, `proposer` the sender of the
    /// transaction; the sixth input (an epoch proof's fees) is zero, as fallback blocks earn no
    /// L1 reward.
    pub fn block_proof_inputs(
        &self,
        domain: &Eip712Domain,
        epoch: u64,
        proposer: Address,
    ) -> [B256; 7] {
        [
            self.previous_archive,
            self.archive,
            B256::from(U256::from(epoch)),
            B256::from(self.block_number),
            proposer.into_word(),
            B256::ZERO,
            self.digest(domain),
        ]
    }

    /// The block proof `InsecureDevEpochVerifier` accepts: keccak256 of the public inputs. It
    /// proves nothing; a real deployment needs a block prover here.
    pub fn dev_block_proof(&self, domain: &Eip712Domain, epoch: u64, proposer: Address) -> B256 {
        alloy::primitives::keccak256(self.block_proof_inputs(domain, epoch, proposer).concat())
    }
}

impl From<&Rollup::ProposeArgs> for ProposeArgs {
    fn from(a: &Rollup::ProposeArgs) -> Self {
        Self {
            block_number: a.blockNumber,
            slot: a.slot,
            previous_archive: a.previousArchive,
            archive: a.archive,
            state_root: a.stateRoot,
            blob_hashes: a.blobHashes.clone(),
            tx_count: a.txCount,
            forced_tx_count: a.forcedTxCount,
            forced_txs_hash: a.forcedTxsHash,
        }
    }
}

impl From<&ProposeArgs> for Rollup::ProposeArgs {
    fn from(a: &ProposeArgs) -> Self {
        Self {
            blockNumber: a.block_number,
            slot: a.slot,
            previousArchive: a.previous_archive,
            archive: a.archive,
            stateRoot: a.state_root,
            blobHashes: a.blob_hashes.clone(),
            txCount: a.tx_count,
            forcedTxCount: a.forced_tx_count,
            forcedTxsHash: a.forced_txs_hash,
        }
    }
}

/// The block arguments of one of the Rollup's proposing calls (`propose`, `proposeAndClaim`,
/// `proposeWithProof`), decoded from its calldata; `None` for any other calldata.
pub fn decode_propose_input(input: &[u8]) -> Option<ProposeArgs> {
    let args = if let Ok(call) = Rollup::proposeCall::abi_decode(input) {
        call.args
    } else if let Ok(call) = Rollup::proposeAndClaimCall::abi_decode(input) {
        call.args
    } else if let Ok(call) = Rollup::proposeWithProofCall::abi_decode(input) {
        call.args
    } else {
        return None;
    };
    Some(ProposeArgs::from(&args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::keccak256;
    use alloy::sol_types::SolValue;
    use std::path::PathBuf;

    #[test]
    fn type_string_is_the_contracts() {
        assert_eq!(
            Proposal::eip712_encode_type(),
            "Proposal(uint256 slot,uint256 blockNumber,bytes32 previousArchive,bytes32 archive,\
             bytes32 stateRoot,bytes32 blobsHash,uint256 txCount,uint256 forcedTxCount,bytes32 forcedTxsHash)"
        );
    }

    #[test]
    fn struct_hash_is_abi_encode_of_typehash_and_fields() {
        let args = ProposeArgs {
            block_number: U256::from(7),
            slot: U256::from(99),
            previous_archive: B256::repeat_byte(1),
            archive: B256::repeat_byte(2),
            state_root: B256::repeat_byte(3),
            blob_hashes: vec![B256::repeat_byte(4), B256::repeat_byte(5)],
            tx_count: U256::from(3),
            forced_tx_count: U256::from(1),
            forced_txs_hash: B256::repeat_byte(6),
        };
        let typehash = keccak256(Proposal::eip712_encode_type().as_bytes());
        let blobs = keccak256([B256::repeat_byte(4), B256::repeat_byte(5)].concat());
        let encoded = (
            typehash,
            args.slot,
            args.block_number,
            args.previous_archive,
            args.archive,
            args.state_root,
            blobs,
            args.tx_count,
            args.forced_tx_count,
            args.forced_txs_hash,
        )
            .abi_encode();
        assert_eq!(args.struct_hash(), keccak256(encoded));

        let domain = rollup_domain(1, Address::repeat_byte(9));
        let mut preimage = vec![0x19, 0x01];
        preimage.extend_from_slice(domain.separator().as_slice());
        preimage.extend_from_slice(args.struct_hash().as_slice());
        assert_eq!(args.digest(&domain), keccak256(preimage));
        // The digest moves with the chain and the rollup address.
        assert_ne!(
            args.digest(&domain),
            args.digest(&rollup_domain(2, Address::repeat_byte(9)))
        );
        assert_ne!(
            args.digest(&domain),
            args.digest(&rollup_domain(1, Address::repeat_byte(8)))
        );
    }

    #[test]
    fn propose_calls_decode_to_their_args() {
        let args = ProposeArgs {
            block_number: U256::from(7),
            slot: U256::from(70),
            previous_archive: B256::repeat_byte(1),
            archive: B256::repeat_byte(2),
            state_root: B256::repeat_byte(3),
            blob_hashes: vec![B256::repeat_byte(4)],
            tx_count: U256::from(3),
            forced_tx_count: U256::from(1),
            forced_txs_hash: B256::repeat_byte(5),
        };
        let call = Rollup::proposeCall {
            args: (&args).into(),
            attestations: Rollup::CommitteeAttestations {
                signers: U256::ZERO,
                signatures: vec![],
            },
        };
        assert_eq!(decode_propose_input(&call.abi_encode()), Some(args.clone()));
        let call = Rollup::proposeWithProofCall {
            args: (&args).into(),
            proof: Default::default(),
        };
        assert_eq!(decode_propose_input(&call.abi_encode()), Some(args.clone()));
        assert_eq!(ProposeArgs::from(&Rollup::ProposeArgs::from(&args)), args);
        assert_eq!(decode_propose_input(&[1, 2, 3, 4]), None);
    }

    /// `test-vectors/proposal.json`, as `test/vectors/ProposalVector.t.sol` writes it.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Vector {
        chain_id: U256,
        rollup: Address,
        args: ProposeArgs,
        type_hash: B256,
        domain_separator: B256,
        blobs_hash: B256,
        struct_hash: B256,
        digest: B256,
        #[allow(dead_code)]
        note: Option<String>,
    }

    /// The contract's digest of fixed args, recorded by forge, equals ours byte for byte.
    #[test]
    fn digest_matches_the_contract_vector() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/proposal.json");
        let json = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (generate it: see test/vectors/ProposalVector.t.sol)",
                path.display()
            )
        });
        let v: Vector = serde_json::from_str(&json).expect("vector parses");
        let domain = rollup_domain(v.chain_id.to::<u64>(), v.rollup);

        assert_eq!(
            keccak256(Proposal::eip712_encode_type().as_bytes()),
            v.type_hash,
            "type hash"
        );
        assert_eq!(domain.separator(), v.domain_separator, "domain separator");
        assert_eq!(blobs_hash(&v.args.blob_hashes), v.blobs_hash, "blobs hash");
        assert_eq!(v.args.struct_hash(), v.struct_hash, "struct hash");
        assert_eq!(v.args.digest(&domain), v.digest, "digest");
        // The vector is not trivial: every field of the args is set.
        assert_eq!(v.args.blob_hashes.len(), 2);
        assert!(v.args.forced_tx_count > U256::ZERO && !v.args.forced_txs_hash.is_zero());
    }
}
