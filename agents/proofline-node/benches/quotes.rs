//! Epoch proof quote intake (target: 10,000 signed quotes/s validated on a 2-core machine).
//!
//! Signs N distinct quotes (one prover each, so every one is pooled), then measures, single
//! threaded unless said otherwise:
//!
//! - `recover_signer` alone: the secp256k1 recovery that dominates validation;
//! - `validate`: digest, recovery and every check of the Rollup's `_validateClaim`;
//! - `validate` on every core (`std::thread::available_parallelism`);
//! - the pool insert path: `QuoteIntake::submit` as the RPC server calls it (rate limit,
//!   validation, pool insert, metrics), and `QuoteIntake::submit_wire` as gossip does (the same
//!   after decoding the 256-byte ABI encoding).
//!
//! ```text
//! nice cargo bench -p proofline-node --bench quotes
//! QUOTES_N=50000 nice cargo bench -p proofline-node --bench quotes
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use libp2p::PeerId;
use proofline_core::quote::{
    recover_signer, sign_quote, validate, EpochProofQuote, SignedEpochProofQuote, ValidationContext,
};
use proofline_core::{Epoch, Schedule, Slot, TimeConfig, Timestamp};
use proofline_node::metrics::Metrics;
use proofline_node::quote_intake::{FixedEscrow, IntakeConfig, QuoteIntake, QuoteSource};
use proofline_node::quotes::PoolConfig;

const EPOCH: u64 = 5;

fn ctx() -> ValidationContext {
    ValidationContext::new(
        11_155_111,
        Address::repeat_byte(0xA4),
        &Schedule::new(
            TimeConfig::new(Timestamp(1_700_000_000), 36, 32).unwrap(),
            13,
        ),
        Slot(EPOCH * 32 + 10),
        Some(Epoch(EPOCH)),
        U256::from(10u64.pow(18)),
        false,
    )
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn report(label: &str, n: usize, elapsed: Duration) {
    println!(
        "{label:<44} {:>9.0} quotes/s  ({:.3} s)",
        rate(n, elapsed),
        elapsed.as_secs_f64()
    );
}

fn main() {
    let n: usize = std::env::var("QUOTES_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let domain = ctx().domain();
    let start = Instant::now();
    let quotes: Vec<SignedEpochProofQuote> = (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            let signer = PrivateKeySigner::from_bytes(&B256::from(seed)).expect("a valid key");
            let quote = EpochProofQuote {
                epoch_to_prove: U256::from(EPOCH),
                valid_until_slot: U256::from((EPOCH + 1) * 32 + 12),
                bond_amount: U256::from(10u64.pow(18)) * U256::from(1 + i % 50),
                prover: signer.address(),
                basis_point_fee: (i % 10_001) as u32,
            };
            sign_quote(&signer, &domain, quote).expect("signing")
        })
        .collect();
    println!(
        "{n} signed quotes ({:.0} signatures/s to make them), {} cores",
        rate(n, start.elapsed()),
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    let mut context = ctx();
    context.escrow = quotes
        .iter()
        .map(|q| (q.quote.prover, U256::from(10u128.pow(20))))
        .collect::<HashMap<_, _>>();

    let digests: Vec<B256> = quotes.iter().map(|q| q.digest(&domain)).collect();
    let start = Instant::now();
    for (q, d) in quotes.iter().zip(&digests) {
        assert_eq!(recover_signer(*d, &q.signature), Ok(q.quote.prover));
    }
    report("recover_signer alone:", n, start.elapsed());

    let start = Instant::now();
    for q in &quotes {
        validate(q, &context).expect("valid");
    }
    let single = start.elapsed();
    report("validate, 1 thread:", n, single);

    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in quotes.chunks(n.div_ceil(threads)) {
            let context = &context;
            s.spawn(move || {
                for q in chunk {
                    validate(q, context).expect("valid");
                }
            });
        }
    });
    report(&format!("validate, {threads} threads:"), n, start.elapsed());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let intake = || {
        let config = IntakeConfig {
            pool: PoolConfig {
                max_per_epoch: n,
                max_total: n,
            },
            rpc_rate: 1e12,
            rpc_burst: u32::MAX,
            peer_rate: 1e12,
            peer_burst: u32::MAX,
            ..IntakeConfig::default()
        };
        let intake = QuoteIntake::new(
            config,
            Arc::new(Metrics::new()),
            Arc::new(FixedEscrow::default()),
        );
        intake.set_context(context.clone());
        intake
    };

    let rpc = intake();
    let start = Instant::now();
    rt.block_on(async {
        for q in &quotes {
            rpc.submit(QuoteSource::Rpc, *q).await.expect("accepted");
        }
    });
    report("pool insert path (submit, as RPC):", n, start.elapsed());
    assert_eq!(rpc.len(), n);
    rpc.with_pool(|p| p.check_invariants()).expect("invariants");

    let wires: Vec<Vec<u8>> = quotes.iter().map(|q| q.to_wire()).collect();
    let gossip = intake();
    let peer = PeerId::random();
    let start = Instant::now();
    rt.block_on(async {
        for w in &wires {
            gossip.submit_wire(peer, w).await.expect("accepted");
        }
    });
    report(
        "pool insert path (submit_wire, as gossip):",
        n,
        start.elapsed(),
    );
    assert_eq!(gossip.len(), n);

    let best = rpc.best(Epoch(EPOCH)).expect("a best bid");
    println!(
        "best of {n}: fee {} bp, bond {}",
        best.quote().basis_point_fee,
        best.quote().bond_amount
    );
    let target = 10_000.0;
    println!(
        "single-threaded validation is {:.1}x the 10,000 quotes/s target",
        rate(n, single) / target
    );
}
