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
//! Limits, so no peer can take more than its share: libp2p's connection limits
//! ([`MAX_CONNECTIONS_PER_PEER`], [`MAX_INCOMING_CONNECTIONS`], [`MAX_PENDING_INCOMING`]), at most
//! [`MAX_CONCURRENT_STREAMS`] inbound streams per connection, and a per-peer inbound request
//! budget ([`INBOUND_REQUEST_BURST`], refilled at [`INBOUND_REQUESTS_PER_SEC`]): a request over
//! budget is dropped before the application sees it. Gossip has gossipsub's own (message size,
//! peer scoring).
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
    connection_limits,
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
/// Connections one peer may hold to this node (a redial while the old connection lingers needs
/// two); libp2p's connection limits refuse more.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// Incoming connections established at once, over all peers.
pub const MAX_INCOMING_CONNECTIONS: u32 = 64;
/// Incoming connections still in their handshake at once.
pub const MAX_PENDING_INCOMING: u32 = 16;
/// Inbound request-response streams open at once on one connection.
pub const MAX_CONCURRENT_STREAMS: usize = 16;
/// Each peer's inbound request budget: a bucket of this many requests, refilled at
/// [`INBOUND_REQUESTS_PER_SEC`]. An honest proposer sends one attestation request per slot; a
/// request over budget is dropped before it reaches the application (the requester sees the
/// stream fail).
pub const INBOUND_REQUEST_BURST: f64 = 16.0;
pub const INBOUND_REQUESTS_PER_SEC: f64 = 2.0;

const MIN_REDIAL_INTERVAL: Duration = Duration::from_millis(10);
mod gossip;
mod worker;

pub use gossip::*;
use worker::*;

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
                            .with_request_timeout(request_timeout + STREAM_TIMEOUT_SLACK)
                            .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS),
                    ),
                    limits: connection_limits::Behaviour::new(
                        connection_limits::ConnectionLimits::default()
                            .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
                            .with_max_established_incoming(Some(MAX_INCOMING_CONNECTIONS))
                            .with_max_pending_incoming(Some(MAX_PENDING_INCOMING)),
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
        budgets: HashMap::new(),
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
