//! The JSON-RPC connection every L1 component shares: HTTP with a per-request timeout and a retry
//! layer with exponential backoff.
//!
//! alloy ships a `RetryBackoffLayer`, but it waits the same time before every attempt and does
//! not retry a refused connection or a timeout, which is what a restarting local node or a flaky
//! public endpoint produce. This layer retries exactly the failures where sending the same request
//! again is safe and may succeed: transport failures (connection refused or reset, timeouts),
//! HTTP 429/5xx, and JSON-RPC errors that alloy classifies as rate limits or transient. A revert
//! or any other JSON-RPC error answer is returned at once. Every Ethereum method the agents call is
//! idempotent, `eth_sendRawTransaction` included (a resent transaction is "already known").

use std::{
    task::{Context, Poll},
    time::Duration,
};

use alloy::{
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::{
        client::ClientBuilder,
        json_rpc::{RequestPacket, ResponsePacket},
    },
    transports::{
        http::{
            reqwest::{self, Url},
            Http,
        },
        RpcError, TransportError, TransportErrorKind, TransportFut,
    },
};
use tower::{Layer, Service};
use tracing::debug;

/// The provider type of the L1 components: type-erased, Ethereum network, no fillers (the
/// transaction manager fills nonces and fees itself).
pub type L1Provider = DynProvider;

/// How to reach the L1 node and how hard to try.
#[derive(Clone, Debug)]
pub struct RpcConfig {
    pub url: Url,
    /// Attempts after the first one before a request fails.
    pub max_retries: u32,
    /// Wait before the first retry; each further retry waits twice as long, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Time one HTTP request may take before it counts as failed (and is retried).
    pub request_timeout: Duration,
}

impl RpcConfig {
    /// Defaults suited to a public endpoint: 8 retries from 200 ms up to 10 s (about 30 s of
    /// patience in all), 30 s per request.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            max_retries: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }

    pub fn retry_policy(&self) -> RetryLayer {
        RetryLayer {
            max_retries: self.max_retries,
            initial_backoff: self.initial_backoff,
            max_backoff: self.max_backoff,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RpcSetupError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Connects to `config.url` over HTTP or HTTPS with retries. Nothing is sent until the first
/// request. HTTPS uses rustls with the ring provider and the platform's root certificates.
/// Installs rustls' ring provider for the process (reqwest is built without one, and panics when
/// a client is built before any provider is installed). Idempotent.
pub fn install_tls_provider() {
    // Installed once per process; a second call (or another crate's provider) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn connect(config: &RpcConfig) -> Result<L1Provider, RpcSetupError> {
    install_tls_provider();
    let http = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .build()?;
    let transport = Http::with_client(http, config.url.clone());
    let is_local = transport.guess_local();
    let client = ClientBuilder::default()
        .layer(config.retry_policy())
        .transport(transport, is_local);
    Ok(ProviderBuilder::default().connect_client(client).erased())
}

/// Retries failed requests with exponential backoff (see the module docs for what is retried).
#[derive(Clone, Copy, Debug)]
pub struct RetryLayer {
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryLayer {
    /// The wait before retry number `attempt` (0-based): initial * 2^attempt, at most max.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            policy: *self,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RetryService<S> {
    inner: S,
    policy: RetryLayer,
}

impl<S> Service<RequestPacket> for RetryService<S>
where
    S: Service<
            RequestPacket,
            Response = ResponsePacket,
            Error = TransportError,
            Future = TransportFut<'static>,
        > + Clone
        + Send
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        // The clone is the service that was polled ready; keep it for this call (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let policy = self.policy;
        Box::pin(async move {
            let mut attempt = 0;
            loop {
                let err = match inner.call(request.clone()).await {
                    Ok(response) => match response.as_error() {
                        Some(payload)
                            if attempt < policy.max_retries && is_retryable_error_resp(payload) =>
                        {
                            TransportError::ErrorResp(payload.clone())
                        }
                        _ => return Ok(response),
                    },
                    Err(err) => err,
                };
                if attempt >= policy.max_retries || !is_retryable(&err) {
                    return Err(err);
                }
                let wait = policy.backoff(attempt);
                debug!(%err, attempt, wait_ms = wait.as_millis() as u64, "retrying L1 RPC request");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        })
    }
}

/// Whether sending the same request again may succeed.
pub fn is_retryable(err: &TransportError) -> bool {
    match err {
        // Connection refused or reset, timeouts, a body cut short: the HTTP client's errors.
        RpcError::Transport(TransportErrorKind::Custom(_)) => true,
        RpcError::Transport(TransportErrorKind::HttpError(http)) => {
            http.status == 429 || http.status == 408 || (500..600).contains(&http.status)
        }
        RpcError::Transport(kind) => kind.is_retry_err(),
        RpcError::ErrorResp(payload) => is_retryable_error_resp(payload),
        // A null where a value was due: a load-balanced endpoint behind on the chain.
        RpcError::NullResp => true,
        _ => false,
    }
}

/// alloy's classification, except a log query refused for its range or result size (which
/// alloy takes for a rate limit when its code is -32005): the same query would be refused again;
/// [`crate::logs::get_logs`] shrinks it instead.
fn is_retryable_error_resp(payload: &alloy::rpc::json_rpc::ErrorPayload) -> bool {
    payload.is_retry_err() && !crate::logs::is_range_message(&payload.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let layer = RetryLayer {
            max_retries: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        let waits: Vec<_> = (0..6).map(|a| layer.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(layer.backoff(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn reverts_are_not_retried_rate_limits_are() {
        let revert: alloy::rpc::json_rpc::ErrorPayload = serde_json::from_value(
            serde_json::json!({"code": 3, "message": "execution reverted", "data": "0x"}),
        )
        .unwrap();
        assert!(!is_retryable(&RpcError::ErrorResp(revert)));
        let limited: alloy::rpc::json_rpc::ErrorPayload = serde_json::from_value(
            serde_json::json!({"code": 429, "message": "too many requests"}),
        )
        .unwrap();
        assert!(is_retryable(&RpcError::ErrorResp(limited)));
        let http = TransportErrorKind::http_error(502, "bad gateway".into());
        assert!(is_retryable(&http));
        let http = TransportErrorKind::http_error(400, "bad request".into());
        assert!(!is_retryable(&http));
    }
}
