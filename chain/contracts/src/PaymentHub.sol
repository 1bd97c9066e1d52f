// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {FeeSource} from "./FeeSource.sol";

/// @title PaymentHub
/// @notice Pots, vouchers, probabilistic tickets and stealth balances.
///
/// A payer funds a pot keyed by a pot signer key (`deposit` pays paper,
/// `escrow` is burned if the pot is ever short). The signer issues EIP-712
/// paper to single-use ERC-5564 stealth addresses:
/// - Voucher: cumulative amount per (signer, lane, recipient); a redemption
///   pays the delta over what was already redeemed (seeders, hosters).
/// - Ticket: face value that wins with probability winProb / 2^256 (relays).
///   It wins iff `uint256(keccak256(sig ‖ rand)) < winProb` and
///   `keccak256(rand) == recipientRandHash`, where `rand` is the payee's
///   epoch secret committed in its router info BEFORE the payer signed. The
///   payer cannot grind (it does not know rand); the payee cannot grind (rand
///   is committed, the signature is fixed: ECDSA.recover rejects high-s, so a
///   ticket gets exactly one draw), and a ticket nonce is used once.
/// Payout: `paid = min(amount, deposit)`; if short, the escrow is burned (it
/// stays locked in this contract, counted in `burned`). The protocol fee
/// (`protocolFeeBps` of paid) accrues in the pot and moves to the treasury on
/// `withdrawPot` or `sweepFees`; the rest is credited to `balances[recipient]`.
///
/// Stealth addresses never hold ETH: `withdrawFor` and `fundFromBalance` take
/// the stealth key's EIP-712 signature and are sent by a relayer (paid a fee
/// in the token). Anyone may submit redemptions; payouts always go to the
/// paper's recipient.
///
/// A pot closes in two steps: `requestUnlock` then, `unlockDelay` later,
/// `withdrawPot`. `unlockDelay > maxPaperTTL`, so payees watching
/// `UnlockRequested` can redeem everything outstanding in time.
/// Nothing here names content, routers or IPs.
contract PaymentHub is EIP712, FeeSource {
    using SafeERC20 for IERC20;

    bytes32 public constant TICKET_TYPEHASH = keccak256(
        "Ticket(address recipient,uint256 faceValue,uint256 winProb,uint256 senderNonce,bytes32 recipientRandHash,uint64 expiry)"
    );
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address recipient,bytes32 lane,uint256 cumulative,uint64 expiry)");
    bytes32 public constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(address from,address to,uint256 amount,uint256 fee,uint256 nonce,uint64 deadline)");
    bytes32 public constant FUNDPOT_TYPEHASH =
        keccak256("FundPot(address from,address signer,uint256 amount,uint256 nonce,uint64 deadline)");
    bytes32 public constant REDEEM_FEE_TYPEHASH =
        keccak256("RedeemFee(address payee,bytes32 batch,uint256 fee,uint256 nonce,uint64 deadline)");

    struct Ticket {
        address recipient;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        uint64 expiry;
    }

    struct Voucher {
        address recipient;
        bytes32 lane;
        uint256 cumulative;
        uint64 expiry;
    }

    /// @dev Slot 0 is all a redemption touches; slot 1 only when short.
    struct Pot {
        uint96 deposit;
        uint96 fees; // protocol fees accrued, not yet swept to the treasury
        uint64 unlockAt; // 0: not unlocking
        address funder;
        uint96 escrow;
    }

    uint64 public immutable unlockDelay;
    uint64 public immutable maxPaperTTL;

    mapping(address signer => Pot) public pots;
    mapping(address account => uint256) public balances;
    mapping(address signer => mapping(uint256 word => uint256 bits)) public usedNonce;
    /// @notice Cumulative amount paid per voucher lane, keyed by
    /// `laneKey(signer, lane, recipient)` = keccak256(abi.encode(signer, lane, recipient)).
    mapping(bytes32 laneKey => uint256 cumulative) public redeemed;
    mapping(address account => uint256) public nonces;
    /// @notice Escrow burned by short pots (locked here forever).
    uint256 public burned;

    event PotFunded(address indexed signer, address indexed funder, uint256 deposit, uint256 escrow);
    event UnlockRequested(address indexed signer, uint256 unlockAt);
    event PotWithdrawn(address indexed signer, address indexed funder, uint256 amount);
    event EscrowBurned(address indexed signer, uint256 amount);
    event TicketRedeemed(address signer, address recipient, uint256 amount);
    event VoucherRedeemed(address signer, address recipient, bytes32 lane, uint256 amount);
    event Withdrawn(address indexed from, address indexed to, uint256 amount, uint256 fee);
    event FeesSwept(uint256 amount);
    event RedeemFeePaid(address indexed payee, address indexed relayer, uint256 fee);

    error ZeroAmount();
    error LengthMismatch();
    error UnknownPot(address signer);
    error NotFunder(address signer, address account);
    error PotUnlocking(address signer);
    error NotUnlocking(address signer);
    error StillLocked(uint256 unlockAt);
    error PotEmpty(address signer);
    error Expired(uint64 expiry);
    error ExpiryTooFar(uint64 expiry);
    error BadRand();
    error NotWinning();
    error TicketUsed(address signer, uint256 nonce);
    error NothingNew(uint256 cumulative, uint256 redeemed);
    error BadSignature();
    error InsufficientBalance(uint256 balance, uint256 needed);
    error FeesOverflow();

    constructor(IERC20 token_, address treasury_, uint16 protocolFeeBps_, uint64 unlockDelay_, uint64 maxPaperTTL_)
        EIP712("PaymentHub", "1")
        FeeSource(token_, treasury_, protocolFeeBps_)
    {
        if (maxPaperTTL_ == 0 || unlockDelay_ <= maxPaperTTL_) revert BadParams();
        unlockDelay = unlockDelay_;
        maxPaperTTL = maxPaperTTL_;
    }

    // ------------------------------------------------------------------ pots

    /// @notice Add `deposit` and `escrow` (pulled from the caller) to the pot of
    /// `signer`. The caller of the first funding becomes the pot's funder, the
    /// one `withdrawPot` pays; only the funder may add more (otherwise whoever
    /// funded a signer's pot first, e.g. by front-running, would own later deposits).
    function fund(address signer, uint96 deposit, uint96 escrow) external nonReentrant {
        if (signer == address(0)) revert ZeroAddress();
        if (deposit == 0 && escrow == 0) revert ZeroAmount();
        Pot storage p = pots[signer];
        if (p.unlockAt != 0) revert PotUnlocking(signer);
        _claim(p, signer, msg.sender);
        token.safeTransferFrom(msg.sender, address(this), uint256(deposit) + escrow);
        p.deposit += deposit;
        if (escrow != 0) p.escrow += escrow;
        emit PotFunded(signer, msg.sender, deposit, escrow);
    }

    /// @notice Relayed: move `amount` of stealth balance `from` into the
    /// deposit of `signer`'s pot (`from` signed an EIP-712 FundPot). A new pot
    /// becomes `from`'s; an existing one must already be `from`'s.
    function fundFromBalance(address from, address signer, uint96 amount, uint64 deadline, bytes calldata sig)
        external
    {
        if (signer == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        if (block.timestamp > deadline) revert Expired(deadline);
        uint256 nonce = nonces[from]++;
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(FUNDPOT_TYPEHASH, from, signer, amount, nonce, deadline)));
        if (ECDSA.recoverCalldata(digest, sig) != from) revert BadSignature();
        Pot storage p = pots[signer];
        if (p.unlockAt != 0) revert PotUnlocking(signer);
        _claim(p, signer, from);
        uint256 bal = balances[from];
        if (bal < amount) revert InsufficientBalance(bal, amount);
        balances[from] = bal - amount;
        p.deposit += amount;
        emit PotFunded(signer, from, amount, 0);
    }

    /// @dev A new pot becomes `funder`'s; an existing one must already be.
    function _claim(Pot storage p, address signer, address funder) private {
        address f = p.funder;
        if (f == address(0)) p.funder = funder;
        else if (f != funder) revert NotFunder(signer, funder);
    }

    /// @notice Start closing a pot (its funder or its signer).
    function requestUnlock(address signer) external {
        Pot storage p = pots[signer];
        address funder = p.funder;
        if (funder == address(0)) revert UnknownPot(signer);
        if (msg.sender != funder && msg.sender != signer) revert NotFunder(signer, msg.sender);
        if (p.unlockAt != 0) revert PotUnlocking(signer);
        uint64 at = uint64(block.timestamp) + unlockDelay;
        p.unlockAt = at;
        emit UnlockRequested(signer, at);
    }

    /// @notice After `unlockAt`, pay deposit and escrow back to the funder
    /// (anyone may call); accrued fees go to the treasury's account.
    function withdrawPot(address signer) external nonReentrant {
        Pot memory p = pots[signer];
        if (p.unlockAt == 0) revert NotUnlocking(signer);
        if (block.timestamp < p.unlockAt) revert StillLocked(p.unlockAt);
        delete pots[signer];
        if (p.fees != 0) treasuryOwed += p.fees;
        uint256 amount = uint256(p.deposit) + p.escrow;
        emit PotWithdrawn(signer, p.funder, amount);
        if (amount != 0) token.safeTransfer(p.funder, amount);
    }

    /// @notice Move fees accrued in `signers`' pots to the treasury's account.
    function sweepFees(address[] calldata signers) external returns (uint256 total) {
        for (uint256 i; i < signers.length; ++i) {
            Pot storage p = pots[signers[i]];
            total += p.fees;
            p.fees = 0;
        }
        treasuryOwed += total;
        emit FeesSwept(total);
    }

    // ------------------------------------------------------------ redemption

    /// @dev A pot's slot 0 and one word of its nonce bitmap, held in memory
    /// across a batch so consecutive papers of one signer write storage once.
    struct Cache {
        address signer;
        uint256 deposit;
        uint256 fees;
        uint256 wordIndex;
        uint256 word;
        bool dirtyWord;
    }

    /// @notice Redeem one winning ticket; `rand` is the recipient's revealed secret.
    function redeemTicket(Ticket calldata t, bytes calldata sig, bytes32 rand) external {
        Cache memory k;
        _redeemTicket(k, t, sig, rand, keccak256(abi.encodePacked(rand)));
        _flush(k);
    }

    /// @notice Redeem winning tickets that share one revealed `rand` (one
    /// payee epoch). All or nothing: simulate first.
    function redeemTickets(Ticket[] calldata ts, bytes[] calldata sigs, bytes32 rand) external {
        if (ts.length != sigs.length) revert LengthMismatch();
        bytes32 randHash = keccak256(abi.encodePacked(rand));
        Cache memory k;
        for (uint256 i; i < ts.length; ++i) {
            _redeemTicket(k, ts[i], sigs[i], rand, randHash);
        }
        _flush(k);
    }

    /// @notice Redeem a voucher: pays `cumulative` minus what this (signer,
    /// lane, recipient) already got.
    function redeemVoucher(Voucher calldata v, bytes calldata sig) external {
        Cache memory k;
        _redeemVoucher(k, v, sig);
        _flush(k);
    }

    /// @notice Redeem several vouchers (any signers); all or nothing.
    function redeemVouchers(Voucher[] calldata vs, bytes[] calldata sigs) external {
        if (vs.length != sigs.length) revert LengthMismatch();
        Cache memory k;
        for (uint256 i; i < vs.length; ++i) {
            _redeemVoucher(k, vs[i], sigs[i]);
        }
        _flush(k);
    }

    /// @notice Relayed redemption that pays its relayer: `payee` (a payee
    /// of the batch, e.g. a stealth address with no ETH) signed an EIP-712
    /// `RedeemFee` naming the batch (`batchHash(vs)`); once the vouchers
    /// are paid, `fee` moves from its balance here to the caller's. All or
    /// nothing, so a relayer's gas estimate refuses a fee that cannot be
    /// paid before anything is sent.
    function redeemVouchersFor(
        Voucher[] calldata vs,
        bytes[] calldata sigs,
        address payee,
        uint256 fee,
        uint64 deadline,
        bytes calldata feeSig
    ) external nonReentrant {
        if (block.timestamp > deadline) revert Expired(deadline);
        if (vs.length != sigs.length) revert LengthMismatch();
        Cache memory k;
        for (uint256 i; i < vs.length; ++i) {
            _redeemVoucher(k, vs[i], sigs[i]);
        }
        _flush(k);
        uint256 nonce = nonces[payee]++;
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(REDEEM_FEE_TYPEHASH, payee, batchHash(vs), fee, nonce, deadline))
        );
        if (ECDSA.recoverCalldata(digest, feeSig) != payee) revert BadSignature();
        uint256 bal = balances[payee];
        if (bal < fee) revert InsufficientBalance(bal, fee);
        balances[payee] = bal - fee;
        balances[msg.sender] += fee;
        emit RedeemFeePaid(payee, msg.sender, fee);
    }

    function _redeemTicket(Cache memory k, Ticket calldata t, bytes calldata sig, bytes32 rand, bytes32 randHash)
        private
    {
        _checkExpiry(t.expiry);
        if (t.recipientRandHash != randHash) revert BadRand();
        if (uint256(_hashSigRand(sig, rand)) >= t.winProb) revert NotWinning();
        address signer = _recover(hashTicket(t), sig);
        _load(k, signer);
        uint256 n = t.senderNonce;
        if (k.wordIndex != n >> 8 || !k.dirtyWord) {
            _flushWord(k);
            k.wordIndex = n >> 8;
            k.word = usedNonce[signer][n >> 8];
        }
        uint256 bit = 1 << (n & 0xff);
        if (k.word & bit != 0) revert TicketUsed(signer, n);
        k.word |= bit;
        k.dirtyWord = true;
        uint256 paid = _pay(k, t.recipient, t.faceValue);
        emit TicketRedeemed(signer, t.recipient, paid);
    }

    function _redeemVoucher(Cache memory k, Voucher calldata v, bytes calldata sig) private {
        _checkExpiry(v.expiry);
        address signer = _recover(hashVoucher(v), sig);
        _load(k, signer);
        bytes32 key = _laneKey(signer, v.lane, v.recipient);
        uint256 prev = redeemed[key];
        if (v.cumulative <= prev) revert NothingNew(v.cumulative, prev);
        uint256 paid = _pay(k, v.recipient, v.cumulative - prev);
        redeemed[key] = prev + paid;
        emit VoucherRedeemed(signer, v.recipient, v.lane, paid);
    }

    /// @dev OpenZeppelin's ECDSA.recoverCalldata (same checks, same errors:
    /// 65 bytes, low s, v 27/28), inlined for the redemption hot path.
    function _recover(bytes32 digest, bytes calldata sig) private view returns (address signer) {
        if (sig.length != 65) revert ECDSA.ECDSAInvalidSignatureLength(sig.length);
        bytes32 s;
        assembly ("memory-safe") {
            let m := mload(0x40)
            s := calldataload(add(sig.offset, 0x20))
            mstore(m, digest)
            mstore(add(m, 0x20), byte(0, calldataload(add(sig.offset, 0x40))))
            mstore(add(m, 0x40), calldataload(sig.offset))
            mstore(add(m, 0x60), s)
            mstore(0x00, 0)
            pop(staticcall(gas(), 1, m, 0x80, 0x00, 0x20))
            signer := mload(0x00)
        }
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) {
            revert ECDSA.ECDSAInvalidSignatureS(s);
        }
        if (signer == address(0)) revert ECDSA.ECDSAInvalidSignature();
    }

    /// @dev keccak256(sig ‖ rand), the ticket's draw.
    function _hashSigRand(bytes calldata sig, bytes32 rand) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, sig.offset, sig.length)
            mstore(add(m, sig.length), rand)
            h := keccak256(m, add(sig.length, 0x20))
        }
    }

    function _laneKey(address signer, bytes32 lane, address recipient) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, signer)
            mstore(add(m, 0x20), lane)
            mstore(add(m, 0x40), recipient)
            key := keccak256(m, 0x60)
        }
    }

    /// @dev EIP-712 digest of a static struct of `words` words at `ptr` in calldata.
    function _digest(bytes32 typehash, uint256 ptr, uint256 words) private view returns (bytes32 d) {
        bytes32 domain = _domainSeparatorV4();
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            calldatacopy(add(m, 0x20), ptr, shl(5, words))
            let structHash := keccak256(m, add(0x20, shl(5, words)))
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domain)
            mstore(add(m, 0x22), structHash)
            d := keccak256(m, 0x42)
        }
    }

    function _checkExpiry(uint64 expiry) private view {
        if (block.timestamp > expiry) revert Expired(expiry);
        if (expiry > block.timestamp + maxPaperTTL) revert ExpiryTooFar(expiry);
    }

    /// @dev Switch the cache to `signer`'s pot (writing back the previous one).
    /// Slot 0 of a pot is deposit (bits 0-95) | fees (96-191) | unlockAt (192-255).
    function _load(Cache memory k, address signer) private {
        if (k.signer == signer) return;
        _flush(k);
        Pot storage p = pots[signer];
        uint256 w;
        assembly ("memory-safe") {
            w := sload(p.slot)
        }
        k.signer = signer;
        k.deposit = w & type(uint96).max;
        k.fees = (w >> 96) & type(uint96).max;
    }

    function _flushWord(Cache memory k) private {
        if (k.dirtyWord) {
            usedNonce[k.signer][k.wordIndex] = k.word;
            k.dirtyWord = false;
        }
    }

    function _flush(Cache memory k) private {
        if (k.signer == address(0)) return;
        _flushWord(k);
        Pot storage p = pots[k.signer];
        uint256 dep = k.deposit;
        uint256 fees = k.fees;
        // deposit only shrinks; fees could pass 96 bits only after ~2^96 * 50
        // tokens went through one pot unswept, but never corrupt unlockAt
        if (fees > type(uint96).max) revert FeesOverflow();
        assembly ("memory-safe") {
            let w := sload(p.slot)
            sstore(p.slot, or(and(w, shl(192, 0xffffffffffffffff)), or(dep, shl(96, fees))))
        }
    }

    /// @dev Pay up to `amount` from the cached pot to `recipient`'s balance.
    function _pay(Cache memory k, address recipient, uint256 amount) private returns (uint256 paid) {
        if (recipient == address(0)) revert ZeroAddress();
        uint256 dep = k.deposit;
        paid = amount < dep ? amount : dep;
        if (paid < amount) {
            Pot storage p = pots[k.signer];
            uint256 e = p.escrow;
            if (paid == 0 && e == 0) revert PotEmpty(k.signer);
            if (e != 0) {
                p.escrow = 0;
                burned += e;
                emit EscrowBurned(k.signer, e);
            }
        }
        uint256 fee = paid * protocolFeeBps / BPS;
        k.deposit = dep - paid;
        k.fees += fee;
        balances[recipient] += paid - fee;
    }

    // ------------------------------------------------------------ balances

    /// @notice Pay `amount` of the caller's balance to `to`.
    function withdraw(address to, uint256 amount) external nonReentrant {
        _debit(msg.sender, to, amount, 0);
    }

    /// @notice Relayed withdrawal: stealth `from` signed an EIP-712 Withdraw;
    /// `to` gets `amount`, the caller (relayer) gets `fee` on its balance here.
    function withdrawFor(
        address from,
        address to,
        uint256 amount,
        uint256 fee,
        uint64 deadline,
        bytes calldata sig
    ) external nonReentrant {
        if (block.timestamp > deadline) revert Expired(deadline);
        uint256 nonce = nonces[from]++;
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(WITHDRAW_TYPEHASH, from, to, amount, fee, nonce, deadline)));
        if (ECDSA.recoverCalldata(digest, sig) != from) revert BadSignature();
        _debit(from, to, amount, fee);
    }

    function _debit(address from, address to, uint256 amount, uint256 fee) private {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 bal = balances[from];
        if (bal < amount + fee) revert InsufficientBalance(bal, amount + fee);
        balances[from] = bal - amount - fee;
        if (fee != 0) balances[msg.sender] += fee;
        emit Withdrawn(from, to, amount, fee);
        token.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice EIP-712 digest of a ticket (what the pot signer signs).
    function hashTicket(Ticket calldata t) public view returns (bytes32 d) {
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := t
        }
        return _digest(TICKET_TYPEHASH, ptr, 6);
    }

    /// @notice EIP-712 digest of a voucher (what the pot signer signs).
    function hashVoucher(Voucher calldata v) public view returns (bytes32) {
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := v
        }
        return _digest(VOUCHER_TYPEHASH, ptr, 4);
    }

    /// @notice What a `RedeemFee` names: keccak256 of the batch's voucher
    /// digests (`hashVoucher`) in order.
    function batchHash(Voucher[] calldata vs) public view returns (bytes32) {
        bytes32[] memory ds = new bytes32[](vs.length);
        for (uint256 i; i < vs.length; ++i) {
            ds[i] = hashVoucher(vs[i]);
        }
        return keccak256(abi.encodePacked(ds));
    }

    function hashRedeemFee(address payee, bytes32 batch, uint256 fee, uint256 nonce, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(REDEEM_FEE_TYPEHASH, payee, batch, fee, nonce, deadline)));
    }

    function hashWithdraw(address from, address to, uint256 amount, uint256 fee, uint256 nonce, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(WITHDRAW_TYPEHASH, from, to, amount, fee, nonce, deadline)));
    }

    function hashFundPot(address from, address signer, uint256 amount, uint256 nonce, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(FUNDPOT_TYPEHASH, from, signer, amount, nonce, deadline)));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Whether `signer` has used ticket nonce `nonce`.
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return usedNonce[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @notice Key of `redeemed` for a voucher lane.
    function laneKey(address signer, bytes32 lane, address recipient) external pure returns (bytes32) {
        return _laneKey(signer, lane, recipient);
    }
}
