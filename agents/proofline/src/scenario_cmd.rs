//! `proofline scenario`: runs named fault scenarios on fresh devnets and writes their reports
//! (crate `proofline-scenario`).

use std::path::PathBuf;

use clap::Args;
use eyre::bail;

#[derive(Args)]
pub struct ScenarioArgs {
    /// The scenario (baseline, withhold, provers-stop, gas-spike, l1-reorg, censorship), several
    /// comma-separated, or `all`.
    name: String,
    /// Where the reports (<name>.md, <name>.svg, and summary.md for `all`) go.
    #[arg(long, default_value = "docs/scenarios")]
    out_dir: PathBuf,
    /// Where each run's logs and agents' data go; default: target/scenarios in the work tree.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// SLOT_DURATION of the devnet, in seconds.
    #[arg(long, default_value_t = 4)]
    slot_duration: u64,
    /// EPOCH_DURATION of the devnet, in slots.
    #[arg(long, default_value_t = 6)]
    epoch_duration: u64,
    /// PROOF_CLAIM_WINDOW of the devnet, in slots.
    #[arg(long, default_value_t = 2)]
    claim_window: u64,
    /// The epoch the fault is injected in (validators join at epoch 2).
    #[arg(long, default_value_t = 4)]
    fault_epoch: u64,
    /// Epochs of load after the fault is over, before the load stops and the chain drains.
    #[arg(long, default_value_t = 2)]
    epochs_after: u64,
    /// Txs per second the runner sends to the nodes.
    #[arg(long, default_value_t = 4.0)]
    tx_rate: f64,
}

pub async fn run(args: ScenarioArgs) -> eyre::Result<()> {
    let root = proofline_scenario::find_root()?;
    let opts = proofline_scenario::Options {
        bin: std::env::current_exe()?,
        out_dir: root.join(&args.out_dir),
        work_dir: args
            .work_dir
            .unwrap_or_else(|| proofline_scenario::default_work_dir(&root)),
        root,
        slot_duration: args.slot_duration,
        epoch_duration: args.epoch_duration,
        claim_window: args.claim_window,
        fault_epoch: args.fault_epoch,
        epochs_after: args.epochs_after,
        tx_rate: args.tx_rate,
    };
    let names: Vec<&str> = if args.name == "all" {
        proofline_scenario::SCENARIOS
            .iter()
            .map(|(n, _)| *n)
            .collect()
    } else {
        args.name.split(',').collect()
    };
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        let outcome = match proofline_scenario::run(name, &opts).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{name}: the run failed: {e:#}");
                errors.push(name);
                continue;
            }
        };
        for c in &outcome.report.checks {
            println!(
                "{name}: {} {}: {}",
                if c.passed { "pass" } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        println!(
            "{name}: report {}, plot {}",
            outcome.markdown.display(),
            outcome.svg.display()
        );
        outcomes.push(outcome);
    }
    let summary = proofline_scenario::summary(&outcomes);
    println!("\n{summary}");
    if !outcomes.is_empty() {
        let path = opts.out_dir.join("summary.md");
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(
            &path,
            proofline_scenario::merge_summary(&existing, &summary),
        )?;
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.report.passed())
        .map(|o| o.name.as_str())
        .chain(errors)
        .collect();
    if !failed.is_empty() {
        bail!(
            "invariants broken (or the run failed) in: {}",
            failed.join(", ")
        );
    }
    Ok(())
}
