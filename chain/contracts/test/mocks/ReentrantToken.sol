// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A hostile token: on every transfer it calls `target` with `payload`
/// (once per arming), as a token that hands control to an attacker would.
/// With `swallow` it ignores a failed re-entry and records it instead.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public swallow;
    bool public reentered;
    bool public reentrySucceeded;

    constructor() ERC20("Evil", "EVIL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_, bool swallow_) external {
        (target, payload, swallow) = (target_, payload_, swallow_);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = target;
        if (t == address(0)) return;
        target = address(0); // one shot
        reentered = true;
        (bool ok, bytes memory ret) = t.call(payload);
        reentrySucceeded = ok;
        if (!ok && !swallow) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

/// @notice A fee source that re-enters the FeeSplitter while being collected.
contract ReentrantSource {
    address public splitter;
    address public payee;

    constructor(address splitter_, address payee_) {
        (splitter, payee) = (splitter_, payee_);
    }

    function payTreasury() external returns (uint256) {
        (bool ok, bytes memory ret) = splitter.call(abi.encodeWithSignature("release(address)", payee));
        if (!ok) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return 0;
    }
}

/// @notice A contract holder that refuses ERC-721 callbacks: licences never
/// call back (`_mint`, not `_safeMint`), so it still receives them.
contract RefusingHolder {
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        revert("no callbacks please");
    }
}
