// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochProofArgs, ProposeArgs} from "../../contracts/interfaces/IRollup.sol";
import {SignedEpochProofQuote} from "../../contracts/libraries/EpochProofQuoteLib.sol";
import {Epoch} from "../../contracts/libraries/TimeLib.sol";
import {ProvingBase} from "../harnesses/ProvingBase.sol";
import {StdStorage, stdStorage} from "forge-std/StdStorage.sol";

/// @notice Gas of the proving calls in the steady state: a 48-member committee, a previous epoch
///         already claimed and proven (so the claim record is reused, as on a live chain), a full
///         32-block epoch. Snapshots in snapshots/ProvingGas.json; CI fails when they change.
contract ProvingGasTest is ProvingBase {
    using stdStorage for StdStorage;

    function setUp() public {
        _setUpProving(64);
        // Warm-up cycle: epoch 2 claimed and proven; epoch 3 filled, one block per slot.
        _fillEpoch(2, 1);
        for (uint256 s = 0; s < EPOCH_DURATION; ++s) {
            _warpToSlot(3 * EPOCH_DURATION + s);
            ProposeArgs memory args = _proposeNext();
            feeOf[args.blockNumber].recipient = address(uint160(0x1000 + s % 7));
            feeOf[args.blockNumber].value = 0.01 ether * (s + 1);
            if (s == 0) {
                SignedEpochProofQuote memory q = _signedQuote(2);
                vm.prank(_proposer());
                rollup.claimEpochProofRight(q);
            } else if (s == 1) {
                _submit(_proofArgs(2, 1, prover));
            }
        }
        _warpToSlot(4 * EPOCH_DURATION);
        rollup.setupEpoch();
    }

    function _claimEpoch3() internal {
        SignedEpochProofQuote memory q = _signedQuote(3);
        address proposer = _proposer();
        _coolDeployment();
        vm.prank(proposer);
        rollup.claimEpochProofRight(q);
    }

    /// @dev Issue 3 budget: 75,000 gas.
    function test_gas_claimEpochProofRight() public {
        _claimEpoch3();
        uint256 used = vm.snapshotGasLastCall("ProvingGas", "claimEpochProofRight");
        assertLe(used, 75_000);
    }

    /// @dev Issue 3 budget: 150,000 gas for a full 32-block epoch, excluding the verifier call.
    function test_gas_submitEpochRootProof_32Blocks() public {
        _claimEpoch3();
        _warpToSlot(4 * EPOCH_DURATION + 1);
        EpochProofArgs memory a = _proofArgs(3, 33, prover);
        assertEq(a.fees.length, 32);
        _coolDeployment();
        _submit(a);
        uint256 used = vm.snapshotGasLastCall("ProvingGas", "submitEpochRootProof_32blocks_with_dev_verifier");

        bytes32[] memory pi = new bytes32[](6);
        pi[0] = a.previousArchive;
        pi[1] = a.endArchive;
        pi[2] = bytes32(uint256(3));
        pi[3] = bytes32(uint256(33));
        pi[4] = bytes32(uint256(uint160(prover)));
        pi[5] = keccak256(abi.encode(a.fees));
        _coolDeployment();
        assertTrue(verifier.verify(a.proof, pi));
        uint256 verifierGas = vm.snapshotGasLastCall("ProvingGas", "devVerifier_verify");
        assertLe(used - verifierGas, 150_000);
    }

    /// @dev Issue 3 budget: 40,000 gas, for the costlier prune: a claimed epoch, bond slashed. A
    ///      slash books the burned share in the escrow (F-06: no token moves); in the steady state
    ///      the burn address's booking is already non-zero (any earlier slash: nobody has a reason
    ///      to pay burned bonds out to the burn address).
    function test_gas_prune_WithSlash() public {
        stdstore.target(address(escrow)).sig("slashedBalance(address)").with_key(escrow.BURN_ADDRESS())
            .checked_write(uint256(1));
        _claimEpoch3();
        _warpToSlot(5 * EPOCH_DURATION);
        _coolDeployment();
        rollup.prune();
        uint256 used = vm.snapshotGasLastCall("ProvingGas", "prune_with_slash");
        assertLe(used, 40_000);
    }

    /// @dev The first slash ever also creates the burn address's booking (a fresh storage slot,
    ///      ~17,000 gas more). Recorded, not held to the budget: it happens once.
    function test_gas_prune_FirstSlashEver() public {
        _claimEpoch3();
        _warpToSlot(5 * EPOCH_DURATION);
        _coolDeployment();
        rollup.prune();
        vm.snapshotGasLastCall("ProvingGas", "prune_with_first_slash_ever");
    }

    function test_gas_prune_Unclaimed() public {
        _warpToSlot(4 * EPOCH_DURATION + CLAIM_WINDOW);
        _coolDeployment();
        rollup.prune();
        uint256 used = vm.snapshotGasLastCall("ProvingGas", "prune_unclaimed");
        assertLe(used, 40_000);
    }
}
