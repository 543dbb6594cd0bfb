//! `proofline`: the one binary of the Proofline agents.
//!
//! ```text
//! proofline node     follow L1, keep the L2 state, take txs, propose and attest
//! proofline txgen    send a stream of valid L2 txs to a node (devnet load)
//! proofline status   print a node's status once
//! proofline watch    a live line per L2 block: slot, epoch, tips, txs per block
//! proofline params   derive the committee size K and claim window C from a security target
//! proofline prover   quote epochs, prove the claimed ones, hand the proofs to a submitter
//! proofline submitter land epoch proofs before their deadline; prune when due
//! proofline scenario  run a named fault scenario on a fresh devnet and write its report
//! ```
//!
//! Every flag has an environment variable (shown in `--help`), so a deployment can be configured
//! from the environment alone.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use clap::{Args, Parser, Subcommand, ValueEnum};
use eyre::{bail, eyre, WrapErr};
use proofline_l1::{Deployment, RpcConfig};
use proofline_node::{
    node::{Fault, Node, NodeConfig},
    rpc::{NodeApiClient, NodeStatus},
};
use tracing::info;

mod keys;
mod prover_cmd;
mod scenario_cmd;

#[derive(Parser)]
#[command(name = "proofline", version, about = "Proofline rollup agents", long_about = None)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "PROOFLINE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum KeystoreCommand {
    /// Encrypt the key of a key file into a keystore at --out, with the password of
    /// --keystore-password-file (or PROOFLINE_KEYSTORE_PASSWORD).
    Import(keys::ImportArgs),
}

#[derive(Subcommand)]
enum Command {
    /// Run a node: follow L1, keep the L2 state, serve node_sendTx, and propose and attest with
    /// the given validator keys.
    Node(Box<NodeArgs>),
    /// Send valid L2 txs to a node's JSON-RPC at a steady rate (for devnets and load tests).
    Txgen(TxgenArgs),
    /// Print a node's status (node_getStatus) as JSON.
    Status(NodeRpcArg),
    /// Print a line whenever a node's L2 tip moves: slot, epoch, pending and proven tips, txs in
    /// the newest block, pool size. Stops on Ctrl-C.
    Watch(WatchArgs),
    /// Turn a key file into an encrypted JSON keystore (the agents' --*-keystore flags read it).
    #[command(subcommand)]
    Keystore(KeystoreCommand),
    /// Derive the committee size K and the claim window C from N validators, a malicious
    /// fraction f and a target ε (SPEC 1), exactly, with the probabilities next to them and the
    /// proving time C leaves.
    Params(ParamsArgs),
    /// Run a prover: a follower node (no validator keys) plus the prover-bidder, the prover and
    /// its own proof submitter (docs/prover.md).
    Prover(Box<prover_cmd::ProverArgs>),
    /// Run a proof submitter: lands the proofs provers push to it (or drop in a directory) before
    /// their deadline, and prunes when due (docs/prover.md).
    Submitter(prover_cmd::SubmitterArgs),
    /// A prover's escrow: show it, start a withdrawal, or execute one whose delay has passed.
    Escrow(prover_cmd::EscrowArgs),
    /// Run a named fault scenario (or `all`) on a fresh devnet (anvil, deploy, nodes, provers,
    /// submitter) and write its report: markdown and an SVG timeline (docs/scenarios).
    Scenario(scenario_cmd::ScenarioArgs),
}

#[derive(Args)]
struct NodeArgs {
    #[command(flatten)]
    l1: prover_cmd::L1Args,
    /// A file with one validator private key (hex) per line, readable by its owner only.
    #[arg(long, env = "PROOFLINE_VALIDATOR_KEYS_FILE")]
    validator_keys_file: Option<PathBuf>,
    /// A validator's encrypted JSON keystore; repeat for several (one password for all).
    #[arg(
        long = "validator-keystore",
        env = "PROOFLINE_VALIDATOR_KEYSTORES",
        value_delimiter = ','
    )]
    validator_keystores: Vec<PathBuf>,
    #[command(flatten)]
    password: keys::PasswordArgs,
    /// Where the node keeps its state (blocks, signatures it gave, its p2p identity).
    #[arg(long, env = "PROOFLINE_DATA_DIR", default_value = ".proofline")]
    data_dir: PathBuf,
    /// JSON-RPC listen address (node_sendTx, node_getStatus).
    #[arg(long, env = "PROOFLINE_RPC_ADDR", default_value = "127.0.0.1:8645")]
    rpc_addr: SocketAddr,
    /// Metrics (/metrics) and health (/health) listen address.
    #[arg(long, env = "PROOFLINE_METRICS_ADDR", default_value = "127.0.0.1:9645")]
    metrics_addr: SocketAddr,
    /// libp2p listen address for attestation exchange.
    #[arg(
        long,
        env = "PROOFLINE_P2P_LISTEN",
        default_value = "/ip4/127.0.0.1/tcp/9745"
    )]
    p2p_listen: libp2p::Multiaddr,
    /// Another node's libp2p address; repeat for several.
    #[arg(long = "peer", env = "PROOFLINE_PEERS", value_delimiter = ',')]
    peers: Vec<libp2p::Multiaddr>,
    /// Beacon API URL to read blobs from (a testnet); without it, blobs are read from the L1
    /// node (anvil).
    #[arg(long, env = "PROOFLINE_BEACON_URL")]
    beacon_url: Option<String>,
    /// Most txs (besides forced ones) a proposed block takes from the pool.
    #[arg(long, env = "PROOFLINE_MAX_BLOCK_TXS", default_value_t = 100)]
    max_block_txs: usize,
    /// Most txs the pool holds.
    #[arg(long, env = "PROOFLINE_MEMPOOL_MAX_TXS", default_value_t = 50_000)]
    mempool_max_txs: usize,
    /// How long a proposer waits for its peers' attestations, in milliseconds.
    #[arg(
        long,
        env = "PROOFLINE_ATTESTATION_TIMEOUT_MS",
        default_value_t = 3_000
    )]
    attestation_timeout_ms: u64,
    /// How often L1 is polled, in milliseconds.
    #[arg(long, env = "PROOFLINE_POLL_MS", default_value_t = 1_000)]
    poll_ms: u64,
    /// Propose in based fallback (SPEC 6) with the key in this file: while the Rollup is in
    /// fallback, the node builds a block on the proven tip in each slot and sends it with its
    /// proof (`proposeWithProof`). The proof is the dev verifier's, so only on devnets for now.
    #[arg(long, env = "PROOFLINE_FALLBACK_KEY_FILE")]
    fallback_key_file: Option<PathBuf>,
    /// As --fallback-key-file, from an encrypted JSON keystore.
    #[arg(long, env = "PROOFLINE_FALLBACK_KEYSTORE")]
    fallback_keystore: Option<PathBuf>,
    /// Devnet fault injection, for testing the other nodes: never on a real network.
    #[arg(long, env = "PROOFLINE_FAULT", hide = true)]
    fault: Option<FaultArg>,
    /// With `--fault censor`: the epochs censored, `FROM..UNTIL` (default: all).
    #[arg(
        long,
        env = "PROOFLINE_CENSOR_EPOCHS",
        hide = true,
        default_value = "0..18446744073709551615"
    )]
    censor_epochs: String,
    /// With `--fault censor`: the epochs in which the forced txs are refused too, `FROM..UNTIL`
    /// (default: none). No block is proposed while one is due.
    #[arg(
        long,
        env = "PROOFLINE_CENSOR_FORCED_EPOCHS",
        hide = true,
        default_value = "0..0"
    )]
    censor_forced_epochs: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum FaultArg {
    WrongStateRoot,
    /// Take no pool txs, only due forced ones (a censoring committee), in `--censor-epochs`;
    /// take no forced txs either (so propose nothing while one is due) in
    /// `--censor-forced-epochs`.
    Censor,
    /// Before every slot, ask the peers to attest an empty block as if from the slot's proposer.
    Impersonate,
}

/// `FROM..UNTIL` epochs.
fn epoch_range(flag: &str, text: &str) -> eyre::Result<(u64, u64)> {
    text.split_once("..")
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| eyre!("{flag}: expected FROM..UNTIL, got {text:?}"))
}

#[derive(Args)]
struct NodeRpcArg {
    /// The node's JSON-RPC URL.
    #[arg(
        long,
        env = "PROOFLINE_NODE_RPC",
        default_value = "http://127.0.0.1:8645"
    )]
    node_rpc: String,
}

#[derive(Args)]
struct TxgenArgs {
    #[command(flatten)]
    node: NodeRpcArg,
    /// Txs per second.
    #[arg(long, env = "PROOFLINE_TXGEN_RATE", default_value_t = 5)]
    rate: u64,
    /// Stop after this many txs (default: run until Ctrl-C).
    #[arg(long, env = "PROOFLINE_TXGEN_TOTAL")]
    total: Option<u64>,
    /// Seed of the generated txs (two generators need different seeds).
    #[arg(long, env = "PROOFLINE_TXGEN_SEED", default_value_t = 1)]
    seed: u64,
    /// A file holding the key (hex) that pays the txs' fees on L2 and, on L1, makes the fee
    /// deposit that funds them. Without it the txs are unpaid (fee zero).
    #[arg(long, env = "PROOFLINE_TXGEN_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Fee balance, in whole tokens, the payer tops up to with a fee deposit before sending.
    #[arg(long, env = "PROOFLINE_TXGEN_DEPOSIT_TOKENS", default_value_t = 1_000)]
    deposit_tokens: u64,
    /// Mint the fee token for the deposit (DevToken deployments only).
    #[arg(long, env = "PROOFLINE_TXGEN_DEV_MINT")]
    dev_mint: bool,
    #[command(flatten)]
    l1: prover_cmd::L1Args,
}

#[derive(Args)]
struct WatchArgs {
    #[command(flatten)]
    node: NodeRpcArg,
    /// Poll interval in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    interval_ms: u64,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    exit_after: Option<u64>,
}

#[derive(Args)]
struct ParamsArgs {
    /// N: the number of validators.
    #[arg(
        long,
        env = "PROOFLINE_PARAMS_VALIDATORS",
        default_value_t = proofline_params::DEFAULT_VALIDATORS
    )]
    validators: u64,
    /// f: the malicious fraction of the validators, exact (1/3, 0.3333).
    #[arg(
        long,
        env = "PROOFLINE_PARAMS_MALICIOUS_FRACTION",
        default_value = proofline_params::DEFAULT_MALICIOUS_FRACTION,
        value_parser = proofline_params::parse_rational
    )]
    malicious_fraction: proofline_params::BigRational,
    /// ε: the target probability of a malicious committee supermajority, and of C malicious
    /// claim proposers in a row (1e-6, 0.000001).
    #[arg(
        long,
        env = "PROOFLINE_PARAMS_EPSILON",
        default_value = proofline_params::DEFAULT_EPSILON,
        value_parser = proofline_params::parse_rational
    )]
    epsilon: proofline_params::BigRational,
    /// SLOT_DURATION in seconds.
    #[arg(
        long,
        env = "PROOFLINE_PARAMS_SLOT_DURATION",
        default_value_t = proofline_params::DEFAULT_SLOT_DURATION
    )]
    slot_duration: u64,
    /// EPOCH_DURATION in slots.
    #[arg(
        long,
        env = "PROOFLINE_PARAMS_EPOCH_DURATION",
        default_value_t = proofline_params::DEFAULT_EPOCH_DURATION
    )]
    epoch_duration: u64,
    /// The largest committee size to try (the exact search costs O(K²·log N)).
    #[arg(
        long,
        env = "PROOFLINE_PARAMS_MAX_COMMITTEE",
        default_value_t = proofline_params::DEFAULT_MAX_COMMITTEE
    )]
    max_committee: u64,
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Node(args) => run_node(*args).await,
            Command::Prover(args) => prover_cmd::run_prover(*args).await,
            Command::Submitter(args) => prover_cmd::run_submitter(args).await,
            Command::Escrow(args) => prover_cmd::run_escrow(args).await,
            Command::Scenario(args) => scenario_cmd::run(args).await,
            Command::Txgen(args) => run_txgen(args).await,
            Command::Status(args) => {
                let status = client(&args.node_rpc)?.get_status().await?;
                println!("{}", serde_json::to_string_pretty(&status)?);
                Ok(())
            }
            Command::Watch(args) => watch(args).await,
            Command::Keystore(KeystoreCommand::Import(args)) => keys::import(args),
            Command::Params(args) => {
                let report = proofline_params::derive(proofline_params::Inputs {
                    validators: args.validators,
                    malicious_fraction: args.malicious_fraction,
                    epsilon: args.epsilon,
                    slot_duration: args.slot_duration,
                    epoch_duration: args.epoch_duration,
                    max_committee: args.max_committee,
                })?;
                println!("{report}");
                Ok(())
            }
        }
    })
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c() => {},
        _ = term.recv() => {},
    }
}

fn load_keys(args: &NodeArgs) -> eyre::Result<Vec<PrivateKeySigner>> {
    let mut out = Vec::new();
    if let Some(path) = &args.validator_keys_file {
        out.extend(keys::read_key_file(path).wrap_err("--validator-keys-file")?);
    }
    for path in &args.validator_keystores {
        out.push(keys::decrypt(path, &args.password).wrap_err("--validator-keystore")?);
    }
    Ok(out)
}

/// The node's libp2p identity seed, kept in the data directory so a restart keeps the peer id.
fn p2p_seed(data_dir: &Path) -> eyre::Result<[u8; 32]> {
    let path = data_dir.join("p2p.seed");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let seed: B256 = text
            .trim()
            .parse()
            .map_err(|e| eyre!("{}: {e}", path.display()))?;
        return Ok(seed.0);
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = libp2p::identity::Keypair::generate_ed25519()
        .try_into_ed25519()
        .map_err(|e| eyre!("{e}"))?
        .secret();
    let seed = B256::from_slice(secret.as_ref());
    std::fs::write(&path, format!("{seed}\n"))?;
    Ok(seed.0)
}

async fn run_node(args: NodeArgs) -> eyre::Result<()> {
    let validators = load_keys(&args)?;
    let config = node_config(args, validators).await?;
    let node = Node::start(config).await?;
    node.run_until(shutdown_signal()).await?;
    info!("node stopped");
    Ok(())
}

async fn load_deployment(rpc: &RpcConfig, path: Option<&Path>) -> eyre::Result<Deployment> {
    Ok(match path {
        Some(path) => Deployment::load_file(path)?,
        None => {
            let provider = proofline_l1::connect(rpc)?;
            let chain_id = alloy::providers::Provider::get_chain_id(&provider)
                .await
                .wrap_err_with(|| format!("cannot reach L1 at {}", rpc.url))?;
            Deployment::load(Path::new("deployments"), chain_id)?
        }
    })
}

async fn node_config(
    args: NodeArgs,
    validators: Vec<PrivateKeySigner>,
) -> eyre::Result<NodeConfig> {
    let (rpc, deployment) = args.l1.load().await?;
    if args.max_block_txs == 0 {
        bail!("--max-block-txs must be at least 1");
    }
    let pool = epoch_range("--censor-epochs", &args.censor_epochs)?;
    let forced = epoch_range("--censor-forced-epochs", &args.censor_forced_epochs)?;
    Ok(NodeConfig {
        rpc,
        deployment,
        validators,
        p2p_seed: p2p_seed(&args.data_dir)?,
        data_dir: args.data_dir,
        rpc_listen: args.rpc_addr,
        metrics_listen: args.metrics_addr,
        p2p_listen: args.p2p_listen,
        peers: args.peers,
        beacon_url: args.beacon_url,
        max_block_txs: args.max_block_txs,
        mempool_max_txs: args.mempool_max_txs,
        attestation_timeout: Duration::from_millis(args.attestation_timeout_ms),
        poll_interval: Duration::from_millis(args.poll_ms),
        fallback_key: keys::load(
            "fallback-key",
            args.fallback_key_file.as_deref(),
            args.fallback_keystore.as_deref(),
            &args.password,
        )?,
        fault: args.fault.map(|f| match f {
            FaultArg::WrongStateRoot => Fault::WrongStateRoot,
            FaultArg::Censor => Fault::Censor { pool, forced },
            FaultArg::Impersonate => Fault::Impersonate,
        }),
    })
}

fn client(url: &str) -> eyre::Result<jsonrpsee::http_client::HttpClient> {
    jsonrpsee::http_client::HttpClientBuilder::default()
        .build(url)
        .wrap_err_with(|| format!("node RPC URL {url}"))
}

async fn run_txgen(args: TxgenArgs) -> eyre::Result<()> {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let payer = match &args.key_file {
        None => None,
        Some(path) => {
            let key = keys::read_one_key(path).wrap_err("--key-file")?;
            let (deployment, provider) = args.l1.connect().await?;
            let txmgr = proofline_l1::TxManager::new(
                provider.clone(),
                key.clone(),
                proofline_l1::TxManagerConfig::default(),
            )
            .await?;
            let amount = alloy::primitives::U256::from(args.deposit_tokens)
                * alloy::primitives::U256::from(10u64.pow(18));
            let funding = proofline_devnet::txgen::fund(
                provider,
                &deployment,
                &txmgr,
                &args.node.node_rpc,
                amount,
                args.dev_mint,
            );
            // Funding waits for an L2 block to take the deposit: a Ctrl-C meanwhile must stop it
            // (it hung a devnet's shutdown, its nodes gone, until killed).
            let mut stopped = stop.clone();
            tokio::select! {
                funded = funding => funded?,
                _ = stopped.wait_for(|stop| *stop) => {
                    info!("txgen stopped while funding its payer");
                    return Ok(());
                }
            }
            Some(key)
        }
    };
    let stats = proofline_devnet::txgen::run_seeded(
        &args.node.node_rpc,
        args.rate as f64,
        args.total,
        stop,
        args.seed,
        payer,
    )
    .await?;
    info!(?stats, "txgen done");
    Ok(())
}

async fn watch(args: WatchArgs) -> eyre::Result<()> {
    let client = client(&args.node.node_rpc)?;
    let deadline = args
        .exit_after
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let mut last: Option<NodeStatus> = None;
    let mut interval = tokio::time::interval(Duration::from_millis(args.interval_ms));
    loop {
        tokio::select! {
            _ = shutdown_signal() => return Ok(()),
            _ = interval.tick() => {}
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return Ok(());
        }
        let status = match client.get_status().await {
            Ok(s) => s,
            Err(e) => {
                println!("node unreachable: {e}");
                continue;
            }
        };
        let moved = last.as_ref().is_none_or(|l| {
            l.synced_block != status.synced_block
                || l.proven_block != status.proven_block
                || l.slot != status.slot
        });
        if moved {
            println!(
                "slot {:>5}  epoch {:>4}  pending {:>5}  proven {:>5}  synced {:>5}  txs in block {:>4}  pool {:>5}{}",
                status.slot,
                status.epoch,
                status.pending_block,
                status.proven_block,
                status.synced_block,
                status.last_block_txs,
                status.mempool_txs,
                if status.in_fallback { "  FALLBACK" } else { "" }
            );
            last = Some(status);
        }
    }
}
