//! `deployments/<chainId>.json`, as `script/Deploy.s.sol` writes it (SPEC 8).

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use serde::Deserialize;

/// The addresses and parameters of one Proofline deployment. Only the fields the L1 layer and
/// the agents read; the file has a few more.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub chain_id: u64,
    pub rollup: Address,
    pub escrow: Address,
    pub forced_inclusion_queue: Address,
    pub staking_asset: Address,
    pub bond_asset: Address,
    pub reward_asset: Address,
    pub verifier: Address,
    pub tx_proof_verifier: Address,
    pub deployer: Address,
    /// The chain head the script ran against; the contracts landed after it, so the Rollup's
    /// events can be scanned from here.
    pub deploy_block: u64,
    pub genesis_time: u64,
    pub genesis_archive: B256,
    pub slot_duration: u64,
    pub epoch_duration: u64,
    pub proof_claim_window: u64,
    pub target_committee_size: u64,
    pub min_bond: U256,
    pub min_stake: U256,
    #[serde(default)]
    pub validators: Vec<Address>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a Proofline deployment: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl Deployment {
    /// The deployment's time rules (SPEC 2, 5): slots, epochs, the claim window and deadlines.
    pub fn schedule(&self) -> Result<proofline_core::Schedule, proofline_core::TimeError> {
        proofline_core::Schedule::from_params(
            self.genesis_time,
            self.slot_duration,
            self.epoch_duration,
            self.proof_claim_window,
        )
    }

    /// Reads `<dir>/<chain_id>.json`.
    pub fn load(dir: &Path, chain_id: u64) -> Result<Self, DeploymentError> {
        Self::load_file(&dir.join(format!("{chain_id}.json")))
    }

    pub fn load_file(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path).map_err(|source| DeploymentError::Read {
            path: path.into(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| DeploymentError::Parse {
            path: path.into(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_deploy_script_writes() {
        // Numbers as forge's serializer writes them: small ones as JSON numbers, large as strings.
        let json = r#"{
          "bondAsset": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "chainId": 918546, "deployBlock": 0,
          "deployer": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "epochDuration": 8,
          "escrow": "0x0165878A594ca255338adfa4d48449f69242Eb8F", "escrowWithdrawDelay": 288,
          "fallbackEnter": 24, "fallbackExitActivity": 8, "fallbackExitTotal": 16, "forcedInclusionDelay": 2,
          "forcedInclusionQueue": "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
          "genesisArchive": "0x85037e4e24dbdc066c26cfeedcaec3fe77bec82bca3bbfdfe6962afaf6449258",
          "genesisTime": 1795265899, "minBond": "1000000000000000000000", "minForcedTxsPerBlock": 4,
          "minStake": "100000000000000000000", "proofClaimWindow": 4,
          "rewardAsset": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
          "rollup": "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6", "slotDuration": 12,
          "stakingAsset": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "targetCommitteeSize": 48,
          "txProofVerifier": "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707", "validatorExitDelay": 288,
          "validators": [], "verifier": "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9"
        }"#;
        let d: Deployment = serde_json::from_str(json).unwrap();
        assert_eq!(d.chain_id, 918546);
        assert_eq!(
            d.min_bond,
            U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64))
        );
        assert_eq!(d.slot_duration, 12);
        assert!(d.validators.is_empty());
    }
}
