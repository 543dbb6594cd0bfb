//! The one devnet harness: what the scenario runner, the end-to-end tests and the L1 tests share
//! to bring up a chain: the pinned foundry tools, anvil, `script/Deploy.s.sol` (the script users
//! run), the dev keys, and leaving the work tree as it was.
//!
//! Each caller keeps what is its own (the e2e tests' diagnostics and proxies, the scenarios'
//! load and faults, the L1 tests' manual mining); how a chain is started, deployed and cleaned up
//! is here, once.

use std::{
    collections::HashSet,
    fs::OpenOptions,
    path::{Path, PathBuf},
    process::Command,
    sync::Mutex,
    time::Duration,
};

use alloy::{providers::Provider, signers::local::PrivateKeySigner};
use eyre::{ensure, WrapErr};
use proofline_l1::{Deployment, RpcConfig};

/// anvil's test mnemonic; its accounts are public, devnet only.
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";
/// anvil's first account (index 0 of [`MNEMONIC`]): the deployer.
pub const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Every variable `script/Deploy.s.sol` reads: cleared before each deployment so the caller's
/// environment cannot change it; the caller sets the ones it means.
pub const DEPLOY_VARS: &[&str] = &[
    "BLOCK_REWARD",
    "BOND_ASSET",
    "EPOCH_DURATION",
    "ESCROW_WITHDRAW_DELAY",
    "FALLBACK_ENTER",
    "FALLBACK_EXIT_ACTIVITY",
    "FALLBACK_EXIT_TOTAL",
    "FORCED_INCLUSION_DELAY",
    "GENESIS_ARCHIVE",
    "GENESIS_TIME",
    "INCLUSION_GAS",
    "MIN_BOND",
    "MIN_FORCED_TXS_PER_BLOCK",
    "MIN_STAKE",
    "PROOF_CLAIM_WINDOW",
    "QUEUE_FEE_RECIPIENT",
    "REWARD_ASSET",
    "SLASH_BURN_BPS",
    "SLASH_RECIPIENT",
    "SLOT_DURATION",
    "STAKE_VALIDATORS",
    "STAKING_ASSET",
    "SUBMITTER_REWARD",
    "TARGET_COMMITTEE_SIZE",
    "TX_PROOF_VERIFIER",
    "VALIDATOR_EXIT_DELAY",
    "VERIFIER",
];

/// The work tree this crate was built in (tests and benches run from it).
pub fn work_tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the work tree")
}

/// A pinned foundry binary (`anvil`, `forge`, `cast`), as `make install` puts it.
pub fn tool(root: &Path, name: &str) -> PathBuf {
    root.join(format!(
        "node_modules/@foundry-rs/{name}-linux-amd64/bin/{name}"
    ))
}

/// The first of anvil, forge and cast that is not installed under `root`.
pub fn missing_tool(root: &Path) -> Option<PathBuf> {
    ["anvil", "forge", "cast"]
        .into_iter()
        .map(|name| tool(root, name))
        .find(|path| !path.is_file())
}

/// A local TCP port nobody listens on, never handed out twice by this process.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        if port != 0 && given.insert(port) {
            return port;
        }
    }
}

/// A chain id from `base` up that no deployment file or broadcast log under `root` uses, never
/// handed out twice by this process (the deploy script writes `deployments/<chainId>.json`).
pub fn fresh_chain_id(root: &Path, base: u64) -> u64 {
    static NEXT: Mutex<u64> = Mutex::new(0);
    let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        *next += 1;
        let id = base + u64::from(std::process::id() % 100_000) * 100 + *next;
        let used = root.join(format!("deployments/{id}.json")).exists()
            || root.join(format!("broadcast/Deploy.s.sol/{id}")).exists();
        if !used {
            return id;
        }
    }
}

/// The anvil command line of a devnet: prague, on 127.0.0.1:`port`, chain `chain_id`, a block
/// every `block_time` seconds (`None`: no mining until asked), `accounts` funded dev accounts.
pub fn anvil_command(
    root: &Path,
    port: u16,
    chain_id: u64,
    block_time: Option<u64>,
    accounts: usize,
) -> Command {
    let mut cmd = Command::new(tool(root, "anvil"));
    cmd.args(["--host", "127.0.0.1", "--hardfork", "prague"])
        .args(["--port", &port.to_string()])
        .args(["--chain-id", &chain_id.to_string()])
        .args(["--accounts", &accounts.to_string()]);
    match block_time {
        Some(secs) => cmd.args(["--block-time", &secs.to_string()]),
        None => cmd.arg("--no-mining"),
    };
    cmd
}

/// Waits until the node at `url` answers `eth_chainId`, for at most `timeout`.
pub async fn wait_for_rpc(url: &str, timeout: Duration) -> eyre::Result<()> {
    let provider = proofline_l1::connect(&RpcConfig::new(url.parse()?))?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if provider.get_chain_id().await.is_ok() {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "{url} did not answer within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Removes what a deployment of chain `id` wrote into the work tree when dropped.
struct WorkTreeCleanup<'a>(&'a Path, u64);

impl Drop for WorkTreeCleanup<'_> {
    fn drop(&mut self) {
        let (root, id) = (self.0, self.1);
        let _ = std::fs::remove_file(root.join(format!("deployments/{id}.json")));
        let _ = std::fs::remove_dir_all(root.join(format!("broadcast/Deploy.s.sol/{id}")));
        let _ = std::fs::remove_dir_all(root.join(format!("cache/Deploy.s.sol/{id}")));
    }
}

/// Deploys Proofline on the chain at `rpc_url` (chain `chain_id`) with `script/Deploy.s.sol`
/// and anvil's first account, its variables cleared and then set to `env`; forge's output goes
/// to `log`. The deployment file is copied to `keep_as` and everything the script wrote into
/// the work tree (`deployments/`, `broadcast/`, `cache/` of this chain) is removed again,
/// whatever happens. One forge runs at a time (they share `out/` and `cache/`).
pub async fn deploy(
    root: &Path,
    rpc_url: &str,
    chain_id: u64,
    env: &[(&str, String)],
    log: &Path,
    keep_as: &Path,
) -> eyre::Result<Deployment> {
    static FORGE: Mutex<()> = Mutex::new(());
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .wrap_err_with(|| format!("opening {}", log.display()))?;
    let mut cmd = Command::new(tool(root, "forge"));
    cmd.current_dir(root)
        .args(["script", "script/Deploy.s.sol", "--rpc-url", rpc_url])
        .args(["--broadcast", "--private-key", DEPLOYER_KEY])
        .stdout(out.try_clone()?)
        .stderr(out);
    for var in DEPLOY_VARS {
        cmd.env_remove(var);
    }
    for (var, value) in env {
        cmd.env(var, value);
    }
    let (root_owned, keep) = (root.to_path_buf(), keep_as.to_path_buf());
    let status = tokio::task::spawn_blocking(move || {
        // Dropped last: the work tree is cleaned after the copy, and on every error path.
        let _cleanup = WorkTreeCleanup(&root_owned, chain_id);
        let _one_forge = FORGE.lock().unwrap_or_else(|e| e.into_inner());
        let status = cmd.status()?;
        if status.success() {
            std::fs::copy(
                root_owned.join(format!("deployments/{chain_id}.json")),
                &keep,
            )?;
        }
        Ok::<_, std::io::Error>(status)
    })
    .await??;
    ensure!(
        status.success(),
        "forge script failed; see {}",
        log.display()
    );
    let deployment = Deployment::load_file(keep_as)?;
    ensure!(
        deployment.chain_id == chain_id,
        "the deployment is of chain {}, not {chain_id}",
        deployment.chain_id
    );
    Ok(deployment)
}

/// Writes `lines` (private keys in hex, one per line) to `path`, readable by its owner only:
/// the agents take keys from files like it (or keystores), never from their command line.
pub fn write_key_file(path: &Path, lines: &[String]) -> eyre::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .wrap_err_with(|| format!("creating {}", path.display()))?;
    for line in lines {
        writeln!(file, "{line}")?;
    }
    Ok(path.to_path_buf())
}

/// Dev account `index` of [`MNEMONIC`], as `cast wallet private-key` (and devnet.sh) derive it.
pub fn dev_key(root: &Path, index: usize) -> eyre::Result<PrivateKeySigner> {
    let out = Command::new(tool(root, "cast"))
        .args(["wallet", "private-key", "--mnemonic", MNEMONIC])
        .args(["--mnemonic-index", &index.to_string()])
        .output()?;
    ensure!(out.status.success(), "cast wallet private-key failed");
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}
