//! Drives one nonce from first broadcast to a settled outcome: watches every version sent at
//! that nonce for a receipt, re-prices after `resubmit_after_blocks` blocks without inclusion,
//! sends the cancellation when asked.

use std::sync::Arc;

use alloy::{
    consensus::{Transaction, TxEnvelope},
    eips::{BlockId, BlockNumberOrTag},
    primitives::{Bytes, B256, U256},
    providers::Provider,
    rpc::types::TransactionReceipt,
    transports::TransportError,
};
use proofline_bindings::RevertData;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::{Fees, Purpose, Revert, Shared, TxCandidate, TxError, TxEventKind, TxOutcome};

pub(super) enum Command {
    Cancel(oneshot::Sender<Result<B256, TxError>>),
}

/// One signed version of the transaction at this nonce.
pub(super) struct Sent {
    pub hash: B256,
    pub fees: Fees,
    pub is_cancel: bool,
    envelope: TxEnvelope,
}

impl Sent {
    pub fn new(envelope: TxEnvelope, fees: Fees, is_cancel: bool) -> Self {
        Self {
            hash: *envelope.tx_hash(),
            fees,
            is_cancel,
            envelope,
        }
    }
}

/// Polls in a row that saw the account's nonce past ours with no receipt of ours, before the
/// nonce is declared taken by someone else (a receipt can lag the nonce on load-balanced nodes).
const NONCE_CONSUMED_POLLS: u32 = 3;

pub(super) struct Driver {
    shared: Arc<Shared>,
    purpose: Purpose,
    nonce: u64,
    candidate: TxCandidate,
    gas_limit: u64,
    /// Every version sent at this nonce, oldest first: any of them may be the one mined.
    versions: Vec<Sent>,
    /// Head when the newest version was sent.
    sent_at_block: u64,
    replacements: u32,
    nonce_gone_polls: u32,
    commands: mpsc::Receiver<Command>,
    outcome: Option<oneshot::Sender<Result<TxOutcome, TxError>>>,
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        shared: Arc<Shared>,
        purpose: Purpose,
        nonce: u64,
        candidate: TxCandidate,
        gas_limit: u64,
        first: Sent,
        head: u64,
        commands: mpsc::Receiver<Command>,
        outcome: oneshot::Sender<Result<TxOutcome, TxError>>,
    ) -> Self {
        Self {
            shared,
            purpose,
            nonce,
            candidate,
            gas_limit,
            versions: vec![first],
            sent_at_block: head,
            replacements: 0,
            nonce_gone_polls: 0,
            commands,
            outcome: Some(outcome),
        }
    }

    pub async fn run(mut self) {
        let result = loop {
            tokio::select! {
                command = self.commands.recv() => {
                    if let Some(Command::Cancel(reply)) = command {
                        let _ = reply.send(self.cancel().await);
                    }
                }
                () = tokio::time::sleep(self.shared.config.poll_interval) => {}
            }
            match self.check().await {
                Ok(Some(result)) => break result,
                Ok(None) => {}
                // The RPC layer already retried; try again on the next poll.
                Err(err) => {
                    warn!(purpose = %self.purpose, nonce = self.nonce, %err, "checking transaction failed")
                }
            }
        };
        if let Err(err) = &result {
            warn!(purpose = %self.purpose, nonce = self.nonce, %err, "transaction failed");
        }
        {
            let mut in_flight = self
                .shared
                .in_flight
                .lock()
                .expect("in-flight map poisoned");
            if in_flight
                .get(&self.purpose)
                .is_some_and(|f| f.nonce == self.nonce)
            {
                in_flight.remove(&self.purpose);
            }
        }
        if let Some(outcome) = self.outcome.take() {
            let _ = outcome.send(result);
        }
    }

    fn newest(&self) -> &Sent {
        self.versions.last().expect("at least one version")
    }

    /// One look at the chain: a settled outcome, or `None` to keep waiting.
    async fn check(&mut self) -> Result<Option<Result<TxOutcome, TxError>>, TransportError> {
        let provider = &self.shared.provider;
        // A transaction with a deadline needs the head's time too: one read gives both.
        let (head, head_time) = match self.candidate.deadline {
            Some(_) => {
                let (h, _) = self.shared.head().await?;
                (h.number, Some(h.timestamp))
            }
            None => (provider.get_block_number().await?, None),
        };

        for i in (0..self.versions.len()).rev() {
            let hash = self.versions[i].hash;
            let Some(receipt) = provider.get_transaction_receipt(hash).await? else {
                continue;
            };
            let Some(block) = receipt.block_number else {
                continue;
            };
            if head + 1 < block + self.shared.config.confirmations {
                debug!(purpose = %self.purpose, %hash, block, head, "mined, waiting for confirmations");
                return Ok(None);
            }
            // The receipt may come from a block reorged out since; only a canonical one counts.
            let canonical = provider
                .get_block_by_number(BlockNumberOrTag::Number(block))
                .await?;
            if canonical.map(|b| b.header.hash) != receipt.block_hash {
                continue;
            }
            return Ok(Some(self.settle(i, receipt).await));
        }

        let mined_nonce = provider
            .get_transaction_count(self.shared.address)
            .latest()
            .await?;
        if mined_nonce > self.nonce {
            self.nonce_gone_polls += 1;
            if self.nonce_gone_polls >= NONCE_CONSUMED_POLLS {
                self.shared
                    .emit(&self.purpose, self.nonce, TxEventKind::NonceConsumed);
                return Ok(Some(Err(TxError::NonceConsumed { nonce: self.nonce })));
            }
            return Ok(None);
        }
        self.nonce_gone_polls = 0;

        // Past its deadline unmined: cancelled, not re-priced (it could only land late).
        if let (Some(deadline), Some(now)) = (self.candidate.deadline, head_time) {
            if !self.versions.iter().any(|v| v.is_cancel) && now + 1 >= deadline {
                info!(purpose = %self.purpose, nonce = self.nonce, deadline, "deadline passed unmined; cancelling");
                if let Err(err) = self.cancel().await {
                    warn!(purpose = %self.purpose, nonce = self.nonce, %err, "cancelling failed; retrying on the next poll");
                }
                return Ok(None);
            }
        }
        if head >= self.sent_at_block + self.shared.config.resubmit_after_blocks {
            if let Err(err) = self.replace(head).await {
                warn!(purpose = %self.purpose, nonce = self.nonce, %err, "re-pricing failed; retrying on the next poll");
            }
        }
        Ok(None)
    }

    async fn settle(
        &self,
        index: usize,
        receipt: TransactionReceipt,
    ) -> Result<TxOutcome, TxError> {
        let sent = &self.versions[index];
        let block = receipt.block_number.unwrap_or_default();
        let success = receipt.status();
        self.shared.emit(
            &self.purpose,
            self.nonce,
            TxEventKind::Mined {
                tx_hash: sent.hash,
                block,
                success,
            },
        );
        info!(purpose = %self.purpose, nonce = self.nonce, tx_hash = %sent.hash, block, success, cancel = sent.is_cancel, "transaction mined");
        if sent.is_cancel {
            return Err(TxError::Cancelled {
                nonce: self.nonce,
                tx_hash: sent.hash,
            });
        }
        if !success {
            let data = self.revert_data(sent.hash, block).await;
            return Err(TxError::Reverted {
                tx_hash: sent.hash,
                block,
                revert: Box::new(Revert::from_data(data)),
                receipt: Box::new(receipt),
            });
        }
        Ok(TxOutcome {
            purpose: self.purpose.clone(),
            nonce: self.nonce,
            tx_hash: sent.hash,
            replacements: self.replacements,
            receipt,
        })
    }

    /// The revert payload of transaction `tx_hash`, which failed in `block`: from the node's trace
    /// of it (`debug_traceTransaction` with the call tracer: exact, whatever ran before it in the
    /// block), else by replaying its call on the parent block's state, which misses what the
    /// block itself changed (its timestamp, the transactions before it: a proposal mined after
    /// its slot replays fine there, and was logged with "no revert data").
    async fn revert_data(&self, tx_hash: B256, block: u64) -> Option<Bytes> {
        let traced: Result<serde_json::Value, _> = self
            .shared
            .provider
            .raw_request(
                "debug_traceTransaction".into(),
                (tx_hash, serde_json::json!({ "tracer": "callTracer" })),
            )
            .await;
        if let Some(output) = traced
            .ok()
            .filter(|t| t.get("error").is_some())
            .and_then(|t| t.get("output")?.as_str()?.parse::<Bytes>().ok())
        {
            return Some(output);
        }
        let request = self
            .shared
            .call_request(&self.candidate, &self.versions[0].fees)
            .gas_limit(self.gas_limit);
        let at = BlockId::number(block.saturating_sub(1));
        match self.shared.provider.call(request).block(at).await {
            Ok(_) => None,
            Err(err) => err.revert_data(),
        }
    }

    /// Re-prices the newest version and sends it at the same nonce; when the caps leave no room,
    /// re-sends the newest version as is (a node may have dropped it).
    async fn replace(&mut self, head: u64) -> Result<(), TxError> {
        let newest = self.newest();
        let (market, _) = self
            .shared
            .market(newest.fees.max_fee_per_blob_gas.is_some())
            .await?;
        let Some(fees) = self.shared.config.fees.bump(&newest.fees, &market) else {
            let tx_hash = newest.hash;
            warn!(purpose = %self.purpose, nonce = self.nonce, %tx_hash, "stuck at the fee caps; re-sending as is");
            self.shared.broadcast(&newest.envelope).await?;
            self.shared.emit(
                &self.purpose,
                self.nonce,
                TxEventKind::FeeCapReached { tx_hash },
            );
            self.sent_at_block = head;
            return Ok(());
        };
        let is_cancel = newest.is_cancel;
        let replaced = newest.hash;
        let sent = self.sign_version(fees, is_cancel).await?;
        self.send_version(&sent).await?;
        self.replacements += 1;
        info!(purpose = %self.purpose, nonce = self.nonce, tx_hash = %sent.hash, %replaced, ?fees, "transaction re-priced");
        self.shared.emit(
            &self.purpose,
            self.nonce,
            TxEventKind::Replaced {
                tx_hash: sent.hash,
                replaced,
                fees,
            },
        );
        self.versions.push(sent);
        self.sent_at_block = head;
        Ok(())
    }

    async fn cancel(&mut self) -> Result<B256, TxError> {
        if let Some(cancel) = self.versions.iter().rev().find(|v| v.is_cancel) {
            return Ok(cancel.hash);
        }
        let newest = self.newest();
        let (market, _) = self
            .shared
            .market(newest.fees.max_fee_per_blob_gas.is_some())
            .await?;
        let fees = self
            .shared
            .config
            .fees
            .bump(&newest.fees, &market)
            .ok_or(TxError::NoRoomToReplace { nonce: self.nonce })?;
        let sent = self.sign_version(fees, true).await?;
        self.send_version(&sent).await?;
        let tx_hash = sent.hash;
        info!(purpose = %self.purpose, nonce = self.nonce, %tx_hash, ?fees, "cancellation sent");
        self.shared.emit(
            &self.purpose,
            self.nonce,
            TxEventKind::CancelSent { tx_hash, fees },
        );
        self.versions.push(sent);
        self.sent_at_block = self
            .shared
            .provider
            .get_block_number()
            .await
            .unwrap_or(self.sent_at_block);
        Ok(tx_hash)
    }

    /// The transaction (or its cancellation) at this nonce with `fees`, signed.
    async fn sign_version(&self, fees: Fees, is_cancel: bool) -> Result<Sent, TxError> {
        let (candidate, gas_limit) = if is_cancel {
            // A plain transfer to itself; a blob transaction's cancellation keeps the blobs, since
            // geth will not replace a blob transaction with a non-blob one.
            let mut cancel = TxCandidate::new(self.shared.address, Bytes::new());
            cancel.sidecar = self.candidate.sidecar.clone();
            (cancel, 21_000)
        } else {
            (self.candidate.clone(), self.gas_limit)
        };
        let tx = self.shared.build(&candidate, self.nonce, gas_limit, &fees);
        let envelope = self.shared.sign(tx).await?;
        debug_assert_eq!(envelope.nonce(), self.nonce);
        debug_assert!(!is_cancel || envelope.value() == U256::ZERO);
        Ok(Sent::new(envelope, fees, is_cancel))
    }

    async fn send_version(&self, sent: &Sent) -> Result<(), TxError> {
        match self.shared.broadcast(&sent.envelope).await {
            Ok(()) => Ok(()),
            // One of the versions got mined meanwhile; the next check finds its receipt.
            Err(err) if is_nonce_too_low(&err) => {
                debug!(purpose = %self.purpose, nonce = self.nonce, %err, "replacement refused: nonce already used");
                Ok(())
            }
            Err(err) => Err(TxError::Rpc(err)),
        }
    }
}

fn error_message(err: &TransportError) -> Option<String> {
    err.as_error_resp().map(|e| e.message.to_lowercase())
}

/// The node already has exactly this transaction.
pub(super) fn is_already_known(err: &TransportError) -> bool {
    error_message(err).is_some_and(|m| {
        m.contains("already known")
            || m.contains("known transaction")
            || m.contains("already imported")
    })
}

/// The nonce is mined already.
pub(super) fn is_nonce_too_low(err: &TransportError) -> bool {
    error_message(err).is_some_and(|m| m.contains("nonce too low"))
}

/// The nonce is taken: mined already, or another transaction holds it in the pool.
pub(super) fn is_nonce_conflict(err: &TransportError) -> bool {
    is_nonce_too_low(err) || error_message(err).is_some_and(|m| m.contains("underpriced"))
}
