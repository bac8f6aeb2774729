// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Bls12381} from "../Bls12381.sol";

/// @title Exposes the hash to G2 of §4.6, so tests compare it with an independent implementation.
contract Bls12381Harness {
    error PrecompileFailed();

    /// H(message) as an EIP-2537 G2 point (x.c0, x.c1, y.c0, y.c1, 64 bytes each).
    function hashToG2(bytes32 message) external view returns (bytes memory point) {
        point = new bytes(256);
        uint256 out;
        uint256 scratch;
        uint256 size = Bls12381.HASH_SCRATCH;
        assembly ("memory-safe") {
            out := add(point, 32)
            scratch := mload(0x40)
            mstore(0x40, add(scratch, size))
        }
        if (!Bls12381.hashToG2(message, out, scratch)) revert PrecompileFailed();
    }
}
