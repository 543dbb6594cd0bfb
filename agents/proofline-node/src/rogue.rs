//! Fault injection: an impersonator (`--fault impersonate`), for tests of the attesters' checks
//! and the adversary scenario. Never use outside a devnet.
//!
//! Shortly before every slot, the node builds an empty block on its own tip, as if it were the
//! slot's proposer (coinbase = the proposer, which is public), and asks every peer to attest it.
//! The block is valid: an attester that checks only the coinbase and re-execution signs it and
//! records it for the slot, and then refuses the real proposer's block as a conflict, so the
//! slot misses its quorum. The impersonator cannot sign as the proposer: it signs with a key of
//! its own, which an attester that authenticates proposals refuses before doing anything else.

use std::{sync::Arc, time::Duration};

use alloy::signers::{local::PrivateKeySigner, SignerSync};
use proofline_core::Slot;
use tracing::{info, warn};

use crate::{
    duties::{build_block, AttestRequest, AttestResponse},
    mempool::{Mempool, MempoolConfig},
    node::NodeInner,
};

/// How long before a slot starts the impersonator sends its request: attesters wait up to a
/// third of a slot for their clock to reach the next slot, and the real proposer sends only once
/// it sees the slot's first L1 block, so it arrives first.
const LEAD: Duration = Duration::from_millis(800);

impl NodeInner {
    pub(crate) async fn impersonate_loop(self: Arc<Self>) {
        let key = PrivateKeySigner::random();
        let mut done = Slot(0);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            let Some(now) = self.clock_now_secs_f64() else {
                continue;
            };
            let next = self.current_slot().next();
            let starts = self.reader.slot_start(next) as f64;
            if next <= done || starts - now > LEAD.as_secs_f64() {
                continue;
            }
            done = next;
            if let Err(e) = self.impersonate(next, &key).await {
                warn!(slot = %next, "fault injection: no impersonation: {e:#}");
            }
        }
    }

    async fn impersonate(&self, slot: Slot, key: &PrivateKeySigner) -> eyre::Result<()> {
        let Some(proposer) = self.reader.proposer_at(slot).await? else {
            return Ok(());
        };
        let epoch = self.reader.epoch_of(slot);
        let (block, built) = {
            let chain = self.chain.read().expect("poisoned");
            let empty = Mempool::new(MempoolConfig { max_txs: 1 });
            build_block(&chain, &empty, slot, epoch, proposer, 0, false)?
        };
        let args = built.propose_args();
        let digest = args.digest(&self.domain);
        let signature = key.sign_hash_sync(&digest)?.as_bytes().to_vec().into();
        info!(%slot, %proposer, block = block.number, "fault injection: impersonating the slot's proposer");
        let mut answers = self
            .p2p
            .request_all(AttestRequest {
                block,
                args,
                signature,
            })
            .await;
        while let Some((peer, answer)) = answers.recv().await {
            match answer {
                Ok(AttestResponse::Signed(sigs)) if !sigs.is_empty() => {
                    warn!(%slot, %peer, signatures = sigs.len(), "fault injection: a peer attested the impersonation")
                }
                Ok(AttestResponse::Refused(why)) => {
                    info!(%slot, %peer, %why, "fault injection: a peer refused the impersonation")
                }
                _ => {}
            }
        }
        Ok(())
    }
}
