//! What a scenario run observed, and the report computed from it: pure functions over the
//! Rollup's events (in canonical L1 order), the txs the runner sent, and what the nodes' pools
//! held at the end. Nothing here talks to a process, so every number and every invariant the
//! report states is unit-tested on hand-built timelines.

use std::collections::{BTreeMap, HashMap, HashSet};

use alloy::primitives::{Address, B256};

/// One of the Rollup's events, reduced to what the report needs.
#[derive(Clone, Debug, PartialEq)]
pub enum ChainEvent {
    /// `L2BlockProposed`, with the hashes of the txs its blobs carry.
    Proposed {
        number: u64,
        slot: u64,
        txs: Vec<B256>,
    },
    /// `PrunedPending`: the pending chain went back to `proven`.
    Pruned {
        proven: u64,
        pending: u64,
    },
    /// `L2ProofVerified`: the proven tip moved to `end`.
    Proven {
        epoch: u64,
        end: u64,
    },
    /// `ProofRightClaimed`.
    Claimed {
        epoch: u64,
        prover: Address,
    },
    /// `BondSlashed`.
    Slashed {
        epoch: u64,
        prover: Address,
        amount: u128,
    },
    /// `L2BlockProvenInFallback`: block `number` (of `epoch`, by its slot) came with its proof in
    /// based fallback; the proven tip moved to it.
    ProvenInFallback {
        number: u64,
        epoch: u64,
    },
    FallbackEntered,
    FallbackExited,
}

/// An event at `t` seconds after the run started (its L1 block's timestamp).
#[derive(Clone, Debug, PartialEq)]
pub struct Timed {
    pub t: f64,
    pub event: ChainEvent,
}

/// A tx the runner sent and a node accepted, at `t`.
#[derive(Clone, Debug, PartialEq)]
pub struct SentTx {
    pub hash: B256,
    pub t: f64,
}

/// A fault the runner injected (or undid), at `t`, during `epoch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub t: f64,
    pub epoch: u64,
    pub label: String,
    /// Whether this marks a fault starting (recovery is measured from the first such one), as
    /// opposed to one being undone.
    pub starts: bool,
}

/// Everything a run observed.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// Canonical events in L1 order.
    pub events: Vec<Timed>,
    pub sent: Vec<SentTx>,
    /// Txs some node's pool held when the run ended.
    pub in_pool: HashSet<B256>,
    pub faults: Vec<Fault>,
    /// When the load stopped; txs sent before it must all be proven by the end.
    pub load_stopped: f64,
    /// When the run ended.
    pub end: f64,
    pub slots_per_epoch: u64,
}

/// What the scenario must show, besides the invariants every run must keep.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub min_slashes: usize,
    pub max_slashes: Option<usize>,
    pub min_pruned_blocks: usize,
    pub max_pruned_blocks: Option<usize>,
    /// A fault was injected: some epoch at or after it must be proven after it.
    pub recovers: bool,
    /// Txs that must be in a kept block proposed by `t` (e.g. a forced tx while the committee
    /// censors): `(what, tx, t)`.
    pub included_by: Vec<(String, B256, f64)>,
    /// Checks the runner made against L1 itself (e.g. that a proof landed under the spiked base
    /// fee), reported with the others.
    pub runner_checks: Vec<Check>,
    /// Slots `from..until` in which no sent tx may be included but these (the censorship
    /// scenario: shows the censoring fault really held the pool's txs back).
    pub censored: Option<(u64, u64, Vec<B256>)>,
    /// Based fallback must begin, carry blocks proposed with their proof, and end.
    pub fallback: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
}

/// Nearest-rank percentile (`q` in 0..=1) of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty());
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn stats(values: &[f64]) -> Option<Stats> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(Stats {
        count: v.len(),
        median: percentile(&v, 0.5),
        p95: percentile(&v, 0.95),
        max: v[v.len() - 1],
    })
}

/// One `L2BlockProposed`: a block number can be proposed several times (after a prune), and
/// each proposal is its own instance.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockInstance {
    pub number: u64,
    pub slot: u64,
    pub proposed: f64,
    pub proven: Option<f64>,
    pub pruned: Option<f64>,
    pub txs: Vec<B256>,
}

/// Replays the events: which proposals were proven (and when), which were pruned.
pub fn replay(events: &[Timed]) -> Vec<BlockInstance> {
    let mut blocks: Vec<BlockInstance> = Vec::new();
    let mut live: BTreeMap<u64, usize> = BTreeMap::new();
    for ev in events {
        match &ev.event {
            ChainEvent::Proposed { number, slot, txs } => {
                for (_, i) in live.split_off(number) {
                    blocks[i].pruned.get_or_insert(ev.t);
                }
                live.insert(*number, blocks.len());
                blocks.push(BlockInstance {
                    number: *number,
                    slot: *slot,
                    proposed: ev.t,
                    proven: None,
                    pruned: None,
                    txs: txs.clone(),
                });
            }
            ChainEvent::Pruned { proven, .. } => {
                for (_, i) in live.split_off(&(proven + 1)) {
                    blocks[i].pruned = Some(ev.t);
                }
            }
            ChainEvent::Proven { end, .. } | ChainEvent::ProvenInFallback { number: end, .. } => {
                for (_, i) in live.range(..=end) {
                    blocks[*i].proven.get_or_insert(ev.t);
                }
            }
            _ => {}
        }
    }
    blocks
}

/// The pending and proven tips over time: `(t, pending, proven)` after each event that moved
/// either, starting at `(0, 0, 0)`.
pub fn tips(events: &[Timed]) -> Vec<(f64, u64, u64)> {
    let (mut pending, mut proven) = (0, 0);
    let mut out = vec![(0.0, 0, 0)];
    for ev in events {
        match &ev.event {
            ChainEvent::Proposed { number, .. } => pending = *number,
            ChainEvent::Pruned { proven: p, .. } => pending = *p,
            ChainEvent::Proven { end, .. } | ChainEvent::ProvenInFallback { number: end, .. } => {
                proven = proven.max(*end)
            }
            _ => continue,
        }
        out.push((ev.t, pending, proven));
    }
    out
}

/// Where each sent tx ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxAccounting {
    pub sent: usize,
    pub proven: usize,
    /// In a pending block that was neither proven nor pruned when the run ended.
    pub in_pending_block: usize,
    /// In no live block, but back in (or still in) a node's pool.
    pub in_pool: usize,
    /// Txs that were in at least one pruned block.
    pub pruned: usize,
    /// Of those, the ones re-included (proven or pending) or back in a pool.
    pub pruned_recovered: usize,
    /// In no proven or pending block and in no pool.
    pub lost: Vec<B256>,
    /// In two blocks that were both kept (proven or pending).
    pub double_included: Vec<B256>,
    /// Sent before the load stopped and not proven by the end.
    pub unproven_before_stop: Vec<B256>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Tx sent to its block proven, in seconds.
    pub finality: Option<Stats>,
    pub blocks_proposed: usize,
    pub blocks_proven: usize,
    pub blocks_pruned: usize,
    /// Blocks proposed with their proof in based fallback.
    pub blocks_proven_in_fallback: usize,
    /// Epochs (by the slots of the pruned blocks) that lost blocks to a prune.
    pub epochs_pruned: Vec<u64>,
    pub epochs_proven: Vec<u64>,
    pub claims: usize,
    pub prunes: usize,
    pub slashes: Vec<(u64, Address, u128)>,
    /// First fault to the first proof of an epoch at or after the fault's epoch.
    pub recovery: Option<f64>,
    pub txs: TxAccounting,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

fn check(name: &str, passed: bool, detail: String) -> Check {
    Check {
        name: name.into(),
        passed,
        detail,
    }
}

fn short(hashes: &[B256]) -> String {
    let shown: Vec<String> = hashes.iter().take(3).map(|h| format!("{h:.8}")).collect();
    let more = hashes.len().saturating_sub(3);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

pub fn account_txs(obs: &Observation, blocks: &[BlockInstance]) -> TxAccounting {
    let mut where_: HashMap<B256, Vec<&BlockInstance>> = HashMap::new();
    for b in blocks {
        for tx in &b.txs {
            where_.entry(*tx).or_default().push(b);
        }
    }
    let mut acc = TxAccounting {
        sent: obs.sent.len(),
        ..TxAccounting::default()
    };
    for s in &obs.sent {
        let found = where_.get(&s.hash).map(Vec::as_slice).unwrap_or_default();
        let kept: Vec<_> = found.iter().filter(|b| b.pruned.is_none()).collect();
        let proven = kept.iter().any(|b| b.proven.is_some());
        let in_pool = obs.in_pool.contains(&s.hash);
        let recovered = if proven {
            acc.proven += 1;
            true
        } else if !kept.is_empty() {
            acc.in_pending_block += 1;
            true
        } else if in_pool {
            acc.in_pool += 1;
            true
        } else {
            acc.lost.push(s.hash);
            false
        };
        if kept.len() > 1 {
            acc.double_included.push(s.hash);
        }
        if found.iter().any(|b| b.pruned.is_some()) {
            acc.pruned += 1;
            if recovered {
                acc.pruned_recovered += 1;
            }
        }
        if s.t < obs.load_stopped && !proven {
            acc.unproven_before_stop.push(s.hash);
        }
    }
    acc
}

/// The finality of each proven tx: its block's proof time minus its send time.
pub fn finality_times(obs: &Observation, blocks: &[BlockInstance]) -> Vec<f64> {
    let proven_at: HashMap<B256, f64> = blocks
        .iter()
        .filter(|b| b.pruned.is_none())
        .filter_map(|b| b.proven.map(|t| (b, t)))
        .flat_map(|(b, t)| b.txs.iter().map(move |h| (*h, t)))
        .collect();
    obs.sent
        .iter()
        .filter_map(|s| proven_at.get(&s.hash).map(|t| t - s.t))
        .collect()
}

/// For each fault that starts (not one being undone): seconds from it to the first proof of an
/// epoch at or after the fault's epoch (an epoch proof, or a block of such an epoch proven in
/// based fallback), `None` if no such proof came.
pub fn recoveries(obs: &Observation) -> Vec<(String, Option<f64>)> {
    obs.faults
        .iter()
        .filter(|f| f.starts)
        .map(|fault| {
            let first = obs.events.iter().find_map(|ev| match ev.event {
                ChainEvent::Proven { epoch, .. } | ChainEvent::ProvenInFallback { epoch, .. }
                    if ev.t >= fault.t && epoch >= fault.epoch =>
                {
                    Some(ev.t - fault.t)
                }
                _ => None,
            });
            (fault.label.clone(), first)
        })
        .collect()
}

/// The longest recovery over the faults; `None` without faults or when one never recovered.
pub fn recovery(obs: &Observation) -> Option<f64> {
    let all = recoveries(obs);
    if all.is_empty() {
        return None;
    }
    all.iter()
        .map(|(_, r)| *r)
        .try_fold(0.0f64, |m, r| r.map(|r| m.max(r)))
}

pub fn analyze(obs: &Observation, expect: &Expect) -> Report {
    let blocks = replay(&obs.events);
    let txs = account_txs(obs, &blocks);
    let finality = stats(&finality_times(obs, &blocks));
    let mut epochs_proven = Vec::new();
    let mut claims = 0;
    let mut prunes = 0;
    let mut slashes = Vec::new();
    let mut blocks_proven_in_fallback = 0;
    for ev in &obs.events {
        match &ev.event {
            ChainEvent::Proven { epoch, .. } => epochs_proven.push(*epoch),
            ChainEvent::ProvenInFallback { .. } => blocks_proven_in_fallback += 1,
            ChainEvent::Claimed { .. } => claims += 1,
            ChainEvent::Pruned { .. } => prunes += 1,
            ChainEvent::Slashed {
                epoch,
                prover,
                amount,
            } => slashes.push((*epoch, *prover, *amount)),
            _ => {}
        }
    }
    let pruned: Vec<&BlockInstance> = blocks.iter().filter(|b| b.pruned.is_some()).collect();
    let mut epochs_pruned: Vec<u64> = pruned
        .iter()
        .map(|b| b.slot / obs.slots_per_epoch.max(1))
        .collect();
    epochs_pruned.sort_unstable();
    epochs_pruned.dedup();
    let recovery = recovery(obs);

    let mut checks = vec![
        check(
            "no tx lost",
            txs.lost.is_empty(),
            if txs.lost.is_empty() {
                format!(
                    "all {} sent txs are proven, in a pending block or in a pool",
                    txs.sent
                )
            } else {
                format!(
                    "{} txs in no kept block and in no pool: {}",
                    txs.lost.len(),
                    short(&txs.lost)
                )
            },
        ),
        check(
            "every pruned tx re-included or back in a pool",
            txs.pruned == txs.pruned_recovered,
            format!(
                "{} of {} txs from pruned blocks",
                txs.pruned_recovered, txs.pruned
            ),
        ),
        check(
            "no tx in two kept blocks",
            txs.double_included.is_empty(),
            if txs.double_included.is_empty() {
                "none".into()
            } else {
                short(&txs.double_included)
            },
        ),
        check(
            "every tx sent before the load stopped is proven by the end",
            txs.unproven_before_stop.is_empty(),
            if txs.unproven_before_stop.is_empty() {
                format!("{} proven", txs.proven)
            } else {
                format!(
                    "{} not proven: {}",
                    txs.unproven_before_stop.len(),
                    short(&txs.unproven_before_stop)
                )
            },
        ),
        check(
            "tips consistent: each block builds on the pending tip, prunes go to the proven tip, proofs move forward within the pending chain",
            tips_consistent(&obs.events),
            "replayed from the events".into(),
        ),
    ];
    let slashed = slashes.len();
    let max_s = expect
        .max_slashes
        .map_or(String::new(), |m| format!(" and <= {m}"));
    checks.push(check(
        "bonds slashed as the scenario expects",
        slashed >= expect.min_slashes && expect.max_slashes.is_none_or(|m| slashed <= m),
        format!(
            "{slashed} slashed, expected >= {}{max_s}",
            expect.min_slashes
        ),
    ));
    let max_p = expect
        .max_pruned_blocks
        .map_or(String::new(), |m| format!(" and <= {m}"));
    checks.push(check(
        "blocks pruned as the scenario expects",
        pruned.len() >= expect.min_pruned_blocks
            && expect.max_pruned_blocks.is_none_or(|m| pruned.len() <= m),
        format!(
            "{} pruned, expected >= {}{max_p}",
            pruned.len(),
            expect.min_pruned_blocks
        ),
    ));
    for (what, tx, by) in &expect.included_by {
        let block = blocks
            .iter()
            .find(|b| b.pruned.is_none() && b.txs.contains(tx));
        checks.push(check(
            &format!("{what} included by {by:.0} s"),
            block.is_some_and(|b| b.proposed <= *by),
            block.map_or("in no kept block".into(), |b| {
                format!("in block {} at {:.0} s", b.number, b.proposed)
            }),
        ));
    }
    if let Some((from, until, allowed)) = &expect.censored {
        let sent: HashSet<B256> = obs.sent.iter().map(|s| s.hash).collect();
        let leaked: Vec<B256> = blocks
            .iter()
            .filter(|b| (*from..*until).contains(&b.slot))
            .flat_map(|b| b.txs.iter().copied())
            .filter(|h| sent.contains(h) && !allowed.contains(h))
            .collect();
        let censored_blocks = blocks
            .iter()
            .filter(|b| (*from..*until).contains(&b.slot))
            .count();
        checks.push(check(
            "the censoring blocks carried no pool tx",
            leaked.is_empty() && censored_blocks > 0,
            format!(
                "{censored_blocks} blocks in slots {from}..{until}, {} pool txs in them",
                leaked.len()
            ),
        ));
    }
    if expect.fallback {
        let count =
            |want: fn(&ChainEvent) -> bool| obs.events.iter().filter(|e| want(&e.event)).count();
        let entered = count(|e| matches!(e, ChainEvent::FallbackEntered));
        let exited = count(|e| matches!(e, ChainEvent::FallbackExited));
        checks.push(check(
            "based fallback began, blocks came with their proofs, and it ended",
            entered > 0 && blocks_proven_in_fallback > 0 && exited > 0,
            format!(
                "{entered} fallback period(s) entered, {blocks_proven_in_fallback} blocks \
                 proposed with proof, {exited} exited"
            ),
        ));
    }
    checks.extend(expect.runner_checks.iter().cloned());
    if expect.recovers {
        let all = recoveries(obs);
        checks.push(check(
            "after each fault, an epoch at or after it is proven",
            !all.is_empty() && all.iter().all(|(_, r)| r.is_some()),
            all.iter()
                .map(|(l, r)| format!("{l}: {}", r.map_or("never".into(), |r| format!("{r:.0} s"))))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    Report {
        finality,
        blocks_proposed: blocks.len(),
        blocks_proven: blocks.iter().filter(|b| b.proven.is_some()).count(),
        blocks_pruned: pruned.len(),
        blocks_proven_in_fallback,
        epochs_pruned,
        epochs_proven,
        claims,
        prunes,
        slashes,
        recovery,
        txs,
        checks,
    }
}

/// The proven tip only moves forward and never passes the pending tip; a block proven in based
/// fallback is the pending tip and comes right after the proven one.
pub fn tips_consistent(events: &[Timed]) -> bool {
    let (mut pending, mut proven) = (0u64, 0u64);
    for ev in events {
        match &ev.event {
            ChainEvent::Proposed { number, .. } => {
                if *number != pending + 1 {
                    return false;
                }
                pending = *number;
            }
            ChainEvent::Pruned { proven: p, .. } => {
                if *p != proven {
                    return false;
                }
                pending = *p;
            }
            ChainEvent::Proven { end, .. } => {
                if *end <= proven || *end > pending {
                    return false;
                }
                proven = *end;
            }
            ChainEvent::ProvenInFallback { number, .. } => {
                if *number != pending || *number != proven + 1 {
                    return false;
                }
                proven = *number;
            }
            _ => {}
        }
        if proven > pending {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(n: u64) -> B256 {
        B256::from(alloy::primitives::U256::from(n))
    }

    fn at(t: f64, event: ChainEvent) -> Timed {
        Timed { t, event }
    }

    fn proposed(number: u64, slot: u64, txs: &[u64]) -> ChainEvent {
        ChainEvent::Proposed {
            number,
            slot,
            txs: txs.iter().map(|n| h(*n)).collect(),
        }
    }

    fn sent(n: u64, t: f64) -> SentTx {
        SentTx { hash: h(n), t }
    }

    fn obs(events: Vec<Timed>, sent: Vec<SentTx>) -> Observation {
        Observation {
            events,
            sent,
            load_stopped: 1_000.0,
            end: 1_000.0,
            slots_per_epoch: 4,
            ..Observation::default()
        }
    }

    /// Blocks 1-2 (epoch 0) proven; block 3 (epoch 1) claimed but withheld, slashed and pruned;
    /// its tx 3 goes back to the pool and lands in block 3 again, which is proven.
    fn withheld() -> Observation {
        let mut o = obs(
            vec![
                at(10.0, proposed(1, 1, &[1])),
                at(12.0, proposed(2, 2, &[2])),
                at(20.0, ChainEvent::Proven { epoch: 0, end: 2 }),
                at(22.0, proposed(3, 5, &[3])),
                at(
                    30.0,
                    ChainEvent::Claimed {
                        epoch: 1,
                        prover: Address::ZERO,
                    },
                ),
                at(
                    40.0,
                    ChainEvent::Slashed {
                        epoch: 1,
                        prover: Address::ZERO,
                        amount: 5,
                    },
                ),
                at(
                    40.0,
                    ChainEvent::Pruned {
                        proven: 2,
                        pending: 3,
                    },
                ),
                at(44.0, proposed(3, 11, &[3, 4])),
                at(60.0, ChainEvent::Proven { epoch: 2, end: 3 }),
            ],
            vec![sent(1, 5.0), sent(2, 6.0), sent(3, 21.0), sent(4, 41.0)],
        );
        o.faults.push(Fault {
            t: 25.0,
            epoch: 1,
            label: "withhold".into(),
            starts: true,
        });
        o
    }

    /// The committee's blocks 1-2 (epoch 0, txs 1-2) are never proven; fallback begins and a
    /// based proposer's block 1 (slot 9, epoch 2) drops them, takes txs 1 and 2 again and is
    /// proven on arrival; fallback ends and the committee's block 2 (tx 3) is proven by an
    /// epoch proof.
    fn fallback_timeline(exit: bool) -> Observation {
        let mut events = vec![
            at(4.0, proposed(1, 1, &[1])),
            at(8.0, proposed(2, 2, &[2])),
            at(36.0, ChainEvent::FallbackEntered),
            at(
                37.0,
                ChainEvent::Pruned {
                    proven: 0,
                    pending: 2,
                },
            ),
            at(37.0, proposed(1, 9, &[1, 2])),
            at(
                37.0,
                ChainEvent::ProvenInFallback {
                    number: 1,
                    epoch: 2,
                },
            ),
        ];
        if exit {
            events.push(at(60.0, ChainEvent::FallbackExited));
        }
        events.push(at(61.0, proposed(2, 15, &[3])));
        events.push(at(80.0, ChainEvent::Proven { epoch: 3, end: 2 }));
        let mut o = obs(events, vec![sent(1, 1.0), sent(2, 5.0), sent(3, 50.0)]);
        o.faults.push(Fault {
            t: 20.0,
            epoch: 1,
            label: "committee stops".into(),
            starts: true,
        });
        o
    }

    #[test]
    fn a_block_proven_in_fallback_counts_as_proven() {
        let o = fallback_timeline(true);
        let blocks = replay(&o.events);
        assert_eq!(blocks.len(), 4);
        assert!(blocks[0].pruned.is_some() && blocks[1].pruned.is_some());
        assert_eq!(blocks[2].proven, Some(37.0), "proven on arrival");
        assert_eq!(tips(&o.events).last(), Some(&(80.0, 2, 2)));
        assert!(tips_consistent(&o.events));
        let r = analyze(
            &o,
            &Expect {
                min_pruned_blocks: 2,
                recovers: true,
                fallback: true,
                ..Expect::default()
            },
        );
        assert!(r.passed(), "{:#?}", r.checks);
        assert_eq!(r.blocks_proven_in_fallback, 1);
        // The first proof after the fault is the fallback block's (epoch 2 >= 1), at 37 s.
        assert_eq!(r.recovery, Some(17.0));
        assert_eq!(r.txs.pruned, 2);
        assert_eq!(r.txs.pruned_recovered, 2);
        assert_eq!(finality_times(&o, &blocks), vec![36.0, 32.0, 30.0]);
    }

    #[test]
    fn fallback_that_never_ends_or_a_misplaced_fallback_proof_fails() {
        let r = analyze(
            &fallback_timeline(false),
            &Expect {
                fallback: true,
                ..Expect::default()
            },
        );
        assert!(!r.passed());
        let failed: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            failed,
            ["based fallback began, blocks came with their proofs, and it ended"]
        );
        // A fallback proof must be of the pending tip, right after the proven one.
        let mut o = fallback_timeline(true);
        o.events[5].event = ChainEvent::ProvenInFallback {
            number: 2,
            epoch: 2,
        };
        assert!(!tips_consistent(&o.events));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 10.0);
        assert_eq!(percentile(&v, 0.95), 19.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(stats(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert!(stats(&[]).is_none());
    }

    #[test]
    fn a_withheld_proof_is_slashed_pruned_and_recovered() {
        let o = withheld();
        let r = analyze(
            &o,
            &Expect {
                min_slashes: 1,
                min_pruned_blocks: 1,
                recovers: true,
                ..Expect::default()
            },
        );
        assert!(r.passed(), "{:#?}", r.checks);
        assert_eq!(r.blocks_proposed, 4);
        assert_eq!(r.blocks_pruned, 1);
        assert_eq!(r.epochs_pruned, vec![1]);
        assert_eq!(r.epochs_proven, vec![0, 2]);
        assert_eq!(r.slashes.len(), 1);
        assert_eq!(r.recovery, Some(35.0));
        assert_eq!(r.txs.proven, 4);
        assert_eq!((r.txs.pruned, r.txs.pruned_recovered), (1, 1));
        // 15, 14, 39, 19
        let f = r.finality.unwrap();
        assert_eq!((f.median, f.p95, f.max), (15.0, 39.0, 39.0));
    }

    #[test]
    fn a_pruned_tx_nowhere_is_lost_and_fails_the_report() {
        let mut o = withheld();
        o.events.truncate(7);
        let r = analyze(&o, &Expect::default());
        // Tx 4 was sent but never proposed, and no pool holds it either.
        assert_eq!(r.txs.lost, vec![h(3), h(4)]);
        assert_eq!((r.txs.pruned, r.txs.pruned_recovered), (1, 0));
        let failed: Vec<_> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| &c.name)
            .collect();
        assert!(failed.contains(&&"no tx lost".to_string()));
        assert!(failed.contains(&&"every pruned tx re-included or back in a pool".to_string()));
        // Back in a pool: not lost, but not proven either.
        o.in_pool.insert(h(3));
        o.in_pool.insert(h(4));
        let r = analyze(&o, &Expect::default());
        assert!(r.txs.lost.is_empty());
        assert_eq!(r.txs.in_pool, 2);
        assert_eq!(r.txs.unproven_before_stop, vec![h(3), h(4)]);
        assert!(!r.passed());
    }

    #[test]
    fn expectations_fail_when_not_met() {
        let r = analyze(
            &withheld(),
            &Expect {
                max_slashes: Some(0),
                max_pruned_blocks: Some(0),
                ..Expect::default()
            },
        );
        let failed: Vec<_> = r.checks.iter().filter(|c| !c.passed).collect();
        assert_eq!(failed.len(), 2, "{failed:#?}");
        let mut o = withheld();
        o.events.truncate(8);
        let r = analyze(
            &o,
            &Expect {
                recovers: true,
                ..Expect::default()
            },
        );
        assert_eq!(r.recovery, None);
        assert!(!r.passed());
    }

    #[test]
    fn a_tx_due_by_a_time_must_be_in_a_kept_block_by_then() {
        let o = withheld();
        let expect = |by: f64| Expect {
            included_by: vec![("forced tx".into(), h(3), by)],
            ..Expect::default()
        };
        // Tx 3 was first in block 3 at 22 s, pruned; it is kept in block 3 again from 44 s.
        assert!(analyze(&o, &expect(44.0)).passed());
        assert!(!analyze(&o, &expect(30.0)).passed());
        let mut o = o;
        o.events.truncate(7);
        o.in_pool.extend([h(3), h(4)]);
        o.load_stopped = 0.0;
        assert!(!analyze(&o, &expect(1_000.0)).passed());
    }

    #[test]
    fn a_pool_tx_in_a_censored_slot_fails_the_censorship_check() {
        let o = withheld();
        let censored = |from, until, allowed: &[u64]| Expect {
            censored: Some((from, until, allowed.iter().map(|n| h(*n)).collect())),
            ..Expect::default()
        };
        // Slots 5..11: block 3 at slot 5 carries tx 3.
        assert!(!analyze(&o, &censored(5, 11, &[])).passed());
        assert!(analyze(&o, &censored(5, 11, &[3])).passed());
        // No block in the censored slots: the censorship was not exercised.
        assert!(!analyze(&o, &censored(20, 30, &[])).passed());
    }

    #[test]
    fn double_inclusion_and_inconsistent_tips_are_caught() {
        let o = obs(
            vec![at(1.0, proposed(1, 1, &[1])), at(2.0, proposed(2, 2, &[1]))],
            vec![sent(1, 0.5)],
        );
        let r = analyze(&o, &Expect::default());
        assert_eq!(r.txs.double_included, vec![h(1)]);
        assert!(tips_consistent(&o.events));
        let gap = vec![at(1.0, proposed(2, 1, &[]))];
        assert!(!tips_consistent(&gap));
        let past = vec![
            at(1.0, proposed(1, 1, &[])),
            at(2.0, ChainEvent::Proven { epoch: 0, end: 2 }),
        ];
        assert!(!tips_consistent(&past));
    }

    /// A random run: txs sent, proposals (of every pooled tx), prunes back to the proven tip
    /// (their txs back in the pool) and proofs of a prefix.
    fn run() -> impl Strategy<Value = Observation> {
        prop::collection::vec((0u8..10, 1u64..4), 1..60).prop_map(|steps| {
            let (mut pending, mut proven, mut t, mut next_tx) = (0u64, 0u64, 0.0, 0u64);
            let mut events = Vec::new();
            let mut sent = Vec::new();
            let mut pool: Vec<u64> = Vec::new();
            let mut in_block: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
            for (kind, n) in steps {
                t += 1.0;
                match kind {
                    5 => {
                        for _ in 0..n {
                            next_tx += 1;
                            sent.push(sent_tx(next_tx, t - 0.5));
                            pool.push(next_tx);
                        }
                    }
                    0..=4 => {
                        for _ in 0..n {
                            next_tx += 1;
                            sent.push(sent_tx(next_tx, t - 0.5));
                            pool.push(next_tx);
                        }
                        let txs: Vec<u64> = std::mem::take(&mut pool);
                        pending += 1;
                        in_block.insert(pending, txs.clone());
                        events.push(at(t, proposed(pending, t as u64, &txs)));
                    }
                    6 | 7 if pending > proven => {
                        let end = (proven + n).min(pending);
                        events.push(at(
                            t,
                            ChainEvent::Proven {
                                epoch: t as u64,
                                end,
                            },
                        ));
                        proven = end;
                    }
                    _ if pending > proven => {
                        for (_, txs) in in_block.split_off(&(proven + 1)) {
                            pool.extend(txs);
                        }
                        events.push(at(t, ChainEvent::Pruned { proven, pending }));
                        pending = proven;
                    }
                    _ => {}
                }
            }
            let mut o = obs(events, sent);
            o.in_pool = pool.iter().map(|n| h(*n)).collect();
            o.load_stopped = 0.0;
            o
        })
    }

    fn sent_tx(n: u64, t: f64) -> SentTx {
        sent(n, t)
    }

    proptest! {
        #[test]
        fn a_chain_that_requeues_pruned_txs_loses_nothing(o in run()) {
            let r = analyze(&o, &Expect::default());
            prop_assert!(r.passed(), "{:#?}", r.checks);
            prop_assert_eq!(r.txs.proven + r.txs.in_pending_block + r.txs.in_pool, r.txs.sent);
            if let Some(f) = &r.finality {
                prop_assert!(f.median <= f.p95 && f.p95 <= f.max && f.median > 0.0);
            }
            let tips = tips(&o.events);
            prop_assert!(tips.iter().all(|(_, pending, proven)| proven <= pending));
        }

        #[test]
        fn dropping_a_pooled_tx_is_always_caught(o in run(), pick in any::<prop::sample::Index>()) {
            let mut o = o;
            prop_assume!(!o.in_pool.is_empty());
            let pooled: Vec<B256> = o.in_pool.iter().copied().collect();
            let gone = pooled[pick.index(pooled.len())];
            o.in_pool.remove(&gone);
            let r = analyze(&o, &Expect::default());
            prop_assert_eq!(&r.txs.lost, &vec![gone]);
            prop_assert!(!r.passed());
        }
    }
}
