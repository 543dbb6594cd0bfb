//! The node's Prometheus metrics and its health endpoint.
//!
//! [`serve`] answers, over HTTP/1.1:
//!
//! - `GET /metrics`: every metric below in the OpenMetrics text format
//!   (`application/openmetrics-text; version=1.0.0; charset=utf-8`);
//! - `GET /health`: the latest [`Health`] as JSON, status 200 when `healthy`, 503 otherwise.
//!
//! # Metrics
//!
//! All names carry the `proofline_` prefix.
//!
//! | name                                    | type      | labels                 | meaning |
//! |-----------------------------------------|-----------|------------------------|---------|
//! | `proofline_l1_block`                    | gauge     |                        | latest L1 block seen |
//! | `proofline_slot`, `proofline_epoch`     | gauge     |                        | current slot and epoch |
//! | `proofline_pending_block`               | gauge     |                        | pending chain tip on L1 |
//! | `proofline_proven_block`                | gauge     |                        | proven chain tip on L1 |
//! | `proofline_synced_block`                | gauge     |                        | L2 block the node's state is at |
//! | `proofline_mempool_txs`                 | gauge     |                        | txs in the mempool |
//! | `proofline_propose_latency_seconds`     | histogram |                        | slot start to propose tx sent |
//! | `proofline_l1_txs_total`                | counter   | `purpose`, `outcome`   | L1 txs the node sent, by what for and how they ended |
//! | `proofline_attestations_total`          | counter   | `result` = `signed` or `refused` | attestation requests answered |
//! | `proofline_blocks_proposed_total`       | counter   |                        | blocks this node proposed |
//! | `proofline_fallback_blocks_proposed_total` | counter |                       | blocks this node proposed with proof in based fallback |
//! | `proofline_claims_sent_total`           | counter   |                        | proof-right claims this node's proposers sent |
//! | `proofline_blocks_synced_total`         | counter   |                        | L2 blocks applied from L1 |
//! | `proofline_reorgs_total`                | counter   |                        | L1 reorgs and pending-chain prunes handled |
//! | `proofline_quotes_seen_total`           | counter   | `source` = `rpc` or `gossip` | epoch proof quotes received |
//! | `proofline_quotes_accepted_total`       | counter   | `source`               | quotes that entered the quote pool |
//! | `proofline_quotes_rejected_total`       | counter   | `source`, `reason`     | quotes refused, by [`crate::quotes::QuoteError::reason`] |
//! | `proofline_quote_bids`                  | gauge     |                        | valid bids in the quote pool |
//!
//! The histogram's buckets ([`PROPOSE_LATENCY_BUCKETS`]) go from 50 ms to 30 s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::rpc::NodeStatus;

/// `Content-Type` of `GET /metrics`.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the propose-latency histogram's buckets.
pub const PROPOSE_LATENCY_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0,
];

/// Labels of `l1_txs_total`. Free-form strings so each caller names its own purposes
/// (e.g. `propose`, `submit_proof`) and outcomes (e.g. `mined`, `reverted`, `dropped`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct L1TxLabels {
    pub purpose: String,
    pub outcome: String,
}

/// Result of an attestation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttestationResult {
    Signed,
    Refused,
}

impl AttestationResult {
    /// The label value: `signed` or `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
            Self::Refused => "refused",
        }
    }
}

impl EncodeLabelValue for AttestationResult {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// Labels of `attestations_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct AttestationLabels {
    pub result: AttestationResult,
}

/// Labels of `quotes_seen_total` and `quotes_accepted_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct QuoteSourceLabels {
    /// `rpc` or `gossip`.
    pub source: &'static str,
}

/// Labels of `quotes_rejected_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct QuoteRejectLabels {
    pub source: &'static str,
    /// [`crate::quotes::QuoteError::reason`].
    pub reason: &'static str,
}

/// The node's metrics (module doc). Cheap to update from any thread: every metric is atomics
/// behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub l1_block: Gauge,
    pub slot: Gauge,
    pub epoch: Gauge,
    pub pending_block: Gauge,
    pub proven_block: Gauge,
    pub synced_block: Gauge,
    pub mempool_txs: Gauge,
    pub propose_latency_seconds: Histogram,
    pub l1_txs: Family<L1TxLabels, Counter>,
    pub attestations: Family<AttestationLabels, Counter>,
    pub blocks_proposed: Counter,
    pub fallback_blocks_proposed: Counter,
    pub claims_sent: Counter,
    pub blocks_synced: Counter,
    pub reorgs: Counter,
    pub equivocations: Counter,
    pub quotes_seen: Family<QuoteSourceLabels, Counter>,
    pub quotes_accepted: Family<QuoteSourceLabels, Counter>,
    pub quotes_rejected: Family<QuoteRejectLabels, Counter>,
    pub quote_bids: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A gauge value from a block number or count (saturating: gauges are `i64`).
fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("proofline");
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let l1_block = gauge(
            &mut registry,
            "l1_block",
            "Latest L1 block the node has seen",
        );
        let slot = gauge(&mut registry, "slot", "Current L2 slot");
        let epoch = gauge(&mut registry, "epoch", "Current epoch");
        let pending_block = gauge(&mut registry, "pending_block", "Pending chain tip on L1");
        let proven_block = gauge(&mut registry, "proven_block", "Proven chain tip on L1");
        let synced_block = gauge(
            &mut registry,
            "synced_block",
            "L2 block the node's state is at",
        );
        let mempool_txs = gauge(&mut registry, "mempool_txs", "Txs in the mempool");
        let propose_latency_seconds = Histogram::new(PROPOSE_LATENCY_BUCKETS);
        registry.register(
            "propose_latency_seconds",
            "Time from slot start to the propose tx being sent",
            propose_latency_seconds.clone(),
        );
        // Counters get their `_total` suffix from the encoder.
        let l1_txs = Family::<L1TxLabels, Counter>::default();
        registry.register(
            "l1_txs",
            "L1 txs sent by the node, by purpose and outcome",
            l1_txs.clone(),
        );
        let attestations = Family::<AttestationLabels, Counter>::default();
        registry.register(
            "attestations",
            "Attestation requests answered, by result",
            attestations.clone(),
        );
        let blocks_proposed = counter(
            &mut registry,
            "blocks_proposed",
            "L2 blocks this node proposed",
        );
        let fallback_blocks_proposed = counter(
            &mut registry,
            "fallback_blocks_proposed",
            "L2 blocks this node proposed with their proof in based fallback",
        );
        let claims_sent = counter(
            &mut registry,
            "claims_sent",
            "claimEpochProofRight transactions this node's proposers sent",
        );
        let blocks_synced = counter(&mut registry, "blocks_synced", "L2 blocks applied from L1");
        let reorgs = counter(
            &mut registry,
            "reorgs",
            "L1 reorgs and pending-chain prunes handled",
        );
        let equivocations = counter(
            &mut registry,
            "equivocations",
            "Slots whose proposer signed two different proposals, kept as evidence",
        );
        let quotes_seen = Family::<QuoteSourceLabels, Counter>::default();
        registry.register(
            "quotes_seen",
            "Epoch proof quotes received, by source",
            quotes_seen.clone(),
        );
        let quotes_accepted = Family::<QuoteSourceLabels, Counter>::default();
        registry.register(
            "quotes_accepted",
            "Epoch proof quotes that entered the quote pool, by source",
            quotes_accepted.clone(),
        );
        let quotes_rejected = Family::<QuoteRejectLabels, Counter>::default();
        registry.register(
            "quotes_rejected",
            "Epoch proof quotes refused, by source and reason",
            quotes_rejected.clone(),
        );
        let quote_bids = gauge(&mut registry, "quote_bids", "Valid bids in the quote pool");
        Self {
            registry,
            l1_block,
            slot,
            epoch,
            pending_block,
            proven_block,
            synced_block,
            mempool_txs,
            propose_latency_seconds,
            l1_txs,
            attestations,
            blocks_proposed,
            fallback_blocks_proposed,
            claims_sent,
            blocks_synced,
            reorgs,
            equivocations,
            quotes_seen,
            quotes_accepted,
            quotes_rejected,
            quote_bids,
        }
    }

    /// Set the gauges from a status snapshot.
    pub fn set_status(&self, status: &NodeStatus) {
        self.l1_block.set(gauge_value(status.l1_block));
        self.slot.set(gauge_value(status.slot.0));
        self.epoch.set(gauge_value(status.epoch.0));
        self.pending_block.set(gauge_value(status.pending_block));
        self.proven_block.set(gauge_value(status.proven_block));
        self.synced_block.set(gauge_value(status.synced_block));
        self.mempool_txs.set(gauge_value(status.mempool_txs));
    }

    /// Count an L1 tx by purpose and outcome.
    pub fn l1_tx(&self, purpose: &str, outcome: &str) {
        self.l1_txs
            .get_or_create(&L1TxLabels {
                purpose: purpose.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Count a proposer's equivocation.
    pub fn equivocation(&self) {
        self.equivocations.inc();
    }

    /// Count an answered attestation request.
    pub fn attestation(&self, result: AttestationResult) {
        self.attestations
            .get_or_create(&AttestationLabels { result })
            .inc();
    }

    /// Count a quote received from `source` and how it ended: accepted, or refused for `reason`.
    pub fn quote(&self, source: &'static str, refused: Option<&'static str>) {
        self.quotes_seen
            .get_or_create(&QuoteSourceLabels { source })
            .inc();
        match refused {
            None => self
                .quotes_accepted
                .get_or_create(&QuoteSourceLabels { source })
                .inc(),
            Some(reason) => self
                .quotes_rejected
                .get_or_create(&QuoteRejectLabels { source, reason })
                .inc(),
        };
    }

    /// Record the time from slot start to the propose tx being sent.
    pub fn observe_propose_latency(&self, latency: Duration) {
        self.propose_latency_seconds.observe(latency.as_secs_f64());
    }

    /// The OpenMetrics text encoding of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// What `GET /health` reports. The node computes it; the endpoint only serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub healthy: bool,
    pub l1_reachable: bool,
    pub synced: bool,
    pub last_l1_block_age_secs: u64,
    pub detail: String,
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: watch::Receiver<Health>,
}

async fn metrics_handler(State(app): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        app.metrics.encode(),
    )
        .into_response()
}

async fn health_handler(State(app): State<AppState>) -> Response {
    let health = app.health.borrow().clone();
    let status = if health.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    match serde_json::to_string(&health) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The `/metrics` and `/health` routes.
pub fn router(metrics: Arc<Metrics>, health: watch::Receiver<Health>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/health", get(health_handler))
        .with_state(AppState { metrics, health })
}

/// Serve `/metrics` and `/health` on `addr` (port 0 picks a free one). Returns the bound address
/// and the server task (abort it to stop the server).
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: watch::Receiver<Health>,
) -> eyre::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(metrics, health);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    tracing::info!(%bound, "metrics and health endpoint listening");
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A raw HTTP/1.1 GET: (status code, headers lowercased, body).
    async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("a full response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        (status, head.to_ascii_lowercase(), body.to_owned())
    }

    /// The value of a sample line `name{labels} value` in an OpenMetrics text.
    fn sample(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn encoding_has_every_metric_with_its_value() {
        let m = Metrics::new();
        m.set_status(&NodeStatus {
            l1_block: 1234,
            slot: proofline_core::Slot(56),
            epoch: proofline_core::Epoch(7),
            pending_block: 8,
            proven_block: 6,
            synced_block: 8,
            mempool_txs: 42,
            in_fallback: false,
            last_block_txs: 3,
        });
        m.l1_tx("propose", "mined");
        m.l1_tx("propose", "mined");
        m.l1_tx("submit_proof", "reverted");
        m.attestation(AttestationResult::Signed);
        m.attestation(AttestationResult::Refused);
        m.attestation(AttestationResult::Signed);
        m.blocks_proposed.inc();
        m.blocks_synced.inc_by(3);
        m.reorgs.inc();
        m.observe_propose_latency(Duration::from_millis(700));
        m.observe_propose_latency(Duration::from_secs(40));
        m.quote("rpc", None);
        m.quote("gossip", None);
        m.quote("gossip", Some("invalid_signature"));
        m.quote("gossip", Some("invalid_signature"));
        m.quote("rpc", Some("wrong_epoch"));
        m.quote_bids.set(2);
        let text = m.encode();

        assert_eq!(sample(&text, "proofline_l1_block"), Some(1234.0));
        assert_eq!(sample(&text, "proofline_slot"), Some(56.0));
        assert_eq!(sample(&text, "proofline_epoch"), Some(7.0));
        assert_eq!(sample(&text, "proofline_pending_block"), Some(8.0));
        assert_eq!(sample(&text, "proofline_proven_block"), Some(6.0));
        assert_eq!(sample(&text, "proofline_synced_block"), Some(8.0));
        assert_eq!(sample(&text, "proofline_mempool_txs"), Some(42.0));
        assert_eq!(
            sample(
                &text,
                "proofline_l1_txs_total{purpose=\"propose\",outcome=\"mined\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "proofline_l1_txs_total{purpose=\"submit_proof\",outcome=\"reverted\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "proofline_attestations_total{result=\"signed\"}"),
            Some(2.0)
        );
        assert_eq!(
            sample(&text, "proofline_attestations_total{result=\"refused\"}"),
            Some(1.0)
        );
        assert_eq!(sample(&text, "proofline_blocks_proposed_total"), Some(1.0));
        assert_eq!(sample(&text, "proofline_blocks_synced_total"), Some(3.0));
        assert_eq!(sample(&text, "proofline_reorgs_total"), Some(1.0));
        assert_eq!(
            sample(&text, "proofline_quotes_seen_total{source=\"gossip\"}"),
            Some(3.0)
        );
        assert_eq!(
            sample(&text, "proofline_quotes_accepted_total{source=\"rpc\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                "proofline_quotes_rejected_total{source=\"gossip\",reason=\"invalid_signature\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "proofline_quotes_rejected_total{source=\"rpc\",reason=\"wrong_epoch\"}"
            ),
            Some(1.0)
        );
        assert_eq!(sample(&text, "proofline_quote_bids"), Some(2.0));
        assert!(text.contains("# TYPE proofline_l1_txs counter"), "{text}");
        assert!(text.contains("# TYPE proofline_propose_latency_seconds histogram"));
        // Buckets are cumulative: 0.7 s falls in le=0.75 and above; 40 s only in +Inf.
        let bucket = |le: &str| {
            sample(
                &text,
                &format!("proofline_propose_latency_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.5"), Some(0.0));
        assert_eq!(bucket("0.75"), Some(1.0));
        assert_eq!(bucket("30.0"), Some(1.0));
        assert_eq!(bucket("+Inf"), Some(2.0));
        assert_eq!(
            sample(&text, "proofline_propose_latency_seconds_count"),
            Some(2.0)
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn buckets_cover_50ms_to_30s_in_order() {
        assert_eq!(PROPOSE_LATENCY_BUCKETS[0], 0.05);
        assert_eq!(*PROPOSE_LATENCY_BUCKETS.last().unwrap(), 30.0);
        assert!(PROPOSE_LATENCY_BUCKETS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn huge_values_saturate_the_gauges() {
        let m = Metrics::new();
        m.set_status(&NodeStatus {
            l1_block: u64::MAX,
            ..Default::default()
        });
        assert_eq!(m.l1_block.get(), i64::MAX);
    }

    #[tokio::test]
    async fn endpoints_serve_metrics_and_health_over_http() {
        let metrics = Arc::new(Metrics::new());
        let healthy = Health {
            healthy: true,
            l1_reachable: true,
            synced: true,
            last_l1_block_age_secs: 3,
            detail: "ok".into(),
        };
        let (health_tx, health_rx) = watch::channel(healthy.clone());
        let (addr, task) = serve("127.0.0.1:0".parse().unwrap(), metrics.clone(), health_rx)
            .await
            .unwrap();

        metrics.blocks_proposed.inc();
        metrics.mempool_txs.set(5);
        let (status, head, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            head.contains(&format!("content-type: {OPENMETRICS_CONTENT_TYPE}")),
            "{head}"
        );
        assert_eq!(sample(&body, "proofline_blocks_proposed_total"), Some(1.0));
        assert_eq!(sample(&body, "proofline_mempool_txs"), Some(5.0));

        let (status, head, body) = get(addr, "/health").await;
        assert_eq!(status, 200);
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(serde_json::from_str::<Health>(&body).unwrap(), healthy);

        let unhealthy = Health {
            healthy: false,
            l1_reachable: false,
            synced: false,
            last_l1_block_age_secs: 120,
            detail: "L1 RPC unreachable".into(),
        };
        health_tx.send_replace(unhealthy.clone());
        let (status, _, body) = get(addr, "/health").await;
        assert_eq!(status, 503);
        assert_eq!(serde_json::from_str::<Health>(&body).unwrap(), unhealthy);
        // The JSON field names are the struct's.
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["last_l1_block_age_secs"], 120);

        let (status, _, _) = get(addr, "/nope").await;
        assert_eq!(status, 404);
        task.abort();
    }
}
