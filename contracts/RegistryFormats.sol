// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Format checks for what members register beside their key (docs/PROTOCOL.md §4.2).
library RegistryFormats {
    uint256 internal constant MAX_MULTIADDRS = 32;
    uint256 internal constant MAX_MULTIADDR_LENGTH = 1024;
    /// An identity multihash holds at most 42 bytes: libp2p inlines keys up to that size.
    uint256 internal constant MAX_IDENTITY_PEER_ID = 42;

    error InvalidPeerId();
    error TooManyMultiaddrs();
    error InvalidMultiaddr(uint256 index);

    /// A binary libp2p peer id: identity (0x00, length 1..42, that many bytes) or sha2-256 (0x12 0x20, 32 bytes).
    function checkPeerId(bytes memory peerId) internal pure {
        uint256 n = peerId.length;
        if (n >= 2) {
            uint256 code = uint8(peerId[0]);
            uint256 len = uint8(peerId[1]);
            if (code == 0x00 && len >= 1 && len <= MAX_IDENTITY_PEER_ID && n == 2 + len) return;
            if (code == 0x12 && len == 0x20 && n == 34) return;
        }
        revert InvalidPeerId();
    }

    /// At most 32 textual multiaddrs, each 1..1024 bytes of printable ASCII (0x21–0x7e) starting with '/'.
    function checkMultiaddrs(string[] memory multiaddrs) internal pure {
        if (multiaddrs.length > MAX_MULTIADDRS) revert TooManyMultiaddrs();
        for (uint256 i = 0; i < multiaddrs.length; ++i) {
            bytes memory text = bytes(multiaddrs[i]);
            uint256 n = text.length;
            if (n == 0 || n > MAX_MULTIADDR_LENGTH || text[0] != "/") revert InvalidMultiaddr(i);
            bool printable = true;
            assembly ("memory-safe") {
                let p := add(text, 32)
                for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                    let c := byte(0, mload(add(p, j)))
                    if or(lt(c, 0x21), gt(c, 0x7e)) {
                        printable := 0
                        break
                    }
                }
            }
            if (!printable) revert InvalidMultiaddr(i);
        }
    }
}
