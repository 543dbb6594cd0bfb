//! The prover's and submitter's on-disk memory (a redb file), so that a restarted agent re-derives
//! its duties from chain state plus what it committed to:
//!
//! - `quotes`: epoch → the signed quote sent for it (JSON). Written durably *before* the quote
//!   leaves the process; a restarted prover re-sends this quote and never signs a second one for
//!   the epoch.
//! - `proofs`: epoch → the finished proof (JSON), written before it is handed to a submitter; a
//!   restarted prover or submitter picks it up again, so no proof is lost.
//!
//! - `cursors`: name → the L1 block an event scan resumes from: a restarted prover neither
//!   counts the slashes and proofs it saw again nor queries the whole history.
//! - `candidates`: (epoch, hash of the proof) → a proof some prover handed to the submitter
//!   (JSON), not yet checked: at most [`MAX_CANDIDATES_PER_EPOCH`] per epoch, removed once one
//!   would revert, and with their epoch once it is behind the epoch to prove. A garbage proof sent
//!   first no longer shadows the valid one.
//!
//! Keys are the epoch number (a `u64`; the API takes [`Epoch`]). Every write commits with
//! `Durability::Immediate`. redb locks the file, so two agents cannot share one store.

use std::{path::Path, sync::Arc};

use proofline_core::Epoch;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{de::DeserializeOwned, Serialize};

const QUOTES: TableDefinition<u64, &[u8]> = TableDefinition::new("quotes");
const PROOFS: TableDefinition<u64, &[u8]> = TableDefinition::new("proofs");
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("cursors");
const CANDIDATES: TableDefinition<(u64, [u8; 32]), &[u8]> = TableDefinition::new("candidates");

/// Unchecked proofs a submitter keeps for one epoch; more are refused until one is dropped.
pub const MAX_CANDIDATES_PER_EPOCH: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("prover store: {0}")]
    Db(#[from] redb::Error),
    #[error("prover store: record of epoch {epoch} in `{table}` does not decode: {source}")]
    Corrupt {
        table: &'static str,
        epoch: Epoch,
        source: serde_json::Error,
    },
}

proofline_chain::redb_errors_into!(StoreError);

/// Clones share one open database.
#[derive(Clone, Debug)]
pub struct ProverStore {
    db: Arc<Database>,
}

impl ProverStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let store = Self {
            db: Arc::new(Database::create(path)?),
        };
        let mut txn = store.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        txn.open_table(QUOTES)?;
        txn.open_table(PROOFS)?;
        txn.open_table(CANDIDATES)?;
        txn.open_table(CURSORS)?;
        txn.commit()?;
        Ok(store)
    }

    /// Records `value` for `epoch` unless one is already there; returns the record that stands
    /// (the earlier one, or `value`).
    fn put_once<T: Serialize + DeserializeOwned + Clone>(
        &self,
        table: TableDefinition<u64, &[u8]>,
        name: &'static str,
        epoch: Epoch,
        value: &T,
    ) -> Result<T, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let existing = {
            let mut t = txn.open_table(table)?;
            let existing = t.get(epoch.0)?.map(|v| v.value().to_vec());
            if existing.is_none() {
                let bytes = serde_json::to_vec(value).expect("agent records always serialise");
                t.insert(epoch.0, bytes.as_slice())?;
            }
            existing
        };
        txn.commit()?;
        match existing {
            None => Ok(value.clone()),
            Some(bytes) => decode(name, epoch, &bytes),
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &[u8]>,
        name: &'static str,
        epoch: Epoch,
    ) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(table)?;
        let Some(v) = t.get(epoch.0)? else {
            return Ok(None);
        };
        decode(name, epoch, v.value()).map(Some)
    }

    fn all<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &[u8]>,
        name: &'static str,
        from: Epoch,
    ) -> Result<Vec<(Epoch, T)>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(table)?;
        let mut out = Vec::new();
        for entry in t.range(from.0..)? {
            let (k, v) = entry?;
            let epoch = Epoch(k.value());
            out.push((epoch, decode(name, epoch, v.value())?));
        }
        Ok(out)
    }

    /// The quote for `epoch`: the one recorded earlier if any (never a second one), else `quote`,
    /// now recorded durably.
    pub fn commit_quote<T: Serialize + DeserializeOwned + Clone>(
        &self,
        epoch: Epoch,
        quote: &T,
    ) -> Result<T, StoreError> {
        self.put_once(QUOTES, "quotes", epoch, quote)
    }

    pub fn quote<T: DeserializeOwned>(&self, epoch: Epoch) -> Result<Option<T>, StoreError> {
        self.get(QUOTES, "quotes", epoch)
    }

    /// The L1 block a named event scan resumes from, if it ran before.
    pub fn cursor(&self, name: &str) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CURSORS)?;
        Ok(t.get(name)?.map(|v| v.value()))
    }

    /// Records that the named event scan has read every L1 block before `next`.
    pub fn set_cursor(&self, name: &str, next: u64) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        txn.open_table(CURSORS)?.insert(name, next)?;
        txn.commit()?;
        Ok(())
    }

    /// Keeps `proof` (identified by `hash`) as a candidate for `epoch`; false when the epoch
    /// already holds [`MAX_CANDIDATES_PER_EPOCH`] others (an identical one is kept once).
    pub fn add_candidate<T: Serialize>(
        &self,
        epoch: Epoch,
        hash: [u8; 32],
        proof: &T,
    ) -> Result<bool, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let added = {
            let mut t = txn.open_table(CANDIDATES)?;
            if t.get((epoch.0, hash))?.is_some() {
                true
            } else if t.range((epoch.0, [0; 32])..=(epoch.0, [0xff; 32]))?.count()
                >= MAX_CANDIDATES_PER_EPOCH
            {
                false
            } else {
                let bytes = serde_json::to_vec(proof).expect("agent records always serialise");
                t.insert((epoch.0, hash), bytes.as_slice())?;
                true
            }
        };
        txn.commit()?;
        Ok(added)
    }

    /// The candidates of `epoch`, by hash.
    pub fn candidates<T: DeserializeOwned>(
        &self,
        epoch: Epoch,
    ) -> Result<Vec<([u8; 32], T)>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CANDIDATES)?;
        let mut out = Vec::new();
        for entry in t.range((epoch.0, [0; 32])..=(epoch.0, [0xff; 32]))? {
            let (k, v) = entry?;
            out.push((k.value().1, decode("candidates", epoch, v.value())?));
        }
        Ok(out)
    }

    /// Drops one candidate of `epoch`.
    pub fn remove_candidate(&self, epoch: Epoch, hash: [u8; 32]) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        txn.open_table(CANDIDATES)?.remove((epoch.0, hash))?;
        txn.commit()?;
        Ok(())
    }

    /// Drops the candidates of epochs before `epoch`; returns how many.
    pub fn prune_candidates_below(&self, epoch: Epoch) -> Result<u64, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let mut removed = 0;
        txn.open_table(CANDIDATES)?
            .retain_in(..(epoch.0, [0; 32]), |_, _| {
                removed += 1;
                false
            })?;
        txn.commit()?;
        Ok(removed)
    }

    /// Records a finished proof (the first one stays if the epoch already has one).
    pub fn put_proof<T: Serialize + DeserializeOwned + Clone>(
        &self,
        epoch: Epoch,
        proof: &T,
    ) -> Result<T, StoreError> {
        self.put_once(PROOFS, "proofs", epoch, proof)
    }

    pub fn proof<T: DeserializeOwned>(&self, epoch: Epoch) -> Result<Option<T>, StoreError> {
        self.get(PROOFS, "proofs", epoch)
    }

    /// Every proof recorded for `from` or a later epoch.
    pub fn proofs_from<T: DeserializeOwned>(
        &self,
        from: Epoch,
    ) -> Result<Vec<(Epoch, T)>, StoreError> {
        self.all(PROOFS, "proofs", from)
    }
}

fn decode<T: DeserializeOwned>(
    table: &'static str,
    epoch: Epoch,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        table,
        epoch,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_committed_once_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prover.redb");
        {
            let s = ProverStore::open(&path).unwrap();
            assert_eq!(
                s.commit_quote(Epoch(5), &"first".to_string()).unwrap(),
                "first"
            );
            assert_eq!(
                s.commit_quote(Epoch(5), &"second".to_string()).unwrap(),
                "first",
                "a second quote for the epoch is never recorded"
            );
            s.put_proof(Epoch(5), &vec![1u8, 2]).unwrap();
            s.put_proof(Epoch(7), &vec![3u8]).unwrap();
        }
        let s = ProverStore::open(&path).unwrap();
        assert_eq!(
            s.quote::<String>(Epoch(5)).unwrap().as_deref(),
            Some("first")
        );
        assert_eq!(s.quote::<String>(Epoch(6)).unwrap(), None);
        assert_eq!(
            s.proofs_from::<Vec<u8>>(Epoch(6)).unwrap(),
            vec![(Epoch(7), vec![3u8])]
        );
    }

    #[test]
    fn candidates_are_kept_per_proof_bounded_per_epoch_and_pruned_by_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let s = ProverStore::open(&dir.path().join("submitter.redb")).unwrap();
        for i in 0..MAX_CANDIDATES_PER_EPOCH as u8 {
            assert!(s
                .add_candidate(Epoch(3), [i; 32], &format!("p{i}"))
                .unwrap());
        }
        assert!(
            s.add_candidate(Epoch(3), [0; 32], &"p0").unwrap(),
            "the same one again"
        );
        assert!(
            !s.add_candidate(Epoch(3), [0xee; 32], &"one more").unwrap(),
            "the epoch is full"
        );
        assert!(s.add_candidate(Epoch(4), [0xee; 32], &"next").unwrap());
        s.remove_candidate(Epoch(3), [0; 32]).unwrap();
        assert!(s.add_candidate(Epoch(3), [0xee; 32], &"now").unwrap());
        let three: Vec<([u8; 32], String)> = s.candidates(Epoch(3)).unwrap();
        assert_eq!(three.len(), MAX_CANDIDATES_PER_EPOCH);
        assert!(!three.iter().any(|(h, _)| *h == [0; 32]));
        assert_eq!(
            s.prune_candidates_below(Epoch(4)).unwrap(),
            MAX_CANDIDATES_PER_EPOCH as u64
        );
        assert!(s.candidates::<String>(Epoch(3)).unwrap().is_empty());
        assert_eq!(s.candidates::<String>(Epoch(4)).unwrap().len(), 1);
    }

    #[test]
    fn an_event_cursor_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prover.redb");
        {
            let s = ProverStore::open(&path).unwrap();
            assert_eq!(s.cursor("events").unwrap(), None);
            s.set_cursor("events", 41).unwrap();
            s.set_cursor("events", 42).unwrap();
        }
        let s = ProverStore::open(&path).unwrap();
        assert_eq!(s.cursor("events").unwrap(), Some(42));
        assert_eq!(s.cursor("other").unwrap(), None);
    }

    #[test]
    fn a_second_open_of_the_same_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prover.redb");
        let _s = ProverStore::open(&path).unwrap();
        assert!(ProverStore::open(&path).is_err());
    }
}
