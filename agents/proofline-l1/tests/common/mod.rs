//! A real anvil per test, and what the tests do to it.
//!
//! Every test starts its own anvil (prague, a free port, a chain id of its own) from the pinned
//! platform binary in node_modules; when the binary is missing the test says so and returns.
//! Blocks are mined by the tests (`--no-mining`), so nothing depends on wall-clock timing.

#![allow(dead_code)] // each test binary uses a different part

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use proofline_devnet::harness;
use proofline_l1::{
    rpc::{connect, RpcConfig},
    txmgr::{FeePolicy, PendingTx, TxCandidate, TxManager, TxManagerConfig, TxOutcome},
    Deployment, L1Provider,
};
use serde_json::{json, Value};

pub fn root() -> PathBuf {
    harness::work_tree()
}

pub struct Devnet {
    pub anvil: AnvilInstance,
    pub provider: L1Provider,
}

static NEXT_CHAIN: AtomicU64 = AtomicU64::new(0);

/// A fresh anvil without automining, or `None` (with the reason printed) when the binary is missing.
pub fn anvil(test: &str) -> Option<Devnet> {
    let bin = harness::tool(&root(), "anvil");
    if !bin.is_file() {
        eprintln!(
            "SKIPPED {test}: anvil not found at {} (run `make install`)",
            bin.display()
        );
        return None;
    }
    // A chain id per anvil: the deploy script writes deployments/<chainId>.json.
    let chain_id = 990_000
        + u64::from(std::process::id() % 1000) * 100
        + NEXT_CHAIN.fetch_add(1, Ordering::SeqCst);
    let anvil = Anvil::at(bin)
        .chain_id(chain_id)
        .args(["--hardfork", "prague", "--no-mining", "--host", "127.0.0.1"])
        .try_spawn()
        .expect("anvil starts");
    let mut config = RpcConfig::new(anvil.endpoint_url());
    config.max_retries = 3;
    config.initial_backoff = Duration::from_millis(50);
    let provider = connect(&config).unwrap();
    Some(Devnet { anvil, provider })
}

impl Devnet {
    pub fn url(&self) -> String {
        self.anvil.endpoint()
    }

    pub fn chain_id(&self) -> u64 {
        self.anvil.chain_id()
    }

    /// anvil's dev account `index` (of the "test ... junk" mnemonic).
    pub fn signer(&self, index: usize) -> PrivateKeySigner {
        PrivateKeySigner::from(self.anvil.keys()[index].clone())
    }

    pub async fn rpc(&self, method: &'static str, params: Value) -> Value {
        self.provider
            .raw_request::<_, Value>(method.into(), params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    pub async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", json!([format!("{blocks:#x}")]))
            .await;
    }

    /// Mines one block with exactly this timestamp.
    pub async fn mine_at(&self, timestamp: u64) {
        self.rpc("evm_mine", json!([timestamp])).await;
    }

    pub async fn set_next_timestamp(&self, timestamp: u64) {
        self.rpc("evm_setNextBlockTimestamp", json!([timestamp]))
            .await;
    }

    pub async fn set_next_base_fee(&self, wei: u128) {
        self.rpc(
            "anvil_setNextBlockBaseFeePerGas",
            json!([format!("{wei:#x}")]),
        )
        .await;
    }

    pub async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }

    pub async fn balance(&self, address: Address) -> U256 {
        self.provider.get_balance(address).await.unwrap()
    }

    pub async fn nonce(&self, address: Address) -> u64 {
        self.provider
            .get_transaction_count(address)
            .latest()
            .await
            .unwrap()
    }

    pub async fn pool_size(&self) -> u64 {
        let status = self.rpc("txpool_status", json!([])).await;
        let pending = status["pending"].as_str().unwrap();
        u64::from_str_radix(pending.trim_start_matches("0x"), 16).unwrap()
    }

    /// A transaction manager for dev account `index` that checks its transactions every 10 ms
    /// and re-prices after `resubmit_after_blocks`.
    pub async fn tx_manager(&self, index: usize, resubmit_after_blocks: u64) -> TxManager {
        TxManager::new(
            self.provider.clone(),
            self.signer(index),
            test_config(resubmit_after_blocks),
        )
        .await
        .unwrap()
    }

    /// Sends through `mgr`, mines the block that includes it, and returns the outcome.
    pub async fn land(&self, mgr: &TxManager, purpose: &str, candidate: TxCandidate) -> TxOutcome {
        let pending = mgr
            .send(purpose, candidate)
            .await
            .unwrap_or_else(|e| panic!("{purpose}: {e}"));
        self.settle(pending)
            .await
            .unwrap_or_else(|e| panic!("{purpose}: {e}"))
    }

    pub async fn settle(&self, pending: PendingTx) -> Result<TxOutcome, proofline_l1::TxError> {
        self.mine(1).await;
        pending.wait().await
    }

    /// Deploys Proofline with the same script users run (`script/Deploy.s.sol`, anvil's first
    /// dev account, no validators) and returns its deployments/<chainId>.json, which is removed
    /// from the work tree again together with forge's broadcast log of this chain.
    pub async fn deploy(&self) -> Deployment {
        // forge script waits for each receipt; let anvil mine while it runs.
        self.rpc("evm_setAutomine", json!([true])).await;
        let root = root();
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = dir.path().join("deploy.log");
        let env = [
            ("STAKE_VALIDATORS", "0".to_string()),
            // Ten-minute slots: the tests mine blocks at chosen slot starts, which must stay
            // ahead of the wall clock anvil stamps blocks with, however slow the machine.
            ("SLOT_DURATION", "600".to_string()),
        ];
        let deployed = harness::deploy(
            &root,
            &self.url(),
            self.chain_id(),
            &env,
            &log,
            &dir.path().join("deployment.json"),
        )
        .await;
        self.rpc("evm_setAutomine", json!([false])).await;
        deployed.unwrap_or_else(|e| {
            panic!(
                "{e:#}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })
    }
}

pub fn test_config(resubmit_after_blocks: u64) -> TxManagerConfig {
    TxManagerConfig {
        poll_interval: Duration::from_millis(10),
        resubmit_after_blocks,
        confirmations: 1,
        gas_limit_margin_percent: 20,
        fees: FeePolicy {
            ..TxManagerConfig::default().fees
        },
    }
}

impl Devnet {
    /// Deploys a DevToken from the bindings' bytecode (no forge needed), paid by dev account 9.
    pub async fn deploy_token(&self) -> Address {
        use alloy::providers::ProviderBuilder;
        use proofline_bindings::DevToken;

        self.rpc("evm_setAutomine", json!([true])).await;
        let wallet_provider = ProviderBuilder::new()
            .wallet(self.signer(9))
            .connect_http(self.anvil.endpoint_url());
        let token = DevToken::deploy(&wallet_provider, "Test".into(), "TST".into())
            .await
            .expect("DevToken deploys");
        self.rpc("evm_setAutomine", json!([false])).await;
        *token.address()
    }
}
