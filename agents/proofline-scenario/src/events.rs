//! Reading a run back from L1: the Rollup's events since its deployment, and the txs of every
//! proposed block from its blobs.

use std::collections::BTreeMap;

use alloy::{
    primitives::B256,
    providers::Provider,
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use eyre::{eyre, WrapErr};
use proofline_bindings::Rollup;
use proofline_chain::blobs::{BlobSource, BlockRef};
use proofline_l1::{Deployment, L1Provider};
use proofline_l2::TxEffect;

use crate::report::{ChainEvent, Timed};

/// The Rollup of `d`'s events since its deployment, in L1 order, with the txs of each proposed
/// block read from its blobs (anvil's); times are seconds since genesis.
pub async fn collect_events(provider: &L1Provider, d: &Deployment) -> eyre::Result<Vec<Timed>> {
    let filter = Filter::new().address(d.rollup).from_block(d.deploy_block);
    let mut logs: Vec<Log> = provider.get_logs(&filter).await?;
    logs.sort_by_key(|l| (l.block_number, l.log_index));
    let blobs = BlobSource::Anvil {
        rpc: provider.clone(),
    };
    let mut stamps: BTreeMap<u64, (B256, u64)> = BTreeMap::new();
    let mut out = Vec::new();
    for log in logs {
        let number = log.block_number.ok_or_else(|| eyre!("log without block"))?;
        if let std::collections::btree_map::Entry::Vacant(e) = stamps.entry(number) {
            let block = provider
                .get_block_by_number(number.into())
                .await?
                .ok_or_else(|| eyre!("L1 block {number} missing"))?;
            e.insert((block.header.hash, block.header.timestamp));
        }
        let (hash, timestamp) = stamps[&number];
        let t = timestamp as f64 - d.genesis_time as f64;
        let data = log.data();
        let Some(topic) = log.topic0() else { continue };
        let event = if *topic == Rollup::L2BlockProposed::SIGNATURE_HASH {
            let ev = Rollup::L2BlockProposed::decode_log_data(data)?;
            let block_number: u64 = ev.blockNumber.saturating_to();
            if block_number == 0 {
                continue;
            }
            let tx_hash = log
                .transaction_hash
                .ok_or_else(|| eyre!("log without tx"))?;
            let proposal = proofline_node::l1::fetch_proposal(provider, tx_hash).await?;
            let at = BlockRef {
                number,
                hash,
                timestamp,
            };
            let fetched = blobs
                .fetch(&at, tx_hash, &proposal.args.blob_hashes)
                .await
                .wrap_err_with(|| format!("blobs of L2 block {block_number}"))?;
            let body = proofline_l2::blob::decode_body(&fetched)?;
            let txs = body.effects.iter().map(TxEffect::tx_hash).collect();
            ChainEvent::Proposed {
                number: block_number,
                slot: ev.slot.saturating_to(),
                txs,
            }
        } else if *topic == Rollup::PrunedPending::SIGNATURE_HASH {
            let ev = Rollup::PrunedPending::decode_log_data(data)?;
            ChainEvent::Pruned {
                proven: ev.provenBlockNumber.saturating_to(),
                pending: ev.pendingBlockNumber.saturating_to(),
            }
        } else if *topic == Rollup::L2ProofVerified::SIGNATURE_HASH {
            let ev = Rollup::L2ProofVerified::decode_log_data(data)?;
            ChainEvent::Proven {
                epoch: ev.epoch.saturating_to(),
                end: ev.endBlockNumber.saturating_to(),
            }
        } else if *topic == Rollup::ProofRightClaimed::SIGNATURE_HASH {
            let ev = Rollup::ProofRightClaimed::decode_log_data(data)?;
            ChainEvent::Claimed {
                epoch: ev.epoch.saturating_to(),
                prover: ev.bondProvider,
            }
        } else if *topic == Rollup::BondSlashed::SIGNATURE_HASH {
            let ev = Rollup::BondSlashed::decode_log_data(data)?;
            ChainEvent::Slashed {
                epoch: ev.epoch.saturating_to(),
                prover: ev.bondProvider,
                amount: ev.amount.saturating_to(),
            }
        } else if *topic == Rollup::L2BlockProvenInFallback::SIGNATURE_HASH {
            let ev = Rollup::L2BlockProvenInFallback::decode_log_data(data)?;
            let number: u64 = ev.blockNumber.saturating_to();
            // The block's own L2BlockProposed precedes this, in the same transaction.
            let slot = out
                .iter()
                .rev()
                .find_map(|e: &Timed| match &e.event {
                    ChainEvent::Proposed {
                        number: n, slot, ..
                    } if *n == number => Some(*slot),
                    _ => None,
                })
                .ok_or_else(|| eyre!("block {number} proven in fallback, never proposed"))?;
            ChainEvent::ProvenInFallback {
                number,
                epoch: slot / d.epoch_duration,
            }
        } else if *topic == Rollup::FallbackEntered::SIGNATURE_HASH {
            ChainEvent::FallbackEntered
        } else if *topic == Rollup::FallbackExited::SIGNATURE_HASH {
            ChainEvent::FallbackExited
        } else {
            continue;
        };
        out.push(Timed { t, event });
    }
    Ok(out)
}
