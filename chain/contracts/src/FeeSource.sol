// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice A contract that owes protocol fees to the treasury (FeeSplitter).
interface IFeeSource {
    /// @notice Transfer everything owed to the treasury; anyone may call.
    /// @return amount the token amount sent (0 when nothing was owed).
    function payTreasury() external returns (uint256 amount);
}

/// @notice Shared by LicenseRegistry and PaymentHub: the genesis token and
/// treasury, the fees owed to it, and the transient re-entrancy guard.
abstract contract FeeSource is IFeeSource, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;
    /// @notice Highest protocol fee any genesis may set.
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 500;

    IERC20 public immutable token;
    address public immutable treasury;
    uint16 public immutable protocolFeeBps;
    /// @notice Protocol fees not yet sent to the treasury.
    uint256 public treasuryOwed;

    event TreasuryPaid(uint256 amount);

    error ZeroAddress();
    error BadParams();

    constructor(IERC20 token_, address treasury_, uint16 protocolFeeBps_) {
        if (address(token_) == address(0) || treasury_ == address(0)) revert ZeroAddress();
        if (protocolFeeBps_ > MAX_PROTOCOL_FEE_BPS) revert BadParams();
        token = token_;
        treasury = treasury_;
        protocolFeeBps = protocolFeeBps_;
    }

    /// @inheritdoc IFeeSource
    function payTreasury() external nonReentrant returns (uint256 amount) {
        amount = treasuryOwed;
        if (amount == 0) return 0;
        treasuryOwed = 0;
        emit TreasuryPaid(amount);
        token.safeTransfer(treasury, amount);
    }
}
