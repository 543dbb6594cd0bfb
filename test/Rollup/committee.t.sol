// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProverEscrow} from "../../contracts/core/ProverEscrow.sol";
import {Rollup} from "../../contracts/core/Rollup.sol";
import {IRollup, RollupConfig} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {SampleLib} from "../../contracts/libraries/SampleLib.sol";
import {Epoch, Slot, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {Vm} from "forge-std/Vm.sol";

import {RollupBase} from "../harnesses/RollupBase.sol";

contract CommitteeTest is RollupBase {
    /// @dev Epoch 1 is set up (as a live chain's first block would), so epoch 2's seed is drawn.
    function setUp() public {
        _deploy(8);
        _stakeValidators(20);
        _warpToEpoch(1);
        rollup.setupEpoch();
        _warpToEpoch(2);
    }

    function test_getCommitteeAt_SizeIsMinOfTargetAndSet() public view {
        assertEq(rollup.getCommitteeAt(Epoch.wrap(2)).length, 8);
        assertEq(rollup.getCommitteeAt(Epoch.wrap(1)).length, 0); // drawn from the empty genesis set
    }

    function test_getCommitteeAt_SmallSetTakesEveryone() public {
        _deploy(48);
        _stakeValidators(5);
        _warpToEpoch(2);
        rollup.setupEpoch();
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(2));
        assertEq(committee.length, 5);
        assertEq(rollup.quorum(5), 4);
    }

    /// @dev The next epoch's seed is drawn when this one is set up, and not before: until then
    ///      its committee, seed and proposers are unknown, and said so.
    function test_getCommitteeAt_RevertWhen_SeedNotDrawnYet() public {
        bytes memory notFixed = abi.encodeWithSelector(Errors.Rollup__SeedNotFixed.selector, Epoch.wrap(3));
        vm.expectRevert(notFixed);
        rollup.getCommitteeAt(Epoch.wrap(3));
        vm.expectRevert(notFixed);
        rollup.getSampleSeed(Epoch.wrap(3));
        vm.expectRevert(notFixed);
        rollup.getProposerAt(Timestamp.wrap(genesis + 3 * EPOCH_DURATION * SLOT_DURATION));

        rollup.setupEpoch();
        assertEq(rollup.getCommitteeAt(Epoch.wrap(3)).length, 8);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__SeedNotFixed.selector, Epoch.wrap(4)));
        rollup.getCommitteeAt(Epoch.wrap(4));
    }

    /// @dev An epoch whose predecessor was never set up draws its seed when it is set up itself
    ///      (its set, keyed the epoch before, is final by then): unknown before, fixed after, and no
    ///      later stake or exit moves it.
    function test_setupEpoch_DrawsTheSeedOfAnEpochAfterAnIdleOne() public {
        _warpToEpoch(4); // epochs 2 and 3 never set up
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__SeedNotFixed.selector, Epoch.wrap(4)));
        rollup.getCommitteeAt(Epoch.wrap(4));
        vm.prevrandao(bytes32(uint256(0xbeef)));
        rollup.setupEpoch();
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(4));
        address proposer = _proposer();
        _stakeValidators(10);
        vm.prank(committee[0]);
        rollup.initiateExit(committee[0]);
        assertEq(rollup.getCommitteeAt(Epoch.wrap(4)), committee);
        assertEq(_proposer(), proposer);
        // ...and the next epoch's seed is drawn already: one epoch of lookahead again.
        assertEq(rollup.getCommitteeAt(Epoch.wrap(5)).length, 8);
    }

    /// @dev SPEC 3: epoch N's committee and proposers are known from the start of epoch N-1 (once it
    ///      is set up) and no later stake, exit or seed write changes them.
    function test_lookahead_NextEpochFixedAgainstChangesDuringThisEpoch() public {
        rollup.setupEpoch();
        Epoch next = Epoch.wrap(3);
        address[] memory before = rollup.getCommitteeAt(next);
        bytes32 seedBefore = rollup.getSampleSeed(next);
        address proposerBefore =
            rollup.getProposerAt(Timestamp.wrap(genesis + 3 * EPOCH_DURATION * SLOT_DURATION));

        _stakeValidators(30);
        address leaver = before[0];
        vm.prank(leaver);
        rollup.initiateExit(leaver);
        vm.prevrandao(bytes32(uint256(0xdead)));
        rollup.setupEpoch();
        _warpToEpoch(3);
        rollup.setupEpoch();

        assertEq(keccak256(abi.encode(rollup.getCommitteeAt(next))), keccak256(abi.encode(before)));
        assertEq(rollup.getSampleSeed(next), seedBefore);
        assertEq(rollup.getProposerAt(Timestamp.wrap(block.timestamp)), proposerBefore);
        // ...while the epoch after sees the changes.
        assertEq(rollup.getValidatorSetFor(Epoch.wrap(4)).length, 49);
    }

    function test_setupEpoch_StoresTheCommitteeAsCode() public {
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(2));
        vm.recordLogs();
        rollup.setupEpoch();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IRollup.EpochSetUp.selector);
        assertEq(uint256(logs[0].topics[1]), 2);
        (bytes32 seed, address pointer, uint256 size) = abi.decode(logs[0].data, (bytes32, address, uint256));
        assertEq(seed, rollup.getSampleSeed(Epoch.wrap(2)));
        assertEq(size, committee.length);
        bytes memory packed;
        for (uint256 i = 0; i < committee.length; ++i) {
            packed = abi.encodePacked(packed, committee[i]);
        }
        // SSTORE2: the data follows a leading STOP byte.
        assertEq(pointer.code, abi.encodePacked(hex"00", packed));
    }

    function test_setupEpoch_IsIdempotent() public {
        rollup.setupEpoch();
        vm.recordLogs();
        rollup.setupEpoch();
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_committee_MembersAreDistinctStakedValidators() public view {
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(2));
        for (uint256 i = 0; i < committee.length; ++i) {
            assertTrue(keyOf[committee[i]] != 0, "not a staked validator");
            for (uint256 j = 0; j < i; ++j) {
                assertTrue(committee[i] != committee[j], "duplicate member");
            }
        }
    }

    function test_getProposerAt_FollowsSpecFormula() public view {
        address[] memory committee = rollup.getCommitteeAt(Epoch.wrap(2));
        bytes32 seed = rollup.getSampleSeed(Epoch.wrap(2));
        for (uint256 s = 64; s < 96; ++s) {
            address expected = committee[SampleLib.proposerIndex(2, s, seed, committee.length)];
            assertEq(rollup.getProposerAt(Timestamp.wrap(genesis + s * SLOT_DURATION)), expected);
            assertEq(
                rollup.getProposerAt(Timestamp.wrap(genesis + s * SLOT_DURATION + SLOT_DURATION - 1)),
                expected
            );
        }
    }

    function test_committee_DiffersAcrossEpochs() public {
        _warpToEpoch(5);
        rollup.setupEpoch();
        address[] memory a = rollup.getCommitteeAt(Epoch.wrap(5));
        address[] memory b = rollup.getCommitteeAt(Epoch.wrap(6));
        assertTrue(keccak256(abi.encode(a)) != keccak256(abi.encode(b)));
    }

    function test_quorum_IsTwoThirdsPlusOne() public view {
        assertEq(rollup.quorum(48), 33);
        assertEq(rollup.quorum(3), 3);
        assertEq(rollup.quorum(1), 1);
        assertEq(rollup.quorum(256), 171);
    }

    function test_timeViews() public view {
        uint256 t = genesis + 2 * EPOCH_DURATION * SLOT_DURATION + 5 * SLOT_DURATION + 3;
        assertEq(Slot.unwrap(rollup.getSlotAt(Timestamp.wrap(t))), 2 * EPOCH_DURATION + 5);
        assertEq(Epoch.unwrap(rollup.getEpochAt(Timestamp.wrap(t))), 2);
        assertEq(Timestamp.unwrap(rollup.getTimestampForSlot(Slot.wrap(69))), genesis + 69 * SLOT_DURATION);
        assertEq(Slot.unwrap(rollup.getCurrentSlot()), 2 * EPOCH_DURATION);
        assertEq(Epoch.unwrap(rollup.getCurrentEpoch()), 2);
    }

    function test_getBlock_RevertWhen_AbovePendingTip() public {
        assertEq(rollup.getBlock(0).archive, GENESIS_ARCHIVE);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__BlockNotFound.selector, 0, 1));
        rollup.getBlock(1);
    }

    function test_getTips_StartAtGenesis() public view {
        assertEq(rollup.getTips().pendingBlockNumber, 0);
        assertEq(rollup.getTips().provenBlockNumber, 0);
    }
}

contract ConstructorTest is RollupBase {
    function setUp() public {
        _deployAssets();
    }

    function _expectDeployRevert(RollupConfig memory cfg, bytes memory err) internal {
        address predicted = _predictRollup();
        cfg.escrow = address(new ProverEscrow(bondAsset, predicted, ESCROW_DELAY));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        vm.expectRevert(err);
        new Rollup(cfg);
    }

    function test_constructor_StoresParameters() public {
        (Rollup r,) = _deployRollup(_config(48));
        assertEq(r.GENESIS_TIME(), block.timestamp);
        assertEq(r.SLOT_DURATION(), SLOT_DURATION);
        assertEq(r.EPOCH_DURATION(), EPOCH_DURATION);
        assertEq(r.TARGET_COMMITTEE_SIZE(), 48);
        assertEq(r.MIN_STAKE(), MIN_STAKE);
        assertEq(r.VALIDATOR_EXIT_DELAY(), EXIT_DELAY);
        assertEq(address(r.STAKING_ASSET()), address(stakingAsset));
    }

    function test_constructor_RevertWhen_ZeroParameter() public {
        RollupConfig memory cfg = _config(48);
        cfg.stakingAsset = address(0);
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 0));
        cfg = _config(48);
        cfg.slotDuration = 0;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 1));
        cfg = _config(48);
        cfg.epochDuration = 0;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 2));
        cfg = _config(0);
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 3));
        cfg = _config(48);
        cfg.minStake = 0;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 4));
    }

    function test_constructor_RevertWhen_ProvingParameterZero() public {
        RollupConfig memory cfg = _config(48);
        cfg.rewardAsset = address(0);
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 5));
        cfg = _config(48);
        cfg.verifier = address(0);
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 7));
        cfg = _config(48);
        cfg.proofClaimWindow = 0;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 8));
        cfg = _config(48);
        cfg.minBond = 0;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 9));
        cfg = _config(48);
        cfg.slashBurnBps = 9000;
        cfg.slashRecipient = address(0);
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 10));
    }

    function test_constructor_RevertWhen_NoEscrow() public {
        RollupConfig memory cfg = _config(48);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__ZeroParameter.selector, 6));
        new Rollup(cfg);
    }

    function test_constructor_RevertWhen_EpochLongerThan224Slots() public {
        RollupConfig memory cfg = _config(48);
        cfg.epochDuration = 225;
        cfg.validatorExitDelay = 2 * 225 * SLOT_DURATION;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__EpochTooLong.selector, 224, 225));
    }

    function test_constructor_RevertWhen_ClaimWindowLongerThanEpoch() public {
        RollupConfig memory cfg = _config(48);
        cfg.proofClaimWindow = EPOCH_DURATION + 1;
        _expectDeployRevert(
            cfg,
            abi.encodeWithSelector(
                Errors.Rollup__InvalidClaimWindow.selector, EPOCH_DURATION, EPOCH_DURATION + 1
            )
        );
    }

    function test_constructor_RevertWhen_SlashBurnAbove10000() public {
        RollupConfig memory cfg = _config(48);
        cfg.slashBurnBps = 10_001;
        _expectDeployRevert(cfg, abi.encodeWithSelector(Errors.Rollup__InvalidSlashBurnBps.selector, 10_001));
    }

    /// @dev An escrow bound to another address cannot be used: nothing binds it afterwards.
    function test_constructor_RevertWhen_EscrowBoundElsewhere() public {
        RollupConfig memory cfg = _config(48);
        address predicted = _predictRollup();
        cfg.escrow = address(new ProverEscrow(bondAsset, makeAddr("another rollup"), ESCROW_DELAY));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        vm.expectRevert(
            abi.encodeWithSelector(
                Errors.Rollup__EscrowNotBound.selector, predicted, makeAddr("another rollup")
            )
        );
        new Rollup(cfg);
    }

    /// @dev A quote's bond is due up to two epochs after it is priced: an escrow whose withdrawals
    ///      complete sooner cannot back quotes.
    function test_constructor_RevertWhen_EscrowDelayNotAboveTwoEpochs() public {
        RollupConfig memory cfg = _config(48);
        uint256 twoEpochs = 2 * EPOCH_DURATION * SLOT_DURATION;
        address predicted = _predictRollup();
        cfg.escrow = address(new ProverEscrow(bondAsset, predicted, twoEpochs));
        cfg.forcedInclusionQueue = address(_deployQueue(cfg, predicted));
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__EscrowDelayTooShort.selector, twoEpochs + 1, twoEpochs)
        );
        new Rollup(cfg);
    }

    function test_constructor_RevertWhen_CommitteeAbove256() public {
        _expectDeployRevert(
            _config(257), abi.encodeWithSelector(Errors.Rollup__CommitteeTooLarge.selector, 256, 257)
        );
        _deployRollup(_config(256));
    }

    function test_constructor_RevertWhen_ExitDelayBelowTwoEpochs() public {
        RollupConfig memory cfg = _config(48);
        uint256 min = 2 * EPOCH_DURATION * SLOT_DURATION;
        cfg.validatorExitDelay = min - 1;
        _expectDeployRevert(
            cfg, abi.encodeWithSelector(Errors.Rollup__ExitDelayTooShort.selector, min, min - 1)
        );
        cfg.validatorExitDelay = min;
        _deployRollup(cfg);
    }

    function test_constructor_RevertWhen_GenesisInFuture() public {
        RollupConfig memory cfg = _config(48);
        cfg.genesisTime = block.timestamp + 1;
        _expectDeployRevert(
            cfg,
            abi.encodeWithSelector(
                Errors.Rollup__GenesisInFuture.selector, block.timestamp, block.timestamp + 1
            )
        );
    }

    function test_constructor_GenesisInThePastIsKept() public {
        RollupConfig memory cfg = _config(48);
        cfg.genesisTime = block.timestamp - 100 * SLOT_DURATION;
        (Rollup r,) = _deployRollup(cfg);
        assertEq(Slot.unwrap(r.getCurrentSlot()), 100);
    }
}
