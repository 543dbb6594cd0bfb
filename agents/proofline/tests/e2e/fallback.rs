//! End-to-end test of based fallback (SPEC 6, issue 7): the real `proofline` binary, a real anvil
//! and the deploy script, with FALLBACK_ENTER at its least (two epochs and a slot). Part of the
//! `e2e` test binary, so it runs beside the node's other end-to-end tests.
//!
//! Two nodes: `committee` holds all 4 validators, and no prover runs, so its blocks are never
//! proven; `based` holds no validator and proposes in fallback with `--fallback-key`. Each gets
//! its own tx load. The test checks, from L1:
//!
//! 1. fallback begins FALLBACK_ENTER slots after the deployment (no proof ever came), and the
//!    based node's first `proposeWithProof` drops the committee's unproven blocks and appends a
//!    block proven on arrival, from the based node's key;
//! 2. every tx of the dropped blocks is proposed again in a kept block, or waits in a pool: the
//!    based node rebuilds on the proven tip with them;
//! 3. while fallback runs the committee sends no `propose` (not even a reverted one);
//! 4. fallback ends, the committee proposes again on the fallback blocks, and both nodes hold the
//!    same chain as L1.

use std::{collections::HashSet, time::Duration};

use crate::common::*;
use alloy::{
    consensus::Transaction as _, primitives::B256, providers::Provider, sol_types::SolCall,
};
use proofline_bindings::Rollup;
use proofline_scenario::report::{replay, ChainEvent};

const SLOT: u64 = 3;
const EPOCH: u64 = 4;
const VALIDATORS: usize = 4;
/// The least the deployment allows: more than two epochs.
const FALLBACK_ENTER: u64 = 2 * EPOCH + 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn based_fallback_keeps_the_chain_live() {
    install_tls_provider();
    if !tools_present("based_fallback_keeps_the_chain_live") {
        return;
    }
    let diag = Diagnostics::new("fallback");
    let net = Devnet::start(
        diag.clone(),
        DevnetConfig {
            validators: VALIDATORS,
            slot_duration: SLOT,
            epoch_duration: EPOCH,
            block_time: 1,
            claim_window: None,
            extra_accounts: 1,
            fallback_enter: Some(FALLBACK_ENTER),
        },
    )
    .await;
    let l1 = &net.l1;
    let based_key = net.dev_key(VALIDATORS + 1);
    let mut committee = NodeProc::new(net.node_spec("committee", &net.validators, &net.url), &diag);
    let mut spec = net.node_spec("based", &[], &net.url);
    let key_file = proofline_devnet::harness::write_key_file(
        &diag.dir().join("based.key"),
        &[format!("{}", based_key.to_bytes())],
    )
    .unwrap();
    spec.extra_args = vec!["--fallback-key-file".into(), key_file.display().to_string()];
    let mut based = NodeProc::new(spec, &diag);
    committee.start();
    based.start();
    let _load_c = net.txgen(&committee, 1, 3);
    let _load_b = net.txgen(&based, 2, 3);

    // 1. Fallback begins and the based node's first block lands, proven.
    let first = wait_for(
        "the first block proposed in based fallback",
        Duration::from_secs(SLOT * (FALLBACK_ENTER + 2 * EPOCH) + 60),
        Duration::from_millis(500),
        || async {
            l1.rollup
                .L2BlockProvenInFallback_filter()
                .from_block(l1.d.deploy_block)
                .query()
                .await
                .ok()?
                .into_iter()
                .next()
        },
    )
    .await;
    let (ev, landed) = first;
    assert_eq!(
        ev.proposer,
        based_key.address(),
        "proposed with the fallback key"
    );
    let number: u64 = ev.blockNumber.saturating_to();
    log(format!(
        "block {number} proposed in fallback, L1 block {:?}",
        landed.block_number
    ));
    let status = l1.rollup.getFallbackStatus().call().await.unwrap();
    let start: u64 = status.start.saturating_to();
    let end: u64 = status.end.saturating_to();
    assert!(status.active, "fallback is on once a fallback block landed");
    assert!(
        start >= FALLBACK_ENTER,
        "fallback began at slot {start}, before FALLBACK_ENTER"
    );
    let tx = l1
        .provider
        .get_transaction_by_hash(landed.transaction_hash.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        Rollup::proposeWithProofCall::abi_decode(tx.input()).is_ok(),
        "a proposeWithProof call"
    );

    // 4. Fallback ends and the committee proposes again on top of the fallback blocks.
    let resumed = wait_for(
        "a committee block after fallback",
        Duration::from_secs(SLOT * (end - start + EPOCH) + 60),
        Duration::from_millis(500),
        || async {
            let exited = l1
                .rollup
                .FallbackExited_filter()
                .from_block(l1.d.deploy_block)
                .query()
                .await
                .ok()?;
            let (_, exit_log) = exited.first()?;
            let after = exit_log.block_number?;
            l1.landed_between(after, None)
                .await
                .into_iter()
                .find(|b| b.slot >= end)
        },
    )
    .await;
    log(format!(
        "fallback ran slots {start}..{end}; the committee proposed block {} in slot {}",
        resumed.number, resumed.slot
    ));
    let fallback_blocks = l1
        .rollup
        .L2BlockProvenInFallback_filter()
        .from_block(l1.d.deploy_block)
        .query()
        .await
        .unwrap();
    assert!(
        fallback_blocks.len() >= 2,
        "the based node proposed in more than one fallback slot: {}",
        fallback_blocks.len()
    );
    let committee_propose = l1.propose_tx(resumed.tx_hash).await;
    assert!(committee_propose.success);
    assert!(
        net.validators
            .iter()
            .any(|v| v.address() == committee_propose.from),
        "the block after fallback is the committee's"
    );

    // 3. No `propose` from the committee in fallback, mined or reverted.
    let proposes = l1.propose_txs(l1.d.deploy_block, resumed.l1_block).await;
    let in_fallback: Vec<u64> = proposes
        .iter()
        .map(|p| p.slot())
        .filter(|s| (start..end).contains(s))
        .collect();
    assert!(
        in_fallback.is_empty(),
        "the committee proposed in fallback slots {in_fallback:?}"
    );
    assert!(
        committee
            .log_text()
            .contains("based fallback: the committee does not propose"),
        "the committee logged why it skipped its slots"
    );

    // 2. The dropped blocks' txs are proposed again or pooled.
    let events = proofline_scenario::events::collect_events(&l1.provider, &l1.d)
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e.event, ChainEvent::Pruned { proven: 0, .. })));
    let blocks = replay(&events);
    let kept: HashSet<B256> = blocks
        .iter()
        .filter(|b| b.pruned.is_none())
        .flat_map(|b| b.txs.iter().copied())
        .collect();
    let dropped: Vec<B256> = blocks
        .iter()
        .filter(|b| b.pruned.is_some())
        .flat_map(|b| b.txs.iter().copied())
        .collect();
    assert!(
        !dropped.is_empty(),
        "the committee's blocks carried txs before they were dropped"
    );
    let mut missing = Vec::new();
    for tx in dropped.iter().filter(|h| !kept.contains(*h)) {
        let pooled = committee.pooled(*tx).await.unwrap() || based.pooled(*tx).await.unwrap();
        if !pooled {
            missing.push(*tx);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} dropped txs neither re-proposed nor pooled: {missing:?}",
        missing.len(),
        dropped.len()
    );

    // 4. Both nodes follow L1.
    let c = committee.wait_synced(l1, Duration::from_secs(30)).await;
    let b = based.wait_synced(l1, Duration::from_secs(30)).await;
    let tip = c.synced_block.min(b.synced_block);
    let on_l1 = l1.archive(tip).await;
    for node in [&committee, &based] {
        let block = node.block(tip).await.unwrap().unwrap();
        assert_eq!(
            block.archive, on_l1,
            "node {} at block {tip}",
            node.spec.name
        );
    }
    assert!(
        based
            .metric("proofline_fallback_blocks_proposed_total")
            .await
            .unwrap()
            >= 2.0
    );
    diag.note(format!(
        "{} fallback blocks, {} txs dropped with the committee's blocks, all back",
        fallback_blocks.len(),
        dropped.len()
    ));
}
