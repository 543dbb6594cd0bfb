// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    CommitteeAttestations,
    FallbackStatus,
    ProposeArgs,
    RollupConfig
} from "../../contracts/interfaces/IRollup.sol";
import {Errors} from "../../contracts/libraries/Errors.sol";
import {Slot} from "../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "./ProvingBase.sol";

/// @notice Deploys a Rollup whose based fallback (SPEC 6) is reachable in a test: FALLBACK_ENTER at
///         the SPEC default (3 epochs) and short exit parameters, and builds fallback blocks with
///         their (dev) proofs. RollupBase keeps FALLBACK_ENTER far off on purpose for other suites.
abstract contract FallbackBase is ProvingBase {
    /// @dev SPEC default: 3 epochs, i.e. 96 slots.
    uint256 internal constant FB_ENTER = 3 * EPOCH_DURATION;
    uint256 internal constant FB_ACTIVITY = 16;
    uint256 internal constant FB_TOTAL = 48;

    /// @dev Someone with no stake and no escrow deposit.
    address internal outsider = makeAddr("outsider");
    address internal forcer = makeAddr("forcer");

    /// @dev Fallback parameters of the deployment under test (the model side of the tests).
    uint256 internal fbEnter;
    uint256 internal fbActivity;
    uint256 internal fbTotal;
    uint256 internal deploySlot;

    /// @dev Deploys at slot `atSlot` of a genesis fixed at RollupBase's time (so the clock starts at
    ///      `atSlot`, not at 0, when atSlot > 0), stakes `validators` (committees from epoch 2) and
    ///      gives the prover a 10 * MIN_BOND deposit.
    function _setUpFallback(
        uint256 atSlot,
        uint256 enter,
        uint256 activity,
        uint256 total,
        uint256 validators
    ) internal {
        _deployAssets();
        RollupConfig memory cfg = _config(K);
        cfg.fallbackEnter = enter;
        cfg.fallbackExitActivity = activity;
        cfg.fallbackExitTotal = total;
        if (atSlot != 0) {
            cfg.genesisTime = genesis;
            _warpToSlot(atSlot);
        }
        _deployFunded(cfg);
        (fbEnter, fbActivity, fbTotal, deploySlot) = (enter, activity, total, atSlot);
        _stakeValidators(validators);
        (prover, proverKey) = makeAddrAndKey("prover");
        _depositBond(prover, 10 * MIN_BOND);
    }

    // ------------------------------------------------------------------ fallback blocks

    /// @dev Args of the next fallback block at `slot`: it builds on the proven tip.
    function _fbArgs(uint256 slot) internal returns (ProposeArgs memory args) {
        uint256 n = rollup.getProvenBlockNumber();
        bytes32[] memory blobs = new bytes32[](1);
        blobs[0] = bytes32(
            (uint256(0x01) << 248) | uint256(keccak256(abi.encode("fallback blob", n + 1, slot))) >> 8
        );
        vm.blobhashes(blobs);
        args = ProposeArgs({
            blockNumber: n + 1,
            slot: Slot.wrap(slot),
            previousArchive: rollup.getBlock(n).archive,
            archive: keccak256(abi.encode("fallback archive", n + 1, slot)),
            stateRoot: keccak256(abi.encode("fallback state", n + 1, slot)),
            blobHashes: blobs,
            txCount: 0,
            forcedTxCount: 0,
            forcedTxsHash: bytes32(0)
        });
    }

    /// @dev The 7 public inputs of a fallback block proof, computed independently of the rollup
    ///      (but the EIP-712 digest, which is the rollup's own view).
    function _fbInputs(ProposeArgs memory args, address sender) internal view returns (bytes32[] memory pi) {
        pi = new bytes32[](7);
        pi[0] = args.previousArchive;
        pi[1] = args.archive;
        pi[2] = bytes32(Slot.unwrap(args.slot) / EPOCH_DURATION);
        pi[3] = bytes32(args.blockNumber);
        pi[4] = bytes32(uint256(uint160(sender)));
        pi[5] = bytes32(0);
        pi[6] = rollup.proposalDigest(args);
    }

    function _fbProof(ProposeArgs memory args, address sender) internal view returns (bytes memory) {
        return verifier.devProof(_fbInputs(args, sender));
    }

    function _proposeWithProof(ProposeArgs memory args, address sender) internal {
        bytes memory proof = _fbProof(args, sender);
        vm.prank(sender);
        rollup.proposeWithProof(args, proof);
    }

    /// @dev The outsider proposes and proves the next block at `slot`.
    function _fallbackBlock(uint256 slot) internal returns (ProposeArgs memory args) {
        args = _fbArgs(slot);
        _proposeWithProof(args, outsider);
    }

    function _expectFallbackRevert(ProposeArgs memory args, address sender, bytes memory err) internal {
        bytes memory proof = _fbProof(args, sender);
        vm.expectRevert(err);
        vm.prank(sender);
        rollup.proposeWithProof(args, proof);
    }

    /// @dev A committee block in the current slot, ready to send (nothing is called after it is
    ///      prepared, so an expectEmit can sit between).
    function _prepPropose()
        internal
        returns (ProposeArgs memory args, CommitteeAttestations memory att, address p)
    {
        args = _nextArgs();
        att = _quorumAttest(args);
        p = _proposer();
    }

    /// @dev A committee block at the current slot must be refused with `err`.
    function _expectProposeRevert(bytes memory err) internal {
        ProposeArgs memory args = _nextArgs();
        CommitteeAttestations memory att = _quorumAttest(args);
        address p = _proposer();
        vm.expectRevert(err);
        vm.prank(p);
        rollup.propose(args, att);
    }

    // ------------------------------------------------------------------ status and errors

    function _assertStatus(bool active, uint256 start, uint256 end, string memory label) internal view {
        FallbackStatus memory fs = rollup.getFallbackStatus();
        assertEq(fs.active, active, string.concat(label, ": active"));
        assertEq(Slot.unwrap(fs.start), start, string.concat(label, ": start"));
        assertEq(Slot.unwrap(fs.end), end, string.concat(label, ": end"));
    }

    function _inFallback(uint256 start, uint256 end) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Errors.Rollup__InFallback.selector, start, end);
    }

    function _notInFallback(uint256 nextStart) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Errors.Rollup__NotInFallback.selector, nextStart);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    // ------------------------------------------------------------------ forced inclusion

    /// @dev Queues a forced tx now (due FORCED_DELAY epochs later) and returns its hash.
    function _force(string memory label) internal returns (bytes32 txHash) {
        bytes memory txData = abi.encode("forced", label);
        uint256 fee = queue.enqueueFee(txData.length);
        vm.deal(forcer, fee);
        bytes memory proof = abi.encodePacked(keccak256(txData));
        vm.prank(forcer);
        queue.enqueue{value: fee}(txData, proof);
        return keccak256(txData);
    }

    function _withForced(ProposeArgs memory args, bytes32[] memory hashes, uint256 txCount)
        internal
        pure
        returns (ProposeArgs memory)
    {
        args.forcedTxCount = hashes.length;
        args.txCount = txCount;
        args.forcedTxsHash = hashes.length == 0 ? bytes32(0) : keccak256(abi.encodePacked(hashes));
        return args;
    }

    function _one(bytes32 h) internal pure returns (bytes32[] memory a) {
        a = new bytes32[](1);
        a[0] = h;
    }

    function _two(bytes32 h0, bytes32 h1) internal pure returns (bytes32[] memory a) {
        a = new bytes32[](2);
        a[0] = h0;
        a[1] = h1;
    }
}
