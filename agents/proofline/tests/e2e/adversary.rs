//! End-to-end tests of the attesters against a rogue peer (issue 15): the real `proofline`
//! binary, a real anvil and the deploy script, the e2e chain of `e2e.rs` (8 validators, 4 s
//! slots, 4-slot epochs, committees of all 8 with quorum 6 from slot 8).
//!
//! `impersonator_cannot_censor_attestations`: nodes `a` and `b` hold 4 validators each, so every
//! committee block needs both. A third node, `rogue`, holds none and runs with
//! `--fault impersonate`: before every slot it sends both nodes an attestation request for a
//! valid empty block on the tip, with the slot's proposer as coinbase, ahead of the real proposer.
//! An attester that checks only the coinbase (the proposer is public) and re-execution signs it
//! and records it for the slot, then refuses the real block as a conflict: no slot gets a quorum.
//! An attester that authenticates proposals refuses the impersonation before recording anything,
//! and the honest blocks land.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonator_cannot_censor_attestations() {
    if !tools_present("impersonator_cannot_censor_attestations") {
        return;
    }
    let diag = Diagnostics::new("impersonator");
    let _report = FailureReport(diag.clone());
    let net = Devnet::start(diag.clone(), config()).await;
    let _prover = AbortOnDrop(spawn_dev_prover(
        &net.url,
        net.deployment.clone(),
        net.dev_key(VALIDATORS + 1),
        diag.clone(),
    ));
    let mut a = NodeProc::new(
        net.node_spec("a", &keys(&net, &[0, 1, 2, 3]), &net.url),
        &diag,
    );
    let mut b = NodeProc::new(
        net.node_spec("b", &keys(&net, &[4, 5, 6, 7]), &net.url),
        &diag,
    );
    let mut rogue = NodeProc::new(net.node_spec("rogue", &[], &net.url), &diag);
    rogue.spec.fault = Some("impersonate".into());
    a.spec.peers = vec![b.spec.p2p_port, rogue.spec.p2p_port];
    b.spec.peers = vec![a.spec.p2p_port, rogue.spec.p2p_port];
    rogue.spec.peers = vec![a.spec.p2p_port, b.spec.p2p_port];
    a.start();
    b.start();
    rogue.start();
    let _txgen = net.txgen(&a, 5, 2);

    // Two epochs of committee slots, from the second committee epoch (the rogue has synced).
    let first = FIRST_COMMITTEE_SLOT + EPOCH;
    let last = first + 2 * EPOCH - 1;
    log(format!(
        "impersonator: watching slots {first}..={last} (in {:.0} s)",
        net.l1.secs_until(first)
    ));
    net.l1.wait_slot(last + 2).await;
    let (landed, misses) = landed_by_slot(&net, first, last).await;
    let rogue_log = rogue.log_text();
    let impersonated: Vec<u64> = (first..=last)
        .filter(|s| {
            rogue_log.lines().any(|l| {
                l.contains("fault injection: impersonating the slot's proposer")
                    && has_field(l, "slot", s)
            })
        })
        .collect();
    log(format!(
        "impersonator: slots {first}..={last}: landed {:?}, impersonated {impersonated:?}",
        landed.keys().collect::<Vec<_>>()
    ));
    assert!(
        impersonated.len() as u64 >= EPOCH,
        "the rogue impersonated only slots {impersonated:?}"
    );
    // No honest attester signed an impersonation.
    assert!(
        !rogue_log.contains("a peer attested the impersonation"),
        "an honest node attested the rogue's block"
    );
    for s in &misses {
        log(explain_miss(&net, &[&a, &b], *s).await);
    }
    assert!(
        misses.len() <= 1,
        "slots without a block while the rogue impersonated their proposers: {misses:?}"
    );
    // Every landed block is the real proposer's, not an empty impersonation.
    let head = net.l1.head().await;
    let proposers: HashSet<Address> = a.addresses().into_iter().chain(b.addresses()).collect();
    for tx in net.l1.propose_txs(net.deployment.deploy_block, head).await {
        assert!(proposers.contains(&tx.from), "a propose from {}", tx.from);
    }
    assert!(a.alive() && b.alive() && rogue.alive());
}
