// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Bls12381} from "./Bls12381.sol";
import {IDacnetRegistryRecords} from "./IDacnetRegistry.sol";

/**
 * @title Verifies dacnet certificates in their on-chain form (docs/PROTOCOL.md §4.4–4.6).
 * @notice The on-chain form is the binary certificate of §2.7 followed by a witness: record index, the signature's
 * y, the committee summary, the non-signers' leaves and a member-tree multiproof. `checkCertificate` returns 0 for
 * a valid certificate and otherwise the first failing step: 1 malformed, 2 wrong network, 3 unknown epoch or
 * committee record, 4 summary mismatch, 5 member count or encoding, 6 members root, 7 stake, 8 signature.
 * @dev Never reverts on any input. Reads the registry once per call (`recordAt`, two storage reads); everything
 * else comes from calldata, checked against the summary hash the registry stores.
 */
contract DacnetCertificateVerifier {
    uint8 internal constant VALID = 0;
    uint8 internal constant MALFORMED = 1;
    uint8 internal constant WRONG_NETWORK = 2;
    uint8 internal constant UNKNOWN_EPOCH = 3;
    uint8 internal constant SUMMARY_MISMATCH = 4;
    uint8 internal constant MEMBER_COUNT_OR_ENCODING = 5;
    uint8 internal constant MEMBERS_ROOT = 6;
    uint8 internal constant STAKE = 7;
    uint8 internal constant SIGNATURE = 8;

    // Certificate layout (§2.7), offsets from its first byte.
    uint256 internal constant CERT_HEADER = 9;
    uint256 internal constant CERT_STAKE = 74;
    uint256 internal constant CERT_SIGNATURE = 106;
    uint256 internal constant CERT_MEMBERS = 202;
    uint256 internal constant CERT_BITMAP = 206;
    // Witness layout (§4.5), offsets from the witness.
    uint256 internal constant W_RECORD = 1;
    uint256 internal constant W_SIGNATURE_Y = 5;
    uint256 internal constant W_SUMMARY = 101;
    uint256 internal constant W_NON_SIGNERS = 297;
    // Summary layout (§4.3).
    uint256 internal constant S_STAKE = 4;
    uint256 internal constant S_ROOT = 36;
    uint256 internal constant S_AGGREGATE = 68;
    uint256 internal constant S_THRESHOLDS = 164;
    uint256 internal constant SUMMARY_SIZE = 196;

    /// Largest epoch and data size a header may carry (2^53 − 1, §1.4).
    uint256 internal constant MAX_SAFE = 0x1fffffffffffff;
    uint256 internal constant MAX_SHARDS = 65536;
    uint256 internal constant MAX_MEMBERS = 65536;
    /// "dacnet/attestation/v1" (21 bytes), right-aligned.
    uint256 internal constant ATTESTATION_TAG = 0x6461636e65742f6174746573746174696f6e2f7631;
    /// The blob id's CID prefix: CIDv1, raw, sha2-256, 32 bytes.
    uint256 internal constant BLOB_ID_PREFIX = 0x01551220;

    IDacnetRegistryRecords public immutable registry;
    uint32 public immutable networkId;
    uint256 public immutable genesisBlock;
    uint256 public immutable epochBlocks;

    /// What the steps pass on to each other; offsets are absolute calldata offsets.
    struct Context {
        uint256 base;
        uint256 m;
        uint256 epoch;
        uint256 witness;
        uint256 nonSigners;
        /// u entries of (position, hash), 64 bytes each: the non-signers' leaves, then the multiproof's levels.
        uint256 list;
        uint256 u;
        uint256 proof;
        uint256 proofCount;
        uint256 qNum;
        uint256 qDen;
    }

    constructor(IDacnetRegistryRecords registry_) {
        registry = registry_;
        networkId = registry_.networkId();
        genesisBlock = registry_.genesisBlock();
        epochBlocks = registry_.epochBlocks();
    }

    /// @notice True iff the on-chain form is a valid certificate of the registry's committee for its epoch.
    function verifyCertificate(bytes calldata onchain) external view returns (bool) {
        return _check(onchain) == VALID;
    }

    /// @notice 0 for a valid certificate, else the reason code of the first failing step.
    function checkCertificate(bytes calldata onchain) external view returns (uint8) {
        return _check(onchain);
    }

    function _check(bytes calldata onchain) private view returns (uint8 code) {
        Context memory ctx;
        code = _decode(onchain, ctx);
        if (code == VALID) code = _committee(ctx);
        if (code == VALID) code = _members(ctx);
        if (code == VALID) code = _signature(ctx);
    }

    /// Step 1: the layout of §2.7 and §1.4, strictly; the non-signers from the bitmap; the witness's lengths.
    function _decode(bytes calldata onchain, Context memory ctx) private pure returns (uint8 code) {
        assembly ("memory-safe") {
            function u32(p) -> v {
                v := shr(224, calldataload(p))
            }
            function u64(p) -> v {
                v := shr(192, calldataload(p))
            }
            function decode(base, len, c) -> r {
                r := MALFORMED
                if lt(len, CERT_BITMAP) { leave }
                if iszero(eq(shr(248, calldataload(base)), 1)) { leave }
                let epoch := u64(add(base, 1))
                if gt(epoch, MAX_SAFE) { leave }
                let m := u32(add(base, CERT_MEMBERS))
                if or(iszero(m), gt(m, MAX_MEMBERS)) { leave }
                let bitmapBytes := shr(3, add(m, 7))
                let witness := add(CERT_BITMAP, bitmapBytes)
                if lt(len, add(witness, W_NON_SIGNERS)) { leave }
                // Header (§1.4).
                let h := add(base, CERT_HEADER)
                if iszero(eq(shr(248, calldataload(h)), 1)) { leave }
                if iszero(eq(u64(add(h, 5)), epoch)) { leave }
                let dataSize := u64(add(h, 13))
                if gt(dataSize, MAX_SAFE) { leave }
                let k := u32(add(h, 21))
                let n := u32(add(h, 25))
                if or(iszero(k), or(iszero(lt(k, n)), gt(n, MAX_SHARDS))) { leave }
                let shardSize := shl(6, shr(6, add(div(add(dataSize, sub(k, 1)), k), 63)))
                if lt(shardSize, 64) { shardSize := 64 }
                if iszero(eq(u32(add(h, 29)), shardSize)) { leave }
                // Bitmap: zero padding bits; collect the non-signers (zero bits) in increasing index.
                let bitmap := add(base, CERT_BITMAP)
                let used := and(m, 7)
                if used {
                    if shr(used, shr(248, calldataload(add(bitmap, sub(bitmapBytes, 1))))) { leave }
                }
                if iszero(eq(shr(248, calldataload(add(base, witness))), 1)) { leave }
                // Each non-signer needs 128 bytes of witness: stop as soon as the input is too short for them,
                // so that memory for the list stays within what the calldata paid for.
                let fixedEnd := add(witness, W_NON_SIGNERS)
                let list := mload(0x40)
                let u := 0
                for { let b := 0 } lt(b, bitmapBytes) {} {
                    // 32 signers at once where a whole word of the bitmap is set.
                    if iszero(gt(add(b, 32), bitmapBytes)) {
                        if eq(calldataload(add(bitmap, b)), not(0)) {
                            b := add(b, 32)
                            continue
                        }
                    }
                    let v := shr(248, calldataload(add(bitmap, b)))
                    if iszero(eq(v, 0xff)) {
                        let i := shl(3, b)
                        let end := add(i, 8)
                        if gt(end, m) { end := m }
                        for {} lt(i, end) { i := add(i, 1) } {
                            if iszero(and(shr(and(i, 7), v), 1)) {
                                mstore(add(list, shl(6, u)), i)
                                u := add(u, 1)
                                if gt(add(fixedEnd, shl(7, u)), len) { leave }
                            }
                        }
                    }
                    b := add(b, 1)
                }
                mstore(0x40, add(list, shl(6, u)))
                // Witness: u non-signers of 128 bytes, then whole 32-byte proof hashes (none when u = 0).
                let proof := add(fixedEnd, shl(7, u))
                let rest := sub(len, proof)
                if and(rest, 31) { leave }
                if and(iszero(u), gt(rest, 0)) { leave }
                mstore(c, base)
                mstore(add(c, 0x20), m)
                mstore(add(c, 0x40), epoch)
                mstore(add(c, 0x60), add(base, witness))
                mstore(add(c, 0x80), add(add(base, witness), W_NON_SIGNERS))
                mstore(add(c, 0xa0), list)
                mstore(add(c, 0xc0), u)
                mstore(add(c, 0xe0), add(base, proof))
                mstore(add(c, 0x100), shr(5, rest))
                r := VALID
            }
            code := decode(onchain.offset, onchain.length, ctx)
        }
    }

    /// Steps 2–4: network, epoch, committee record and summary hash, member count, (k, n) safe for the committee.
    function _committee(Context memory ctx) private view returns (uint8 code) {
        uint256 ourNetwork = networkId;
        // The registry fixed genesisBlock <= every later block and epochBlocks >= 1.
        uint256 currentEpoch;
        unchecked {
            currentEpoch = (block.number - genesisBlock) / epochBlocks;
        }
        address registryAddress = address(registry);
        bytes4 recordAt = IDacnetRegistryRecords.recordAt.selector;
        assembly ("memory-safe") {
            function u32(p) -> v {
                v := shr(224, calldataload(p))
            }
            function nextPow2(x) -> y {
                y := sub(x, 1)
                y := or(y, shr(1, y))
                y := or(y, shr(2, y))
                y := or(y, shr(4, y))
                y := or(y, shr(8, y))
                y := or(y, shr(16, y))
                y := add(y, 1)
            }
            function committee(c, network, current, reg, selector) -> r {
                let base := mload(c)
                let epoch := mload(add(c, 0x40))
                let witness := mload(add(c, 0x60))
                let h := add(base, CERT_HEADER)
                if iszero(eq(u32(add(h, 1)), network)) {
                    r := WRONG_NETWORK
                    leave
                }
                r := UNKNOWN_EPOCH
                if gt(epoch, current) { leave }
                let p := mload(0x40)
                mstore(p, selector)
                mstore(add(p, 4), u32(add(witness, W_RECORD)))
                if iszero(staticcall(gas(), reg, p, 36, p, 96)) { leave }
                if lt(returndatasize(), 96) { leave }
                let to := mload(add(p, 64))
                if or(iszero(to), or(lt(epoch, mload(add(p, 32))), gt(epoch, to))) { leave }
                let summaryHash := mload(p)
                let summary := add(witness, W_SUMMARY)
                calldatacopy(p, summary, SUMMARY_SIZE)
                r := SUMMARY_MISMATCH
                if iszero(eq(keccak256(p, SUMMARY_SIZE), summaryHash)) { leave }
                r := MEMBER_COUNT_OR_ENCODING
                let m := mload(add(c, 0x20))
                if iszero(eq(u32(summary), m)) { leave }
                // (k, n) safe (§2.3): k <= ⌊n·g⌋ − m + 1 with g = q − f, and (k, n − k) a supported shape.
                let t := calldataload(add(summary, S_THRESHOLDS))
                let mask := 0xffffffffffffffff
                let qNum := shr(192, t)
                let qDen := and(shr(128, t), mask)
                let fNum := and(shr(64, t), mask)
                let fDen := and(t, mask)
                let qf := mul(qNum, fDen)
                let fq := mul(fNum, qDen)
                let gDen := mul(qDen, fDen)
                if or(iszero(gt(qf, fq)), iszero(gDen)) { leave }
                let k := u32(add(h, 21))
                let n := u32(add(h, 25))
                if gt(add(k, sub(m, 1)), div(mul(n, sub(qf, fq)), gDen)) { leave }
                let rec := sub(n, k)
                let small := nextPow2(k)
                let large := k
                if lt(k, rec) { large := rec }
                let mr := nextPow2(rec)
                if lt(mr, small) { small := mr }
                if gt(add(small, large), MAX_SHARDS) { leave }
                mstore(add(c, 0x120), qNum)
                mstore(add(c, 0x140), qDen)
                r := VALID
            }
            code := committee(ctx, ourNetwork, currentEpoch, registryAddress, recordAt)
        }
    }

    /**
     * Steps 5–6: at least one signer; the non-signers' leaves and the multiproof against the members root; the
     * signed stake S − U against the certificate's and against q.
     */
    function _members(Context memory ctx) private pure returns (uint8 code) {
        assembly ("memory-safe") {
            // The multiproof of §4.5 over the known (position, hash) nodes in [list, last), rewritten in place
            // level by level. `width` is the number of nodes of the level over at least one member, ⌈m / 2^level⌉:
            // a right sibling at or past it is ZERO[level], and the walk ends at width 1 (the root). Proof hashes
            // are read from calldata at `cursor` on; the caller checks that the walk used exactly the proof given
            // (reading past it only yields a cursor that does not match).
            function walk(list, last, width, cursor) -> root, used {
                let zero := 0 // ZERO[level]
                for {} gt(width, 1) { width := shr(1, add(width, 1)) } {
                    let o := list
                    for { let e := list } lt(e, last) {} {
                        let s := mload(e)
                        switch and(s, 1)
                        case 0 {
                            mstore(0x00, mload(add(e, 32)))
                            let n := add(e, 64)
                            switch and(lt(n, last), eq(mload(n), add(s, 1)))
                            case 1 {
                                mstore(0x20, mload(add(n, 32)))
                                e := add(n, 64)
                            }
                            default {
                                let sibling := zero
                                if lt(add(s, 1), width) {
                                    sibling := calldataload(cursor)
                                    cursor := add(cursor, 32)
                                }
                                mstore(0x20, sibling)
                                e := n
                            }
                        }
                        default {
                            mstore(0x00, calldataload(cursor))
                            mstore(0x20, mload(add(e, 32)))
                            cursor := add(cursor, 32)
                            e := add(e, 64)
                        }
                        mstore(o, shr(1, s))
                        mstore(add(o, 32), keccak256(0x00, 0x40))
                        o := add(o, 64)
                    }
                    last := o
                    mstore(0x00, zero)
                    mstore(0x20, zero)
                    zero := keccak256(0x00, 0x40)
                }
                root := mload(add(list, 32))
                used := cursor
            }
            function members(c) -> r {
                let m := mload(add(c, 0x20))
                let u := mload(add(c, 0xc0))
                r := STAKE
                if eq(u, m) { leave }
                let summary := add(mload(add(c, 0x60)), W_SUMMARY)
                let nonSigners := mload(add(c, 0x80))
                let list := mload(add(c, 0xa0))
                // Leaves keccak256(x ‖ y ‖ stake) and U, the non-signers' stake; U must not exceed S (a sum that
                // wraps around counts as above it).
                let unsigned := 0
                let wrapped := 0
                let p := mload(0x40)
                for { let j := 0 } lt(j, u) { j := add(j, 1) } {
                    let e := add(nonSigners, shl(7, j))
                    calldatacopy(p, e, 128)
                    mstore(add(list, add(shl(6, j), 32)), keccak256(p, 128))
                    let sum := add(unsigned, calldataload(add(e, 96)))
                    wrapped := or(wrapped, lt(sum, unsigned))
                    unsigned := sum
                }
                let total := calldataload(add(summary, S_STAKE))
                if or(wrapped, gt(unsigned, total)) { leave }
                if u {
                    r := MEMBERS_ROOT
                    let proof := mload(add(c, 0xe0))
                    let root, used := walk(list, add(list, shl(6, u)), m, proof)
                    let exact := eq(used, add(proof, shl(5, mload(add(c, 0x100)))))
                    if iszero(and(exact, eq(root, calldataload(add(summary, S_ROOT))))) { leave }
                }
                r := STAKE
                let signed := sub(total, unsigned)
                if iszero(eq(calldataload(add(mload(c), CERT_STAKE)), signed)) { leave }
                // signed·q.den >= q.num·S, in 512 bits.
                let qNum := mload(add(c, 0x120))
                let qDen := mload(add(c, 0x140))
                let aLo := mul(signed, qDen)
                let aMid := mulmod(signed, qDen, not(0))
                let aHi := sub(sub(aMid, aLo), lt(aMid, aLo))
                let bLo := mul(qNum, total)
                let bMid := mulmod(qNum, total, not(0))
                let bHi := sub(sub(bMid, bLo), lt(bMid, bLo))
                if or(lt(aHi, bHi), and(eq(aHi, bHi), lt(aLo, bLo))) { leave }
                r := VALID
            }
            code := members(ctx)
        }
    }

    /**
     * Step 7: the signers' aggregate key (the summary's minus every non-signer), the signature's encoding, the
     * attestation message of §2.5, hash to G2 (§4.6) and PAIRING_CHECK((apk, H(m)), (−g1, signature)).
     */
    function _signature(Context memory ctx) private view returns (uint8) {
        uint256 size = 768 + Bls12381.HASH_SCRATCH; // pairing input, then hash scratch
        uint256 buf;
        bool ok;
        bytes32 message;
        uint256 network = networkId;
        uint256 pHi = Bls12381.P_HI;
        uint256 pLo = Bls12381.P_LO;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, size))
            let aggregate := add(add(mload(add(ctx, 0x60)), W_SUMMARY), S_AGGREGATE)
            mstore(buf, shr(128, calldataload(aggregate)))
            mstore(add(buf, 32), calldataload(add(aggregate, 16)))
            mstore(add(buf, 64), shr(128, calldataload(add(aggregate, 48))))
            mstore(add(buf, 96), calldataload(add(aggregate, 64)))
            ok := 1
            let nonSigners := mload(add(ctx, 0x80))
            let u := mload(add(ctx, 0xc0))
            let negated := add(buf, 128)
            for { let j := 0 } lt(j, u) { j := add(j, 1) } {
                let e := add(nonSigners, shl(7, j))
                let yHi := shr(128, calldataload(add(e, 48)))
                let yLo := calldataload(add(e, 64))
                mstore(negated, shr(128, calldataload(e)))
                mstore(add(negated, 32), calldataload(add(e, 16)))
                mstore(add(negated, 64), sub(sub(pHi, yHi), lt(pLo, yLo)))
                mstore(add(negated, 96), sub(pLo, yLo))
                ok := and(ok, staticcall(gas(), 0x0b, buf, 256, buf, 128))
            }
            // message = SHA-256(tag ‖ networkId ‖ epoch ‖ 0x01551220 ‖ SHA-256(header)).
            let base := mload(ctx)
            let s := add(buf, 768)
            calldatacopy(s, add(base, CERT_HEADER), 65)
            ok := and(ok, staticcall(gas(), 0x02, s, 65, s, 32))
            let t := add(s, 64)
            mstore(add(t, 37), mload(s))
            mstore(add(t, 5), or(or(shl(96, network), shl(32, mload(add(ctx, 0x40)))), BLOB_ID_PREFIX))
            mstore(sub(t, 11), ATTESTATION_TAG)
            ok := and(ok, staticcall(gas(), 0x02, t, 69, s, 32))
            message := mload(s)
        }
        if (!ok) return SIGNATURE;
        // Memory offsets and calldata offsets decoded in step 1: nothing here can overflow.
        unchecked {
            uint256 flags = Bls12381.g2FromCalldata(buf + 512, ctx.base + CERT_SIGNATURE, ctx.witness + W_SIGNATURE_Y);
            if (!Bls12381.checkG2(buf + 512, flags)) return SIGNATURE;
            Bls12381.storeNegG1(buf + 384);
            if (!Bls12381.hashToG2(message, buf + 128, buf + 768)) return SIGNATURE;
            (, bool valid) = Bls12381.pairingCheck(buf, 2, buf + 768);
            return valid ? VALID : SIGNATURE;
        }
    }
}
