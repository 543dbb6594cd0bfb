//! What a prover asks for an epoch: a cost model turned into the quote's `basisPointFee`.
//!
//! A quote's price is a share of the epoch's rewards (SPEC 5.1: `basisPointFee` of the block
//! rewards plus the fees the proof binds), so the prover prices an epoch by what proving it costs
//! against what it will pay:
//!
//! ```text
//! cost     = txs * per_tx + blocks * per_block              (proving, in reward-token units)
//!          + proof_gas * base_fee * token_per_wei            (landing the proof on L1)
//!          + bond * bond_capital_bps / 10_000                (capital locked for the bond)
//! asked    = cost * (10_000 + margin_bps) / 10_000
//! fee_bps  = ceil(asked * 10_000 / rewards)                  (declined above 10_000)
//! ```
//!
//! An external pricing endpoint can replace the model ([`ExternalPricer`]): it is sent the same
//! [`EpochWork`] and answers a fee or a refusal.

use alloy::primitives::U256;
use proofline_core::Epoch;
use serde::{Deserialize, Serialize};

pub const BPS: u32 = 10_000;

/// What proving one epoch involves, as the prover sees it before quoting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochWork {
    pub epoch: Epoch,
    pub blocks: u64,
    pub txs: u64,
    /// Block rewards plus the blocks' fees: what `basisPointFee` is a share of.
    pub rewards: U256,
    /// The L1 base fee now, in wei.
    pub base_fee: u128,
    /// The bond the quote would offer.
    pub bond: U256,
}

/// The prover's costs. Amounts are in the reward token's smallest unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostModel {
    pub per_tx: U256,
    pub per_block: U256,
    /// L1 gas of `submitEpochRootProof` with the configured verifier.
    pub proof_gas: u64,
    /// Reward-token units per wei of ETH, scaled by 1e18 (1e18: one unit per wei).
    pub token_per_wei_e18: U256,
    /// Cost of holding the bond for the up to two epochs a claim locks it, in bps of the bond.
    pub bond_capital_bps: u32,
    pub margin_bps: u32,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            per_tx: U256::from(10u64).pow(U256::from(15u64)),
            per_block: U256::from(10u64).pow(U256::from(16u64)),
            proof_gas: 200_000,
            token_per_wei_e18: U256::from(10u64).pow(U256::from(18u64)),
            bond_capital_bps: 10,
            margin_bps: 1_000,
        }
    }
}

/// Why the prover will not quote an epoch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Decline {
    #[error("epoch {epoch} has no rewards to share")]
    NoRewards { epoch: Epoch },
    #[error("epoch {epoch} would cost {cost} but pays at most {rewards}")]
    Unprofitable {
        epoch: Epoch,
        cost: U256,
        rewards: U256,
    },
    #[error("epoch {epoch} needs {needed_secs} s of proving, the deadline leaves {left_secs} s")]
    TooSlow {
        epoch: Epoch,
        needed_secs: u64,
        left_secs: u64,
    },
    #[error("already proving {proving} epochs, at most {capacity}")]
    AtCapacity { proving: usize, capacity: usize },
    #[error("pricing endpoint: {0}")]
    External(String),
}

impl CostModel {
    /// The epoch's cost to this prover, margin excluded.
    pub fn cost(&self, work: &EpochWork) -> U256 {
        let proving = self.per_tx * U256::from(work.txs) + self.per_block * U256::from(work.blocks);
        let gas_wei = U256::from(self.proof_gas) * U256::from(work.base_fee);
        let gas = gas_wei * self.token_per_wei_e18 / U256::from(10u64).pow(U256::from(18u64));
        let capital = work.bond * U256::from(self.bond_capital_bps) / U256::from(BPS);
        proving + gas + capital
    }

    /// The quote's `basisPointFee` for `work`: the smallest share of its rewards that covers the
    /// cost plus the margin.
    pub fn fee_bps(&self, work: &EpochWork) -> Result<u32, Decline> {
        if work.rewards.is_zero() {
            return Err(Decline::NoRewards { epoch: work.epoch });
        }
        let asked = self.cost(work) * U256::from(BPS + self.margin_bps) / U256::from(BPS);
        let bps = (asked * U256::from(BPS)).div_ceil(work.rewards);
        if bps > U256::from(BPS) {
            return Err(Decline::Unprofitable {
                epoch: work.epoch,
                cost: asked,
                rewards: work.rewards,
            });
        }
        Ok(bps.to::<u32>())
    }
}

/// Proving time: `per_block` per block plus `per_tx` per tx, the dev proof's stand-in for a real
/// prover's run time (and what the capacity check compares with the deadline).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvingTime {
    pub base_ms: u64,
    pub per_block_ms: u64,
    pub per_tx_ms: u64,
}

impl ProvingTime {
    pub fn for_work(&self, blocks: u64, txs: u64) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.base_ms
                .saturating_add(self.per_block_ms.saturating_mul(blocks))
                .saturating_add(self.per_tx_ms.saturating_mul(txs)),
        )
    }
}

/// Declines an epoch whose proof cannot be ready before its deadline when claimed at the last
/// slot of the claim window: `left_secs` is the time from then to the end of epoch N+1, less
/// the margin kept for landing the proof.
pub fn check_capacity(
    epoch: Epoch,
    needed: std::time::Duration,
    left_secs: u64,
    proving: usize,
    capacity: usize,
) -> Result<(), Decline> {
    if proving >= capacity {
        return Err(Decline::AtCapacity { proving, capacity });
    }
    let needed_secs = needed.as_secs() + u64::from(needed.subsec_nanos() > 0);
    if needed_secs > left_secs {
        return Err(Decline::TooSlow {
            epoch,
            needed_secs,
            left_secs,
        });
    }
    Ok(())
}

/// Asks an HTTP endpoint for the fee: POSTs the [`EpochWork`] as JSON, expects
/// `{"basisPointFee": n}` or `{"decline": "reason"}`.
#[derive(Clone, Debug)]
pub struct ExternalPricer {
    pub url: String,
    client: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalAnswer {
    basis_point_fee: Option<u32>,
    decline: Option<String>,
}

impl ExternalPricer {
    pub fn new(url: String) -> Self {
        proofline_l1::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .expect("a plain HTTP client builds");
        Self { url, client }
    }

    pub async fn fee_bps(&self, work: &EpochWork) -> Result<u32, Decline> {
        let answer: ExternalAnswer = self
            .client
            .post(&self.url)
            .json(work)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| Decline::External(e.to_string()))?
            .json()
            .await
            .map_err(|e| Decline::External(format!("bad answer: {e}")))?;
        match (answer.basis_point_fee, answer.decline) {
            (_, Some(reason)) => Err(Decline::External(reason)),
            (Some(bps), None) if bps <= BPS => Ok(bps),
            (Some(bps), None) => Err(Decline::External(format!("fee {bps} bps is over 10000"))),
            (None, None) => Err(Decline::External("neither a fee nor a decline".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn work(blocks: u64, txs: u64, rewards: u64) -> EpochWork {
        EpochWork {
            epoch: Epoch(7),
            blocks,
            txs,
            rewards: U256::from(rewards),
            base_fee: 1_000_000_000,
            bond: U256::from(1_000_000u64),
        }
    }

    fn simple() -> CostModel {
        CostModel {
            per_tx: U256::from(10u64),
            per_block: U256::from(100u64),
            proof_gas: 200_000,
            // 1 token unit per 1e9 wei: the proof's 2e14 wei is 200,000 units.
            token_per_wei_e18: U256::from(1_000_000_000u64),
            bond_capital_bps: 10,
            margin_bps: 1_000,
        }
    }

    #[test]
    fn cost_adds_proving_gas_and_capital() {
        // 32 blocks, 100 txs: 3,200 + 1,000 proving, 200,000 gas, 1,000 capital.
        assert_eq!(simple().cost(&work(32, 100, 1)), U256::from(205_200u64));
    }

    #[test]
    fn fee_is_the_smallest_share_that_covers_cost_and_margin() {
        let m = simple();
        let w = work(32, 100, 10_000_000);
        // asked = 205,200 * 1.1 = 225,720; 225,720 * 10,000 / 10,000,000 = 225.72 -> 226 bps.
        assert_eq!(m.fee_bps(&w), Ok(226));
        let paid = w.rewards * U256::from(226u64) / U256::from(BPS);
        assert!(paid >= U256::from(225_720u64));
        let one_less = w.rewards * U256::from(225u64) / U256::from(BPS);
        assert!(one_less < U256::from(225_720u64));
    }

    #[test]
    fn declines_what_the_rewards_cannot_pay() {
        let m = simple();
        assert_eq!(
            m.fee_bps(&work(1, 0, 0)),
            Err(Decline::NoRewards { epoch: Epoch(7) })
        );
        assert!(matches!(
            m.fee_bps(&work(32, 100, 200_000)),
            Err(Decline::Unprofitable { .. })
        ));
    }

    #[test]
    fn capacity_and_deadline() {
        let t = ProvingTime {
            base_ms: 1_000,
            per_block_ms: 500,
            per_tx_ms: 10,
        };
        let needed = t.for_work(4, 100); // 1 + 2 + 1 = 4 s
        assert_eq!(needed.as_millis(), 4_000);
        assert_eq!(check_capacity(Epoch(1), needed, 4, 0, 1), Ok(()));
        assert_eq!(
            check_capacity(Epoch(1), needed, 3, 0, 1),
            Err(Decline::TooSlow {
                epoch: Epoch(1),
                needed_secs: 4,
                left_secs: 3
            })
        );
        assert_eq!(
            check_capacity(Epoch(1), needed, 100, 2, 2),
            Err(Decline::AtCapacity {
                proving: 2,
                capacity: 2
            })
        );
    }

    proptest! {
        /// The fee always covers cost and margin, and one bps less never does.
        #[test]
        fn fee_is_tight(blocks in 1u64..64, txs in 0u64..10_000, rewards in 1u64..u64::MAX) {
            let m = simple();
            let w = work(blocks, txs, rewards);
            let asked = m.cost(&w) * U256::from(BPS + m.margin_bps) / U256::from(BPS);
            match m.fee_bps(&w) {
                Ok(bps) => {
                    prop_assert!(bps <= BPS);
                    prop_assert!(w.rewards * U256::from(bps) >= asked * U256::from(BPS));
                    if bps > 0 {
                        prop_assert!(w.rewards * U256::from(bps - 1) < asked * U256::from(BPS));
                    }
                }
                Err(Decline::Unprofitable { .. }) => prop_assert!(asked > w.rewards),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}

/// The external pricer against a real HTTP endpoint (a small axum server standing in for an
/// operator's pricing service).
#[cfg(test)]
mod external_tests {
    use super::*;
    use axum::{http::StatusCode, routing::post, Router};

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/price")
    }

    fn work() -> EpochWork {
        EpochWork {
            epoch: Epoch(9),
            blocks: 4,
            txs: 40,
            rewards: U256::from(1_000u64),
            base_fee: 7,
            bond: U256::from(5u64),
        }
    }

    #[tokio::test]
    async fn takes_the_endpoints_fee_and_sends_it_the_work() {
        // Answers 10 bps per block, from the work it was sent.
        let app = Router::new().route(
            "/price",
            post(|body: String| async move {
                let w: serde_json::Value = serde_json::from_str(&body).unwrap();
                let blocks = w["blocks"].as_u64().unwrap();
                assert_eq!(w["epoch"], 9);
                assert_eq!(w["baseFee"], 7);
                serde_json::json!({ "basisPointFee": blocks * 10 }).to_string()
            }),
        );
        let pricer = ExternalPricer::new(serve(app).await);
        assert_eq!(pricer.fee_bps(&work()).await, Ok(40));
    }

    #[tokio::test]
    async fn refusals_and_bad_answers_decline() {
        let app = Router::new()
            .route("/price", post(|| async { r#"{"decline": "busy"}"# }))
            .route("/over", post(|| async { r#"{"basisPointFee": 10001}"# }))
            .route(
                "/down",
                post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
            )
            .route("/junk", post(|| async { "not json" }));
        let base = serve(app).await;
        let at = |path: &str| ExternalPricer::new(base.replace("/price", path));
        assert_eq!(
            at("/price").fee_bps(&work()).await,
            Err(Decline::External("busy".into()))
        );
        for path in ["/over", "/down", "/junk"] {
            assert!(
                matches!(at(path).fee_bps(&work()).await, Err(Decline::External(_))),
                "{path}"
            );
        }
    }
}
