//! Typed bindings of the Proofline contracts and revert decoding.
//!
//! Every binding is expanded by alloy's `sol!` from forge's JSON artifact in `out/` (build.rs
//! rebuilds them when `contracts/` changes), so an ABI can never drift from the Solidity source.
//! Each contract is a module of the same name: `Rollup::proposeCall`, `Rollup::L2BlockProposed`,
//! `Rollup::RollupInstance` (with `#[sol(rpc)]`), `Errors::Rollup__QuoteExpired`, ...
//!
//! The Rollup links `StakingLib`, so its bytecode is not usable as is: its binding carries the ABI
//! only and deployments go through `script/Deploy.s.sol`. The contracts without links (DevToken,
//! the escrow, the queue, the dev verifiers) keep their bytecode and can be deployed from Rust.
//!
//! [`decode_revert`] turns any revert payload into a readable [`DecodedError`]; [`RevertData`]
//! pulls that payload out of alloy's errors.

mod revert;

pub use revert::{decode_revert, DecodedArg, DecodedError, RevertData};

// The generated code has no docs of its own and mirrors Solidity's names and arities.
#[allow(
    missing_docs,
    non_snake_case,
    clippy::too_many_arguments,
    clippy::pub_underscore_fields
)]
mod generated {
    alloy::sol!(
        #[sol(rpc, abi, ignore_unlinked)]
        #[derive(Debug, PartialEq, Eq)]
        Rollup,
        "../../out/Rollup.sol/Rollup.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        ProverEscrow,
        "../../out/ProverEscrow.sol/ProverEscrow.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        ForcedInclusionQueue,
        "../../out/ForcedInclusionQueue.sol/ForcedInclusionQueue.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        IEpochVerifier,
        "../../out/IEpochVerifier.sol/IEpochVerifier.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        InsecureDevEpochVerifier,
        "../../out/InsecureDevEpochVerifier.sol/InsecureDevEpochVerifier.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        InsecureDevTxProofVerifier,
        "../../out/InsecureDevTxProofVerifier.sol/InsecureDevTxProofVerifier.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        DevToken,
        "../../out/DevToken.sol/DevToken.json"
    );
    alloy::sol!(
        #[sol(abi)]
        #[derive(Debug, PartialEq, Eq)]
        Errors,
        "../../out/Errors.sol/Errors.json"
    );
    alloy::sol!(
        #[sol(abi, ignore_unlinked)]
        #[derive(Debug, PartialEq, Eq)]
        StakingLib,
        "../../out/StakingLib.sol/StakingLib.json"
    );
}

pub use generated::*;
