//! The prover's and submitter's metrics (prometheus text format on `/metrics`).
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `proofline_prover_quotes_sent_total` | counter | quotes signed and published (one per epoch) |
//! | `proofline_prover_quotes_declined_total{reason}` | counter | epochs not quoted, by reason |
//! | `proofline_prover_claims_total` | counter | epochs whose claim named this prover |
//! | `proofline_prover_bond_at_stake` | gauge | bond staked for this prover now, in tokens |
//! | `proofline_prover_slashes_total` | counter | bonds of this prover slashed |
//! | `proofline_prover_escrow_free` | gauge | the prover's free escrow balance, in tokens |
//! | `proofline_prover_profit_last_epoch` | gauge | prover share of the last epoch it proved minus its modelled cost, in tokens |
//! | `proofline_submitter_proofs_submitted_total{outcome}` | counter | proof transactions by outcome (`landed`, `failed`, `cancelled`) |
//! | `proofline_submitter_proof_latency_seconds` | histogram | from the end of the epoch to the proof landing |
//! | `proofline_submitter_prunes_total` | counter | `prune()` transactions landed |
//! | `proofline_submitter_proofs_refused_total` | counter | received proofs dropped because submitting them would revert |

use std::{
    net::SocketAddr,
    sync::{atomic::AtomicU64, Arc},
};

use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Debug)]
pub struct ProverMetrics {
    registry: Registry,
    pub quotes_sent: Counter,
    pub quotes_declined: Family<ReasonLabels, Counter>,
    pub claims: Counter,
    pub bond_at_stake: Gauge<f64, AtomicU64>,
    pub slashes: Counter,
    pub escrow_free: Gauge<f64, AtomicU64>,
    pub profit_last_epoch: Gauge<f64, AtomicU64>,
    pub proofs_submitted: Family<OutcomeLabels, Counter>,
    pub proof_latency_seconds: Histogram,
    pub prunes: Counter,
    pub proofs_refused: Counter,
}

impl Default for ProverMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ProverMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("proofline");
        let quotes_sent = Counter::default();
        registry.register(
            "prover_quotes_sent",
            "Quotes signed and published",
            quotes_sent.clone(),
        );
        let quotes_declined = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "prover_quotes_declined",
            "Epochs not quoted, by reason",
            quotes_declined.clone(),
        );
        let claims = Counter::default();
        registry.register(
            "prover_claims",
            "Epochs claimed with this prover's quote",
            claims.clone(),
        );
        let bond_at_stake = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "prover_bond_at_stake",
            "Bond staked now",
            bond_at_stake.clone(),
        );
        let slashes = Counter::default();
        registry.register("prover_slashes", "Bonds slashed", slashes.clone());
        let escrow_free = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "prover_escrow_free",
            "Free escrow balance",
            escrow_free.clone(),
        );
        let profit_last_epoch = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "prover_profit_last_epoch",
            "Prover share of the last proven epoch minus its modelled cost",
            profit_last_epoch.clone(),
        );
        let proofs_submitted = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "submitter_proofs_submitted",
            "Proof transactions by outcome",
            proofs_submitted.clone(),
        );
        let proof_latency_seconds = Histogram::new([
            1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1280.0,
        ]);
        registry.register(
            "submitter_proof_latency_seconds",
            "From the end of the epoch to its proof landing",
            proof_latency_seconds.clone(),
        );
        let prunes = Counter::default();
        registry.register(
            "submitter_prunes",
            "prune() transactions landed",
            prunes.clone(),
        );
        let proofs_refused = Counter::default();
        registry.register(
            "submitter_proofs_refused",
            "Received proofs dropped because submitting them would revert",
            proofs_refused.clone(),
        );
        Self {
            registry,
            quotes_sent,
            quotes_declined,
            claims,
            bond_at_stake,
            slashes,
            escrow_free,
            profit_last_epoch,
            proofs_submitted,
            proof_latency_seconds,
            prunes,
            proofs_refused,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// A token amount (18 decimals) in whole tokens, for the gauges.
pub fn tokens(v: alloy::primitives::U256) -> f64 {
    let whole: u128 = (v / alloy::primitives::U256::from(10u64)
        .pow(alloy::primitives::U256::from(18u64)))
    .saturating_to();
    let frac: u128 = (v % alloy::primitives::U256::from(10u64)
        .pow(alloy::primitives::U256::from(18u64)))
    .saturating_to();
    whole as f64 + frac as f64 / 1e18
}

async fn handler(State(m): State<Arc<ProverMetrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m.encode(),
    )
}

/// Serves `/metrics` on `addr`; returns the bound address and the server task.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<ProverMetrics>,
) -> eyre::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(handler))
        .with_state(metrics);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "prover metrics server stopped");
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    #[test]
    fn amounts_read_in_whole_tokens() {
        let e18 = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(tokens(U256::from(3u64) * e18 / U256::from(2u64)), 1.5);
        assert_eq!(tokens(U256::from(5_000u64) * e18), 5_000.0);
        assert_eq!(tokens(U256::ZERO), 0.0);
    }

    #[test]
    fn metrics_encode_with_their_names() {
        let m = ProverMetrics::new();
        m.quotes_sent.inc();
        m.escrow_free.set(2.5);
        let text = m.encode();
        assert!(text.contains("proofline_prover_quotes_sent_total 1"));
        assert!(text.contains("proofline_prover_escrow_free 2.5"));
    }
}
