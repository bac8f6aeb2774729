// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title The registry's member tree (docs/PROTOCOL.md §4.3), kept up to date incrementally.
 * @dev leaf_i = keccak256(x ‖ y ‖ stake) (48 + 48 + 32 bytes), node(l, r) = keccak256(l ‖ r), depth ⌈log2 m⌉, and a
 * subtree of height d lying wholly at or past m is ZERO[d] (ZERO[0] = 0, ZERO[d+1] = node(ZERO[d], ZERO[d])).
 * Only nodes over at least one member are stored, at `level << 32 | position`; a stored node past m is stale
 * and is never read, so a change rewrites only the O(log m) nodes above the leaves it touched.
 */
library MemberTree {
    struct Tree {
        mapping(uint256 => bytes32) nodes;
    }

    /// ⌈log2 m⌉, and 0 for m <= 1.
    function depth(uint256 m) internal pure returns (uint256 d) {
        uint256 v = m > 1 ? m - 1 : 0;
        while (v != 0) {
            ++d;
            v >>= 1;
        }
    }

    function leafHash(uint256 xHi, uint256 xLo, uint256 yHi, uint256 yLo, uint256 stake)
        internal
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, shl(128, xHi))
            mstore(add(p, 16), xLo)
            mstore(add(p, 48), shl(128, yHi))
            mstore(add(p, 64), yLo)
            mstore(add(p, 96), stake)
            h := keccak256(p, 128)
        }
    }

    function leaf(Tree storage t, uint256 i) internal view returns (bytes32) {
        return t.nodes[i];
    }

    function setLeaf(Tree storage t, uint256 i, bytes32 h) internal {
        t.nodes[i] = h;
    }

    /// Recomputes and stores the nodes above position `pos` in a tree over `m` leaves.
    function refreshPath(Tree storage t, uint256 pos, uint256 m) internal {
        uint256 levels = depth(m);
        bytes32 zero; // ZERO[level]
        bytes32 h = pos < m ? t.nodes[pos] : zero;
        for (uint256 level = 0; level < levels; ++level) {
            uint256 sibling = pos ^ 1;
            bytes32 s = (sibling << level) >= m ? zero : t.nodes[(level << 32) | sibling];
            h = pos & 1 == 0 ? _node(h, s) : _node(s, h);
            zero = _node(zero, zero);
            pos >>= 1;
            // A node wholly past m is ZERO (as h then is): nothing to store.
            if ((pos << (level + 1)) < m) t.nodes[((level + 1) << 32) | pos] = h;
        }
    }

    /// The root of the tree over `m` leaves (0 for an empty tree).
    function root(Tree storage t, uint256 m) internal view returns (bytes32) {
        return m == 0 ? bytes32(0) : t.nodes[depth(m) << 32];
    }

    function _node(bytes32 l, bytes32 r) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, l)
            mstore(0x20, r)
            h := keccak256(0x00, 0x40)
        }
    }
}
