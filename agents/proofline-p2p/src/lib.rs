//! The transport between node processes: attestations (request-response) and gossip.
//!
//! A proposer sends its block proposal to the other node processes and collects their validators'
//! attestations. This module is only the transport, generic over the request and response payloads
//! (`Req`, `Resp`) so it does not depend on the node's types: libp2p request-response with the CBOR
//! codec over TCP + noise + yamux, on the protocol [`PROTOCOL`].
//!
//! The same swarm optionally runs gossipsub ([`P2pConfig::gossip`]) on those connections, for
//! messages any node may publish and every node should see (the node's epoch proof quotes). It is
//! just as payload-agnostic: see [Gossip](#gossip).
//!
//! [`spawn`] starts a swarm task on the tokio runtime and returns a [`P2pHandle`] (cheap to clone;
//! commands go to the task over an mpsc channel) and a receiver of [`Inbound`] requests, each of which
//! is answered with [`Inbound::respond`].
//!
//! Connections: every address in [`P2pConfig::peers`] is dialed at start and re-dialed every
//! [`P2pConfig::redial_interval`] while that peer is not connected, so peers that are down at start
//! or restart are (re)connected without help. Connections are kept open while idle (a long idle
//! connection timeout). A ping every 15 s finds a connection whose peer vanished without closing it
//! (a ping unanswered for 20 s); that connection is then closed, which hands the peer back to the
//! redial loop.
//!
//! Requests never hang: every request ends with the response or a [`P2pError`] within about
//! [`P2pConfig::request_timeout`] (a peer that does not answer, a connection that closes, a peer that
//! is not connected, the service shutting down).
//!
//! # Gossip
//!
//! With a [`GossipConfig`], the swarm subscribes to its topics and hands every message received on
//! them to the application ([`GossipMessage`] on [`GossipConfig::messages`]) **before** forwarding
//! it: gossipsub's `validate_messages` mode, so an invalid message goes no further than the first
//! honest node. The application answers each with [`GossipMessage::report`]:
//! [`MessageAcceptance::Accept`] forwards it to the mesh, `Reject` drops it and counts against the
//! peer that sent it, `Ignore` drops it quietly (e.g. a stale message). [`P2pHandle::publish`]
//! publishes.
//!
//! - Messages are signed by their publisher's libp2p key and checked on receipt (strict mode); a
//!   message's id is the keccak-256 of its topic and data, so the same payload published by two
//!   nodes is one message.
//! - A message larger than [`GossipConfig::max_message_size`] (plus room for gossipsub's envelope,
//!   [`GOSSIP_ENVELOPE_ALLOWANCE`]) is refused by gossipsub itself and never reaches the
//!   application; [`P2pHandle::publish`] refuses to send one.
//! - Peer scoring is on ([`gossip_score_params`]): rejected and oversized messages lower the
//!   sender's score; below the graylist threshold gossipsub ignores it; honest peers are not
//!   penalised for a quiet topic (no mesh-delivery quotas).
//! - A slow application does not stall the swarm: when [`GossipConfig::messages`] is full, a
//!   message is ignored (not forwarded, no penalty).

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Debug,
    time::Duration,
};

use eyre::{eyre, WrapErr};
use futures::StreamExt;
pub use libp2p::gossipsub::MessageAcceptance;
use libp2p::{
    core::ConnectedPoint,
    gossipsub::{
        self, IdentTopic, MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams,
    },
    identity::Keypair,
    multiaddr::Protocol,
    noise, ping,
    request_response::{
        self, cbor, InboundFailure, OutboundFailure, OutboundRequestId, ProtocolSupport,
        ResponseChannel,
    },
    swarm::{
        behaviour::toggle::Toggle,
        dial_opts::{DialOpts, PeerCondition},
        ConnectionId, DialError, NetworkBehaviour, SwarmEvent,
    },
    tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use serde::{de::DeserializeOwned, Serialize};
use tokio::{
    sync::{mpsc, oneshot},
    time::{Instant, MissedTickBehavior},
};
use tracing::{debug, info, trace, warn};

/// The request-response protocol the committee's node processes speak to each other.
pub const PROTOCOL: &str = "/proofline/attest/0.1.0";

/// How long a connection without open streams stays up. Long: the committee's node processes stay
/// connected for the whole run; a dead connection is found by ping instead.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How many inbound requests may wait for the application before new ones are refused.
const INBOUND_QUEUE: usize = 256;
/// How many commands may wait for the swarm task.
const COMMAND_QUEUE: usize = 256;
/// libp2p's own stream timeout is `request_timeout` plus this. The requester's `request_timeout` is
/// enforced by the swarm task itself, so with the same config on both ends the requester always
/// times out first and reports [`P2pError::Timeout`], rather than the responder's stream timeout
/// racing it and the requester seeing the stream cut ([`P2pError::Io`]).
const STREAM_TIMEOUT_SLACK: Duration = Duration::from_secs(1);
/// Cap on `request_timeout`, so deadlines stay representable.
const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
/// How long [`spawn`] waits for the listener to be bound.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Floor for the redial interval (a zero interval would make tokio's interval panic and spin).
const MIN_REDIAL_INTERVAL: Duration = Duration::from_millis(10);
/// What gossipsub's envelope adds to a message's payload on the wire (its publisher's peer id,
/// sequence number, topic and ed25519 signature take about 160 bytes plus the topic's length); a
/// topic's transmit limit is [`GossipConfig::max_message_size`] plus this.
pub const GOSSIP_ENVELOPE_ALLOWANCE: usize = 512;

/// Gossip on the transport's connections (module doc, Gossip).
#[derive(Debug, Clone)]
pub struct GossipConfig {
    /// Topics to subscribe to, e.g. `/proofline/epoch-proof-quotes/0.1.0`.
    pub topics: Vec<String>,
    /// Largest payload published or accepted on these topics.
    pub max_message_size: usize,
    /// Where received messages go, to be validated and reported.
    pub messages: mpsc::Sender<GossipMessage>,
}

/// A gossip message waiting for the application's verdict. Report it with
/// [`GossipMessage::report`]; dropping it reports [`MessageAcceptance::Ignore`].
#[derive(Debug)]
pub struct GossipMessage {
    /// The peer that forwarded it to this node (the one a `Reject` penalises).
    pub source: PeerId,
    /// The peer that published it.
    pub origin: Option<PeerId>,
    pub topic: String,
    pub data: Vec<u8>,
    id: MessageId,
    verdicts: Option<mpsc::UnboundedSender<Verdict>>,
}

#[derive(Debug)]
struct Verdict {
    id: MessageId,
    source: PeerId,
    acceptance: MessageAcceptance,
}

impl GossipMessage {
    /// Tells gossipsub what to do with the message: forward it (`Accept`), drop it and penalise
    /// its source (`Reject`), or drop it (`Ignore`).
    pub fn report(mut self, acceptance: MessageAcceptance) {
        self.send(acceptance);
    }

    fn send(&mut self, acceptance: MessageAcceptance) {
        if let Some(verdicts) = self.verdicts.take() {
            // Fails only once the service has shut down, when nothing is forwarded anyway.
            let _ = verdicts.send(Verdict {
                id: self.id.clone(),
                source: self.source,
                acceptance,
            });
        }
    }
}

impl Drop for GossipMessage {
    fn drop(&mut self) {
        self.send(MessageAcceptance::Ignore);
    }
}

/// Why [`P2pHandle::publish`] did not publish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipError {
    #[error("gossip is not enabled on this transport")]
    Disabled,
    /// No connected peer is subscribed to the topic (yet).
    #[error("no peer is subscribed to the topic")]
    NoPeers,
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
    /// The same topic and payload were published recently (by this node or another).
    #[error("the message was already published")]
    Duplicate,
    #[error("publishing failed: {0}")]
    Failed(String),
    #[error("the p2p service has shut down")]
    Shutdown,
}

/// Gossipsub's peer scoring for application-validated, low-rate topics: invalid messages cost
/// their sender 10 points times their count squared (three put it past the graylist threshold,
/// -80), and the count decays by 1% a second (halves in about 70 s); mesh-delivery quotas, meant
/// for busy topics, are off, so a peer on a quiet topic keeps a zero score.
pub fn gossip_score_params() -> (TopicScoreParams, PeerScoreThresholds) {
    let topic = TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -10.0,
        invalid_message_deliveries_decay: 0.99,
        ..TopicScoreParams::default()
    };
    (topic, PeerScoreThresholds::default())
}

/// The message id: keccak-256 of the topic and the payload, so identical payloads are one message
/// whoever published them.
fn content_id(message: &gossipsub::Message) -> MessageId {
    let mut preimage = message.topic.as_str().as_bytes().to_vec();
    preimage.push(0);
    preimage.extend_from_slice(&message.data);
    MessageId::from(alloy::primitives::keccak256(preimage).to_vec())
}

fn gossip_behaviour(keypair: &Keypair, cfg: &GossipConfig) -> eyre::Result<gossipsub::Behaviour> {
    let mut builder = gossipsub::ConfigBuilder::default();
    builder
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(content_id);
    for topic in &cfg.topics {
        builder.max_transmit_size_for_topic(
            cfg.max_message_size + GOSSIP_ENVELOPE_ALLOWANCE,
            IdentTopic::new(topic.clone()).hash(),
        );
    }
    let config = builder
        .build()
        .map_err(|e| eyre!("gossipsub config: {e}"))?;
    let mut gossip = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(keypair.clone()),
        config,
    )
    .map_err(|e| eyre!("gossipsub: {e}"))?;
    let (topic_params, thresholds) = gossip_score_params();
    gossip
        .with_peer_score(PeerScoreParams::default(), thresholds)
        .map_err(|e| eyre!("gossipsub peer scoring: {e}"))?;
    for topic in &cfg.topics {
        let topic = IdentTopic::new(topic.clone());
        gossip
            .set_topic_params(topic.clone(), topic_params.clone())
            .map_err(|e| eyre!("gossipsub topic scoring: {e}"))?;
        gossip
            .subscribe(&topic)
            .map_err(|e| eyre!("subscribing to {topic}: {e}"))?;
    }
    Ok(gossip)
}

/// What a node process needs to join the committee's transport.
#[derive(Debug, Clone)]
pub struct P2pConfig {
    /// Where to listen, e.g. `/ip4/127.0.0.1/tcp/0` (port 0: the OS picks one; read it back with
    /// [`P2pHandle::listen_addrs`]).
    pub listen: Multiaddr,
    /// The other node processes. Each is dialed at start and re-dialed while disconnected. An address
    /// may end in `/p2p/<peer id>` (then only that identity is accepted there); without it, whatever
    /// identity answers there is taken.
    pub peers: Vec<Multiaddr>,
    /// This node's identity; see [`keypair_from_seed`] for one that survives a restart.
    pub keypair: Keypair,
    /// How long an outbound request may wait for its response before it fails with
    /// [`P2pError::Timeout`] (capped at a day). An inbound request waits for the application's
    /// answer a second longer.
    pub request_timeout: Duration,
    /// How often peers from [`P2pConfig::peers`] that are not connected are re-dialed.
    pub redial_interval: Duration,
    /// Gossip on the same connections; `None`: request-response only.
    pub gossip: Option<GossipConfig>,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum P2pError {
    /// There is no connection to the peer (it never connected, or it is gone and not yet back).
    #[error("peer {0} is not connected")]
    NotConnected(PeerId),
    /// The peer did not answer within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// The connection closed before the response arrived (e.g. the peer shut down).
    #[error("connection closed before the response arrived")]
    ConnectionClosed,
    /// The request could not be sent because dialing the peer failed.
    #[error("dialing the peer failed")]
    DialFailure,
    /// The peer does not speak the protocol.
    #[error("the peer does not support the protocol")]
    UnsupportedProtocols,
    /// The stream failed, e.g. the peer dropped the request without answering, or the response did
    /// not decode.
    #[error("stream error: {0}")]
    Io(String),
    /// This node's transport has shut down.
    #[error("the p2p service has shut down")]
    Shutdown,
}

impl From<OutboundFailure> for P2pError {
    fn from(e: OutboundFailure) -> Self {
        match e {
            OutboundFailure::DialFailure => P2pError::DialFailure,
            OutboundFailure::Timeout => P2pError::Timeout,
            OutboundFailure::ConnectionClosed => P2pError::ConnectionClosed,
            OutboundFailure::UnsupportedProtocols => P2pError::UnsupportedProtocols,
            OutboundFailure::Io(e) => P2pError::Io(e.to_string()),
        }
    }
}

/// A request from another node process. Answer it with [`Inbound::respond`]; dropping it instead
/// makes the requester's request fail at once (nothing waits on it).
pub struct Inbound<Req, Resp> {
    /// Who sent the request.
    pub peer: PeerId,
    /// The request.
    pub request: Req,
    channel: ResponseChannel<Resp>,
    responder: mpsc::UnboundedSender<(ResponseChannel<Resp>, Resp)>,
}

impl<Req, Resp> Inbound<Req, Resp> {
    /// Sends the response. If the requester is gone, its request timed out or this node shut down,
    /// the response is dropped (and logged).
    pub fn respond(self, resp: Resp) {
        if self.responder.send((self.channel, resp)).is_err() {
            debug!(peer = %self.peer, "p2p service shut down before the response was sent");
        }
    }
}

impl<Req: Debug, Resp> Debug for Inbound<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("peer", &self.peer)
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// Handle to the swarm task. Cheap to clone; the task stops at [`P2pHandle::shutdown`] or when every
/// handle is dropped.
pub struct P2pHandle<Req, Resp> {
    local_peer_id: PeerId,
    commands: mpsc::Sender<Command<Req, Resp>>,
}

impl<Req, Resp> Clone for P2pHandle<Req, Resp> {
    fn clone(&self) -> Self {
        Self {
            local_peer_id: self.local_peer_id,
            commands: self.commands.clone(),
        }
    }
}

impl<Req, Resp> Debug for P2pHandle<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P2pHandle")
            .field("local_peer_id", &self.local_peer_id)
            .finish_non_exhaustive()
    }
}

type RespResult<Resp> = Result<Resp, P2pError>;
type AllReceiver<Resp> = mpsc::Receiver<(PeerId, RespResult<Resp>)>;

enum Command<Req, Resp> {
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    ConnectedPeers(oneshot::Sender<Vec<PeerId>>),
    Request {
        peer: PeerId,
        request: Req,
        reply: oneshot::Sender<RespResult<Resp>>,
    },
    RequestAll {
        request: Req,
        reply: oneshot::Sender<AllReceiver<Resp>>,
    },
    Publish {
        topic: String,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), GossipError>>,
    },
    GossipPeers {
        topic: String,
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    GossipScore {
        peer: PeerId,
        reply: oneshot::Sender<Option<f64>>,
    },
    Shutdown(oneshot::Sender<()>),
}

impl<Req, Resp> P2pHandle<Req, Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
{
    /// This node's identity on the network.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses actually bound, each ending in `/p2p/<local peer id>` so another node can dial
    /// it as is. Empty once the service has shut down.
    pub async fn listen_addrs(&self) -> Vec<Multiaddr> {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::ListenAddrs(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// The peers with at least one open connection (whether they dialed or were dialed).
    pub async fn connected_peers(&self) -> Vec<PeerId> {
        let (tx, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::ConnectedPeers(tx))
            .await
            .is_err()
        {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Sends `req` to every connected peer. Responses (and per-peer errors) arrive on the returned
    /// channel as they come, so the caller can stop waiting once it has enough; every peer the
    /// request went to yields exactly one item, within about the request timeout, and the channel
    /// then closes. With no connected peer (or after shutdown) it is closed at once.
    pub async fn request_all(&self, req: Req) -> mpsc::Receiver<(PeerId, Result<Resp, P2pError>)> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::RequestAll {
            request: req,
            reply: tx,
        };
        if self.commands.send(cmd).await.is_ok() {
            if let Ok(responses) = rx.await {
                return responses;
            }
        }
        // The service is gone: a receiver whose sender is dropped is closed.
        mpsc::channel(1).1
    }

    /// Sends `req` to `peer` and waits for its response. Fails at once with
    /// [`P2pError::NotConnected`] if the peer is not connected (this does not dial: the redial loop
    /// owns connecting), else ends within about the request timeout.
    pub async fn request(&self, peer: PeerId, req: Req) -> Result<Resp, P2pError> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Request {
            peer,
            request: req,
            reply: tx,
        };
        if self.commands.send(cmd).await.is_err() {
            return Err(P2pError::Shutdown);
        }
        rx.await.unwrap_or(Err(P2pError::Shutdown))
    }

    /// Publishes `data` on a gossip topic (module doc, Gossip).
    pub async fn publish(&self, topic: &str, data: Vec<u8>) -> Result<(), GossipError> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Publish {
            topic: topic.to_owned(),
            data,
            reply: tx,
        };
        if self.commands.send(cmd).await.is_err() {
            return Err(GossipError::Shutdown);
        }
        rx.await.unwrap_or(Err(GossipError::Shutdown))
    }

    /// The connected peers subscribed to a gossip topic.
    pub async fn gossip_peers(&self, topic: &str) -> Vec<PeerId> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::GossipPeers {
            topic: topic.to_owned(),
            reply: tx,
        };
        if self.commands.send(cmd).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// A peer's gossipsub score as this node sees it (`None` without gossip or for an unknown
    /// peer). Negative after it sent rejected messages.
    pub async fn gossip_score(&self, peer: PeerId) -> Option<f64> {
        let (tx, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::GossipScore { peer, reply: tx })
            .await
            .is_err()
        {
            return None;
        }
        rx.await.ok().flatten()
    }

    /// Stops the swarm task and waits until its sockets are closed (so the listen port can be bound
    /// again at once). Pending requests fail with [`P2pError::Shutdown`]; other clones of the handle
    /// see a stopped service.
    pub async fn shutdown(self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            // An error here means the task ended anyway.
            let _ = rx.await;
        }
    }
}

/// A deterministic ed25519 identity from a 32-byte seed, so a restarted node keeps its [`PeerId`].
pub fn keypair_from_seed(seed: [u8; 32]) -> Keypair {
    Keypair::ed25519_from_bytes(seed).expect("any 32 bytes are a valid ed25519 secret key")
}

/// Splits a trailing `/p2p/<peer id>` off an address.
fn split_peer_id(addr: &Multiaddr) -> (Multiaddr, Option<PeerId>) {
    let mut base = addr.clone();
    match base.pop() {
        Some(Protocol::P2p(peer)) => (base, Some(peer)),
        _ => (addr.clone(), None),
    }
}

/// Starts the transport on the protocol [`PROTOCOL`]; see [`spawn_with_protocol`].
pub async fn spawn<Req, Resp>(
    cfg: P2pConfig,
) -> eyre::Result<(P2pHandle<Req, Resp>, mpsc::Receiver<Inbound<Req, Resp>>)>
where
    Req: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
    Resp: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
{
    spawn_with_protocol(cfg, PROTOCOL).await
}

/// Starts the transport on the given request-response protocol name (which must start with `/`):
/// binds the listener (returns once it is bound, so [`P2pHandle::listen_addrs`] has the real port),
/// starts dialing the configured peers and returns the handle and the receiver of inbound requests.
/// Must be called within a tokio runtime.
pub async fn spawn_with_protocol<Req, Resp>(
    cfg: P2pConfig,
    protocol: &str,
) -> eyre::Result<(P2pHandle<Req, Resp>, mpsc::Receiver<Inbound<Req, Resp>>)>
where
    Req: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
    Resp: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
{
    let protocol = StreamProtocol::try_from_owned(protocol.to_owned())
        .map_err(|e| eyre!("invalid protocol name {protocol:?}: {e}"))?;
    let request_timeout = cfg.request_timeout.min(MAX_REQUEST_TIMEOUT);
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(cfg.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .wrap_err("building the tcp/noise/yamux transport")?
        .with_behaviour(
            |keypair| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                let gossip = match &cfg.gossip {
                    Some(g) => Some(gossip_behaviour(keypair, g)?),
                    None => None,
                };
                Ok(Behaviour {
                    rr: cbor::Behaviour::new(
                        [(protocol, ProtocolSupport::Full)],
                        request_response::Config::default()
                            .with_request_timeout(request_timeout + STREAM_TIMEOUT_SLACK),
                    ),
                    ping: ping::Behaviour::new(ping::Config::new()),
                    gossip: Toggle::from(gossip),
                })
            },
        )
        .map_err(|e| eyre!("building the p2p behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    let local_peer_id = *swarm.local_peer_id();

    swarm
        .listen_on(cfg.listen.clone())
        .wrap_err_with(|| format!("listening on {}", cfg.listen))?;
    // Wait for the listener to be bound, so the caller can read the actual port at once.
    let bound = tokio::time::timeout(LISTEN_TIMEOUT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => {
                    info!(%local_peer_id, %address, "p2p listening");
                    return Ok(());
                }
                SwarmEvent::ListenerClosed { reason, .. } => {
                    return Err(eyre!("listener closed: {reason:?}"));
                }
                SwarmEvent::ListenerError { error, .. } => {
                    return Err(eyre!("listener error: {error}"));
                }
                other => trace!(?other, "p2p event before listening"),
            }
        }
    })
    .await;
    match bound {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.wrap_err(format!("listening on {}", cfg.listen))),
        Err(_) => {
            return Err(eyre!(
                "listening on {}: not bound within {LISTEN_TIMEOUT:?}",
                cfg.listen
            ))
        }
    }

    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
    let (resp_tx, resp_rx) = mpsc::unbounded_channel();
    let (verdict_tx, verdict_rx) = mpsc::unbounded_channel();
    let slots = cfg
        .peers
        .iter()
        .map(|addr| {
            let (addr, fixed) = split_peer_id(addr);
            PeerSlot {
                addr,
                fixed,
                learned: None,
                dialing: None,
                failures: 0,
            }
        })
        .collect();
    let worker = Worker {
        swarm,
        slots,
        pending: HashMap::new(),
        deadlines: BTreeSet::new(),
        inbound_tx,
        resp_tx,
        request_timeout,
        gossip_tx: cfg.gossip.as_ref().map(|g| g.messages.clone()),
        max_gossip_size: cfg.gossip.as_ref().map_or(0, |g| g.max_message_size),
        verdict_tx,
    };
    tokio::spawn(worker.run(cmd_rx, resp_rx, verdict_rx, cfg.redial_interval));

    Ok((
        P2pHandle {
            local_peer_id,
            commands: cmd_tx,
        },
        inbound_rx,
    ))
}

#[derive(NetworkBehaviour)]
struct Behaviour<Req, Resp>
where
    Req: Serialize + DeserializeOwned + Send + 'static,
    Resp: Serialize + DeserializeOwned + Send + 'static,
{
    rr: cbor::Behaviour<Req, Resp>,
    ping: ping::Behaviour,
    gossip: Toggle<gossipsub::Behaviour>,
}

/// One configured peer address and what the redial loop knows about it.
struct PeerSlot {
    /// The address without its `/p2p` suffix.
    addr: Multiaddr,
    /// The identity the configuration pins at this address.
    fixed: Option<PeerId>,
    /// The identity last met at this address, when none is pinned.
    learned: Option<PeerId>,
    /// The dial in flight, if any.
    dialing: Option<ConnectionId>,
    /// Dial failures since the last connection (only the first is logged at warn).
    failures: u32,
}

impl PeerSlot {
    fn peer(&self) -> Option<PeerId> {
        self.fixed.or(self.learned)
    }
}

enum Waiter<Resp> {
    One(oneshot::Sender<RespResult<Resp>>),
    All(mpsc::Sender<(PeerId, RespResult<Resp>)>),
}

struct Pending<Resp> {
    peer: PeerId,
    deadline: Instant,
    waiter: Waiter<Resp>,
}

impl<Resp> Pending<Resp> {
    fn finish(self, result: RespResult<Resp>) {
        match self.waiter {
            Waiter::One(tx) => {
                let _ = tx.send(result);
            }
            // Capacity is one per peer the request went to, so this only fails if the caller has
            // stopped listening, which is fine.
            Waiter::All(tx) => {
                let _ = tx.try_send((self.peer, result));
            }
        }
    }
}

struct Worker<Req, Resp>
where
    Req: Serialize + DeserializeOwned + Send + 'static,
    Resp: Serialize + DeserializeOwned + Send + 'static,
{
    swarm: Swarm<Behaviour<Req, Resp>>,
    slots: Vec<PeerSlot>,
    pending: HashMap<OutboundRequestId, Pending<Resp>>,
    /// When each pending request times out, earliest first.
    deadlines: BTreeSet<(Instant, OutboundRequestId)>,
    inbound_tx: mpsc::Sender<Inbound<Req, Resp>>,
    resp_tx: mpsc::UnboundedSender<(ResponseChannel<Resp>, Resp)>,
    request_timeout: Duration,
    gossip_tx: Option<mpsc::Sender<GossipMessage>>,
    max_gossip_size: usize,
    /// Handed to every [`GossipMessage`]; kept so the verdict channel never closes.
    verdict_tx: mpsc::UnboundedSender<Verdict>,
}

impl<Req, Resp> Worker<Req, Resp>
where
    Req: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
    Resp: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
{
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command<Req, Resp>>,
        mut responses: mpsc::UnboundedReceiver<(ResponseChannel<Resp>, Resp)>,
        mut verdicts: mpsc::UnboundedReceiver<Verdict>,
        redial_interval: Duration,
    ) {
        let mut redial = tokio::time::interval(redial_interval.max(MIN_REDIAL_INTERVAL));
        redial.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut shutdown_ack = None;

        loop {
            let next_deadline = self.deadlines.first().map(|(at, _)| *at);
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                cmd = commands.recv() => match cmd {
                    Some(Command::Shutdown(ack)) => {
                        shutdown_ack = Some(ack);
                        break;
                    }
                    Some(cmd) => self.on_command(cmd),
                    // Every handle dropped.
                    None => break,
                },
                // Never closes: `self.resp_tx` keeps it open.
                Some((channel, resp)) = responses.recv() => {
                    if self.swarm.behaviour_mut().rr.send_response(channel, resp).is_err() {
                        debug!("response dropped: the request timed out or its connection closed");
                    }
                }
                // Never closes: `self.verdict_tx` keeps it open.
                Some(v) = verdicts.recv() => self.on_verdict(v),
                _ = redial.tick() => self.redial_all(),
                _ = sleep_until(next_deadline) => self.expire_pending(),
            }
        }

        info!(local_peer_id = %self.swarm.local_peer_id(), "p2p shutting down");
        self.deadlines.clear();
        for (_, pending) in self.pending.drain() {
            pending.finish(Err(P2pError::Shutdown));
        }
        // Dropping the swarm closes the listener and every connection.
        drop(self);
        if let Some(ack) = shutdown_ack {
            let _ = ack.send(());
        }
    }

    fn on_command(&mut self, cmd: Command<Req, Resp>) {
        match cmd {
            Command::ListenAddrs(reply) => {
                let local = *self.swarm.local_peer_id();
                let addrs = self
                    .swarm
                    .listeners()
                    .map(|a| a.clone().with_p2p(local).unwrap_or_else(|a| a))
                    .collect();
                let _ = reply.send(addrs);
            }
            Command::ConnectedPeers(reply) => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Request {
                peer,
                request,
                reply,
            } => {
                if !self.swarm.is_connected(&peer) {
                    let _ = reply.send(Err(P2pError::NotConnected(peer)));
                    return;
                }
                self.send(peer, request, Waiter::One(reply));
            }
            Command::RequestAll { request, reply } => {
                let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                let (tx, rx) = mpsc::channel(peers.len().max(1));
                for peer in peers {
                    self.send(peer, request.clone(), Waiter::All(tx.clone()));
                }
                let _ = reply.send(rx);
            }
            Command::Publish { topic, data, reply } => {
                let _ = reply.send(self.publish(topic, data));
            }
            Command::GossipPeers { topic, reply } => {
                let hash = IdentTopic::new(topic).hash();
                let peers = self
                    .swarm
                    .behaviour()
                    .gossip
                    .as_ref()
                    .map(|g| {
                        g.all_peers()
                            .filter(|(_, topics)| topics.contains(&&hash))
                            .map(|(p, _)| *p)
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = reply.send(peers);
            }
            Command::GossipScore { peer, reply } => {
                let score = self
                    .swarm
                    .behaviour()
                    .gossip
                    .as_ref()
                    .and_then(|g| g.peer_score(&peer));
                let _ = reply.send(score);
            }
            Command::Shutdown(_) => unreachable!("handled by the run loop"),
        }
    }

    fn publish(&mut self, topic: String, data: Vec<u8>) -> Result<(), GossipError> {
        let max = self.max_gossip_size;
        let gossip = self
            .swarm
            .behaviour_mut()
            .gossip
            .as_mut()
            .ok_or(GossipError::Disabled)?;
        if data.len() > max {
            return Err(GossipError::TooLarge(max));
        }
        match gossip.publish(IdentTopic::new(topic), data) {
            Ok(id) => {
                trace!(%id, "gossip published");
                Ok(())
            }
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => Err(GossipError::NoPeers),
            Err(gossipsub::PublishError::Duplicate) => Err(GossipError::Duplicate),
            Err(gossipsub::PublishError::MessageTooLarge) => Err(GossipError::TooLarge(max)),
            Err(e) => Err(GossipError::Failed(e.to_string())),
        }
    }

    fn on_verdict(&mut self, v: Verdict) {
        if let Some(gossip) = self.swarm.behaviour_mut().gossip.as_mut() {
            if !gossip.report_message_validation_result(&v.id, &v.source, v.acceptance) {
                debug!(id = %v.id, "gossip verdict for a message no longer cached");
            }
        }
    }

    fn on_gossip_event(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                let msg = GossipMessage {
                    source: propagation_source,
                    origin: message.source,
                    topic: message.topic.into_string(),
                    data: message.data,
                    id: message_id,
                    verdicts: Some(self.verdict_tx.clone()),
                };
                // Never block the swarm on the application: a message it cannot take now is
                // ignored (dropping it reports Ignore).
                match &self.gossip_tx {
                    Some(tx) => {
                        if let Err(e) = tx.try_send(msg) {
                            warn!(peer = %propagation_source, reason = %e, "gossip message ignored: application not taking messages");
                        }
                    }
                    None => drop(msg),
                }
            }
            gossipsub::Event::Subscribed { peer_id, topic } => {
                debug!(peer = %peer_id, %topic, "gossip peer subscribed")
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                debug!(peer = %peer_id, %topic, "gossip peer unsubscribed")
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                debug!(peer = %peer_id, "gossip not supported by peer")
            }
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => debug!(peer = %peer_id, ?failed_messages, "gossip peer is slow"),
        }
    }

    /// Sends to a connected peer (callers check), so request-response never dials by itself; the
    /// redial loop owns dialing.
    fn send(&mut self, peer: PeerId, request: Req, waiter: Waiter<Resp>) {
        let id = self.swarm.behaviour_mut().rr.send_request(&peer, request);
        trace!(%peer, %id, "p2p request sent");
        let deadline = Instant::now() + self.request_timeout;
        self.deadlines.insert((deadline, id));
        self.pending.insert(
            id,
            Pending {
                peer,
                deadline,
                waiter,
            },
        );
    }

    /// Takes a request out of the pending set (its response or failure came, or it timed out).
    fn take_pending(&mut self, id: OutboundRequestId) -> Option<Pending<Resp>> {
        let p = self.pending.remove(&id)?;
        self.deadlines.remove(&(p.deadline, id));
        Some(p)
    }

    fn expire_pending(&mut self) {
        let now = Instant::now();
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(p) = self.pending.remove(&id) {
                warn!(peer = %p.peer, %id, timeout = ?self.request_timeout, "p2p request timed out");
                p.finish(Err(P2pError::Timeout));
            }
        }
    }

    fn redial_all(&mut self) {
        for i in 0..self.slots.len() {
            self.redial(i);
        }
    }

    fn redial(&mut self, i: usize) {
        let slot = &self.slots[i];
        if slot.dialing.is_some() {
            return;
        }
        if slot.peer().is_some_and(|p| self.swarm.is_connected(&p)) {
            return;
        }
        // A new port for every dial: reusing the listen port (libp2p's default) lets two nodes that
        // dial each other at once collide on the same TCP 4-tuple.
        let opts = match slot.fixed {
            Some(peer) => DialOpts::peer_id(peer)
                .addresses(vec![slot.addr.clone()])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .allocate_new_port()
                .build(),
            None => DialOpts::unknown_peer_id()
                .address(slot.addr.clone())
                .allocate_new_port()
                .build(),
        };
        let connection_id = opts.connection_id();
        let addr = slot.addr.clone();
        match self.swarm.dial(opts) {
            Ok(()) => {
                trace!(%addr, "p2p dialing");
                self.slots[i].dialing = Some(connection_id);
            }
            Err(DialError::DialPeerConditionFalse(_)) => {}
            Err(error) => self.dial_failed(i, &error),
        }
    }

    fn dial_failed(&mut self, i: usize, error: &DialError) {
        let slot = &mut self.slots[i];
        slot.dialing = None;
        slot.failures += 1;
        if slot.failures == 1 || matches!(error, DialError::WrongPeerId { .. }) {
            warn!(addr = %slot.addr, peer = ?slot.fixed, %error, "p2p dial failed; will keep re-dialing");
        } else {
            debug!(addr = %slot.addr, failures = slot.failures, %error, "p2p dial failed again");
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent<Req, Resp>>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Rr(event)) => self.on_rr_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(event)) => self.on_gossip_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result,
            })) => match result {
                Ok(rtt) => trace!(%peer, ?rtt, "p2p ping"),
                Err(ping::Failure::Unsupported) => {
                    debug!(%peer, "p2p peer does not support ping")
                }
                Err(error) => {
                    warn!(%peer, %error, "p2p ping failed; closing the connection");
                    self.swarm.close_connection(connection);
                }
            },
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                for slot in &mut self.slots {
                    let ours = slot.dialing == Some(connection_id);
                    if ours {
                        slot.dialing = None;
                        if slot.fixed.is_none() {
                            slot.learned = Some(peer_id);
                        }
                    }
                    if ours || slot.peer() == Some(peer_id) {
                        slot.failures = 0;
                    }
                }
                if num_established.get() == 1 {
                    info!(peer = %peer_id, addr = %remote_addr(&endpoint), "p2p peer connected");
                } else {
                    debug!(peer = %peer_id, addr = %remote_addr(&endpoint), n = num_established.get(), "p2p extra connection");
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                endpoint,
                num_established,
                cause,
                ..
            } => {
                if num_established == 0 {
                    // A configured peer is re-dialed at the next redial tick.
                    info!(peer = %peer_id, addr = %remote_addr(&endpoint), cause = ?cause, "p2p peer disconnected");
                } else {
                    debug!(peer = %peer_id, left = num_established, cause = ?cause, "p2p connection closed");
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                match self
                    .slots
                    .iter()
                    .position(|s| s.dialing == Some(connection_id))
                {
                    Some(i) => self.dial_failed(i, &error),
                    None => warn!(peer = ?peer_id, %error, "p2p outgoing connection failed"),
                }
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => warn!(from = %send_back_addr, %error, "p2p incoming connection failed"),
            SwarmEvent::NewListenAddr { address, .. } => info!(%address, "p2p listening"),
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                info!(%address, "p2p listen address expired")
            }
            SwarmEvent::ListenerClosed {
                addresses, reason, ..
            } => warn!(?addresses, ?reason, "p2p listener closed"),
            SwarmEvent::ListenerError { error, .. } => warn!(%error, "p2p listener error"),
            other => trace!(?other, "p2p event"),
        }
    }

    fn on_rr_event(&mut self, event: request_response::Event<Req, Resp>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                trace!(%peer, ?request, "p2p request received");
                let inbound = Inbound {
                    peer,
                    request,
                    channel,
                    responder: self.resp_tx.clone(),
                };
                // Never block the swarm on the application: if it is not keeping up (or stopped
                // listening), the request is dropped, which fails it at the requester at once.
                if let Err(e) = self.inbound_tx.try_send(inbound) {
                    warn!(%peer, reason = %e, "p2p inbound request dropped: application not taking requests");
                }
            }
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => match self.take_pending(request_id) {
                Some(p) => p.finish(Ok(response)),
                None => {
                    debug!(%peer, %request_id, "p2p response came after the request timed out")
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => match self.take_pending(request_id) {
                Some(p) => {
                    warn!(%peer, %request_id, %error, "p2p request failed");
                    p.finish(Err(error.into()));
                }
                None => debug!(%peer, %request_id, %error, "p2p request failed after it timed out"),
            },
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => match error {
                InboundFailure::ResponseOmission => {
                    debug!(%peer, %request_id, "p2p inbound request dropped without a response")
                }
                error => warn!(%peer, %request_id, %error, "p2p inbound request failed"),
            },
            request_response::Event::ResponseSent {
                peer, request_id, ..
            } => trace!(%peer, %request_id, "p2p response sent"),
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn remote_addr(endpoint: &ConnectedPoint) -> &Multiaddr {
    match endpoint {
        ConnectedPoint::Dialer { address, .. } => address,
        ConnectedPoint::Listener { send_back_addr, .. } => send_back_addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypair_from_seed_is_deterministic() {
        let a = keypair_from_seed([7; 32]).public().to_peer_id();
        let b = keypair_from_seed([7; 32]).public().to_peer_id();
        let c = keypair_from_seed([8; 32]).public().to_peer_id();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn split_peer_id_strips_only_a_trailing_p2p() {
        let peer = keypair_from_seed([1; 32]).public().to_peer_id();
        let base: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let full = base.clone().with_p2p(peer).unwrap();
        assert_eq!(split_peer_id(&full), (base.clone(), Some(peer)));
        assert_eq!(split_peer_id(&base), (base, None));
    }

    #[test]
    fn bad_protocol_name_is_an_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cfg = P2pConfig {
            listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
            peers: vec![],
            keypair: keypair_from_seed([1; 32]),
            request_timeout: Duration::from_secs(1),
            redial_interval: Duration::from_millis(100),
            gossip: None,
        };
        let res = rt.block_on(spawn_with_protocol::<u8, u8>(cfg, "no-leading-slash"));
        assert!(res.is_err());
    }
}
