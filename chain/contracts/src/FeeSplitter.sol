// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IFeeSource} from "./FeeSource.sol";

/// @title FeeSplitter
/// @notice The protocol treasury. It splits every token it receives among the
/// genesis payees (protocol authors, hosters and seeders, relays, creators) in
/// basis points fixed in the constructor. No owner, no setter: payees and
/// shares never change. Pull payments: `collect` pulls fees owed by the
/// LicenseRegistry or the PaymentHub, `release` pays a payee its share.
/// @dev Accounting is OpenZeppelin 4's PaymentSplitter (gone from OZ 5):
/// a payee may take `received * shares / 10_000 - released`, where received
/// counts everything that ever arrived. Rounding dust stays in the contract.
contract FeeSplitter is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 public constant TOTAL_SHARES = 10_000;

    IERC20 public immutable token;
    address[] private _payees;
    mapping(address payee => uint256) public shares;
    mapping(address payee => uint256) public released;
    uint256 public totalReleased;

    event Collected(address indexed source, uint256 amount);
    event Released(address indexed account, uint256 amount);

    error ZeroAddress();
    error LengthMismatch();
    error DuplicatePayee(address payee);
    error SharesNot10000(uint256 sum);
    error NotPayee(address account);
    error NothingToRelease(address account);

    constructor(IERC20 token_, address[] memory payees_, uint256[] memory shares_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (payees_.length != shares_.length || payees_.length == 0) revert LengthMismatch();
        uint256 sum;
        for (uint256 i; i < payees_.length; ++i) {
            address p = payees_[i];
            if (p == address(0)) revert ZeroAddress();
            for (uint256 j; j < i; ++j) {
                if (payees_[j] == p) revert DuplicatePayee(p);
            }
            shares[p] = shares_[i];
            sum += shares_[i];
        }
        if (sum != TOTAL_SHARES) revert SharesNot10000(sum);
        token = token_;
        _payees = payees_;
    }

    /// @notice The payees in genesis order.
    function payees() external view returns (address[] memory) {
        return _payees;
    }

    /// @notice Pull the fees that `source` owes the treasury.
    /// @return amount what actually arrived (measured, not trusted).
    function collect(IFeeSource source) external nonReentrant returns (uint256 amount) {
        uint256 before = token.balanceOf(address(this));
        source.payTreasury();
        amount = token.balanceOf(address(this)) - before;
        emit Collected(address(source), amount);
    }

    /// @notice What `account` may take now.
    function releasable(address account) public view returns (uint256) {
        uint256 received = token.balanceOf(address(this)) + totalReleased;
        return received * shares[account] / TOTAL_SHARES - released[account];
    }

    /// @notice Pay `account` its share; anyone may call, the tokens go to `account`.
    function release(address account) external nonReentrant returns (uint256 amount) {
        if (shares[account] == 0) revert NotPayee(account);
        amount = releasable(account);
        if (amount == 0) revert NothingToRelease(account);
        released[account] += amount;
        totalReleased += amount;
        emit Released(account, amount);
        token.safeTransfer(account, amount);
    }
}
