// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CheatBase} from "../test/utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BitsTestToken} from "../src/BitsTestToken.sol";
import {FeeSplitter} from "../src/FeeSplitter.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {KeyRelease} from "../src/KeyRelease.sol";
import {PaymentHub} from "../src/PaymentHub.sol";
import {DIDRegistry} from "../src/DIDRegistry.sol";
import {NetworkGenesis} from "../src/NetworkGenesis.sol";

/// @notice Deploys a whole network from a genesis file and writes the
/// addresses (and the networkId) to a JSON file for the C side.
/// Env: GENESIS (default genesis/demo.json), DEPLOY_OUT (default
/// deployments/local.json, must stay under deployments/), DEPLOYER_KEY
/// (default: anvil's first account).
/// A genesis "token" of 0x0 deploys BitsTestToken (test/demo networks only)
/// and mints "testTokenMint" to the deployer.
contract Deploy is CheatBase {
    uint256 internal constant ANVIL_KEY0 = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;

    struct Out {
        address token;
        FeeSplitter splitter;
        LicenseRegistry registry;
        KeyRelease keys;
        PaymentHub hub;
        DIDRegistry did;
        NetworkGenesis genesis;
    }

    function run() external returns (Out memory o) {
        string memory json = vm.readFile(vm.envOr("GENESIS", string("genesis/demo.json")));
        uint256 key = vm.envOr("DEPLOYER_KEY", ANVIL_KEY0);
        vm.startBroadcast(key);
        o = deploy(json, vm.addr(key));
        vm.stopBroadcast();
        _write(o, vm.envOr("DEPLOY_OUT", string("deployments/local.json")));
    }

    function deploy(string memory json, address deployer) public returns (Out memory o) {
        o.token = vm.parseJsonAddress(json, ".token");
        if (o.token == address(0)) {
            BitsTestToken t = new BitsTestToken();
            t.mint(deployer, vm.parseJsonUint(json, ".testTokenMint"));
            o.token = address(t);
        }
        NetworkGenesis.Split memory s = _split(json);
        o.splitter = _splitter(o.token, s);
        uint16 fee = uint16(vm.parseJsonUint(json, ".protocolFeeBps"));
        uint16 maxRoyalty = uint16(vm.parseJsonUint(json, ".maxRoyaltyBps"));
        uint16 maxAgent = uint16(vm.parseJsonUint(json, ".maxAgentFeeBps"));
        uint64 unlockDelay = uint64(vm.parseJsonUint(json, ".unlockDelay"));
        uint64 ttl = uint64(vm.parseJsonUint(json, ".maxPaperTTL"));
        o.registry = new LicenseRegistry(IERC20(o.token), address(o.splitter), fee, maxRoyalty, maxAgent);
        o.keys = new KeyRelease(o.registry);
        o.hub = new PaymentHub(IERC20(o.token), address(o.splitter), fee, unlockDelay, ttl);
        o.did = new DIDRegistry();
        o.genesis = new NetworkGenesis(
            NetworkGenesis.Params({
                chainId: block.chainid,
                token: o.token,
                treasury: address(o.splitter),
                protocolFeeBps: fee,
                maxRoyaltyBps: maxRoyalty,
                maxAgentFeeBps: maxAgent,
                unlockDelay: unlockDelay,
                maxPaperTTL: ttl,
                split: s,
                licenseRegistry: address(o.registry),
                keyRelease: address(o.keys),
                paymentHub: address(o.hub),
                didRegistry: address(o.did),
                version: uint32(vm.parseJsonUint(json, ".version"))
            })
        );
    }

    function _split(string memory json) internal pure returns (NetworkGenesis.Split memory s) {
        s.authors = vm.parseJsonAddress(json, ".split.authors.payee");
        s.authorsBps = uint16(vm.parseJsonUint(json, ".split.authors.bps"));
        s.hostersSeeders = vm.parseJsonAddress(json, ".split.hostersSeeders.payee");
        s.hostersSeedersBps = uint16(vm.parseJsonUint(json, ".split.hostersSeeders.bps"));
        s.relays = vm.parseJsonAddress(json, ".split.relays.payee");
        s.relaysBps = uint16(vm.parseJsonUint(json, ".split.relays.bps"));
        s.creators = vm.parseJsonAddress(json, ".split.creators.payee");
        s.creatorsBps = uint16(vm.parseJsonUint(json, ".split.creators.bps"));
    }

    function _splitter(address token, NetworkGenesis.Split memory s) internal returns (FeeSplitter) {
        address[] memory p = new address[](4);
        (p[0], p[1], p[2], p[3]) = (s.authors, s.hostersSeeders, s.relays, s.creators);
        uint256[] memory b = new uint256[](4);
        (b[0], b[1], b[2], b[3]) = (s.authorsBps, s.hostersSeedersBps, s.relaysBps, s.creatorsBps);
        return new FeeSplitter(IERC20(token), p, b);
    }

    function _write(Out memory o, string memory path) internal {
        string memory k = "deployment";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeUint(k, "deployBlock", block.number);
        vm.serializeBytes32(k, "networkId", o.genesis.networkId());
        vm.serializeAddress(k, "genesis", address(o.genesis));
        vm.serializeAddress(k, "token", o.token);
        vm.serializeAddress(k, "feeSplitter", address(o.splitter));
        vm.serializeAddress(k, "licenseRegistry", address(o.registry));
        vm.serializeAddress(k, "keyRelease", address(o.keys));
        vm.serializeAddress(k, "paymentHub", address(o.hub));
        string memory all = vm.serializeAddress(k, "didRegistry", address(o.did));
        vm.writeFile(path, all);
    }
}
