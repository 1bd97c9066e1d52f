// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The forge cheatcodes these tests use. forge-std is not on npm in a
/// usable form (the only "forge-std" package there is an unofficial 2022 copy
/// that needs the missing ds-test), so this is the small subset we need.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256) external;
    function roll(uint256) external;
    function prank(address) external;
    function startPrank(address) external;
    function stopPrank() external;
    function deal(address, uint256) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectRevert() external;
    function expectRevert(bytes4) external;
    function expectRevert(bytes calldata) external;
    function expectEmit(bool, bool, bool, bool) external;
    function expectEmit(bool, bool, bool, bool, address) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
    function assume(bool) external pure;
    function label(address, string calldata) external;
    function chainId(uint256) external;
    function load(address, bytes32) external view returns (bytes32);
    function readFile(string calldata) external view returns (string memory);
    function writeFile(string calldata, string calldata) external;
    function envOr(string calldata, string calldata) external view returns (string memory);
    function envOr(string calldata, uint256) external view returns (uint256);
    function snapshotGasLastCall(string calldata) external returns (uint256);
    function projectRoot() external view returns (string memory);
    function parseJsonAddress(string calldata, string calldata) external pure returns (address);
    function parseJsonUint(string calldata, string calldata) external pure returns (uint256);
    function parseJsonString(string calldata, string calldata) external pure returns (string memory);
    function parseJsonAddressArray(string calldata, string calldata) external pure returns (address[] memory);
    function parseJsonUintArray(string calldata, string calldata) external pure returns (uint256[] memory);
    function serializeAddress(string calldata, string calldata, address) external returns (string memory);
    function serializeUint(string calldata, string calldata, uint256) external returns (string memory);
    function serializeBytes32(string calldata, string calldata, bytes32) external returns (string memory);
    function toString(address) external pure returns (string memory);
    function startBroadcast(uint256 privateKey) external;
    function stopBroadcast() external;
}

/// @notice Minimal base for tests and scripts: cheatcodes, assertions that
/// revert with a message, and `bound` for fuzz inputs.
abstract contract CheatBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
}

abstract contract Test is CheatBase {
    bool public constant IS_TEST = true;

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private targets_;
    FuzzSelector[] private targetSelectors_;

    function targetContract(address a) internal {
        targets_.push(a);
    }

    function targetSelector(FuzzSelector memory s) internal {
        targetSelectors_.push(s);
    }

    /// forge reads these two for invariant tests.
    function targetContracts() public view returns (address[] memory) {
        return targets_;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return targetSelectors_;
    }

    function fail(string memory why) internal pure {
        revert(why);
    }

    function assertTrue(bool c, string memory why) internal pure {
        if (!c) revert(why);
    }

    function assertTrue(bool c) internal pure {
        assertTrue(c, "assertTrue");
    }

    function assertFalse(bool c) internal pure {
        assertTrue(!c, "assertFalse");
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(uint256 a, uint256 b, string memory why) internal pure {
        if (a != b) revert(string.concat("assertEq(uint) ", why, ": ", _u(a), " != ", _u(b)));
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(address a, address b, string memory why) internal pure {
        if (a != b) revert(string.concat("assertEq(address) ", why, ": ", _u(uint160(a)), " != ", _u(uint160(b))));
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        if (a != b) revert(string.concat("assertEq(bytes32): ", _u(uint256(a)), " != ", _u(uint256(b))));
    }

    function assertEq(bool a, bool b) internal pure {
        if (a != b) revert("assertEq(bool)");
    }

    function assertEq(bytes memory a, bytes memory b) internal pure {
        if (keccak256(a) != keccak256(b)) revert("assertEq(bytes)");
    }

    function assertEq(string memory a, string memory b) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) revert(string.concat("assertEq(string): ", a, " != ", b));
    }

    function assertLe(uint256 a, uint256 b, string memory why) internal pure {
        if (a > b) revert(string.concat("assertLe ", why, ": ", _u(a), " > ", _u(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory why) internal pure {
        if (a <= b) revert(string.concat("assertGt ", why, ": ", _u(a), " <= ", _u(b)));
    }

    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: lo > hi");
        if (x >= lo && x <= hi) return x;
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + (x % (size + 1));
    }

    function sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _u(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b = new bytes(78);
        uint256 i = 78;
        while (v != 0) {
            b[--i] = bytes1(uint8(48 + (v % 10)));
            v /= 10;
        }
        bytes memory o = new bytes(78 - i);
        for (uint256 j; j < o.length; j++) o[j] = b[i + j];
        return string(o);
    }
}
