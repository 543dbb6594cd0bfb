//! A fresh devnet for one scenario: anvil, `script/Deploy.s.sol` (the script users run), and
//! `proofline node`, `prover` and `submitter` processes of the real binary, as `make devnet` runs
//! them; plus the runner's own tx load, fault injection through anvil's RPC, and the reading
//! back of the Rollup's events and the blocks' txs (from their blobs) that the report is made of.
//!
//! Every process is SIGKILLed when its handle drops, so an error or a panic leaves nothing
//! running; the deployment file forge writes into the work tree is moved to the run directory.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fs::OpenOptions,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Bytes, B256},
    providers::Provider,
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use eyre::{bail, ensure, eyre, WrapErr};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use proofline_bindings::Rollup;
use proofline_chain::blobs::{BlobSource, BlockRef};
use proofline_devnet::{
    harness::{self, free_port, DEPLOYER_KEY},
    txgen::TxGen,
};
use proofline_l1::{Deployment, L1Provider, RpcConfig};
use proofline_l2::TxEffect;
use proofline_node::rpc::{NodeApiClient, TxStatus};
use tokio::sync::watch;

use crate::report::{ChainEvent, SentTx, Timed};

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// A child process logging to a file; SIGKILLed when dropped.
pub struct Proc {
    child: Child,
}

impl Proc {
    pub fn spawn(mut cmd: Command, log: &Path) -> eyre::Result<Proc> {
        let out = OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PROOFLINE_") {
                cmd.env_remove(key);
            }
        }
        let child = cmd.spawn().wrap_err_with(|| format!("starting {cmd:?}"))?;
        Ok(Proc { child })
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `proofline` agent started again with the same flags (and data directory) after a kill.
pub struct Agent {
    pub name: String,
    pub args: Vec<String>,
    bin: PathBuf,
    log: PathBuf,
    proc: Option<Proc>,
}

impl Agent {
    pub fn start(&mut self) -> eyre::Result<()> {
        if self.proc.is_some() {
            return Ok(());
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        writeln!(log, "===== scenario: {} start =====", self.name)?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(&self.args).env("RUST_LOG", "info");
        self.proc = Some(Proc::spawn(cmd, &self.log)?);
        tracing::info!(agent = %self.name, "started");
        Ok(())
    }

    pub fn kill(&mut self) {
        if self.proc.take().is_some() {
            tracing::info!(agent = %self.name, "killed (SIGKILL)");
        }
    }

    pub fn running(&self) -> bool {
        self.proc.is_some()
    }

    /// Whether it is meant to run and has exited.
    pub fn crashed(&mut self) -> bool {
        self.proc.as_mut().is_some_and(|p| !p.alive())
    }

    /// Replaces the value of `flag`, or adds the flag and value.
    pub fn set_arg(&mut self, flag: &str, value: Option<&str>) {
        if let Some(i) = self.args.iter().position(|a| a == flag) {
            self.args.drain(i..i + 2);
        }
        if let Some(v) = value {
            self.args.push(flag.into());
            self.args.push(v.into());
        }
    }
}

/// The devnet's shape. Times are shortened from the specification's defaults so a scenario runs
/// in minutes.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    pub validators: usize,
    pub slot_duration: u64,
    pub epoch_duration: u64,
    pub claim_window: u64,
    pub block_time: u64,
    /// FALLBACK_ENTER in slots (FALLBACK_EXIT_ACTIVITY and FALLBACK_EXIT_TOTAL keep the deploy
    /// script's defaults, one and two epochs).
    pub fallback_enter: u64,
    /// Also run a node with no validators that proposes in based fallback (`--fallback-key`),
    /// and send the load to it too.
    pub based_proposer: bool,
    /// Provers' margins, in basis points, cheapest first.
    pub prover_margins_bps: Vec<u32>,
}

pub struct Devnet {
    _anvil: Proc,
    pub root: PathBuf,
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub url: String,
    pub deployment: Deployment,
    pub deployment_file: PathBuf,
    pub provider: L1Provider,
    /// The committee's nodes (each with half the validators).
    pub nodes: Vec<Agent>,
    /// The based-fallback proposer, when the config asks for one.
    pub based: Option<Agent>,
    /// Every node's RPC, the based proposer's last.
    pub node_rpcs: Vec<String>,
    pub provers: Vec<Agent>,
    pub submitter: Agent,
    /// Pays the load's fees: an anvil account no agent uses, funded on L2 through a fee deposit
    /// ([`Devnet::fund_load`]).
    pub load_key: alloy::signers::local::PrivateKeySigner,
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

impl Devnet {
    /// anvil and the deployment; two nodes sharing the validators, the provers and a submitter
    /// set up but not started ([`Devnet::start_agents`]), so a scenario can change their flags.
    pub async fn create(
        root: &Path,
        dir: &Path,
        bin: &Path,
        cfg: &DevnetConfig,
    ) -> eyre::Result<Devnet> {
        if let Some(missing) = harness::missing_tool(root) {
            bail!("{} not found: run `make install`", missing.display());
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let chain_id = harness::fresh_chain_id(root, 870_000_000);
        let provers = cfg.prover_margins_bps.len();
        let port = free_port();
        let cmd = harness::anvil_command(
            root,
            port,
            chain_id,
            Some(cfg.block_time),
            cfg.validators + provers + 4,
        );
        let anvil = Proc::spawn(cmd, &dir.join("anvil.log"))?;
        let url = format!("http://127.0.0.1:{port}");
        harness::wait_for_rpc(&url, Duration::from_secs(20)).await?;
        let provider = proofline_l1::connect(&RpcConfig::new(url.parse()?))?;

        // Deploy.s.sol reads its parameters from the environment: only the scenario's.
        let env = [
            ("STAKE_VALIDATORS", cfg.validators.to_string()),
            ("SLOT_DURATION", cfg.slot_duration.to_string()),
            ("EPOCH_DURATION", cfg.epoch_duration.to_string()),
            ("PROOF_CLAIM_WINDOW", cfg.claim_window.to_string()),
            ("FALLBACK_ENTER", cfg.fallback_enter.to_string()),
        ];
        let deployment_file = dir.join("deployment.json");
        let deployment = harness::deploy(
            root,
            &url,
            chain_id,
            &env,
            &dir.join("deploy.log"),
            &deployment_file,
        )
        .await?;

        let mut keys = Vec::new();
        for i in 1..=cfg.validators + provers + 2 {
            keys.push(harness::dev_key(root, i)?.to_bytes().to_string());
        }
        let load_key = harness::dev_key(root, cfg.validators + provers + 3)?;
        let p2p: Vec<u16> = (0..2).map(|_| free_port()).collect();
        let mut node_rpcs = Vec::new();
        // A `proofline node` on fresh RPC and metrics ports, with `extra` (its keys) and every
        // committee node but the one on `p2p_port` as peers.
        let mut node = |name: String, p2p_port: u16, extra: Vec<String>| {
            let rpc_port = free_port();
            node_rpcs.push(format!("http://127.0.0.1:{rpc_port}"));
            let mut args: Vec<String> = vec![
                "node".into(),
                "--l1-rpc".into(),
                url.clone(),
                "--deployment".into(),
                deployment_file.display().to_string(),
                "--data-dir".into(),
                dir.join(&name).display().to_string(),
                "--rpc-addr".into(),
                addr(rpc_port),
                "--metrics-addr".into(),
                addr(free_port()),
                "--p2p-listen".into(),
                format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
                "--poll-ms".into(),
                "500".into(),
            ];
            args.extend(extra);
            for peer in p2p.iter().filter(|p| **p != p2p_port) {
                args.push("--peer".into());
                args.push(format!("/ip4/127.0.0.1/tcp/{peer}"));
            }
            Agent {
                log: dir.join(format!("{name}.log")),
                name,
                args,
                bin: bin.to_path_buf(),
                proc: None,
            }
        };
        let mut nodes = Vec::new();
        for (k, p2p_port) in p2p.iter().enumerate() {
            let node_dir = dir.join(format!("node{k}"));
            std::fs::create_dir_all(&node_dir)?;
            let own: Vec<&str> = keys[..cfg.validators]
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == k)
                .map(|(_, key)| key.as_str())
                .collect();
            let keys_file = node_dir.join("validators.keys");
            std::fs::write(&keys_file, own.join("\n") + "\n")?;
            nodes.push(node(
                format!("node{k}"),
                *p2p_port,
                vec![
                    "--validator-keys-file".into(),
                    keys_file.display().to_string(),
                ],
            ));
        }
        let based = cfg.based_proposer.then(|| {
            node(
                "based".into(),
                free_port(),
                vec![
                    "--fallback-key".into(),
                    keys[cfg.validators + provers + 1].clone(),
                ],
            )
        });
        let submitter_port = free_port();
        let submitter_url = format!("http://127.0.0.1:{submitter_port}");
        let submitter = Agent {
            name: "submitter".into(),
            args: vec![
                "submitter".into(),
                "--l1-rpc".into(),
                url.clone(),
                "--deployment".into(),
                deployment_file.display().to_string(),
                "--key".into(),
                keys[cfg.validators + provers].clone(),
                "--data-dir".into(),
                dir.join("submitter").display().to_string(),
                "--rpc-addr".into(),
                addr(submitter_port),
                "--metrics-addr".into(),
                addr(free_port()),
            ],
            bin: bin.to_path_buf(),
            log: dir.join("submitter.log"),
            proc: None,
        };
        let mut prover_agents = Vec::new();
        for (k, margin) in cfg.prover_margins_bps.iter().enumerate() {
            let name = format!("prover{k}");
            let mut args: Vec<String> = vec![
                "prover".into(),
                "--l1-rpc".into(),
                url.clone(),
                "--deployment".into(),
                deployment_file.display().to_string(),
                "--prover-key".into(),
                keys[cfg.validators + k].clone(),
                "--data-dir".into(),
                dir.join(&name).display().to_string(),
                "--rpc-addr".into(),
                addr(free_port()),
                "--metrics-addr".into(),
                addr(free_port()),
                "--p2p-listen".into(),
                format!("/ip4/127.0.0.1/tcp/{}", free_port()),
                "--peer".into(),
                format!("/ip4/127.0.0.1/tcp/{}", p2p[k % p2p.len()]),
                "--prover-metrics-addr".into(),
                addr(free_port()),
                "--poll-ms".into(),
                "500".into(),
                "--dev-mint".into(),
                "--margin-bps".into(),
                margin.to_string(),
                "--proving-ms".into(),
                "1000".into(),
                "--proving-ms-per-block".into(),
                "20".into(),
                "--quote-lead-secs".into(),
                "3".into(),
                "--no-submit".into(),
                "--submitter".into(),
                submitter_url.clone(),
            ];
            for rpc in &node_rpcs {
                args.push("--publish-to".into());
                args.push(rpc.clone());
            }
            prover_agents.push(Agent {
                name,
                args,
                bin: bin.to_path_buf(),
                log: dir.join(format!("prover{k}.log")),
                proc: None,
            });
        }
        Ok(Devnet {
            _anvil: anvil,
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            bin: bin.to_path_buf(),
            url,
            deployment,
            deployment_file,
            provider,
            nodes,
            based,
            node_rpcs,
            provers: prover_agents,
            submitter,
            load_key,
        })
    }

    pub fn start_agents(&mut self) -> eyre::Result<()> {
        for n in self.nodes.iter_mut().chain(self.based.as_mut()) {
            n.start()?;
        }
        self.submitter.start()?;
        for p in &mut self.provers {
            p.start()?;
        }
        Ok(())
    }

    /// Fails if an agent that should run has exited.
    pub fn check_alive(&mut self) -> eyre::Result<()> {
        let dir = self.dir.display().to_string();
        for a in self
            .nodes
            .iter_mut()
            .chain(self.based.as_mut())
            .chain(self.provers.iter_mut())
            .chain(std::iter::once(&mut self.submitter))
        {
            if a.crashed() {
                bail!("{} exited; see {dir}/{}.log", a.name, a.name);
            }
        }
        Ok(())
    }

    pub fn slot_start(&self, slot: u64) -> f64 {
        (self.deployment.genesis_time + slot * self.deployment.slot_duration) as f64
    }

    pub fn epoch_start(&self, epoch: u64) -> f64 {
        self.slot_start(epoch * self.deployment.epoch_duration)
    }

    /// Seconds since genesis, the report's time axis.
    pub fn since_genesis(&self, unix: f64) -> f64 {
        unix - self.deployment.genesis_time as f64
    }

    pub fn epoch_at(&self, unix: f64) -> u64 {
        let secs = self.deployment.slot_duration * self.deployment.epoch_duration;
        (self.since_genesis(unix).max(0.0) / secs as f64) as u64
    }

    /// Sleeps until `epoch` starts (plus `offset` seconds), failing early if an agent dies.
    pub async fn until_epoch(&mut self, epoch: u64, offset: f64) -> eyre::Result<()> {
        let target = self.epoch_start(epoch) + offset;
        while unix_now() < target {
            self.check_alive()?;
            let left = (target - unix_now()).clamp(0.0, 1.0);
            tokio::time::sleep(Duration::from_secs_f64(left)).await;
        }
        Ok(())
    }

    pub async fn anvil_rpc(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> eyre::Result<serde_json::Value> {
        Ok(self
            .provider
            .raw_request::<_, serde_json::Value>(method.into(), params)
            .await?)
    }

    /// The Rollup's events since the deployment ([`collect_events`]).
    pub async fn collect_events(&self) -> eyre::Result<Vec<Timed>> {
        collect_events(&self.provider, &self.deployment).await
    }

    /// Epochs proven so far, and bonds slashed (by epoch), from the Rollup's events alone.
    pub async fn proofs_and_slashes(&self) -> eyre::Result<(Vec<u64>, Vec<u64>)> {
        let rollup = Rollup::new(self.deployment.rollup, self.provider.clone());
        let from = self.deployment.deploy_block;
        let proofs = rollup
            .L2ProofVerified_filter()
            .from_block(from)
            .query()
            .await?;
        let slashes = rollup.BondSlashed_filter().from_block(from).query().await?;
        Ok((
            proofs
                .iter()
                .map(|(e, _)| e.epoch.saturating_to())
                .collect(),
            slashes
                .iter()
                .map(|(e, _)| e.epoch.saturating_to())
                .collect(),
        ))
    }

    /// Waits until `epoch` is proven (true) or `deadline` (unix seconds) passes (false).
    pub async fn until_proven(&mut self, epoch: u64, deadline: f64) -> eyre::Result<bool> {
        loop {
            self.check_alive()?;
            if self.proofs_and_slashes().await?.0.contains(&epoch) {
                return Ok(true);
            }
            if unix_now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Gives the load's payer `tokens` whole fee tokens of L2 fee balance the way a user gets it:
    /// a fee deposit through the forced-inclusion queue (minting the DevToken first), and waits
    /// until the first node's L2 state shows it (a block took the deposit).
    pub async fn fund_load(&self, tokens: u64) -> eyre::Result<()> {
        let txmgr = proofline_l1::TxManager::new(
            self.provider.clone(),
            self.load_key.clone(),
            proofline_l1::TxManagerConfig::default(),
        )
        .await?;
        let amount =
            alloy::primitives::U256::from(tokens) * alloy::primitives::U256::from(10u64.pow(18));
        proofline_devnet::txgen::fund(
            self.provider.clone(),
            &self.deployment,
            &txmgr,
            &self.node_rpcs[0],
            amount,
            true,
        )
        .await
        .wrap_err("funding the load's fee balance")
    }

    /// Queues `data` on the forced-inclusion queue from the deployer's account, with the dev tx
    /// proof verifier's proof (`keccak256(data)`) and twice the quoted fee (the base fee moves).
    pub async fn enqueue_forced(&self, data: Vec<u8>) -> eyre::Result<()> {
        let signer: alloy::signers::local::PrivateKeySigner = DEPLOYER_KEY.parse()?;
        let provider = alloy::providers::ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(signer)
            .connect_http(self.url.parse()?)
            .erased();
        let queue = proofline_bindings::ForcedInclusionQueue::new(
            self.deployment.forced_inclusion_queue,
            provider,
        );
        let fee = queue
            .enqueueFee(alloy::primitives::U256::from(data.len()))
            .call()
            .await?;
        let proof = alloy::primitives::keccak256(&data);
        let receipt = queue
            .enqueue(Bytes::from(data), Bytes::from(proof.to_vec()))
            .value(fee * alloy::primitives::U256::from(2))
            .send()
            .await?
            .get_receipt()
            .await?;
        ensure!(receipt.status(), "enqueue reverted");
        Ok(())
    }

    /// Which of `txs` some validator node's pool holds.
    pub async fn pooled(&self, txs: &[B256]) -> eyre::Result<HashSet<B256>> {
        let mut out = HashSet::new();
        for url in &self.node_rpcs {
            let client = rpc_client(url)?;
            for h in txs {
                if client.get_tx_status(*h).await? == TxStatus::Pending {
                    out.insert(*h);
                }
            }
        }
        Ok(out)
    }
}

/// The Rollup of `d`'s events since its deployment, in L1 order, with the txs of each proposed
/// block read from its blobs (anvil's); times are seconds since genesis.
pub async fn collect_events(provider: &L1Provider, d: &Deployment) -> eyre::Result<Vec<Timed>> {
    let filter = Filter::new().address(d.rollup).from_block(d.deploy_block);
    let mut logs: Vec<Log> = provider.get_logs(&filter).await?;
    logs.sort_by_key(|l| (l.block_number, l.log_index));
    let blobs = BlobSource::Anvil {
        rpc: provider.clone(),
    };
    let mut stamps: BTreeMap<u64, (B256, u64)> = BTreeMap::new();
    let mut out = Vec::new();
    for log in logs {
        let number = log.block_number.ok_or_else(|| eyre!("log without block"))?;
        if let std::collections::btree_map::Entry::Vacant(e) = stamps.entry(number) {
            let block = provider
                .get_block_by_number(number.into())
                .await?
                .ok_or_else(|| eyre!("L1 block {number} missing"))?;
            e.insert((block.header.hash, block.header.timestamp));
        }
        let (hash, timestamp) = stamps[&number];
        let t = timestamp as f64 - d.genesis_time as f64;
        let data = log.data();
        let Some(topic) = log.topic0() else { continue };
        let event = if *topic == Rollup::L2BlockProposed::SIGNATURE_HASH {
            let ev = Rollup::L2BlockProposed::decode_log_data(data)?;
            let block_number: u64 = ev.blockNumber.saturating_to();
            if block_number == 0 {
                continue;
            }
            let tx_hash = log
                .transaction_hash
                .ok_or_else(|| eyre!("log without tx"))?;
            let proposal = proofline_node::l1::fetch_proposal(provider, tx_hash).await?;
            let at = BlockRef {
                number,
                hash,
                timestamp,
            };
            let fetched = blobs
                .fetch(&at, tx_hash, &proposal.args.blob_hashes)
                .await
                .wrap_err_with(|| format!("blobs of L2 block {block_number}"))?;
            let body = proofline_l2::blob::decode_body(&fetched)?;
            let txs = body.effects.iter().map(TxEffect::tx_hash).collect();
            ChainEvent::Proposed {
                number: block_number,
                slot: ev.slot.saturating_to(),
                txs,
            }
        } else if *topic == Rollup::PrunedPending::SIGNATURE_HASH {
            let ev = Rollup::PrunedPending::decode_log_data(data)?;
            ChainEvent::Pruned {
                proven: ev.provenBlockNumber.saturating_to(),
                pending: ev.pendingBlockNumber.saturating_to(),
            }
        } else if *topic == Rollup::L2ProofVerified::SIGNATURE_HASH {
            let ev = Rollup::L2ProofVerified::decode_log_data(data)?;
            ChainEvent::Proven {
                epoch: ev.epoch.saturating_to(),
                end: ev.endBlockNumber.saturating_to(),
            }
        } else if *topic == Rollup::ProofRightClaimed::SIGNATURE_HASH {
            let ev = Rollup::ProofRightClaimed::decode_log_data(data)?;
            ChainEvent::Claimed {
                epoch: ev.epoch.saturating_to(),
                prover: ev.bondProvider,
            }
        } else if *topic == Rollup::BondSlashed::SIGNATURE_HASH {
            let ev = Rollup::BondSlashed::decode_log_data(data)?;
            ChainEvent::Slashed {
                epoch: ev.epoch.saturating_to(),
                prover: ev.bondProvider,
                amount: ev.amount.saturating_to(),
            }
        } else if *topic == Rollup::L2BlockProvenInFallback::SIGNATURE_HASH {
            let ev = Rollup::L2BlockProvenInFallback::decode_log_data(data)?;
            let number: u64 = ev.blockNumber.saturating_to();
            // The block's own L2BlockProposed precedes this, in the same transaction.
            let slot = out
                .iter()
                .rev()
                .find_map(|e: &Timed| match &e.event {
                    ChainEvent::Proposed {
                        number: n, slot, ..
                    } if *n == number => Some(*slot),
                    _ => None,
                })
                .ok_or_else(|| eyre!("block {number} proven in fallback, never proposed"))?;
            ChainEvent::ProvenInFallback {
                number,
                epoch: slot / d.epoch_duration,
            }
        } else if *topic == Rollup::FallbackEntered::SIGNATURE_HASH {
            ChainEvent::FallbackEntered
        } else if *topic == Rollup::FallbackExited::SIGNATURE_HASH {
            ChainEvent::FallbackExited
        } else {
            continue;
        };
        out.push(Timed { t, event });
    }
    Ok(out)
}

fn rpc_client(url: &str) -> eyre::Result<HttpClient> {
    Ok(HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(5))
        .build(url)?)
}

/// The runner's tx load: generated txs sent round-robin to the nodes at `rate` per second (or each
/// to every node, `broadcast`: nodes do not gossip txs); each tx a node accepts is recorded with
/// its send time (seconds since genesis).
pub struct Load {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    sent: Arc<Mutex<Vec<SentTx>>>,
    refused: Arc<Mutex<HashMap<String, u64>>>,
}

impl Load {
    pub fn start(
        nodes: &[String],
        rate: f64,
        genesis: u64,
        seed: u64,
        broadcast: bool,
        payer: alloy::signers::local::PrivateKeySigner,
    ) -> eyre::Result<Load> {
        let clients = nodes
            .iter()
            .map(|u| rpc_client(u))
            .collect::<eyre::Result<Vec<_>>>()?;
        let (stop, mut stopped) = watch::channel(false);
        let sent = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(HashMap::new()));
        let (sent2, refused2) = (sent.clone(), refused.clone());
        let task = tokio::spawn(async move {
            let mut gen = TxGen::paying(seed, payer);
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut i = 0usize;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return,
                }
                let tx = gen.next_tx();
                let t = unix_now() - genesis as f64;
                let to = if broadcast {
                    &clients[..]
                } else {
                    std::slice::from_ref(&clients[i % clients.len()])
                };
                i += 1;
                let mut accepted = None;
                for client in to {
                    match client.send_tx(Bytes::from(tx.encode())).await {
                        Ok(hash) => accepted = Some(hash),
                        Err(e) => {
                            let key = match &e {
                                jsonrpsee::core::ClientError::Call(c) => c.code().to_string(),
                                _ => "transport".into(),
                            };
                            *refused2.lock().expect("poisoned").entry(key).or_default() += 1;
                        }
                    }
                }
                if let Some(hash) = accepted {
                    sent2.lock().expect("poisoned").push(SentTx { hash, t });
                }
            }
        });
        Ok(Load {
            stop,
            task,
            sent,
            refused,
        })
    }

    /// Stops sending; returns the accepted txs and the refusals by error code.
    pub async fn stop(self) -> (Vec<SentTx>, HashMap<String, u64>) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let sent = std::mem::take(&mut *self.sent.lock().expect("poisoned"));
        let refused = std::mem::take(&mut *self.refused.lock().expect("poisoned"));
        (sent, refused)
    }
}
