// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofArgs, EpochRewards, FeeRecipient, IRollup} from "../../contracts/interfaces/IRollup.sol";
import {SignedEpochProofQuote} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, Slot} from "../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";

contract SubmitEpochRootProofTest is ProvingBase {
    uint256 internal constant E = 2;
    uint256 internal constant BLOCKS = 5;

    function setUp() public {
        _setUpProving(64);
        _fillEpoch(E, BLOCKS);
    }

    function _claimed() internal {
        _claimAt(E, 0, _signedQuote(E));
    }

    function _expectSubmitRevert(EpochProofArgs memory a, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(submitter);
        rollup.submitEpochRootProof(a);
    }

    function test_submit_AdvancesProvenTipAndPays() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        vm.expectEmit(address(rollup));
        emit IRollup.L2ProofVerified(E, BLOCKS, prover);
        _submit(a);

        assertEq(rollup.getProvenBlockNumber(), BLOCKS);
        assertEq(escrow.stakedBalance(prover), 0, "bond not released");
        assertEq(escrow.freeBalance(prover), 10 * MIN_BOND);
        assertEq(rollup.getProofClaim(Epoch.wrap(E)).bondProvider, address(0), "claim not deleted");
        uint256 total = BLOCKS * BLOCK_REWARD;
        for (uint256 i = 0; i < a.fees.length; ++i) {
            total += a.fees[i].value;
        }
        // The submitter reward goes to the prover the proof binds, not to who sent it (F-07).
        assertEq(rollup.rewardsOf(prover), total * 2000 / 10_000 + SUBMITTER_REWARD, "prover share");
        assertEq(rollup.rewardsOf(submitter), 0);
        EpochRewards memory r = rollup.getEpochRewards(Epoch.wrap(E));
        assertEq(r.feesHash, keccak256(abi.encode(a.fees)));
        assertEq(r.proposerShareBps, 8000);
        assertEq(r.blockReward, BLOCK_REWARD, "a funded pool pays the whole block reward");
    }

    function test_submit_LastSecondOfNextEpoch() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        vm.warp(genesis + (E + 2) * EPOCH_DURATION * SLOT_DURATION - 1);
        _submit(a);
        assertEq(rollup.getProvenBlockNumber(), BLOCKS);
    }

    function test_submit_RevertWhen_OneSecondAfterDeadline() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        vm.warp(genesis + (E + 2) * EPOCH_DURATION * SLOT_DURATION);
        _expectSubmitRevert(
            a,
            abi.encodeWithSelector(
                Errors.Rollup__ProofDeadlinePassed.selector, Epoch.wrap(E), Epoch.wrap(E + 2)
            )
        );
    }

    function test_submit_RevertWhen_EpochNotOver() public {
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        _expectSubmitRevert(
            a, abi.encodeWithSelector(Errors.Rollup__EpochNotEnded.selector, Epoch.wrap(E), Epoch.wrap(E))
        );
    }

    function test_submit_RevertWhen_PartialEpoch() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS - 1, prover);
        _expectSubmitRevert(
            a, abi.encodeWithSelector(Errors.Rollup__InvalidEpochEnd.selector, BLOCKS, BLOCKS - 1)
        );
    }

    function test_submit_RevertWhen_TwoEpochs() public {
        _claimed();
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW + 1);
        _proposeNext(); // block BLOCKS + 1, in epoch E + 1
        EpochProofArgs memory a = _proofArgs(E, BLOCKS + 1, prover);
        _expectSubmitRevert(
            a, abi.encodeWithSelector(Errors.Rollup__InvalidEpochEnd.selector, BLOCKS, BLOCKS + 1)
        );
        // The exact epoch still goes through, and the next epoch becomes the one to prove.
        _submit(_proofArgs(E, BLOCKS, prover));
        assertEq(Epoch.unwrap(rollup.getEpochToProve()), E + 1);
    }

    function test_submit_RevertWhen_WrongEpoch() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        a.epoch = Epoch.wrap(E + 1);
        _expectSubmitRevert(
            a,
            abi.encodeWithSelector(Errors.Rollup__NotEpochToProve.selector, Epoch.wrap(E), Epoch.wrap(E + 1))
        );
    }

    function test_submit_RevertWhen_ArchivesDoNotMatch() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        bytes32 previous = a.previousArchive;
        a.previousArchive = keccak256("other");
        _expectSubmitRevert(
            a,
            abi.encodeWithSelector(
                Errors.Rollup__InvalidPreviousArchive.selector, previous, a.previousArchive
            )
        );
        a = _proofArgs(E, BLOCKS, prover);
        bytes32 end = a.endArchive;
        a.endArchive = keccak256("other");
        _expectSubmitRevert(
            a, abi.encodeWithSelector(Errors.Rollup__InvalidEndArchive.selector, end, a.endArchive)
        );
    }

    function test_submit_RevertWhen_ProverIsNotBondProvider() public {
        _claimed();
        address thief = makeAddr("thief");
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, thief);
        _expectSubmitRevert(a, abi.encodeWithSelector(Errors.Rollup__InvalidProver.selector, prover, thief));
    }

    function test_submit_RevertWhen_FeesLengthWrong() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        a.fees = new FeeRecipient[](BLOCKS - 1);
        _expectSubmitRevert(
            a, abi.encodeWithSelector(Errors.Rollup__InvalidFeesLength.selector, BLOCKS, BLOCKS - 1)
        );
    }

    /// @dev The proof binds the fees: changing one after proving makes the verifier refuse it.
    function test_submit_RevertWhen_FeesAlteredAfterProving() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        a.fees[0].value += 1;
        _expectSubmitRevert(a, abi.encodeWithSelector(Errors.Rollup__InvalidProof.selector));
    }

    function test_submit_RevertWhen_VerifierRefuses() public {
        _claimed();
        verifier.setAccepting(false);
        _expectSubmitRevert(
            _proofArgs(E, BLOCKS, prover), abi.encodeWithSelector(Errors.Rollup__InvalidProof.selector)
        );
    }

    function test_submit_UnclaimedInsideWindowIsAccepted() public {
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW - 1);
        _submit(_proofArgs(E, BLOCKS, address(0xCAFE)));
        assertEq(rollup.getProvenBlockNumber(), BLOCKS);
        assertEq(rollup.getEpochRewards(Epoch.wrap(E)).proposerShareBps, 10_000, "no quote, no prover fee");
        assertEq(rollup.rewardsOf(address(0xCAFE)), SUBMITTER_REWARD, "only the submitter reward");
    }

    function test_submit_RevertWhen_UnclaimedPastWindow() public {
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW);
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        _expectSubmitRevert(
            a,
            abi.encodeWithSelector(
                Errors.Rollup__UnclaimedPastClaimWindow.selector,
                Epoch.wrap(E),
                Slot.wrap((E + 1) * EPOCH_DURATION + CLAIM_WINDOW),
                Slot.wrap((E + 1) * EPOCH_DURATION + CLAIM_WINDOW)
            )
        );
    }

    function test_submit_RevertWhen_AlreadyProven() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        _submit(a);
        _expectSubmitRevert(a, abi.encodeWithSelector(Errors.Rollup__NoEpochToProve.selector));
    }

    // ---------------------------------------------------------------- rewards

    function test_claimBlockRewards_PaysEachBlockOnce() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        _submit(a);
        uint256[] memory idx = new uint256[](2);
        idx[0] = 0;
        idx[1] = 3;
        rollup.claimBlockRewards(Epoch.wrap(E), a.fees, idx);
        uint256 expected0 = (BLOCK_REWARD + a.fees[0].value) * 8000 / 10_000;
        uint256 expected3 = (BLOCK_REWARD + a.fees[3].value) * 8000 / 10_000;
        if (a.fees[0].recipient == a.fees[3].recipient) {
            assertEq(rollup.rewardsOf(a.fees[0].recipient), expected0 + expected3);
        } else {
            assertEq(rollup.rewardsOf(a.fees[0].recipient), expected0);
            assertEq(rollup.rewardsOf(a.fees[3].recipient), expected3);
        }
        uint256[] memory again = new uint256[](1);
        again[0] = 3;
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__RewardAlreadyClaimed.selector, Epoch.wrap(E), 3)
        );
        rollup.claimBlockRewards(Epoch.wrap(E), a.fees, again);
    }

    function test_claimBlockRewards_RevertWhen_BadInput() public {
        _claimed();
        EpochProofArgs memory a = _proofArgs(E, BLOCKS, prover);
        uint256[] memory idx = new uint256[](1);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__EpochNotProven.selector, Epoch.wrap(E)));
        rollup.claimBlockRewards(Epoch.wrap(E), a.fees, idx);
        _submit(a);
        idx[0] = BLOCKS;
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__BlockIndexOutOfRange.selector, BLOCKS, BLOCKS));
        rollup.claimBlockRewards(Epoch.wrap(E), a.fees, idx);
        FeeRecipient[] memory forged = a.fees;
        bytes32 real = keccak256(abi.encode(a.fees));
        forged[0].recipient = address(this);
        idx[0] = 0;
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__InvalidFees.selector, real, keccak256(abi.encode(forged)))
        );
        rollup.claimBlockRewards(Epoch.wrap(E), forged, idx);
    }

    function test_withdrawRewards_TransfersAndZeroes() public {
        _claimed();
        _submit(_proofArgs(E, BLOCKS, prover));
        address to = makeAddr("payee");
        uint256 owed = rollup.rewardsOf(prover);
        assertGt(owed, 0);
        vm.prank(prover);
        rollup.withdrawRewards(to);
        assertEq(rewardAsset.balanceOf(to), owed);
        assertEq(rollup.rewardsOf(prover), 0);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__NoRewards.selector, prover));
        vm.prank(prover);
        rollup.withdrawRewards(to);
    }
}
