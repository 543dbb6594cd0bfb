//! Quote gossip over real sockets on 127.0.0.1: each test node is the p2p transport with gossip
//! on the quote topic, wired to a quote intake as the node wires it ([`quote_intake::run_gossip`],
//! [`quote_intake::run_outbox`]). A quote reaches every node's pool, through a node in between;
//! malformed, oversized and wrongly signed messages are rejected, counted and penalised without
//! stopping anything; random bytes are refused cleanly.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use libp2p::{Multiaddr, PeerId};
use proofline_core::quote::{
    sign_quote, EpochProofQuote, QuoteError, SignedEpochProofQuote, ValidationContext, QUOTE_TOPIC,
    QUOTE_WIRE_LEN,
};
use proofline_core::{Epoch, Schedule, Slot, TimeConfig, Timestamp};
use proofline_node::metrics::Metrics;
use proofline_node::quote_intake::{
    self, gossip_acceptance, FixedEscrow, IntakeConfig, QuoteIntake,
};
use proofline_p2p::{
    self as p2p, GossipConfig, GossipError, MessageAcceptance, P2pConfig, P2pHandle,
};
use proptest::prelude::*;
use tokio::sync::mpsc;

const DEADLINE: Duration = Duration::from_secs(20);
const EPOCH: u64 = 1;

type Handle = P2pHandle<u8, u8>;

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
}

fn ctx() -> ValidationContext {
    ValidationContext::new(
        31337,
        Address::repeat_byte(0x77),
        &Schedule::new(TimeConfig::new(Timestamp(1_000), 12, 32).unwrap(), 13),
        Slot(40),
        Some(Epoch(EPOCH)),
        U256::from(100),
        false,
    )
}

fn signed(k: &PrivateKeySigner, fee: u32) -> SignedEpochProofQuote {
    let q = EpochProofQuote {
        epoch_to_prove: U256::from(EPOCH),
        valid_until_slot: U256::from(76),
        bond_amount: U256::from(1_000),
        prover: k.address(),
        basis_point_fee: fee,
    };
    sign_quote(k, &ctx().domain(), q).unwrap()
}

struct TestNode {
    p2p: Handle,
    quotes: QuoteIntake,
    metrics: Arc<Metrics>,
}

/// A node listening on a free port, dialing `peers`; its intake has `ctx()` and provers 1 to 9
/// with escrow. `max_message_size` is what it accepts and publishes on the quote topic (the node
/// uses [`QUOTE_WIRE_LEN`]).
async fn start(seed: u8, peers: Vec<Multiaddr>, max_message_size: usize) -> TestNode {
    let metrics = Arc::new(Metrics::new());
    let escrow = FixedEscrow(
        (1..=9)
            .map(|i| (key(i).address(), U256::from(10_000)))
            .collect::<HashMap<_, _>>(),
    );
    let quotes = QuoteIntake::new(IntakeConfig::default(), metrics.clone(), Arc::new(escrow));
    quotes.set_context(ctx());
    let (gossip_tx, gossip_rx) = mpsc::channel(64);
    let (p2p, _requests) = p2p::spawn::<u8, u8>(P2pConfig {
        listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        peers,
        keypair: p2p::keypair_from_seed([seed; 32]),
        request_timeout: Duration::from_secs(2),
        redial_interval: Duration::from_millis(100),
        gossip: Some(GossipConfig {
            topics: vec![QUOTE_TOPIC.to_owned()],
            max_message_size,
            messages: gossip_tx,
        }),
    })
    .await
    .unwrap();
    let (outbox_tx, outbox_rx) = mpsc::channel(16);
    quotes.set_outbox(outbox_tx);
    tokio::spawn(quote_intake::run_gossip(quotes.clone(), gossip_rx));
    tokio::spawn(quote_intake::run_outbox(p2p.clone(), outbox_rx));
    TestNode {
        p2p,
        quotes,
        metrics,
    }
}

async fn addr(h: &Handle) -> Multiaddr {
    h.listen_addrs().await.remove(0)
}

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
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until `node` knows `peer` is subscribed to the quote topic.
async fn wait_subscribed(node: &Handle, peer: PeerId) {
    eventually("the peer's subscription", || async {
        node.gossip_peers(QUOTE_TOPIC).await.contains(&peer)
    })
    .await;
}

/// The value of a sample line `name{labels} value` in the node's metrics.
fn sample(m: &Metrics, name: &str) -> f64 {
    m.encode()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

fn rejected(m: &Metrics, reason: &str) -> f64 {
    sample(
        m,
        &format!("proofline_quotes_rejected_total{{source=\"gossip\",reason=\"{reason}\"}}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_reaches_every_pool_through_a_node_in_between() {
    // a <- b <- c: a and c are not connected; b forwards what it accepted.
    let a = start(1, vec![], QUOTE_WIRE_LEN).await;
    let b = start(2, vec![addr(&a.p2p).await], QUOTE_WIRE_LEN).await;
    let c = start(3, vec![addr(&b.p2p).await], QUOTE_WIRE_LEN).await;
    wait_subscribed(&a.p2p, b.p2p.local_peer_id()).await;
    wait_subscribed(&b.p2p, c.p2p.local_peer_id()).await;
    wait_subscribed(&c.p2p, b.p2p.local_peer_id()).await;
    assert!(!a
        .p2p
        .connected_peers()
        .await
        .contains(&c.p2p.local_peer_id()));

    // Submitted to a as over RPC: pooled there, gossiped by its outbox.
    let q = signed(&key(1), 250);
    let digest = a
        .quotes
        .submit(quote_intake::QuoteSource::Rpc, q)
        .await
        .unwrap()
        .digest;
    for (name, node) in [("b", &b), ("c", &c)] {
        eventually(&format!("the quote in {name}'s pool"), || async {
            node.quotes
                .bids(Epoch(EPOCH))
                .iter()
                .any(|v| v.digest() == digest)
        })
        .await;
        assert_eq!(
            sample(
                &node.metrics,
                "proofline_quotes_accepted_total{source=\"gossip\"}"
            ),
            1.0
        );
    }
    // Submitted to c: reaches a through b.
    let q2 = signed(&key(2), 100);
    c.quotes
        .submit(quote_intake::QuoteSource::Rpc, q2)
        .await
        .unwrap();
    eventually("c's quote in a's pool", || async {
        a.quotes.best(Epoch(EPOCH)).map(|v| *v.signed()) == Some(q2)
    })
    .await;
    // The same bytes again are one gossip message.
    assert_eq!(
        c.p2p.publish(QUOTE_TOPIC, q2.to_wire()).await,
        Err(GossipError::Duplicate)
    );
    for n in [&a, &b, &c] {
        assert_eq!(n.quotes.len(), 2);
        n.quotes.with_pool(|p| p.check_invariants()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_rejected_counted_and_penalised() {
    // The sender publishes up to 4 KiB, so it can send what the receiver refuses.
    let receiver = start(10, vec![], QUOTE_WIRE_LEN).await;
    let sender = start(11, vec![addr(&receiver.p2p).await], 4096).await;
    let sender_id = sender.p2p.local_peer_id();
    wait_subscribed(&sender.p2p, receiver.p2p.local_peer_id()).await;
    wait_subscribed(&receiver.p2p, sender_id).await;
    let score = || async { receiver.p2p.gossip_score(sender_id).await.unwrap_or(0.0) };

    // A stale quote (expired) is ignored: counted, not penalised.
    let k = key(3);
    let stale = sign_quote(
        &k,
        &ctx().domain(),
        EpochProofQuote {
            epoch_to_prove: U256::from(EPOCH),
            valid_until_slot: U256::from(10),
            bond_amount: U256::from(1_000),
            prover: k.address(),
            basis_point_fee: 1,
        },
    )
    .unwrap();
    sender
        .p2p
        .publish(QUOTE_TOPIC, stale.to_wire())
        .await
        .unwrap();
    eventually("the stale quote counted", || async {
        rejected(&receiver.metrics, "expired") == 1.0
    })
    .await;
    assert!(score().await >= 0.0);

    // Garbage bytes and a quote signed by someone else than its prover: rejected, penalised.
    sender
        .p2p
        .publish(QUOTE_TOPIC, b"not a quote".to_vec())
        .await
        .unwrap();
    let mut forged = signed(&key(4), 1);
    forged.quote.prover = key(5).address();
    sender
        .p2p
        .publish(QUOTE_TOPIC, forged.to_wire())
        .await
        .unwrap();
    eventually("both rejections counted", || async {
        rejected(&receiver.metrics, "malformed") == 1.0
            && rejected(&receiver.metrics, "invalid_signature") == 1.0
    })
    .await;
    eventually("the sender penalised", || async { score().await < 0.0 }).await;

    // Still above the graylist threshold: a valid quote from it is taken.
    let good = signed(&key(6), 42);
    sender
        .p2p
        .publish(QUOTE_TOPIC, good.to_wire())
        .await
        .unwrap();
    eventually("the valid quote pooled", || async {
        receiver.quotes.best(Epoch(EPOCH)).map(|v| *v.signed()) == Some(good)
    })
    .await;

    // Oversized: gossipsub itself refuses it; the application never sees it, the score drops.
    let before = score().await;
    sender
        .p2p
        .publish(QUOTE_TOPIC, vec![7u8; 2048])
        .await
        .unwrap();
    eventually("the oversized message penalised", || async {
        score().await < before
    })
    .await;
    assert_eq!(
        sample(
            &receiver.metrics,
            "proofline_quotes_seen_total{source=\"gossip\"}"
        ),
        4.0
    );
    // The receiver's own publish refuses oversized payloads before they leave.
    assert_eq!(
        receiver
            .p2p
            .publish(QUOTE_TOPIC, vec![0u8; QUOTE_WIRE_LEN + 1])
            .await,
        Err(GossipError::TooLarge(QUOTE_WIRE_LEN))
    );
    // Nothing stopped: the transport answers and the pool holds the one valid quote.
    assert!(receiver.p2p.connected_peers().await.contains(&sender_id));
    assert_eq!(receiver.quotes.len(), 1);
}

#[tokio::test]
async fn publishing_without_subscribers_or_gossip_fails_cleanly() {
    let lone = start(20, vec![], QUOTE_WIRE_LEN).await;
    assert_eq!(
        lone.p2p
            .publish(QUOTE_TOPIC, signed(&key(1), 1).to_wire())
            .await,
        Err(GossipError::NoPeers)
    );
    let (plain, _requests) = p2p::spawn::<u8, u8>(P2pConfig {
        listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        peers: vec![],
        keypair: p2p::keypair_from_seed([21; 32]),
        request_timeout: Duration::from_secs(1),
        redial_interval: Duration::from_millis(100),
        gossip: None,
    })
    .await
    .unwrap();
    assert_eq!(
        plain.publish(QUOTE_TOPIC, vec![1]).await,
        Err(GossipError::Disabled)
    );
    assert!(plain.gossip_peers(QUOTE_TOPIC).await.is_empty());
    plain.shutdown().await;
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random bytes (most the wrong length, some exactly a quote's) are refused as malformed or
    /// invalid, reported Reject or Ignore, and never pooled.
    #[test]
    fn random_gossip_bytes_are_refused_cleanly(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..1024),
            prop::collection::vec(any::<u8>(), QUOTE_WIRE_LEN..=QUOTE_WIRE_LEN),
        ]
    ) {
        let intake = QuoteIntake::new(
            IntakeConfig { peer_rate: 1e9, peer_burst: u32::MAX, ..IntakeConfig::default() },
            Arc::new(Metrics::new()),
            Arc::new(FixedEscrow::default()),
        );
        intake.set_context(ctx());
        let result = runtime().block_on(intake.submit_wire(PeerId::random(), &bytes));
        match &result {
            Err(QuoteError::Malformed(_)) | Err(QuoteError::InvalidSignature { .. }) => {
                prop_assert_eq!(gossip_acceptance(&result), MessageAcceptance::Reject);
            }
            Err(e) => prop_assert!(false, "unexpected refusal {e:?}"),
            Ok(a) => prop_assert!(false, "random bytes accepted: {a:?}"),
        }
        prop_assert!(intake.is_empty());
    }
}
