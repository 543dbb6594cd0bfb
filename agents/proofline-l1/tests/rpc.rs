//! The retry layer against a scripted HTTP endpoint on loopback: it answers each request with
//! the next scripted response and counts the requests.

#[path = "loopback/mod.rs"]
mod loopback;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use alloy::{providers::Provider, transports::http::reqwest::Url};
use proofline_l1::rpc::{connect, RpcConfig};
use serde_json::json;
use tokio::{io::AsyncReadExt, net::TcpListener};

#[derive(Clone, Copy)]
enum Reply {
    /// An HTTP error status without a JSON-RPC body.
    Status(u16),
    /// A JSON-RPC error object.
    RpcError(i64, &'static str),
    /// A JSON-RPC result: the chain id 0x7a69.
    ChainId,
    /// Close the connection without answering.
    Hangup,
}

/// Serves `script` in order (the last entry repeats); returns the URL and the request count.
async fn scripted_endpoint(script: Vec<Reply>) -> (Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let served = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = served.fetch_add(1, Ordering::SeqCst);
            let reply = script[n.min(script.len() - 1)];
            tokio::spawn(async move {
                let Some(request) = loopback::read_json_request(&mut socket).await else {
                    return;
                };
                let id = request["id"].clone();
                let (status, body) = match reply {
                    Reply::Hangup => return,
                    Reply::Status(code) => (code, String::new()),
                    Reply::RpcError(code, message) => {
                        (200, json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string())
                    }
                    Reply::ChainId => (200, json!({"jsonrpc": "2.0", "id": id, "result": "0x7a69"}).to_string()),
                };
                loopback::respond(&mut socket, status, &body).await;
            });
        }
    });
    (url, count)
}

fn config(url: Url, max_retries: u32) -> RpcConfig {
    let mut config = RpcConfig::new(url);
    config.max_retries = max_retries;
    config.initial_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(4);
    config
}

#[tokio::test]
async fn transient_failures_are_retried_until_an_answer() {
    let script = vec![
        Reply::Status(503),
        Reply::Hangup,
        Reply::RpcError(429, "rate limited"),
        Reply::ChainId,
    ];
    let (url, count) = scripted_endpoint(script).await;
    let provider = connect(&config(url, 5)).unwrap();
    assert_eq!(provider.get_chain_id().await.unwrap(), 0x7a69);
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_revert_is_returned_at_once() {
    let (url, count) = scripted_endpoint(vec![Reply::RpcError(3, "execution reverted")]).await;
    let provider = connect(&config(url, 5)).unwrap();
    let err = provider.get_chain_id().await.unwrap_err();
    assert!(err.to_string().contains("execution reverted"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retries_stop_at_the_configured_maximum() {
    let (url, count) = scripted_endpoint(vec![Reply::Status(502)]).await;
    let provider = connect(&config(url, 3)).unwrap();
    let err = provider.get_chain_id().await.unwrap_err();
    assert!(err.to_string().contains("502"), "{err}");
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "the first attempt and three retries"
    );
}

/// An `https` endpoint is spoken to over TLS: the first bytes on the wire are a TLS handshake
/// record (0x16, version 3.x), not an HTTP request, and not a refusal of the scheme before
/// connecting (what a client built without TLS does).
#[tokio::test]
async fn https_endpoints_get_a_tls_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: Url = format!("https://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let first_bytes = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 3];
        socket.read_exact(&mut buf).await.unwrap();
        buf
    });
    let provider = connect(&RpcConfig {
        max_retries: 0,
        request_timeout: Duration::from_secs(5),
        ..RpcConfig::new(url)
    })
    .unwrap();
    // The server never completes the handshake: the call fails, after the hello was sent.
    let _ = tokio::time::timeout(Duration::from_secs(10), provider.get_chain_id()).await;
    let hello = tokio::time::timeout(Duration::from_secs(10), first_bytes)
        .await
        .expect("the client connected")
        .unwrap();
    assert_eq!(hello[0], 0x16, "TLS handshake record type");
    assert_eq!(hello[1], 0x03, "TLS record version major");
}
