//! Each scenario's plan: what it does to the running devnet (its fault, when, and what it
//! waits for), and what its report must then find.

use alloy::providers::Provider;
use eyre::WrapErr;
use serde_json::json;

use crate::{
    devnet::{unix_now, Devnet},
    report::{self, Expect},
    Options, Plan, Run,
};

pub(crate) async fn baseline(run: &mut Run, opts: &Options) -> eyre::Result<Plan> {
    run.net.until_epoch(2, 0.0).await?;
    Ok((
        "No fault. The load runs from genesis; the cheaper prover should win every claim and \
         every epoch with blocks should be proven, with nothing pruned or slashed."
            .into(),
        Expect {
            max_slashes: Some(0),
            max_pruned_blocks: Some(0),
            ..Expect::default()
        },
        opts.fault_epoch,
    ))
}

/// Waits for the proof of `epoch - 1` (so a restart or kill does not hit a claim made just before
/// it), at most until two slots before `epoch` ends, when the next quotes go out.
pub(crate) async fn after_previous_proof(run: &mut Run, epoch: u64) -> eyre::Result<()> {
    let d = &run.net.deployment;
    let latest = run.net.epoch_start(epoch + 1) - 2.0 * d.slot_duration as f64;
    run.net.until_epoch(epoch, 0.0).await?;
    if epoch > 0 && !run.net.until_proven(epoch - 1, latest).await? {
        tracing::warn!(
            epoch = epoch - 1,
            "not proven in time; injecting the fault anyway"
        );
    }
    Ok(())
}

/// The cheap prover is restarted with `--prover-fault withhold-proofs` during the fault epoch
/// (once the epoch before is proven), so its quote for that epoch wins the claim and no proof
/// follows; once its bond is slashed it is restarted honest.
pub(crate) async fn withhold(run: &mut Run, f: u64) -> eyre::Result<Plan> {
    after_previous_proof(run, f).await?;
    let p = &mut run.net.provers[0];
    p.kill();
    p.set_arg("--prover-fault", Some("withhold-proofs"));
    p.start()?;
    run.fault("prover0 withholds proofs", true);
    let deadline = run.net.epoch_start(f + 4);
    loop {
        run.net.check_alive()?;
        if !run.net.proofs_and_slashes().await?.1.is_empty() {
            break;
        }
        if unix_now() > deadline {
            tracing::warn!("no slash by epoch {}: giving up waiting", f + 4);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let p = &mut run.net.provers[0];
    p.kill();
    p.set_arg("--prover-fault", None);
    p.start()?;
    run.fault("prover0 honest again", false);
    let resume = run.net.epoch_at(unix_now()) + 1;
    Ok((
        format!(
            "During epoch {f}, once epoch {} is proven, the cheaper prover (prover0) is \
             restarted with the devnet-only fault `--prover-fault withhold-proofs`: it keeps \
             quoting, its quote wins the claim of epoch {f}, and it never proves. When epoch {} \
             ends the proof deadline has passed: its bond is slashed and the pending chain pruned \
             to the proven tip. As soon as the slash is seen, prover0 is restarted honest. The \
             pruned txs must be back in the nodes' pools and proven later.",
            f - 1,
            f + 1
        ),
        Expect {
            min_slashes: 1,
            max_slashes: Some(1),
            min_pruned_blocks: 1,
            recovers: true,
            ..Expect::default()
        },
        resume,
    ))
}

/// Provers stop in steps: all running (0 % stopped) until the fault epoch, then the cheaper one
/// killed (50 %), an epoch later both (100 %) for two epochs, then both started again. Each kill
/// waits for the proof of the epoch before, so it stops future work and does not abandon a
/// claim already made (that is the `withhold` scenario).
pub(crate) async fn provers_stop(run: &mut Run, f: u64) -> eyre::Result<Plan> {
    after_previous_proof(run, f).await?;
    run.net.provers[0].kill();
    run.fault("50 % of provers stopped", true);
    after_previous_proof(run, f + 1).await?;
    run.net.provers[1].kill();
    run.fault("100 % of provers stopped", true);
    run.net.until_epoch(f + 3, 0.0).await?;
    for p in &mut run.net.provers {
        p.start()?;
    }
    run.fault("all provers back", false);
    Ok((
        format!(
            "0 % of the provers stopped until epoch {f}; during it (once epoch {} is proven) the \
             cheaper prover is SIGKILLed (50 %), during epoch {} (once epoch {f} is proven) the \
             other one too (100 %), and at the start of epoch {} both are started again on their \
             data directories. With half the provers gone the other one's quotes win; with none, \
             epochs {} and {} get no quote, go unclaimed, and their blocks are pruned when the \
             claim window closes. No bond is at stake, so none may be slashed. Recovery is \
             measured from each stop; the results table shows the longest.",
            f - 1,
            f + 1,
            f + 3,
            f + 1,
            f + 2,
        ),
        Expect {
            max_slashes: Some(0),
            min_pruned_blocks: 1,
            recovers: true,
            ..Expect::default()
        },
        f + 3,
    ))
}

/// The base fee is set to 50 times its value (at least 50 gwei) before every L1 block of the
/// epoch in which the proof of the epoch before is due.
pub(crate) async fn gas_spike(run: &mut Run, f: u64) -> eyre::Result<Plan> {
    run.net.until_epoch(f + 1, 0.0).await?;
    let base = run
        .net
        .provider
        .get_gas_price()
        .await
        .wrap_err("base fee")?;
    let spiked = (base * 50).max(50_000_000_000);
    run.fault(
        &format!("base fee x50 ({} gwei)", spiked / 1_000_000_000),
        true,
    );
    let end = run.net.epoch_start(f + 2);
    while unix_now() < end {
        run.net.check_alive()?;
        run.net
            .anvil_rpc(
                "anvil_setNextBlockBaseFeePerGas",
                json!([format!("{spiked:#x}")]),
            )
            .await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    run.fault("base fee spike ends", false);
    let landed = proof_base_fee(&run.net, f).await?;
    let spike_check = report::Check {
        name: format!("the proof of epoch {f} landed in a block with the spiked base fee"),
        passed: landed.is_some_and(|(_, fee)| u128::from(fee) >= spiked / 2),
        detail: landed.map_or("no proof of the epoch".into(), |(block, fee)| {
            format!("L1 block {block}, base fee {:.1} gwei", fee as f64 / 1e9)
        }),
    };
    Ok((
        format!(
            "Through epoch {} (the epoch in which the proof of epoch {f} is due, from its claim \
             to its deadline), the runner sets the next L1 block's base fee to 50 times what it \
             was (at least 50 gwei) before every block (`anvil_setNextBlockBaseFeePerGas`). \
             Proposals, the claim and the proof must all still land: nothing may be pruned or \
             slashed, and the proof must have landed in a block with the spiked base fee.",
            f + 1
        ),
        Expect {
            max_slashes: Some(0),
            max_pruned_blocks: Some(0),
            recovers: true,
            runner_checks: vec![spike_check],
            ..Expect::default()
        },
        f + 2,
    ))
}

/// The L1 block and base fee the proof of `epoch` landed with, if it landed.
pub(crate) async fn proof_base_fee(net: &Devnet, epoch: u64) -> eyre::Result<Option<(u64, u64)>> {
    let rollup = proofline_bindings::Rollup::new(net.deployment.rollup, net.provider.clone());
    let logs = rollup
        .L2ProofVerified_filter()
        .topic1(alloy::primitives::U256::from(epoch))
        .from_block(net.deployment.deploy_block)
        .query()
        .await?;
    let Some(block) = logs.first().and_then(|(_, l)| l.block_number) else {
        return Ok(None);
    };
    let header = net
        .provider
        .get_block_by_number(block.into())
        .await?
        .ok_or_else(|| eyre::eyre!("L1 block {block} missing"))?
        .header;
    Ok(Some((block, header.base_fee_per_gas.unwrap_or(0))))
}

/// `anvil_reorg` of the last 3 L1 blocks (replaced by empty ones), mid fault epoch, right after
/// an L2 proposal landed, so the reorg takes at least one L2 block out.
pub(crate) async fn l1_reorg(run: &mut Run, f: u64) -> eyre::Result<Plan> {
    let depth = 3u64;
    run.net.until_epoch(f, 0.0).await?;
    let mid = run.net.epoch_start(f)
        + (run.net.deployment.epoch_duration as f64 / 2.0)
            * run.net.deployment.slot_duration as f64;
    while unix_now() < mid {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let give_up = unix_now() + 3.0 * run.net.deployment.slot_duration as f64;
    let rollup =
        proofline_bindings::Rollup::new(run.net.deployment.rollup, run.net.provider.clone());
    loop {
        let head = run
            .net
            .provider
            .get_block_number()
            .await
            .wrap_err("L1 head")?;
        let fresh = rollup
            .L2BlockProposed_filter()
            .from_block(head.saturating_sub(1))
            .to_block(head)
            .query()
            .await?;
        if !fresh.is_empty() || unix_now() > give_up {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let pending_before = pending_tip(&run.net).await?;
    run.net.anvil_rpc("anvil_reorg", json!([depth, []])).await?;
    run.fault(&format!("L1 reorg: last {depth} blocks replaced"), true);
    let pending_after = pending_tip(&run.net).await?;
    tracing::info!(pending_before, pending_after, "reorged");
    let dropped = report::Check {
        name: "the reorg took L2 blocks out of L1".into(),
        passed: pending_after < pending_before,
        detail: format!("pending tip {pending_before} before, {pending_after} right after"),
    };
    Ok((
        format!(
            "In the middle of epoch {f}, right after an L2 proposal landed, the runner calls \
             `anvil_reorg` to replace the last {depth} L1 blocks with empty ones: the proposals \
             (and any claim or proof) in them vanish from L1. Nodes must drop the L2 blocks they \
             applied from those L1 blocks, put their txs back in the pool, and go on from L1's \
             view; no tx may be lost. The L2 pending tip went from {pending_before} to \
             {pending_after}."
        ),
        Expect {
            recovers: true,
            runner_checks: vec![dropped],
            ..Expect::default()
        },
        f + 1,
    ))
}

/// How many epochs the committee censors in the censorship scenario: three of pool censorship
/// (forced inclusion), then four refusing forced txs too (the proven chain stalls, FALLBACK_ENTER
/// passes, and fallback runs its FALLBACK_EXIT_TOTAL).
pub(crate) const CENSOR_EPOCHS: u64 = 7;
/// Fee tokens the load's payer deposits: fees are 1 to 1,000 wei a tx, so this never runs out.
pub(crate) const LOAD_FUNDING_TOKENS: u64 = 1_000;

/// Both nodes run with the hidden devnet fault `--fault censor` from the start, active from the
/// fault epoch F: until F+3 their proposers take due forced txs only, never a pool tx; from F+3
/// to F+7 they refuse forced txs too, so they propose nothing while one is due. Two slots into
/// the censorship a tx is forced through the queue (due at F+2, while the committee still takes
/// forced txs); at the start of F+1 a second one (due at F+3, when it no longer does). Forced
/// txs are tracked like the load's (sent at their enqueue). A third node, without validators,
/// proposes in based fallback.
pub(crate) async fn censorship(run: &mut Run, f: u64) -> eyre::Result<Plan> {
    let d = run.net.deployment.clone();
    let slot = d.slot_duration as f64;
    run.net.until_epoch(f, 0.0).await?;
    run.fault("committee censors the pool", true);
    run.net.until_epoch(f, 2.0 * slot).await?;
    let first = force(run, 0xF0_4CED).await?;
    run.fault("tx 1 forced through the queue", false);
    run.net.until_epoch(f + 1, 0.0).await?;
    let second = force(run, 0xF0_4CEE).await?;
    run.fault("tx 2 forced through the queue", false);
    run.net.until_epoch(f + 3, 0.0).await?;
    run.fault("committee refuses forced txs too", true);
    run.net.until_epoch(f + CENSOR_EPOCHS, 0.0).await?;
    run.fault("committee honest again", false);
    let honest = run.net.since_genesis(unix_now());
    let e = d.epoch_duration;
    Ok((
        format!(
            "From the start of epoch {f} both nodes (every validator) censor, through the \
             devnet-only fault `--fault censor`. Until epoch {f3} their blocks carry the due \
             forced txs and no pool tx. Two slots in, the runner queues tx 1 on the \
             ForcedInclusionQueue (the dev tx proof verifier, fee paid); it is due \
             FORCED_INCLUSION_DELAY (2) epochs later, and the Rollup refuses any block that \
             leaves it out, so the censoring proposers must include it. At the start of epoch \
             {f1} the runner queues tx 2, due in epoch {f3}, from when the committee refuses \
             forced txs too: it can then propose no valid block, so it proposes none. The \
             committee's last blocks are proven, the proven chain stops, and FALLBACK_ENTER \
             slots later the Rollup is in based fallback. A third node, with no validators and \
             a funded key (`--fallback-key-file`), then proposes a block with its proof \
             (`proposeWithProof`) in every slot: tx 2 first, then the pool's txs (the load \
             goes to every node, the based proposer's too). Fallback ends FALLBACK_EXIT_TOTAL \
             slots after it began; from epoch {fe} the committee is honest again and takes \
             what is left. No block may be pruned and no bond slashed: the committee's blocks \
             are all proven before fallback begins.",
            f3 = f + 3,
            f1 = f + 1,
            fe = f + CENSOR_EPOCHS,
        ),
        Expect {
            max_slashes: Some(0),
            max_pruned_blocks: Some(0),
            recovers: true,
            included_by: vec![
                (
                    "forced tx 1, while the committee censors the pool".into(),
                    first,
                    run.net.since_genesis(run.net.epoch_start(f + 3)),
                ),
                ("forced tx 2, through based fallback".into(), second, honest),
            ],
            fallback: true,
            // The committee's blocks before fallback can begin: the forced txs only.
            censored: Some((f * e, (f + 5) * e, vec![first, second])),
            ..Expect::default()
        },
        f + CENSOR_EPOCHS,
    ))
}

/// Queues a generated tx (from `seed`) on the forced-inclusion queue and tracks it like the
/// load's txs.
pub(crate) async fn force(run: &mut Run, seed: u64) -> eyre::Result<alloy::primitives::B256> {
    let tx = proofline_devnet::txgen::TxGen::new(seed).next_tx();
    let hash = tx.hash();
    run.net.enqueue_forced(tx.encode()).await?;
    let t = run.net.since_genesis(unix_now());
    run.forced.push(report::SentTx { hash, t });
    Ok(hash)
}

pub(crate) async fn pending_tip(net: &Devnet) -> eyre::Result<u64> {
    let rollup = proofline_bindings::Rollup::new(net.deployment.rollup, net.provider.clone());
    Ok(rollup.getPendingBlockNumber().call().await?.saturating_to())
}
