//! Node memory after 1,000 blocks, per-block apply time, and `NodeChain::preview` at depth
//! (issue 5).
//!
//! Applies `MEMORY_BLOCKS` (1,000) blocks of `MEMORY_TXS` (20) txs from [`TxGen`], every tenth
//! block also taking two forced-inclusion entries, to a [`NodeChain`] and stores each in a redb
//! [`Store`] (a temporary directory), as the node's sync does (`NodeChain::apply`, then
//! `Store::put_block`, durably). It prints the process's `VmRSS` and `VmHWM` (`/proc/self/status`)
//! before and along the way, the apply and store times per block, and the time of
//! `NodeChain::preview` (a clone of the L2 state, then execution of one block: what the proposer
//! and every attester do each slot) and of the clone alone, at several depths.
//!
//! The blocks' archives come from a child process (this binary run again with
//! `MEMORY_BENCH_ARCHIVES` set) that executes the same blocks on its own chain: computing them
//! here would leave a second chain's worth of freed memory in the allocator and blur the
//! measurement.
//!
//! ```text
//! nice cargo bench -p proofline-node --bench memory
//! MEMORY_BLOCKS=2000 MEMORY_TXS=50 nice cargo bench -p proofline-node --bench memory
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, B256};
use proofline_chain::chain::{NodeChain, QueueEntry, StoredBlock};
use proofline_chain::store::{L1Origin, Store};
use proofline_core::Slot;
use proofline_devnet::txgen::TxGen;
use proofline_l2::{BlockBlobs, L2Chain, Tx};

const ARCHIVES_ENV: &str = "MEMORY_BENCH_ARCHIVES";
const COINBASE: Address = Address::repeat_byte(0xc0);
/// Every `FORCED_EVERY`th block takes `FORCED_PER_BLOCK` forced-inclusion entries.
const FORCED_EVERY: u64 = 10;
const FORCED_PER_BLOCK: u64 = 2;
/// Depths (blocks applied) at which memory is reported and `preview` is timed.
const CHECKPOINTS: [u64; 5] = [100, 250, 500, 750, 1000];
/// Txs of the block `preview` is timed with: a full block at the node's default
/// `--max-block-txs`.
const PREVIEW_TXS: usize = 100;

struct Params {
    blocks: u64,
    txs: usize,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let params = Params {
        blocks: env_or("MEMORY_BLOCKS", 1_000),
        txs: env_or("MEMORY_TXS", 20),
    };
    if let Ok(path) = std::env::var(ARCHIVES_ENV) {
        write_archives(&params, Path::new(&path));
        return;
    }
    bench(&params);
}

/// The deterministic block schedule: block `n`'s txs and forced entries.
struct Schedule {
    txs: TxGen,
    forced: TxGen,
    per_block: usize,
    queued: u64,
}

impl Schedule {
    fn new(per_block: usize) -> Self {
        Self {
            txs: TxGen::new(42),
            forced: TxGen::new(4242),
            per_block,
            queued: 0,
        }
    }

    /// The queue entries queued before block `n` (its forced entries), and its other txs.
    fn block(&mut self, n: u64) -> (Vec<QueueEntry>, Vec<Tx>) {
        let mut queued = Vec::new();
        if n.is_multiple_of(FORCED_EVERY) {
            for _ in 0..FORCED_PER_BLOCK {
                let data = Bytes::from(self.forced.next_tx().encode());
                queued.push(QueueEntry {
                    index: self.queued,
                    tx_hash: keccak256(&data),
                    due_epoch: proofline_core::Epoch(0),
                    data,
                    l1_block: n,
                });
                self.queued += 1;
            }
        }
        let txs = (&mut self.txs).take(self.per_block).collect();
        (queued, txs)
    }
}

/// The child: execute the schedule on a bare chain and write each block's archive, one hex line
/// per block.
fn write_archives(params: &Params, path: &Path) {
    let mut chain = L2Chain::genesis();
    let mut schedule = Schedule::new(params.txs);
    let mut out = String::new();
    for n in 1..=params.blocks {
        let (queued, txs) = schedule.block(n);
        let forced: Vec<Bytes> = queued.into_iter().map(|e| e.data).collect();
        let built = chain
            .apply_block(Slot(n), COINBASE, &forced, &txs)
            .expect("a scheduled block executes");
        out.push_str(&format!("{}\n", built.archive));
    }
    std::fs::write(path, out).expect("writing the archives");
}

fn archives(params: &Params) -> Vec<B256> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("archives");
    let start = Instant::now();
    let status = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .env(ARCHIVES_ENV, &path)
        .env("MEMORY_BLOCKS", params.blocks.to_string())
        .env("MEMORY_TXS", params.txs.to_string())
        .status()
        .expect("running the archive child");
    assert!(status.success(), "the archive child failed: {status}");
    let text = std::fs::read_to_string(&path).expect("reading the archives");
    let archives: Vec<B256> = text
        .lines()
        .map(|l| l.parse().expect("an archive"))
        .collect();
    assert_eq!(archives.len() as u64, params.blocks);
    println!(
        "archives of {} blocks computed in a child process in {:.1} s",
        params.blocks,
        start.elapsed().as_secs_f64()
    );
    archives
}

/// `VmRSS` and `VmHWM` from `/proc/self/status`, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (mean, p50, p99, max) in milliseconds.
fn stats(samples: &[Duration]) -> (f64, f64, f64, f64) {
    let mut s: Vec<f64> = samples.iter().map(|d| ms(*d)).collect();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    (
        s.iter().sum::<f64>() / s.len() as f64,
        at(0.5),
        at(0.99),
        s[s.len() - 1],
    )
}

/// Median of `runs` timings of `f`.
fn median_of(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

/// The time of `chain.preview` of a next block of `txs` txs (median of 5), and of the L2 state
/// clone alone (clone and drop, as preview does).
fn time_preview(chain: &NodeChain, txs: usize) -> (Duration, Duration) {
    // Seed 7 is not the schedule's: these txs are valid on any tip of it.
    let next: Vec<Tx> = TxGen::new(7).take(txs).collect();
    let block = StoredBlock {
        number: chain.tip() + 1,
        slot: proofline_core::Slot(chain.tip() + 1),
        coinbase: COINBASE,
        forced: vec![],
        txs: next.iter().map(|t| Bytes::from(t.encode())).collect(),
        archive: B256::ZERO,
    };
    let preview = median_of(5, || {
        chain.preview(&block).expect("the next block executes");
    });
    let clone = median_of(5, || {
        std::hint::black_box(chain.l2().clone());
    });
    (preview, clone)
}

fn bench(params: &Params) {
    println!(
        "{} blocks of {} txs (+{FORCED_PER_BLOCK} forced entries every {FORCED_EVERY}th block)",
        params.blocks, params.txs
    );
    let archives = archives(params);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("node.redb")).expect("store");
    let mut chain = NodeChain::new();
    // Load the KZG trusted setup (a one-off ~tens of MiB, as in the node) before the baseline, so
    // the growth below is the chain's.
    let (preview0, clone0) = time_preview(&chain, PREVIEW_TXS);

    let (rss0, hwm0) = memory_kib();
    println!(
        "before: VmRSS {:.1} MiB, VmHWM {:.1} MiB (KZG setup loaded, empty chain and store)",
        mib(rss0),
        mib(hwm0)
    );
    println!(
        "  at block    0: preview ({PREVIEW_TXS} txs) {:>7.2} ms, L2 state clone {:>7.3} ms",
        ms(preview0),
        ms(clone0)
    );

    let mut schedule = Schedule::new(params.txs);
    let mut apply_times = Vec::with_capacity(params.blocks as usize);
    let mut store_times = Vec::with_capacity(params.blocks as usize);
    let mut window_start = 0usize;
    for n in 1..=params.blocks {
        let (queued, txs) = schedule.block(n);
        let forced_count = queued.len() as u64;
        for e in queued {
            chain.on_queued(e);
        }
        let block = StoredBlock {
            number: n,
            slot: proofline_core::Slot(n),
            coinbase: COINBASE,
            forced: chain.forced_data(forced_count).expect("queued"),
            txs: txs.iter().map(|t| Bytes::from(t.encode())).collect(),
            archive: archives[(n - 1) as usize],
        };
        // As `sync::on_block_proposed`: encode, apply, store.
        let start = Instant::now();
        let bytes = block.encode();
        chain.apply(block).expect("the block applies");
        apply_times.push(start.elapsed());
        let start = Instant::now();
        store
            .put_block(
                n,
                L1Origin {
                    block_number: 100 + n,
                    block_hash: keccak256(n.to_be_bytes()),
                },
                &bytes,
            )
            .expect("stored");
        store_times.push(start.elapsed());

        if CHECKPOINTS.contains(&n) || n == params.blocks {
            let (rss, hwm) = memory_kib();
            let (preview, clone) = time_preview(&chain, PREVIEW_TXS);
            let (mean, p50, p99, max) = stats(&apply_times[window_start..]);
            println!(
                "  at block {n:>4}: VmRSS {:>7.1} MiB (+{:>6.1}), VmHWM {:>7.1} MiB; \
                 apply since block {:>4}: mean {mean:>6.2} ms, p50 {p50:>6.2}, p99 {p99:>6.2}, max {max:>6.2}; \
                 preview ({PREVIEW_TXS} txs) {:>7.2} ms, L2 state clone {:>7.3} ms",
                mib(rss),
                mib(rss.saturating_sub(rss0)),
                mib(hwm),
                window_start + 1,
                ms(preview),
                ms(clone)
            );
            window_start = apply_times.len();
        }
    }

    let (rss1, hwm1) = memory_kib();
    let state = chain.l2().state();
    println!(
        "after {} blocks: VmRSS {:.1} MiB (+{:.1} MiB, {:.1} KiB/block), VmHWM {:.1} MiB",
        chain.tip(),
        mib(rss1),
        mib(rss1.saturating_sub(rss0)),
        rss1.saturating_sub(rss0) as f64 / params.blocks as f64,
        mib(hwm1)
    );
    println!(
        "  state: {} notes, {} forced entries taken; kept blocks: {:.1} MiB encoded",
        state.note_count(),
        chain.forced_head(),
        chain
            .blocks()
            .iter()
            .map(|b| b.encode().len())
            .sum::<usize>() as f64
            / (1024.0 * 1024.0)
    );
    let (mean, p50, p99, max) = stats(&apply_times);
    println!(
        "NodeChain::apply per block: mean {mean:.2} ms, p50 {p50:.2}, p99 {p99:.2}, max {max:.2}"
    );
    let (mean, p50, p99, max) = stats(&store_times);
    println!(
        "Store::put_block per block (durable): mean {mean:.2} ms, p50 {p50:.2}, p99 {p99:.2}, max {max:.2}"
    );
    blob_costs();
    let db_size = std::fs::metadata(dir.path().join("node.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("redb file: {:.1} MiB", db_size as f64 / (1024.0 * 1024.0));
}

/// What the blobs of a full block cost: the KZG commitment every node computes when it executes
/// a block (part of `apply` and `preview` above), and the proofs only the proposer computes
/// (`sidecar_4844`).
fn blob_costs() {
    let txs: Vec<Tx> = TxGen::new(9).take(PREVIEW_TXS).collect();
    let mut chain = L2Chain::genesis();
    let built = chain
        .apply_block::<Vec<u8>>(Slot(1), COINBASE, &[], &txs)
        .expect("executes");
    let commit = median_of(5, || {
        BlockBlobs::from_body(&built.body).expect("commits");
    });
    let proofs = median_of(5, || {
        built.blobs.sidecar_4844().expect("proofs");
    });
    println!(
        "blobs of a {PREVIEW_TXS}-tx block ({} blob): commitment {:.2} ms, proofs (proposer only) {:.2} ms",
        built.blobs.blobs.len(),
        ms(commit),
        ms(proofs)
    );
}
