//! The attestation transport over real sockets on 127.0.0.1: request/response, request_all,
//! timeouts, dropped and orphaned requests, peers that start late and restart.

use std::{
    collections::HashMap,
    future::Future,
    time::{Duration, Instant},
};

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use proofline_p2p::{self as p2p, keypair_from_seed, Inbound, P2pConfig, P2pError, P2pHandle};
use serde::{Deserialize, Serialize};
use tokio::{sync::mpsc, task::JoinHandle};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Proposal {
    n: u64,
    payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Attestation {
    n: u64,
    signer: String,
}

type Handle = P2pHandle<Proposal, Attestation>;
type Requests = mpsc::Receiver<Inbound<Proposal, Attestation>>;

/// How a test node's application answers requests.
#[derive(Clone, Copy)]
enum Mode {
    /// Answers `n` with an attestation signed by the node's name.
    Respond,
    /// Keeps every request and never answers.
    Silent,
    /// Drops odd-numbered requests without answering, answers even ones.
    DropOdd,
}

const DEADLINE: Duration = Duration::from_secs(5);

fn seed(i: u8) -> [u8; 32] {
    [i; 32]
}

fn config(seed: [u8; 32], listen: &str, peers: Vec<Multiaddr>, timeout: Duration) -> P2pConfig {
    P2pConfig {
        listen: listen.parse().unwrap(),
        peers,
        keypair: keypair_from_seed(seed),
        request_timeout: timeout,
        redial_interval: Duration::from_millis(100),
        gossip: None,
    }
}

/// Runs a node's application: answers (or not) per `mode`; each request seen is also reported on
/// the returned channel, so tests can wait for a request to have arrived.
fn serve(
    name: &'static str,
    mode: Mode,
    mut requests: Requests,
) -> (JoinHandle<()>, mpsc::UnboundedReceiver<Proposal>) {
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some(inbound) = requests.recv().await {
            let _ = seen_tx.send(inbound.request.clone());
            let n = inbound.request.n;
            let answer = Attestation {
                n: n + 1,
                signer: name.to_owned(),
            };
            match mode {
                Mode::Respond => inbound.respond(answer),
                Mode::Silent => held.push(inbound),
                Mode::DropOdd if n % 2 == 1 => drop(inbound),
                Mode::DropOdd => inbound.respond(answer),
            }
        }
    });
    (task, seen_rx)
}

async fn start(
    name: &'static str,
    seed: [u8; 32],
    listen: &str,
    peers: Vec<Multiaddr>,
    timeout: Duration,
    mode: Mode,
) -> (Handle, JoinHandle<()>, mpsc::UnboundedReceiver<Proposal>) {
    let (handle, requests) = p2p::spawn(config(seed, listen, peers, timeout))
        .await
        .unwrap();
    let (task, seen) = serve(name, mode, requests);
    (handle, task, seen)
}

async fn addr(handle: &Handle) -> Multiaddr {
    let addrs = handle.listen_addrs().await;
    assert_eq!(addrs.len(), 1, "{addrs:?}");
    let addr = addrs[0].clone();
    assert_eq!(
        addr.iter().last(),
        Some(Protocol::P2p(handle.local_peer_id())),
        "{addr}"
    );
    addr
}

/// Polls `cond` until it holds, failing the test after [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_connected(handle: &Handle, peers: &[PeerId]) {
    eventually("peers to connect", || async {
        let connected = handle.connected_peers().await;
        peers.iter().all(|p| connected.contains(p))
    })
    .await;
}

async fn wait_disconnected(handle: &Handle, peer: PeerId) {
    eventually("peer to disconnect", || async {
        !handle.connected_peers().await.contains(&peer)
    })
    .await;
}

fn proposal(n: u64) -> Proposal {
    Proposal {
        n,
        payload: vec![n as u8; 1000],
    }
}

/// Receives within the deadline (a hang is a failure, not a stuck test).
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test]
async fn p2p_two_nodes_exchange_request_and_response() {
    let timeout = Duration::from_secs(5);
    let (b, _bt, _) = start(
        "b",
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Respond,
    )
    .await;
    let b_addr = addr(&b).await;
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![b_addr],
        timeout,
        Mode::Respond,
    )
    .await;
    assert_eq!(
        a.local_peer_id(),
        keypair_from_seed(seed(1)).public().to_peer_id()
    );

    wait_connected(&a, &[b.local_peer_id()]).await;
    let got = within("a -> b", a.request(b.local_peer_id(), proposal(7))).await;
    assert_eq!(
        got,
        Ok(Attestation {
            n: 8,
            signer: "b".into()
        })
    );

    // The connection A dialed carries requests the other way too.
    wait_connected(&b, &[a.local_peer_id()]).await;
    let got = within("b -> a", b.request(a.local_peer_id(), proposal(41))).await;
    assert_eq!(
        got,
        Ok(Attestation {
            n: 42,
            signer: "a".into()
        })
    );

    // A peer that is not connected fails at once instead of hanging.
    let stranger = keypair_from_seed(seed(99)).public().to_peer_id();
    let got = within("request to stranger", a.request(stranger, proposal(1))).await;
    assert_eq!(got, Err(P2pError::NotConnected(stranger)));

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn p2p_idle_connection_stays_open() {
    let timeout = Duration::from_secs(5);
    let (b, _bt, _) = start(
        "b",
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Respond,
    )
    .await;
    // A dials once at start and then not for a minute: a connection closed while idle would stay
    // closed for the whole test.
    let mut cfg = config(
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![addr(&b).await],
        timeout,
    );
    cfg.redial_interval = Duration::from_secs(60);
    let (a, requests) = p2p::spawn::<Proposal, Attestation>(cfg).await.unwrap();
    let _at = serve("a", Mode::Respond, requests);
    let bp = b.local_peer_id();
    wait_connected(&a, &[bp]).await;

    for n in 0..2u64 {
        assert_eq!(
            within("request", a.request(bp, proposal(n))).await,
            Ok(Attestation {
                n: n + 1,
                signer: "b".into()
            })
        );
        // Idle for a while, on both ends.
        let idle = Instant::now();
        while idle.elapsed() < Duration::from_millis(700) {
            assert!(
                a.connected_peers().await.contains(&bp),
                "a dropped the idle connection"
            );
            assert!(
                b.connected_peers().await.contains(&a.local_peer_id()),
                "b dropped it"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn p2p_request_all_gets_both_answers() {
    let timeout = Duration::from_secs(5);
    let (b, _bt, _) = start(
        "b",
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Respond,
    )
    .await;
    let (c, _ct, _) = start(
        "c",
        seed(3),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Respond,
    )
    .await;
    let b_addr = addr(&b).await;
    // C's address without its /p2p suffix: A takes whatever identity answers there.
    let mut c_addr = addr(&c).await;
    c_addr.pop();
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![b_addr, c_addr],
        timeout,
        Mode::Respond,
    )
    .await;
    wait_connected(&a, &[b.local_peer_id(), c.local_peer_id()]).await;

    let mut answers = a.request_all(proposal(10)).await;
    let mut got = HashMap::new();
    while let Some((peer, res)) = within("request_all answers", answers.recv()).await {
        assert!(got.insert(peer, res).is_none(), "two answers from {peer}");
    }
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[&b.local_peer_id()],
        Ok(Attestation {
            n: 11,
            signer: "b".into()
        })
    );
    assert_eq!(
        got[&c.local_peer_id()],
        Ok(Attestation {
            n: 11,
            signer: "c".into()
        })
    );

    for h in [a, b, c] {
        h.shutdown().await;
    }
}

#[tokio::test]
async fn p2p_request_all_without_peers_closes_at_once() {
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        Duration::from_secs(5),
        Mode::Respond,
    )
    .await;
    let mut answers = a.request_all(proposal(1)).await;
    assert!(within("closed channel", answers.recv()).await.is_none());

    // After shutdown every call ends at once too.
    let clone = a.clone();
    a.shutdown().await;
    assert!(clone.listen_addrs().await.is_empty());
    assert!(clone.connected_peers().await.is_empty());
    assert!(clone.request_all(proposal(2)).await.recv().await.is_none());
    let stranger = keypair_from_seed(seed(99)).public().to_peer_id();
    assert_eq!(
        clone.request(stranger, proposal(3)).await,
        Err(P2pError::Shutdown)
    );
}

#[tokio::test]
async fn p2p_silent_peer_times_out_while_other_answers() {
    let timeout = Duration::from_secs(2);
    let (b, _bt, mut b_seen) = start(
        "b",
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Silent,
    )
    .await;
    let (c, _ct, _) = start(
        "c",
        seed(3),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Respond,
    )
    .await;
    let peers = vec![addr(&b).await, addr(&c).await];
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        peers,
        timeout,
        Mode::Respond,
    )
    .await;
    wait_connected(&a, &[b.local_peer_id(), c.local_peer_id()]).await;

    let sent = Instant::now();
    let mut answers = a.request_all(proposal(5)).await;

    // C's answer comes first, without waiting for B's timeout.
    let (peer, res) = within("first answer", answers.recv()).await.unwrap();
    assert_eq!(peer, c.local_peer_id());
    assert_eq!(
        res,
        Ok(Attestation {
            n: 6,
            signer: "c".into()
        })
    );
    assert!(
        sent.elapsed() < timeout,
        "C's answer waited for B: {:?}",
        sent.elapsed()
    );

    // B got the request but never answers: a timeout error, not a hang.
    assert_eq!(
        within("b saw the request", b_seen.recv()).await,
        Some(proposal(5))
    );
    let (peer, res) = within("second answer", answers.recv()).await.unwrap();
    assert_eq!(peer, b.local_peer_id());
    assert_eq!(res, Err(P2pError::Timeout));
    assert!(
        sent.elapsed() >= timeout,
        "timed out early: {:?}",
        sent.elapsed()
    );
    // The requester's own timeout, not libp2p's stream timeout (a second later) nor B's.
    assert!(
        sent.elapsed() < timeout + Duration::from_millis(900),
        "timed out late: {:?}",
        sent.elapsed()
    );
    assert!(within("channel close", answers.recv()).await.is_none());

    // The timeout did not break the connection to B.
    assert!(a.connected_peers().await.contains(&b.local_peer_id()));

    for h in [a, b, c] {
        h.shutdown().await;
    }
}

#[tokio::test]
async fn p2p_dropped_request_fails_fast_and_does_not_wedge() {
    let timeout = Duration::from_secs(10);
    let (b, _bt, _) = start(
        "b",
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::DropOdd,
    )
    .await;
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![addr(&b).await],
        timeout,
        Mode::Respond,
    )
    .await;
    let bp = b.local_peer_id();
    wait_connected(&a, &[bp]).await;

    for round in 0..3u64 {
        // Odd: B's application drops the request; A hears of it well before its timeout.
        let sent = Instant::now();
        let got = within("dropped request", a.request(bp, proposal(2 * round + 1))).await;
        assert!(
            matches!(got, Err(P2pError::Io(_)) | Err(P2pError::ConnectionClosed)),
            "{got:?}"
        );
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "{:?}",
            sent.elapsed()
        );
        // Even: answered as usual.
        let got = within("answered request", a.request(bp, proposal(2 * round + 2))).await;
        assert_eq!(
            got,
            Ok(Attestation {
                n: 2 * round + 3,
                signer: "b".into()
            })
        );
    }

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn p2p_peer_that_shuts_down_mid_request_fails_it_fast() {
    let timeout = Duration::from_secs(10);
    let (b, b_requests) = p2p::spawn::<Proposal, Attestation>(config(
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
    ))
    .await
    .unwrap();
    let mut b_requests = b_requests;
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![addr(&b).await],
        timeout,
        Mode::Respond,
    )
    .await;
    let bp = b.local_peer_id();
    wait_connected(&a, &[bp]).await;

    let sent = Instant::now();
    let a2 = a.clone();
    let pending = tokio::spawn(async move { a2.request(bp, proposal(1)).await });
    let inbound = within("b got the request", b_requests.recv())
        .await
        .unwrap();
    assert_eq!(inbound.peer, a.local_peer_id());

    b.shutdown().await;
    let got = within("a's request", pending).await.unwrap();
    assert!(
        matches!(got, Err(P2pError::ConnectionClosed) | Err(P2pError::Io(_))),
        "{got:?}"
    );
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );

    // Answering after the node is gone is harmless.
    inbound.respond(Attestation {
        n: 2,
        signer: "b".into(),
    });
    wait_disconnected(&a, bp).await;
    a.shutdown().await;
}

/// A free port on 127.0.0.1: bound by the OS, then released.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn p2p_peer_started_late_and_restarted_is_reconnected() {
    let timeout = Duration::from_secs(5);
    let port = free_port();
    let b_listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let bp = keypair_from_seed(seed(2)).public().to_peer_id();
    let b_dial: Multiaddr = format!("{b_listen}/p2p/{bp}").parse().unwrap();

    // A starts while B is down: it keeps re-dialing.
    let (a, _at, _) = start(
        "a",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![b_dial],
        timeout,
        Mode::Respond,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.connected_peers().await.is_empty());
    assert_eq!(
        a.request(bp, proposal(1)).await,
        Err(P2pError::NotConnected(bp))
    );

    // B comes up: A connects to it.
    let (b, bt, _) = start("b", seed(2), &b_listen, vec![], timeout, Mode::Respond).await;
    assert_eq!(b.local_peer_id(), bp);
    wait_connected(&a, &[bp]).await;
    assert_eq!(
        within("request to b", a.request(bp, proposal(1))).await,
        Ok(Attestation {
            n: 2,
            signer: "b".into()
        })
    );

    // B goes down: A notices, and requests fail at once.
    b.shutdown().await;
    bt.abort();
    wait_disconnected(&a, bp).await;
    assert_eq!(
        a.request(bp, proposal(2)).await,
        Err(P2pError::NotConnected(bp))
    );
    assert!(a.request_all(proposal(2)).await.recv().await.is_none());

    // B restarts on the same port with the same identity: A reconnects and requests work again.
    let (b, _bt, _) = start("b2", seed(2), &b_listen, vec![], timeout, Mode::Respond).await;
    wait_connected(&a, &[bp]).await;
    assert_eq!(
        within("request to restarted b", a.request(bp, proposal(3))).await,
        Ok(Attestation {
            n: 4,
            signer: "b2".into()
        })
    );
    let mut answers = a.request_all(proposal(5)).await;
    assert_eq!(
        within("request_all to restarted b", answers.recv()).await,
        Some((
            bp,
            Ok(Attestation {
                n: 6,
                signer: "b2".into()
            })
        ))
    );

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn p2p_mutual_peers_connect_and_talk() {
    // Both list each other (as a committee's nodes do) and dial at the same moment.
    let timeout = Duration::from_secs(5);
    let (pa, pb) = (free_port(), free_port());
    let a_id = keypair_from_seed(seed(1)).public().to_peer_id();
    let b_id = keypair_from_seed(seed(2)).public().to_peer_id();
    let a_dial: Multiaddr = format!("/ip4/127.0.0.1/tcp/{pa}/p2p/{a_id}")
        .parse()
        .unwrap();
    let b_dial: Multiaddr = format!("/ip4/127.0.0.1/tcp/{pb}/p2p/{b_id}")
        .parse()
        .unwrap();
    let a_listen = format!("/ip4/127.0.0.1/tcp/{pa}");
    let b_listen = format!("/ip4/127.0.0.1/tcp/{pb}");
    let ((a, _at, _), (b, _bt, _)) = tokio::join!(
        start(
            "a",
            seed(1),
            &a_listen,
            vec![b_dial],
            timeout,
            Mode::Respond
        ),
        start(
            "b",
            seed(2),
            &b_listen,
            vec![a_dial],
            timeout,
            Mode::Respond
        ),
    );
    wait_connected(&a, &[b_id]).await;
    wait_connected(&b, &[a_id]).await;
    for n in 0..10u64 {
        assert_eq!(
            within("a -> b", a.request(b_id, proposal(n))).await,
            Ok(Attestation {
                n: n + 1,
                signer: "b".into()
            })
        );
        assert_eq!(
            within("b -> a", b.request(a_id, proposal(n))).await,
            Ok(Attestation {
                n: n + 1,
                signer: "a".into()
            })
        );
    }
    a.shutdown().await;
    b.shutdown().await;
}

/// A peer that floods requests gets its budget's worth through, and the rest fail at once
/// without reaching the application; another peer's requests are not affected.
#[tokio::test]
async fn p2p_a_flooding_peer_is_held_to_its_request_budget() {
    let timeout = Duration::from_secs(5);
    let (b, _bt, mut seen) = start(
        "b",
        seed(2),
        "/ip4/127.0.0.1/tcp/0",
        vec![],
        timeout,
        Mode::Respond,
    )
    .await;
    let b_addr = addr(&b).await;
    let (flood, _ft, _) = start(
        "flood",
        seed(1),
        "/ip4/127.0.0.1/tcp/0",
        vec![b_addr.clone()],
        timeout,
        Mode::Respond,
    )
    .await;
    let (honest, _ht, _) = start(
        "honest",
        seed(3),
        "/ip4/127.0.0.1/tcp/0",
        vec![b_addr],
        timeout,
        Mode::Respond,
    )
    .await;
    wait_connected(&flood, &[b.local_peer_id()]).await;
    wait_connected(&honest, &[b.local_peer_id()]).await;
    let sent = 3 * p2p::INBOUND_REQUEST_BURST as u64;
    let answers = within(
        "the flood's answers",
        futures::future::join_all((0..sent).map(|n| flood.request(b.local_peer_id(), proposal(n)))),
    )
    .await;
    let answered = answers.iter().filter(|a| a.is_ok()).count() as f64;
    // The burst, and what the bucket refilled while the flood was sent (well under a second).
    let budget = p2p::INBOUND_REQUEST_BURST;
    assert!(
        (budget..=budget + 2.0 * p2p::INBOUND_REQUESTS_PER_SEC).contains(&answered),
        "{answered} of {sent} answered"
    );
    let mut reached = 0;
    while seen.try_recv().is_ok() {
        reached += 1;
    }
    assert_eq!(
        reached as f64, answered,
        "a dropped request reached the application"
    );
    // Another peer has its own budget.
    let got = within(
        "honest -> b",
        honest.request(b.local_peer_id(), proposal(7)),
    )
    .await;
    assert!(got.is_ok(), "{got:?}");
}
