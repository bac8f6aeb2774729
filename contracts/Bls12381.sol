// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title BLS12-381 helpers over the EIP-2537 precompiles (docs/PROTOCOL.md §4, §4.6).
 * @dev Memory layouts are EIP-2537's: a base-field element is 64 bytes (16 zero bytes, then 48 big-endian),
 * Fp2 is c0 ‖ c1, G1 is x ‖ y (128 bytes), G2 is x ‖ y (256 bytes). A 48-byte value is handled as two words:
 * `hi` (its first 16 bytes) and `lo` (its last 32), which is also how the padded 64-byte form sits in memory.
 */
library Bls12381 {
    /// The base field modulus p, split into its first 16 and last 32 bytes.
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// (p - 1) / 2: a ZCash-encoded coordinate above it has the "sign" bit (0x20) set.
    uint256 internal constant HALF_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 internal constant HALF_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;
    /// -g1 (the G1 generator, negated: x, p - y); the pairing checks e(pk, H) · e(-g1, sig) = 1.
    uint256 internal constant NEG_G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 internal constant NEG_G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 internal constant NEG_G1_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 internal constant NEG_G1_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;
    /// Clears the three ZCash flag bits from the `hi` word of a compressed coordinate.
    uint256 internal constant FLAGS_MASK = (1 << 125) - 1;

    /// "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_" ‖ 0x2b (its length): 44 bytes in two words.
    uint256 internal constant DST_PRIME_0 = 0x424c535f5349475f424c53313233383147325f584d443a5348412d3235365f53;
    uint256 internal constant DST_PRIME_1 = 0x5357555f524f5f504f505f2b0000000000000000000000000000000000000000;

    // Precompile addresses (as numbers, which inline assembly can use).
    uint256 internal constant SHA256 = 0x02;
    uint256 internal constant MODEXP = 0x05;
    uint256 internal constant G1ADD = 0x0b;
    uint256 internal constant G2ADD = 0x0d;
    uint256 internal constant PAIRING_CHECK = 0x0f;
    uint256 internal constant MAP_FP2_TO_G2 = 0x11;

    /// Scratch memory that hashToG2 needs at `scratch`.
    uint256 internal constant HASH_SCRATCH = 1472;

    /// True when the 48-byte value (hi, lo) is below p.
    function belowP(uint256 hi, uint256 lo) internal pure returns (bool r) {
        assembly ("memory-safe") {
            r := or(lt(hi, P_HI), and(eq(hi, P_HI), lt(lo, P_LO)))
        }
    }

    /// True when the 48-byte value (hi, lo) is above (p - 1) / 2 (the ZCash "sign" of a coordinate).
    function isLarge(uint256 hi, uint256 lo) internal pure returns (bool r) {
        assembly ("memory-safe") {
            r := or(gt(hi, HALF_HI), and(eq(hi, HALF_HI), gt(lo, HALF_LO)))
        }
    }

    /// p - y for 0 < y < p, as (hi, lo): the y of a negated point.
    function negate(uint256 hi, uint256 lo) internal pure returns (uint256 nhi, uint256 nlo) {
        assembly ("memory-safe") {
            nlo := sub(P_LO, lo)
            nhi := sub(sub(P_HI, hi), lt(P_LO, lo))
        }
    }

    /**
     * @dev Copies a compressed G1 key's x (48 bytes at memory `xPtr`, ZCash flags in its first byte) and its y (48
     * bytes at `yPtr`) to `dst` as an EIP-2537 G1 point with the flags cleared; returns the flags byte.
     */
    function g1FromMemory(uint256 dst, uint256 xPtr, uint256 yPtr) internal pure returns (uint256 flags) {
        assembly ("memory-safe") {
            let xHi := shr(128, mload(xPtr))
            flags := shr(120, xHi)
            mstore(dst, and(xHi, FLAGS_MASK))
            mstore(add(dst, 32), mload(add(xPtr, 16)))
            mstore(add(dst, 64), shr(128, mload(yPtr)))
            mstore(add(dst, 96), mload(add(yPtr, 16)))
        }
    }

    /**
     * @dev True when the G1 point at `dst` (from g1FromMemory) with ZCash `flags` is well encoded: compressed, not
     * infinity, x < p, y < p, and y's sign is the flags' sign. Curve and subgroup membership are left to the
     * precompile that consumes the point.
     */
    function checkG1(uint256 dst, uint256 flags) internal pure returns (bool r) {
        uint256 xHi;
        uint256 xLo;
        uint256 yHi;
        uint256 yLo;
        assembly ("memory-safe") {
            xHi := mload(dst)
            xLo := mload(add(dst, 32))
            yHi := mload(add(dst, 64))
            yLo := mload(add(dst, 96))
        }
        return flags & 0xc0 == 0x80 && belowP(xHi, xLo) && belowP(yHi, yLo)
            && isLarge(yHi, yLo) == (flags & 0x20 != 0);
    }

    /**
     * @dev Copies a compressed G2 point's x (x.c1 ‖ x.c0, 96 bytes in calldata at `xOff`, flags in the first byte)
     * and its y (y.c1 ‖ y.c0 at `yOff`) to `dst` in EIP-2537 order (x.c0, x.c1, y.c0, y.c1) with the flags
     * cleared; returns the flags byte.
     */
    function g2FromCalldata(uint256 dst, uint256 xOff, uint256 yOff) internal pure returns (uint256 flags) {
        assembly ("memory-safe") {
            let x1Hi := shr(128, calldataload(xOff))
            flags := shr(120, x1Hi)
            mstore(add(dst, 64), and(x1Hi, FLAGS_MASK))
            mstore(add(dst, 96), calldataload(add(xOff, 16)))
            mstore(dst, shr(128, calldataload(add(xOff, 48))))
            mstore(add(dst, 32), calldataload(add(xOff, 64)))
            mstore(add(dst, 192), shr(128, calldataload(yOff)))
            mstore(add(dst, 224), calldataload(add(yOff, 16)))
            mstore(add(dst, 128), shr(128, calldataload(add(yOff, 48))))
            mstore(add(dst, 160), calldataload(add(yOff, 64)))
        }
    }

    /// As g2FromCalldata, from memory.
    function g2FromMemory(uint256 dst, uint256 xPtr, uint256 yPtr) internal pure returns (uint256 flags) {
        assembly ("memory-safe") {
            let x1Hi := shr(128, mload(xPtr))
            flags := shr(120, x1Hi)
            mstore(add(dst, 64), and(x1Hi, FLAGS_MASK))
            mstore(add(dst, 96), mload(add(xPtr, 16)))
            mstore(dst, shr(128, mload(add(xPtr, 48))))
            mstore(add(dst, 32), mload(add(xPtr, 64)))
            mstore(add(dst, 192), shr(128, mload(yPtr)))
            mstore(add(dst, 224), mload(add(yPtr, 16)))
            mstore(add(dst, 128), shr(128, mload(add(yPtr, 48))))
            mstore(add(dst, 160), mload(add(yPtr, 64)))
        }
    }

    /**
     * @dev True when the G2 point at `dst` (from g2FromCalldata/g2FromMemory) with ZCash `flags` is well encoded:
     * compressed, not infinity, all four coordinates < p, and y's sign (that of y.c1, or of y.c0 when y.c1 = 0)
     * is the flags' sign.
     */
    function checkG2(uint256 dst, uint256 flags) internal pure returns (bool r) {
        assembly ("memory-safe") {
            let x0Hi := mload(dst)
            let x0Lo := mload(add(dst, 32))
            let x1Hi := mload(add(dst, 64))
            let x1Lo := mload(add(dst, 96))
            let y0Hi := mload(add(dst, 128))
            let y0Lo := mload(add(dst, 160))
            let y1Hi := mload(add(dst, 192))
            let y1Lo := mload(add(dst, 224))
            r := and(
                eq(and(flags, 0xc0), 0x80),
                and(
                    and(
                        or(lt(x0Hi, P_HI), and(eq(x0Hi, P_HI), lt(x0Lo, P_LO))),
                        or(lt(x1Hi, P_HI), and(eq(x1Hi, P_HI), lt(x1Lo, P_LO)))
                    ),
                    and(
                        or(lt(y0Hi, P_HI), and(eq(y0Hi, P_HI), lt(y0Lo, P_LO))),
                        or(lt(y1Hi, P_HI), and(eq(y1Hi, P_HI), lt(y1Lo, P_LO)))
                    )
                )
            )
            // The sign of y is that of y.c1, or of y.c0 when y.c1 = 0.
            if iszero(or(y1Hi, y1Lo)) {
                y1Hi := y0Hi
                y1Lo := y0Lo
            }
            let large := or(gt(y1Hi, HALF_HI), and(eq(y1Hi, HALF_HI), gt(y1Lo, HALF_LO)))
            r := and(r, eq(large, and(shr(5, flags), 1)))
        }
    }

    /// Writes −g1 (128 bytes, EIP-2537 G1) at memory `p`.
    function storeNegG1(uint256 p) internal pure {
        assembly ("memory-safe") {
            mstore(p, NEG_G1_X_HI)
            mstore(add(p, 32), NEG_G1_X_LO)
            mstore(add(p, 64), NEG_G1_Y_HI)
            mstore(add(p, 96), NEG_G1_Y_LO)
        }
    }

    /**
     * @dev Writes H(message) (a G2 point, 256 bytes) at memory `out`, hashing to G2 as RFC 9380 with the DST
     * above: expand_message_xmd with SHA-256 to 256 bytes, four 64-byte pieces reduced mod p with MODEXP, two
     * MAP_FP2_TO_G2 and one G2ADD. Uses HASH_SCRATCH bytes at `scratch` (which must not overlap `out`).
     * Returns false only if a precompile call fails.
     */
    function hashToG2(bytes32 message, uint256 out, uint256 scratch) internal view returns (bool ok) {
        assembly ("memory-safe") {
            let s := scratch
            // b_0 = SHA-256(64 zero bytes ‖ msg ‖ 0x0100 ‖ 0x00 ‖ DST ‖ 0x2b), 143 bytes.
            mstore(s, 0)
            mstore(add(s, 32), 0)
            mstore(add(s, 64), message)
            mstore(add(s, 99), DST_PRIME_0)
            mstore(add(s, 131), DST_PRIME_1)
            mstore8(add(s, 96), 1)
            mstore8(add(s, 97), 0)
            mstore8(add(s, 98), 0)
            let b0Ptr := add(s, 160)
            ok := staticcall(gas(), SHA256, s, 143, b0Ptr, 32)
            let b0 := mload(b0Ptr)
            // b_i = SHA-256((b_0 xor b_{i-1}) ‖ i ‖ DST ‖ 0x2b) for i = 1..8 (b_1 xors nothing): 256 bytes at u.
            mstore(add(s, 33), DST_PRIME_0)
            mstore(add(s, 65), DST_PRIME_1)
            let u := add(s, 192)
            mstore(s, b0)
            mstore8(add(s, 32), 1)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, u, 32))
            mstore(s, xor(b0, mload(u)))
            mstore8(add(s, 32), 2)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 32), 32))
            mstore(s, xor(b0, mload(add(u, 32))))
            mstore8(add(s, 32), 3)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 64), 32))
            mstore(s, xor(b0, mload(add(u, 64))))
            mstore8(add(s, 32), 4)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 96), 32))
            mstore(s, xor(b0, mload(add(u, 96))))
            mstore8(add(s, 32), 5)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 128), 32))
            mstore(s, xor(b0, mload(add(u, 128))))
            mstore8(add(s, 32), 6)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 160), 32))
            mstore(s, xor(b0, mload(add(u, 160))))
            mstore8(add(s, 32), 7)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 192), 32))
            mstore(s, xor(b0, mload(add(u, 192))))
            mstore8(add(s, 32), 8)
            ok := and(ok, staticcall(gas(), SHA256, s, 77, add(u, 224), 32))
            // Each 64-byte piece mod p: MODEXP(base = piece, exponent = 1, modulus = p as 64 bytes). The 64-byte
            // result is already the EIP-2537 encoding of the field element.
            let e := add(s, 448)
            mstore(e, 64)
            mstore(add(e, 32), 1)
            mstore(add(e, 64), 64)
            mstore(add(e, 161), P_HI)
            mstore(add(e, 193), P_LO)
            mstore8(add(e, 160), 1)
            let f := add(s, 704)
            mstore(add(e, 96), mload(u))
            mstore(add(e, 128), mload(add(u, 32)))
            ok := and(ok, staticcall(gas(), MODEXP, e, 225, f, 64))
            mstore(add(e, 96), mload(add(u, 64)))
            mstore(add(e, 128), mload(add(u, 96)))
            ok := and(ok, staticcall(gas(), MODEXP, e, 225, add(f, 64), 64))
            mstore(add(e, 96), mload(add(u, 128)))
            mstore(add(e, 128), mload(add(u, 160)))
            ok := and(ok, staticcall(gas(), MODEXP, e, 225, add(f, 128), 64))
            mstore(add(e, 96), mload(add(u, 192)))
            mstore(add(e, 128), mload(add(u, 224)))
            ok := and(ok, staticcall(gas(), MODEXP, e, 225, add(f, 192), 64))
            // u0 = (e0, e1) and u1 = (e2, e3) as c0 ‖ c1; H = map(u0) + map(u1).
            let g := add(s, 960)
            ok := and(ok, staticcall(gas(), MAP_FP2_TO_G2, f, 128, g, 256))
            ok := and(ok, staticcall(gas(), MAP_FP2_TO_G2, add(f, 128), 128, add(g, 256), 256))
            ok := and(ok, staticcall(gas(), G2ADD, g, 512, out, 256))
        }
    }

    /**
     * @dev PAIRING_CHECK over `pairs` consecutive (G1, G2) pairs (384 bytes each) at `input`; the result word
     * goes to `result`. `ok` is false when the precompile refuses the input (a point off its curve or outside
     * its subgroup); `valid` when the product of the pairings is one.
     */
    function pairingCheck(uint256 input, uint256 pairs, uint256 result) internal view returns (bool ok, bool valid) {
        assembly ("memory-safe") {
            ok := staticcall(gas(), PAIRING_CHECK, input, mul(pairs, 384), result, 32)
            valid := and(ok, eq(mload(result), 1))
        }
    }
}
