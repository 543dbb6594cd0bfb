//! `eth_getLogs` the way public endpoints take it: in bounded block ranges.
//!
//! Providers cap a query's block range (a few thousand blocks, or as few as 10 on free tiers)
//! and its result count, and answer a query over either with a JSON-RPC error. [`get_logs`]
//! splits `[from, to]` into ranges of at most `max_range` blocks, halves the range and retries
//! when the endpoint refuses one as too large, and grows it again after a success. Rate limits
//! (HTTP 429) and transient failures are the provider's retry layer's ([`crate::rpc`]).
//!
//! Hand-written: alloy queries one range as given, and no crate splits and shrinks ranges.

use alloy::{
    providers::Provider,
    rpc::types::{Filter, Log},
    transports::{RpcError, TransportError},
};
use tracing::debug;

use crate::rpc::L1Provider;

/// The default largest range of one query: what most public endpoints accept.
pub const DEFAULT_MAX_RANGE: u64 = 1_000;

/// Whether `err` is an endpoint refusing a query for its range or result size (rather than a
/// failure or a rate limit): see [`is_range_message`].
pub fn is_range_error(err: &TransportError) -> bool {
    matches!(err, RpcError::ErrorResp(e) if is_range_message(&e.message))
}

/// Whether an error message refuses a log query for its block range or result size, as geth,
/// reth, Alchemy, Infura, QuickNode and others word it ("query exceeds max block range 10000",
/// "query returned more than 10000 results", "block range is too large", "response size
/// exceeded"...). A rate limit ("request rate exceeded") is not one: it is retried as it is. The
/// code alone does not tell: Infura's -32005 is both.
pub fn is_range_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    !m.contains("rate")
        && [
            "range",
            "results",
            "more than",
            "response size",
            "too large",
            "too many logs",
        ]
        .iter()
        .any(|needle| m.contains(needle))
}

/// The logs `filter` matches in blocks `from..=to`, in order, queried in ranges of at most
/// `max_range` blocks (at least 1).
pub async fn get_logs(
    provider: &L1Provider,
    filter: &Filter,
    from: u64,
    to: u64,
    max_range: u64,
) -> Result<Vec<Log>, TransportError> {
    let mut out = Vec::new();
    // The largest range not known to be refused, and the range of the next query.
    let mut ceiling = max_range.max(1);
    let mut span = ceiling;
    let mut start = from;
    while start <= to {
        let end = start.saturating_add(span - 1).min(to);
        let query = filter.clone().from_block(start).to_block(end);
        match provider.get_logs(&query).await {
            Ok(logs) => {
                out.extend(logs);
                start = end + 1;
                span = span.saturating_mul(2).min(ceiling);
            }
            Err(e) if end > start && is_range_error(&e) => {
                ceiling = end - start;
                span = (end - start).div_ceil(2);
                debug!(start, end, span, error = %e, "log range refused; halving it");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_refusals_are_told_from_rate_limits() {
        for m in [
            "query exceeds max block range 10000",
            "query returned more than 10000 results",
            "eth_getLogs block range is too large",
            "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
            "exceed maximum block range: 50000",
        ] {
            assert!(is_range_message(m), "{m}");
        }
        for m in [
            "daily request count exceeded, request rate limited",
            "Your app has exceeded its compute units per second capacity (rate limit)",
            "execution reverted",
            "header not found",
        ] {
            assert!(!is_range_message(m), "{m}");
        }
    }
}
