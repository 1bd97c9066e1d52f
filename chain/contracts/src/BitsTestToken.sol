// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title BitsTestToken
/// @notice Test and demo token only: an ERC-20 with EIP-2612 permit (so relayed
/// purchases work without ETH) that ANYONE may mint. Never use it as a real
/// network's token; a real genesis names a permit-capable stable coin.
contract BitsTestToken is ERC20, ERC20Permit {
    constructor() ERC20("Bits Test Token", "tBITS") ERC20Permit("Bits Test Token") {}

    /// @notice Mint `amount` to `to`. Open to everyone: this is a test token.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
