//! The L1 follower against a real anvil with Proofline deployed by `script/Deploy.s.sol`.
//!
//! Every test replays the follower's stream into a replica of the chain (adding and removing
//! blocks as told, refusing duplicates, gaps and removals of anything but the tip) and compares
//! it with the node: the same block hashes from the deployment to the head, and the same events
//! as a plain `eth_getLogs` over that range.

mod common;

use std::collections::BTreeMap;

use alloy::{
    eips::{
        eip4844::builder::{SidecarBuilder, SimpleCoder},
        BlockNumberOrTag,
    },
    primitives::{keccak256, Address, Bytes, B256, U256},
    providers::Provider,
    rpc::types::Filter,
};
use common::{anvil, Devnet};
use proofline_bindings::{DevToken, ForcedInclusionQueue, Rollup};
use proofline_l1::{
    txmgr::{TxCandidate, TxManager},
    Deployment, FollowerConfig, FollowerEvent, L1Block, L1Event, L1Follower, ProoflineEvent,
    WatchedContracts,
};
use serde_json::json;

/// The chain as the follower's stream describes it.
#[derive(Default)]
struct Replica {
    blocks: BTreeMap<u64, L1Block>,
    added: usize,
    removed: usize,
}

impl Replica {
    fn apply(&mut self, events: Vec<FollowerEvent>) -> &mut Self {
        for event in events {
            match event {
                FollowerEvent::Added(block) => {
                    if let Some((&last, tip)) = self.blocks.last_key_value() {
                        assert_eq!(
                            block.number,
                            last + 1,
                            "blocks are added in order, without gaps"
                        );
                        assert_eq!(
                            block.parent_hash, tip.hash,
                            "an added block extends the tip"
                        );
                    }
                    self.added += 1;
                    self.blocks.insert(block.number, block);
                }
                FollowerEvent::Removed(block) => {
                    let (_, tip) = self
                        .blocks
                        .pop_last()
                        .expect("a removal has a block to remove");
                    assert_eq!(tip, block, "only the tip is removed");
                    self.removed += 1;
                }
            }
        }
        self
    }

    fn events(&self) -> Vec<L1Event> {
        self.blocks
            .values()
            .flat_map(|b| b.events.clone())
            .collect()
    }

    /// The replica is the node's chain from `d.deploy_block` to the head, with its events.
    async fn assert_matches(&self, devnet: &Devnet, d: &Deployment) {
        let head = devnet.head().await;
        assert_eq!(
            self.blocks.keys().copied().collect::<Vec<_>>(),
            (d.deploy_block..=head).collect::<Vec<_>>()
        );
        for (&number, block) in &self.blocks {
            let canonical = devnet
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(block.hash, canonical.header.hash, "block {number}");
        }
        let contracts = WatchedContracts::from(d);
        let filter = Filter::new()
            .from_block(d.deploy_block)
            .to_block(head)
            .address(contracts.addresses());
        let truth: Vec<(B256, u64, ProoflineEvent)> = devnet
            .provider
            .get_logs(&filter)
            .await
            .unwrap()
            .iter()
            .filter_map(|log| {
                Some((
                    log.transaction_hash.unwrap(),
                    log.log_index.unwrap(),
                    contracts.decode(log)?,
                ))
            })
            .collect();
        let followed: Vec<_> = self
            .events()
            .into_iter()
            .map(|e| (e.tx_hash, e.log_index, e.event))
            .collect();
        assert_eq!(followed, truth);
    }
}

fn follower(devnet: &Devnet, d: &Deployment) -> L1Follower {
    let mut config = FollowerConfig::new(d.into(), d.deploy_block);
    config.window = 16;
    L1Follower::new(devnet.provider.clone(), config)
}

/// What the tests do on the rollup, each action its own transaction through a transaction
/// manager, mined in its own block.
struct Actors<'a> {
    devnet: &'a Devnet,
    d: &'a Deployment,
    /// Sends the blob transactions (a key of its own, as geth wants for blobs).
    proposer: TxManager,
    user: TxManager,
}

impl<'a> Actors<'a> {
    async fn new(devnet: &'a Devnet, d: &'a Deployment) -> Self {
        Self {
            devnet,
            d,
            proposer: devnet.tx_manager(1, 3).await,
            user: devnet.tx_manager(2, 3).await,
        }
    }

    /// A reorg rewound the chain under the managers: start them again from the node's nonces.
    async fn restart(self) -> Self {
        let (devnet, d) = (self.devnet, self.d);
        self.proposer.shutdown().await;
        self.user.shutdown().await;
        Self::new(devnet, d).await
    }

    fn slot_start(&self, slot: u64) -> u64 {
        self.d.genesis_time + slot * self.d.slot_duration
    }

    /// Proposes the next L2 block in `slot` (bootstrap: no validators, no attestations), its
    /// body in a blob, in an L1 block at the first second of the slot.
    async fn propose(&self, slot: u64, body: &str) -> B256 {
        let rollup = Rollup::new(self.d.rollup, &self.devnet.provider);
        let tip = rollup.getPendingBlockNumber().call().await.unwrap();
        let previous_archive = rollup.getBlock(tip).call().await.unwrap().archive;
        let sidecar = SidecarBuilder::<SimpleCoder>::from_slice(body.as_bytes())
            .build_4844()
            .unwrap();
        let args = Rollup::ProposeArgs {
            blockNumber: tip + U256::from(1),
            slot: U256::from(slot),
            previousArchive: previous_archive,
            archive: keccak256(format!("archive {body}")),
            stateRoot: keccak256(format!("state {body}")),
            blobHashes: sidecar.versioned_hashes().collect(),
            txCount: U256::from(1),
            forcedTxCount: U256::ZERO,
            forcedTxsHash: B256::ZERO,
        };
        let attestations = Rollup::CommitteeAttestations {
            signers: U256::ZERO,
            signatures: vec![],
        };
        self.devnet.set_next_timestamp(self.slot_start(slot)).await;
        let call = Rollup::proposeCall { args, attestations };
        let outcome = self
            .devnet
            .land(
                &self.proposer,
                "propose",
                TxCandidate::call(self.d.rollup, &call).with_sidecar(sidecar),
            )
            .await;
        outcome.tx_hash
    }

    /// Stakes a validator for the key `attester`, paid by the user with the attester's signed
    /// consent (minting and approving the stake first).
    async fn stake(&self, attester: &alloy::signers::local::PrivateKeySigner) -> B256 {
        let me = self.user.address();
        let (token, rollup) = (self.d.staking_asset, self.d.rollup);
        let amount = self.d.min_stake;
        self.devnet
            .land(
                &self.user,
                "mint",
                TxCandidate::call(token, &DevToken::mintCall { to: me, amount }),
            )
            .await;
        let approve = DevToken::approveCall {
            spender: rollup,
            value: amount,
        };
        self.devnet
            .land(&self.user, "approve", TxCandidate::call(token, &approve))
            .await;
        let deadline = U256::from(u64::MAX);
        let digest = Rollup::new(rollup, &self.devnet.provider)
            .stakeConsentDigest(attester.address(), me, deadline)
            .call()
            .await
            .unwrap();
        let sig = alloy::signers::SignerSync::sign_hash_sync(attester, &digest).unwrap();
        let stake = Rollup::stakeWithConsentCall {
            attester: attester.address(),
            withdrawer: me,
            deadline,
            consent: Rollup::Signature {
                v: 27 + u8::from(sig.v()),
                r: sig.r().into(),
                s: sig.s().into(),
            },
        };
        self.devnet
            .land(&self.user, "stake", TxCandidate::call(rollup, &stake))
            .await
            .tx_hash
    }

    /// Forces an L2 transaction through the queue.
    async fn force(&self, tx: &[u8]) -> B256 {
        let queue = ForcedInclusionQueue::new(self.d.forced_inclusion_queue, &self.devnet.provider);
        let fee = queue.enqueueFee(U256::from(tx.len())).call().await.unwrap();
        let enqueue = ForcedInclusionQueue::enqueueCall {
            txData: Bytes::copy_from_slice(tx),
            proof: keccak256(tx).into(),
        };
        // Twice the fee: the base fee of the block that includes it may be higher.
        let candidate = TxCandidate::call(self.d.forced_inclusion_queue, &enqueue)
            .with_value(fee * U256::from(2));
        self.devnet
            .land(&self.user, "force", candidate)
            .await
            .tx_hash
    }

    /// Prunes the pending chain, in an L1 block at the start of `slot`.
    async fn prune(&self, slot: u64) -> B256 {
        self.devnet.set_next_timestamp(self.slot_start(slot)).await;
        self.devnet
            .land(
                &self.user,
                "prune",
                TxCandidate::call(self.d.rollup, &Rollup::pruneCall {}),
            )
            .await
            .tx_hash
    }
}

fn rollup_events(events: &[FollowerEvent]) -> Vec<Rollup::RollupEvents> {
    events
        .iter()
        .filter_map(|e| match e {
            FollowerEvent::Added(b) => Some(b),
            FollowerEvent::Removed(_) => None,
        })
        .flat_map(|b| b.events.iter().filter_map(|e| e.rollup().cloned()))
        .collect()
}

#[tokio::test]
async fn reports_the_rollups_events_in_chain_order() {
    let Some(devnet) = anvil("reports_the_rollups_events_in_chain_order") else {
        return;
    };
    let d = devnet.deploy().await;
    let mut follower = follower(&devnet, &d);
    let mut replica = Replica::default();
    replica.apply(follower.poll().await.unwrap());
    replica.assert_matches(&devnet, &d).await;

    let actors = Actors::new(&devnet, &d).await;
    let first = actors.propose(1, "block one").await;
    let second = actors.propose(2, "block two").await;
    let attester_key =
        alloy::signers::local::PrivateKeySigner::from_bytes(&B256::repeat_byte(0xa7)).unwrap();
    let attester = attester_key.address();
    let staked = actors.stake(&attester_key).await;
    let forced = actors.force(b"forced l2 tx").await;
    // Epoch 0 (slots 0-7) is unclaimed once epoch 1's claim window (slots 8-11) has passed.
    let pruned = actors.prune(2 * d.epoch_duration - 1).await;

    let events = follower.poll().await.unwrap();
    assert!(events.iter().all(|e| matches!(e, FollowerEvent::Added(_))));
    replica
        .apply(events.clone())
        .assert_matches(&devnet, &d)
        .await;

    let proposed: Vec<_> = rollup_events(&events)
        .into_iter()
        .filter_map(|e| match e {
            Rollup::RollupEvents::L2BlockProposed(p) => Some((p.blockNumber, p.slot)),
            _ => None,
        })
        .collect();
    assert_eq!(
        proposed,
        [
            (U256::from(1), U256::from(1)),
            (U256::from(2), U256::from(2))
        ]
    );

    // The events of interest, in order, each in the transaction that caused it.
    let of_interest: Vec<(B256, String)> = events
        .iter()
        .flat_map(|e| e.block().events.clone())
        .filter_map(|e| {
            let name = match &e.event {
                ProoflineEvent::Rollup(Rollup::RollupEvents::L2BlockProposed(_)) => {
                    "L2BlockProposed"
                }
                ProoflineEvent::Rollup(Rollup::RollupEvents::ValidatorStaked(s)) => {
                    assert_eq!(s.attester, attester);
                    "ValidatorStaked"
                }
                ProoflineEvent::Queue(
                    ForcedInclusionQueue::ForcedInclusionQueueEvents::ForcedTxQueued(q),
                ) => {
                    assert_eq!(q.txData.as_ref(), b"forced l2 tx");
                    "ForcedTxQueued"
                }
                ProoflineEvent::Rollup(Rollup::RollupEvents::PrunedPending(p)) => {
                    assert_eq!(
                        (p.provenBlockNumber, p.pendingBlockNumber),
                        (U256::ZERO, U256::from(2))
                    );
                    "PrunedPending"
                }
                _ => return None,
            };
            Some((e.tx_hash, name.to_owned()))
        })
        .collect();
    let expected = [
        (first, "L2BlockProposed"),
        (second, "L2BlockProposed"),
        (staked, "ValidatorStaked"),
        (forced, "ForcedTxQueued"),
        (pruned, "PrunedPending"),
    ];
    assert_eq!(of_interest, expected.map(|(h, n)| (h, n.to_owned())));

    // Nothing new: nothing reported.
    assert_eq!(follower.poll().await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_reorg_of_the_last_two_blocks_is_reported_as_removals_then_additions() {
    let Some(devnet) =
        anvil("a_reorg_of_the_last_two_blocks_is_reported_as_removals_then_additions")
    else {
        return;
    };
    let d = devnet.deploy().await;
    let mut follower = follower(&devnet, &d);
    let mut replica = Replica::default();
    let actors = Actors::new(&devnet, &d).await;
    actors.propose(1, "block one").await;
    let attester =
        alloy::signers::local::PrivateKeySigner::from_bytes(&B256::repeat_byte(0xa7)).unwrap();
    actors.stake(&attester).await;
    replica
        .apply(follower.poll().await.unwrap())
        .assert_matches(&devnet, &d)
        .await;

    // The last two blocks (approve, stake) are replaced by two others at the same heights.
    let head = devnet.head().await;
    let stake_block = replica.blocks[&head].clone();
    assert!(stake_block
        .events
        .iter()
        .any(|e| matches!(e.rollup(), Some(Rollup::RollupEvents::ValidatorStaked(_)))));
    devnet.rpc("anvil_reorg", json!([2, []])).await;
    assert_eq!(devnet.head().await, head);

    let events = follower.poll().await.unwrap();
    let shape: Vec<(bool, u64)> = events
        .iter()
        .map(|e| (matches!(e, FollowerEvent::Added(_)), e.block().number))
        .collect();
    assert_eq!(
        shape,
        [
            (false, head),
            (false, head - 1),
            (true, head - 1),
            (true, head)
        ]
    );
    assert_eq!(
        events[0],
        FollowerEvent::Removed(stake_block),
        "the removal carries the events to undo"
    );
    replica.apply(events).assert_matches(&devnet, &d).await;
    assert!(!replica
        .events()
        .iter()
        .any(|e| matches!(e.rollup(), Some(Rollup::RollupEvents::ValidatorStaked(_)))));

    // The chain goes on from the new blocks.
    let actors = actors.restart().await;
    actors.stake(&attester).await;
    replica
        .apply(follower.poll().await.unwrap())
        .assert_matches(&devnet, &d)
        .await;
    assert_eq!(replica.removed, 2);
}

#[tokio::test]
async fn a_revert_to_a_shorter_chain_then_a_longer_one_loses_and_duplicates_nothing() {
    let Some(devnet) =
        anvil("a_revert_to_a_shorter_chain_then_a_longer_one_loses_and_duplicates_nothing")
    else {
        return;
    };
    let d = devnet.deploy().await;
    let mut follower = follower(&devnet, &d);
    let mut replica = Replica::default();
    replica.apply(follower.poll().await.unwrap());
    let fork_point = devnet.head().await;
    let snapshot = devnet.rpc("evm_snapshot", json!([])).await;

    let actors = Actors::new(&devnet, &d).await;
    actors.propose(1, "doomed block").await;
    actors.force(b"doomed forced tx").await;
    replica
        .apply(follower.poll().await.unwrap())
        .assert_matches(&devnet, &d)
        .await;
    let doomed = replica.blocks.len();

    // Back to the fork point: the chain is shorter than what the follower reported.
    assert_eq!(
        devnet.rpc("evm_revert", json!([snapshot])).await,
        json!(true)
    );
    assert_eq!(devnet.head().await, fork_point);
    let events = follower.poll().await.unwrap();
    assert!(events
        .iter()
        .all(|e| matches!(e, FollowerEvent::Removed(_))));
    assert_eq!(
        events.len(),
        doomed - replica.blocks.range(..=fork_point).count()
    );
    replica.apply(events).assert_matches(&devnet, &d).await;

    // Another history grows past the old head.
    let actors = actors.restart().await;
    let proposed = actors.propose(2, "surviving block").await;
    devnet.mine(3).await;
    let events = follower.poll().await.unwrap();
    assert!(events.iter().all(|e| matches!(e, FollowerEvent::Added(_))));
    replica.apply(events).assert_matches(&devnet, &d).await;
    // The deployment proposes L2 block 0 (genesis); block 1 is the surviving one only.
    let proposals: Vec<_> = replica
        .events()
        .into_iter()
        .filter(|e| matches!(e.rollup(), Some(Rollup::RollupEvents::L2BlockProposed(p)) if p.blockNumber > U256::ZERO))
        .map(|e| e.tx_hash)
        .collect();
    assert_eq!(proposals, [proposed]);
}

#[tokio::test]
async fn a_reorg_deeper_than_the_window_is_an_error() {
    let Some(devnet) = anvil("a_reorg_deeper_than_the_window_is_an_error") else {
        return;
    };
    let contracts = WatchedContracts {
        rollup: Address::ZERO,
        queue: None,
        escrow: None,
    };
    let mut config = FollowerConfig::new(contracts, 0);
    config.window = 3;
    let mut follower = L1Follower::new(devnet.provider.clone(), config);
    devnet.mine(5).await;
    let snapshot = devnet.rpc("evm_snapshot", json!([])).await;
    devnet.mine(5).await;
    assert_eq!(follower.poll().await.unwrap().len(), 11);
    devnet.rpc("evm_revert", json!([snapshot])).await;
    devnet.mine(6).await;
    let err = follower.poll().await.unwrap_err();
    assert!(
        matches!(
            err,
            proofline_l1::FollowerError::ReorgBeyondWindow { window: 3, .. }
        ),
        "{err}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn the_spawned_follower_streams_blocks_as_they_are_mined() {
    let Some(devnet) = anvil("the_spawned_follower_streams_blocks_as_they_are_mined") else {
        return;
    };
    let contracts = WatchedContracts {
        rollup: Address::ZERO,
        queue: None,
        escrow: None,
    };
    let mut config = FollowerConfig::new(contracts, 0);
    config.poll_interval = std::time::Duration::from_millis(10);
    let (mut stream, task) = L1Follower::new(devnet.provider.clone(), config).spawn(16);
    devnet.mine(3).await;
    let mut numbers = vec![];
    while numbers.len() < 4 {
        match stream.recv().await.unwrap().unwrap() {
            FollowerEvent::Added(b) => numbers.push(b.number),
            FollowerEvent::Removed(b) => panic!("unexpected removal of {}", b.number),
        }
    }
    assert_eq!(numbers, [0, 1, 2, 3]);
    drop(stream);
    devnet.mine(1).await;
    task.await.unwrap();
}
