//! End-to-end tests of the node (issue 5): the real `proofline` binary, a real anvil, the real
//! deploy script, two node processes exchanging attestations over libp2p, tx generators, and a
//! dev prover (so the pending chain is proven each epoch instead of pruned).
//!
//! Chain: 8 validators staked at deployment, 4 s slots, 4-slot epochs, 1 s L1 blocks. Epochs 0
//! and 1 have no committee (the nodes take turns by the staked validators); committees of all 8
//! (quorum 6) start at epoch 2, 32 s after genesis.
//!
//! Scenarios, numbered as in the issue:
//!
//! - `honest_network` (nodes `a` and `b` holding 4 validators each, so every committee block
//!   needs both, behind a TCP proxy to anvil), in order:
//!   1. blocks with blobs and quorum attestations land every slot of a committee window;
//!   2. a proposer SIGKILLed right after proposing, mid-epoch, and started again resumes from its
//!      store and never proposes twice in a slot (checked on L1 over the whole run);
//!   4. an anvil reorg of the 2 newest L1 blocks, dropping an L2 block, leaves both nodes equal,
//!      block by block (archive and state root), to a node synced from scratch afterwards;
//!   5. a 30 s L1 RPC outage: nodes stay up, `/health` says 503 during it and 200 after, and
//!      blocks land again.
//! - `wrong_state_root_is_refused` (3): a node run with `--fault wrong-state-root` holding 2 of
//!   the 8 validators (fewer than a quorum), the honest node the other 6: the faulty node's slots
//!   stay empty and the honest node logs its refusals ("state root mismatch"); the honest slots
//!   land.
//!
//! - `impersonator_cannot_censor_attestations` (in `e2e/adversary.rs`): a rogue peer that asks
//!   for attestations of valid blocks in the proposers' name cannot make the honest attesters
//!   refuse the real proposals.
//! - `based_fallback_keeps_the_chain_live` (in `e2e/fallback.rs`): a committee whose blocks are
//!   never proven, and a node proposing with proofs in based fallback.
//!
//! The tests run in parallel, each on its own anvil, chain id and ports. A failure prints the
//! tail of every log and keeps the test's directory (path printed at the start).

#[path = "e2e/adversary.rs"]
mod adversary;
mod common;
#[path = "e2e/fallback.rs"]
mod fallback;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
};
use common::*;
use proofline_core::{quorum, Epoch};
use serde_json::json;

const SLOT: u64 = 4;
const EPOCH: u64 = 4;
const VALIDATORS: usize = 8;
/// The first slot of epoch 2, the first with a committee.
const FIRST_COMMITTEE_SLOT: u64 = 2 * EPOCH;

fn config() -> DevnetConfig {
    DevnetConfig {
        validators: VALIDATORS,
        slot_duration: SLOT,
        epoch_duration: EPOCH,
        block_time: 1,
        claim_window: None,
        extra_accounts: 2,
        fallback_enter: None,
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Validators by index into the deployment's list.
fn keys(net: &Devnet, indices: &[usize]) -> Vec<alloy::signers::local::PrivateKeySigner> {
    indices.iter().map(|&i| net.validators[i].clone()).collect()
}

/// Why a slot has no block, for the test's output: its proposer and what the nodes logged about
/// it.
async fn explain_miss(net: &Devnet, nodes: &[&NodeProc], slot: u64) -> String {
    let proposer = net.l1.proposer(slot).await;
    let mut out = format!("slot {slot}: no block; proposer {proposer}");
    for node in nodes {
        let holder = node.addresses().contains(&proposer);
        out += &format!(
            "\n  node {}{}:",
            node.spec.name,
            if holder { " (holds the proposer)" } else { "" }
        );
        for line in node.lines_about_slot(slot) {
            out += &format!("\n    {line}");
        }
    }
    out
}

/// The slots of `from..=to` without an `L2BlockProposed`, and the events of the others (at most
/// one per slot, asserted).
async fn landed_by_slot(net: &Devnet, from: u64, to: u64) -> (BTreeMap<u64, Landed>, Vec<u64>) {
    let mut by_slot: BTreeMap<u64, Landed> = BTreeMap::new();
    for landed in net.l1.landed().await {
        if (from..=to).contains(&landed.slot) {
            assert!(
                by_slot.insert(landed.slot, landed.clone()).is_none(),
                "two L2BlockProposed in slot {}",
                landed.slot
            );
        }
    }
    let misses = (from..=to).filter(|s| !by_slot.contains_key(s)).collect();
    (by_slot, misses)
}

/// Over every L1 block since the deployment: at most one `L2BlockProposed` per slot, at most one
/// mined `propose` (successful or reverted) per proposer and slot, and no validator's signature
/// on two different proposals for one slot. Returns how many propose transactions were checked.
async fn assert_no_double_proposals(net: &Devnet) -> usize {
    let l1 = &net.l1;
    let mut per_slot: HashMap<u64, u32> = HashMap::new();
    for landed in l1.landed().await {
        *per_slot.entry(landed.slot).or_default() += 1;
    }
    for (slot, n) in &per_slot {
        assert!(*n <= 1, "{n} blocks landed in slot {slot}");
    }
    let head = l1.head().await;
    let txs = l1.propose_txs(l1.d.deploy_block, head).await;
    let mut by_proposer: HashMap<(Address, u64), Vec<B256>> = HashMap::new();
    let mut by_signer: HashMap<(Address, u64), HashSet<B256>> = HashMap::new();
    let mut committees: HashMap<u64, Vec<Address>> = HashMap::new();
    for tx in &txs {
        let slot = tx.slot();
        by_proposer
            .entry((tx.from, slot))
            .or_default()
            .push(tx.tx_hash);
        let epoch = l1.epoch_of(slot);
        if let std::collections::hash_map::Entry::Vacant(e) = committees.entry(epoch) {
            e.insert(l1.committee(epoch).await);
        }
        let committee = &committees[&epoch];
        let digest = tx.digest(&l1.d);
        for validator in tx.signed_by(committee, &l1.d) {
            by_signer
                .entry((validator, slot))
                .or_default()
                .insert(digest);
        }
    }
    for ((proposer, slot), hashes) in &by_proposer {
        assert_eq!(
            hashes.len(),
            1,
            "{proposer} sent {} propose transactions that were mined for slot {slot}: {hashes:?}",
            hashes.len()
        );
    }
    for ((validator, slot), digests) in &by_signer {
        assert_eq!(
            digests.len(),
            1,
            "validator {validator} signed {} different proposals for slot {slot}",
            digests.len()
        );
    }
    txs.len()
}

// ------------------------------------------------------------------ honest network

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_network() {
    if !tools_present("honest_network") {
        return;
    }
    let started = Instant::now();
    let diag = Diagnostics::new("honest_network");
    // Dropped last: prints the logs if anything below panics, after the processes are killed.
    let _report = FailureReport(diag.clone());
    let net = Devnet::start(diag.clone(), config()).await;
    let proxy = Proxy::start(([127, 0, 0, 1], net.anvil_port).into()).await;
    let _prover = AbortOnDrop(spawn_dev_prover(
        &net.url,
        net.deployment.clone(),
        net.dev_key(VALIDATORS + 1),
        diag.clone(),
    ));

    // Validators dealt round-robin, as `make devnet` does: 4 each, so neither node has a quorum
    // (6 of 8) alone and every committee block needs both nodes' attestations.
    let mut a = NodeProc::new(
        net.node_spec("a", &keys(&net, &[0, 2, 4, 6]), &proxy.url()),
        &diag,
    );
    let mut b = NodeProc::new(
        net.node_spec("b", &keys(&net, &[1, 3, 5, 7]), &proxy.url()),
        &diag,
    );
    a.spec.peers = vec![b.spec.p2p_port];
    b.spec.peers = vec![a.spec.p2p_port];
    a.start();
    b.start();
    let _txgen_a = net.txgen(&a, 1, 2);
    let _txgen_b = net.txgen(&b, 2, 2);

    blocks_land_every_slot(&net, &a, &b).await;
    log(format!("scenario 1 done at {:?}", started.elapsed()));
    restarted_proposer_resumes(&net, &mut a, &mut b).await;
    log(format!("scenario 2 done at {:?}", started.elapsed()));
    reorg_leaves_nodes_equal_to_a_fresh_node(&net, &a, &b).await;
    log(format!("scenario 4 done at {:?}", started.elapsed()));
    rpc_outage_is_survived(&net, &proxy, &mut a, &mut b).await;
    log(format!("scenario 5 done at {:?}", started.elapsed()));

    let checked = assert_no_double_proposals(&net).await;
    assert!(a.alive() && b.alive(), "both nodes still running");
    log(format!(
        "honest_network passed in {:?} ({checked} propose transactions checked)",
        started.elapsed()
    ));
}

/// Scenario 1: over six committee slots (epochs 2 and 3), with txs flowing, a block lands in
/// every slot (at most one miss, explained), each from the slot's proposer, in a blob transaction
/// whose blobs are the header's, attested by at least a quorum of the committee with signatures
/// from both nodes (neither has a quorum alone).
async fn blocks_land_every_slot(net: &Devnet, a: &NodeProc, b: &NodeProc) {
    let (first, last) = (FIRST_COMMITTEE_SLOT, FIRST_COMMITTEE_SLOT + 5);
    log(format!(
        "scenario 1: blocks in every slot of {first}..={last} (starts in {:.0} s)",
        net.l1.secs_until(first)
    ));
    // A block of slot `last` must be mined in that slot: once L1 is past it, all are in.
    net.l1.wait_slot(last + 1).await;
    let (landed, misses) = landed_by_slot(net, first, last).await;
    let (a_keys, b_keys) = (a.addresses(), b.addresses());
    let mut txs_total = 0u64;
    // Blocks each node proposed: the other node attested them.
    let mut proposed_by = [0usize; 2];
    for (slot, l) in &landed {
        let tx = net.l1.propose_tx(l.tx_hash).await;
        assert!(tx.success, "slot {slot}: the propose transaction reverted");
        proposed_by[usize::from(b_keys.contains(&tx.from))] += 1;
        assert_eq!(tx.slot(), *slot);
        assert_eq!(
            tx.from,
            net.l1.proposer(*slot).await,
            "slot {slot}: not sent by the slot's proposer"
        );
        assert_eq!(
            tx.tx_type, 3,
            "slot {slot}: the proposal is not a blob transaction"
        );
        assert!(
            !tx.blob_hashes.is_empty(),
            "slot {slot}: no blobs (txs are flowing, so no block is empty)"
        );
        assert_eq!(
            tx.blob_hashes, tx.args.blobHashes,
            "slot {slot}: the transaction's blobs are not the header's"
        );
        let tx_count: u64 = tx.args.txCount.saturating_to();
        assert!(tx_count > 0, "slot {slot}: an empty block");
        txs_total += tx_count;
        let committee = net.l1.committee(net.l1.epoch_of(*slot)).await;
        assert_eq!(committee.len(), VALIDATORS, "epoch committee of all 8");
        assert!(
            tx.signers < U256::from(1) << committee.len(),
            "slot {slot}: signer bits beyond the committee"
        );
        let signed = tx.signed_by(&committee, &net.l1.d);
        assert_eq!(signed.len(), tx.signatures.len());
        assert!(
            signed.len() >= quorum(committee.len()),
            "slot {slot}: {} signatures, quorum is {}",
            signed.len(),
            quorum(committee.len())
        );
        assert!(
            signed.iter().any(|v| a_keys.contains(v)) && signed.iter().any(|v| b_keys.contains(v)),
            "slot {slot}: both nodes' validators sign (neither has a quorum alone)"
        );
    }
    for slot in &misses {
        log(explain_miss(net, &[a, b], *slot).await);
    }
    assert!(
        misses.len() <= 1,
        "blocks missing in slots {misses:?} of {first}..={last}"
    );
    // The nodes follow: synced with L1, and they proposed and attested.
    for (i, node) in [a, b].into_iter().enumerate() {
        let status = node.wait_synced(&net.l1, Duration::from_secs(10)).await;
        assert!(
            status.epoch >= Epoch(3),
            "node {} is in epoch {}",
            node.spec.name,
            status.epoch
        );
        // The slots' proposers are random: a node attested if the other one proposed.
        if proposed_by[1 - i] > 0 {
            assert!(
                node.metric("proofline_attestations_total{result=\"signed\"}")
                    .await
                    .unwrap()
                    > 0.0,
                "node {} attested",
                node.spec.name
            );
        }
    }
    let proposed = a.metric("proofline_blocks_proposed_total").await.unwrap()
        + b.metric("proofline_blocks_proposed_total").await.unwrap();
    let landed_total = net.l1.landed().await.len() as f64;
    assert!(
        proposed >= landed_total,
        "the nodes proposed {proposed} blocks, {landed_total} landed"
    );
    log(format!(
        "scenario 1: {} of {} slots have a block ({txs_total} txs), misses {misses:?}",
        landed.len(),
        last - first + 1
    ));
}

/// The slot of each `proposed` line of a node's log (every run).
fn proposed_slots(node: &NodeProc) -> Vec<u64> {
    node.log_text()
        .lines()
        .filter(|l| l.contains(": proposed block="))
        .filter_map(|l| field(l, "slot")?.parse().ok())
        .collect()
}

/// Scenario 2: the node holding the proposer of the next mid-epoch committee slot (neither the
/// epoch's first slot nor its last) is SIGKILLed right after it proposes there, and started again
/// at once on the same data directory. It restores from its store (not from genesis), syncs,
/// proposes and attests again, and never proposes twice in a slot: not in its own log, and not on
/// L1 (one mined propose per proposer and slot, one proposal signed per validator and slot, one
/// block per slot).
async fn restarted_proposer_resumes(net: &Devnet, a: &mut NodeProc, b: &mut NodeProc) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (victim_is_a, kill_slot, last_synced) = loop {
        assert!(Instant::now() < deadline, "no node proposed mid-epoch");
        let mut target = (net.l1.wall_slot() + 1).max(FIRST_COMMITTEE_SLOT);
        while !(1..EPOCH - 1).contains(&(target % EPOCH)) {
            target += 1;
        }
        let proposer = net.l1.proposer(target).await;
        let victim_is_a = a.addresses().contains(&proposer);
        let victim = if victim_is_a { &*a } else { &*b };
        assert!(victim.addresses().contains(&proposer));
        log(format!(
            "scenario 2: node {} holds the proposer of slot {target}: killing it once it proposes",
            victim.spec.name
        ));
        let seen = proposed_slots(victim).len();
        let mut last_synced = 0;
        let mut proposed = false;
        while net.l1.wall_slot() <= target {
            if let Ok(status) = victim.status().await {
                last_synced = status.synced_block;
            }
            if proposed_slots(victim)[seen..].contains(&target) {
                proposed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if proposed {
            break (victim_is_a, target, last_synced);
        }
        log(explain_miss(net, &[&*a, &*b], target).await);
    };
    let (victim, other) = if victim_is_a { (a, &*b) } else { (b, &*a) };
    let name = victim.spec.name.clone();
    victim.kill();
    victim.start();
    log(format!(
        "scenario 2: node {name} killed right after proposing in slot {kill_slot}, and restarted (it had synced block {last_synced})"
    ));

    // Restored from the store: the log line of the new run names a block, not genesis.
    let (restored_block, from_l1) = wait_for(
        "the restarted node's restore line",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let log = victim.current_run_log();
            let line = log
                .lines()
                .find(|l| l.contains("restored from the store"))?;
            let block: u64 = field(line, "block")?.parse().ok()?;
            let from: u64 = field(line, "from_l1_block")?.parse().ok()?;
            Some((block, from))
        },
    )
    .await;
    assert!(
        restored_block > 0 && restored_block + 1 >= last_synced,
        "node {name} restored block {restored_block}, it had synced {last_synced}"
    );
    assert!(
        from_l1 > net.deployment.deploy_block + 1,
        "node {name} follows L1 from block {from_l1}, the deployment's"
    );

    // Blocks land again, at least one from the restarted node's validators: it proposes (and,
    // since the other node has no quorum alone, attests) again.
    let after = net.l1.wall_slot();
    let victim_keys = victim.addresses();
    let from_victim = wait_for(
        "3 blocks after the restart, one proposed by the restarted node",
        Duration::from_secs(90),
        Duration::from_secs(1),
        || async {
            let landed: Vec<Landed> = net
                .l1
                .landed()
                .await
                .into_iter()
                .filter(|l| l.slot > after)
                .collect();
            let mut from_victim = 0;
            for l in &landed {
                if victim_keys.contains(&net.l1.propose_tx(l.tx_hash).await.from) {
                    from_victim += 1;
                }
            }
            (landed.len() >= 3 && from_victim >= 1).then_some(from_victim)
        },
    )
    .await;
    let status = victim.wait_synced(&net.l1, Duration::from_secs(10)).await;
    // Synced from the store: only the blocks after it were applied from L1 in this run.
    let synced_now = victim
        .metric("proofline_blocks_synced_total")
        .await
        .unwrap() as u64;
    assert!(
        synced_now <= status.synced_block - restored_block + 2,
        "node {name} applied {synced_now} blocks from L1 since the restart; it restored {restored_block} and is at {}",
        status.synced_block
    );

    // Never twice in a slot: the node's own record of what it sent, over both runs...
    let mut slots = proposed_slots(victim);
    let n = slots.len();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(
        slots.len(),
        n,
        "node {name} proposed twice in a slot: {:?}",
        proposed_slots(victim)
    );
    // ...and what L1 mined.
    let checked = assert_no_double_proposals(net).await;
    for node in [&*victim, other] {
        for line in node
            .log_text()
            .lines()
            .filter(|l| l.contains("already proposed another block in this slot"))
        {
            log(format!("node {}: {line}", node.spec.name));
        }
    }
    log(format!(
        "scenario 2: node {name} restored block {restored_block}, synced to {} applying {synced_now} blocks; {from_victim} blocks of its validators landed since; {checked} propose txs checked",
        status.synced_block
    ));
}

/// Scenario 4: an anvil reorg of the 2 newest L1 blocks, one of which holds an L2 block both
/// nodes had applied and whose propose transaction its proposer had settled as mined. Both nodes
/// drop the block; the proposer's next propose takes the nonce the reorg freed (checked when it
/// has a slot soon after); after a few more slots, a node started from scratch (empty data
/// directory, no validators, straight to anvil) syncs, and all three agree on every block (slot,
/// coinbase, tx counts, archive = L1's, state root of their own execution), none having had to
/// derive everything again from the deployment.
async fn reorg_leaves_nodes_equal_to_a_fresh_node(net: &Devnet, a: &NodeProc, b: &NodeProc) {
    log("scenario 4: reorg of the 2 newest L1 blocks under an L2 block");
    let l1 = &net.l1;
    let mut target = None;
    for attempt in 0..8 {
        // The proposers of the coming slots (known up to the end of the next epoch): the block
        // to reorg out is preferably one whose proposer proposes again soon, to check that the
        // nonce of its dropped propose transaction is used again.
        let now = l1.wall_slot();
        let mut upcoming = Vec::new();
        for slot in now..(l1.epoch_of(now) + 2) * EPOCH {
            upcoming.push((slot, l1.proposer(slot).await));
        }
        let head0 = l1.head().await;
        let newest = wait_for(
            "a new L2 block",
            Duration::from_secs(30),
            Duration::from_millis(100),
            || async { l1.landed_between(head0 + 1, None).await.last().cloned() },
        )
        .await;
        let tx = l1.propose_tx(newest.tx_hash).await;
        let again = upcoming
            .iter()
            .find(|(slot, proposer)| *slot >= newest.slot + 2 && *proposer == tx.from)
            .map(|(slot, _)| *slot);
        let proposer_node = if a.addresses().contains(&tx.from) {
            a
        } else {
            b
        };
        // Both nodes apply the block and its proposer's transaction manager settles the
        // transaction before the reorg, so there is something for them to undo.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut ready = false;
        while Instant::now() < deadline {
            let (sa, sb) = (a.status().await, b.status().await);
            let applied = match (sa, sb) {
                (Ok(sa), Ok(sb)) => sa.synced_block.min(sb.synced_block) >= newest.number,
                _ => false,
            };
            let settled = proposer_node.current_run_log().lines().any(|l| {
                l.contains("transaction mined") && has_field(l, "tx_hash", newest.tx_hash)
            });
            if applied && settled {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let head = l1.head().await;
        if ready && head <= newest.l1_block + 1 && (again.is_some() || attempt >= 5) {
            net.anvil_rpc("anvil_reorg", json!([2, []])).await;
            target = Some((newest, tx, again));
            break;
        }
        log(format!(
            "scenario 4: attempt {attempt}: not L2 block {} in L1 block {} (head {head}, applied and settled {ready}, its proposer's next slot {again:?}); next one",
            newest.number, newest.l1_block
        ));
    }
    let (reorged, dropped_tx, again) = target.expect("an L2 block to reorg out within 8 tries");
    let reorg_at = Instant::now();
    let now_hash = l1
        .provider
        .get_block_by_number(reorged.l1_block.into())
        .await
        .unwrap()
        .map(|b| b.header.hash);
    assert_ne!(
        now_hash,
        Some(reorged.l1_hash),
        "anvil_reorg replaced L1 block {}",
        reorged.l1_block
    );
    log(format!(
        "scenario 4: reorged out L1 block {} holding L2 block {} (slot {}), proposed by {} at nonce {}",
        reorged.l1_block, reorged.number, reorged.slot, dropped_tx.from, dropped_tx.nonce
    ));
    for node in [a, b] {
        wait_for(
            &format!("node {} to drop the reorged-out L2 block", node.spec.name),
            Duration::from_secs(10),
            Duration::from_millis(200),
            || async {
                // The counter moves once the rollback (a replay of the kept blocks) is done.
                let logged = node
                    .current_run_log()
                    .contains("L1 reorg: dropping its L2 blocks");
                let counted = node.metric("proofline_reorgs_total").await.ok()? >= 1.0;
                (logged && counted).then_some(())
            },
        )
        .await;
    }
    // A few more slots.
    let after = l1.head().await;
    wait_for(
        "3 L2 blocks after the reorg",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async { (l1.landed_between(after + 1, None).await.len() >= 3).then_some(()) },
    )
    .await;

    // The dropped propose's nonce is free on L1 again: the proposer's next propose must take it
    // (one at the nonce after would wait behind the gap for ever, and so would the validator).
    match again {
        Some(slot) => {
            l1.wait_slot(slot + 1).await;
            let nonce = l1.nonce(dropped_tx.from).await;
            if nonce <= dropped_tx.nonce {
                log(explain_miss(net, &[a, b], slot).await);
            }
            assert!(
                nonce > dropped_tx.nonce,
                "{} proposed in slot {slot} after the reorg, but its L1 nonce is still {nonce}",
                dropped_tx.from
            );
            log(format!(
                "scenario 4: {} proposed again in slot {slot}: its L1 nonce moved past the freed {}",
                dropped_tx.from, dropped_tx.nonce
            ));
        }
        None => log(
            "scenario 4: the reorged block's proposer had no slot soon after; nonce check skipped",
        ),
    }

    let mut fresh = NodeProc::new(net.node_spec("fresh", &[], &net.url), &net.diag);
    fresh.start();
    let synced = fresh.wait_synced(l1, Duration::from_secs(60)).await;
    assert!(
        fresh
            .current_run_log()
            .lines()
            .any(|l| l.contains("restored from the store") && has_field(l, "block", 0)),
        "the fresh node starts from genesis"
    );
    // The three at one tip (the chain moves every slot: retry until they agree on it).
    let tip = wait_for(
        "nodes a, b and fresh at the same tip",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let tips = [
                a.status().await.ok()?.synced_block,
                b.status().await.ok()?.synced_block,
                fresh.status().await.ok()?.synced_block,
            ];
            (tips[0] == tips[1] && tips[1] == tips[2]).then_some(tips[0])
        },
    )
    .await;
    assert!(
        tip >= synced.synced_block && tip > reorged.number,
        "the chain went back: tip {tip}, the fresh node synced {}, the reorged block was {} (a prune? see the dev prover's notes)",
        synced.synced_block,
        reorged.number
    );
    for n in 1..=tip {
        let of_a = a.block(n).await.unwrap();
        let of_b = b.block(n).await.unwrap();
        let of_fresh = fresh.block(n).await.unwrap();
        let of_fresh = of_fresh.unwrap_or_else(|| panic!("the fresh node lacks block {n}"));
        assert_eq!(
            of_a.as_ref(),
            Some(&of_fresh),
            "node a's block {n} differs from a fresh node's"
        );
        assert_eq!(
            of_b.as_ref(),
            Some(&of_fresh),
            "node b's block {n} differs from a fresh node's"
        );
        assert_eq!(
            of_fresh.archive,
            l1.archive(n).await,
            "block {n}'s archive is L1's"
        );
    }
    // The nodes undid the reorg from their own blocks: none had to derive everything again.
    for node in [a, b, &fresh] {
        assert!(
            !node.log_text().contains("syncing again from deployment"),
            "node {} found its chain different from L1's and synced again from deployment",
            node.spec.name
        );
    }
    fresh.kill();
    log(format!(
        "scenario 4: nodes a, b and a fresh node agree on blocks 1..={tip} ({:?} after the reorg)",
        reorg_at.elapsed()
    ));
}

/// Scenario 5: the proxy between the nodes and anvil refuses every connection for 30 s. Both
/// node processes stay up and keep answering JSON-RPC; `/health` turns 503 within 10 s and stays
/// 503 until L1 is back, then 200 again; blocks land again.
async fn rpc_outage_is_survived(net: &Devnet, proxy: &Proxy, a: &mut NodeProc, b: &mut NodeProc) {
    log("scenario 5: 30 s L1 RPC outage");
    for node in [&*a, &*b] {
        wait_for(
            &format!("node {} healthy before the outage", node.spec.name),
            Duration::from_secs(30),
            Duration::from_millis(500),
            || async { (node.health().await.ok()?.0 == 200).then_some(()) },
        )
        .await;
    }
    proxy.cut();
    let cut = Instant::now();
    let mut first_503: [Option<Duration>; 2] = [None, None];
    while cut.elapsed() < Duration::from_secs(30) {
        for (i, node) in [&mut *a, &mut *b].into_iter().enumerate() {
            assert!(
                node.alive(),
                "node {} exited during the outage",
                node.spec.name
            );
            let (code, body) = node
                .health()
                .await
                .unwrap_or_else(|e| panic!("node {}'s /health: {e}", node.spec.name));
            node.status()
                .await
                .unwrap_or_else(|e| panic!("node {}'s JSON-RPC: {e}", node.spec.name));
            match (code, first_503[i]) {
                (503, None) => first_503[i] = Some(cut.elapsed()),
                (503, Some(_)) => {}
                (200, Some(at)) => panic!(
                    "node {} said healthy again {:?} into the outage (503 at {at:?}): {body}",
                    node.spec.name,
                    cut.elapsed()
                ),
                (200, None) => {}
                (other, _) => panic!("node {}'s /health answered {other}", node.spec.name),
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    proxy.restore();
    let restored_slot = net.l1.wall_slot();
    log(format!("scenario 5: L1 back (503 from {first_503:?})"));
    for (i, node) in [&*a, &*b].into_iter().enumerate() {
        let at = first_503[i]
            .unwrap_or_else(|| panic!("node {}'s /health never said 503", node.spec.name));
        assert!(
            at <= Duration::from_secs(10),
            "node {} said 503 only {at:?} into the outage",
            node.spec.name
        );
        wait_for(
            &format!("node {} healthy after the outage", node.spec.name),
            Duration::from_secs(30),
            Duration::from_millis(500),
            || async { (node.health().await.ok()?.0 == 200).then_some(()) },
        )
        .await;
    }
    wait_for(
        "2 blocks after the outage",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let n = net
                .l1
                .landed()
                .await
                .iter()
                .filter(|l| l.slot > restored_slot)
                .count();
            (n >= 2).then_some(())
        },
    )
    .await;
    for node in [&mut *a, &mut *b] {
        assert!(node.alive(), "node {} still running", node.spec.name);
        node.wait_synced(&net.l1, Duration::from_secs(10)).await;
    }
    log("scenario 5: blocks land again after the outage");
}

// ------------------------------------------------------------------ faulty proposer

/// Scenario 3: node `faulty` runs with `--fault wrong-state-root` and holds validators 1 and 2
/// (fewer than a quorum); node `honest` holds the other 6 (a quorum). Over the committee slots
/// until the faulty node had a slot (at least 8): no block lands in a slot whose proposer the
/// faulty node holds, the honest node logs "state root mismatch" refusals for its proposals and
/// counts them, the faulty node never gets a quorum (no propose of its validators is mined), and
/// the honest node's slots land (at most one miss, explained).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_state_root_is_refused() {
    if !tools_present("wrong_state_root_is_refused") {
        return;
    }
    let started = Instant::now();
    let diag = Diagnostics::new("wrong_state_root");
    let _report = FailureReport(diag.clone());
    let net = Devnet::start(diag.clone(), config()).await;
    let _prover = AbortOnDrop(spawn_dev_prover(
        &net.url,
        net.deployment.clone(),
        net.dev_key(VALIDATORS + 1),
        diag.clone(),
    ));
    let mut honest = NodeProc::new(
        net.node_spec("honest", &keys(&net, &[2, 3, 4, 5, 6, 7]), &net.url),
        &diag,
    );
    let mut faulty = NodeProc::new(
        net.node_spec("faulty", &keys(&net, &[0, 1]), &net.url),
        &diag,
    );
    faulty.spec.fault = Some("wrong-state-root".into());
    honest.spec.peers = vec![faulty.spec.p2p_port];
    faulty.spec.peers = vec![honest.spec.p2p_port];
    honest.start();
    let _txgen_honest = net.txgen(&honest, 3, 2);
    // Before committees, a proposal needs no attestations: the faulty node would land its wrong
    // state root in its validators' turns (slots 0 and 1). It starts after them.
    net.l1.wait_slot(2).await;
    faulty.start();
    let _txgen_faulty = net.txgen(&faulty, 4, 2);
    let faulty_keys = faulty.addresses();

    let first = FIRST_COMMITTEE_SLOT;
    log(format!(
        "scenario 3: watching committee slots from {first} (in {:.0} s)",
        net.l1.secs_until(first)
    ));
    let mut faulty_slots = Vec::new();
    let mut honest_slots = Vec::new();
    let mut slot = first;
    loop {
        net.l1.wait_slot(slot + 1).await;
        let proposer = net.l1.proposer(slot).await;
        if faulty_keys.contains(&proposer) {
            faulty_slots.push(slot);
        } else {
            honest_slots.push(slot);
        }
        if slot + 1 - first >= 2 * EPOCH && !faulty_slots.is_empty() {
            break;
        }
        assert!(
            slot < first + 8 * EPOCH,
            "the faulty node's validators were not the proposer of any slot of {first}..={slot}"
        );
        slot += 1;
    }
    let last = slot;
    let (landed, misses) = landed_by_slot(&net, first, last).await;
    log(format!(
        "scenario 3: slots {first}..={last}: faulty proposer in {faulty_slots:?}, landed {:?}",
        landed.keys().collect::<Vec<_>>()
    ));
    for s in &faulty_slots {
        assert!(
            !landed.contains_key(s),
            "a block landed in slot {s}, whose proposer the faulty node holds"
        );
    }
    // Each faulty proposal that reached the honest node was refused for its state root.
    let honest_log = honest.log_text();
    let faulty_log = faulty.log_text();
    let mut refused = 0;
    for s in &faulty_slots {
        let injected = faulty_log.lines().any(|l| {
            l.contains("fault injection: proposing a wrong state root") && has_field(l, "slot", s)
        });
        let refusal = honest_log.lines().any(|l| {
            l.contains("refusing to attest: state root mismatch") && has_field(l, "slot", s)
        });
        if injected {
            assert!(
                refusal,
                "slot {s}: the honest node did not refuse the wrong state root:\n{}",
                explain_miss(&net, &[&honest, &faulty], *s).await
            );
            refused += 1;
        } else {
            log(explain_miss(&net, &[&honest, &faulty], *s).await);
        }
    }
    assert!(refused >= 1, "no faulty proposal reached the honest node");
    assert!(
        faulty_log.contains("only 2 of the 6 attestations needed"),
        "the faulty node got no quorum"
    );
    assert!(
        honest
            .metric("proofline_attestations_total{result=\"refused\"}")
            .await
            .unwrap()
            >= refused as f64
    );
    // Honest slots keep landing.
    let honest_misses: Vec<u64> = misses
        .iter()
        .copied()
        .filter(|s| honest_slots.contains(s))
        .collect();
    for s in &honest_misses {
        log(explain_miss(&net, &[&honest, &faulty], *s).await);
    }
    assert!(
        honest_misses.len() <= 1,
        "honest slots without a block: {honest_misses:?}"
    );
    // No proposal of the faulty node's validators was ever mined.
    let head = net.l1.head().await;
    for tx in net.l1.propose_txs(net.deployment.deploy_block, head).await {
        assert!(
            !faulty_keys.contains(&tx.from),
            "the faulty node's propose {} (slot {}) was mined",
            tx.tx_hash,
            tx.slot()
        );
    }
    for node in [&honest, &faulty] {
        node.wait_synced(&net.l1, Duration::from_secs(10)).await;
    }
    assert!(honest.alive() && faulty.alive());
    log(format!(
        "wrong_state_root_is_refused passed in {:?}: {refused} faulty proposals refused, {} honest slots landed",
        started.elapsed(),
        honest_slots.len() - honest_misses.len()
    ));
}
