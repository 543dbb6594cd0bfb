// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Rollup} from "../../contracts/core/Rollup.sol";
import {
    CommitteeAttestations,
    IRollup,
    ProofClaim,
    ProposeArgs,
    Signature
} from "../../contracts/interfaces/IRollup.sol";
import {EpochProofQuote, SignedEpochProofQuote} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, Slot, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";

contract ClaimEpochProofRightTest is ProvingBase {
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant E = 2;

    function setUp() public {
        _setUpProving(64);
        _fillEpoch(E, 4);
    }

    /// @dev Warps into slot k of the window and returns that slot's proposer.
    function _enterWindow(uint256 k) internal returns (address) {
        _warpToSlot((E + 1) * EPOCH_DURATION + k);
        rollup.setupEpoch();
        return _proposer();
    }

    function _expectClaimRevert(SignedEpochProofQuote memory q, address from, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(from);
        rollup.claimEpochProofRight(q);
    }

    function test_claim_StakesBondAndEmits() public {
        address proposer = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.expectEmit(address(rollup));
        emit IRollup.ProofRightClaimed(E, prover, proposer, MIN_BOND, (E + 1) * EPOCH_DURATION);
        vm.prank(proposer);
        rollup.claimEpochProofRight(q);

        ProofClaim memory c = rollup.getProofClaim(Epoch.wrap(E));
        assertEq(c.bondProvider, prover);
        assertEq(c.bondAmount, MIN_BOND);
        assertEq(c.basisPointFee, 2000);
        assertEq(escrow.stakedBalance(prover), MIN_BOND);
        assertEq(escrow.freeBalance(prover), 9 * MIN_BOND);
    }

    function test_claim_InLastSlotOfWindow() public {
        address proposer = _enterWindow(CLAIM_WINDOW - 1);
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.prank(proposer);
        rollup.claimEpochProofRight(q);
        assertEq(rollup.getProofClaim(Epoch.wrap(E)).bondProvider, prover);
    }

    /// @dev Slot C is past the window: the unclaimed epoch is due to be pruned, so a claim there
    ///      prunes first and finds nothing left to claim (and the whole transaction reverts).
    function test_claim_RevertWhen_OneSlotPastWindow() public {
        address proposer = _enterWindow(CLAIM_WINDOW);
        assertTrue(rollup.canPrune());
        _expectClaimRevert(
            _signedQuote(E), proposer, abi.encodeWithSelector(Errors.Rollup__NoEpochToProve.selector)
        );
    }

    function test_claim_RevertWhen_EpochNotOver() public {
        _warpToSlot(E * EPOCH_DURATION + EPOCH_DURATION - 1);
        Slot start = Slot.wrap((E + 1) * EPOCH_DURATION);
        _expectClaimRevert(
            _signedQuote(E),
            _proposer(),
            abi.encodeWithSelector(
                Errors.Rollup__NotInClaimPhase.selector,
                start,
                Slot.wrap(Slot.unwrap(start) + CLAIM_WINDOW),
                rollup.getCurrentSlot()
            )
        );
    }

    function test_claim_RevertWhen_ProposerOfAnotherSlot() public {
        address proposer = _enterWindow(3);
        // The proposer of slot 4, sent in slot 3.
        address other = rollup.getProposerAt(Timestamp.wrap(vm.getBlockTimestamp() + SLOT_DURATION));
        if (other == proposer) other = makeAddr("someone");
        _expectClaimRevert(
            _signedQuote(E),
            other,
            abi.encodeWithSelector(Errors.Rollup__InvalidProposer.selector, proposer, other)
        );
    }

    function test_claim_RevertWhen_AlreadyClaimed() public {
        address first = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.prank(first);
        rollup.claimEpochProofRight(q);
        address second = _enterWindow(1);
        _expectClaimRevert(
            _signedQuote(E),
            second,
            abi.encodeWithSelector(Errors.Rollup__ProofRightAlreadyClaimed.selector, Epoch.wrap(E), prover)
        );
    }

    function test_claim_RevertWhen_SignedBySomeoneElse() public {
        address proposer = _enterWindow(0);
        uint256 otherKey = uint256(keccak256("not the prover"));
        SignedEpochProofQuote memory q = _signQuote(_quote(E, MIN_BOND, 2000), otherKey);
        _expectClaimRevert(
            q,
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InvalidQuoteSignature.selector, prover, vm.addr(otherKey))
        );
    }

    function test_claim_RevertWhen_QuoteReplayedOnAnotherChain() public {
        address proposer = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.chainId(block.chainid + 1);
        bytes32 digestHere = rollup.quoteToDigest(q.quote);
        address recovered = ecrecover(digestHere, q.signature.v, q.signature.r, q.signature.s);
        _expectClaimRevert(
            q,
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InvalidQuoteSignature.selector, prover, recovered)
        );
    }

    function test_claim_RevertWhen_QuoteSignedForAnotherRollup() public {
        (Rollup other,) = _deployRollup(_config(K));
        EpochProofQuote memory quote = _quote(E, MIN_BOND, 2000);
        SignedEpochProofQuote memory q =
            SignedEpochProofQuote({quote: quote, signature: _sign(proverKey, other.quoteToDigest(quote))});
        address proposer = _enterWindow(0);
        address recovered =
            ecrecover(rollup.quoteToDigest(quote), q.signature.v, q.signature.r, q.signature.s);
        _expectClaimRevert(
            q,
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InvalidQuoteSignature.selector, prover, recovered)
        );
    }

    function test_claim_RevertWhen_QuoteForAnotherEpoch() public {
        address proposer = _enterWindow(0);
        _expectClaimRevert(
            _signedQuote(E + 1),
            proposer,
            abi.encodeWithSelector(
                Errors.Rollup__NotClaimingCorrectEpoch.selector, Epoch.wrap(E), Epoch.wrap(E + 1)
            )
        );
    }

    function test_claim_RevertWhen_MalleableSignature() public {
        address proposer = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        q.signature = Signature({
            v: q.signature.v == 27 ? 28 : 27,
            r: q.signature.r,
            s: bytes32(SECP256K1_N - uint256(q.signature.s))
        });
        _expectClaimRevert(
            q,
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InvalidQuoteSignature.selector, prover, address(0))
        );
    }

    function test_claim_RevertWhen_MalformedSignature() public {
        address proposer = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        q.signature.v = 29;
        _expectClaimRevert(
            q,
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InvalidQuoteSignature.selector, prover, address(0))
        );
    }

    function test_claim_RevertWhen_QuoteExpired() public {
        address proposer = _enterWindow(5);
        EpochProofQuote memory quote = _quote(E, MIN_BOND, 2000);
        quote.validUntilSlot = (E + 1) * EPOCH_DURATION + 4;
        _expectClaimRevert(
            _signQuote(quote, proverKey),
            proposer,
            abi.encodeWithSelector(
                Errors.Rollup__QuoteExpired.selector,
                Slot.wrap((E + 1) * EPOCH_DURATION + 5),
                Slot.wrap(quote.validUntilSlot)
            )
        );
    }

    function test_claim_QuoteValidUntilThisSlot() public {
        address proposer = _enterWindow(5);
        EpochProofQuote memory quote = _quote(E, MIN_BOND, 2000);
        quote.validUntilSlot = (E + 1) * EPOCH_DURATION + 5;
        SignedEpochProofQuote memory q = _signQuote(quote, proverKey);
        vm.prank(proposer);
        rollup.claimEpochProofRight(q);
    }

    function test_claim_RevertWhen_FeeAbove10000() public {
        address proposer = _enterWindow(0);
        _expectClaimRevert(
            _signQuote(_quote(E, MIN_BOND, 10_001), proverKey),
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InvalidBasisPointFee.selector, 10_001)
        );
    }

    function test_claim_RevertWhen_BondBelowMinimum() public {
        address proposer = _enterWindow(0);
        _expectClaimRevert(
            _signQuote(_quote(E, MIN_BOND - 1, 2000), proverKey),
            proposer,
            abi.encodeWithSelector(Errors.Rollup__InsufficientBondAmount.selector, MIN_BOND, MIN_BOND - 1)
        );
    }

    /// @dev The prover has 10 bonds' worth, but 9.5 of them mature out before the proof deadline
    ///      of epoch 5 (the start of epoch 7): started now, in epoch 2, they leave early in epoch 5.
    function test_claim_RevertWhen_EscrowWillNotHoldBondAtDeadline() public {
        vm.prank(prover);
        escrow.startWithdraw(9 * MIN_BOND + MIN_BOND / 2);
        _fillEpoch(5, 2); // prunes the unclaimed epoch 2 first
        _warpToSlot(6 * EPOCH_DURATION);
        rollup.setupEpoch();
        SignedEpochProofQuote memory q = _signQuote(_quote(5, MIN_BOND, 2000), proverKey);
        _expectClaimRevert(
            q,
            _proposer(),
            abi.encodeWithSelector(Errors.Rollup__InsufficientEscrowBalance.selector, MIN_BOND, MIN_BOND / 2)
        );
    }

    /// @dev A withdrawal that matures only after the deadline still backs the bond.
    function test_claim_PendingWithdrawalAfterDeadlineStillCounts() public {
        _warpToSlot(E * EPOCH_DURATION + EPOCH_DURATION - 1);
        vm.prank(prover);
        escrow.startWithdraw(10 * MIN_BOND);
        address proposer = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.prank(proposer);
        rollup.claimEpochProofRight(q);
        assertEq(escrow.stakedBalance(prover), MIN_BOND);
    }

    function test_claim_RevertWhen_NothingToProve() public {
        (Rollup fresh,) = _deployRollup(_config(K));
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.expectRevert(Errors.Rollup__NoEpochToProve.selector);
        fresh.claimEpochProofRight(q);
    }

    function test_proposeAndClaim_DoesBoth() public {
        _enterWindow(2);
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        SignedEpochProofQuote memory q = _signedQuote(E);
        vm.prank(_proposer());
        rollup.proposeAndClaim(args, att, q);
        assertEq(rollup.getPendingBlockNumber(), 5);
        assertEq(rollup.getProofClaim(Epoch.wrap(E)).bondProvider, prover);
    }

    function test_validateEpochProofRightClaim_MirrorsClaim() public {
        address proposer = _enterWindow(0);
        SignedEpochProofQuote memory q = _signedQuote(E);
        rollup.validateEpochProofRightClaim(q, proposer);
        vm.expectRevert(
            abi.encodeWithSelector(Errors.Rollup__InvalidProposer.selector, proposer, address(this))
        );
        rollup.validateEpochProofRightClaim(q, address(this));
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW);
        vm.expectRevert(Errors.Rollup__NoEpochToProve.selector);
        rollup.validateEpochProofRightClaim(q, proposer);
    }

    function test_getClaimableEpoch_OnlyInsideWindow() public {
        _enterWindow(0);
        assertEq(Epoch.unwrap(rollup.getClaimableEpoch()), E);
        _warpToSlot((E + 1) * EPOCH_DURATION + CLAIM_WINDOW);
        vm.expectRevert(Errors.Rollup__NoEpochToProve.selector);
        rollup.getClaimableEpoch();
    }
}
