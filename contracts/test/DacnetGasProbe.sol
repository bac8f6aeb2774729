// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

interface ICertificateVerifier {
    function verifyCertificate(bytes calldata onchain) external view returns (bool);
}

/**
 * @title Measures what verifying a certificate costs a caller (tests and the gas benchmark).
 * @dev The figure is the gas the call to the verifier consumed as seen from a calling contract: the call itself
 * (cold account access, calldata copy), the verifier's work and its registry lookup.
 */
contract DacnetGasProbe {
    ICertificateVerifier public immutable verifier;

    constructor(ICertificateVerifier verifier_) {
        verifier = verifier_;
    }

    function measure(bytes calldata onchain) external view returns (bool ok, uint256 gasUsed) {
        uint256 before = gasleft();
        ok = verifier.verifyCertificate(onchain);
        gasUsed = before - gasleft();
    }
}
