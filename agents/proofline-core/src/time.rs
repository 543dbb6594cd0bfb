//! Slot and epoch arithmetic (SPEC 2), the off-chain twin of `contracts/libraries/TimeLib.sol`:
//!
//! ```text
//! slot(t)     = (t - GENESIS_TIME) / SLOT_DURATION
//! epoch(slot) = slot / EPOCH_DURATION
//! ```
//!
//! Where the contract reverts (a time before genesis, an overflow) these functions return a
//! [`TimeError`] instead of wrapping or panicking, so an agent with a bad clock or a bad config
//! finds out at the call site.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, as L1 block timestamps count them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

/// An L2 slot number, counted from genesis.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Slot(pub u64);

/// An epoch number, counted from genesis.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Epoch(pub u64);

impl Slot {
    /// The slot after this one (saturating).
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl Epoch {
    /// The epoch after this one (saturating).
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a time computation has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// `SLOT_DURATION` or `EPOCH_DURATION` is zero (the Rollup's constructor refuses both).
    ZeroDuration,
    /// The timestamp is earlier than `GENESIS_TIME`: there is no slot then.
    BeforeGenesis { genesis: Timestamp, t: Timestamp },
    /// The result does not fit in 64 bits.
    Overflow,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroDuration => f.write_str("slot and epoch durations must be nonzero"),
            Self::BeforeGenesis { genesis, t } => {
                write!(f, "timestamp {t} is before genesis ({genesis})")
            }
            Self::Overflow => f.write_str("time arithmetic overflowed 64 bits"),
        }
    }
}

impl std::error::Error for TimeError {}

/// The three deployment parameters time depends on, as the Rollup holds them
/// (`GENESIS_TIME`, `SLOT_DURATION`, `EPOCH_DURATION`).
///
/// The durations are checked once, in [`TimeConfig::new`], so the arithmetic never divides by
/// zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeConfig {
    genesis_time: Timestamp,
    slot_duration: u64,
    epoch_duration: u64,
}

impl TimeConfig {
    /// `slot_duration` in seconds, `epoch_duration` in slots; both must be nonzero.
    pub fn new(
        genesis_time: Timestamp,
        slot_duration: u64,
        epoch_duration: u64,
    ) -> Result<Self, TimeError> {
        if slot_duration == 0 || epoch_duration == 0 {
            return Err(TimeError::ZeroDuration);
        }
        Ok(Self {
            genesis_time,
            slot_duration,
            epoch_duration,
        })
    }

    pub fn genesis_time(&self) -> Timestamp {
        self.genesis_time
    }

    /// Seconds per slot.
    pub fn slot_duration(&self) -> u64 {
        self.slot_duration
    }

    /// Slots per epoch.
    pub fn epoch_duration(&self) -> u64 {
        self.epoch_duration
    }

    /// The slot containing `t`.
    pub fn slot_at(&self, t: Timestamp) -> Result<Slot, TimeError> {
        let since_genesis =
            t.0.checked_sub(self.genesis_time.0)
                .ok_or(TimeError::BeforeGenesis {
                    genesis: self.genesis_time,
                    t,
                })?;
        Ok(Slot(since_genesis / self.slot_duration))
    }

    /// The epoch slot `s` belongs to.
    pub fn epoch_of(&self, s: Slot) -> Epoch {
        Epoch(s.0 / self.epoch_duration)
    }

    /// The epoch containing `t`.
    pub fn epoch_at(&self, t: Timestamp) -> Result<Epoch, TimeError> {
        self.slot_at(t).map(|s| self.epoch_of(s))
    }

    /// The first second of slot `s`.
    pub fn slot_start(&self, s: Slot) -> Result<Timestamp, TimeError> {
        s.0.checked_mul(self.slot_duration)
            .and_then(|offset| offset.checked_add(self.genesis_time.0))
            .map(Timestamp)
            .ok_or(TimeError::Overflow)
    }

    /// The first slot of epoch `e`.
    pub fn first_slot(&self, e: Epoch) -> Result<Slot, TimeError> {
        e.0.checked_mul(self.epoch_duration)
            .map(Slot)
            .ok_or(TimeError::Overflow)
    }

    /// The first second of epoch `e`.
    pub fn epoch_start(&self, e: Epoch) -> Result<Timestamp, TimeError> {
        self.slot_start(self.first_slot(e)?)
    }

    /// The position of `s` inside its epoch, in `[0, epoch_duration)`.
    pub fn slot_in_epoch(&self, s: Slot) -> u64 {
        s.0 % self.epoch_duration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: u64 = 1_700_000_000;

    /// SPEC 1 defaults: 36 s slots, 32-slot epochs.
    fn spec_defaults() -> TimeConfig {
        TimeConfig::new(Timestamp(GENESIS), 36, 32).unwrap()
    }

    #[test]
    fn zero_durations_are_refused() {
        assert_eq!(
            TimeConfig::new(Timestamp(GENESIS), 0, 32),
            Err(TimeError::ZeroDuration)
        );
        assert_eq!(
            TimeConfig::new(Timestamp(GENESIS), 36, 0),
            Err(TimeError::ZeroDuration)
        );
    }

    #[test]
    fn genesis_second_is_slot_zero_of_epoch_zero() {
        let cfg = spec_defaults();
        assert_eq!(cfg.slot_at(Timestamp(GENESIS)), Ok(Slot(0)));
        assert_eq!(cfg.epoch_at(Timestamp(GENESIS)), Ok(Epoch(0)));
    }

    #[test]
    fn before_genesis_is_an_error() {
        let cfg = spec_defaults();
        let t = Timestamp(GENESIS - 1);
        let err = TimeError::BeforeGenesis {
            genesis: Timestamp(GENESIS),
            t,
        };
        assert_eq!(cfg.slot_at(t), Err(err));
        assert_eq!(cfg.epoch_at(t), Err(err));
        assert_eq!(
            err.to_string(),
            format!("timestamp {} is before genesis ({GENESIS})", GENESIS - 1)
        );
    }

    #[test]
    fn slot_boundaries() {
        let cfg = spec_defaults();
        for s in [0, 1, 7, 31, 32, 1_000] {
            let start = cfg.slot_start(Slot(s)).unwrap();
            assert_eq!(start, Timestamp(GENESIS + s * 36));
            // First and last second of the slot belong to it; the seconds around it do not.
            assert_eq!(cfg.slot_at(start), Ok(Slot(s)), "first second of slot {s}");
            assert_eq!(
                cfg.slot_at(Timestamp(start.0 + 35)),
                Ok(Slot(s)),
                "last second of slot {s}"
            );
            assert_eq!(cfg.slot_at(Timestamp(start.0 + 36)), Ok(Slot(s + 1)));
            if s > 0 {
                assert_eq!(cfg.slot_at(Timestamp(start.0 - 1)), Ok(Slot(s - 1)));
            }
        }
    }

    #[test]
    fn epoch_boundaries() {
        let cfg = spec_defaults();
        let epoch_seconds = 36 * 32;
        for e in [0, 1, 2, 100] {
            let first = cfg.first_slot(Epoch(e)).unwrap();
            assert_eq!(first, Slot(e * 32));
            let start = cfg.epoch_start(Epoch(e)).unwrap();
            assert_eq!(start, Timestamp(GENESIS + e * epoch_seconds));

            // First second of the epoch: its first slot, position 0.
            assert_eq!(
                cfg.epoch_at(start),
                Ok(Epoch(e)),
                "first second of epoch {e}"
            );
            assert_eq!(cfg.slot_at(start), Ok(first));
            assert_eq!(cfg.slot_in_epoch(first), 0);

            // Last second of the epoch: its last slot, position EPOCH_DURATION - 1.
            let last_second = Timestamp(start.0 + epoch_seconds - 1);
            let last_slot = cfg.slot_at(last_second).unwrap();
            assert_eq!(
                cfg.epoch_at(last_second),
                Ok(Epoch(e)),
                "last second of epoch {e}"
            );
            assert_eq!(last_slot, Slot(first.0 + 31));
            assert_eq!(cfg.epoch_of(last_slot), Epoch(e));
            assert_eq!(cfg.slot_in_epoch(last_slot), 31);

            // One second later: the next epoch begins.
            let next = Timestamp(last_second.0 + 1);
            assert_eq!(cfg.epoch_at(next), Ok(Epoch(e + 1)));
            assert_eq!(cfg.slot_in_epoch(cfg.slot_at(next).unwrap()), 0);
        }
    }

    #[test]
    fn devnet_config_matches_the_deploy_script() {
        // script/Deploy.s.sol defaults: 12 s slots, 8-slot epochs.
        let cfg = TimeConfig::new(Timestamp(100), 12, 8).unwrap();
        assert_eq!(cfg.slot_at(Timestamp(100 + 95)), Ok(Slot(7)));
        assert_eq!(cfg.epoch_at(Timestamp(100 + 95)), Ok(Epoch(0)));
        assert_eq!(cfg.slot_at(Timestamp(100 + 96)), Ok(Slot(8)));
        assert_eq!(cfg.epoch_at(Timestamp(100 + 96)), Ok(Epoch(1)));
    }

    #[test]
    fn round_trips() {
        let cfg = spec_defaults();
        for s in (0..500).map(Slot) {
            let start = cfg.slot_start(s).unwrap();
            assert_eq!(cfg.slot_at(start), Ok(s));
            let e = cfg.epoch_of(s);
            let first = cfg.first_slot(e).unwrap();
            assert!(first <= s && s.0 < first.0 + cfg.epoch_duration());
            assert_eq!(first.0 + cfg.slot_in_epoch(s), s.0);
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let cfg = spec_defaults();
        assert_eq!(cfg.slot_start(Slot(u64::MAX)), Err(TimeError::Overflow));
        assert_eq!(cfg.first_slot(Epoch(u64::MAX)), Err(TimeError::Overflow));
        assert_eq!(
            cfg.epoch_start(Epoch(u64::MAX / 32)),
            Err(TimeError::Overflow)
        );
        // The addition of genesis overflows even when the product fits.
        let late = TimeConfig::new(Timestamp(u64::MAX), 1, 1).unwrap();
        assert_eq!(late.slot_start(Slot(1)), Err(TimeError::Overflow));
        assert_eq!(late.slot_at(Timestamp(u64::MAX)), Ok(Slot(0)));
    }

    /// The `time` table of `test-vectors/protocol.json` (`test/vectors/ProtocolVector.t.sol`):
    /// the deployed Rollup's `getSlotAt`, `getEpochAt` and `getTimestampForSlot` at every
    /// boundary, and the same answers here.
    #[test]
    fn time_matches_the_contract_vector() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Table {
            genesis_time: u64,
            slot_duration: u64,
            epoch_duration: u64,
            timestamps: Vec<u64>,
            slot_at: Vec<u64>,
            epoch_at: Vec<u64>,
            slots: Vec<u64>,
            slot_start: Vec<u64>,
        }
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../test-vectors/protocol.json");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("the vector file"))
                .expect("vector parses");
        let t: Table = serde_json::from_value(json["time"].clone()).expect("time table");
        let cfg =
            TimeConfig::new(Timestamp(t.genesis_time), t.slot_duration, t.epoch_duration).unwrap();
        assert_eq!(t.timestamps.len(), t.slot_at.len());
        for ((ts, slot), epoch) in t.timestamps.iter().zip(&t.slot_at).zip(&t.epoch_at) {
            assert_eq!(cfg.slot_at(Timestamp(*ts)), Ok(Slot(*slot)), "slot at {ts}");
            assert_eq!(
                cfg.epoch_at(Timestamp(*ts)),
                Ok(Epoch(*epoch)),
                "epoch at {ts}"
            );
        }
        for (slot, start) in t.slots.iter().zip(&t.slot_start) {
            assert_eq!(
                cfg.slot_start(Slot(*slot)),
                Ok(Timestamp(*start)),
                "start of {slot}"
            );
        }
        assert!(t.timestamps.len() >= 8 && t.slots.len() >= 4);
    }
}
