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
pub mod events;
pub mod load;
mod plans;
pub mod render;
pub mod report;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use eyre::{bail, WrapErr};

use crate::{
    devnet::{unix_now, Devnet, DevnetConfig},
    load::Load,
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

pub(crate) struct Run {
    pub(crate) net: Devnet,
    pub(crate) load: Option<Load>,
    pub(crate) faults: Vec<Fault>,
    /// Txs forced through the queue, accounted for like the load's.
    pub(crate) forced: Vec<report::SentTx>,
}

impl Run {
    pub(crate) fn fault(&mut self, label: &str, starts: bool) {
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
        let end = f + plans::CENSOR_EPOCHS;
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
    net.fund_load(plans::LOAD_FUNDING_TOKENS).await?;
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
        "baseline" => plans::baseline(&mut run, opts).await?,
        "withhold" => plans::withhold(&mut run, f).await?,
        "provers-stop" => plans::provers_stop(&mut run, f).await?,
        "gas-spike" => plans::gas_spike(&mut run, f).await?,
        "l1-reorg" => plans::l1_reorg(&mut run, f).await?,
        "censorship" => plans::censorship(&mut run, f).await?,
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
                "1 node without validators, `--fallback-key-file`".to_string()
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

/// What a scenario's plan returns: its description, what the report must find, and the epoch
/// the fault starts in.
type Plan = (String, Expect, u64);

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
