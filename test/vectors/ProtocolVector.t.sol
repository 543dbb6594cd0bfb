// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofQuote, EpochProofQuoteLib} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {Epoch, Slot, Timestamp} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "../harnesses/RollupBase.sol";

/// @notice The quote digest and the time math shared with the Rust agents' protocol crate:
///         `test-vectors/protocol.json` holds a fixed quote, its EIP-712 hashes and a signature of
///         it, and the Rollup's slot and epoch of timestamps at every boundary (first and last
///         second of a slot and of an epoch) and the start of slots; `agents/proofline-core`
///         recomputes each one (quote.rs, time.rs). This test checks the committed file against
///         the deployed contract, so a change on the Solidity side fails here until the vector is
///         regenerated and the Rust tests re-run:
///
///           PROOFLINE_WRITE_VECTORS=true forge test --match-path test/vectors/ProtocolVector.t.sol
///           cargo test -p proofline-core contract_vector
contract ProtocolVectorTest is RollupBase {
    string internal constant PATH = "test-vectors/protocol.json";
    string internal constant STALE =
        "test-vectors/protocol.json is stale: regenerate (see ProtocolVector.t.sol)";
    /// @dev Not forge's default, so a digest that ignored the chain id would not match by luck.
    uint256 internal constant CHAIN_ID = 11_155_111;
    /// @dev The quote's signer: a fixed test key, public.
    uint256 internal constant PROVER_KEY = 0xA11CE;

    function setUp() public {
        vm.chainId(CHAIN_ID);
        _deploy();
    }

    function _quote() internal pure returns (EpochProofQuote memory) {
        return EpochProofQuote({
            epochToProve: 4321,
            validUntilSlot: 138_284,
            bondAmount: 1234.5 ether,
            prover: vm.addr(PROVER_KEY),
            basisPointFee: 777
        });
    }

    /// @dev Seconds after genesis at every boundary of the first epochs, and far out.
    function _offsets() internal pure returns (uint256[] memory t) {
        uint256 epochSecs = SLOT_DURATION * EPOCH_DURATION;
        t = new uint256[](9);
        t[0] = 0;
        t[1] = SLOT_DURATION - 1;
        t[2] = SLOT_DURATION;
        t[3] = epochSecs - 1;
        t[4] = epochSecs;
        t[5] = 2 * epochSecs - 1;
        t[6] = 2 * epochSecs + SLOT_DURATION * CLAIM_WINDOW - 1;
        t[7] = 2 * epochSecs + SLOT_DURATION * CLAIM_WINDOW;
        t[8] = 1_000_003 * epochSecs + 7;
    }

    function _slots() internal pure returns (uint256[] memory s) {
        s = new uint256[](5);
        s[0] = 0;
        s[1] = 1;
        s[2] = EPOCH_DURATION - 1;
        s[3] = EPOCH_DURATION + CLAIM_WINDOW;
        s[4] = 98_765_432;
    }

    function test_protocolVector_MatchesContractAndCommittedJson() public {
        EpochProofQuote memory quote = _quote();
        bytes32 digest = rollup.quoteToDigest(quote);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PROVER_KEY, digest);
        assertEq(ecrecover(digest, v, r, s), quote.prover, "signature");

        uint256[] memory offsets = _offsets();
        uint256[] memory timestamps = new uint256[](offsets.length);
        uint256[] memory slotsAt = new uint256[](offsets.length);
        uint256[] memory epochsAt = new uint256[](offsets.length);
        for (uint256 i = 0; i < offsets.length; ++i) {
            timestamps[i] = genesis + offsets[i];
            slotsAt[i] = Slot.unwrap(rollup.getSlotAt(Timestamp.wrap(timestamps[i])));
            epochsAt[i] = Epoch.unwrap(rollup.getEpochAt(Timestamp.wrap(timestamps[i])));
        }
        uint256[] memory slots = _slots();
        uint256[] memory slotStarts = new uint256[](slots.length);
        for (uint256 i = 0; i < slots.length; ++i) {
            slotStarts[i] = Timestamp.unwrap(rollup.getTimestampForSlot(Slot.wrap(slots[i])));
        }

        if (vm.envOr("PROOFLINE_WRITE_VECTORS", false)) {
            _writeTime(timestamps, slotsAt, epochsAt, slots, slotStarts);
            _write(quote, digest, v, r, s);
        }

        string memory json = vm.readFile(PATH);
        assertEq(vm.parseJsonUint(json, ".chainId"), block.chainid, STALE);
        assertEq(vm.parseJsonAddress(json, ".rollup"), address(rollup), STALE);
        assertEq(vm.parseJsonUint(json, ".quote.epochToProve"), quote.epochToProve, STALE);
        assertEq(vm.parseJsonUint(json, ".quote.validUntilSlot"), quote.validUntilSlot, STALE);
        assertEq(vm.parseJsonUint(json, ".quote.bondAmount"), quote.bondAmount, STALE);
        assertEq(vm.parseJsonAddress(json, ".quote.prover"), quote.prover, STALE);
        assertEq(vm.parseJsonUint(json, ".quote.basisPointFee"), quote.basisPointFee, STALE);
        assertEq(
            vm.parseJsonBytes32(json, ".quoteTypeHash"), EpochProofQuoteLib.EPOCH_PROOF_QUOTE_TYPEHASH, STALE
        );
        assertEq(vm.parseJsonBytes32(json, ".quoteStructHash"), EpochProofQuoteLib.structHash(quote), STALE);
        assertEq(vm.parseJsonBytes32(json, ".quoteDigest"), digest, STALE);
        assertEq(vm.parseJsonUint(json, ".signature.v"), v, STALE);
        assertEq(vm.parseJsonBytes32(json, ".signature.r"), r, STALE);
        assertEq(vm.parseJsonBytes32(json, ".signature.s"), s, STALE);
        assertEq(vm.parseJsonUint(json, ".time.genesisTime"), genesis, STALE);
        assertEq(vm.parseJsonUint(json, ".time.slotDuration"), SLOT_DURATION, STALE);
        assertEq(vm.parseJsonUint(json, ".time.epochDuration"), EPOCH_DURATION, STALE);
        assertEq(vm.parseJsonUint(json, ".time.proofClaimWindow"), CLAIM_WINDOW, STALE);
        assertEq(vm.parseJsonUintArray(json, ".time.timestamps"), timestamps, STALE);
        assertEq(vm.parseJsonUintArray(json, ".time.slotAt"), slotsAt, STALE);
        assertEq(vm.parseJsonUintArray(json, ".time.epochAt"), epochsAt, STALE);
        assertEq(vm.parseJsonUintArray(json, ".time.slots"), slots, STALE);
        assertEq(vm.parseJsonUintArray(json, ".time.slotStart"), slotStarts, STALE);
    }

    string internal timeJson;

    function _writeTime(
        uint256[] memory timestamps,
        uint256[] memory slotsAt,
        uint256[] memory epochsAt,
        uint256[] memory slots,
        uint256[] memory slotStarts
    ) internal {
        string memory t = "time";
        vm.serializeUint(t, "genesisTime", genesis);
        vm.serializeUint(t, "slotDuration", SLOT_DURATION);
        vm.serializeUint(t, "epochDuration", EPOCH_DURATION);
        vm.serializeUint(t, "proofClaimWindow", CLAIM_WINDOW);
        vm.serializeUint(t, "timestamps", timestamps);
        vm.serializeUint(t, "slotAt", slotsAt);
        vm.serializeUint(t, "epochAt", epochsAt);
        vm.serializeUint(t, "slots", slots);
        timeJson = vm.serializeUint(t, "slotStart", slotStarts);
    }

    /// @dev The quote's numbers as decimal strings: JSON numbers lose precision past 2^53 in most
    ///      readers (the time table stays far below).
    function _write(EpochProofQuote memory quote, bytes32 digest, uint8 v, bytes32 r, bytes32 s) internal {
        string memory q = "quote";
        vm.serializeString(q, "epochToProve", vm.toString(quote.epochToProve));
        vm.serializeString(q, "validUntilSlot", vm.toString(quote.validUntilSlot));
        vm.serializeString(q, "bondAmount", vm.toString(quote.bondAmount));
        vm.serializeAddress(q, "prover", quote.prover);
        string memory quoteJson = vm.serializeUint(q, "basisPointFee", quote.basisPointFee);

        string memory sig = "signature";
        vm.serializeUint(sig, "v", v);
        vm.serializeBytes32(sig, "r", r);
        string memory sigJson = vm.serializeBytes32(sig, "s", s);

        string memory o = "vector";
        vm.serializeString(
            o,
            "note",
            "Written by test/vectors/ProtocolVector.t.sol (PROOFLINE_WRITE_VECTORS=true); checked by it and by agents/proofline-core"
        );
        vm.serializeString(o, "chainId", vm.toString(block.chainid));
        vm.serializeAddress(o, "rollup", address(rollup));
        vm.serializeString(o, "quote", quoteJson);
        vm.serializeBytes32(o, "quoteTypeHash", EpochProofQuoteLib.EPOCH_PROOF_QUOTE_TYPEHASH);
        vm.serializeBytes32(o, "quoteStructHash", EpochProofQuoteLib.structHash(quote));
        vm.serializeBytes32(o, "quoteDigest", digest);
        vm.serializeString(o, "signature", sigJson);
        string memory json = vm.serializeString(o, "time", timeJson);
        vm.writeJson(json, PATH);
    }
}
