//! The prover market's agents (SPEC 5, issue 6): `proofline prover` (prover-bidder and prover,
//! [`agent`]) and `proofline submitter` ([`submitter`]). Operator guide: docs/prover.md.

pub mod agent;
pub mod decide;
pub mod metrics;
pub mod pricing;
pub mod proof;
mod prove;
pub mod rpc;
pub mod store;
pub mod submitter;
