// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ReentrantToken, ReentrantSource, RefusingHolder} from "./mocks/ReentrantToken.sol";
import {PaymentHub} from "../src/PaymentHub.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {FeeSplitter} from "../src/FeeSplitter.sol";
import {IFeeSource} from "../src/FeeSource.sol";

/// @notice Every token-moving entry point, attacked by a token that calls back.
contract ReentrancyTest is Test {
    ReentrantToken internal evil;
    FeeSplitter internal splitter;
    PaymentHub internal hub;
    LicenseRegistry internal registry;
    address internal constant SIGNER = address(0x5157);
    bytes4 internal immutable GUARD = ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector;

    function setUp() public {
        vm.warp(1_700_000_000);
        evil = new ReentrantToken();
        address[] memory p = new address[](2);
        uint256[] memory s = new uint256[](2);
        (p[0], p[1], s[0], s[1]) = (address(0xA0), address(this), 5000, 5000);
        splitter = new FeeSplitter(IERC20(address(evil)), p, s);
        hub = new PaymentHub(IERC20(address(evil)), address(splitter), 200, 3 days, 12 hours);
        registry = new LicenseRegistry(IERC20(address(evil)), address(splitter), 200, 1000, 500);
        evil.mint(address(this), 1e30);
        evil.approve(address(hub), type(uint256).max);
        evil.approve(address(registry), type(uint256).max);
    }

    /// @dev A stealth-free balance on the hub for this contract, via a voucher.
    function _hubBalance() internal {
        uint256 pk = 0xB0;
        hub.fund(vm.addr(pk), 10e18, 0);
        PaymentHub.Voucher memory v = PaymentHub.Voucher(address(this), bytes32(0), 10e18, uint64(block.timestamp));
        hub.redeemVoucher(v, sig(pk, hub.hashVoucher(v)));
    }

    function test_hub_withdraw_reentersWithdraw() public {
        _hubBalance();
        uint256 bal = hub.balances(address(this));
        evil.arm(address(hub), abi.encodeCall(PaymentHub.withdraw, (address(this), 1)), false);
        vm.expectRevert(GUARD);
        hub.withdraw(address(this), bal);
        // with the re-entry swallowed, exactly one withdrawal happens
        evil.arm(address(hub), abi.encodeCall(PaymentHub.withdraw, (address(this), 1)), true);
        hub.withdraw(address(this), bal - 1);
        assertTrue(evil.reentered() && !evil.reentrySucceeded(), "re-entry must fail");
        assertEq(hub.balances(address(this)), 1);
    }

    function test_hub_fund_reentersWithdrawPot() public {
        hub.fund(SIGNER, 1e18, 0);
        hub.requestUnlock(SIGNER);
        vm.warp(block.timestamp + 3 days);
        evil.arm(address(hub), abi.encodeCall(PaymentHub.withdrawPot, (SIGNER)), false);
        vm.expectRevert(GUARD);
        hub.fund(address(0x5158), 1e18, 0);
    }

    function test_hub_withdrawPot_reentersFund() public {
        hub.fund(SIGNER, 1e18, 0);
        hub.requestUnlock(SIGNER);
        vm.warp(block.timestamp + 3 days);
        evil.arm(address(hub), abi.encodeCall(PaymentHub.fund, (address(0x5158), 1, 0)), false);
        vm.expectRevert(GUARD);
        hub.withdrawPot(SIGNER);
    }

    function test_hub_payTreasury_reentersPayTreasury() public {
        _hubBalance();
        address[] memory s = new address[](1);
        s[0] = vm.addr(0xB0);
        hub.sweepFees(s);
        evil.arm(address(hub), abi.encodeCall(IFeeSource.payTreasury, ()), false);
        vm.expectRevert(GUARD);
        hub.payTreasury();
    }

    function test_hub_withdrawFor_reentersWithdraw() public {
        uint256 pk = 0x57;
        address stealth = vm.addr(pk);
        hub.fund(vm.addr(0xB0), 10e18, 0);
        PaymentHub.Voucher memory v = PaymentHub.Voucher(stealth, bytes32(0), 10e18, uint64(block.timestamp));
        hub.redeemVoucher(v, sig(0xB0, hub.hashVoucher(v)));
        bytes memory s = sig(pk, hub.hashWithdraw(stealth, address(this), 1e18, 0, 0, uint64(block.timestamp)));
        evil.arm(address(hub), abi.encodeCall(PaymentHub.withdraw, (address(this), 1)), false);
        vm.expectRevert(GUARD);
        hub.withdrawFor(stealth, address(this), 1e18, 0, uint64(block.timestamp), s);
    }

    function _license() internal returns (uint256 index) {
        vm.prank(address(0xC4EA));
        index = registry.publish(keccak256("c"), 1e18, 500, address(0xA6E7), 100, keccak256("k"));
    }

    function test_registry_buy_reentersBuy() public {
        uint256 index = _license();
        evil.arm(address(registry), abi.encodeCall(LicenseRegistry.buy, (index, address(this), 1e18)), false);
        vm.expectRevert(GUARD);
        registry.buy(index, address(this), 1e18);
    }

    function test_registry_withdraw_reentersWithdraw() public {
        uint256 index = _license();
        registry.buy(index, address(this), 1e18);
        evil.arm(address(registry), abi.encodeCall(LicenseRegistry.withdraw, (address(0xC4EA))), false);
        vm.prank(address(0xC4EA));
        vm.expectRevert(GUARD);
        registry.withdraw(address(0xC4EA));
    }

    function test_registry_buyListed_reentersBuyListed() public {
        uint256 index = _license();
        uint256 id = registry.buy(index, address(this), 1e18);
        registry.list(id, 2e18);
        evil.arm(address(registry), abi.encodeCall(LicenseRegistry.buyListed, (id, address(this), 2e18)), false);
        vm.expectRevert(GUARD);
        registry.buyListed(id, address(0x401D), 2e18);
    }

    function test_registry_licencesNeverCallBack() public {
        uint256 index = _license();
        RefusingHolder h = new RefusingHolder();
        uint256 id = registry.buy(index, address(h), 1e18);
        assertEq(registry.ownerOf(id), address(h));
    }

    function test_splitter_release_reentersRelease() public {
        evil.mint(address(splitter), 10e18);
        evil.arm(address(splitter), abi.encodeCall(FeeSplitter.release, (address(0xA0))), false);
        vm.expectRevert(GUARD);
        splitter.release(address(this));
    }

    function test_splitter_collect_fromHostileSource() public {
        evil.mint(address(splitter), 10e18);
        ReentrantSource src = new ReentrantSource(address(splitter), address(this));
        vm.expectRevert(GUARD);
        splitter.collect(IFeeSource(address(src)));
    }
}
