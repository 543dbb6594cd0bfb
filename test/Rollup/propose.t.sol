// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CommitteeAttestations, IRollup, ProposeArgs, Signature} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Epoch, Slot} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

contract ProposeTest is RollupBase {
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public {
        _deploy(K);
        _stakeValidators(64);
        _warpToEpoch(2); // validators staked in epoch 0 sit in the set drawn for epoch 2
    }

    function _propose(ProposeArgs memory args, CommitteeAttestations memory att) internal {
        vm.prank(_proposer());
        rollup.propose(args, att);
    }

    function _expectProposeRevert(ProposeArgs memory args, CommitteeAttestations memory att, bytes memory err)
        internal
    {
        address proposer = _proposer();
        vm.expectRevert(err);
        vm.prank(proposer);
        rollup.propose(args, att);
    }

    function test_propose_AppendsBlockAndEmits() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        vm.expectEmit(address(rollup));
        emit IRollup.L2BlockProposed(1, args.archive, Slot.unwrap(args.slot));
        _propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 1);
        assertEq(rollup.getProvenBlockNumber(), 0);
        assertEq(rollup.getBlock(1).archive, args.archive);
    }

    /// @dev Across an epoch boundary, staying inside the next epoch's claim window (after it, an
    ///      unclaimed epoch is pruned: see test/Rollup/prune.t.sol).
    function test_propose_ChainsAcrossSlotsAndEpochs() public {
        uint256 first = 2 * EPOCH_DURATION;
        uint256 n;
        for (uint256 s = first; s < first + EPOCH_DURATION + CLAIM_WINDOW; s += 5) {
            _warpToSlot(s);
            ProposeArgs memory args = _proposeNext();
            assertEq(args.previousArchive, rollup.getBlock(args.blockNumber - 1).archive);
            ++n;
        }
        assertEq(rollup.getPendingBlockNumber(), n);
        assertEq(Epoch.unwrap(rollup.getEpochToProve()), 2);
    }

    function test_propose_ExactQuorumSuffices() public {
        ProposeArgs memory args = _nextArgs();
        _propose(args, _attest(args, 33)); // floor(2*48/3)+1
        assertEq(rollup.getPendingBlockNumber(), 1);
    }

    function test_propose_RevertWhen_BelowQuorum() public {
        ProposeArgs memory args = _nextArgs();
        _expectProposeRevert(
            args,
            _attest(args, 32),
            abi.encodeWithSelector(Errors.Rollup__InsufficientAttestations.selector, 33, 32)
        );
    }

    function test_propose_RevertWhen_NotCurrentSlot() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        args.slot = Slot.wrap(Slot.unwrap(args.slot) + 1);
        _expectProposeRevert(
            args,
            att,
            abi.encodeWithSelector(Errors.Rollup__InvalidSlot.selector, rollup.getCurrentSlot(), args.slot)
        );
    }

    function test_propose_RevertWhen_SlotAlreadyUsed() public {
        ProposeArgs memory first = _proposeNext();
        ProposeArgs memory args = _nextArgs();
        _expectProposeRevert(
            args,
            _quorumAttest(args),
            abi.encodeWithSelector(Errors.Rollup__SlotAlreadyUsed.selector, first.slot, args.slot)
        );
    }

    function test_propose_RevertWhen_WrongBlockNumber() public {
        ProposeArgs memory args = _nextArgs();
        args.blockNumber = 2;
        _expectProposeRevert(
            args,
            _quorumAttest(args),
            abi.encodeWithSelector(Errors.Rollup__InvalidBlockNumber.selector, 1, 2)
        );
    }

    function test_propose_RevertWhen_WrongPreviousArchive() public {
        ProposeArgs memory args = _nextArgs();
        args.previousArchive = keccak256("fork");
        _expectProposeRevert(
            args,
            _quorumAttest(args),
            abi.encodeWithSelector(
                Errors.Rollup__InvalidArchive.selector, GENESIS_ARCHIVE, args.previousArchive
            )
        );
    }

    function test_propose_RevertWhen_BlobHashDiffers() public {
        ProposeArgs memory args = _nextArgs();
        bytes32 attached = args.blobHashes[0];
        args.blobHashes[0] = bytes32(uint256(attached) ^ 1);
        _expectProposeRevert(
            args,
            _quorumAttest(args),
            abi.encodeWithSelector(Errors.Rollup__InvalidBlobHash.selector, 0, args.blobHashes[0], attached)
        );
    }

    function test_propose_RevertWhen_BlobMissing() public {
        ProposeArgs memory args = _nextArgs();
        vm.blobhashes(new bytes32[](0));
        _expectProposeRevert(
            args,
            _quorumAttest(args),
            abi.encodeWithSelector(Errors.Rollup__InvalidBlobHash.selector, 0, args.blobHashes[0], bytes32(0))
        );
    }

    function test_propose_RevertWhen_ExtraBlobAttached() public {
        ProposeArgs memory args = _nextArgs();
        bytes32[] memory attached = new bytes32[](2);
        attached[0] = args.blobHashes[0];
        attached[1] = bytes32(uint256(1) << 248 | 7);
        vm.blobhashes(attached);
        _expectProposeRevert(
            args,
            _quorumAttest(args),
            abi.encodeWithSelector(Errors.Rollup__UnexpectedBlob.selector, 1, attached[1])
        );
    }

    function test_propose_RevertWhen_CallerIsNotProposer() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        address proposer = _proposer();
        address[] memory committee = rollup.getCommitteeAt(rollup.getCurrentEpoch());
        address other = committee[0] == proposer ? committee[1] : committee[0];
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__InvalidProposer.selector, proposer, other));
        vm.prank(other);
        rollup.propose(args, att);
    }

    /// @dev The committee is read from what the epoch's setup stored, never from the caller: a
    ///      quorum of signatures by non-members fails at the first of them.
    function test_propose_RevertWhen_QuorumSignedByOutsiders() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        bytes32 digest = rollup.proposalDigest(args);
        for (uint256 i = 0; i < att.signatures.length; ++i) {
            att.signatures[i] = _sign(uint256(keccak256(abi.encode("outsider", i))), digest);
        }
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 0));
    }

    function test_propose_RevertWhen_SignerBitBeyondCommittee() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        att.signers = (att.signers >> 1) | (1 << K); // same count, one bit past the committee
        _expectProposeRevert(
            args, att, abi.encodeWithSelector(Errors.Rollup__SignersOutOfRange.selector, K, att.signers)
        );
    }

    function test_propose_RevertWhen_SignatureCountDiffersFromSigners() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        att.signers |= 1 << 40;
        _expectProposeRevert(
            args, att, abi.encodeWithSelector(Errors.Rollup__SignatureCountMismatch.selector, 34, 33)
        );
    }

    function test_propose_RevertWhen_SignedByNonMember() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        att.signatures[3] = _sign(uint256(keccak256("outsider")), rollup.proposalDigest(args));
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 3));
    }

    /// @dev Bitmap positions make each member count once: member 0's signature reused at 1 fails.
    function test_propose_RevertWhen_DuplicateSigner() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        att.signatures[1] = att.signatures[0];
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 1));
    }

    function test_propose_RevertWhen_SignatureOverOtherProposal() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        args.stateRoot = keccak256("another state");
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 0));
    }

    /// @dev (r, n - s, v ^ 1) recovers the same signer; OpenZeppelin refuses the high-s twin.
    function test_propose_RevertWhen_MalleableSignature() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        Signature memory sig = att.signatures[2];
        att.signatures[2] =
            Signature({v: sig.v == 27 ? 28 : 27, r: sig.r, s: bytes32(SECP256K1_N - uint256(sig.s))});
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 2));
    }

    function test_propose_RevertWhen_MalformedSignature() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        att.signatures[4].v = 0;
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 4));
        att = _quorumAttest(args);
        att.signatures[4].r = bytes32(0);
        _expectProposeRevert(args, att, abi.encodeWithSelector(Errors.Rollup__InvalidAttestation.selector, 4));
    }

    function test_propose_AttestationsBindChainId() public {
        ProposeArgs memory args = _nextArgs();
        bytes32 digest = rollup.proposalDigest(args);
        vm.chainId(block.chainid + 1);
        assertTrue(rollup.proposalDigest(args) != digest, "digest ignores chain id");
    }

    /// forge-config: default.fuzz.runs = 48
    /// forge-config: ci.fuzz.runs = 128
    function testFuzz_propose_AnyQuorumSubsetOfMembersIsAccepted(uint256 signers) public {
        ProposeArgs memory args = _nextArgs();
        address[] memory committee = rollup.getCommitteeAt(rollup.getCurrentEpoch());
        signers &= (1 << committee.length) - 1;
        uint256 count;
        for (uint256 x = signers; x != 0; x &= x - 1) {
            ++count;
        }
        vm.assume(count >= 33);
        CommitteeAttestations memory att;
        att.signers = signers;
        att.signatures = new Signature[](count);
        bytes32 digest = rollup.proposalDigest(args);
        uint256 j;
        for (uint256 i = 0; i < committee.length; ++i) {
            if (signers & (1 << i) != 0) att.signatures[j++] = _sign(keyOf[committee[i]], digest);
        }
        _propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 1);
    }
}

/// @notice With no validators, proposing is open to anyone and needs no attestations (SPEC 3).
contract ProposeBootstrapTest is RollupBase {
    function setUp() public {
        _deploy(K);
    }

    function test_propose_AnyoneWhenNoValidators() public {
        assertEq(rollup.getCurrentProposer(), address(0));
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att;
        vm.prank(makeAddr("anyone"));
        rollup.propose(args, att);
        assertEq(rollup.getPendingBlockNumber(), 1);
    }

    function test_propose_RevertWhen_BootstrapBlockCarriesSigners() public {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att;
        att.signers = 1;
        att.signatures = new Signature[](1);
        vm.expectRevert(abi.encodeWithSelector(Errors.Rollup__SignersOutOfRange.selector, 0, 1));
        rollup.propose(args, att);
    }

    function test_propose_ValidatorsStakedNowOnlyCountTwoEpochsLater() public {
        _stakeValidators(3);
        // Epoch 0 and 1 draw from snapshots taken before the stakes: still open. (Each epoch is
        // set up as a live chain's first block would, so the next one's seed is drawn.)
        _warpToEpoch(1);
        rollup.setupEpoch();
        assertEq(rollup.getCurrentProposer(), address(0));
        _warpToEpoch(2);
        assertTrue(rollup.getCurrentProposer() != address(0));
        assertEq(rollup.getCommitteeAt(Epoch.wrap(2)).length, 3);
    }
}
