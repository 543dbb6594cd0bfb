//! From a claim window opening to `claimEpochProofRight` mined, over a long devnet run (issue 6
//! target: in the first slot of the window in at least 99 % of epochs).
//!
//! Runs `script/devnet.sh` (the `make devnet` of a user: anvil, the deploy script, two nodes, two
//! provers, a submitter, tx generators) on its own port and chain id for `CLAIM_EPOCHS` epochs,
//! then reads every `ProofRightClaimed` and `L2ProofVerified` from anvil before the devnet stops.
//! For each epoch with blocks it reports the claim's slot within the window and the time from the
//! window's first second to the block that mined the claim.
//!
//! ```text
//! nice cargo bench -p proofline --bench claim_latency
//! CLAIM_EPOCHS=100 nice cargo bench -p proofline --bench claim_latency
//! ```
//!
//! Environment: `CLAIM_EPOCHS` (20), `CLAIM_PORT` (28545), `CLAIM_CHAIN_ID` (31488); the devnet's
//! own variables (SLOT_DURATION 6, EPOCH_DURATION 8, ...) pass through.

use std::{
    collections::BTreeMap,
    process::{Command, Stdio},
    time::Duration,
};

use alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent};
use proofline_bindings::Rollup;
use proofline_l1::Deployment;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> eyre::Result<()> {
    let epochs = env_u64("CLAIM_EPOCHS", 20);
    let port = env_u64("CLAIM_PORT", 28545);
    let chain_id = env_u64("CLAIM_CHAIN_ID", 31488);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("proofline-claim-latency-{chain_id}"));
    let _ = std::fs::remove_dir_all(&dir);
    let slot: u64 = env_u64("SLOT_DURATION", 6);
    let epoch: u64 = env_u64("EPOCH_DURATION", 8);
    // Two epochs more: the first has no claim window before it, and the last window must close.
    let run_secs = (epochs + 2) * slot * epoch + 60;
    println!(
        "claim_latency: devnet for {epochs} epochs ({run_secs} s), logs in {}",
        dir.display()
    );
    let mut devnet = Command::new(root.join("script/devnet.sh"))
        .current_dir(&root)
        .env("DEVNET_PORT", port.to_string())
        .env("DEVNET_CHAIN_ID", chain_id.to_string())
        .env("DEVNET_DIR", &dir)
        .env("DEVNET_EXIT_AFTER", run_secs.to_string())
        .env("DEVNET_POLL", "10")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let rt = tokio::runtime::Runtime::new()?;
    let url = format!("http://127.0.0.1:{port}");
    let deployment_file = root.join(format!("deployments/{chain_id}.json"));
    // Read the chain while the devnet still runs: a few seconds before it stops.
    std::thread::sleep(Duration::from_secs(run_secs.saturating_sub(20)));
    let result = rt.block_on(async {
        let d = Deployment::load_file(&deployment_file)?;
        let provider = proofline_l1::connect(&proofline_l1::RpcConfig::new(url.parse()?))?;
        let rollup = Rollup::new(d.rollup, provider.clone());
        let claims = rollup
            .ProofRightClaimed_filter()
            .from_block(0)
            .query()
            .await?;
        let proven = rollup
            .L2ProofVerified_filter()
            .from_block(0)
            .query()
            .await?;
        let proposed = provider
            .get_logs(
                &Filter::new()
                    .address(d.rollup)
                    .event_signature(Rollup::L2BlockProposed::SIGNATURE_HASH)
                    .from_block(0),
            )
            .await?;
        let mut epochs_with_blocks = BTreeMap::new();
        for log in proposed {
            let e = Rollup::L2BlockProposed::decode_log(&log.inner)?;
            let s: u64 = e.slot.saturating_to();
            if e.blockNumber > alloy::primitives::U256::ZERO {
                *epochs_with_blocks
                    .entry(s / d.epoch_duration)
                    .or_insert(0u64) += 1;
            }
        }
        let mut rows = Vec::new();
        for (e, log) in &claims {
            let n: u64 = e.epoch.saturating_to();
            let window_start = (n + 1) * d.epoch_duration;
            let claim_slot: u64 = e.currentSlot.saturating_to();
            let block = provider
                .get_block_by_number(log.block_number.unwrap().into())
                .await?
                .unwrap();
            let opened = d.genesis_time + window_start * d.slot_duration;
            rows.push((
                n,
                claim_slot - window_start,
                block.header.timestamp - opened,
            ));
        }
        eyre::Ok((epochs_with_blocks, rows, proven.len()))
    });
    let _ = devnet.wait();
    let _ = std::fs::remove_file(&deployment_file);
    let _ = std::fs::remove_dir_all(root.join(format!("broadcast/Deploy.s.sol/{chain_id}")));
    let (with_blocks, rows, proofs) = result?;
    // Epochs whose window closed before the run ended.
    let last_closed = rows.iter().map(|r| r.0).max().unwrap_or(0);
    let eligible: Vec<u64> = with_blocks
        .keys()
        .copied()
        .filter(|e| *e <= last_closed)
        .collect();
    let claimed: BTreeMap<u64, (u64, u64)> = rows.iter().map(|r| (r.0, (r.1, r.2))).collect();
    let first_slot = eligible
        .iter()
        .filter(|e| claimed.get(e).is_some_and(|c| c.0 == 0))
        .count();
    let mut secs: Vec<u64> = claimed.values().map(|c| c.1).collect();
    secs.sort_unstable();
    println!("epoch  claim slot in window  window open -> claim mined (s)");
    for e in &eligible {
        match claimed.get(e) {
            Some((k, s)) => println!("{e:>5}  {k:>20}  {s:>30}"),
            None => println!("{e:>5}  {:>20}  {:>30}", "none", "-"),
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / eligible.len().max(1) as f64;
    println!(
        "epochs with blocks: {}; claimed in the window's first slot: {first_slot} ({:.1} %); claimed at all: {} ({:.1} %); proofs landed: {proofs}",
        eligible.len(),
        pct(first_slot),
        claimed.len(),
        pct(claimed.len()),
    );
    if !secs.is_empty() {
        println!(
            "window open -> claim mined: median {} s, max {} s (block timestamps, 1 s resolution)",
            secs[secs.len() / 2],
            secs[secs.len() - 1]
        );
    }
    Ok(())
}
