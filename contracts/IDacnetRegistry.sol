// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title What the certificate verifier reads from the registry.
 * @dev `recordAt` is the raw lookup behind `committeeRecord` (two storage reads): the live committee sits at
 * index `committeeRecordCount()` with toEpoch 2^64 - 1 while it has a member, and toEpoch 0 marks an index that
 * holds no committee.
 */
interface IDacnetRegistryRecords {
    function networkId() external view returns (uint32);
    function genesisBlock() external view returns (uint256);
    function epochBlocks() external view returns (uint256);
    function recordAt(uint256 index) external view returns (bytes32 summaryHash, uint64 fromEpoch, uint64 toEpoch);
}
