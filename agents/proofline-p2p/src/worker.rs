//! The swarm task behind a [`super::P2pHandle`]: dialing, requests and their deadlines,
//! inbound requests, and gossip.

use super::*;

#[derive(NetworkBehaviour)]
pub(super) struct Behaviour<Req, Resp>
where
    Req: Serialize + DeserializeOwned + Send + 'static,
    Resp: Serialize + DeserializeOwned + Send + 'static,
{
    pub(super) rr: cbor::Behaviour<Req, Resp>,
    pub(super) limits: connection_limits::Behaviour,
    pub(super) ping: ping::Behaviour,
    pub(super) gossip: Toggle<gossipsub::Behaviour>,
}

/// One configured peer address and what the redial loop knows about it.
pub(super) struct PeerSlot {
    /// The address without its `/p2p` suffix.
    pub(super) addr: Multiaddr,
    /// The identity the configuration pins at this address.
    pub(super) fixed: Option<PeerId>,
    /// The identity last met at this address, when none is pinned.
    pub(super) learned: Option<PeerId>,
    /// The dial in flight, if any.
    pub(super) dialing: Option<ConnectionId>,
    /// Dial failures since the last connection (only the first is logged at warn).
    pub(super) failures: u32,
}

impl PeerSlot {
    fn peer(&self) -> Option<PeerId> {
        self.fixed.or(self.learned)
    }
}

pub(super) enum Waiter<Resp> {
    One(oneshot::Sender<RespResult<Resp>>),
    All(mpsc::Sender<(PeerId, RespResult<Resp>)>),
}

pub(super) struct Pending<Resp> {
    pub(super) peer: PeerId,
    pub(super) deadline: Instant,
    pub(super) waiter: Waiter<Resp>,
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

pub(super) struct Worker<Req, Resp>
where
    Req: Serialize + DeserializeOwned + Send + 'static,
    Resp: Serialize + DeserializeOwned + Send + 'static,
{
    pub(super) swarm: Swarm<Behaviour<Req, Resp>>,
    pub(super) slots: Vec<PeerSlot>,
    pub(super) pending: HashMap<OutboundRequestId, Pending<Resp>>,
    /// When each pending request times out, earliest first.
    pub(super) deadlines: BTreeSet<(Instant, OutboundRequestId)>,
    pub(super) inbound_tx: mpsc::Sender<Inbound<Req, Resp>>,
    pub(super) resp_tx: mpsc::UnboundedSender<(ResponseChannel<Resp>, Resp)>,
    pub(super) request_timeout: Duration,
    pub(super) gossip_tx: Option<mpsc::Sender<GossipMessage>>,
    pub(super) max_gossip_size: usize,
    /// Handed to every [`GossipMessage`]; kept so the verdict channel never closes.
    pub(super) verdict_tx: mpsc::UnboundedSender<Verdict>,
    /// Each connected peer's inbound request budget: tokens left, and when it was refilled.
    pub(super) budgets: HashMap<PeerId, (f64, Instant)>,
}

impl<Req, Resp> Worker<Req, Resp>
where
    Req: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
    Resp: Serialize + DeserializeOwned + Send + Clone + Debug + 'static,
{
    pub(super) async fn run(
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
                    self.budgets.remove(&peer_id);
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

    /// Takes one request from `peer`'s budget (a token bucket, [`INBOUND_REQUEST_BURST`] deep,
    /// refilled at [`INBOUND_REQUESTS_PER_SEC`]); false when it is spent. Hand-written: no libp2p
    /// behaviour budgets request-response per peer.
    fn spend_budget(&mut self, peer: PeerId) -> bool {
        let now = Instant::now();
        let (tokens, at) = self
            .budgets
            .entry(peer)
            .or_insert((INBOUND_REQUEST_BURST, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * INBOUND_REQUESTS_PER_SEC)
            .min(INBOUND_REQUEST_BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
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
                if !self.spend_budget(peer) {
                    // Dropping the channel fails the request at the requester.
                    debug!(%peer, "p2p inbound request dropped: over the peer's request budget");
                    return;
                }
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
pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

pub(super) fn remote_addr(endpoint: &ConnectedPoint) -> &Multiaddr {
    match endpoint {
        ConnectedPoint::Dialer { address, .. } => address,
        ConnectedPoint::Listener { send_back_addr, .. } => send_back_addr,
    }
}
