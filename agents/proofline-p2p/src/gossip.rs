//! Gossipsub on the transport's connections (the crate doc's Gossip section).

use super::*;

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
    pub(super) id: MessageId,
    pub(super) verdicts: Option<mpsc::UnboundedSender<Verdict>>,
}

#[derive(Debug)]
pub(super) struct Verdict {
    pub(super) id: MessageId,
    pub(super) source: PeerId,
    pub(super) acceptance: MessageAcceptance,
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
pub(super) fn content_id(message: &gossipsub::Message) -> MessageId {
    let mut preimage = message.topic.as_str().as_bytes().to_vec();
    preimage.push(0);
    preimage.extend_from_slice(&message.data);
    MessageId::from(alloy::primitives::keccak256(preimage).to_vec())
}

pub(super) fn gossip_behaviour(
    keypair: &Keypair,
    cfg: &GossipConfig,
) -> eyre::Result<gossipsub::Behaviour> {
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
