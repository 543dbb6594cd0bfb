//! The end-to-end harness: a real anvil, the real deploy script, real `proofline` processes, and
//! what the tests read and do to them.
//!
//! - [`Devnet::start`]: anvil (prague, 1 s blocks, its own chain id and port) and
//!   `script/Deploy.s.sol` with staked validators; the deployment file is copied to the test's
//!   directory and removed from the work tree (with forge's broadcast log) at once.
//! - [`NodeProc`]: a `proofline node` process (`CARGO_BIN_EXE_proofline`), its log, JSON-RPC,
//!   `/metrics` and `/health`; it can be SIGKILLed and started again on the same data directory.
//! - [`Proxy`]: a TCP proxy between nodes and anvil that can refuse connections for a while.
//! - [`L1`]: what the tests read from anvil: `L2BlockProposed` events, the `propose` transactions
//!   behind them (type, blobs, signers), committees and proposers.
//! - [`spawn_dev_prover`]: proves each epoch with the dev verifier, so the pending chain is never
//!   pruned and every slot can carry a block.
//!
//! Every process is killed when its handle drops (a failed assertion included), and a failing
//! test prints the tail of every log and keeps its directory (`E2E_KEEP_DIR=1` keeps it always).

#![allow(dead_code)] // each test uses a different part

use std::{
    collections::BTreeMap,
    fs::OpenOptions,
    io::Write as _,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy::{
    consensus::{Transaction as _, Typed2718 as _},
    network::TransactionResponse as _,
    primitives::{keccak256, Address, Bytes, Signature, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent, SolValue},
};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use proofline_bindings::Rollup;
use proofline_l1::Deployment;
use proofline_node::rpc::{BlockInfo, NodeApiClient, NodeStatus};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

use proofline_devnet::harness;
pub use proofline_devnet::harness::free_port;

/// reqwest (the HTTP client of alloy and of the tests) is built without a TLS provider of its
/// own: install ring's before building any client, as `proofline_l1::connect` does.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn root() -> PathBuf {
    harness::work_tree()
}

pub fn tool(name: &str) -> PathBuf {
    harness::tool(&root(), name)
}

/// Whether anvil, forge and cast are installed; prints why the test is skipped when not.
pub fn tools_present(test: &str) -> bool {
    for name in ["anvil", "forge", "cast"] {
        if !tool(name).is_file() {
            eprintln!(
                "SKIPPED {test}: {} not found (run `make install`)",
                tool(name).display()
            );
            return false;
        }
    }
    true
}

pub fn log(msg: impl AsRef<str>) {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    eprintln!(
        "[e2e {}.{:03}] {}",
        t.as_secs() % 100_000,
        t.subsec_millis(),
        msg.as_ref()
    );
}

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A child process whose output goes to a log file; killed (SIGKILL) when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, log_file: &Path) -> Proc {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_file)
            .unwrap();
        let err = out.try_clone().unwrap();
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start {cmd:?}: {e}"));
        Proc {
            name: name.into(),
            child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

pub fn tail(path: &Path, lines: usize) -> String {
    let text = read_log(path);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether a tracing text line carries the field `name=value` (as a whole token).
pub fn has_field(line: &str, name: &str, value: impl std::fmt::Display) -> bool {
    let needle = format!(" {name}={value}");
    line.match_indices(&needle).any(|(i, m)| {
        line[i + m.len()..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
    })
}

/// The value of field `name` in a tracing text line.
pub fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=");
    let start = line.find(&needle)? + needle.len();
    let rest = &line[start..];
    Some(rest.split_whitespace().next().unwrap_or(""))
}

/// Logs printed (their tails) when the test fails, and the directory kept for a look.
pub struct Diagnostics {
    logs: Mutex<Vec<(String, PathBuf)>>,
    notes: Mutex<Vec<String>>,
    dir: Mutex<Option<tempfile::TempDir>>,
    path: PathBuf,
}

impl Diagnostics {
    pub fn new(test: &str) -> Arc<Self> {
        install_tls_provider();
        let dir = tempfile::Builder::new()
            .prefix(&format!("proofline-{test}-"))
            .tempdir()
            .unwrap();
        let path = dir.path().to_path_buf();
        log(format!("{test}: logs and data in {}", path.display()));
        Arc::new(Self {
            logs: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            dir: Mutex::new(Some(dir)),
            path,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.path
    }

    pub fn watch_log(&self, name: &str, path: &Path) {
        let mut logs = self.logs.lock().unwrap();
        if !logs.iter().any(|(_, p)| p == path) {
            logs.push((name.into(), path.into()));
        }
    }

    /// A line for the failure report (e.g. what the dev prover did).
    pub fn note(&self, line: impl Into<String>) {
        self.notes.lock().unwrap().push(line.into());
    }

    /// Prints every log's tail; call on failure (the guard does).
    pub fn report(&self) {
        for (name, path) in self.logs.lock().unwrap().iter() {
            // anvil's log is mostly the names of the methods called.
            let lines = if name == "anvil" { 15 } else { 80 };
            eprintln!(
                "\n===== last lines of {name} ({}) =====\n{}",
                path.display(),
                tail(path, lines)
            );
        }
        let notes = self.notes.lock().unwrap();
        if !notes.is_empty() {
            let from = notes.len().saturating_sub(30);
            eprintln!("\n===== test notes =====\n{}", notes[from..].join("\n"));
        }
    }
}

/// Prints the logs and keeps the directory when dropped during a panic; drop it last.
pub struct FailureReport(pub Arc<Diagnostics>);

impl Drop for FailureReport {
    fn drop(&mut self) {
        if std::env::var_os("E2E_KEEP_DIR").is_some() && !std::thread::panicking() {
            if let Some(dir) = self.0.dir.lock().unwrap().take() {
                eprintln!("e2e: E2E_KEEP_DIR set: kept {}", dir.keep().display());
            }
        }
        if std::thread::panicking() {
            self.0.report();
            if let Some(dir) = self.0.dir.lock().unwrap().take() {
                let kept = dir.keep();
                eprintln!("\ne2e: logs and data kept in {}", kept.display());
            }
        }
    }
}

/// Polls `f` every `every` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, every: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(every).await;
    }
}

// ------------------------------------------------------------------ anvil and the deployment

pub struct Devnet {
    pub anvil: Proc,
    pub anvil_port: u16,
    pub url: String,
    pub chain_id: u64,
    pub deployment: Deployment,
    /// The deployment file (a copy in the test's directory).
    pub deployment_file: PathBuf,
    /// The staked validators' keys (test mnemonic indices 1..=n), in staking order.
    pub validators: Vec<PrivateKeySigner>,
    pub l1: L1,
    pub diag: Arc<Diagnostics>,
}

pub struct DevnetConfig {
    pub validators: usize,
    pub slot_duration: u64,
    pub epoch_duration: u64,
    pub block_time: u64,
    /// PROOF_CLAIM_WINDOW in slots; `None`: the whole next epoch.
    pub claim_window: Option<u64>,
    /// Funded anvil accounts besides the deployer and the validators.
    pub extra_accounts: usize,
    /// FALLBACK_ENTER in slots; `None`: 1,000 epochs (out of the way).
    pub fallback_enter: Option<u64>,
}

impl Devnet {
    /// anvil, then `script/Deploy.s.sol` with `validators` staked. The proof claim window is the
    /// whole next epoch (the dev prover proves in it) unless the config says otherwise, and based
    /// fallback is 1,000 epochs away unless it says otherwise.
    pub async fn start(diag: Arc<Diagnostics>, config: DevnetConfig) -> Devnet {
        let root = root();
        let chain_id = harness::fresh_chain_id(&root, 880_000_000);
        let port = free_port();
        let anvil_log = diag.dir().join("anvil.log");
        diag.watch_log("anvil", &anvil_log);
        // The deployer, the validators, and the provers and submitters.
        let cmd = harness::anvil_command(
            &root,
            port,
            chain_id,
            Some(config.block_time),
            config.validators + 1 + config.extra_accounts,
        );
        let anvil = Proc::spawn("anvil", cmd, &anvil_log);
        let url = format!("http://127.0.0.1:{port}");
        harness::wait_for_rpc(&url, Duration::from_secs(20))
            .await
            .expect("anvil answers");
        let provider = ProviderBuilder::default()
            .connect_http(url.parse().unwrap())
            .erased();

        let deploy_log = diag.dir().join("deploy.log");
        diag.watch_log("forge script", &deploy_log);
        let epoch = config.epoch_duration;
        let env = [
            ("STAKE_VALIDATORS", config.validators.to_string()),
            ("SLOT_DURATION", config.slot_duration.to_string()),
            ("EPOCH_DURATION", epoch.to_string()),
            (
                "PROOF_CLAIM_WINDOW",
                config.claim_window.unwrap_or(epoch).to_string(),
            ),
            (
                "FALLBACK_ENTER",
                config.fallback_enter.unwrap_or(1000 * epoch).to_string(),
            ),
        ];
        let deployment_file = diag.dir().join("deployment.json");
        let deployment =
            harness::deploy(&root, &url, chain_id, &env, &deploy_log, &deployment_file)
                .await
                .unwrap_or_else(|e| panic!("{e:#}:\n{}", tail(&deploy_log, 40)));
        assert!(
            !root.join(format!("deployments/{chain_id}.json")).exists(),
            "deployments/{chain_id}.json removed"
        );
        assert_eq!(deployment.validators.len(), config.validators);

        // The validators' keys, as devnet.sh derives them.
        let keys: Vec<PrivateKeySigner> = (1..=config.validators)
            .map(|i| harness::dev_key(&root, i).expect("cast derives the key"))
            .collect();
        for (key, staked) in keys.iter().zip(&deployment.validators) {
            assert_eq!(key.address(), *staked);
        }
        let l1 = L1::new(provider, deployment.clone());
        log(format!(
            "deployed on chain {chain_id} (anvil {url}): rollup {}, genesis {}, {}s slots, {}-slot epochs, {} validators",
            deployment.rollup,
            deployment.genesis_time,
            deployment.slot_duration,
            deployment.epoch_duration,
            keys.len()
        ));
        Devnet {
            anvil,
            anvil_port: port,
            url,
            chain_id,
            deployment,
            deployment_file,
            validators: keys,
            l1,
            diag,
        }
    }

    /// Anvil dev account `index`'s key (test mnemonic), via cast.
    pub fn dev_key(&self, index: usize) -> PrivateKeySigner {
        harness::dev_key(&root(), index).expect("cast derives the key")
    }

    /// A node spec on fresh ports with these validator keys.
    pub fn node_spec(&self, name: &str, keys: &[PrivateKeySigner], l1_url: &str) -> NodeSpec {
        NodeSpec {
            name: name.into(),
            data_dir: self.diag.dir().join(name),
            log: self.diag.dir().join(format!("{name}.log")),
            keys: keys.iter().map(|k| format!("{}", k.to_bytes())).collect(),
            l1_url: l1_url.into(),
            deployment_file: self.deployment_file.clone(),
            rpc_port: free_port(),
            metrics_port: free_port(),
            p2p_port: free_port(),
            peers: Vec::new(),
            fault: None,
            extra_args: Vec::new(),
        }
    }

    /// A tx generator sending to `node` (at `rate` txs per second).
    pub fn txgen(&self, node: &NodeProc, seed: u64, rate: u64) -> Proc {
        self.spawn_txgen(node, seed, rate, |_| {})
    }

    /// A tx generator sending txs paid by `payer` to `node`: it first funds the payer's L2
    /// account with a fee deposit through the queue (minting the DevToken), as a user would. The
    /// key goes in a file, never on the command line.
    pub fn txgen_paid(
        &self,
        node: &NodeProc,
        seed: u64,
        rate: u64,
        payer: &PrivateKeySigner,
    ) -> Proc {
        let key_file = self
            .diag
            .dir()
            .join(format!("txgen-{}.key", node.spec.name));
        proofline_devnet::harness::write_key_file(&key_file, &[format!("{}", payer.to_bytes())])
            .expect("the key file");
        self.spawn_txgen(node, seed, rate, |cmd| {
            cmd.arg("--key-file")
                .arg(&key_file)
                .args(["--dev-mint", "--l1-rpc", &self.url, "--deployment"])
                .arg(&self.deployment_file);
        })
    }

    fn spawn_txgen(
        &self,
        node: &NodeProc,
        seed: u64,
        rate: u64,
        extra: impl FnOnce(&mut Command),
    ) -> Proc {
        let log_file = self
            .diag
            .dir()
            .join(format!("txgen-{}.log", node.spec.name));
        self.diag
            .watch_log(&format!("txgen {}", node.spec.name), &log_file);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofline"));
        cmd.arg("txgen")
            .args(["--node-rpc", &node.rpc_url()])
            .args(["--seed", &seed.to_string()])
            .args(["--rate", &rate.to_string()]);
        extra(&mut cmd);
        clear_proofline_env(&mut cmd);
        Proc::spawn("txgen", cmd, &log_file)
    }

    /// anvil's JSON-RPC, raw.
    pub async fn anvil_rpc(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.l1
            .provider
            .raw_request::<_, serde_json::Value>(method.to_owned().into(), params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }
}

pub fn clear_proofline_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PROOFLINE_") {
            cmd.env_remove(key);
        }
    }
}

// ------------------------------------------------------------------ nodes

#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub name: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    /// Validator private keys (hex).
    pub keys: Vec<String>,
    pub l1_url: String,
    pub deployment_file: PathBuf,
    pub rpc_port: u16,
    pub metrics_port: u16,
    pub p2p_port: u16,
    /// Other nodes' p2p ports.
    pub peers: Vec<u16>,
    /// `--fault` (hidden flag), e.g. `wrong-state-root`.
    pub fault: Option<String>,
    /// Further flags, e.g. `--fallback-key`.
    pub extra_args: Vec<String>,
}

/// A `proofline node` process (started again on the same data directory after a kill).
pub struct NodeProc {
    pub spec: NodeSpec,
    proc: Option<Proc>,
    pub runs: u32,
    client: HttpClient,
    http: alloy::transports::http::reqwest::Client,
}

/// The line the harness writes into a node's log before each start.
pub const START_MARKER: &str = "===== e2e: node start";

impl NodeProc {
    pub fn new(spec: NodeSpec, diag: &Diagnostics) -> NodeProc {
        diag.watch_log(&format!("node {}", spec.name), &spec.log);
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(5))
            .build(format!("http://127.0.0.1:{}", spec.rpc_port))
            .unwrap();
        let http = alloy::transports::http::reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        NodeProc {
            spec,
            proc: None,
            runs: 0,
            client,
            http,
        }
    }

    pub fn start(&mut self) {
        assert!(self.proc.is_none(), "{} already running", self.spec.name);
        let s = &self.spec;
        std::fs::create_dir_all(&s.data_dir).unwrap();
        let keys_file = s.data_dir.join("validators.keys");
        proofline_devnet::harness::write_key_file(&keys_file, &s.keys).unwrap();
        self.runs += 1;
        let mut log_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&s.log)
            .unwrap();
        writeln!(log_file, "{START_MARKER} {} =====", self.runs).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofline"));
        cmd.arg("node")
            .args(["--l1-rpc", &s.l1_url])
            .arg("--deployment")
            .arg(&s.deployment_file)
            .arg("--validator-keys-file")
            .arg(&keys_file)
            .arg("--data-dir")
            .arg(&s.data_dir)
            .args(["--rpc-addr", &format!("127.0.0.1:{}", s.rpc_port)])
            .args(["--metrics-addr", &format!("127.0.0.1:{}", s.metrics_port)])
            .args([
                "--p2p-listen",
                &format!("/ip4/127.0.0.1/tcp/{}", s.p2p_port),
            ])
            .args(["--poll-ms", "500"]);
        for peer in &s.peers {
            cmd.args(["--peer", &format!("/ip4/127.0.0.1/tcp/{peer}")]);
        }
        if let Some(fault) = &s.fault {
            cmd.args(["--fault", fault]);
        }
        cmd.args(&s.extra_args);
        clear_proofline_env(&mut cmd);
        // Sync and duties at debug: each block synced, and why a check or attestation failed.
        cmd.env(
            "RUST_LOG",
            "info,proofline_node::sync=debug,proofline_node::duties=debug",
        );
        self.proc = Some(Proc::spawn(&s.name, cmd, &s.log));
        log(format!(
            "node {} started (run {}, {} validators{}), rpc {}",
            s.name,
            self.runs,
            s.keys.len(),
            s.fault
                .as_deref()
                .map(|f| format!(", fault {f}"))
                .unwrap_or_default(),
            self.rpc_url()
        ));
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
            log(format!("node {} killed (SIGKILL)", self.spec.name));
        }
    }

    pub fn alive(&mut self) -> bool {
        self.proc.as_mut().is_some_and(Proc::alive)
    }

    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.spec.rpc_port)
    }

    pub fn addresses(&self) -> Vec<Address> {
        self.spec
            .keys
            .iter()
            .map(|k| k.parse::<PrivateKeySigner>().unwrap().address())
            .collect()
    }

    pub async fn status(&self) -> eyre::Result<NodeStatus> {
        Ok(self.client.get_status().await?)
    }

    pub async fn block(&self, number: u64) -> eyre::Result<Option<BlockInfo>> {
        Ok(self.client.get_block(number).await?)
    }

    /// `account`'s L2 fee balance at the node's synced tip.
    pub async fn fee_balance(&self, account: Address) -> eyre::Result<U256> {
        Ok(self.client.get_fee_balance(account).await?)
    }

    /// Whether the node's pool holds tx `hash`.
    pub async fn pooled(&self, hash: B256) -> eyre::Result<bool> {
        Ok(self.client.get_tx_status(hash).await? == proofline_node::rpc::TxStatus::Pending)
    }

    async fn get(&self, path: &str) -> eyre::Result<(u16, String)> {
        let url = format!("http://127.0.0.1:{}{path}", self.spec.metrics_port);
        let response = self.http.get(url).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// `/health`: the HTTP status and the JSON body.
    pub async fn health(&self) -> eyre::Result<(u16, serde_json::Value)> {
        let (status, body) = self.get("/health").await?;
        Ok((status, serde_json::from_str(&body)?))
    }

    /// One sample of `/metrics` (`name` with its labels, e.g. `proofline_reorgs_total`), 0 if
    /// absent.
    pub async fn metric(&self, name: &str) -> eyre::Result<f64> {
        let (status, body) = self.get("/metrics").await?;
        eyre::ensure!(status == 200, "/metrics answered {status}");
        Ok(body
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0))
    }

    pub fn log_text(&self) -> String {
        read_log(&self.spec.log)
    }

    /// The log of the current (latest) run only.
    pub fn current_run_log(&self) -> String {
        let text = self.log_text();
        match text.rfind(START_MARKER) {
            Some(i) => text[i..].to_owned(),
            None => text,
        }
    }

    /// Lines of the whole log (every run) that carry `slot=<slot>`.
    pub fn lines_about_slot(&self, slot: u64) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| has_field(l, "slot", slot))
            .map(str::to_owned)
            .collect()
    }

    /// Waits until the node answers `node_getStatus` and is synced with L1's pending tip.
    pub async fn wait_synced(&self, l1: &L1, timeout: Duration) -> NodeStatus {
        wait_for(
            &format!("node {} to sync with L1", self.spec.name),
            timeout,
            Duration::from_millis(200),
            || async {
                let status = self.status().await.ok()?;
                let pending = l1.pending().await.ok()?;
                (status.synced_block == pending).then_some(status)
            },
        )
        .await
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill();
    }
}

// ------------------------------------------------------------------ the TCP proxy

/// A TCP proxy to anvil. [`Proxy::cut`] closes every open connection and refuses new ones until
/// [`Proxy::restore`].
pub struct Proxy {
    pub port: u16,
    up: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, rx) = watch::channel(true);
        let task = tokio::spawn(proxy_loop(Some(listener), port, target, rx));
        Proxy { port, up, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy_loop(
    mut listener: Option<TcpListener>,
    port: u16,
    target: SocketAddr,
    mut up: watch::Receiver<bool>,
) {
    loop {
        if !*up.borrow_and_update() {
            // Down: nothing listens, so connections are refused.
            drop(listener.take());
            if up.changed().await.is_err() {
                return;
            }
            continue;
        }
        let l = match listener.take() {
            Some(l) => l,
            None => match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => l,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        loop {
            tokio::select! {
                accepted = l.accept() => {
                    if let Ok((inbound, _)) = accepted {
                        tokio::spawn(pipe(inbound, target, up.clone()));
                    }
                }
                changed = up.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if !*up.borrow() {
                        break;
                    }
                }
            }
        }
    }
}

async fn pipe(mut inbound: TcpStream, target: SocketAddr, mut up: watch::Receiver<bool>) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        // Cut: both sockets are dropped mid-stream.
        _ = up.wait_for(|up| !*up) => {}
    }
}

// ------------------------------------------------------------------ reading L1

/// An `L2BlockProposed` event and the `propose` transaction that emitted it.
#[derive(Clone, Debug)]
pub struct Landed {
    pub l1_block: u64,
    pub l1_hash: B256,
    pub tx_hash: B256,
    pub number: u64,
    pub archive: B256,
    pub slot: u64,
}

/// A mined `propose` transaction (successful or reverted), decoded.
#[derive(Clone, Debug)]
pub struct ProposeTx {
    pub l1_block: u64,
    pub tx_hash: B256,
    pub from: Address,
    pub nonce: u64,
    pub success: bool,
    pub tx_type: u8,
    /// The transaction's blob versioned hashes (type 3).
    pub blob_hashes: Vec<B256>,
    pub args: Rollup::ProposeArgs,
    pub signers: U256,
    pub signatures: Vec<Rollup::Signature>,
}

impl ProposeTx {
    pub fn slot(&self) -> u64 {
        self.args.slot.saturating_to()
    }

    /// The EIP-712 digest the committee signed.
    pub fn digest(&self, d: &Deployment) -> B256 {
        proofline_core::ProposeArgs::from(&self.args)
            .digest(&proofline_core::rollup_domain(d.chain_id, d.rollup))
    }

    /// The committee members (by the bitmap) whose signature recovers to them over the digest;
    /// panics on a signature that does not.
    pub fn signed_by(&self, committee: &[Address], d: &Deployment) -> Vec<Address> {
        let digest = self.digest(d);
        let mut out = Vec::new();
        let mut j = 0;
        for (i, member) in committee.iter().enumerate() {
            if self.signers.bit(i) {
                let s = &self.signatures[j];
                j += 1;
                let sig = Signature::new(s.r.into(), s.s.into(), s.v == 28);
                let signer = sig.recover_address_from_prehash(&digest).unwrap();
                assert_eq!(
                    signer, *member,
                    "tx {}: signature {i} is not committee member {member}'s",
                    self.tx_hash
                );
                out.push(signer);
            }
        }
        out
    }
}

pub struct L1 {
    pub provider: DynProvider,
    pub d: Deployment,
    pub rollup: Rollup::RollupInstance<DynProvider>,
}

impl L1 {
    pub fn new(provider: DynProvider, d: Deployment) -> L1 {
        let rollup = Rollup::new(d.rollup, provider.clone());
        L1 {
            provider,
            d,
            rollup,
        }
    }

    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.d.epoch_duration
    }

    pub fn slot_start(&self, slot: u64) -> u64 {
        self.d.genesis_time + slot * self.d.slot_duration
    }

    /// The current slot by the wall clock (anvil stamps blocks with it).
    pub fn wall_slot(&self) -> u64 {
        ((unix_now() - self.d.genesis_time as f64).max(0.0) / self.d.slot_duration as f64) as u64
    }

    /// Seconds until `slot` starts (negative: started).
    pub fn secs_until(&self, slot: u64) -> f64 {
        self.slot_start(slot) as f64 - unix_now()
    }

    /// Waits until `slot` has started and L1 has a block in it or after it.
    pub async fn wait_slot(&self, slot: u64) {
        let wait = self.secs_until(slot);
        if wait > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
        let start = self.slot_start(slot);
        wait_for(
            &format!("an L1 block in slot {slot}"),
            Duration::from_secs(30),
            Duration::from_millis(100),
            || async {
                let block = self
                    .provider
                    .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                    .await
                    .ok()??;
                (block.header.timestamp >= start).then_some(())
            },
        )
        .await;
    }

    pub async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }

    /// `who`'s nonce as of the newest block (its mined transactions).
    pub async fn nonce(&self, who: Address) -> u64 {
        self.provider
            .get_transaction_count(who)
            .latest()
            .await
            .unwrap()
    }

    pub async fn pending(&self) -> eyre::Result<u64> {
        Ok(self
            .rollup
            .getPendingBlockNumber()
            .call()
            .await?
            .saturating_to())
    }

    pub async fn archive(&self, number: u64) -> B256 {
        self.rollup
            .getBlock(U256::from(number))
            .call()
            .await
            .unwrap()
            .archive
    }

    /// The proposer of `slot` (zero: anyone may propose).
    pub async fn proposer(&self, slot: u64) -> Address {
        self.rollup
            .getProposerAt(U256::from(self.slot_start(slot)))
            .call()
            .await
            .unwrap()
    }

    pub async fn committee(&self, epoch: u64) -> Vec<Address> {
        self.rollup
            .getCommitteeAt(U256::from(epoch))
            .call()
            .await
            .unwrap()
    }

    /// Every `L2BlockProposed` (genesis excepted) in canonical L1 blocks `from..=to`.
    pub async fn landed_between(&self, from: u64, to: Option<u64>) -> Vec<Landed> {
        // anvil refuses a range that starts past its head.
        if from > self.head().await {
            return Vec::new();
        }
        let mut filter = Filter::new()
            .address(self.d.rollup)
            .event_signature(Rollup::L2BlockProposed::SIGNATURE_HASH)
            .from_block(from);
        if let Some(to) = to {
            filter = filter.to_block(to);
        }
        let logs = self.provider.get_logs(&filter).await.unwrap();
        logs.iter()
            .filter_map(|log| {
                let ev = Rollup::L2BlockProposed::decode_log_data(log.data()).ok()?;
                let number: u64 = ev.blockNumber.saturating_to();
                (number > 0).then(|| Landed {
                    l1_block: log.block_number.unwrap(),
                    l1_hash: log.block_hash.unwrap(),
                    tx_hash: log.transaction_hash.unwrap(),
                    number,
                    archive: ev.archive,
                    slot: ev.slot.saturating_to(),
                })
            })
            .collect()
    }

    /// Every `L2BlockProposed` since the deployment.
    pub async fn landed(&self) -> Vec<Landed> {
        self.landed_between(self.d.deploy_block, None).await
    }

    /// The `propose` transaction `hash`, decoded, with its receipt's status.
    pub async fn propose_tx(&self, hash: B256) -> ProposeTx {
        let tx = self
            .provider
            .get_transaction_by_hash(hash)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("transaction {hash} not found"));
        let receipt = self
            .provider
            .get_transaction_receipt(hash)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no receipt for {hash}"));
        let call = Rollup::proposeCall::abi_decode(tx.input())
            .unwrap_or_else(|e| panic!("{hash} is not a propose call: {e}"));
        ProposeTx {
            l1_block: tx.block_number.unwrap(),
            tx_hash: hash,
            from: tx.from(),
            nonce: tx.nonce(),
            success: receipt.status(),
            tx_type: tx.ty(),
            blob_hashes: tx.blob_versioned_hashes().unwrap_or_default().to_vec(),
            args: call.args,
            signers: call.attestations.signers,
            signatures: call.attestations.signatures,
        }
    }

    /// Every mined transaction to the Rollup that calls `propose`, successful or reverted, in L1
    /// blocks `from..=to`.
    pub async fn propose_txs(&self, from: u64, to: u64) -> Vec<ProposeTx> {
        let mut out = Vec::new();
        for n in from..=to {
            let block = self
                .provider
                .get_block_by_number(n.into())
                .full()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("L1 block {n} missing"));
            for tx in block.transactions.txns() {
                if tx.to() == Some(self.d.rollup)
                    && tx.input().starts_with(&Rollup::proposeCall::SELECTOR)
                {
                    out.push(self.propose_tx(tx.tx_hash()).await);
                }
            }
        }
        out
    }
}

// ------------------------------------------------------------------ the dev prover

/// Proves each epoch with the dev verifier (its "proof" is keccak256 of the public inputs) as soon
/// as the epoch has ended, from `prover`'s account, straight to anvil. Without a prover the
/// unproven chain is pruned once its proof window closes, and the slot where a node prunes
/// carries no block. What it does goes to the diagnostics' notes.
pub fn spawn_dev_prover(
    url: &str,
    d: Deployment,
    prover: PrivateKeySigner,
    diag: Arc<Diagnostics>,
) -> JoinHandle<()> {
    // Nonces from the node each time (not cached): a reorg may drop a proof already sent.
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(prover.clone())
        .connect_http(url.parse().unwrap())
        .erased();
    tokio::spawn(async move {
        let l1 = L1::new(provider, d);
        let mut last_error = String::new();
        loop {
            match prove_once(&l1, prover.address()).await {
                Ok(Some(done)) => diag.note(format!("dev prover: {done}")),
                Ok(None) => {}
                Err(e) => {
                    let e = format!("{e:#}");
                    if e != last_error {
                        diag.note(format!("dev prover error: {e}"));
                        last_error = e;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

async fn prove_once(l1: &L1, prover: Address) -> eyre::Result<Option<String>> {
    let tips = l1.rollup.getTips().call().await?;
    let (pending, proven): (u64, u64) = (
        tips.pendingBlockNumber.saturating_to(),
        tips.provenBlockNumber.saturating_to(),
    );
    if pending == proven {
        return Ok(None);
    }
    let epoch: u64 = l1.rollup.getEpochToProve().call().await?.saturating_to();
    let current: u64 = l1.rollup.getCurrentEpoch().call().await?.saturating_to();
    if current != epoch + 1 {
        return Ok(None);
    }
    // Each L2 block's slot, from the events: a later event for a number replaces the blocks from
    // that number on (a prune or reorg made them go).
    let mut slots = BTreeMap::new();
    for landed in l1.landed().await {
        slots.split_off(&landed.number);
        slots.insert(landed.number, landed.slot);
    }
    let Some(end) = slots
        .range(proven + 1..=pending)
        .filter(|(_, slot)| l1.epoch_of(**slot) == epoch)
        .map(|(n, _)| *n)
        .next_back()
    else {
        return Ok(None);
    };
    let previous = l1.archive(proven).await;
    let end_archive = l1.archive(end).await;
    let fees = vec![
        Rollup::FeeRecipient {
            recipient: Address::ZERO,
            value: U256::ZERO,
        };
        (end - proven) as usize
    ];
    let fees_hash = keccak256(fees.abi_encode());
    let inputs = [
        previous,
        end_archive,
        B256::from(U256::from(epoch)),
        B256::from(U256::from(end)),
        prover.into_word(),
        fees_hash,
    ];
    let proof = keccak256(inputs.concat());
    let args = Rollup::EpochProofArgs {
        epoch: U256::from(epoch),
        endBlockNumber: U256::from(end),
        previousArchive: previous,
        endArchive: end_archive,
        prover,
        fees,
        proof: Bytes::from(proof.to_vec()),
    };
    let call = l1.rollup.submitEpochRootProof(args);
    call.call().await?;
    let receipt = tokio::time::timeout(Duration::from_secs(10), async {
        call.send()
            .await?
            .get_receipt()
            .await
            .map_err(eyre::Report::from)
    })
    .await??;
    eyre::ensure!(receipt.status(), "proof of epoch {epoch} reverted");
    Ok(Some(format!(
        "proved epoch {epoch}: blocks {}..={end} (L1 block {:?})",
        proven + 1,
        receipt.block_number
    )))
}
