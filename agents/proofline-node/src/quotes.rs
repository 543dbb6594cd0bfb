//! The pool of valid epoch proof quotes the node keeps for its proposers (SPEC 8), and the rate
//! limiter in front of it. The quote itself, its digest, wire format and validation are the
//! protocol's: [`proofline_core::quote`].
//!
//! # The pool ([`QuotePool`])
//!
//! Valid quotes by epoch, at most one per prover and epoch, ranked by [`QuoteRank`]: lowest
//! `basisPointFee` first (the proposers keep the rest of the epoch's rewards), then the larger
//! bond (more at stake for the prover), then the later `validUntilSlot` (usable in more slots of
//! the window), then the lower digest (an arbitrary but deterministic tie-break, the same on every
//! node). [`QuotePool::best`] is the first.
//!
//! **A prover's second quote for an epoch replaces its first only if it ranks better.** A signed
//! quote cannot be withdrawn: whoever holds it can claim with it until it expires, so a prover
//! asking for a higher fee later does not make its earlier, cheaper offer go away, and a proposer
//! would pick the better one anyway. A worse one is refused ([`QuoteError::NotBetter`]). The same
//! quote (same digest; ECDSA allows several signatures of one digest) is refused as
//! [`QuoteError::AlreadyKnown`].
//!
//! Bounds: [`PoolConfig::max_per_epoch`] and [`PoolConfig::max_total`]. A full epoch takes a new
//! quote only if it ranks better than its worst, which it evicts; when the whole pool is full the
//! worst quote of the lowest other epoch goes first (the pool admits only the epoch to prove, so
//! another epoch is one the chain has moved past), else the new quote must beat its own epoch's
//! worst. [`QuotePool::check_invariants`] states what always holds (property-tested).
//!
//! # Rate limiting
//!
//! [`RateLimiter`] is a token bucket per source (a gossip peer, the RPC server), checked before
//! any decoding or signature recovery.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::Instant;

use alloy::primitives::{Address, B256, U256};
use proofline_core::quote::{revalidate, QuoteError, QuoteRank, ValidQuote, ValidationContext};
use proofline_core::Epoch;

/// Limits of a [`QuotePool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Bids kept for one epoch.
    pub max_per_epoch: usize,
    /// Bids kept in all.
    pub max_total: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_per_epoch: 256,
            max_total: 1024,
        }
    }
}

/// How [`QuotePool::insert`] took a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// The same prover's quote for the epoch that this one replaced.
    pub replaced: Option<B256>,
    /// Another prover's quote dropped to make room.
    pub evicted: Option<B256>,
}

#[derive(Debug, Default, Clone)]
struct EpochBids {
    by_rank: BTreeMap<QuoteRank, ValidQuote>,
    by_prover: HashMap<Address, QuoteRank>,
    by_digest: HashMap<B256, QuoteRank>,
}

impl EpochBids {
    fn len(&self) -> usize {
        self.by_rank.len()
    }

    fn add(&mut self, quote: ValidQuote) {
        let rank = quote.rank();
        self.by_prover.insert(quote.prover(), rank);
        self.by_digest.insert(quote.digest(), rank);
        self.by_rank.insert(rank, quote);
    }

    fn remove(&mut self, rank: &QuoteRank) -> Option<ValidQuote> {
        let quote = self.by_rank.remove(rank)?;
        self.by_prover.remove(&quote.prover());
        self.by_digest.remove(&quote.digest());
        Some(quote)
    }

    fn worst(&self) -> Option<QuoteRank> {
        self.by_rank.keys().next_back().copied()
    }
}

/// The valid bids the node holds, by epoch (module doc, The pool).
#[derive(Debug, Clone)]
pub struct QuotePool {
    config: PoolConfig,
    epochs: BTreeMap<Epoch, EpochBids>,
    len: usize,
}

impl QuotePool {
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            epochs: BTreeMap::new(),
            len: 0,
        }
    }

    pub fn config(&self) -> PoolConfig {
        self.config
    }

    /// Bids held, all epochs together.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the quote with this digest is pooled for `epoch`.
    pub fn contains(&self, epoch: Epoch, digest: &B256) -> bool {
        self.epochs
            .get(&epoch)
            .is_some_and(|b| b.by_digest.contains_key(digest))
    }

    /// Adds a validated quote (module doc, The pool, for what is refused and what is evicted).
    pub fn insert(&mut self, quote: ValidQuote) -> Result<Admission, QuoteError> {
        let epoch = quote.epoch();
        let rank = quote.rank();
        let bids = self.epochs.get(&epoch);
        if bids.is_some_and(|b| b.by_digest.contains_key(&quote.digest())) {
            return Err(QuoteError::AlreadyKnown {
                digest: quote.digest(),
            });
        }
        if let Some(old) = bids.and_then(|b| b.by_prover.get(&quote.prover()).copied()) {
            if rank >= old {
                return Err(QuoteError::NotBetter { kept: old.digest });
            }
            let bids = self.epochs.get_mut(&epoch).expect("checked above");
            bids.remove(&old);
            bids.add(quote);
            return Ok(Admission {
                replaced: Some(old.digest),
                evicted: None,
            });
        }
        let epoch_full = bids.is_some_and(|b| b.len() >= self.config.max_per_epoch);
        let evict = if epoch_full || self.len >= self.config.max_total {
            Some(self.victim_for(epoch, rank)?)
        } else {
            None
        };
        let evicted = evict.map(|(e, r)| {
            self.remove_ranked(e, &r);
            r.digest
        });
        self.epochs.entry(epoch).or_default().add(quote);
        self.len += 1;
        Ok(Admission {
            replaced: None,
            evicted,
        })
    }

    /// The bid to drop so a new one ranked `rank` fits in `epoch`, or why it does not fit.
    fn victim_for(&self, epoch: Epoch, rank: QuoteRank) -> Result<(Epoch, QuoteRank), QuoteError> {
        let own = self.epochs.get(&epoch);
        let epoch_full = own.is_some_and(|b| b.len() >= self.config.max_per_epoch);
        let full = || QuoteError::PoolFull {
            max: if epoch_full {
                self.config.max_per_epoch
            } else {
                self.config.max_total
            },
        };
        if !epoch_full {
            // The pool is full but the epoch is not: another epoch's bid makes room, the lowest
            // epoch's worst first.
            if let Some((e, bids)) = self.epochs.iter().find(|(e, _)| **e != epoch) {
                return Ok((*e, bids.worst().expect("no empty epoch is kept")));
            }
        }
        match own.and_then(EpochBids::worst) {
            Some(worst) if rank < worst => Ok((epoch, worst)),
            _ => Err(full()),
        }
    }

    fn remove_ranked(&mut self, epoch: Epoch, rank: &QuoteRank) -> Option<ValidQuote> {
        let bids = self.epochs.get_mut(&epoch)?;
        let removed = bids.remove(rank)?;
        self.len -= 1;
        if bids.len() == 0 {
            self.epochs.remove(&epoch);
        }
        Some(removed)
    }

    /// The best bid for `epoch` (module doc, The pool).
    pub fn best(&self, epoch: Epoch) -> Option<&ValidQuote> {
        self.epochs.get(&epoch)?.by_rank.values().next()
    }

    /// The bids for `epoch`, best first.
    pub fn bids(&self, epoch: Epoch) -> Vec<&ValidQuote> {
        self.epochs
            .get(&epoch)
            .map(|b| b.by_rank.values().collect())
            .unwrap_or_default()
    }

    /// The epochs with bids, lowest first.
    pub fn epochs(&self) -> impl Iterator<Item = Epoch> + '_ {
        self.epochs.keys().copied()
    }

    /// The provers with a bid for `epoch`.
    pub fn provers(&self, epoch: Epoch) -> Vec<Address> {
        self.epochs
            .get(&epoch)
            .map(|b| b.by_prover.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Drops the bid with this digest for `epoch` (e.g. one L1 refuses after all).
    pub fn remove(&mut self, epoch: Epoch, digest: &B256) -> Option<ValidQuote> {
        let rank = *self.epochs.get(&epoch)?.by_digest.get(digest)?;
        self.remove_ranked(epoch, &rank)
    }

    /// Drops every bid for an epoch below `epoch`. Returns how many.
    pub fn prune_below(&mut self, epoch: Epoch) -> usize {
        let kept = self.epochs.split_off(&epoch);
        let dropped: usize = self.epochs.values().map(EpochBids::len).sum();
        self.epochs = kept;
        self.len -= dropped;
        dropped
    }

    /// Keeps only the bids `keep` returns true for. Returns the dropped ones.
    pub fn retain(&mut self, mut keep: impl FnMut(&ValidQuote) -> bool) -> Vec<ValidQuote> {
        let doomed: Vec<(Epoch, QuoteRank)> = self
            .epochs
            .iter()
            .flat_map(|(e, b)| b.by_rank.iter().map(move |(r, q)| (*e, *r, q)))
            .filter(|(_, _, q)| !keep(q))
            .map(|(e, r, _)| (e, r))
            .collect();
        doomed
            .into_iter()
            .filter_map(|(e, r)| self.remove_ranked(e, &r))
            .collect()
    }

    /// Drops the bids that no longer pass [`revalidate`] against `ctx` (another epoch to prove, a
    /// claim made, an escrow balance that fell, time passing). Returns each with its reason.
    pub fn revalidate(&mut self, ctx: &ValidationContext) -> Vec<(ValidQuote, QuoteError)> {
        let mut reasons = HashMap::new();
        let dropped = self.retain(|q| match revalidate(q, ctx) {
            Ok(()) => true,
            Err(e) => {
                reasons.insert(q.digest(), e);
                false
            }
        });
        dropped
            .into_iter()
            .map(|q| {
                let e = reasons.remove(&q.digest()).expect("recorded when dropped");
                (q, e)
            })
            .collect()
    }

    /// Checks that the indexes agree and the bounds hold; `Err` describes the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut total = 0;
        for (epoch, bids) in &self.epochs {
            if bids.len() == 0 {
                return Err(format!("epoch {epoch} is kept without bids"));
            }
            if bids.len() > self.config.max_per_epoch {
                return Err(format!("epoch {epoch} holds {} bids", bids.len()));
            }
            if bids.by_prover.len() != bids.len() || bids.by_digest.len() != bids.len() {
                return Err(format!(
                    "epoch {epoch}: {} bids, {} provers, {} digests",
                    bids.len(),
                    bids.by_prover.len(),
                    bids.by_digest.len()
                ));
            }
            for (rank, q) in &bids.by_rank {
                if q.rank() != *rank || q.epoch() != *epoch {
                    return Err(format!("bid {} is filed under the wrong key", q.digest()));
                }
                if q.quote().epoch_to_prove != U256::from(epoch.0) {
                    return Err(format!("bid {} is for another epoch", q.digest()));
                }
                if bids.by_prover.get(&q.prover()) != Some(rank)
                    || bids.by_digest.get(&q.digest()) != Some(rank)
                {
                    return Err(format!("bid {} is not indexed", q.digest()));
                }
            }
            total += bids.len();
        }
        if total != self.len {
            return Err(format!("{total} bids, counted {}", self.len));
        }
        if self.len > self.config.max_total {
            return Err(format!(
                "{} bids, at most {}",
                self.len, self.config.max_total
            ));
        }
        Ok(())
    }
}

/// A token bucket per source: each source may spend `burst` at once and earns `rate_per_sec`
/// tokens a second back, up to `burst`. At most `max_sources` buckets are kept. A full bucket is
/// the same as none, so those are dropped when room is needed; when every kept bucket is still
/// refilling, a new source is refused until one is full again (evicting a bucket instead would
/// hand its source a fresh burst, and many identities could keep resetting each other's).
#[derive(Debug, Clone)]
pub struct RateLimiter<K> {
    rate_per_sec: f64,
    burst: f64,
    max_sources: usize,
    buckets: HashMap<K, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate_per_sec: f64, burst: u32, max_sources: usize) -> Self {
        Self {
            rate_per_sec: rate_per_sec.max(0.0),
            burst: f64::from(burst.max(1)),
            max_sources: max_sources.max(1),
            buckets: HashMap::new(),
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let earned = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate_per_sec;
        (bucket.tokens + earned).min(self.burst)
    }

    /// Takes one token from `source`'s bucket at `now`; false when it is empty.
    pub fn try_acquire(&mut self, source: &K, now: Instant) -> bool {
        let tokens = match self.buckets.get(source) {
            Some(b) => self.refilled(*b, now),
            None => {
                if self.buckets.len() >= self.max_sources {
                    self.drop_full(now);
                    if self.buckets.len() >= self.max_sources {
                        return false;
                    }
                }
                self.burst
            }
        };
        let allowed = tokens >= 1.0;
        self.buckets.insert(
            source.clone(),
            Bucket {
                tokens: if allowed { tokens - 1.0 } else { tokens },
                at: now,
            },
        );
        allowed
    }

    fn drop_full(&mut self, now: Instant) {
        let (rate, burst) = (self.rate_per_sec, self.burst);
        self.buckets.retain(|_, b| {
            let earned = now.saturating_duration_since(b.at).as_secs_f64() * rate;
            b.tokens + earned < burst
        });
    }

    /// Sources with a bucket.
    pub fn sources(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;
    use alloy::signers::local::PrivateKeySigner;
    use proofline_core::quote::{sign_quote, validate, EpochProofQuote, SignedEpochProofQuote};
    use proofline_core::{Schedule, Slot, TimeConfig, Timestamp};
    use proptest::prelude::*;
    use std::collections::HashSet;
    use std::time::Duration;

    const CHAIN_ID: u64 = 31337;
    const ROLLUP: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const EPOCH: u64 = 7;
    const MIN_BOND: u64 = 1_000;

    fn key(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
    }

    fn time() -> TimeConfig {
        TimeConfig::new(Timestamp(1_700_000_000), 12, 32).unwrap()
    }

    /// Epoch 7 to prove, at slot 240 (epoch 7's slot 16): its window is slots 256..269.
    fn ctx() -> ValidationContext {
        let mut ctx = ValidationContext::new(
            CHAIN_ID,
            ROLLUP,
            &Schedule::new(time(), 13),
            Slot(240),
            Some(Epoch(EPOCH)),
            U256::from(MIN_BOND),
            false,
        );
        for i in 1..=20 {
            ctx.escrow.insert(key(i).address(), U256::from(1_000_000));
        }
        ctx
    }

    fn quote_by(signer: &PrivateKeySigner, fee: u32, bond: u64) -> EpochProofQuote {
        EpochProofQuote {
            epoch_to_prove: U256::from(EPOCH),
            valid_until_slot: U256::from(268),
            bond_amount: U256::from(bond),
            prover: signer.address(),
            basis_point_fee: fee,
        }
    }

    fn signed(signer: &PrivateKeySigner, quote: EpochProofQuote) -> SignedEpochProofQuote {
        sign_quote(signer, &ctx().domain(), quote).unwrap()
    }

    fn valid(signer: &PrivateKeySigner, fee: u32, bond: u64) -> ValidQuote {
        validate(&signed(signer, quote_by(signer, fee, bond)), &ctx()).unwrap()
    }

    #[test]
    fn rate_limiter_spends_the_burst_then_refills_at_the_rate() {
        let mut l = RateLimiter::new(10.0, 3, 100);
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.try_acquire(&"a", t0)));
        assert!(!l.try_acquire(&"a", t0));
        // Another source has its own bucket.
        assert!(l.try_acquire(&"b", t0));
        // 10 tokens a second: one after 100 ms, not before; a refusal does not reset the clock.
        assert!(!l.try_acquire(&"a", t0 + Duration::from_millis(90)));
        let t = t0 + Duration::from_millis(200);
        assert!(l.try_acquire(&"a", t) && l.try_acquire(&"a", t));
        assert!(!l.try_acquire(&"a", t));
        // Refills up to the burst only.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| l.try_acquire(&"a", later)));
        assert!(!l.try_acquire(&"a", later));
    }

    #[test]
    fn rate_limiter_keeps_at_most_max_sources() {
        let mut l = RateLimiter::new(1.0, 2, 4);
        let t0 = Instant::now();
        for i in 0..4u32 {
            assert!(l.try_acquire(&i, t0));
        }
        // Four buckets refilling: a fifth source waits, and no kept bucket is reset.
        assert!(!l.try_acquire(&4, t0));
        assert_eq!(l.sources(), 4);
        assert!(l.try_acquire(&0, t0));
        assert!(!l.try_acquire(&0, t0));
        // A second later sources 1 to 3 are full again (0 is not): they make room.
        let t1 = t0 + Duration::from_secs(1);
        assert!(l.try_acquire(&4, t1));
        assert_eq!(l.sources(), 2);
        for i in 5..100u32 {
            let _ = l.try_acquire(&i, t1 + Duration::from_secs(u64::from(i)));
            assert!(l.sources() <= 4);
        }
    }

    // ---------------------------------------------------------------- pool

    #[test]
    fn best_is_lowest_fee_then_bond_then_validity_then_digest() {
        let mut pool = QuotePool::new(PoolConfig::default());
        let a = valid(&key(1), 300, 5_000);
        let b = valid(&key(2), 200, 5_000);
        let c = valid(&key(3), 200, 9_000);
        for q in [a.clone(), b.clone(), c.clone()] {
            pool.insert(q).unwrap();
        }
        assert_eq!(pool.best(Epoch(EPOCH)), Some(&c));
        let order: Vec<B256> = pool.bids(Epoch(EPOCH)).iter().map(|q| q.digest()).collect();
        assert_eq!(order, vec![c.digest(), b.digest(), a.digest()]);
        assert_eq!(pool.best(Epoch(EPOCH + 1)), None);
        assert!(pool.bids(Epoch(EPOCH + 1)).is_empty());
        // Same fee and bond: the later validUntilSlot wins.
        let k = key(4);
        let mut q = quote_by(&k, 200, 9_000);
        q.valid_until_slot = U256::from(10_000);
        let d = validate(&signed(&k, q), &ctx()).unwrap();
        pool.insert(d.clone()).unwrap();
        assert_eq!(pool.best(Epoch(EPOCH)), Some(&d));
    }

    #[test]
    fn duplicates_and_worse_quotes_of_a_prover_are_refused_better_ones_replace() {
        let k = key(1);
        let mut pool = QuotePool::new(PoolConfig::default());
        let first = valid(&k, 300, 5_000);
        pool.insert(first.clone()).unwrap();
        assert_eq!(
            pool.insert(first.clone()),
            Err(QuoteError::AlreadyKnown {
                digest: first.digest()
            })
        );
        let worse = valid(&k, 400, 5_000);
        assert_eq!(
            pool.insert(worse),
            Err(QuoteError::NotBetter {
                kept: first.digest()
            })
        );
        let better = valid(&k, 100, 5_000);
        assert_eq!(
            pool.insert(better.clone()),
            Ok(Admission {
                replaced: Some(first.digest()),
                evicted: None
            })
        );
        assert_eq!(pool.bids(Epoch(EPOCH)), vec![&better]);
        assert_eq!(pool.len(), 1);
        pool.check_invariants().unwrap();
    }

    #[test]
    fn a_full_epoch_evicts_its_worst_for_a_better_quote_only() {
        let mut pool = QuotePool::new(PoolConfig {
            max_per_epoch: 2,
            max_total: 10,
        });
        let a = valid(&key(1), 100, 5_000);
        let b = valid(&key(2), 200, 5_000);
        pool.insert(a.clone()).unwrap();
        pool.insert(b.clone()).unwrap();
        assert_eq!(
            pool.insert(valid(&key(3), 300, 5_000)),
            Err(QuoteError::PoolFull { max: 2 })
        );
        let c = valid(&key(4), 150, 5_000);
        assert_eq!(
            pool.insert(c.clone()),
            Ok(Admission {
                replaced: None,
                evicted: Some(b.digest())
            })
        );
        assert_eq!(pool.bids(Epoch(EPOCH)), vec![&a, &c]);
        pool.check_invariants().unwrap();
    }

    #[test]
    fn prune_below_and_revalidate_drop_what_no_claim_can_use() {
        let mut pool = QuotePool::new(PoolConfig::default());
        let a = valid(&key(1), 100, 5_000);
        let b = valid(&key(2), 200, 50_000);
        pool.insert(a.clone()).unwrap();
        pool.insert(b.clone()).unwrap();
        // Escrow of prover 2 fell below its bond.
        let mut c = ctx();
        c.escrow.insert(key(2).address(), U256::from(1));
        let dropped = pool.revalidate(&c);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].0, b);
        assert_eq!(dropped[0].1.reason(), "insufficient_escrow");
        assert_eq!(pool.bids(Epoch(EPOCH)), vec![&a]);
        // Claimed: nothing for the epoch is useful any more.
        c.claimed = true;
        assert_eq!(pool.revalidate(&c).len(), 1);
        assert!(pool.is_empty());
        pool.insert(a.clone()).unwrap();
        assert_eq!(pool.remove(Epoch(EPOCH + 1), &a.digest()), None);
        assert_eq!(pool.remove(Epoch(EPOCH), &a.digest()), Some(a.clone()));
        assert_eq!(pool.remove(Epoch(EPOCH), &a.digest()), None);
        assert!(pool.is_empty());
        pool.insert(a).unwrap();
        assert_eq!(pool.prune_below(Epoch(EPOCH)), 0);
        assert_eq!(pool.prune_below(Epoch(EPOCH + 1)), 1);
        assert!(pool.is_empty());
        pool.check_invariants().unwrap();
    }

    /// Signed quotes for the property tests: eight provers, each with quotes of several fees,
    /// bonds and validities for two epochs; signing is the slow part, so they are made once.
    fn corpus() -> &'static [(Epoch, ValidQuote)] {
        static CORPUS: std::sync::OnceLock<Vec<(Epoch, ValidQuote)>> = std::sync::OnceLock::new();
        CORPUS.get_or_init(|| {
            let mut out = Vec::new();
            for epoch in [EPOCH, EPOCH + 1] {
                let mut c = ctx();
                c.epoch_to_prove = Some(Epoch(epoch));
                c.claim_window_start = Slot((epoch + 1) * 32);
                c.claim_window_end = Slot(c.claim_window_start.0 + 13);
                for p in 1..=8u8 {
                    let k = key(p);
                    for fee in [0u32, 100, 100, 5_000] {
                        for bond in [MIN_BOND, 7_000] {
                            for until in [400u64, 500] {
                                let q = EpochProofQuote {
                                    epoch_to_prove: U256::from(epoch),
                                    valid_until_slot: U256::from(until),
                                    bond_amount: U256::from(bond),
                                    prover: k.address(),
                                    basis_point_fee: fee,
                                };
                                let s = sign_quote(&k, &c.domain(), q).unwrap();
                                out.push((Epoch(epoch), validate(&s, &c).unwrap()));
                            }
                        }
                    }
                }
            }
            out
        })
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize),
        PruneBelow(u64),
        Remove(usize),
        DropProver(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0..corpus().len()).prop_map(Op::Insert),
            1 => (EPOCH..EPOCH + 3).prop_map(Op::PruneBelow),
            1 => (0..corpus().len()).prop_map(Op::Remove),
            1 => (1u8..=8).prop_map(Op::DropProver),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the sequence: the indexes agree, the bounds hold, one bid per prover and
        /// epoch, and `best` is the minimum of a naive model's ranks.
        #[test]
        fn pool_invariants_hold(ops in prop::collection::vec(op(), 1..80), per_epoch in 1usize..10, total in 1usize..14) {
            let mut pool = QuotePool::new(PoolConfig { max_per_epoch: per_epoch, max_total: total });
            for op in ops {
                match op {
                    Op::Insert(i) => {
                        let (epoch, q) = corpus()[i].clone();
                        let before = pool.bids(epoch).iter().map(|b| (*b).clone()).collect::<Vec<_>>();
                        let previous = before.iter().find(|b| b.prover() == q.prover()).cloned();
                        let len = pool.len();
                        match pool.insert(q.clone()) {
                            Ok(adm) => {
                                prop_assert!(pool.contains(epoch, &q.digest()));
                                match &previous {
                                    Some(p) => {
                                        prop_assert!(q.rank() < p.rank());
                                        prop_assert_eq!(adm.replaced, Some(p.digest()));
                                        prop_assert_eq!(pool.len(), len);
                                    }
                                    None => prop_assert_eq!(pool.len(), len + 1 - usize::from(adm.evicted.is_some())),
                                }
                            }
                            Err(QuoteError::AlreadyKnown { digest }) => {
                                prop_assert_eq!(digest, q.digest());
                                prop_assert!(before.contains(&q));
                            }
                            Err(QuoteError::NotBetter { kept }) => {
                                let p = previous.expect("a pooled quote of the prover");
                                prop_assert_eq!(kept, p.digest());
                                prop_assert!(q.rank() >= p.rank());
                            }
                            Err(QuoteError::PoolFull { .. }) => {
                                prop_assert!(previous.is_none());
                                prop_assert!(len >= total || before.len() >= per_epoch);
                                // Refused only if it is no better than everything in its epoch.
                                prop_assert!(before.iter().all(|b| b.rank() < q.rank()));
                            }
                            Err(e) => prop_assert!(false, "unexpected {e:?}"),
                        }
                    }
                    Op::PruneBelow(e) => {
                        pool.prune_below(Epoch(e));
                        prop_assert!(pool.epochs().all(|x| x >= Epoch(e)));
                    }
                    Op::Remove(i) => {
                        let (epoch, q) = &corpus()[i];
                        let held = pool.contains(*epoch, &q.digest());
                        let len = pool.len();
                        prop_assert_eq!(pool.remove(*epoch, &q.digest()).is_some(), held);
                        prop_assert!(!pool.contains(*epoch, &q.digest()));
                        prop_assert_eq!(pool.len(), len - usize::from(held));
                    }
                    Op::DropProver(p) => {
                        let addr = key(p).address();
                        pool.retain(|q| q.prover() != addr);
                        prop_assert!(pool.epochs().all(|e| !pool.provers(e).contains(&addr)));
                    }
                }
                if let Err(e) = pool.check_invariants() {
                    prop_assert!(false, "{e}");
                }
                for epoch in pool.epochs().collect::<Vec<_>>() {
                    let bids = pool.bids(epoch);
                    let min = bids.iter().map(|q| q.rank()).min();
                    prop_assert_eq!(pool.best(epoch).map(|q| q.rank()), min);
                    let ranks: Vec<QuoteRank> = bids.iter().map(|q| q.rank()).collect();
                    prop_assert!(ranks.windows(2).all(|w| w[0] < w[1]));
                    let provers: HashSet<Address> = bids.iter().map(|q| q.prover()).collect();
                    prop_assert_eq!(provers.len(), bids.len());
                }
            }
        }
    }
}
