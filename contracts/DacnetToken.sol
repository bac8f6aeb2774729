// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title The staking token's stand-in (docs/PROTOCOL.md §4): a plain ERC-20 whose whole supply goes to `holder`.
contract DacnetToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("dacnet stake", "DACS") {
        _mint(holder, supply);
    }
}
