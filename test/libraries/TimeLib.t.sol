// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Epoch, Slot, TimeConfig, TimeLib, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {TimeLibHarness} from "../harnesses/TimeLibHarness.sol";
import {stdError} from "forge-std/StdError.sol";
import {Test} from "forge-std/Test.sol";

/// @dev SPEC 2: slot(t) = (t - GENESIS_TIME) / SLOT_DURATION, epoch(slot) = slot / EPOCH_DURATION.
contract TimeLibTest is Test {
    using TimeLib for TimeConfig;

    uint256 internal constant GENESIS = 1_700_000_000;
    uint256 internal constant SLOT_DURATION = 12;
    uint256 internal constant EPOCH_DURATION = 32;
    uint256 internal constant EPOCH_SECONDS = SLOT_DURATION * EPOCH_DURATION;

    TimeLibHarness internal harness;

    function setUp() public {
        harness = new TimeLibHarness();
    }

    function _cfg() internal pure returns (TimeConfig memory) {
        return TimeConfig({genesisTime: GENESIS, slotDuration: SLOT_DURATION, epochDuration: EPOCH_DURATION});
    }

    /// @dev Bounds keep every product below 2^192, so the fuzzed properties never overflow.
    function _fuzzCfg(uint256 genesis, uint256 slotDuration, uint256 epochDuration)
        internal
        pure
        returns (TimeConfig memory)
    {
        return TimeConfig({
            genesisTime: bound(genesis, 0, type(uint64).max),
            slotDuration: bound(slotDuration, 1, type(uint32).max),
            epochDuration: bound(epochDuration, 1, type(uint32).max)
        });
    }

    function _slot(TimeConfig memory cfg, uint256 t) internal pure returns (uint256) {
        return Slot.unwrap(cfg.slotAt(Timestamp.wrap(t)));
    }

    function _epoch(TimeConfig memory cfg, uint256 t) internal pure returns (uint256) {
        return Epoch.unwrap(cfg.epochAt(Timestamp.wrap(t)));
    }

    // ----------------------------------------------------------------------------------------
    // Boundaries
    // ----------------------------------------------------------------------------------------

    function test_slotAt_Genesis() public pure {
        TimeConfig memory cfg = _cfg();
        assertEq(_slot(cfg, GENESIS), 0);
        assertEq(_epoch(cfg, GENESIS), 0);
        assertEq(Timestamp.unwrap(cfg.slotStart(Slot.wrap(0))), GENESIS);
        assertEq(Timestamp.unwrap(cfg.epochStart(Epoch.wrap(0))), GENESIS);
    }

    function test_slotAt_FirstAndLastSecondOfSlot() public pure {
        TimeConfig memory cfg = _cfg();
        uint256[4] memory slots = [uint256(0), 1, 31, 1_000_003];
        for (uint256 i = 0; i < slots.length; i++) {
            uint256 s = slots[i];
            uint256 first = GENESIS + s * SLOT_DURATION;
            uint256 last = first + SLOT_DURATION - 1;
            assertEq(_slot(cfg, first), s, "first second");
            assertEq(_slot(cfg, last), s, "last second");
            assertEq(_slot(cfg, last + 1), s + 1, "first second of the next slot");
            if (s > 0) assertEq(_slot(cfg, first - 1), s - 1, "last second of the previous slot");
            assertEq(Timestamp.unwrap(cfg.slotStart(Slot.wrap(s))), first);
        }
    }

    function test_epochAt_FirstAndLastSecondOfEpoch() public pure {
        TimeConfig memory cfg = _cfg();
        uint256[3] memory epochs = [uint256(0), 1, 7777];
        for (uint256 i = 0; i < epochs.length; i++) {
            uint256 e = epochs[i];
            uint256 first = GENESIS + e * EPOCH_SECONDS;
            uint256 last = first + EPOCH_SECONDS - 1;
            assertEq(_epoch(cfg, first), e, "first second");
            assertEq(_epoch(cfg, last), e, "last second");
            assertEq(_epoch(cfg, last + 1), e + 1, "first second of the next epoch");
            if (e > 0) assertEq(_epoch(cfg, first - 1), e - 1, "last second of the previous epoch");
            assertEq(Timestamp.unwrap(cfg.epochStart(Epoch.wrap(e))), first);
            assertEq(Slot.unwrap(cfg.firstSlot(Epoch.wrap(e))), e * EPOCH_DURATION);
            // The epoch's first and last second sit in its first and last slot.
            assertEq(cfg.slotInEpoch(cfg.slotAt(Timestamp.wrap(first))), 0);
            assertEq(cfg.slotInEpoch(cfg.slotAt(Timestamp.wrap(last))), EPOCH_DURATION - 1);
        }
    }

    function test_epochOf_FirstAndLastSlotOfEpoch() public pure {
        TimeConfig memory cfg = _cfg();
        assertEq(Epoch.unwrap(cfg.epochOf(Slot.wrap(0))), 0);
        assertEq(Epoch.unwrap(cfg.epochOf(Slot.wrap(EPOCH_DURATION - 1))), 0);
        assertEq(Epoch.unwrap(cfg.epochOf(Slot.wrap(EPOCH_DURATION))), 1);
        assertEq(Epoch.unwrap(cfg.epochOf(Slot.wrap(2 * EPOCH_DURATION - 1))), 1);
        assertEq(Epoch.unwrap(cfg.epochOf(Slot.wrap(2 * EPOCH_DURATION))), 2);
        assertEq(cfg.slotInEpoch(Slot.wrap(EPOCH_DURATION - 1)), EPOCH_DURATION - 1);
        assertEq(cfg.slotInEpoch(Slot.wrap(EPOCH_DURATION)), 0);
    }

    function test_slotAt_RevertWhen_BeforeGenesis() public {
        vm.expectRevert(stdError.arithmeticError);
        harness.slotAt(_cfg(), Timestamp.wrap(GENESIS - 1));
    }

    function test_epochAt_RevertWhen_BeforeGenesis() public {
        vm.expectRevert(stdError.arithmeticError);
        harness.epochAt(_cfg(), Timestamp.wrap(GENESIS - 1));
    }

    function testFuzz_slotAt_RevertWhen_BeforeGenesis(uint256 genesis, uint256 slotDuration, uint256 t)
        public
    {
        TimeConfig memory cfg = _fuzzCfg(genesis, slotDuration, 1);
        cfg.genesisTime = bound(cfg.genesisTime, 1, type(uint64).max);
        t = bound(t, 0, cfg.genesisTime - 1);
        vm.expectRevert(stdError.arithmeticError);
        harness.slotAt(cfg, Timestamp.wrap(t));
    }

    // ----------------------------------------------------------------------------------------
    // Round trips and brackets
    // ----------------------------------------------------------------------------------------

    function testFuzz_slotAt_InvertsSlotStart(
        uint256 genesis,
        uint256 slotDuration,
        uint256 epochDuration,
        uint256 s
    ) public pure {
        TimeConfig memory cfg = _fuzzCfg(genesis, slotDuration, epochDuration);
        s = bound(s, 0, type(uint64).max);
        assertEq(Slot.unwrap(cfg.slotAt(cfg.slotStart(Slot.wrap(s)))), s);
    }

    function testFuzz_slotStart_BracketsTime(
        uint256 genesis,
        uint256 slotDuration,
        uint256 epochDuration,
        uint256 t
    ) public pure {
        TimeConfig memory cfg = _fuzzCfg(genesis, slotDuration, epochDuration);
        t = bound(t, cfg.genesisTime, cfg.genesisTime + type(uint96).max);
        Slot s = cfg.slotAt(Timestamp.wrap(t));
        uint256 start = Timestamp.unwrap(cfg.slotStart(s));
        assertLe(start, t);
        assertLt(t, start + cfg.slotDuration);
        // The formula of SPEC 2, written out.
        assertEq(Slot.unwrap(s), (t - cfg.genesisTime) / cfg.slotDuration);
    }

    function testFuzz_epochStart_BracketsTime(
        uint256 genesis,
        uint256 slotDuration,
        uint256 epochDuration,
        uint256 t
    ) public pure {
        TimeConfig memory cfg = _fuzzCfg(genesis, slotDuration, epochDuration);
        t = bound(t, cfg.genesisTime, cfg.genesisTime + type(uint96).max);
        Epoch e = cfg.epochAt(Timestamp.wrap(t));
        uint256 start = Timestamp.unwrap(cfg.epochStart(e));
        assertLe(start, t);
        assertLt(t, start + cfg.slotDuration * cfg.epochDuration);
        assertEq(Epoch.unwrap(e), ((t - cfg.genesisTime) / cfg.slotDuration) / cfg.epochDuration);
    }

    function testFuzz_epochOf_InvertsFirstSlot(
        uint256 genesis,
        uint256 slotDuration,
        uint256 epochDuration,
        uint256 e
    ) public pure {
        TimeConfig memory cfg = _fuzzCfg(genesis, slotDuration, epochDuration);
        e = bound(e, 0, type(uint64).max);
        Slot first = cfg.firstSlot(Epoch.wrap(e));
        assertEq(Epoch.unwrap(cfg.epochOf(first)), e);
        assertEq(cfg.slotInEpoch(first), 0);
        // The epoch's last slot is still in it; the next one is not.
        Slot last = Slot.wrap(Slot.unwrap(first) + cfg.epochDuration - 1);
        assertEq(Epoch.unwrap(cfg.epochOf(last)), e);
        assertEq(cfg.slotInEpoch(last), cfg.epochDuration - 1);
        assertEq(Epoch.unwrap(cfg.epochOf(Slot.wrap(Slot.unwrap(last) + 1))), e + 1);
        assertEq(Timestamp.unwrap(cfg.epochStart(Epoch.wrap(e))), Timestamp.unwrap(cfg.slotStart(first)));
    }

    function testFuzz_slotInEpoch_InRange(uint256 epochDuration, uint256 s) public pure {
        TimeConfig memory cfg = _fuzzCfg(0, 1, epochDuration);
        uint256 pos = cfg.slotInEpoch(Slot.wrap(s));
        assertLt(pos, cfg.epochDuration);
        // A slot is its epoch's first slot plus its position in the epoch.
        assertEq(Slot.unwrap(cfg.firstSlot(cfg.epochOf(Slot.wrap(s)))) + pos, s);
    }

    function testFuzz_slotAt_Monotonic(
        uint256 genesis,
        uint256 slotDuration,
        uint256 epochDuration,
        uint256 t1,
        uint256 t2
    ) public pure {
        TimeConfig memory cfg = _fuzzCfg(genesis, slotDuration, epochDuration);
        t1 = bound(t1, cfg.genesisTime, type(uint128).max);
        t2 = bound(t2, t1, type(uint128).max);
        assertTrue(cfg.slotAt(Timestamp.wrap(t1)) <= cfg.slotAt(Timestamp.wrap(t2)));
        assertTrue(cfg.epochAt(Timestamp.wrap(t1)) <= cfg.epochAt(Timestamp.wrap(t2)));
    }

    function testFuzz_epochOf_Monotonic(uint256 epochDuration, uint256 s1, uint256 s2) public pure {
        TimeConfig memory cfg = _fuzzCfg(0, 1, epochDuration);
        s2 = bound(s2, s1, type(uint256).max);
        assertTrue(cfg.epochOf(Slot.wrap(s1)) <= cfg.epochOf(Slot.wrap(s2)));
    }

    // ----------------------------------------------------------------------------------------
    // Value-type operators
    // ----------------------------------------------------------------------------------------

    function testFuzz_SlotOperators_MatchUint(uint256 a, uint256 b) public pure {
        _checkSlotOps(a, b);
        _checkSlotOps(a, a);
        if (a < type(uint256).max) _checkSlotOps(a, a + 1);
        if (a > 0) _checkSlotOps(a, a - 1);
    }

    function testFuzz_EpochOperators_MatchUint(uint256 a, uint256 b) public pure {
        _checkEpochOps(a, b);
        _checkEpochOps(a, a);
        if (a < type(uint256).max) _checkEpochOps(a, a + 1);
        if (a > 0) _checkEpochOps(a, a - 1);
    }

    function _checkSlotOps(uint256 a, uint256 b) internal pure {
        Slot x = Slot.wrap(a);
        Slot y = Slot.wrap(b);
        assertEq(x == y, a == b, "==");
        assertEq(x != y, a != b, "!=");
        assertEq(x < y, a < b, "<");
        assertEq(x <= y, a <= b, "<=");
        assertEq(x > y, a > b, ">");
        assertEq(x >= y, a >= b, ">=");
    }

    function _checkEpochOps(uint256 a, uint256 b) internal pure {
        Epoch x = Epoch.wrap(a);
        Epoch y = Epoch.wrap(b);
        assertEq(x == y, a == b, "==");
        assertEq(x != y, a != b, "!=");
        assertEq(x < y, a < b, "<");
        assertEq(x <= y, a <= b, "<=");
        assertEq(x > y, a > b, ">");
        assertEq(x >= y, a >= b, ">=");
    }
}
