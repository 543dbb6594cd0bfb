//! Log queries against an endpoint that caps block ranges, as public providers do: a loopback
//! HTTP server that answers `eth_getLogs` over more than `CAP` blocks with a range error (and
//! every 5th request with HTTP 429), and with one log per block otherwise.

#[path = "loopback/mod.rs"]
mod loopback;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::{primitives::Address, rpc::types::Filter, transports::http::reqwest::Url};
use proofline_l1::{
    logs::get_logs,
    rpc::{connect, RpcConfig},
};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const CAP: u64 = 10;

/// The ranges the endpoint answered, and those it refused.
#[derive(Default)]
struct Seen {
    answered: Vec<(u64, u64)>,
    refused: Vec<(u64, u64)>,
    requests: usize,
}

fn block(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn log_at(n: u64) -> Value {
    json!({
        "address": Address::repeat_byte(7),
        "topics": [],
        "data": "0x",
        "blockNumber": format!("{n:#x}"),
        "blockHash": format!("0x{:064x}", n),
        "transactionHash": format!("0x{:064x}", n + 1_000_000),
        "transactionIndex": "0x0",
        "logIndex": "0x0",
        "removed": false,
    })
}

async fn capped_endpoint() -> (Url, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let Some(req) = loopback::read_json_request(&mut socket).await else {
                    return;
                };
                let (status, body) = {
                    let mut s = state.lock().unwrap();
                    s.requests += 1;
                    let id = req["id"].clone();
                    let p = &req["params"][0];
                    let (from, to) = (block(&p["fromBlock"]), block(&p["toBlock"]));
                    if s.requests % 5 == 0 {
                        (429, String::new())
                    } else if to - from + 1 > CAP {
                        s.refused.push((from, to));
                        let e = json!({"code": -32005, "message": format!("query exceeds max block range {CAP}")});
                        (
                            200,
                            json!({"jsonrpc": "2.0", "id": id, "error": e}).to_string(),
                        )
                    } else {
                        s.answered.push((from, to));
                        let logs: Vec<Value> = (from..=to).map(log_at).collect();
                        (
                            200,
                            json!({"jsonrpc": "2.0", "id": id, "result": logs}).to_string(),
                        )
                    }
                };
                loopback::respond(&mut socket, status, &body).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn logs_come_in_ranges_the_endpoint_takes_whatever_its_cap() {
    let (url, seen) = capped_endpoint().await;
    let mut config = RpcConfig::new(url);
    config.initial_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(4);
    let provider = connect(&config).unwrap();
    let filter = Filter::new().address(Address::repeat_byte(7));

    let logs = get_logs(&provider, &filter, 100, 1_099, 1_000)
        .await
        .unwrap();

    // Every block's log, once, in order, although the endpoint takes 10 blocks at a time and
    // rate-limits every 5th request.
    let blocks: Vec<u64> = logs.iter().map(|l| l.block_number.unwrap()).collect();
    assert_eq!(blocks, (100..=1_099).collect::<Vec<_>>());
    let s = seen.lock().unwrap();
    let mut next = 100;
    for &(from, to) in &s.answered {
        assert_eq!(from, next, "the answered ranges tile the whole range");
        assert!(to - from < CAP);
        next = to + 1;
    }
    assert_eq!(next, 1_100);
    // It learnt the cap quickly: a few halvings at the start and after each growth, not one
    // refusal per range.
    assert!(
        s.refused.len() < s.answered.len(),
        "{} refused, {} answered",
        s.refused.len(),
        s.answered.len()
    );
}

#[tokio::test]
async fn one_query_of_the_whole_range_is_what_a_capped_endpoint_refuses() {
    // What the agents did before: one eth_getLogs from the deployment block to the head.
    let (url, _) = capped_endpoint().await;
    let provider = connect(&RpcConfig::new(url)).unwrap();
    let filter = Filter::new()
        .address(Address::repeat_byte(7))
        .from_block(100)
        .to_block(1_099);
    use alloy::providers::Provider;
    let err = provider.get_logs(&filter).await.unwrap_err();
    assert!(proofline_l1::logs::is_range_error(&err), "{err}");
}
