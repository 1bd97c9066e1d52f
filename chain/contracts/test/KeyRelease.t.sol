// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RegistryBase} from "./LicenseRegistry.t.sol";
import {KeyRelease} from "../src/KeyRelease.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract KeyReleaseTest is RegistryBase {

    bytes internal constant EPH = hex"023c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1";
    address internal holder = address(0x401D);
    uint256 internal id;

    function setUp() public override {
        super.setUp();
        id = _buy(_publish(1e18), holder);
    }

    function test_constructor() public {
        assertEq(address(keys.registry()), address(registry));
        vm.expectRevert(KeyRelease.ZeroAddress.selector);
        new KeyRelease(LicenseRegistry(address(0)));
    }

    function test_requestKey() public {
        vm.expectEmit(true, true, false, true, address(keys));
        emit KeyRelease.KeyRequested(id, holder, EPH);
        vm.prank(holder);
        keys.requestKey(id, EPH);
    }

    function test_requestKey_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(KeyRelease.NotHolder.selector, id, address(this)));
        keys.requestKey(id, EPH);
        vm.startPrank(holder);
        vm.expectRevert(KeyRelease.BadEphemeralKey.selector);
        keys.requestKey(id, hex"04");
        bytes memory bad = bytes.concat(hex"05", bytes32(0));
        vm.expectRevert(KeyRelease.BadEphemeralKey.selector);
        keys.requestKey(id, bad);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, id + 1));
        keys.requestKey(id + 1, EPH);
        vm.stopPrank();
    }

    function test_deliverKey() public {
        bytes32 w = keccak256("wrapped");
        vm.expectEmit(true, true, false, true, address(keys));
        emit KeyRelease.KeyDelivered(id, holder, w);
        vm.prank(agent);
        keys.deliverKey(id, holder, w);
    }

    function test_deliverKey_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(KeyRelease.NotKeyAgent.selector, id, creator));
        vm.prank(creator);
        keys.deliverKey(id, holder, 0);
        // a past holder gets nothing new on chain once the licence moved on
        vm.prank(holder);
        registry.transferFrom(holder, address(0xAE7), id);
        vm.prank(agent);
        vm.expectRevert(abi.encodeWithSelector(KeyRelease.NotHolder.selector, id, holder));
        keys.deliverKey(id, holder, 0);
    }

    function test_hashKeyRequest_matchesEIP712ByHand() public view {
        bytes32 domain = _domain("KeyRelease", address(keys));
        assertEq(keys.domainSeparator(), domain);
        bytes32 sh = keccak256(
            abi.encode(keccak256("KeyRequest(uint256 tokenId,bytes ephemeralPubKey,uint64 deadline)"), id, keccak256(EPH), uint64(77))
        );
        assertEq(keys.hashKeyRequest(id, EPH, 77), keccak256(abi.encodePacked("\x19\x01", domain, sh)));
    }
}
