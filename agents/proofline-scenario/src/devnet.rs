//! A fresh devnet for one scenario: anvil, `script/Deploy.s.sol` (the script users run), and
//! `proofline node`, `prover` and `submitter` processes of the real binary, as `make devnet` runs
//! them; plus fault injection through anvil's RPC. The runner's tx load is [`crate::load`]; the
//! reading back of the Rollup's events and the blocks' txs that the report is made of is
//! [`crate::events`].
//!
//! Every process is SIGKILLed when its handle drops, so an error or a panic leaves nothing
//! running; the deployment file forge writes into the work tree is moved to the run directory.

use std::{
    collections::HashSet,
    fs::OpenOptions,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Bytes, B256},
    providers::Provider,
};
use eyre::{bail, ensure, WrapErr};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use proofline_bindings::Rollup;
use proofline_devnet::harness::{self, free_port, DEPLOYER_KEY};
use proofline_l1::{Deployment, L1Provider, RpcConfig};
use proofline_node::rpc::{NodeApiClient, TxStatus};

use crate::events::collect_events;
use crate::report::Timed;

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
    /// Also run a node with no validators that proposes in based fallback (`--fallback-key-file`),
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
            let own: Vec<String> = keys[..cfg.validators]
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == k)
                .map(|(_, key)| key.clone())
                .collect();
            let keys_file = node_dir.join("validators.keys");
            harness::write_key_file(&keys_file, &own)?;
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
                    "--fallback-key-file".into(),
                    harness::write_key_file(
                        &dir.join("based").join("fallback.key"),
                        &[keys[cfg.validators + provers + 1].clone()],
                    )
                    .expect("the fallback key file")
                    .display()
                    .to_string(),
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
                "--key-file".into(),
                harness::write_key_file(
                    &dir.join("keys").join("submitter.key"),
                    &[keys[cfg.validators + provers].clone()],
                )?
                .display()
                .to_string(),
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
                "--prover-key-file".into(),
                harness::write_key_file(
                    &dir.join("keys").join(format!("{name}.key")),
                    &[keys[cfg.validators + k].clone()],
                )?
                .display()
                .to_string(),
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

pub(crate) fn rpc_client(url: &str) -> eyre::Result<HttpClient> {
    Ok(HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(5))
        .build(url)?)
}
