//! `proofline prover` and `proofline submitter`: flags, and wiring the agents of
//! `proofline-prover` to a follower node.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use alloy::primitives::U256;
use clap::{Args, ValueEnum};
use eyre::bail;
use futures::{future::BoxFuture, FutureExt};
use proofline_chain::watcher::ChainWatcher;
use proofline_core::quote::SignedEpochProofQuote;
use proofline_l1::{Deployment, RpcConfig, Supervisor, TxManager};
use proofline_node::{
    node::Node,
    quote_intake::{QuoteIntake, QuoteSource},
};
use proofline_prover::{
    agent::{Pricing, Prover, ProverConfig, ProverFault, QuoteSink},
    metrics::ProverMetrics,
    pricing::{CostModel, ProvingTime},
    store::ProverStore,
    submitter::{tx_config, Submitter, SubmitterConfig},
};
use tracing::info;

use crate::{keys, load_deployment, node_config, shutdown_signal, NodeArgs};

const GWEI: u128 = 1_000_000_000;
const TOKEN: u64 = 1_000_000_000_000_000_000;

#[derive(Args)]
pub struct ProverArgs {
    /// The follower node the prover runs (its chain and the quote gossip). Validator keys are
    /// refused: a prover is not a proposer.
    #[command(flatten)]
    node: NodeArgs,
    /// Largest block range of one eth_getLogs: public endpoints cap it (the scan shrinks a
    /// refused range by itself).
    #[arg(long, env = "PROOFLINE_MAX_LOG_RANGE", default_value_t = proofline_l1::logs::DEFAULT_MAX_RANGE)]
    max_log_range: u64,
    /// A file with the prover's private key (hex): signs quotes, holds the escrow, pays for
    /// proofs.
    #[arg(long, env = "PROOFLINE_PROVER_KEY_FILE")]
    prover_key_file: Option<PathBuf>,
    /// As --prover-key-file, from an encrypted JSON keystore (password: --keystore-password-file).
    #[arg(long, env = "PROOFLINE_PROVER_KEYSTORE")]
    prover_keystore: Option<PathBuf>,
    /// Bond each quote offers, in whole tokens (default: the Rollup's MIN_BOND).
    #[arg(long, env = "PROOFLINE_BOND")]
    bond: Option<u64>,
    /// Free escrow balance below which the prover deposits, in whole tokens.
    #[arg(long, env = "PROOFLINE_ESCROW_MIN", default_value_t = 2_000)]
    escrow_min: u64,
    /// Free escrow balance a deposit brings it to, in whole tokens.
    #[arg(long, env = "PROOFLINE_ESCROW_TARGET", default_value_t = 5_000)]
    escrow_target: u64,
    /// Mint the bond token when the wallet lacks it (DevToken deployments only).
    #[arg(long, env = "PROOFLINE_DEV_MINT")]
    dev_mint: bool,
    /// Cost model: proving cost per tx and per block, in milli-tokens.
    #[arg(long, env = "PROOFLINE_COST_PER_TX_MILLI", default_value_t = 1)]
    cost_per_tx_milli: u64,
    #[arg(long, env = "PROOFLINE_COST_PER_BLOCK_MILLI", default_value_t = 10)]
    cost_per_block_milli: u64,
    /// L1 gas of one proof submission.
    #[arg(long, env = "PROOFLINE_PROOF_GAS", default_value_t = 200_000)]
    proof_gas: u64,
    /// Reward tokens per ETH, to price the proof's L1 gas.
    #[arg(long, env = "PROOFLINE_TOKENS_PER_ETH", default_value_t = 1)]
    tokens_per_eth: u64,
    /// Cost of the bond's capital per claim, in basis points of the bond.
    #[arg(long, env = "PROOFLINE_BOND_CAPITAL_BPS", default_value_t = 10)]
    bond_capital_bps: u32,
    /// Margin over cost, in basis points.
    #[arg(long, env = "PROOFLINE_MARGIN_BPS", default_value_t = 1_000)]
    margin_bps: u32,
    /// Price epochs with this HTTP endpoint instead of the cost model (docs/prover.md).
    #[arg(long, env = "PROOFLINE_PRICING_URL")]
    pricing_url: Option<String>,
    /// Proving time: a base plus per block plus per tx, in milliseconds (the dev proof waits
    /// this long; the capacity check compares it with the deadline).
    #[arg(long, env = "PROOFLINE_PROVING_MS", default_value_t = 2_000)]
    proving_ms: u64,
    #[arg(long, env = "PROOFLINE_PROVING_MS_PER_BLOCK", default_value_t = 100)]
    proving_ms_per_block: u64,
    #[arg(long, env = "PROOFLINE_PROVING_MS_PER_TX", default_value_t = 1)]
    proving_ms_per_tx: u64,
    /// Epochs proven at once at most.
    #[arg(long, env = "PROOFLINE_CAPACITY", default_value_t = 1)]
    capacity: usize,
    /// Seconds before an epoch ends from which it is quoted.
    #[arg(long, env = "PROOFLINE_QUOTE_LEAD_SECS", default_value_t = 3)]
    quote_lead_secs: u64,
    /// Nodes' JSON-RPC URLs to send each quote to (node_submitEpochBid); repeat for several.
    #[arg(
        long = "publish-to",
        env = "PROOFLINE_PUBLISH_TO",
        value_delimiter = ','
    )]
    publish_to: Vec<String>,
    /// External submitters' JSON-RPC URLs to push each proof to; repeat for several.
    #[arg(
        long = "submitter",
        env = "PROOFLINE_SUBMITTERS",
        value_delimiter = ','
    )]
    submitters: Vec<String>,
    /// Do not submit proofs from this process (leave it to the configured submitters).
    #[arg(long, env = "PROOFLINE_NO_SUBMIT")]
    no_submit: bool,
    /// Highest max fee per gas the prover's transactions pay, in gwei.
    #[arg(long, env = "PROOFLINE_MAX_FEE_GWEI", default_value_t = 10_000)]
    max_fee_gwei: u128,
    /// The prover's metrics (/metrics).
    #[arg(
        long,
        env = "PROOFLINE_PROVER_METRICS_ADDR",
        default_value = "127.0.0.1:9845"
    )]
    prover_metrics_addr: SocketAddr,
    /// Devnet fault injection, for testing the rest of the network: never on a real network.
    #[arg(long = "prover-fault", env = "PROOFLINE_PROVER_FAULT", hide = true)]
    prover_fault: Option<ProverFaultArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProverFaultArg {
    WithholdProofs,
}

/// How often the chain watcher asks L1 for a new block.
const VIEW_POLL: Duration = Duration::from_millis(250);

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

pub async fn run_prover(args: ProverArgs) -> eyre::Result<()> {
    if !args.node.validator_keystores.is_empty() || args.node.validator_keys_file.is_some() {
        bail!("a prover takes no validator keys (run them in `proofline node`)");
    }
    if args.escrow_target < args.escrow_min {
        bail!("--escrow-target must be at least --escrow-min");
    }
    let key = keys::require(
        "prover-key",
        args.prover_key_file.as_deref(),
        args.prover_keystore.as_deref(),
        &args.node.password,
    )?;
    let data_dir = args.node.data_dir.clone();
    let node_cfg = node_config(args.node, Vec::new()).await?;
    let rpc = node_cfg.rpc.clone();
    let deployment = node_cfg.deployment.clone();
    let mut node = Node::start(node_cfg).await?;
    let provider = proofline_l1::connect(&rpc)?;
    // One chain watcher for the process, the follower node's: the prover and its submitter read
    // its views.
    let views = node.views();
    let store = ProverStore::open(&data_dir.join("prover.redb"))?;
    let metrics = Arc::new(ProverMetrics::new());
    let (bound, _metrics_task) =
        proofline_prover::metrics::serve(args.prover_metrics_addr, metrics.clone()).await?;
    info!(%bound, prover = %key.address(), "prover metrics listening");

    let sub_cfg = SubmitterConfig {
        max_fee_per_gas: args.max_fee_gwei * GWEI,
        ..SubmitterConfig::default()
    };
    let txmgr = TxManager::new(provider.clone(), key.clone(), tx_config(&sub_cfg)).await?;
    let inbox = if args.no_submit {
        None
    } else {
        let (submitter, inbox) = Submitter::new(
            sub_cfg,
            provider.clone(),
            &deployment,
            txmgr.clone(),
            store.clone(),
            metrics.clone(),
            views.clone(),
        )?;
        node.supervise("submitter", submitter.run());
        Some(inbox)
    };
    let pricing = match args.pricing_url {
        Some(url) => Pricing::External(url),
        None => Pricing::Model(CostModel {
            per_tx: U256::from(args.cost_per_tx_milli) * U256::from(TOKEN / 1_000),
            per_block: U256::from(args.cost_per_block_milli) * U256::from(TOKEN / 1_000),
            proof_gas: args.proof_gas,
            token_per_wei_e18: U256::from(args.tokens_per_eth) * U256::from(TOKEN),
            bond_capital_bps: args.bond_capital_bps,
            margin_bps: args.margin_bps,
        }),
    };
    let cfg = ProverConfig {
        key,
        bond: args.bond.map(tokens),
        escrow_min: tokens(args.escrow_min),
        escrow_target: tokens(args.escrow_target),
        dev_mint: args.dev_mint,
        pricing,
        proving_time: ProvingTime {
            base_ms: args.proving_ms,
            per_block_ms: args.proving_ms_per_block,
            per_tx_ms: args.proving_ms_per_tx,
        },
        capacity: args.capacity.max(1),
        quote_lead_secs: args.quote_lead_secs,
        submit_margin_secs: deployment.slot_duration,
        publish_to: args.publish_to,
        submitters: args.submitters,
        poll_interval: Duration::from_millis(250),
        fault: args.prover_fault.map(|f| match f {
            ProverFaultArg::WithholdProofs => ProverFault::WithholdProofs,
        }),
        max_log_range: args.max_log_range,
    };
    let prover = Prover::new(
        cfg,
        deployment,
        provider,
        node.chain(),
        views,
        Arc::new(NodeQuotes(node.quotes())),
        store,
        metrics,
        inbox,
        txmgr,
    )
    .await?;
    node.supervise("prover", prover.run());
    node.run_until(shutdown_signal()).await?;
    info!("prover stopped");
    Ok(())
}

/// Where L1 and the deployment are, for the commands that run no node.
#[derive(Args)]
pub(crate) struct L1Args {
    /// L1 JSON-RPC endpoint (http or https).
    #[arg(
        long,
        env = "PROOFLINE_L1_RPC",
        default_value = "http://127.0.0.1:8545"
    )]
    l1_rpc: alloy::transports::http::reqwest::Url,
    /// The deployment file written by script/Deploy.s.sol; default: deployments/<chain id>.json.
    #[arg(long, env = "PROOFLINE_DEPLOYMENT")]
    deployment: Option<PathBuf>,
}

impl L1Args {
    /// The RPC endpoint's settings and the deployment (read from the file, or the default one
    /// for the endpoint's chain).
    pub(crate) async fn load(&self) -> eyre::Result<(RpcConfig, Deployment)> {
        let rpc = RpcConfig::new(self.l1_rpc.clone());
        let deployment = load_deployment(&rpc, self.deployment.as_deref()).await?;
        Ok((rpc, deployment))
    }

    pub(crate) async fn connect(&self) -> eyre::Result<(Deployment, proofline_l1::L1Provider)> {
        let (rpc, deployment) = self.load().await?;
        Ok((deployment, proofline_l1::connect(&rpc)?))
    }
}

#[derive(Args)]
pub struct SubmitterArgs {
    #[command(flatten)]
    l1: L1Args,
    /// A file with the submitter's private key (hex): pays for the proofs (SUBMITTER_REWARD goes
    /// to the proof's prover, whoever lands it).
    #[arg(long, env = "PROOFLINE_SUBMITTER_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// As --key-file, from an encrypted JSON keystore.
    #[arg(long, env = "PROOFLINE_SUBMITTER_KEYSTORE")]
    keystore: Option<PathBuf>,
    #[command(flatten)]
    password: keys::PasswordArgs,
    /// Where the submitter keeps the proofs it holds.
    #[arg(
        long,
        env = "PROOFLINE_DATA_DIR",
        default_value = ".proofline-submitter"
    )]
    data_dir: PathBuf,
    /// JSON-RPC listen address (submitter_submitProof).
    #[arg(
        long,
        env = "PROOFLINE_SUBMITTER_RPC_ADDR",
        default_value = "127.0.0.1:8945"
    )]
    rpc_addr: SocketAddr,
    /// Proof files (JSON, as provers write them) dropped here are taken in.
    #[arg(long, env = "PROOFLINE_PROOF_DIR")]
    proof_dir: Option<PathBuf>,
    /// Highest max fee per gas a proof transaction pays, in gwei.
    #[arg(long, env = "PROOFLINE_MAX_FEE_GWEI", default_value_t = 10_000)]
    max_fee_gwei: u128,
    /// Do not call prune() when one is due.
    #[arg(long, env = "PROOFLINE_NO_PRUNE")]
    no_prune: bool,
    /// Metrics (/metrics).
    #[arg(long, env = "PROOFLINE_METRICS_ADDR", default_value = "127.0.0.1:9945")]
    metrics_addr: SocketAddr,
}

pub async fn run_submitter(args: SubmitterArgs) -> eyre::Result<()> {
    let key = keys::require(
        "key",
        args.key_file.as_deref(),
        args.keystore.as_deref(),
        &args.password,
    )?;
    let (deployment, provider) = args.l1.connect().await?;
    std::fs::create_dir_all(&args.data_dir)?;
    let store = ProverStore::open(&args.data_dir.join("submitter.redb"))?;
    let metrics = Arc::new(ProverMetrics::new());
    let (bound, _metrics_task) =
        proofline_prover::metrics::serve(args.metrics_addr, metrics.clone()).await?;
    let cfg = SubmitterConfig {
        max_fee_per_gas: args.max_fee_gwei * GWEI,
        prune: !args.no_prune,
        proof_dir: args.proof_dir,
        ..SubmitterConfig::default()
    };
    let txmgr = TxManager::new(provider.clone(), key.clone(), tx_config(&cfg)).await?;
    let (views, watcher) = ChainWatcher::new(provider.clone(), &deployment).start(VIEW_POLL);
    let (submitter, inbox) =
        Submitter::new(cfg, provider, &deployment, txmgr, store, metrics, views)?;
    let (rpc_bound, handle) = proofline_prover::rpc::serve(args.rpc_addr, inbox).await?;
    info!(rpc = %rpc_bound, metrics = %bound, submitter = %key.address(), "submitter running");
    let mut tasks = Supervisor::new();
    tasks.spawn("chain watcher", watcher);
    tasks.spawn("submitter", submitter.run());
    let outcome = tasks.run_until(shutdown_signal()).await;
    let _ = handle.stop();
    info!("submitter stopped");
    outcome
}

#[derive(Args)]
pub struct EscrowArgs {
    #[command(flatten)]
    l1: L1Args,
    /// A file with the prover's private key (hex).
    #[arg(long, env = "PROOFLINE_PROVER_KEY_FILE")]
    prover_key_file: Option<PathBuf>,
    /// As --prover-key-file, from an encrypted JSON keystore.
    #[arg(long, env = "PROOFLINE_PROVER_KEYSTORE")]
    prover_keystore: Option<PathBuf>,
    #[command(flatten)]
    password: keys::PasswordArgs,
    #[command(subcommand)]
    action: EscrowAction,
}

#[derive(clap::Subcommand)]
enum EscrowAction {
    /// Print the free, staked and pending-withdrawal balances.
    Show,
    /// Start withdrawing this many whole tokens (claimable after ESCROW_WITHDRAW_DELAY). Quotes
    /// out for epochs whose deadline falls after that stop being claimable.
    StartWithdraw { tokens: u64 },
    /// Execute the pending withdrawal once its delay has passed.
    ExecuteWithdraw,
}

pub async fn run_escrow(args: EscrowArgs) -> eyre::Result<()> {
    use proofline_bindings::ProverEscrow;
    use proofline_l1::TxCandidate;
    let key = keys::require(
        "prover-key",
        args.prover_key_file.as_deref(),
        args.prover_keystore.as_deref(),
        &args.password,
    )?;
    let me = key.address();
    let (deployment, provider) = args.l1.connect().await?;
    let escrow = ProverEscrow::new(deployment.escrow, provider.clone());
    let show = || async {
        let free = escrow.freeBalance(me).call().await?;
        let staked = escrow.stakedBalance(me).call().await?;
        let pending = escrow.pendingWithdrawal(me).call().await?;
        println!(
            "prover {me}: free {} tokens, staked {} tokens, withdrawing {} tokens (withdrawable at {})",
            proofline_prover::metrics::tokens(free),
            proofline_prover::metrics::tokens(staked),
            proofline_prover::metrics::tokens(pending.amount),
            pending.withdrawableAt
        );
        eyre::Ok(())
    };
    let call = match args.action {
        EscrowAction::Show => return show().await,
        EscrowAction::StartWithdraw { tokens: n } => TxCandidate::call(
            deployment.escrow,
            &ProverEscrow::startWithdrawCall { amount: tokens(n) },
        ),
        EscrowAction::ExecuteWithdraw => {
            TxCandidate::call(deployment.escrow, &ProverEscrow::executeWithdrawCall {})
        }
    };
    let txmgr = TxManager::new(provider, key, proofline_l1::TxManagerConfig::default()).await?;
    let outcome = txmgr.send_and_wait("escrow", call).await?;
    info!(tx = %outcome.tx_hash, "escrow transaction landed");
    show().await
}

/// The prover's quotes go to its follower node's intake, as a quote sent over
/// `node_submitEpochBid` would: validated, pooled and gossiped.
struct NodeQuotes(QuoteIntake);

impl QuoteSink for NodeQuotes {
    fn submit(&self, quote: SignedEpochProofQuote) -> BoxFuture<'_, Result<(), String>> {
        async move {
            self.0
                .submit(QuoteSource::Rpc, quote)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        .boxed()
    }
}
