//! The transaction manager: one per signing key, the only thing that sends with that key.
//!
//! It owns the key's nonce (read from the node's pending count at start, then counted locally;
//! taken from the node again when nothing is in flight and the node's count is lower, i.e. a
//! reorg dropped a settled transaction), prices EIP-1559 and EIP-4844 transactions, and drives
//! every transaction it sent until it is mined: after `resubmit_after_blocks` blocks without
//! inclusion it replaces the transaction at the same nonce with higher fees (+10% on each field,
//! x2 for blob transactions, as geth's pools require), never above the configured caps. A caller
//! can cancel an in-flight transaction, which replaces it with a 0-value self-transfer at the same
//! nonce.
//!
//! At most one transaction per [`Purpose`] is in flight: an agent that decides again on the next
//! tick what to send gets [`TxError::PurposeBusy`] while the previous one is still pending, rather
//! than queueing a second transaction built from a view of the chain that is now stale.
//!
//! Reverts are decoded with the contract bindings: a call that would revert fails before it is
//! signed ([`TxError::WouldRevert`]), one that reverted on chain fails with [`TxError::Reverted`],
//! both carrying e.g. `Rollup__QuoteExpired(current: 101, validUntil: 100)`.
//!
//! Geth keeps blob and non-blob transactions of one account in separate pools and refuses a
//! non-blob transaction while the account has a blob transaction pending. The manager does not
//! paper over that: the proposer, which sends blobs, should use its own key for them. A cancelled
//! blob transaction is replaced by a self-transfer that carries the same blobs, for that reason.

mod driver;
mod fees;
mod types;

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::{Arc, LazyLock, Mutex as StdMutex},
};

use alloy::{
    consensus::{
        SignableTransaction, TxEip1559, TxEip4844, TxEip4844Variant, TxEip4844WithSidecar,
        TxEnvelope, TypedTransaction,
    },
    eips::{eip2718::Encodable2718, BlockNumberOrTag},
    network::{TransactionBuilder, TxSigner},
    primitives::{Address, Signature, TxKind, B256},
    providers::Provider,
    rpc::types::TransactionRequest,
    transports::TransportError,
};
use proofline_bindings::RevertData;
use tokio::{
    sync::{broadcast, mpsc, oneshot, Mutex},
    task::JoinHandle,
};
use tracing::{info, warn};

pub use fees::{FeeCapError, FeePolicy, Fees, Market};
pub use types::{
    Purpose, Revert, TxCandidate, TxError, TxEvent, TxEventKind, TxManagerConfig, TxOutcome,
};

use crate::rpc::L1Provider;

const GWEI: u128 = 1_000_000_000;

/// A sent transaction. Dropping it does not stop the manager from driving the transaction.
#[derive(Debug)]
pub struct PendingTx {
    purpose: Purpose,
    nonce: u64,
    tx_hash: B256,
    outcome: oneshot::Receiver<Result<TxOutcome, TxError>>,
}

impl PendingTx {
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }

    pub fn nonce(&self) -> u64 {
        self.nonce
    }

    /// The hash of the first version sent.
    pub fn tx_hash(&self) -> B256 {
        self.tx_hash
    }

    /// Waits until the transaction (or a replacement, or its cancellation) is mined with the
    /// configured confirmations.
    pub async fn wait(self) -> Result<TxOutcome, TxError> {
        self.outcome.await.unwrap_or(Err(TxError::Stopped))
    }
}

/// Clone to share; all clones are the same manager.
#[derive(Clone)]
pub struct TxManager {
    shared: Arc<Shared>,
}

struct Shared {
    provider: L1Provider,
    signer: Arc<dyn TxSigner<Signature> + Send + Sync>,
    address: Address,
    chain_id: u64,
    config: TxManagerConfig,
    /// The next nonce to use. Held while a new transaction is signed and broadcast, so nonces are
    /// handed out in order and only to transactions the node accepted.
    next_nonce: Mutex<u64>,
    in_flight: StdMutex<HashMap<Purpose, InFlight>>,
    events: broadcast::Sender<TxEvent>,
    lease: StdMutex<Option<KeyLease>>,
}

struct InFlight {
    nonce: u64,
    /// Whether it carries blobs (its replacements and cancellation keep them).
    blob: bool,
    commands: mpsc::Sender<driver::Command>,
    task: Option<JoinHandle<()>>,
}

/// Keys with a live manager in this process, per chain: a second manager for a key would hand
/// out the same nonces. (Across processes nothing can check this; run one sender per key.)
static KEYS_IN_USE: LazyLock<StdMutex<HashSet<(u64, Address)>>> = LazyLock::new(Default::default);

struct KeyLease((u64, Address));

impl KeyLease {
    fn acquire(chain_id: u64, address: Address) -> Result<Self, TxError> {
        let mut keys = KEYS_IN_USE.lock().expect("key registry poisoned");
        if !keys.insert((chain_id, address)) {
            return Err(TxError::KeyInUse { address, chain_id });
        }
        Ok(Self((chain_id, address)))
    }
}

impl Drop for KeyLease {
    fn drop(&mut self) {
        if let Ok(mut keys) = KEYS_IN_USE.lock() {
            keys.remove(&self.0);
        }
    }
}

impl fmt::Debug for TxManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxManager")
            .field("address", &self.shared.address)
            .field("chain_id", &self.shared.chain_id)
            .finish_non_exhaustive()
    }
}

impl TxManager {
    /// Starts a manager for `signer`'s key: reads the chain id and the key's pending nonce (which
    /// counts transactions still in the node's pool, e.g. from before a restart).
    pub async fn new<S>(
        provider: L1Provider,
        signer: S,
        config: TxManagerConfig,
    ) -> Result<Self, TxError>
    where
        S: TxSigner<Signature> + Send + Sync + 'static,
    {
        let address = signer.address();
        let chain_id = provider.get_chain_id().await?;
        let lease = KeyLease::acquire(chain_id, address)?;
        let nonce = provider.get_transaction_count(address).pending().await?;
        info!(%address, chain_id, nonce, "transaction manager started");
        let (events, _) = broadcast::channel(256);
        Ok(Self {
            shared: Arc::new(Shared {
                provider,
                signer: Arc::new(signer),
                address,
                chain_id,
                config,
                next_nonce: Mutex::new(nonce),
                in_flight: StdMutex::new(HashMap::new()),
                events,
                lease: StdMutex::new(Some(lease)),
            }),
        })
    }

    pub fn address(&self) -> Address {
        self.shared.address
    }

    pub fn chain_id(&self) -> u64 {
        self.shared.chain_id
    }

    pub fn config(&self) -> &TxManagerConfig {
        &self.shared.config
    }

    /// The nonce the next new transaction gets.
    pub async fn next_nonce(&self) -> u64 {
        *self.shared.next_nonce.lock().await
    }

    /// The nonce of the in-flight transaction of `purpose`, if any.
    pub fn in_flight(&self, purpose: &Purpose) -> Option<u64> {
        self.shared
            .in_flight
            .lock()
            .expect("in-flight map poisoned")
            .get(purpose)
            .map(|f| f.nonce)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TxEvent> {
        self.shared.events.subscribe()
    }

    /// Signs and broadcasts `candidate`, then drives it to inclusion in the background. Returns
    /// once the node accepted the transaction. Fails without using a nonce when the purpose is
    /// busy, the call would revert, or the fees are above the caps.
    pub async fn send(
        &self,
        purpose: impl Into<Purpose>,
        candidate: TxCandidate,
    ) -> Result<PendingTx, TxError> {
        let purpose = purpose.into();
        let shared = &self.shared;
        if self.in_flight(&purpose).is_some() {
            return Err(TxError::PurposeBusy(purpose));
        }

        let (market, head) = shared.market(candidate.sidecar.is_some()).await?;
        if let Some(deadline) = candidate.deadline {
            if head.timestamp + 1 >= deadline {
                return Err(TxError::DeadlinePassed {
                    deadline,
                    now: head.timestamp,
                });
            }
        }
        let head = head.number;
        let fees = shared.config.fees.initial(&market)?;
        let gas_limit = match candidate.gas_limit {
            Some(limit) => limit,
            None => {
                let estimate = shared.estimate_gas(&candidate, &fees).await?;
                estimate.saturating_add(estimate * shared.config.gas_limit_margin_percent / 100)
            }
        };

        let mut next_nonce = shared.next_nonce.lock().await;
        // Checked again under the nonce lock: two sends of one purpose may race to here.
        if self.in_flight(&purpose).is_some() {
            return Err(TxError::PurposeBusy(purpose));
        }
        // The pool rule of geth and reth, enforced here so a test on anvil fails where a real
        // network would (anvil takes both kinds from one account).
        let blob = candidate.sidecar.is_some();
        if let Some((other, _)) = shared
            .in_flight
            .lock()
            .expect("in-flight map poisoned")
            .iter()
            .find(|(_, f)| f.blob != blob)
        {
            let kind = |b: bool| if b { "blob" } else { "non-blob" };
            return Err(TxError::PoolKindConflict {
                purpose: other.clone(),
                pending: kind(!blob),
                wanted: kind(blob),
            });
        }
        let mut nonce = *next_nonce;
        // With nothing in flight, every nonce below ours was settled as mined. If the node's
        // count is lower, an L1 reorg has since dropped one of those transactions without putting
        // it back in the pool (anvil does that): its nonce is free again, and a transaction at
        // our count would wait behind the gap for ever. Take the node's count.
        let idle = shared
            .in_flight
            .lock()
            .expect("in-flight map poisoned")
            .is_empty();
        if idle {
            let pending = shared
                .provider
                .get_transaction_count(shared.address)
                .pending()
                .await?;
            if pending < nonce {
                warn!(%purpose, nonce, pending, "a settled transaction was reorged out; reusing its nonce");
                nonce = pending;
            }
        }
        let mut resynced = false;
        let sent = loop {
            let tx = shared.build(&candidate, nonce, gas_limit, &fees);
            let signed = shared.sign(tx).await?;
            match shared.broadcast(&signed).await {
                Ok(()) => break driver::Sent::new(signed, fees, false),
                // The node has this nonce already: from a transaction sent before a restart that
                // the pending count missed, or by another sender. Take the node's count, once.
                Err(err) if !resynced && driver::is_nonce_conflict(&err) => {
                    let pending = shared
                        .provider
                        .get_transaction_count(shared.address)
                        .pending()
                        .await?;
                    warn!(%purpose, nonce, pending, %err, "nonce conflict on send; resyncing from the node");
                    if pending <= nonce {
                        return Err(TxError::Rpc(err));
                    }
                    nonce = pending;
                    resynced = true;
                }
                Err(err) => return Err(TxError::Rpc(err)),
            }
        };
        *next_nonce = nonce + 1;

        let tx_hash = sent.hash;
        info!(%purpose, nonce, %tx_hash, gas_limit, ?fees, "transaction sent");
        shared.emit(&purpose, nonce, TxEventKind::Sent { tx_hash, fees });
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let (commands_tx, commands_rx) = mpsc::channel(4);
        // Registered before the driver starts, so its final deregistration cannot come first.
        shared
            .in_flight
            .lock()
            .expect("in-flight map poisoned")
            .insert(
                purpose.clone(),
                InFlight {
                    nonce,
                    blob: candidate.sidecar.is_some(),
                    commands: commands_tx,
                    task: None,
                },
            );
        let driver = driver::Driver::new(
            Arc::clone(shared),
            purpose.clone(),
            nonce,
            candidate,
            gas_limit,
            sent,
            head,
            commands_rx,
            outcome_tx,
        );
        let task = tokio::spawn(driver.run());
        if let Some(entry) = shared
            .in_flight
            .lock()
            .expect("in-flight map poisoned")
            .get_mut(&purpose)
        {
            entry.task = Some(task);
        }
        drop(next_nonce);
        Ok(PendingTx {
            purpose,
            nonce,
            tx_hash,
            outcome: outcome_rx,
        })
    }

    /// [`send`](Self::send) and wait for the outcome.
    pub async fn send_and_wait(
        &self,
        purpose: impl Into<Purpose>,
        candidate: TxCandidate,
    ) -> Result<TxOutcome, TxError> {
        self.send(purpose, candidate).await?.wait().await
    }

    /// Replaces the in-flight transaction of `purpose` with a 0-value self-transfer at its nonce
    /// (fees bumped as for any replacement) and returns the self-transfer's hash. The
    /// transaction's [`PendingTx`] then resolves to [`TxError::Cancelled`], or to the original
    /// outcome if the original was mined first.
    pub async fn cancel(&self, purpose: &Purpose) -> Result<B256, TxError> {
        let commands = {
            let in_flight = self
                .shared
                .in_flight
                .lock()
                .expect("in-flight map poisoned");
            in_flight.get(purpose).map(|f| f.commands.clone())
        };
        let commands = commands.ok_or_else(|| TxError::NotInFlight(purpose.clone()))?;
        let (reply_tx, reply_rx) = oneshot::channel();
        commands
            .send(driver::Command::Cancel(reply_tx))
            .await
            .map_err(|_| TxError::NotInFlight(purpose.clone()))?;
        reply_rx
            .await
            .unwrap_or(Err(TxError::NotInFlight(purpose.clone())))
    }

    /// Stops driving every in-flight transaction (they stay in the node's pool) and releases the
    /// key, as a process exit would. A new manager for the key continues from the node's pending
    /// nonce. Every clone of this manager is stopped.
    pub async fn shutdown(self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut in_flight = self
                .shared
                .in_flight
                .lock()
                .expect("in-flight map poisoned");
            in_flight.drain().filter_map(|(_, f)| f.task).collect()
        };
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        self.shared.lease.lock().expect("lease poisoned").take();
        info!(address = %self.shared.address, "transaction manager stopped");
    }
}

/// The newest block's number and timestamp.
#[derive(Clone, Copy, Debug)]
struct Head {
    number: u64,
    timestamp: u64,
}

impl Shared {
    /// The newest block, with its base fee (none before London).
    async fn head(&self) -> Result<(Head, Option<u64>), TransportError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await?
            .ok_or(TransportError::NullResp)?;
        let head = Head {
            number: block.header.number,
            timestamp: block.header.timestamp,
        };
        Ok((head, block.header.base_fee_per_gas))
    }

    fn emit(&self, purpose: &Purpose, nonce: u64, kind: TxEventKind) {
        // No subscriber is fine.
        let _ = self.events.send(TxEvent {
            purpose: purpose.clone(),
            nonce,
            kind,
        });
    }

    /// The transaction as an `eth_call`/`eth_estimateGas` request, with its blob hashes so that
    /// `BLOBHASH` sees them.
    fn call_request(&self, candidate: &TxCandidate, fees: &Fees) -> TransactionRequest {
        let mut request = TransactionRequest::default()
            .with_from(self.address)
            .with_to(candidate.to)
            .with_input(candidate.input.clone())
            .with_value(candidate.value);
        if candidate.sidecar.is_some() {
            request.blob_versioned_hashes = Some(candidate.blob_versioned_hashes());
            // Nodes reject blob hashes without a blob fee cap in calls; the transaction's own keeps
            // the balance check of the estimate honest.
            request.max_fee_per_blob_gas = fees.max_fee_per_blob_gas;
        }
        request
    }

    async fn estimate_gas(&self, candidate: &TxCandidate, fees: &Fees) -> Result<u64, TxError> {
        self.provider
            .estimate_gas(self.call_request(candidate, fees))
            .await
            .map_err(revert_or_rpc)
    }

    /// What the chain asks for now, and the number of the block it was read from.
    async fn market(&self, with_blobs: bool) -> Result<(Market, Head), TxError> {
        let (head, base_fee) = self.head().await?;
        let base_fee = u128::from(base_fee.ok_or(TxError::NoBaseFee)?);
        // A node without the method (or a failing one) leaves the policy's floor.
        let suggested_tip = self
            .provider
            .get_max_priority_fee_per_gas()
            .await
            .unwrap_or(0);
        let blob_base_fee = if with_blobs {
            Some(self.provider.get_blob_base_fee().await?)
        } else {
            None
        };
        let market = Market {
            base_fee,
            suggested_tip,
            blob_base_fee,
        };
        Ok((market, head))
    }

    fn build(
        &self,
        candidate: &TxCandidate,
        nonce: u64,
        gas_limit: u64,
        fees: &Fees,
    ) -> TypedTransaction {
        match (&candidate.sidecar, fees.max_fee_per_blob_gas) {
            (Some(sidecar), Some(max_fee_per_blob_gas)) => {
                let tx = TxEip4844 {
                    chain_id: self.chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: fees.max_fee_per_gas,
                    max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                    to: candidate.to,
                    value: candidate.value,
                    access_list: Default::default(),
                    blob_versioned_hashes: sidecar.versioned_hashes().collect(),
                    max_fee_per_blob_gas,
                    input: candidate.input.clone(),
                };
                TypedTransaction::Eip4844(TxEip4844Variant::TxEip4844WithSidecar(
                    TxEip4844WithSidecar::from_tx_and_sidecar(tx, sidecar.clone()),
                ))
            }
            _ => TypedTransaction::Eip1559(TxEip1559 {
                chain_id: self.chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: fees.max_fee_per_gas,
                max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                to: TxKind::Call(candidate.to),
                value: candidate.value,
                access_list: Default::default(),
                input: candidate.input.clone(),
            }),
        }
    }

    async fn sign(&self, mut tx: TypedTransaction) -> Result<TxEnvelope, TxError> {
        let signature = self
            .signer
            .sign_transaction(&mut tx as &mut dyn SignableTransaction<Signature>)
            .await?;
        Ok(tx.into_envelope(signature))
    }

    /// Sends the network encoding (with the blob sidecar, if any). A node that already has this
    /// exact transaction counts as success (a retried request, or a re-broadcast).
    async fn broadcast(&self, tx: &TxEnvelope) -> Result<(), TransportError> {
        match self.provider.send_raw_transaction(&tx.encoded_2718()).await {
            Ok(_) => Ok(()),
            Err(err) if driver::is_already_known(&err) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// A failed `eth_call`/`eth_estimateGas`: a revert (decoded) or an RPC failure.
fn revert_or_rpc(err: TransportError) -> TxError {
    let data = err.revert_data();
    let reverted = data.is_some()
        || err
            .as_error_resp()
            .is_some_and(|e| e.message.contains("revert"));
    if !reverted {
        return TxError::Rpc(err);
    }
    TxError::WouldRevert {
        revert: Box::new(Revert::from_data(data)),
        source: Box::new(err),
    }
}
