// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BitsTestToken} from "../src/BitsTestToken.sol";
import {FeeSplitter} from "../src/FeeSplitter.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {KeyRelease} from "../src/KeyRelease.sol";
import {PaymentHub} from "../src/PaymentHub.sol";
import {DIDRegistry} from "../src/DIDRegistry.sol";
import {NetworkGenesis} from "../src/NetworkGenesis.sol";

/// @notice Deploys a whole network the way script/Deploy.s.sol does.
abstract contract Base is Test {
    uint16 internal constant FEE_BPS = 200;
    uint16 internal constant MAX_ROYALTY_BPS = 1000;
    uint16 internal constant MAX_AGENT_BPS = 500;
    uint64 internal constant UNLOCK_DELAY = 3 days;
    uint64 internal constant MAX_TTL = 12 hours;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    BitsTestToken internal token;
    FeeSplitter internal splitter;
    LicenseRegistry internal registry;
    KeyRelease internal keys;
    PaymentHub internal hub;
    DIDRegistry internal did;
    NetworkGenesis internal genesis;

    address internal authors = address(0xA0);
    address internal hosting = address(0xA1);
    address internal relays = address(0xA2);
    address internal creatorsPool = address(0xA3);

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        token = new BitsTestToken();
        splitter = _splitter(IERC20(address(token)));
        registry = new LicenseRegistry(IERC20(address(token)), address(splitter), FEE_BPS, MAX_ROYALTY_BPS, MAX_AGENT_BPS);
        keys = new KeyRelease(registry);
        hub = new PaymentHub(IERC20(address(token)), address(splitter), FEE_BPS, UNLOCK_DELAY, MAX_TTL);
        did = new DIDRegistry();
        genesis = new NetworkGenesis(_params());
    }

    function _splitter(IERC20 t) internal returns (FeeSplitter) {
        address[] memory p = new address[](4);
        (p[0], p[1], p[2], p[3]) = (authors, hosting, relays, creatorsPool);
        uint256[] memory s = new uint256[](4);
        (s[0], s[1], s[2], s[3]) = (4000, 3000, 2000, 1000);
        return new FeeSplitter(t, p, s);
    }

    function _params() internal view returns (NetworkGenesis.Params memory p) {
        p.chainId = block.chainid;
        p.token = address(token);
        p.treasury = address(splitter);
        p.protocolFeeBps = FEE_BPS;
        p.maxRoyaltyBps = MAX_ROYALTY_BPS;
        p.maxAgentFeeBps = MAX_AGENT_BPS;
        p.unlockDelay = UNLOCK_DELAY;
        p.maxPaperTTL = MAX_TTL;
        p.split = NetworkGenesis.Split(authors, 4000, hosting, 3000, relays, 2000, creatorsPool, 1000);
        p.licenseRegistry = address(registry);
        p.keyRelease = address(keys);
        p.paymentHub = address(hub);
        p.didRegistry = address(did);
        p.version = 1;
    }

    /// @dev Mint to `who` and approve `spender` for everything.
    function _fundAccount(address who, address spender, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(spender, type(uint256).max);
    }

    /// @dev The same signature with s' = n - s (valid for ecrecover, rejected by OZ).
    function _highS(bytes memory s65) internal pure returns (bytes memory) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(s65, 0x20))
            s := mload(add(s65, 0x40))
            v := byte(0, mload(add(s65, 0x60)))
        }
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    /// @dev EIP-712 domain separator computed by hand (name, version "1").
    function _domain(string memory name, address verifying) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256("1"),
                block.chainid,
                verifying
            )
        );
    }

    function _fee(uint256 amount) internal pure returns (uint256) {
        return amount * FEE_BPS / 10_000;
    }
}
