//! `proofline scenario <name>`: a named fault scenario on a fresh devnet (issue 7), and its
//! report: markdown plus an SVG timeline of the pending and proven tips.
//!
//! Each run deploys a new Rollup on its own anvil, starts two nodes sharing the validators, the
//! provers and a submitter (as `make devnet` does), sends its own tx load, injects the scenario's
//! fault at a chosen epoch, stops the load, lets the chain drain, then reads everything back from
//! L1 (the Rollup's events, and the txs of every proposed block from its blobs) and from the
//! nodes' pools. The report ([`report`]) is computed from that alone; the runner's own view is
//! never trusted, so an invariant the report checks fails when the chain really broke it.
//!
//! Times are shortened (4 s slots, 6-slot epochs, a 2-slot claim window, 1 s L1 blocks) so a
//! scenario takes a few minutes; the ratios that matter (claim window against epoch, proving
//! time against the window) stay those of a real deployment.

pub mod devnet;
pub mod render;
pub mod report;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use alloy::providers::Provider;
use eyre::{bail, WrapErr};
use serde_json::json;

use crate::{
    devnet::{unix_now, Devnet, DevnetConfig, Load},
    report::{analyze, replay, Expect, Fault, Observation, Report},
};

/// The scenarios, in the order `all` runs them.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("baseline", "no fault: two provers, steady load"),
    (
        "withhold",
        "the claimed prover withholds its proof: slashed, pruned, the chain moves on",
    ),
    (
        "provers-stop",
        "provers stop: 0 %, then 50 %, then 100 %, then all back",
    ),
    (
        "gas-spike",
        "L1 base fee x50 through the epoch a claimed proof is due in",
    ),
    (
        "l1-reorg",
        "an L1 reorg drops the last blocks, L2 proposals among them",
    ),
    (
        "censorship",
        "a censoring committee: a forced tx gets in through the queue; when the committee refuses \
         forced txs too, based fallback gets them in",
    ),
];

/// What a run needs that is not the scenario.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `proofline` binary the agents run.
    pub bin: PathBuf,
    /// The work tree (script/Deploy.s.sol, node_modules/@foundry-rs).
    pub root: PathBuf,
    /// Where the reports go.
    pub out_dir: PathBuf,
    /// Where each run's logs and agents' data go (`<work_dir>/<scenario>`).
    pub work_dir: PathBuf,
    pub slot_duration: u64,
    pub epoch_duration: u64,
    pub claim_window: u64,
    /// The epoch the fault is injected in.
    pub fault_epoch: u64,
    /// Epochs of load after the fault (and its undoing) before the load stops.
    pub epochs_after: u64,
    /// Txs per second the runner sends.
    pub tx_rate: f64,
}

/// One finished scenario.
pub struct Outcome {
    pub name: String,
    pub report: Report,
    pub markdown: PathBuf,
    pub svg: PathBuf,
}

struct Run {
    net: Devnet,
    load: Option<Load>,
    faults: Vec<Fault>,
    /// Txs forced through the queue, accounted for like the load's.
    forced: Vec<report::SentTx>,
}

impl Run {
    fn fault(&mut self, label: &str, starts: bool) {
        let now = unix_now();
        tracing::info!(fault = label, "scenario");
        self.faults.push(Fault {
            t: self.net.since_genesis(now),
            epoch: self.net.epoch_at(now),
            label: label.into(),
            starts,
        });
    }
}

pub fn title(name: &str) -> Option<&'static str> {
    SCENARIOS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Runs `name` and writes `<out_dir>/<name>.md` and `.svg`.
pub async fn run(name: &str, opts: &Options) -> eyre::Result<Outcome> {
    let Some(title) = title(name) else {
        bail!(
            "unknown scenario {name:?}; known: {}",
            SCENARIOS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let wall = Instant::now();
    let censoring = name == "censorship";
    let cfg = DevnetConfig {
        validators: 8,
        slot_duration: opts.slot_duration,
        epoch_duration: opts.epoch_duration,
        claim_window: opts.claim_window,
        block_time: 1,
        // The censorship scenario needs fallback: the least the deployment allows (more than two
        // epochs). The others keep it far away, so they measure the fault alone (a stalled
        // proven chain would otherwise end in fallback, with no based proposer to use it).
        fallback_enter: if censoring {
            2 * opts.epoch_duration + 1
        } else {
            1000 * opts.epoch_duration
        },
        based_proposer: censoring,
        prover_margins_bps: vec![1_000, 3_000],
    };
    let dir = opts.work_dir.join(name);
    let mut net = Devnet::create(&opts.root, &dir, &opts.bin, &cfg)
        .await
        .wrap_err("starting the devnet")?;
    if censoring {
        let f = opts.fault_epoch;
        let end = f + CENSOR_EPOCHS;
        for n in &mut net.nodes {
            n.set_arg("--fault", Some("censor"));
            n.set_arg("--censor-epochs", Some(&format!("{f}..{end}")));
            n.set_arg("--censor-forced-epochs", Some(&format!("{}..{end}", f + 3)));
        }
    }
    net.start_agents()?;
    tracing::info!(dir = %dir.display(), rollup = %net.deployment.rollup, "devnet up");
    // Censored users send their txs to every node, the based proposer's too (nodes do not
    // gossip txs).
    // The load pays real fees, backed by a fee deposit a block must take first.
    net.fund_load(LOAD_FUNDING_TOKENS).await?;
    let load = Load::start(
        &net.node_rpcs,
        opts.tx_rate,
        net.deployment.genesis_time,
        7,
        censoring,
        net.load_key.clone(),
    )?;
    let mut run = Run {
        net,
        load: Some(load),
        faults: Vec::new(),
        forced: Vec::new(),
    };
    let f = opts.fault_epoch;
    let (description, expect, resume) = match name {
        "baseline" => baseline(&mut run, opts).await?,
        "withhold" => withhold(&mut run, f).await?,
        "provers-stop" => provers_stop(&mut run, f).await?,
        "gas-spike" => gas_spike(&mut run, f).await?,
        "l1-reorg" => l1_reorg(&mut run, f).await?,
        "censorship" => censorship(&mut run, f).await?,
        _ => unreachable!("checked above"),
    };
    let stop_epoch = resume + opts.epochs_after;
    run.net.until_epoch(stop_epoch, 0.0).await?;
    let (mut sent, refused) = run.load.take().expect("load running").stop().await;
    sent.append(&mut run.forced);
    let load_stopped = run.net.since_genesis(unix_now());
    tracing::info!(sent = sent.len(), ?refused, "load stopped; draining");
    // The last txs land in blocks of epoch stop + 1 at the latest, proven a few seconds into
    // stop + 2: wait for that proof, at most a slot past the claim window. (A fixed end one slot
    // in raced that proof: an l1-reorg run ended before it landed.)
    run.net.until_epoch(stop_epoch + 2, 0.0).await?;
    let last_proof_by =
        run.net.epoch_start(stop_epoch + 2) + ((opts.claim_window + 1) * opts.slot_duration) as f64;
    if !run.net.until_proven(stop_epoch + 1, last_proof_by).await? {
        tracing::warn!(epoch = stop_epoch + 1, "not proven by the end of the run");
    }
    let end = run.net.since_genesis(unix_now());
    let events = run.net.collect_events().await?;
    let kept: std::collections::HashSet<_> = replay(&events)
        .iter()
        .filter(|b| b.pruned.is_none())
        .flat_map(|b| b.txs.clone())
        .collect();
    let outside: Vec<_> = sent
        .iter()
        .map(|s| s.hash)
        .filter(|h| !kept.contains(h))
        .collect();
    let in_pool = run.net.pooled(&outside).await?;
    let obs = Observation {
        events,
        sent,
        in_pool,
        faults: run.faults.clone(),
        load_stopped,
        end,
        slots_per_epoch: opts.epoch_duration,
    };
    let report = analyze(&obs, &expect);
    let params = vec![
        (
            "SLOT_DURATION".to_string(),
            format!("{} s", opts.slot_duration),
        ),
        (
            "EPOCH_DURATION".to_string(),
            format!("{} slots", opts.epoch_duration),
        ),
        (
            "PROOF_CLAIM_WINDOW".to_string(),
            format!("{} slots", opts.claim_window),
        ),
        ("L1 block time".to_string(), "1 s".to_string()),
        ("validators (2 nodes)".to_string(), "8".to_string()),
        (
            "based-fallback proposer".to_string(),
            if cfg.based_proposer {
                "1 node without validators, `--fallback-key`".to_string()
            } else {
                "none".to_string()
            },
        ),
        (
            "provers".to_string(),
            "2 (margins 10 % and 30 %, 1 s + 20 ms/block proving), 1 submitter".to_string(),
        ),
        (
            "FALLBACK_ENTER / _EXIT_ACTIVITY / _EXIT_TOTAL".to_string(),
            format!(
                "{} / {} / {} slots",
                cfg.fallback_enter,
                opts.epoch_duration,
                2 * opts.epoch_duration
            ),
        ),
        ("fault epoch".to_string(), f.to_string()),
        (
            "load".to_string(),
            format!(
                "{} txs/s until epoch {stop_epoch}, then a drain until epoch {} is proven",
                opts.tx_rate,
                stop_epoch + 1
            ),
        ),
        (
            "txs refused by the nodes (by code)".to_string(),
            format!("{refused:?}"),
        ),
    ];
    std::fs::create_dir_all(&opts.out_dir)?;
    let svg_name = format!("{name}.svg");
    let md = render::markdown(
        &render::Meta {
            name,
            title,
            description: &description,
            params: &params,
            svg_file: &svg_name,
            wall_secs: wall.elapsed().as_secs_f64(),
        },
        &obs,
        &report,
    );
    let md_path = opts.out_dir.join(format!("{name}.md"));
    let svg_path = opts.out_dir.join(&svg_name);
    std::fs::write(&md_path, md)?;
    std::fs::write(&svg_path, render::svg(&format!("{name}: {title}"), &obs))?;
    std::fs::write(
        dir.join("observation.txt"),
        format!("{:#?}\n{:#?}", obs.faults, obs.events),
    )?;
    Ok(Outcome {
        name: name.into(),
        report,
        markdown: md_path,
        svg: svg_path,
    })
}

type Plan = (String, Expect, u64);

async fn baseline(run: &mut Run, opts: &Options) -> eyre::Result<Plan> {
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
async fn after_previous_proof(run: &mut Run, epoch: u64) -> eyre::Result<()> {
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
async fn withhold(run: &mut Run, f: u64) -> eyre::Result<Plan> {
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
async fn provers_stop(run: &mut Run, f: u64) -> eyre::Result<Plan> {
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
async fn gas_spike(run: &mut Run, f: u64) -> eyre::Result<Plan> {
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
async fn proof_base_fee(net: &Devnet, epoch: u64) -> eyre::Result<Option<(u64, u64)>> {
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
async fn l1_reorg(run: &mut Run, f: u64) -> eyre::Result<Plan> {
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
const CENSOR_EPOCHS: u64 = 7;
/// Fee tokens the load's payer deposits: fees are 1 to 1,000 wei a tx, so this never runs out.
const LOAD_FUNDING_TOKENS: u64 = 1_000;

/// Both nodes run with the hidden devnet fault `--fault censor` from the start, active from the
/// fault epoch F: until F+3 their proposers take due forced txs only, never a pool tx; from F+3
/// to F+7 they refuse forced txs too, so they propose nothing while one is due. Two slots into
/// the censorship a tx is forced through the queue (due at F+2, while the committee still takes
/// forced txs); at the start of F+1 a second one (due at F+3, when it no longer does). Forced
/// txs are tracked like the load's (sent at their enqueue). A third node, without validators,
/// proposes in based fallback.
async fn censorship(run: &mut Run, f: u64) -> eyre::Result<Plan> {
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
             a funded key (`--fallback-key`), then proposes a block with its proof \
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
async fn force(run: &mut Run, seed: u64) -> eyre::Result<alloy::primitives::B256> {
    let tx = proofline_devnet::txgen::TxGen::new(seed).next_tx();
    let hash = tx.hash();
    run.net.enqueue_forced(tx.encode()).await?;
    let t = run.net.since_genesis(unix_now());
    run.forced.push(report::SentTx { hash, t });
    Ok(hash)
}

async fn pending_tip(net: &Devnet) -> eyre::Result<u64> {
    let rollup = proofline_bindings::Rollup::new(net.deployment.rollup, net.provider.clone());
    Ok(rollup.getPendingBlockNumber().call().await?.saturating_to())
}

/// The summary table for the README: recovery time and whether anything was lost.
pub fn summary(outcomes: &[Outcome]) -> String {
    let mut s = String::from(
        "| scenario | result | finality median / p95 | recovery after the fault | pruned blocks | slashes | txs lost |\n|---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let r = &o.report;
        let fin = r.finality.as_ref().map_or("n/a".into(), |f| {
            format!("{:.0} s / {:.0} s", f.median, f.p95)
        });
        s.push_str(&format!(
            "| [{}](docs/scenarios/{}.md) | {} | {fin} | {} | {} | {} | {} of {} |\n",
            o.name,
            o.name,
            if r.passed() { "pass" } else { "FAIL" },
            r.recovery.map_or("n/a".into(), |t| format!("{t:.0} s")),
            r.blocks_pruned,
            r.slashes.len(),
            r.txs.lost.len(),
            r.txs.sent,
        ));
    }
    s
}

/// `fresh`'s rows in place of `existing`'s rows of the same scenarios, the others kept, in
/// [`SCENARIOS`] order: running one scenario again updates its row of summary.md.
pub fn merge_summary(existing: &str, fresh: &str) -> String {
    let row_of = |text: &str, name: &str| {
        let prefix = format!("| [{name}](");
        text.lines()
            .find(|l| l.starts_with(&prefix))
            .map(str::to_owned)
    };
    let mut out: String = fresh.lines().take(2).map(|l| format!("{l}\n")).collect();
    for (name, _) in SCENARIOS {
        if let Some(row) = row_of(fresh, name).or_else(|| row_of(existing, name)) {
            out.push_str(&row);
            out.push('\n');
        }
    }
    out
}

/// The work tree: the nearest ancestor of the current directory with `script/Deploy.s.sol`.
pub fn find_root() -> eyre::Result<PathBuf> {
    let mut dir = std::env::current_dir()?;
    loop {
        if dir.join("script/Deploy.s.sol").is_file() {
            return Ok(dir);
        }
        if !dir.pop() {
            bail!("not inside the Proofline work tree (no script/Deploy.s.sol above)");
        }
    }
}

pub fn default_work_dir(root: &Path) -> PathBuf {
    root.join("target/scenarios")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rerun_replaces_its_row_and_keeps_the_others_in_order() {
        let head = "| scenario | x |\n|---|---|\n";
        let old = format!("{head}| [baseline](b) | 1 |\n| [withhold](w) | 1 |\n");
        let new = format!("{head}| [withhold](w) | 2 |\n");
        assert_eq!(
            merge_summary(&old, &new),
            format!("{head}| [baseline](b) | 1 |\n| [withhold](w) | 2 |\n")
        );
        assert_eq!(merge_summary("", &new), new);
    }
}
