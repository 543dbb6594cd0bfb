// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @dev Time as distinct types, so a slot can never be passed where an epoch is expected.
type Timestamp is uint256;
type Slot is uint256;
type Epoch is uint256;

using {eqSlot as ==, neqSlot as !=, ltSlot as <, lteSlot as <=, gtSlot as >, gteSlot as >=} for Slot global;
using {
    eqEpoch as ==,
    neqEpoch as !=,
    ltEpoch as <,
    lteEpoch as <=,
    gtEpoch as >,
    gteEpoch as >=
} for Epoch global;

function eqSlot(Slot a, Slot b) pure returns (bool) {
    return Slot.unwrap(a) == Slot.unwrap(b);
}

function neqSlot(Slot a, Slot b) pure returns (bool) {
    return Slot.unwrap(a) != Slot.unwrap(b);
}

function ltSlot(Slot a, Slot b) pure returns (bool) {
    return Slot.unwrap(a) < Slot.unwrap(b);
}

function lteSlot(Slot a, Slot b) pure returns (bool) {
    return Slot.unwrap(a) <= Slot.unwrap(b);
}

function gtSlot(Slot a, Slot b) pure returns (bool) {
    return Slot.unwrap(a) > Slot.unwrap(b);
}

function gteSlot(Slot a, Slot b) pure returns (bool) {
    return Slot.unwrap(a) >= Slot.unwrap(b);
}

function eqEpoch(Epoch a, Epoch b) pure returns (bool) {
    return Epoch.unwrap(a) == Epoch.unwrap(b);
}

function neqEpoch(Epoch a, Epoch b) pure returns (bool) {
    return Epoch.unwrap(a) != Epoch.unwrap(b);
}

function ltEpoch(Epoch a, Epoch b) pure returns (bool) {
    return Epoch.unwrap(a) < Epoch.unwrap(b);
}

function lteEpoch(Epoch a, Epoch b) pure returns (bool) {
    return Epoch.unwrap(a) <= Epoch.unwrap(b);
}

function gtEpoch(Epoch a, Epoch b) pure returns (bool) {
    return Epoch.unwrap(a) > Epoch.unwrap(b);
}

function gteEpoch(Epoch a, Epoch b) pure returns (bool) {
    return Epoch.unwrap(a) >= Epoch.unwrap(b);
}

/// @title TimeLib
/// @notice The one place slot and epoch arithmetic lives (SPEC 2):
///         slot(t) = (t - GENESIS_TIME) / SLOT_DURATION, epoch(slot) = slot / EPOCH_DURATION.
/// @dev The agents port these same functions; `test/libraries/TimeLib.t.sol` pins the boundaries.
struct TimeConfig {
    uint256 genesisTime;
    uint256 slotDuration; // seconds
    uint256 epochDuration; // slots
}

library TimeLib {
    /// @dev Reverts (checked underflow) for a time before genesis: there is no slot then.
    function slotAt(TimeConfig memory cfg, Timestamp t) internal pure returns (Slot) {
        return Slot.wrap((Timestamp.unwrap(t) - cfg.genesisTime) / cfg.slotDuration);
    }

    function epochOf(TimeConfig memory cfg, Slot s) internal pure returns (Epoch) {
        return Epoch.wrap(Slot.unwrap(s) / cfg.epochDuration);
    }

    function epochAt(TimeConfig memory cfg, Timestamp t) internal pure returns (Epoch) {
        return epochOf(cfg, slotAt(cfg, t));
    }

    /// @notice First second of slot `s`.
    function slotStart(TimeConfig memory cfg, Slot s) internal pure returns (Timestamp) {
        return Timestamp.wrap(cfg.genesisTime + Slot.unwrap(s) * cfg.slotDuration);
    }

    /// @notice First slot of epoch `e`.
    function firstSlot(TimeConfig memory cfg, Epoch e) internal pure returns (Slot) {
        return Slot.wrap(Epoch.unwrap(e) * cfg.epochDuration);
    }

    /// @notice First second of epoch `e`.
    function epochStart(TimeConfig memory cfg, Epoch e) internal pure returns (Timestamp) {
        return slotStart(cfg, firstSlot(cfg, e));
    }

    /// @notice Position of `s` inside its epoch, in [0, EPOCH_DURATION).
    function slotInEpoch(TimeConfig memory cfg, Slot s) internal pure returns (uint256) {
        return Slot.unwrap(s) % cfg.epochDuration;
    }
}
