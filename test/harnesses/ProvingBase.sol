// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    CommitteeAttestations,
    EpochProofArgs,
    FeeRecipient,
    ProposeArgs,
    Signature
} from "../../contracts/interfaces/IRollup.sol";
import {EpochProofQuote, SignedEpochProofQuote} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {RollupBase} from "./RollupBase.sol";

/// @notice Adds provers with escrowed bonds, signed quotes, whole epochs of blocks and their proofs.
abstract contract ProvingBase is RollupBase {
    address internal prover;
    uint256 internal proverKey;
    address internal submitter = makeAddr("submitter");

    /// @dev Coinbase and fees of each block proposed, by block number.
    mapping(uint256 => FeeRecipient) internal feeOf;

    function _setUpProving(uint256 validators) internal {
        _deploy(K);
        _stakeValidators(validators);
        (prover, proverKey) = makeAddrAndKey("prover");
        _depositBond(prover, 10 * MIN_BOND);
    }

    function _depositBond(address who, uint256 amount) internal {
        bondAsset.mint(who, amount);
        vm.startPrank(who);
        bondAsset.approve(address(escrow), amount);
        escrow.deposit(amount);
        vm.stopPrank();
    }

    /// @dev Proposes `count` blocks in `epoch`, one every other slot from its first slot.
    function _fillEpoch(uint256 epoch, uint256 count) internal {
        for (uint256 i = 0; i < count; ++i) {
            _warpToSlot(epoch * EPOCH_DURATION + 2 * i);
            ProposeArgs memory args = _proposeNext();
            feeOf[args.blockNumber] = FeeRecipient({
                recipient: address(uint160(uint256(keccak256(abi.encode("coinbase", args.blockNumber % 3))))),
                value: 1 ether * (args.blockNumber % 4)
            });
        }
    }

    function _quote(uint256 epoch, uint256 bond, uint256 bps) internal view returns (EpochProofQuote memory) {
        return EpochProofQuote({
            epochToProve: epoch,
            validUntilSlot: (epoch + 2) * EPOCH_DURATION,
            bondAmount: bond,
            prover: prover,
            basisPointFee: uint32(bps)
        });
    }

    function _signQuote(EpochProofQuote memory q, uint256 key)
        internal
        view
        returns (SignedEpochProofQuote memory)
    {
        return SignedEpochProofQuote({quote: q, signature: _sign(key, rollup.quoteToDigest(q))});
    }

    function _signedQuote(uint256 epoch) internal view returns (SignedEpochProofQuote memory) {
        return _signQuote(_quote(epoch, MIN_BOND, 2000), proverKey);
    }

    /// @dev Warps to slot `k` of `epoch` + 1's claim window and claims as that slot's proposer.
    function _claimAt(uint256 epoch, uint256 k, SignedEpochProofQuote memory q) internal {
        _warpToSlot((epoch + 1) * EPOCH_DURATION + k);
        rollup.setupEpoch();
        vm.prank(_proposer());
        rollup.claimEpochProofRight(q);
    }

    function _fees(uint256 fromBlock, uint256 toBlock) internal view returns (FeeRecipient[] memory fees) {
        fees = new FeeRecipient[](toBlock - fromBlock + 1);
        for (uint256 b = fromBlock; b <= toBlock; ++b) {
            fees[b - fromBlock] = feeOf[b];
        }
    }

    /// @dev A valid proof of `epoch` ending at `end`, built from the chain's current proven tip.
    function _proofArgs(uint256 epoch, uint256 end, address proverId)
        internal
        view
        returns (EpochProofArgs memory a)
    {
        uint256 proven = rollup.getProvenBlockNumber();
        a.epoch = Epoch.wrap(epoch);
        a.endBlockNumber = end;
        a.previousArchive = rollup.getBlock(proven).archive;
        a.endArchive = rollup.getBlock(end).archive;
        a.prover = proverId;
        a.fees = _fees(proven + 1, end);
        a.proof = _devProof(a);
    }

    function _devProof(EpochProofArgs memory a) internal view returns (bytes memory) {
        bytes32[] memory pi = new bytes32[](6);
        pi[0] = a.previousArchive;
        pi[1] = a.endArchive;
        pi[2] = bytes32(Epoch.unwrap(a.epoch));
        pi[3] = bytes32(a.endBlockNumber);
        pi[4] = bytes32(uint256(uint160(a.prover)));
        pi[5] = keccak256(abi.encode(a.fees));
        return verifier.devProof(pi);
    }

    function _submit(EpochProofArgs memory a) internal {
        vm.prank(submitter);
        rollup.submitEpochRootProof(a);
    }
}
