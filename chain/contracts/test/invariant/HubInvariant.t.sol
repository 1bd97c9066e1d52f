// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test, CheatBase} from "../utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BitsTestToken} from "../../src/BitsTestToken.sol";
import {PaymentHub} from "../../src/PaymentHub.sol";
import {LicenseRegistry} from "../../src/LicenseRegistry.sol";
import {FeeSplitter} from "../../src/FeeSplitter.sol";

/// @notice Drives the hub with random funding, paper, withdrawals, unlocks and
/// time, and keeps ghost books to check against.
contract HubHandler is CheatBase {
    PaymentHub public hub;
    BitsTestToken public token;
    uint256 internal constant NS = 3; // pot signers
    uint256 internal constant NR = 4; // stealth recipients
    bytes32 internal constant RAND = keccak256("epoch");

    // ghost books
    mapping(address => uint256) public fundedDeposit; // per signer, ever
    mapping(address => uint256) public paidFrom; // per signer, ever
    mapping(bytes32 => uint256) public issued; // voucher cumulative per (signer, lane, recipient)
    uint256 public ticketNonce;
    uint256 public doubleRedeems; // replays that went through (must stay 0)
    uint256 public redemptions;
    uint256 public overpaid; // voucher keys paid beyond what was issued (must stay 0)

    constructor(PaymentHub hub_, BitsTestToken token_) {
        hub = hub_;
        token = token_;
        token.approve(address(hub), type(uint256).max);
    }

    function signerPk(uint256 i) public pure returns (uint256) {
        return 0x5100 + (i % NS);
    }

    function stealthPk(uint256 i) public pure returns (uint256) {
        return 0x5700 + (i % NR);
    }

    function signerAt(uint256 i) public pure returns (address) {
        return vm.addr(signerPk(i));
    }

    function stealthAt(uint256 i) public pure returns (address) {
        return vm.addr(stealthPk(i));
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function fund(uint256 who, uint96 deposit, uint96 escrow) external {
        address signer = signerAt(who);
        deposit = uint96(deposit % 1e24);
        escrow = uint96(escrow % 1e23);
        (,, uint64 unlockAt,,) = hub.pots(signer);
        if (unlockAt != 0 || deposit + escrow == 0) return;
        token.mint(address(this), uint256(deposit) + escrow);
        hub.fund(signer, deposit, escrow);
        fundedDeposit[signer] += deposit;
    }

    function redeemVoucher(uint256 who, uint256 to, uint8 lane, uint96 more) external {
        address signer = signerAt(who);
        address recipient = stealthAt(to);
        bytes32 laneId = bytes32(uint256(lane % 3));
        bytes32 key = keccak256(abi.encode(signer, laneId, recipient));
        uint256 cum = issued[key] + (more % 1e23) + 1;
        issued[key] = cum;
        PaymentHub.Voucher memory v = PaymentHub.Voucher(recipient, laneId, cum, uint64(block.timestamp + 1 hours));
        bytes memory s = _sig(signerPk(who), hub.hashVoucher(v));
        uint256 before = hub.redeemed(hub.laneKey(signer, laneId, recipient));
        try hub.redeemVoucher(v, s) {
            uint256 afterR = hub.redeemed(hub.laneKey(signer, laneId, recipient));
            paidFrom[signer] += afterR - before;
            if (afterR > cum) overpaid++;
            redemptions++;
            // the same voucher again pays nothing
            try hub.redeemVoucher(v, s) {
                if (hub.redeemed(hub.laneKey(signer, laneId, recipient)) != afterR) doubleRedeems++;
                paidFrom[signer] += hub.redeemed(hub.laneKey(signer, laneId, recipient)) - afterR;
            } catch {}
        } catch {}
    }

    function redeemTicket(uint256 who, uint256 to, uint96 face) external {
        address signer = signerAt(who);
        PaymentHub.Ticket memory t = PaymentHub.Ticket(
            stealthAt(to),
            (face % 1e23) + 1,
            type(uint256).max,
            ticketNonce++,
            keccak256(abi.encodePacked(RAND)),
            uint64(block.timestamp + 1 hours)
        );
        bytes memory s = _sig(signerPk(who), hub.hashTicket(t));
        (uint96 depBefore,,,,) = hub.pots(signer);
        try hub.redeemTicket(t, s, RAND) {
            (uint96 depAfter,,,,) = hub.pots(signer);
            paidFrom[signer] += depBefore - depAfter;
            redemptions++;
            try hub.redeemTicket(t, s, RAND) {
                doubleRedeems++;
            } catch {}
        } catch {}
    }

    function withdrawFor(uint256 from, uint256 amount, uint256 fee) external {
        uint256 pk = stealthPk(from);
        address stealth = vm.addr(pk);
        uint256 bal = hub.balances(stealth);
        if (bal == 0) return;
        amount = (amount % bal) + 1;
        fee = fee % (bal - amount + 1);
        uint64 dl = uint64(block.timestamp);
        bytes memory s = _sig(pk, hub.hashWithdraw(stealth, address(0xCAFE), amount, fee, hub.nonces(stealth), dl));
        hub.withdrawFor(stealth, address(0xCAFE), amount, fee, dl, s);
    }

    function requestUnlock(uint256 who) external {
        (,, uint64 unlockAt, address funder,) = hub.pots(signerAt(who));
        if (funder == address(0) || unlockAt != 0) return;
        hub.requestUnlock(signerAt(who));
    }

    function withdrawPot(uint256 who) external {
        (,, uint64 unlockAt,,) = hub.pots(signerAt(who));
        if (unlockAt == 0 || block.timestamp < unlockAt) return;
        hub.withdrawPot(signerAt(who));
    }

    function sweepAndPay() external {
        address[] memory s = new address[](NS);
        for (uint256 i; i < NS; ++i) s[i] = signerAt(i);
        hub.sweepFees(s);
        hub.payTreasury();
    }

    function warp(uint32 secs) external {
        vm.warp(block.timestamp + (secs % 2 days));
    }
}

contract HubInvariantTest is Test {
    PaymentHub internal hub;
    BitsTestToken internal token;
    HubHandler internal handler;
    FeeSplitter internal splitter;

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new BitsTestToken();
        address[] memory p = new address[](1);
        uint256[] memory s = new uint256[](1);
        (p[0], s[0]) = (address(0xA0), 10_000);
        splitter = new FeeSplitter(IERC20(address(token)), p, s);
        hub = new PaymentHub(IERC20(address(token)), address(splitter), 250, 3 days, 12 hours);
        handler = new HubHandler(hub, token);
        targetContract(address(handler));
    }

    /// Tokens held == pots + balances + fees owed + burned escrow.
    function invariant_potBalancesConserved() public view {
        uint256 sum = hub.treasuryOwed() + hub.burned() + hub.balances(address(handler));
        for (uint256 i; i < 3; ++i) {
            (uint96 dep, uint96 fees,,, uint96 esc) = hub.pots(handler.signerAt(i));
            sum += uint256(dep) + fees + esc;
        }
        for (uint256 i; i < 4; ++i) sum += hub.balances(handler.stealthAt(i));
        assertEq(token.balanceOf(address(hub)), sum, "hub tokens != books");
    }

    function invariant_noDoubleRedeem() public view {
        assertEq(handler.doubleRedeems(), 0, "a voucher delta or ticket paid twice");
        assertEq(handler.overpaid(), 0, "a voucher paid beyond its cumulative");
    }

    /// What left a pot as payment never exceeds what was deposited in it.
    function invariant_payoutsNeverExceedPot() public view {
        for (uint256 i; i < 3; ++i) {
            address s = handler.signerAt(i);
            assertLe(handler.paidFrom(s), handler.fundedDeposit(s), "pot overpaid");
        }
    }
}

/// @notice Licences bought and resold at random: the registry's tokens always
/// equal what it owes, and every sale split adds up to its price.
contract RegistryHandler is CheatBase {
    LicenseRegistry public registry;
    BitsTestToken public token;
    uint256 public volume; // all prices paid
    address[4] internal actors = [address(0xA1), address(0xA2), address(0xA3), address(0xA4)];

    constructor(LicenseRegistry r, BitsTestToken t) {
        (registry, token) = (r, t);
        for (uint256 i; i < 4; ++i) {
            vm.prank(actors[i]);
            t.approve(address(r), type(uint256).max);
        }
    }

    function actor(uint256 i) public view returns (address) {
        return actors[i % 4];
    }

    function publish(uint256 who, uint96 price, uint16 royalty, uint16 agentFee, uint256 agentWho) external {
        bytes32 contentHash = keccak256(abi.encode(registry.contentCount(), who));
        vm.prank(actor(who));
        registry.publish(
            contentHash,
            uint96(price % 1e24),
            uint16(royalty % 1001),
            actor(agentWho),
            uint16(agentFee % 501),
            bytes32(uint256(1))
        );
    }

    function buy(uint256 index, uint256 who) external {
        uint256 n = registry.contentCount();
        if (n == 0) return;
        index = index % n + 1;
        uint256 price = registry.content(index).price;
        token.mint(actor(who), price);
        vm.prank(actor(who));
        registry.buy(index, actor(who), price);
        volume += price;
    }

    function listAndResell(uint256 index, uint256 serialSeed, uint96 price, uint256 buyer) external {
        uint256 n = registry.contentCount();
        if (n == 0) return;
        index = index % n + 1;
        uint64 sold = registry.content(index).serial;
        if (sold == 0) return;
        uint256 id = index << 64 | (serialSeed % sold);
        address owner = registry.ownerOf(id);
        price = uint96(price % 1e24) + 1;
        vm.prank(owner);
        registry.list(id, price);
        token.mint(actor(buyer), price);
        vm.prank(actor(buyer));
        registry.buyListed(id, actor(buyer), price);
        volume += price;
    }

    function withdraw(uint256 who) external {
        if (registry.owed(actor(who)) == 0) return;
        vm.prank(actor(who));
        registry.withdraw(actor(who));
    }

    function payTreasury() external {
        registry.payTreasury();
    }
}

contract RegistryInvariantTest is Test {
    LicenseRegistry internal registry;
    BitsTestToken internal token;
    RegistryHandler internal handler;
    FeeSplitter internal splitter;

    function setUp() public {
        token = new BitsTestToken();
        address[] memory p = new address[](4);
        uint256[] memory s = new uint256[](4);
        (p[0], p[1], p[2], p[3]) = (address(0xF0), address(0xF1), address(0xF2), address(0xF3));
        (s[0], s[1], s[2], s[3]) = (4000, 3000, 2000, 1000);
        splitter = new FeeSplitter(IERC20(address(token)), p, s);
        registry = new LicenseRegistry(IERC20(address(token)), address(splitter), 300, 1000, 500);
        handler = new RegistryHandler(registry, token);
        targetContract(address(handler));
    }

    function invariant_registryOwesExactlyWhatItHolds() public view {
        uint256 owed = registry.treasuryOwed();
        for (uint256 i; i < 4; ++i) owed += registry.owed(handler.actor(i));
        assertEq(token.balanceOf(address(registry)), owed, "registry tokens != owed");
    }

    /// Every sale split adds up: all that was paid is owed, withdrawn or with the treasury.
    function invariant_salesSplitToTheirPrice() public view {
        uint256 out = token.balanceOf(address(registry)) + token.balanceOf(address(splitter));
        // buyers are minted exactly the price, so what an actor holds it withdrew
        for (uint256 i; i < 4; ++i) out += token.balanceOf(handler.actor(i));
        assertEq(out, handler.volume(), "split != price");
    }

    function invariant_splitterSharesSumTo10000() public view {
        address[] memory p = splitter.payees();
        uint256 sum;
        for (uint256 i; i < p.length; ++i) sum += splitter.shares(p[i]);
        assertEq(sum, 10_000);
    }
}
