// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {FeeSplitter} from "../src/FeeSplitter.sol";
import {IFeeSource} from "../src/FeeSource.sol";
import {NetworkGenesis} from "../src/NetworkGenesis.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {PaymentHub} from "../src/PaymentHub.sol";
import {KeyRelease} from "../src/KeyRelease.sol";

contract FeeSplitterTest is Base {

    function test_constructor() public view {
        address[] memory p = splitter.payees();
        assertEq(p.length, 4);
        assertEq(p[0], authors);
        assertEq(p[3], creatorsPool);
        assertEq(splitter.shares(authors) + splitter.shares(hosting) + splitter.shares(relays) + splitter.shares(creatorsPool), 10_000);
        assertEq(address(splitter.token()), address(token));
    }

    function test_constructor_reverts() public {
        IERC20 t = IERC20(address(token));
        address[] memory p = new address[](2);
        uint256[] memory s = new uint256[](2);
        (p[0], p[1], s[0], s[1]) = (address(1), address(2), 5000, 5000);
        vm.expectRevert(FeeSplitter.ZeroAddress.selector);
        new FeeSplitter(IERC20(address(0)), p, s);
        vm.expectRevert(FeeSplitter.LengthMismatch.selector);
        new FeeSplitter(t, p, new uint256[](1));
        vm.expectRevert(FeeSplitter.LengthMismatch.selector);
        new FeeSplitter(t, new address[](0), new uint256[](0));
        p[1] = address(0);
        vm.expectRevert(FeeSplitter.ZeroAddress.selector);
        new FeeSplitter(t, p, s);
        p[1] = address(1);
        vm.expectRevert(abi.encodeWithSelector(FeeSplitter.DuplicatePayee.selector, address(1)));
        new FeeSplitter(t, p, s);
        p[1] = address(2);
        s[1] = 4999;
        vm.expectRevert(abi.encodeWithSelector(FeeSplitter.SharesNot10000.selector, 9999));
        new FeeSplitter(t, p, s);
    }

    function test_collect_fromRegistry_thenRelease() public {
        address buyer = address(0xB0B);
        _fundAccount(buyer, address(registry), 100e18);
        vm.prank(address(0xC4EA));
        uint256 index = registry.publish(keccak256("c"), 100e18, 0, address(0xC4EA), 0, keccak256("k"));
        vm.prank(buyer);
        registry.buy(index, buyer, 100e18);
        vm.expectEmit(true, false, false, true, address(splitter));
        emit FeeSplitter.Collected(address(registry), 2e18);
        assertEq(splitter.collect(registry), 2e18);
        assertEq(splitter.releasable(authors), 0.8e18);
        vm.expectEmit(true, false, false, true, address(splitter));
        emit FeeSplitter.Released(authors, 0.8e18);
        splitter.release(authors);
        assertEq(token.balanceOf(authors), 0.8e18);
        assertEq(splitter.releasable(authors), 0);
        // more fees arrive: shares of the new total, minus what was released
        token.mint(address(splitter), 10e18);
        assertEq(splitter.releasable(authors), 4.8e18 - 0.8e18);
        splitter.release(hosting);
        splitter.release(relays);
        splitter.release(creatorsPool);
        splitter.release(authors);
        assertEq(token.balanceOf(authors) + token.balanceOf(hosting) + token.balanceOf(relays) + token.balanceOf(creatorsPool), 12e18);
        assertEq(splitter.totalReleased(), 12e18);
    }

    function test_collect_fromHub() public {
        address payer = address(0xBA7E5);
        _fundAccount(payer, address(hub), 100e18);
        vm.prank(payer);
        hub.fund(address(0x5157), 50e18, 0);
        vm.prank(payer);
        hub.requestUnlock(address(0x5157));
        vm.warp(block.timestamp + UNLOCK_DELAY);
        hub.withdrawPot(address(0x5157)); // no fees accrued: nothing to collect
        assertEq(splitter.collect(hub), 0);
    }

    function test_release_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(FeeSplitter.NotPayee.selector, address(this)));
        splitter.release(address(this));
        vm.expectRevert(abi.encodeWithSelector(FeeSplitter.NothingToRelease.selector, authors));
        splitter.release(authors);
    }

    function testFuzz_releasesNeverExceedReceived(uint96 a, uint96 b, uint8 order) public {
        token.mint(address(splitter), a);
        address[4] memory who = [authors, hosting, relays, creatorsPool];
        if (splitter.releasable(who[order % 4]) != 0) splitter.release(who[order % 4]);
        token.mint(address(splitter), b);
        for (uint256 i; i < 4; ++i) {
            if (splitter.releasable(who[i]) != 0) splitter.release(who[i]);
        }
        uint256 paid;
        for (uint256 i; i < 4; ++i) paid += token.balanceOf(who[i]);
        assertLe(paid, uint256(a) + b, "paid out more than received");
        assertLe(uint256(a) + b - paid, 4, "at most rounding dust stays");
    }
}

contract NetworkGenesisTest is Base {
    function test_paramsAndNetworkId() public view {
        NetworkGenesis.Params memory p = genesis.params();
        assertEq(keccak256(abi.encode(p)), keccak256(abi.encode(_params())));
        assertEq(genesis.networkId(), keccak256(abi.encode(_params())));
        assertEq(genesis.chainId(), block.chainid);
        assertEq(genesis.protocolFeeBps(), FEE_BPS);
        assertEq(genesis.paymentHub(), address(hub));
        assertEq(genesis.version(), 1);
        NetworkGenesis.Split memory s = genesis.split();
        assertEq(uint256(s.authorsBps) + s.hostersSeedersBps + s.relaysBps + s.creatorsBps, 10_000);
        assertEq(s.relays, relays);
    }

    function test_emitsGenesis() public {
        vm.recordLogs();
        NetworkGenesis g = new NetworkGenesis(_params());
        bytes32[] memory topics = vm.getRecordedLogs()[0].topics;
        assertEq(topics[1], g.networkId());
        assertEq(
            topics[0],
            keccak256(
                "Genesis(bytes32,(uint256,address,address,uint16,uint16,uint16,uint64,uint64,(address,uint16,address,uint16,address,uint16,address,uint16),address,address,address,address,uint32))"
            )
        );
    }

    function test_networkId_changesWithAnyParam() public {
        NetworkGenesis.Params memory p = _params();
        p.version = 2;
        assertTrue(new NetworkGenesis(p).networkId() != genesis.networkId());
    }

    function test_reverts() public {
        NetworkGenesis.Params memory p = _params();
        p.chainId = 5;
        vm.expectRevert(abi.encodeWithSelector(NetworkGenesis.WrongChain.selector, 5));
        new NetworkGenesis(p);
        p = _params();
        p.protocolFeeBps = 501;
        vm.expectRevert(abi.encodeWithSelector(NetworkGenesis.FeeTooHigh.selector, 501));
        new NetworkGenesis(p);
        p = _params();
        p.split.relaysBps = 1999;
        vm.expectRevert(abi.encodeWithSelector(NetworkGenesis.SplitNot10000.selector, 9999));
        new NetworkGenesis(p);
    }

    function _expectMismatch(NetworkGenesis.Params memory p, string memory what) internal {
        vm.expectRevert(abi.encodeWithSelector(NetworkGenesis.Mismatch.selector, what));
        new NetworkGenesis(p);
    }

    function test_reverts_onAnyMismatch() public {
        NetworkGenesis.Params memory p = _params();
        p.token = address(0x70);
        _expectMismatch(p, "treasury.token");
        p = _params();
        p.split.authors = address(0x71);
        _expectMismatch(p, "treasury.payees");
        p = _params();
        (p.split.authorsBps, p.split.hostersSeedersBps) = (3000, 4000);
        _expectMismatch(p, "treasury.shares");
        p = _params();
        p.maxRoyaltyBps = 1;
        _expectMismatch(p, "licenseRegistry");
        p = _params();
        p.keyRelease = address(new KeyRelease(LicenseRegistry(address(0x72))));
        _expectMismatch(p, "keyRelease");
        p = _params();
        p.unlockDelay = 1 days;
        _expectMismatch(p, "paymentHub");
        p = _params();
        p.didRegistry = address(0x73);
        _expectMismatch(p, "didRegistry");
    }

    function testFuzz_splitMustSumTo10000(uint16 a, uint16 b, uint16 c, uint16 d) public {
        NetworkGenesis.Params memory p = _params();
        p.split = NetworkGenesis.Split(authors, a, hosting, b, relays, c, creatorsPool, d);
        uint256 sum = uint256(a) + b + c + d;
        if (sum != 10_000) {
            vm.expectRevert(abi.encodeWithSelector(NetworkGenesis.SplitNot10000.selector, sum));
            new NetworkGenesis(p);
        } else {
            // the sum is right; now the splitter must agree too
            vm.expectRevert();
            this.deployWithSplitter(p);
        }
    }

    function deployWithSplitter(NetworkGenesis.Params memory p) external {
        new NetworkGenesis(p);
        require(p.split.authorsBps == 4000 && p.split.hostersSeedersBps == 3000 && p.split.relaysBps == 2000);
        revert("agreed");
    }
}
