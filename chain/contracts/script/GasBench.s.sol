// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CheatBase} from "../test/utils/Test.sol";
import {BitsTestToken} from "../src/BitsTestToken.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {KeyRelease} from "../src/KeyRelease.sol";
import {PaymentHub} from "../src/PaymentHub.sol";
import {DIDRegistry} from "../src/DIDRegistry.sol";

/// @notice Sends the CHAIN.md §6 operations as real transactions to a node
/// (anvil) running a deployment, so their full transaction gas can be read
/// from the receipts. Writes one label per broadcast transaction, in order,
/// to deployments/gasbench-labels.txt. Env: DEPLOY_OUT (the deployment JSON).
contract GasBench is CheatBase {
    uint256 internal constant KEY = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
    uint256 internal constant POT_PK = 0x5157;
    uint256 internal constant HOLDER_PK = 0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d; // anvil #1
    bytes32 internal constant RAND = keccak256("epoch secret");
    string internal labels;

    BitsTestToken internal token;
    PaymentHub internal hub;
    LicenseRegistry internal registry;
    KeyRelease internal keys;
    DIDRegistry internal did;

    function _label(string memory l) internal {
        labels = string.concat(labels, l, "\n");
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function run() external {
        string memory json = vm.readFile(vm.envOr("DEPLOY_OUT", string("deployments/local.json")));
        token = BitsTestToken(vm.parseJsonAddress(json, ".token"));
        hub = PaymentHub(vm.parseJsonAddress(json, ".paymentHub"));
        registry = LicenseRegistry(vm.parseJsonAddress(json, ".licenseRegistry"));
        keys = KeyRelease(vm.parseJsonAddress(json, ".keyRelease"));
        did = DIDRegistry(vm.parseJsonAddress(json, ".didRegistry"));
        vm.startBroadcast(KEY);
        _hub();
        _licences();
        _did();
        vm.stopBroadcast();
        vm.writeFile("deployments/gasbench-labels.txt", labels);
    }

    function _ticket(address to, uint256 nonce) internal view returns (PaymentHub.Ticket memory) {
        return PaymentHub.Ticket(
            to, 1e18, type(uint256).max, nonce, keccak256(abi.encodePacked(RAND)), uint64(block.timestamp + 1 hours)
        );
    }

    function _hub() internal {
        address signer = vm.addr(POT_PK);
        token.mint(vm.addr(KEY), 1e24);
        _label("setup: mint");
        token.approve(address(hub), type(uint256).max);
        _label("setup: approve");
        hub.fund(signer, 1000e18, 100e18);
        _label("fund new pot (open)");
        hub.fund(signer, 10e18, 0);
        _label("top up");

        address seeder = vm.addr(0x5EED);
        PaymentHub.Voucher memory v =
            PaymentHub.Voucher(seeder, keccak256("lane"), 1e18, uint64(block.timestamp + 1 hours));
        hub.redeemVoucher(v, _sig(POT_PK, hub.hashVoucher(v)));
        _label("redeem voucher first");
        v.cumulative = 2e18;
        hub.redeemVoucher(v, _sig(POT_PK, hub.hashVoucher(v)));
        _label("redeem voucher later");

        PaymentHub.Ticket memory t = _ticket(vm.addr(0x7000), 1);
        hub.redeemTicket(t, _sig(POT_PK, hub.hashTicket(t)), RAND);
        _label("redeem ticket (fresh payee)");

        // a relay's epoch: 10 winners from one pot, each to a fresh stealth payee
        PaymentHub.Ticket[] memory ts = new PaymentHub.Ticket[](10);
        bytes[] memory ss = new bytes[](10);
        for (uint256 i; i < 10; ++i) {
            ts[i] = _ticket(vm.addr(0x7100 + i), 10 + i);
            ss[i] = _sig(POT_PK, hub.hashTicket(ts[i]));
        }
        hub.redeemTickets(ts, ss, RAND);
        _label("batch10: tickets from one pot, fresh payees");

        // 10 winners from 10 pots (steady state: each pot's nonce word in use)
        for (uint256 i; i < 10; ++i) {
            hub.fund(vm.addr(0x6000 + i), 100e18, 10e18);
            _label("setup: fund pot");
            ts[i] = _ticket(vm.addr(0x7200 + i), 1);
            hub.redeemTicket(ts[i], _sig(0x6000 + i, hub.hashTicket(ts[i])), RAND);
            _label("setup: ticket");
        }
        for (uint256 i; i < 10; ++i) {
            ts[i] = _ticket(vm.addr(0x7300 + i), 2);
            ss[i] = _sig(0x6000 + i, hub.hashTicket(ts[i]));
        }
        hub.redeemTickets(ts, ss, RAND);
        _label("batch10: tickets from 10 pots, fresh payees");

        uint64 dl = uint64(block.timestamp + 1 hours);
        address to = vm.addr(0xCAFE);
        bytes memory ws = _sig(0x5EED, hub.hashWithdraw(seeder, to, 1e18, 1e16, 0, dl));
        hub.withdrawFor(seeder, to, 1e18, 1e16, dl, ws);
        _label("relayed withdraw (withdrawFor)");
        hub.requestUnlock(signer);
        _label("unlock (requestUnlock)");
    }

    function _licences() internal {
        token.approve(address(registry), type(uint256).max);
        _label("setup: approve");
        address me = vm.addr(KEY);
        uint256 index = registry.publish(keccak256("manifest"), 5e18, 500, me, 200, keccak256("commit"));
        _label("publish");
        uint256 id = registry.buy(index, vm.addr(HOLDER_PK), 5e18);
        _label("buy licence (new holder)");
        uint256 id2 = registry.buy(index, me, 5e18);
        _label("buy licence (second, holder has one)");
        registry.list(id2, 7e18);
        _label("list");
        registry.buyListed(id2, vm.addr(0x401E), 7e18);
        _label("resale buyListed");
        uint256 id3 = registry.buy(index, me, 5e18);
        _label("setup: buy");
        registry.transferFrom(me, vm.addr(0x401F), id3);
        _label("plain transfer");
        keys.deliverKey(id, vm.addr(HOLDER_PK), keccak256("wrapped"));
        _label("key delivery (fallback)");
        vm.stopBroadcast();
        vm.startBroadcast(HOLDER_PK);
        keys.requestKey(id, hex"023c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1");
        _label("key request (fallback)");
        vm.stopBroadcast();
        vm.startBroadcast(KEY);
    }

    function _did() internal {
        address me = vm.addr(KEY);
        did.setAttribute(me, "did/svc/KeyAgent", abi.encodePacked(keccak256("dest")), 365 days);
        _label("DID attribute first");
        did.setAttribute(me, "did/svc/Catalog", abi.encodePacked(keccak256("cat")), 365 days);
        _label("DID attribute later");
    }
}
