// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {DIDRegistry} from "../src/DIDRegistry.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

contract DIDRegistryTest is Test {

    DIDRegistry internal did;
    uint256 internal constant ID_PK = 0x1D;
    uint256 internal constant NEW_PK = 0x2D;
    address internal identity;
    bytes32 internal constant KEY_AGENT = "did/svc/KeyAgent";

    function setUp() public {
        did = new DIDRegistry();
        identity = vm.addr(ID_PK);
        vm.roll(100);
        vm.warp(1_700_000_000);
    }

    function _sign(uint256 pk, bytes memory payload) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        address owner = did.identityOwner(identity);
        bytes32 h = keccak256(abi.encodePacked(bytes1(0x19), bytes1(0), address(did), did.nonce(owner), identity, payload));
        return vm.sign(pk, h);
    }

    function test_identityOwner_defaultsToItself() public view {
        assertEq(did.identityOwner(identity), identity);
        assertEq(did.owners(identity), address(0));
    }

    function test_changeOwner() public {
        vm.expectEmit(true, false, false, true, address(did));
        emit DIDRegistry.DIDOwnerChanged(identity, address(0xB), 0);
        vm.prank(identity);
        did.changeOwner(identity, address(0xB));
        assertEq(did.identityOwner(identity), address(0xB));
        assertEq(did.changed(identity), 100);
        vm.roll(101);
        vm.expectEmit(true, false, false, true, address(did));
        emit DIDRegistry.DIDOwnerChanged(identity, address(0xC), 100);
        vm.prank(address(0xB));
        did.changeOwner(identity, address(0xC));
        vm.expectRevert(abi.encodeWithSelector(DIDRegistry.NotOwner.selector, identity, address(0xB)));
        vm.prank(address(0xB));
        did.changeOwner(identity, address(0xB));
    }

    function test_changeOwnerSigned() public {
        address newOwner = vm.addr(NEW_PK);
        (uint8 v, bytes32 r, bytes32 s) = _sign(ID_PK, abi.encodePacked("changeOwner", newOwner));
        did.changeOwnerSigned(identity, v, r, s, newOwner);
        assertEq(did.identityOwner(identity), newOwner);
        assertEq(did.nonce(identity), 1);
        // replay fails: the nonce moved on and the owner changed
        vm.expectRevert();
        did.changeOwnerSigned(identity, v, r, s, newOwner);
        // the new owner signs with its own nonce
        (v, r, s) = _sign(NEW_PK, abi.encodePacked("changeOwner", identity));
        did.changeOwnerSigned(identity, v, r, s, identity);
        assertEq(did.identityOwner(identity), identity);
    }

    function test_changeOwnerSigned_wrongKey() public {
        (uint8 v, bytes32 r, bytes32 s) = _sign(NEW_PK, abi.encodePacked("changeOwner", address(0xB)));
        vm.expectRevert(abi.encodeWithSelector(DIDRegistry.NotOwner.selector, identity, vm.addr(NEW_PK)));
        did.changeOwnerSigned(identity, v, r, s, address(0xB));
        (v, r, s) = _sign(ID_PK, abi.encodePacked("changeOwner", address(0xB)));
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, bytes32(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - uint256(s))));
        did.changeOwnerSigned(identity, v ^ 1, r, bytes32(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - uint256(s)), address(0xB));
    }

    function test_setAttribute() public {
        bytes memory value = hex"c0ffee";
        vm.expectEmit(true, false, false, true, address(did));
        emit DIDRegistry.DIDAttributeChanged(identity, KEY_AGENT, value, block.timestamp + 86400, 0);
        vm.prank(identity);
        did.setAttribute(identity, KEY_AGENT, value, 86400);
        assertEq(did.changed(identity), 100);
        vm.expectRevert(abi.encodeWithSelector(DIDRegistry.NotOwner.selector, identity, address(this)));
        did.setAttribute(identity, KEY_AGENT, value, 86400);
    }

    function test_setAttributeSigned() public {
        bytes memory meta = new bytes(66);
        meta[0] = 0x02;
        meta[33] = 0x03;
        bytes32 name = "stealth/meta";
        uint256 validity = 3600;
        (uint8 v, bytes32 r, bytes32 s) = _sign(ID_PK, abi.encodePacked("setAttribute", name, meta, validity));
        vm.expectEmit(true, false, false, true, address(did));
        emit DIDRegistry.DIDAttributeChanged(identity, "stealth/meta", meta, block.timestamp + 3600, 0);
        did.setAttributeSigned(identity, v, r, s, "stealth/meta", meta, 3600);
        assertEq(did.nonce(identity), 1);
        vm.expectRevert(); // replay
        did.setAttributeSigned(identity, v, r, s, "stealth/meta", meta, 3600);
    }

    function test_revokeAttribute() public {
        vm.startPrank(identity);
        did.setAttribute(identity, KEY_AGENT, hex"01", 10);
        vm.roll(150);
        vm.expectEmit(true, false, false, true, address(did));
        emit DIDRegistry.DIDAttributeChanged(identity, KEY_AGENT, hex"01", 0, 100);
        did.revokeAttribute(identity, KEY_AGENT, hex"01");
        vm.stopPrank();
        assertEq(did.changed(identity), 150);
        vm.expectRevert(abi.encodeWithSelector(DIDRegistry.NotOwner.selector, identity, address(this)));
        did.revokeAttribute(identity, KEY_AGENT, hex"01");
    }

    function test_revokeAttributeSigned() public {
        (uint8 v, bytes32 r, bytes32 s) = _sign(ID_PK, abi.encodePacked("revokeAttribute", KEY_AGENT, hex"01"));
        vm.expectEmit(true, false, false, true, address(did));
        emit DIDRegistry.DIDAttributeChanged(identity, KEY_AGENT, hex"01", 0, 0);
        did.revokeAttributeSigned(identity, v, r, s, KEY_AGENT, hex"01");
        (v, r, s) = _sign(NEW_PK, abi.encodePacked("revokeAttribute", KEY_AGENT, hex"01"));
        vm.expectRevert(abi.encodeWithSelector(DIDRegistry.NotOwner.selector, identity, vm.addr(NEW_PK)));
        did.revokeAttributeSigned(identity, v, r, s, KEY_AGENT, hex"01");
    }
}
