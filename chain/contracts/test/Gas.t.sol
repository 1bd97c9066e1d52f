// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HubBase} from "./PaymentHub.t.sol";
import {PaymentHub} from "../src/PaymentHub.sol";

/// @notice The two C1 gas targets as whole transactions. foundry.toml sets
/// `isolate = true`, so every top-level call is its own transaction and
/// snapshotGasLastCall is full transaction gas (21k base and calldata
/// included, cold storage), as on a node; script/anvil-check.sh measures
/// the same on anvil.
contract GasTest is HubBase {
    function test_gas_redeemVoucherLater() public {
        _fund(potSigner, 100e18, 10e18);
        PaymentHub.Voucher memory v = _voucher(stealth, 1e18);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        v.cumulative = 2e18;
        bytes memory s = _signV(POT_PK, v);
        hub.redeemVoucher(v, s);
        uint256 g = vm.snapshotGasLastCall("redeemVoucher later");
        assertEq(hub.balances(stealth), _net(2e18));
        assertLe(g, 48_500, "over the C1 target");
    }

    function test_gas_redeemTicketsBatch10() public {
        _fund(potSigner, 100e18, 10e18);
        // steady state: the pot's nonce word is already in use
        PaymentHub.Ticket memory first = _ticket(vm.addr(0x7000), 1e18, 1);
        hub.redeemTicket(first, _signT(POT_PK, first), RAND);
        PaymentHub.Ticket[] memory ts = new PaymentHub.Ticket[](10);
        bytes[] memory ss = new bytes[](10);
        for (uint256 i; i < 10; ++i) {
            ts[i] = _ticket(vm.addr(0x7100 + i), 1e18, 10 + i);
            ss[i] = _signT(POT_PK, ts[i]);
        }
        hub.redeemTickets(ts, ss, RAND);
        uint256 g = vm.snapshotGasLastCall("redeemTickets batch of 10");
        for (uint256 i; i < 10; ++i) assertEq(hub.balances(vm.addr(0x7100 + i)), _net(1e18));
        assertLe(g, 10 * 37_000, "over the C1 target");
    }
}
