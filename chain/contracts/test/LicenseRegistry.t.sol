// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {LicenseRegistry} from "../src/LicenseRegistry.sol";
import {FeeSource} from "../src/FeeSource.sol";

abstract contract RegistryBase is Base {
    address internal creator = address(0xC4EA);
    address internal agent = address(0xA6E7);
    address internal buyer = address(0xB0B);
    bytes32 internal constant HASH = keccak256("manifest");
    bytes32 internal constant KEY = keccak256("content key");
    uint16 internal constant ROYALTY = 700;
    uint16 internal constant AGENT_FEE = 300;

    function setUp() public virtual override {
        super.setUp();
        _fundAccount(buyer, address(registry), 1e30);
    }

    function _publish(uint96 price) internal returns (uint256 index) {
        vm.prank(creator);
        index = registry.publish(HASH, price, ROYALTY, agent, AGENT_FEE, keccak256(abi.encodePacked(KEY, HASH)));
    }

    function _buy(uint256 index, address holder) internal returns (uint256 tokenId) {
        vm.prank(buyer);
        tokenId = registry.buy(index, holder, type(uint256).max);
    }
}

contract LicenseRegistryTest is RegistryBase {

    function test_constructor() public {
        assertEq(registry.name(), "Bits Licence");
        assertEq(registry.maxRoyaltyBps(), MAX_ROYALTY_BPS);
        assertEq(registry.maxAgentFeeBps(), MAX_AGENT_BPS);
        IERC20 t = IERC20(address(token));
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        new LicenseRegistry(IERC20(address(0)), address(1), 0, 0, 0);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        new LicenseRegistry(t, address(0), 0, 0, 0);
        vm.expectRevert(FeeSource.BadParams.selector);
        new LicenseRegistry(t, address(1), 501, 0, 0);
        vm.expectRevert(FeeSource.BadParams.selector);
        new LicenseRegistry(t, address(1), 500, 9000, 501);
    }

    function test_publish() public {
        bytes32 commit = keccak256(abi.encodePacked(KEY, HASH));
        vm.expectEmit(true, true, true, true, address(registry));
        emit LicenseRegistry.ContentPublished(1, HASH, creator, 5e18, ROYALTY, agent, commit);
        uint256 index = _publish(5e18);
        assertEq(index, 1);
        assertEq(registry.contentCount(), 1);
        assertEq(registry.indexOf(HASH), 1);
        LicenseRegistry.Content memory c = registry.content(1);
        assertEq(c.creator, creator);
        assertEq(c.serial, 0);
        assertEq(c.royaltyBps, ROYALTY);
        assertEq(c.agentFeeBps, AGENT_FEE);
        assertEq(c.keyAgent, agent);
        assertEq(c.price, 5e18);
        assertEq(c.keyCommitment, commit);
        // three storage slots per content
        assertEq(uint256(vm.load(address(registry), bytes32(uint256(_contentSlot(1)) + 3))), 0);
    }

    function _contentSlot(uint256 index) internal view returns (bytes32 slot) {
        // find the slot holding the creator: scan the first 16 mapping positions
        for (uint256 p; p < 16; ++p) {
            slot = keccak256(abi.encode(index, p));
            if (address(uint160(uint256(vm.load(address(registry), slot)))) == creator) return slot;
        }
        revert("content slot not found");
    }

    function test_publish_reverts() public {
        vm.startPrank(creator);
        vm.expectRevert(LicenseRegistry.ZeroContentHash.selector);
        registry.publish(0, 1, 0, agent, 0, KEY);
        vm.expectRevert(LicenseRegistry.ZeroCommitment.selector);
        registry.publish(HASH, 1, 0, agent, 0, 0);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        registry.publish(HASH, 1, 0, address(0), 0, KEY);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.RoyaltyTooHigh.selector, MAX_ROYALTY_BPS + 1));
        registry.publish(HASH, 1, MAX_ROYALTY_BPS + 1, agent, 0, KEY);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.AgentFeeTooHigh.selector, MAX_AGENT_BPS + 1));
        registry.publish(HASH, 1, 0, agent, MAX_AGENT_BPS + 1, KEY);
        registry.publish(HASH, 1, 0, agent, 0, KEY);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.AlreadyPublished.selector, HASH));
        registry.publish(HASH, 1, 0, agent, 0, KEY);
        vm.stopPrank();
    }

    function test_setPrice() public {
        uint256 index = _publish(5e18);
        vm.expectEmit(true, false, false, true, address(registry));
        emit LicenseRegistry.PriceChanged(index, 7e18);
        vm.prank(creator);
        registry.setPrice(index, 7e18);
        assertEq(registry.content(index).price, 7e18);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotCreator.selector, index));
        registry.setPrice(index, 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.UnknownContent.selector, 9));
        registry.setPrice(9, 1);
    }

    function test_buy_primarySplit() public {
        uint256 index = _publish(10e18);
        vm.expectEmit(true, false, false, true, address(registry));
        emit LicenseRegistry.LicensePurchased(index << 64, 10e18);
        uint256 tokenId = _buy(index, address(0x401D));
        assertEq(tokenId, index << 64);
        assertEq(registry.ownerOf(tokenId), address(0x401D));
        assertEq(registry.treasuryOwed(), uint256(10e18) * FEE_BPS / 10_000);
        assertEq(registry.owed(agent), uint256(10e18) * AGENT_FEE / 10_000);
        assertEq(registry.owed(creator), 10e18 - _fee(10e18) - uint256(10e18) * AGENT_FEE / 10_000);
        assertEq(token.balanceOf(address(registry)), 10e18);
        uint256 second = _buy(index, address(0x401E));
        assertEq(second, index << 64 | 1);
        assertEq(registry.content(index).serial, 2);
    }

    function test_buy_agentIsCreatorAndFree() public {
        vm.prank(creator);
        uint256 index = registry.publish(HASH, 10e18, 0, creator, AGENT_FEE, KEY);
        _buy(index, buyer);
        assertEq(registry.owed(creator), 10e18 - _fee(10e18));
        vm.prank(creator);
        registry.setPrice(index, 0);
        uint256 before = token.balanceOf(buyer);
        uint256 id = _buy(index, buyer);
        assertEq(token.balanceOf(buyer), before, "a free licence costs nothing");
        assertEq(registry.ownerOf(id), buyer);
    }

    function test_buy_reverts() public {
        uint256 index = _publish(10e18);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.PriceAboveMax.selector, 10e18, 9e18));
        registry.buy(index, buyer, 9e18);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.UnknownContent.selector, 2));
        registry.buy(2, buyer, 1);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        registry.buy(index, address(0), 10e18);
        vm.prank(address(0x9009)); // no tokens, no allowance
        vm.expectRevert();
        registry.buy(index, buyer, 10e18);
    }

    // ------------------------------------------------------------- relayed

    uint256 internal constant PAYER_PK = 0xFA1E5;

    function _req(uint256 index, address holder) internal view returns (LicenseRegistry.PurchaseRequest memory r) {
        r = LicenseRegistry.PurchaseRequest(index, holder, 10e18, 1e17, uint64(block.timestamp + 60));
    }

    function _permit(address owner, uint256 pk, uint256 value) internal view returns (LicenseRegistry.Permit memory p) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                address(registry),
                value,
                token.nonces(owner),
                block.timestamp + 60
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        p = LicenseRegistry.Permit(value, block.timestamp + 60, v, r, s);
    }

    function test_buyFor_withPermit() public {
        address payer = vm.addr(PAYER_PK);
        token.mint(payer, 20e18);
        uint256 index = _publish(10e18);
        LicenseRegistry.PurchaseRequest memory r = _req(index, address(0x401D));
        bytes memory s = sig(PAYER_PK, registry.hashPurchase(r, 0));
        LicenseRegistry.Permit memory p = _permit(payer, PAYER_PK, 10e18 + 1e17);
        address relayer = address(0x4E1A7);
        vm.prank(relayer);
        uint256 tokenId = registry.buyFor(r, payer, p, s);
        assertEq(registry.ownerOf(tokenId), address(0x401D));
        assertEq(token.balanceOf(relayer), 1e17);
        assertEq(token.balanceOf(payer), 20e18 - 10e18 - 1e17);
        assertEq(registry.nonces(payer), 1);
        vm.expectRevert(LicenseRegistry.BadSignature.selector); // replay
        registry.buyFor(r, payer, p, s);
    }

    function test_buyFor_frontRunPermitAndNoPermit() public {
        address payer = vm.addr(PAYER_PK);
        token.mint(payer, 30e18);
        uint256 index = _publish(10e18);
        LicenseRegistry.Permit memory p = _permit(payer, PAYER_PK, 100e18);
        // someone submits the permit first: buyFor still goes through
        token.permit(payer, address(registry), p.value, p.deadline, p.v, p.r, p.s);
        LicenseRegistry.PurchaseRequest memory r = _req(index, payer);
        registry.buyFor(r, payer, p, sig(PAYER_PK, registry.hashPurchase(r, 0)));
        // later purchases need no permit at all (deadline 0 skips it)
        r.relayerFee = 0;
        LicenseRegistry.Permit memory none;
        registry.buyFor(r, payer, none, sig(PAYER_PK, registry.hashPurchase(r, 1)));
        assertEq(registry.balanceOf(payer), 2);
    }

    function test_buyFor_reverts() public {
        address payer = vm.addr(PAYER_PK);
        uint256 index = _publish(10e18);
        LicenseRegistry.PurchaseRequest memory r = _req(index, payer);
        LicenseRegistry.Permit memory none;
        bytes memory s = sig(PAYER_PK, registry.hashPurchase(r, 0));
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.buyFor(r, address(0xBAD), none, s);
        r.deadline = uint64(block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.Expired.selector, r.deadline));
        registry.buyFor(r, payer, none, s);
        r = _req(index, payer);
        r.maxPrice = 1; // signed terms are bound: changing them breaks the signature
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.buyFor(r, payer, none, s);
        // valid signature but the payer has no allowance
        r = _req(index, payer);
        vm.expectRevert();
        registry.buyFor(r, payer, none, s);
    }

    function test_hashPurchase_matchesEIP712ByHand() public view {
        LicenseRegistry.PurchaseRequest memory r = _req(3, address(0x401D));
        bytes32 domain = _domain("LicenseRegistry", address(registry));
        assertEq(registry.domainSeparator(), domain);
        bytes32 sh = keccak256(
            abi.encode(
                keccak256(
                    "Purchase(uint256 contentIndex,address holder,uint256 maxPrice,uint256 relayerFee,uint256 nonce,uint64 deadline)"
                ),
                r.contentIndex,
                r.holder,
                r.maxPrice,
                r.relayerFee,
                uint256(5),
                r.deadline
            )
        );
        assertEq(registry.hashPurchase(r, 5), keccak256(abi.encodePacked("\x19\x01", domain, sh)));
    }

    // --------------------------------------------------------------- resale

    function test_listAndBuyListed_resaleSplit() public {
        uint256 index = _publish(10e18);
        address seller = address(0x5E11);
        uint256 id = _buy(index, seller);
        vm.expectEmit(true, true, false, true, address(registry));
        emit LicenseRegistry.Listed(id, seller, 20e18);
        vm.prank(seller);
        registry.list(id, 20e18);
        assertEq(registry.askPrice(id), 20e18);
        uint256 creatorBefore = registry.owed(creator);
        uint256 agentBefore = registry.owed(agent);
        uint256 feeBefore = registry.treasuryOwed();
        vm.expectEmit(true, false, false, true, address(registry));
        emit LicenseRegistry.Resold(id, 20e18);
        vm.prank(buyer);
        registry.buyListed(id, address(0x401D), 20e18);
        assertEq(registry.ownerOf(id), address(0x401D));
        assertEq(registry.askPrice(id), 0);
        uint256 fee = _fee(20e18);
        uint256 agentFee = uint256(20e18) * AGENT_FEE / 10_000;
        uint256 royalty = uint256(20e18) * ROYALTY / 10_000;
        assertEq(registry.treasuryOwed() - feeBefore, fee);
        assertEq(registry.owed(agent) - agentBefore, agentFee);
        assertEq(registry.owed(creator) - creatorBefore, royalty);
        assertEq(registry.owed(seller), 20e18 - fee - agentFee - royalty);
    }

    function test_unlist_and_transferClearsListing() public {
        uint256 index = _publish(10e18);
        address seller = address(0x5E11);
        uint256 id = _buy(index, seller);
        vm.startPrank(seller);
        registry.list(id, 20e18);
        vm.expectEmit(true, false, false, false, address(registry));
        emit LicenseRegistry.Unlisted(id);
        registry.unlist(id);
        assertEq(registry.askPrice(id), 0);
        registry.list(id, 20e18);
        registry.transferFrom(seller, address(0x7777), id); // plain transfer
        vm.stopPrank();
        assertEq(registry.askPrice(id), 0, "a transfer clears the listing");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotListed.selector, id));
        registry.buyListed(id, buyer, 20e18);
    }

    function test_resale_reverts() public {
        uint256 index = _publish(10e18);
        address seller = address(0x5E11);
        uint256 id = _buy(index, seller);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotTokenOwner.selector, id));
        registry.list(id, 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotTokenOwner.selector, id + 5));
        registry.list(id + 5, 1);
        vm.startPrank(seller);
        vm.expectRevert(LicenseRegistry.ZeroPrice.selector);
        registry.list(id, 0);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotListed.selector, id));
        registry.unlist(id);
        registry.list(id, 20e18);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotTokenOwner.selector, id));
        registry.unlist(id);
        vm.startPrank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.PriceAboveMax.selector, 20e18, 19e18));
        registry.buyListed(id, buyer, 19e18);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        registry.buyListed(id, address(0), 20e18);
        vm.stopPrank();
    }

    // ------------------------------------------------------- relayed resale

    uint256 internal constant HOLDER_PK = 0x401DE5;
    address internal constant RELAYER = address(0x4E1A7);

    /// @dev A licence bought by `buyer` for a fresh holder key with no ETH.
    function _heldLicence() internal returns (uint256 id, address holder) {
        holder = vm.addr(HOLDER_PK);
        id = _buy(_publish(10e18), holder);
        assertEq(holder.balance, 0);
    }

    function _listing(uint256 id, uint256 price, uint256 fee)
        internal
        view
        returns (LicenseRegistry.ListingRequest memory r)
    {
        r = LicenseRegistry.ListingRequest(id, price, fee, uint64(block.timestamp + 60));
    }

    function _signListing(uint256 pk, LicenseRegistry.ListingRequest memory r, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        return sig(pk, _listingDigest(r, nonce));
    }

    /// @dev The EIP-712 digests by hand, with no call to the registry (a call
    /// while a prank or an expected revert stands would consume it).
    function _listingDigest(LicenseRegistry.ListingRequest memory r, uint256 nonce) internal view returns (bytes32) {
        bytes32 sh = keccak256(
            abi.encode(
                keccak256("Listing(uint256 tokenId,uint256 price,uint256 relayerFee,uint256 nonce,uint64 deadline)"),
                r.tokenId,
                r.price,
                r.relayerFee,
                nonce,
                r.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domain("LicenseRegistry", address(registry)), sh));
    }

    function _cancelDigest(uint256 id, uint256 fee, uint256 nonce, uint64 deadline) internal view returns (bytes32) {
        bytes32 sh = keccak256(
            abi.encode(
                keccak256("CancelListing(uint256 tokenId,uint256 relayerFee,uint256 nonce,uint64 deadline)"),
                id,
                fee,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domain("LicenseRegistry", address(registry)), sh));
    }

    function test_listFor_relayedListingAndSale_splitsToTheWei() public {
        (uint256 id, address holder) = _heldLicence();
        uint256 price = 20e18 + 12_345; // odd: every bps share rounds down
        uint256 relayerFee = 3e17 + 7;
        LicenseRegistry.ListingRequest memory r = _listing(id, price, relayerFee);
        bytes memory s = _signListing(HOLDER_PK, r, 0);
        vm.expectEmit(true, true, false, true, address(registry));
        emit LicenseRegistry.Listed(id, holder, price);
        vm.expectEmit(true, true, false, true, address(registry));
        emit LicenseRegistry.ListingRelayed(id, RELAYER, relayerFee);
        vm.prank(RELAYER);
        registry.listFor(r, s);
        assertEq(registry.askPrice(id), price);
        (address rel, uint96 fee) = registry.listingRelay(id);
        assertEq(rel, RELAYER);
        assertEq(fee, relayerFee);
        assertEq(registry.nonces(holder), 1);
        assertEq(token.balanceOf(RELAYER), 0, "the relayer is paid at the sale, not before");

        uint256[4] memory before =
            [registry.owed(creator), registry.owed(agent), registry.treasuryOwed(), token.balanceOf(address(registry))];
        vm.expectEmit(true, false, false, true, address(registry));
        emit LicenseRegistry.Resold(id, price);
        vm.prank(buyer);
        registry.buyListed(id, address(0x401E), price);
        assertEq(registry.ownerOf(id), address(0x401E));
        assertEq(registry.askPrice(id), 0);
        (rel, fee) = registry.listingRelay(id);
        assertEq(rel, address(0));
        assertEq(fee, 0);
        // to the wei, computed by hand: 2 %, 3 % and 7 % of 20e18 + 12,345, rounded down
        assertEq(registry.treasuryOwed() - before[2], 400000000000000246);
        assertEq(registry.owed(agent) - before[1], 600000000000000370);
        assertEq(registry.owed(creator) - before[0], 1400000000000000864);
        assertEq(registry.owed(RELAYER), 300000000000000007);
        assertEq(registry.owed(holder), 17300000000000010858);
        assertEq(token.balanceOf(address(registry)) - before[3], price);
        // the relayer and the seller withdraw exactly that
        vm.prank(RELAYER);
        assertEq(registry.withdraw(RELAYER), relayerFee);
        assertEq(token.balanceOf(RELAYER), relayerFee);
    }

    function test_listFor_noRelayerFee_andDirectRelistClearsRelay() public {
        (uint256 id, address holder) = _heldLicence();
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e18);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        (address rel,) = registry.listingRelay(id);
        assertEq(rel, address(this));
        // a fee-free relayed relisting drops the old relayer's fee
        r = _listing(id, 15e18, 0);
        registry.listFor(r, _signListing(HOLDER_PK, r, 1));
        (rel,) = registry.listingRelay(id);
        assertEq(rel, address(0));
        assertEq(registry.askPrice(id), 15e18);
        // and so does a direct listing by the owner
        r = _listing(id, 20e18, 1e18);
        registry.listFor(r, _signListing(HOLDER_PK, r, 2));
        vm.prank(holder);
        registry.list(id, 18e18);
        (rel,) = registry.listingRelay(id);
        assertEq(rel, address(0));
        vm.prank(buyer);
        registry.buyListed(id, buyer, 18e18);
        assertEq(registry.owed(address(this)), 0);
        uint256 p = 18e18;
        assertEq(registry.owed(holder), p - _fee(p) - p * AGENT_FEE / 10_000 - p * ROYALTY / 10_000);
    }

    function test_listFor_replayedSignatureReverts() public {
        (uint256 id,) = _heldLicence();
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e17);
        bytes memory s = _signListing(HOLDER_PK, r, 0);
        vm.prank(RELAYER);
        registry.listFor(r, s);
        vm.expectRevert(LicenseRegistry.BadSignature.selector); // same listing again
        registry.listFor(r, s);
        // after an unlisting the old signature still cannot list it again
        vm.prank(vm.addr(HOLDER_PK));
        registry.unlist(id);
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.listFor(r, s);
        assertEq(registry.askPrice(id), 0);
        // nor after the licence was sold and came back to the same key
        r = _listing(id, 20e18, 0);
        s = _signListing(HOLDER_PK, r, 1);
        registry.listFor(r, s);
        vm.prank(buyer);
        registry.buyListed(id, buyer, 20e18);
        vm.prank(buyer);
        registry.transferFrom(buyer, vm.addr(HOLDER_PK), id);
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.listFor(r, s);
    }

    function test_listFor_expiredDeadlineReverts() public {
        (uint256 id,) = _heldLicence();
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e17);
        bytes memory s = _signListing(HOLDER_PK, r, 0);
        vm.warp(r.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.Expired.selector, r.deadline));
        registry.listFor(r, s);
        vm.warp(r.deadline); // the deadline itself is still in time
        registry.listFor(r, s);
        assertEq(registry.askPrice(id), 20e18);
    }

    function test_listFor_wrongSignerReverts() public {
        (uint256 id,) = _heldLicence();
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e17);
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.listFor(r, _signListing(0xBAD, r, 0));
        // signed terms are bound: another price or fee breaks the signature
        bytes memory s = _signListing(HOLDER_PK, r, 0);
        r.relayerFee = 1e18;
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.listFor(r, s);
        r = _listing(id, 20e18, 1e17);
        r.price = 1e18;
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.listFor(r, s);
        // a high-s copy is refused
        r = _listing(id, 20e18, 1e17);
        vm.expectRevert();
        registry.listFor(r, _highS(s));
        // a licence that does not exist
        r.tokenId = id + 9;
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotTokenOwner.selector, id + 9));
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        assertEq(registry.askPrice(id), 0);
        assertEq(registry.nonces(vm.addr(HOLDER_PK)), 0);
    }

    function test_listFor_formerOwnerCannotList() public {
        (uint256 id, address holder) = _heldLicence();
        vm.prank(holder);
        registry.transferFrom(holder, address(0x7777), id);
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 0);
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
    }

    function test_listFor_licenceMovedAfterListing_saleReverts() public {
        (uint256 id, address holder) = _heldLicence();
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e17);
        vm.prank(RELAYER);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        vm.prank(holder);
        registry.transferFrom(holder, address(0x7777), id);
        assertEq(registry.askPrice(id), 0);
        (address rel, uint96 fee) = registry.listingRelay(id);
        assertEq(rel, address(0));
        assertEq(fee, 0);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotListed.selector, id));
        registry.buyListed(id, buyer, 20e18);
        // the new owner's own listing carries no relayer fee from before
        vm.prank(address(0x7777));
        registry.list(id, 20e18);
        vm.prank(buyer);
        registry.buyListed(id, buyer, 20e18);
        assertEq(registry.owed(RELAYER), 0);
        assertEq(registry.owed(holder), 0);
        assertEq(registry.ownerOf(id), buyer);
    }

    function test_listFor_feeAndPriceChecks() public {
        (uint256 id,) = _heldLicence();
        uint256 price = 20e18;
        uint256 share = price - _fee(price) - price * AGENT_FEE / 10_000 - price * ROYALTY / 10_000;
        LicenseRegistry.ListingRequest memory r = _listing(id, price, share + 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.RelayerFeeTooHigh.selector, share + 1, share));
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        r = _listing(id, 0, 0);
        vm.expectRevert(LicenseRegistry.ZeroPrice.selector);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        r = _listing(id, uint256(type(uint96).max) + 1, 0);
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRegistry.PriceAboveMax.selector, r.price, uint256(type(uint96).max))
        );
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        // the whole seller's share may go to the relayer
        r = _listing(id, price, share);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        vm.prank(buyer);
        registry.buyListed(id, buyer, price);
        assertEq(registry.owed(vm.addr(HOLDER_PK)), 0);
        assertEq(registry.owed(address(this)), share);
    }

    function _signCancel(uint256 pk, uint256 id, uint256 fee, uint256 nonce, uint64 deadline)
        internal
        view
        returns (bytes memory)
    {
        return sig(pk, _cancelDigest(id, fee, nonce, deadline));
    }

    function test_cancelFor() public {
        (uint256 id, address holder) = _heldLicence();
        _fundAccount(holder, address(registry), 1e18); // tokens, an allowance, no ETH
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e17);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        uint64 dl = uint64(block.timestamp + 60);
        bytes memory s = _signCancel(HOLDER_PK, id, 5e16, 1, dl);
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.cancelFor(id, 5e16, dl, _signCancel(0xBAD, id, 5e16, 1, dl));
        vm.expectRevert(LicenseRegistry.BadSignature.selector); // terms bound
        registry.cancelFor(id, 6e16, dl, s);
        vm.warp(dl + 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.Expired.selector, dl));
        registry.cancelFor(id, 5e16, dl, s);
        vm.warp(dl);
        vm.expectEmit(true, false, false, false, address(registry));
        emit LicenseRegistry.Unlisted(id);
        vm.prank(RELAYER);
        registry.cancelFor(id, 5e16, dl, s);
        assertEq(registry.askPrice(id), 0);
        (address rel,) = registry.listingRelay(id);
        assertEq(rel, address(0));
        assertEq(token.balanceOf(RELAYER), 5e16);
        assertEq(token.balanceOf(holder), 1e18 - 5e16);
        assertEq(registry.nonces(holder), 2);
        vm.expectRevert(LicenseRegistry.BadSignature.selector); // replay
        registry.cancelFor(id, 5e16, dl, s);
        // a licence that is not listed
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotListed.selector, id));
        registry.cancelFor(id, 0, dl, _signCancel(HOLDER_PK, id, 0, 2, dl));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.NotListed.selector, id));
        registry.buyListed(id, buyer, 20e18);
    }

    function _withdrawDigest(address from, address to, uint256 amount, uint256 fee, uint256 nonce, uint64 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 sh = keccak256(
            abi.encode(
                keccak256("Withdraw(address from,address to,uint256 amount,uint256 fee,uint256 nonce,uint64 deadline)"),
                from,
                to,
                amount,
                fee,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domain("LicenseRegistry", address(registry)), sh));
    }

    /// @dev The seller of a relayed listing, with no ETH, is paid out by a
    /// relayed withdrawal.
    function test_withdrawFor_sellerWithNoEth() public {
        (uint256 id, address holder) = _heldLicence();
        LicenseRegistry.ListingRequest memory r = _listing(id, 20e18, 1e17);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        vm.prank(buyer);
        registry.buyListed(id, buyer, 20e18);
        uint256 owedH = registry.owed(holder);
        assertEq(owedH, 20e18 - _fee(20e18) - uint256(20e18) * (AGENT_FEE + ROYALTY) / 10_000 - 1e17);
        address to = address(0x70);
        uint64 dl = uint64(block.timestamp + 60);
        uint256 amount = owedH - 2e16;
        bytes memory s = sig(HOLDER_PK, _withdrawDigest(holder, to, amount, 1e16, 1, dl));
        // another key, changed terms, an expired deadline, too much
        bytes memory bad = sig(0xBAD, _withdrawDigest(holder, to, amount, 1e16, 1, dl));
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.withdrawFor(holder, to, amount, 1e16, dl, bad);
        vm.expectRevert(LicenseRegistry.BadSignature.selector);
        registry.withdrawFor(holder, to, amount, 2e16, dl, s);
        vm.warp(dl + 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.Expired.selector, dl));
        registry.withdrawFor(holder, to, amount, 1e16, dl, s);
        vm.warp(dl);
        bytes memory over = sig(HOLDER_PK, _withdrawDigest(holder, to, owedH, 1, 1, dl));
        vm.expectRevert(abi.encodeWithSelector(LicenseRegistry.OwedTooLow.selector, owedH, owedH + 1));
        registry.withdrawFor(holder, to, owedH, 1, dl, over);
        vm.expectEmit(true, true, false, true, address(registry));
        emit LicenseRegistry.Withdrawn(holder, to, amount);
        vm.prank(RELAYER);
        registry.withdrawFor(holder, to, amount, 1e16, dl, s);
        assertEq(token.balanceOf(to), amount);
        assertEq(token.balanceOf(RELAYER), 1e16);
        assertEq(registry.owed(holder), 1e16);
        assertEq(registry.nonces(holder), 2);
        vm.expectRevert(LicenseRegistry.BadSignature.selector); // replay
        registry.withdrawFor(holder, to, amount, 1e16, dl, s);
        assertEq(holder.balance, 0);
    }

    function test_hashListing_matchesEIP712ByHand() public view {
        LicenseRegistry.ListingRequest memory r = _listing(3 << 64 | 4, 20e18, 1e17);
        assertEq(registry.domainSeparator(), _domain("LicenseRegistry", address(registry)));
        assertEq(registry.hashListing(r, 5), _listingDigest(r, 5));
        assertEq(
            registry.hashCancelListing(r.tokenId, r.relayerFee, 6, r.deadline),
            _cancelDigest(r.tokenId, r.relayerFee, 6, r.deadline)
        );
        assertTrue(registry.hashListing(r, 5) != registry.hashListing(r, 6), "the nonce is signed");
    }

    // -------------------------------------------------------------- payouts

    function test_withdraw_and_payTreasury() public {
        uint256 index = _publish(10e18);
        _buy(index, buyer);
        uint256 owedC = registry.owed(creator);
        vm.expectEmit(true, true, false, true, address(registry));
        emit LicenseRegistry.Withdrawn(creator, address(0xC0C0), owedC);
        vm.prank(creator);
        assertEq(registry.withdraw(address(0xC0C0)), owedC);
        assertEq(token.balanceOf(address(0xC0C0)), owedC);
        assertEq(registry.owed(creator), 0);
        vm.prank(creator);
        vm.expectRevert(LicenseRegistry.NothingOwed.selector);
        registry.withdraw(address(0xC0C0));
        vm.prank(agent);
        vm.expectRevert(FeeSource.ZeroAddress.selector);
        registry.withdraw(address(0));
        assertEq(registry.payTreasury(), _fee(10e18));
        assertEq(token.balanceOf(address(splitter)), _fee(10e18));
        assertEq(registry.payTreasury(), 0);
    }

    function test_royaltyInfo_supportsInterface_keyAgentOf() public {
        uint256 index = _publish(10e18);
        uint256 id = _buy(index, buyer);
        (address to, uint256 amount) = registry.royaltyInfo(id, 1e18);
        assertEq(to, creator);
        assertEq(amount, uint256(1e18) * ROYALTY / 10_000);
        (to, amount) = registry.royaltyInfo(99 << 64, 1e18);
        assertEq(to, address(0));
        assertEq(amount, 0);
        assertTrue(registry.supportsInterface(type(IERC2981).interfaceId));
        assertTrue(registry.supportsInterface(type(IERC721).interfaceId));
        assertFalse(registry.supportsInterface(0xdeadbeef));
        assertEq(registry.keyAgentOf(id), agent);
        assertEq(bytes(registry.tokenURI(id)).length, 0, "no URIs on chain");
    }

    // ----------------------------------------------------------------- fuzz

    /// @dev Every split of a sale adds up to the price exactly.
    function testFuzz_splitsAddUp(uint96 price, uint96 resale, uint16 royalty, uint16 agentFee) public {
        royalty = uint16(bound(royalty, 0, MAX_ROYALTY_BPS));
        agentFee = uint16(bound(agentFee, 0, MAX_AGENT_BPS));
        resale = uint96(bound(resale, 1, type(uint96).max));
        vm.prank(creator);
        uint256 index = registry.publish(HASH, price, royalty, agent, agentFee, KEY);
        token.mint(buyer, uint256(price) + resale);
        address seller = address(0x5E11);
        uint256 id = _buy(index, seller);
        assertEq(registry.owed(creator) + registry.owed(agent) + registry.treasuryOwed(), price);
        vm.prank(seller);
        registry.list(id, resale);
        vm.prank(buyer);
        registry.buyListed(id, buyer, resale);
        assertEq(
            registry.owed(creator) + registry.owed(agent) + registry.owed(seller) + registry.treasuryOwed(),
            uint256(price) + resale
        );
        assertEq(token.balanceOf(address(registry)), uint256(price) + resale);
    }

    /// @dev A relayed listing's sale adds up to the price exactly, the
    /// relayer's fee out of the seller's share.
    function testFuzz_relayedSplitsAddUp(uint96 resale, uint96 relayerFee, uint16 royalty, uint16 agentFee) public {
        royalty = uint16(bound(royalty, 0, MAX_ROYALTY_BPS));
        agentFee = uint16(bound(agentFee, 0, MAX_AGENT_BPS));
        resale = uint96(bound(resale, 1, type(uint96).max));
        vm.prank(creator);
        uint256 index = registry.publish(HASH, 0, royalty, agent, agentFee, KEY);
        token.mint(buyer, resale);
        address holder = vm.addr(HOLDER_PK);
        uint256 id = _buy(index, holder);
        uint256 share =
            uint256(resale) - _fee(resale) - uint256(resale) * agentFee / 10_000 - uint256(resale) * royalty / 10_000;
        relayerFee = uint96(bound(relayerFee, 0, share));
        LicenseRegistry.ListingRequest memory r = _listing(id, resale, relayerFee);
        vm.prank(RELAYER);
        registry.listFor(r, _signListing(HOLDER_PK, r, 0));
        vm.prank(buyer);
        registry.buyListed(id, buyer, resale);
        assertEq(registry.owed(RELAYER), relayerFee);
        assertEq(registry.owed(holder), share - relayerFee);
        assertEq(
            registry.owed(creator) + registry.owed(agent) + registry.owed(holder) + registry.owed(RELAYER)
                + registry.treasuryOwed(),
            resale
        );
        assertEq(token.balanceOf(address(registry)), resale);
    }
}
