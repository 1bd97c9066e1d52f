// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {PaymentHub} from "../src/PaymentHub.sol";
import {FeeSource} from "../src/FeeSource.sol";

/// @notice Helpers to make and sign paper, shared by the hub tests.
abstract contract HubBase is Base {
    uint256 internal constant POT_PK = 0x5157;
    uint256 internal constant POT2_PK = 0x5158;
    uint256 internal constant STEALTH_PK = 0x57EA17;
    address internal payer = address(0xBA7E5);
    address internal potSigner;
    address internal potSigner2;
    address internal stealth;
    bytes32 internal constant RAND = keccak256("epoch secret");
    bytes32 internal constant LANE = keccak256("lane 1");

    function setUp() public virtual override {
        super.setUp();
        potSigner = vm.addr(POT_PK);
        potSigner2 = vm.addr(POT2_PK);
        stealth = vm.addr(STEALTH_PK);
        _fundAccount(payer, address(hub), 1e30);
    }

    function _fund(address signer, uint96 deposit, uint96 escrow) internal {
        vm.prank(payer);
        hub.fund(signer, deposit, escrow);
    }

    function _ticket(address to, uint256 face, uint256 nonce) internal view returns (PaymentHub.Ticket memory t) {
        t = PaymentHub.Ticket(to, face, type(uint256).max, nonce, keccak256(abi.encodePacked(RAND)), uint64(block.timestamp + 1 hours));
    }

    function _voucher(address to, uint256 cumulative) internal view returns (PaymentHub.Voucher memory v) {
        v = PaymentHub.Voucher(to, LANE, cumulative, uint64(block.timestamp + 1 hours));
    }

    function _signT(uint256 pk, PaymentHub.Ticket memory t) internal view returns (bytes memory) {
        return sig(pk, hub.hashTicket(t));
    }

    function _signV(uint256 pk, PaymentHub.Voucher memory v) internal view returns (bytes memory) {
        return sig(pk, hub.hashVoucher(v));
    }

    function _net(uint256 amount) internal pure returns (uint256) {
        return amount - _fee(amount);
    }

    /// @dev A stealth balance of `amount` net, earned through a voucher.
    function _earn(address to, uint96 gross) internal {
        _fund(potSigner2, gross, 0);
        PaymentHub.Voucher memory v = PaymentHub.Voucher(to, keccak256(abi.encode(to, gross)), gross, uint64(block.timestamp + 1));
        hub.redeemVoucher(v, sig(POT2_PK, hub.hashVoucher(v)));
    }
}

contract PaymentHubTest is HubBase {

    // ----------------------------------------------------------- constructor

    function test_constructor_setsParams() public view {
        assertEq(address(hub.token()), address(token));
        assertEq(hub.treasury(), address(splitter));
        assertEq(hub.protocolFeeBps(), FEE_BPS);
        assertEq(hub.unlockDelay(), UNLOCK_DELAY);
        assertEq(hub.maxPaperTTL(), MAX_TTL);
    }

    function test_constructor_reverts() public {
        IERC20 t = IERC20(address(token));
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        new PaymentHub(IERC20(address(0)), address(1), 1, 2, 1);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        new PaymentHub(t, address(0), 1, 2, 1);
        vm.expectRevert(FeeSource.BadParams.selector);
        new PaymentHub(t, address(1), 501, 2, 1);
        vm.expectRevert(FeeSource.BadParams.selector);
        new PaymentHub(t, address(1), 1, 2, 0);
        vm.expectRevert(FeeSource.BadParams.selector);
        new PaymentHub(t, address(1), 1, 5, 5);
    }

    // ------------------------------------------------------------------ pots

    function test_fund_newPotAndTopUp() public {
        vm.expectEmit(true, true, false, true, address(hub));
        emit PaymentHub.PotFunded(potSigner, payer, 100e18, 10e18);
        _fund(potSigner, 100e18, 10e18);
        (uint96 dep, uint96 fees, uint64 unlockAt, address funder, uint96 esc) = hub.pots(potSigner);
        assertEq(dep, 100e18);
        assertEq(fees, 0);
        assertEq(unlockAt, 0);
        assertEq(funder, payer);
        assertEq(esc, 10e18);
        assertEq(token.balanceOf(address(hub)), 110e18);

        _fund(potSigner, 5e18, 1e18);
        (dep,,, funder, esc) = hub.pots(potSigner);
        assertEq(dep, 105e18);
        assertEq(esc, 11e18);
        assertEq(funder, payer);
    }

    /// Someone who funds a signer's pot first (say by front-running) owns that
    /// pot, so nobody else may add to it: the payer loses nothing, picks a new key.
    function test_fund_onlyTheFunderTopsUp() public {
        address attacker = address(0x0DD);
        _fundAccount(attacker, address(hub), 1);
        vm.prank(attacker);
        hub.fund(potSigner, 1, 0);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NotFunder.selector, potSigner, payer));
        hub.fund(potSigner, 100e18, 0);
        // nor through a stealth balance
        _earn(stealth, 10e18);
        uint64 dl = uint64(block.timestamp + 60);
        bytes memory s = sig(STEALTH_PK, hub.hashFundPot(stealth, potSigner, 1e18, 0, dl));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NotFunder.selector, potSigner, stealth));
        hub.fundFromBalance(stealth, potSigner, 1e18, dl, s);
    }

    function test_fund_reverts() public {
        vm.startPrank(payer);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        hub.fund(address(0), 1, 1);
        vm.expectRevert(PaymentHub.ZeroAmount.selector);
        hub.fund(potSigner, 0, 0);
        hub.fund(potSigner, 1, 0);
        hub.requestUnlock(potSigner);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotUnlocking.selector, potSigner));
        hub.fund(potSigner, 1, 0);
        vm.stopPrank();
        address poor = address(0xB00);
        vm.prank(poor);
        vm.expectRevert();
        hub.fund(potSigner2, 1, 0);
    }

    function test_requestUnlock_byFunderOrSigner() public {
        _fund(potSigner, 1e18, 0);
        vm.expectEmit(true, false, false, true, address(hub));
        emit PaymentHub.UnlockRequested(potSigner, block.timestamp + UNLOCK_DELAY);
        vm.prank(potSigner);
        hub.requestUnlock(potSigner);
        (,, uint64 at,,) = hub.pots(potSigner);
        assertEq(at, block.timestamp + UNLOCK_DELAY);
        _fund(potSigner2, 1e18, 0);
        vm.prank(payer);
        hub.requestUnlock(potSigner2);
    }

    function test_requestUnlock_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.UnknownPot.selector, potSigner));
        hub.requestUnlock(potSigner);
        _fund(potSigner, 1e18, 0);
        vm.prank(address(0xE7E));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NotFunder.selector, potSigner, address(0xE7E)));
        hub.requestUnlock(potSigner);
        vm.prank(payer);
        hub.requestUnlock(potSigner);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotUnlocking.selector, potSigner));
        hub.requestUnlock(potSigner);
    }

    function test_withdrawPot_paysFunderAndTreasury() public {
        _fund(potSigner, 100e18, 10e18);
        PaymentHub.Voucher memory v = _voucher(stealth, 50e18);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        vm.prank(payer);
        hub.requestUnlock(potSigner);
        vm.warp(block.timestamp + UNLOCK_DELAY);
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(true, true, false, true, address(hub));
        emit PaymentHub.PotWithdrawn(potSigner, payer, 60e18);
        vm.prank(address(0x5E1A7)); // anyone may trigger it; the funder is paid
        hub.withdrawPot(potSigner);
        assertEq(token.balanceOf(payer) - before, 60e18);
        assertEq(hub.treasuryOwed(), _fee(50e18));
        (uint96 dep, uint96 fees, uint64 at, address funder, uint96 esc) = hub.pots(potSigner);
        assertEq(uint256(dep) + fees + at + esc, 0);
        assertEq(funder, address(0));
        // the spent voucher stays spent if the signer's pot is refilled
        _fund(potSigner, 100e18, 0);
        v.expiry = uint64(block.timestamp + 1);
        bytes memory s = _signV(POT_PK, v);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NothingNew.selector, 50e18, 50e18));
        hub.redeemVoucher(v, s);
    }

    function test_withdrawPot_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NotUnlocking.selector, potSigner));
        hub.withdrawPot(potSigner);
        _fund(potSigner, 1e18, 0);
        vm.prank(payer);
        hub.requestUnlock(potSigner);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.StillLocked.selector, block.timestamp + UNLOCK_DELAY));
        hub.withdrawPot(potSigner);
    }

    function test_fundFromBalance() public {
        _earn(stealth, 10e18);
        uint256 bal = hub.balances(stealth);
        assertEq(bal, _net(10e18));
        uint64 dl = uint64(block.timestamp + 60);
        bytes memory s = sig(STEALTH_PK, hub.hashFundPot(stealth, potSigner, 4e18, 0, dl));
        vm.expectEmit(true, true, false, true, address(hub));
        emit PaymentHub.PotFunded(potSigner, stealth, 4e18, 0);
        hub.fundFromBalance(stealth, potSigner, 4e18, dl, s);
        assertEq(hub.balances(stealth), bal - 4e18);
        (uint96 dep,,, address funder,) = hub.pots(potSigner);
        assertEq(dep, 4e18);
        assertEq(funder, stealth);
        assertEq(hub.nonces(stealth), 1);
        // replay: the nonce moved on, so the old signature no longer matches
        vm.expectRevert(PaymentHub.BadSignature.selector);
        hub.fundFromBalance(stealth, potSigner, 4e18, dl, s);
    }

    function test_fundFromBalance_reverts() public {
        _earn(stealth, 10e18);
        uint64 dl = uint64(block.timestamp + 60);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        hub.fundFromBalance(stealth, address(0), 1, dl, "");
        vm.expectRevert(PaymentHub.ZeroAmount.selector);
        hub.fundFromBalance(stealth, potSigner, 0, dl, "");
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.Expired.selector, uint64(block.timestamp - 1)));
        hub.fundFromBalance(stealth, potSigner, 1, uint64(block.timestamp - 1), "");
        bytes memory wrong = sig(POT_PK, hub.hashFundPot(stealth, potSigner, 1, 0, dl));
        vm.expectRevert(PaymentHub.BadSignature.selector);
        hub.fundFromBalance(stealth, potSigner, 1, dl, wrong);
        uint96 tooMuch = 10e18;
        bytes memory s = sig(STEALTH_PK, hub.hashFundPot(stealth, potSigner, tooMuch, 0, dl));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.InsufficientBalance.selector, _net(10e18), tooMuch));
        hub.fundFromBalance(stealth, potSigner, tooMuch, dl, s);
        _fund(potSigner, 1, 0);
        vm.prank(payer);
        hub.requestUnlock(potSigner);
        s = sig(STEALTH_PK, hub.hashFundPot(stealth, potSigner, 1, 0, dl));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotUnlocking.selector, potSigner));
        hub.fundFromBalance(stealth, potSigner, 1, dl, s);
    }

    // --------------------------------------------------------------- tickets

    function test_redeemTicket_winnerIsPaid() public {
        _fund(potSigner, 100e18, 10e18);
        PaymentHub.Ticket memory t = _ticket(stealth, 3e18, 7);
        bytes memory s = _signT(POT_PK, t);
        vm.expectEmit(false, false, false, true, address(hub));
        emit PaymentHub.TicketRedeemed(potSigner, stealth, 3e18);
        vm.prank(address(0x4E1A7)); // any relayer
        hub.redeemTicket(t, s, RAND);
        assertEq(hub.balances(stealth), _net(3e18));
        (uint96 dep, uint96 fees,,, uint96 esc) = hub.pots(potSigner);
        assertEq(dep, 97e18);
        assertEq(fees, _fee(3e18));
        assertEq(esc, 10e18);
        assertTrue(hub.isNonceUsed(potSigner, 7));
        assertFalse(hub.isNonceUsed(potSigner, 6));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.TicketUsed.selector, potSigner, 7));
        hub.redeemTicket(t, s, RAND);
    }

    function test_redeemTicket_reverts() public {
        _fund(potSigner, 100e18, 0);
        PaymentHub.Ticket memory t = _ticket(stealth, 1e18, 1);
        bytes memory s = _signT(POT_PK, t);
        vm.expectRevert(PaymentHub.BadRand.selector);
        hub.redeemTicket(t, s, bytes32(uint256(RAND) ^ 1));

        t.winProb = 0;
        s = _signT(POT_PK, t);
        vm.expectRevert(PaymentHub.NotWinning.selector);
        hub.redeemTicket(t, s, RAND);

        t = _ticket(stealth, 1e18, 1);
        t.expiry = uint64(block.timestamp - 1);
        s = _signT(POT_PK, t);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.Expired.selector, t.expiry));
        hub.redeemTicket(t, s, RAND);

        t.expiry = uint64(block.timestamp + MAX_TTL + 1);
        s = _signT(POT_PK, t);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.ExpiryTooFar.selector, t.expiry));
        hub.redeemTicket(t, s, RAND);

        t = _ticket(address(0), 1e18, 1);
        s = _signT(POT_PK, t);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        hub.redeemTicket(t, s, RAND);

        t = _ticket(stealth, 1e18, 1);
        s = _signT(POT_PK, t);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, bytes32(SECP256K1_N - uint256(_s(s)))));
        hub.redeemTicket(t, _highS(s), RAND);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        hub.redeemTicket(t, _trim(s), RAND);

        // signed by a key without a pot
        s = _signT(POT2_PK, t);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotEmpty.selector, potSigner2));
        hub.redeemTicket(t, s, RAND);
    }

    function test_redeemTicket_shortPotBurnsEscrow() public {
        _fund(potSigner, 2e18, 5e18);
        PaymentHub.Ticket memory t = _ticket(stealth, 3e18, 1);
        vm.expectEmit(true, false, false, true, address(hub));
        emit PaymentHub.EscrowBurned(potSigner, 5e18);
        hub.redeemTicket(t, _signT(POT_PK, t), RAND);
        assertEq(hub.balances(stealth), _net(2e18));
        assertEq(hub.burned(), 5e18);
        (uint96 dep,,,, uint96 esc) = hub.pots(potSigner);
        assertEq(dep, 0);
        assertEq(esc, 0);
        // nothing left to pay or burn: the next ticket is refused, not consumed
        t = _ticket(stealth, 1e18, 2);
        bytes memory s = _signT(POT_PK, t);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotEmpty.selector, potSigner));
        hub.redeemTicket(t, s, RAND);
        assertFalse(hub.isNonceUsed(potSigner, 2));
    }

    function test_redeemTickets_batchAcrossSignersAndWords() public {
        _fund(potSigner, 100e18, 0);
        _fund(potSigner2, 100e18, 0);
        uint256 n = 6;
        PaymentHub.Ticket[] memory ts = new PaymentHub.Ticket[](n);
        bytes[] memory ss = new bytes[](n);
        uint256[6] memory nonces = [uint256(1), 2, 300, 3, 4, 1];
        uint256[6] memory pks = [POT_PK, POT_PK, POT_PK, POT2_PK, POT_PK, POT2_PK];
        for (uint256 i; i < n; ++i) {
            ts[i] = _ticket(vm.addr(1000 + i), 1e18, nonces[i]);
            ss[i] = _signT(pks[i], ts[i]);
        }
        hub.redeemTickets(ts, ss, RAND);
        for (uint256 i; i < n; ++i) {
            assertEq(hub.balances(vm.addr(1000 + i)), _net(1e18));
            assertTrue(hub.isNonceUsed(vm.addr(pks[i]), nonces[i]));
        }
        (uint96 dep, uint96 fees,,,) = hub.pots(potSigner);
        assertEq(dep, 96e18);
        assertEq(fees, 4 * _fee(1e18));
        (dep,,,,) = hub.pots(potSigner2);
        assertEq(dep, 98e18);
        // any ticket again, alone or in a batch, is refused
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.TicketUsed.selector, potSigner, 300));
        hub.redeemTicket(ts[2], ss[2], RAND);
    }

    function test_redeemTickets_duplicateInOneBatch() public {
        _fund(potSigner, 100e18, 0);
        PaymentHub.Ticket[] memory ts = new PaymentHub.Ticket[](2);
        bytes[] memory ss = new bytes[](2);
        ts[0] = _ticket(stealth, 1e18, 9);
        ts[1] = ts[0];
        ss[0] = _signT(POT_PK, ts[0]);
        ss[1] = ss[0];
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.TicketUsed.selector, potSigner, 9));
        hub.redeemTickets(ts, ss, RAND);
    }

    function test_redeemTickets_reverts() public {
        vm.expectRevert(PaymentHub.LengthMismatch.selector);
        hub.redeemTickets(new PaymentHub.Ticket[](1), new bytes[](0), RAND);
        // all or nothing: a bad ticket undoes the good one before it
        _fund(potSigner, 100e18, 0);
        PaymentHub.Ticket[] memory ts = new PaymentHub.Ticket[](2);
        bytes[] memory ss = new bytes[](2);
        ts[0] = _ticket(stealth, 1e18, 1);
        ts[1] = _ticket(stealth, 1e18, 2);
        ts[1].winProb = 0;
        ss[0] = _signT(POT_PK, ts[0]);
        ss[1] = _signT(POT_PK, ts[1]);
        vm.expectRevert(PaymentHub.NotWinning.selector);
        hub.redeemTickets(ts, ss, RAND);
        assertFalse(hub.isNonceUsed(potSigner, 1));
    }

    // -------------------------------------------------------------- vouchers

    function test_redeemVoucher_firstAndLater() public {
        _fund(potSigner, 100e18, 10e18);
        PaymentHub.Voucher memory v = _voucher(stealth, 1e18);
        vm.expectEmit(false, false, false, true, address(hub));
        emit PaymentHub.VoucherRedeemed(potSigner, stealth, LANE, 1e18);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        v.cumulative = 5e18;
        hub.redeemVoucher(v, _signV(POT_PK, v));
        assertEq(hub.balances(stealth), _net(1e18) + _net(4e18));
        assertEq(hub.redeemed(hub.laneKey(potSigner, LANE, stealth)), 5e18);
        assertEq(hub.laneKey(potSigner, LANE, stealth), keccak256(abi.encode(potSigner, LANE, stealth)));
        (uint96 dep,,,,) = hub.pots(potSigner);
        assertEq(dep, 95e18);
    }

    function test_redeemVoucher_reverts() public {
        _fund(potSigner, 100e18, 0);
        PaymentHub.Voucher memory v = _voucher(stealth, 2e18);
        bytes memory s = _signV(POT_PK, v);
        hub.redeemVoucher(v, s);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NothingNew.selector, 2e18, 2e18));
        hub.redeemVoucher(v, s);
        v.cumulative = 1e18;
        s = _signV(POT_PK, v);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NothingNew.selector, 1e18, 2e18));
        hub.redeemVoucher(v, s);
        v = _voucher(stealth, 3e18);
        v.expiry = uint64(block.timestamp - 1);
        s = _signV(POT_PK, v);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.Expired.selector, v.expiry));
        hub.redeemVoucher(v, s);
        v.expiry = uint64(block.timestamp + MAX_TTL + 1);
        s = _signV(POT_PK, v);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.ExpiryTooFar.selector, v.expiry));
        hub.redeemVoucher(v, s);
        v = _voucher(address(0), 3e18);
        s = _signV(POT_PK, v);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        hub.redeemVoucher(v, s);
        v = _voucher(stealth, 3e18);
        s = _signV(POT_PK, v);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, bytes32(SECP256K1_N - uint256(_s(s)))));
        hub.redeemVoucher(v, _highS(s));
        s = _signV(POT2_PK, v);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotEmpty.selector, potSigner2));
        hub.redeemVoucher(v, s);
    }

    function test_redeemVoucher_shortPaysPartOnlyOnce() public {
        _fund(potSigner, 3e18, 1e18);
        PaymentHub.Voucher memory v = _voucher(stealth, 5e18);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        assertEq(hub.balances(stealth), _net(3e18));
        assertEq(hub.redeemed(hub.laneKey(potSigner, LANE, stealth)), 3e18, "only what was paid counts");
        assertEq(hub.burned(), 1e18);
        // a refill lets the unpaid rest through, never more
        _fund(potSigner, 10e18, 0);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        assertEq(hub.balances(stealth), _net(3e18) + _net(2e18));
        (uint96 dep,,,,) = hub.pots(potSigner);
        assertEq(dep, 8e18);
    }

    function test_redeemVouchers_batch() public {
        _fund(potSigner, 100e18, 0);
        _fund(potSigner2, 100e18, 0);
        PaymentHub.Voucher[] memory vs = new PaymentHub.Voucher[](3);
        bytes[] memory ss = new bytes[](3);
        vs[0] = _voucher(stealth, 1e18);
        vs[1] = _voucher(stealth, 3e18); // same lane, later state in the same batch
        vs[2] = _voucher(address(0xD00D), 2e18);
        ss[0] = _signV(POT_PK, vs[0]);
        ss[1] = _signV(POT_PK, vs[1]);
        ss[2] = _signV(POT2_PK, vs[2]);
        hub.redeemVouchers(vs, ss);
        assertEq(hub.balances(stealth), _net(1e18) + _net(2e18));
        assertEq(hub.balances(address(0xD00D)), _net(2e18));
        vm.expectRevert(PaymentHub.LengthMismatch.selector);
        hub.redeemVouchers(vs, new bytes[](2));
    }

    // --------------------------------------------------------------- balances

    function test_withdraw() public {
        _earn(address(this), 10e18);
        uint256 bal = hub.balances(address(this));
        vm.expectEmit(true, true, false, true, address(hub));
        emit PaymentHub.Withdrawn(address(this), address(0xCAFE), 1e18, 0);
        hub.withdraw(address(0xCAFE), 1e18);
        assertEq(token.balanceOf(address(0xCAFE)), 1e18);
        assertEq(hub.balances(address(this)), bal - 1e18);
    }

    function test_withdraw_reverts() public {
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        hub.withdraw(address(0), 1);
        vm.expectRevert(PaymentHub.ZeroAmount.selector);
        hub.withdraw(address(1), 0);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.InsufficientBalance.selector, 0, 1));
        hub.withdraw(address(1), 1);
    }

    function test_withdrawFor_relayed() public {
        _earn(stealth, 10e18);
        uint256 bal = hub.balances(stealth);
        uint64 dl = uint64(block.timestamp + 60);
        address relayer = address(0x4E1A7);
        bytes memory s = sig(STEALTH_PK, hub.hashWithdraw(stealth, address(0xCAFE), 5e18, 1e17, 0, dl));
        vm.expectEmit(true, true, false, true, address(hub));
        emit PaymentHub.Withdrawn(stealth, address(0xCAFE), 5e18, 1e17);
        vm.prank(relayer);
        hub.withdrawFor(stealth, address(0xCAFE), 5e18, 1e17, dl, s);
        assertEq(token.balanceOf(address(0xCAFE)), 5e18);
        assertEq(hub.balances(relayer), 1e17);
        assertEq(hub.balances(stealth), bal - 5e18 - 1e17);
        vm.expectRevert(PaymentHub.BadSignature.selector); // replay
        hub.withdrawFor(stealth, address(0xCAFE), 5e18, 1e17, dl, s);
    }

    function test_withdrawFor_reverts() public {
        _earn(stealth, 10e18);
        uint64 dl = uint64(block.timestamp + 60);
        bytes memory s = sig(STEALTH_PK, hub.hashWithdraw(stealth, address(0xCAFE), 5e18, 1e17, 0, dl));
        vm.warp(dl + 1);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.Expired.selector, dl));
        hub.withdrawFor(stealth, address(0xCAFE), 5e18, 1e17, dl, s);
        vm.warp(dl);
        vm.expectRevert(PaymentHub.BadSignature.selector); // other terms than signed
        hub.withdrawFor(stealth, address(0xBEEF), 5e18, 1e17, dl, s);
        vm.expectRevert(PaymentHub.BadSignature.selector);
        hub.withdrawFor(stealth, address(0xCAFE), 5e18, 2e17, dl, s);
        s = sig(STEALTH_PK, hub.hashWithdraw(stealth, address(0xCAFE), 10e18, 0, 0, dl));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.InsufficientBalance.selector, _net(10e18), 10e18));
        hub.withdrawFor(stealth, address(0xCAFE), 10e18, 0, dl, s);
    }

    function _batch2() internal view returns (PaymentHub.Voucher[] memory vs, bytes[] memory ss) {
        vs = new PaymentHub.Voucher[](2);
        ss = new bytes[](2);
        vs[0] = _voucher(stealth, 3e18);
        vs[1] = PaymentHub.Voucher(address(0x5EED2), keccak256("lane 2"), 2e18, uint64(block.timestamp + 1 hours));
        for (uint256 i; i < 2; ++i) {
            ss[i] = _signV(POT_PK, vs[i]);
        }
    }

    function test_redeemVouchersFor_paysRelayer() public {
        _fund(potSigner, 100e18, 10e18);
        (PaymentHub.Voucher[] memory vs, bytes[] memory ss) = _batch2();
        uint64 dl = uint64(block.timestamp + 60);
        address relayer = address(0x4E1A7);
        bytes32 batch = hub.batchHash(vs);
        assertEq(batch, keccak256(abi.encodePacked(hub.hashVoucher(vs[0]), hub.hashVoucher(vs[1]))));
        bytes32 h = hub.hashRedeemFee(stealth, batch, 1e17, 0, dl);
        assertEq(
            h,
            _digest(
                keccak256(
                    abi.encode(
                        keccak256("RedeemFee(address payee,bytes32 batch,uint256 fee,uint256 nonce,uint64 deadline)"),
                        stealth,
                        batch,
                        1e17,
                        0,
                        dl
                    )
                )
            )
        );
        bytes memory fs = sig(STEALTH_PK, h);
        vm.expectEmit(true, true, false, true, address(hub));
        emit PaymentHub.RedeemFeePaid(stealth, relayer, 1e17);
        vm.prank(relayer);
        hub.redeemVouchersFor(vs, ss, stealth, 1e17, dl, fs);
        assertEq(hub.balances(stealth), _net(3e18) - 1e17);
        assertEq(hub.balances(address(0x5EED2)), _net(2e18));
        assertEq(hub.balances(relayer), 1e17);
        assertEq(hub.nonces(stealth), 1);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.NothingNew.selector, 3e18, 3e18));
        hub.redeemVouchersFor(vs, ss, stealth, 1e17, dl, fs);
    }

    function test_redeemVouchersFor_reverts() public {
        _fund(potSigner, 100e18, 10e18);
        (PaymentHub.Voucher[] memory vs, bytes[] memory ss) = _batch2();
        uint64 dl = uint64(block.timestamp + 60);
        bytes memory fs = sig(STEALTH_PK, hub.hashRedeemFee(stealth, hub.batchHash(vs), 1e17, 0, dl));
        vm.warp(dl + 1);
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.Expired.selector, dl));
        hub.redeemVouchersFor(vs, ss, stealth, 1e17, dl, fs);
        vm.warp(dl);
        vm.expectRevert(PaymentHub.BadSignature.selector); // another fee than signed
        hub.redeemVouchersFor(vs, ss, stealth, 2e17, dl, fs);
        PaymentHub.Voucher[] memory one = new PaymentHub.Voucher[](1);
        bytes[] memory s1 = new bytes[](1);
        one[0] = vs[0];
        s1[0] = ss[0];
        vm.expectRevert(PaymentHub.BadSignature.selector); // another batch
        hub.redeemVouchersFor(one, s1, stealth, 1e17, dl, fs);
        vm.expectRevert(PaymentHub.BadSignature.selector); // another payee
        hub.redeemVouchersFor(vs, ss, address(0x5EED2), 1e17, dl, fs);
        vm.expectRevert(PaymentHub.LengthMismatch.selector);
        hub.redeemVouchersFor(vs, s1, stealth, 1e17, dl, fs);
        bytes memory big = sig(STEALTH_PK, hub.hashRedeemFee(stealth, hub.batchHash(vs), 3e18, 0, dl));
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.InsufficientBalance.selector, _net(3e18), 3e18));
        hub.redeemVouchersFor(vs, ss, stealth, 3e18, dl, big);
        assertEq(hub.balances(stealth), 0); // all or nothing
        assertEq(hub.nonces(stealth), 0);
    }

    // ---------------------------------------------------------------- fees

    function test_sweepFees_and_payTreasury() public {
        _fund(potSigner, 100e18, 0);
        _fund(potSigner2, 100e18, 0);
        PaymentHub.Voucher memory v = _voucher(stealth, 10e18);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        hub.redeemVoucher(v, _signV(POT2_PK, v));
        assertEq(hub.payTreasury(), 0, "nothing swept yet");
        address[] memory list = new address[](3);
        (list[0], list[1], list[2]) = (potSigner, potSigner2, address(0x1234));
        assertEq(hub.sweepFees(list), 2 * _fee(10e18));
        (, uint96 fees,,,) = hub.pots(potSigner);
        assertEq(fees, 0);
        assertEq(hub.treasuryOwed(), 2 * _fee(10e18));
        assertEq(hub.payTreasury(), 2 * _fee(10e18));
        assertEq(token.balanceOf(address(splitter)), 2 * _fee(10e18));
        assertEq(hub.treasuryOwed(), 0);
    }

    /// Fees accrue in the pot's packed slot; past 96 bits redemption stops
    /// (it never spills into unlockAt) until anyone sweeps them.
    function test_feesOverflow_untilSwept() public {
        PaymentHub h = new PaymentHub(IERC20(address(token)), address(splitter), 500, UNLOCK_DELAY, MAX_TTL);
        vm.prank(payer);
        token.approve(address(h), type(uint256).max);
        token.mint(payer, 21 * uint256(type(uint96).max));
        uint96 max = type(uint96).max;
        uint256 cum;
        address[] memory list = new address[](1);
        list[0] = potSigner;
        for (uint256 i; i < 21; ++i) {
            vm.prank(payer);
            h.fund(potSigner, max, 0);
            cum += max;
            PaymentHub.Voucher memory v = _voucher(stealth, cum);
            bytes memory s = sig(POT_PK, h.hashVoucher(v));
            (, uint96 fees,,,) = h.pots(potSigner);
            if (uint256(fees) + _fee5(max) > max) {
                vm.expectRevert(PaymentHub.FeesOverflow.selector);
                h.redeemVoucher(v, s);
                h.sweepFees(list);
                h.redeemVoucher(v, s);
                (, fees,,,) = h.pots(potSigner);
                assertEq(fees, _fee5(max));
                return;
            }
            h.redeemVoucher(v, s);
        }
        fail("fees never reached 96 bits");
    }

    function _fee5(uint256 amount) internal pure returns (uint256) {
        return amount * 500 / 10_000;
    }

    // ---------------------------------------------------------------- views

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _domain("PaymentHub", address(hub)), structHash));
    }

    function test_hashes_matchEIP712ByHand() public view {
        assertEq(hub.domainSeparator(), _domain("PaymentHub", address(hub)));
        PaymentHub.Ticket memory t = _ticket(stealth, 3, 4);
        bytes32 th = keccak256(
            abi.encode(
                keccak256(
                    "Ticket(address recipient,uint256 faceValue,uint256 winProb,uint256 senderNonce,bytes32 recipientRandHash,uint64 expiry)"
                ),
                t.recipient,
                t.faceValue,
                t.winProb,
                t.senderNonce,
                t.recipientRandHash,
                t.expiry
            )
        );
        assertEq(hub.hashTicket(t), _digest(th));
        PaymentHub.Voucher memory v = _voucher(stealth, 9);
        bytes32 vh = keccak256(
            abi.encode(
                keccak256("Voucher(address recipient,bytes32 lane,uint256 cumulative,uint64 expiry)"),
                v.recipient,
                v.lane,
                v.cumulative,
                v.expiry
            )
        );
        assertEq(hub.hashVoucher(v), _digest(vh));
        bytes32 wh = keccak256(
            abi.encode(
                keccak256("Withdraw(address from,address to,uint256 amount,uint256 fee,uint256 nonce,uint64 deadline)"),
                stealth,
                address(7),
                uint256(8),
                uint256(9),
                uint256(10),
                uint64(11)
            )
        );
        assertEq(hub.hashWithdraw(stealth, address(7), 8, 9, 10, 11), _digest(wh));
        bytes32 fh = keccak256(
            abi.encode(
                keccak256("FundPot(address from,address signer,uint256 amount,uint256 nonce,uint64 deadline)"),
                stealth,
                potSigner,
                uint256(8),
                uint256(9),
                uint64(10)
            )
        );
        assertEq(hub.hashFundPot(stealth, potSigner, 8, 9, 10), _digest(fh));
    }

    // ----------------------------------------------------------------- fuzz

    function testFuzz_voucherSequence(uint96 deposit, uint96 escrow, uint256 c1, uint256 c2) public {
        deposit = uint96(bound(deposit, 1, 1e27));
        escrow = uint96(bound(escrow, 0, 1e27));
        c1 = bound(c1, 1, 2e27);
        c2 = bound(c2, c1 + 1, 4e27);
        _fund(potSigner, deposit, escrow);
        PaymentHub.Voucher memory v = _voucher(stealth, c1);
        hub.redeemVoucher(v, _signV(POT_PK, v));
        uint256 paid1 = c1 < deposit ? c1 : deposit;
        v.cumulative = c2;
        bytes memory s = _signV(POT_PK, v);
        // drained, and no escrow left to burn (none, or burned by the first)
        if (paid1 == deposit && (escrow == 0 || c1 > deposit)) {
            vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotEmpty.selector, potSigner));
        }
        hub.redeemVoucher(v, s);
        uint256 paid = c2 < deposit ? c2 : deposit;
        assertEq(hub.redeemed(hub.laneKey(potSigner, LANE, stealth)), paid);
        assertEq(hub.balances(stealth), _net(paid1) + _net(paid - paid1));
        (uint96 dep, uint96 fees,,, uint96 esc) = hub.pots(potSigner);
        assertEq(dep, deposit - paid);
        assertEq(fees, _fee(paid1) + _fee(paid - paid1));
        assertEq(uint256(esc) + hub.burned(), escrow);
        assertEq(token.balanceOf(address(hub)), uint256(dep) + fees + esc + hub.burned() + hub.balances(stealth));
    }

    function testFuzz_ticketWinsExactlyByFormula(bytes32 rand, uint256 winProb, uint96 face) public {
        face = uint96(bound(face, 1, 1e24));
        _fund(potSigner, 1e24, 0);
        PaymentHub.Ticket memory t = _ticket(stealth, face, 5);
        t.winProb = winProb;
        t.recipientRandHash = keccak256(abi.encodePacked(rand));
        bytes memory s = _signT(POT_PK, t);
        bool wins = uint256(keccak256(abi.encodePacked(s, rand))) < winProb;
        if (!wins) vm.expectRevert(PaymentHub.NotWinning.selector);
        hub.redeemTicket(t, s, rand);
        assertEq(hub.balances(stealth), wins ? _net(face) : 0);
        assertEq(hub.isNonceUsed(potSigner, 5), wins);
    }

    function testFuzz_ticketExpiry(uint64 expiry, uint32 later) public {
        _fund(potSigner, 1e24, 0);
        PaymentHub.Ticket memory t = _ticket(stealth, 1e18, 5);
        t.expiry = expiry;
        bytes memory s = _signT(POT_PK, t);
        vm.warp(block.timestamp + later);
        if (block.timestamp > expiry) {
            vm.expectRevert(abi.encodeWithSelector(PaymentHub.Expired.selector, expiry));
        } else if (expiry > block.timestamp + MAX_TTL) {
            vm.expectRevert(abi.encodeWithSelector(PaymentHub.ExpiryTooFar.selector, expiry));
        }
        hub.redeemTicket(t, s, RAND);
    }

    function testFuzz_signatureByAnyOtherKeyIsRejected(uint256 pk, bytes32 noise) public {
        pk = bound(pk, 1, SECP256K1_N - 1);
        vm.assume(pk != POT_PK);
        _fund(potSigner, 1e24, 0);
        PaymentHub.Voucher memory v = _voucher(stealth, 1e18);
        bytes memory s = _signV(pk, v);
        // a signature by another key names another (empty) pot
        vm.expectRevert(abi.encodeWithSelector(PaymentHub.PotEmpty.selector, vm.addr(pk)));
        hub.redeemVoucher(v, s);
        // and a mangled signature never pays from this pot
        bytes memory m = _signV(POT_PK, v);
        assembly {
            mstore(add(m, 0x20), xor(mload(add(m, 0x20)), or(noise, 1)))
        }
        vm.expectRevert();
        this.redeemAndCheck(v, m);
    }

    /// @dev Reverts unless the pot kept its deposit (so expectRevert above
    /// also catches a mangled signature that recovers to some other pot).
    function redeemAndCheck(PaymentHub.Voucher memory v, bytes memory s) external {
        hub.redeemVoucher(v, s);
        (uint96 dep,,,,) = hub.pots(potSigner);
        require(dep != 1e24, "paid from another pot");
    }

    function testFuzz_withdrawFor(uint256 amount, uint256 fee) public {
        _earn(stealth, 100e18);
        uint256 bal = hub.balances(stealth);
        amount = bound(amount, 1, bal);
        fee = bound(fee, 0, bal - amount);
        bytes memory s = sig(STEALTH_PK, hub.hashWithdraw(stealth, address(0xCAFE), amount, fee, 0, uint64(block.timestamp)));
        hub.withdrawFor(stealth, address(0xCAFE), amount, fee, uint64(block.timestamp), s);
        assertEq(token.balanceOf(address(0xCAFE)), amount);
        assertEq(hub.balances(address(this)), fee);
        assertEq(hub.balances(stealth), bal - amount - fee);
    }

    function _s(bytes memory s65) internal pure returns (bytes32 s) {
        assembly {
            s := mload(add(s65, 0x40))
        }
    }

    function _trim(bytes memory s65) internal pure returns (bytes memory out) {
        out = new bytes(64);
        for (uint256 i; i < 64; ++i) out[i] = s65[i];
    }
}
