// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {FeeSource} from "./FeeSource.sol";

/// @title LicenseRegistry
/// @notice ERC-721 licences per content, with ERC-2981 royalties and the
/// primary-sale and resale splits fixed at genesis.
///
/// A licence gives access THROUGH THE PROTOCOL, it is not DRM: whoever held a
/// licence and got the content key keeps the key and the plaintext after the
/// licence is sold on. The UI must say so.
///
/// Nothing about content but its hash goes on chain: no titles, URIs or buyer
/// data. `tokenId = index << 64 | serial`.
///
/// Splits (`share = amount * bps / 10_000`, remainder to the main payee):
/// - primary sale: protocol fee to the treasury, agent fee to the key agent,
///   the rest to the creator;
/// - resale (`buyListed`): protocol fee, agent fee, royalty to the creator,
///   the relayer's fee when the listing was relayed (`listFor`), the rest to
///   the seller.
/// Payments are pulled: `owed[account]` grows, `withdraw(to)` pays out.
/// Plain ERC-721 transfers stay allowed (ERC-2981 is advisory elsewhere).
contract LicenseRegistry is ERC721, IERC2981, EIP712, FeeSource {
    using SafeERC20 for IERC20;

    bytes32 public constant PURCHASE_TYPEHASH = keccak256(
        "Purchase(uint256 contentIndex,address holder,uint256 maxPrice,uint256 relayerFee,uint256 nonce,uint64 deadline)"
    );

    bytes32 public constant LISTING_TYPEHASH =
        keccak256("Listing(uint256 tokenId,uint256 price,uint256 relayerFee,uint256 nonce,uint64 deadline)");
    bytes32 public constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(address from,address to,uint256 amount,uint256 fee,uint256 nonce,uint64 deadline)");
    bytes32 public constant CANCEL_LISTING_TYPEHASH =
        keccak256("CancelListing(uint256 tokenId,uint256 relayerFee,uint256 nonce,uint64 deadline)");

    /// @dev Three slots: creator|serial|royaltyBps|agentFeeBps, keyAgent|price, keyCommitment.
    struct Content {
        address creator;
        uint64 serial;
        uint16 royaltyBps;
        uint16 agentFeeBps;
        address keyAgent;
        uint96 price;
        bytes32 keyCommitment;
    }

    /// @notice A relayed purchase (`buyFor`), signed by the payer as EIP-712 `Purchase`.
    struct PurchaseRequest {
        uint256 contentIndex;
        address holder;
        uint256 maxPrice;
        uint256 relayerFee;
        uint64 deadline;
    }

    /// @notice A relayed listing (`listFor`), signed by the licence owner as
    /// EIP-712 `Listing`. `relayerFee` is paid to the relayer out of the
    /// seller's share when the licence sells, not before.
    struct ListingRequest {
        uint256 tokenId;
        uint256 price;
        uint256 relayerFee;
        uint64 deadline;
    }

    /// @notice The relayer of a standing relayed listing and its fee (one slot).
    struct ListingRelay {
        address relayer;
        uint96 fee;
    }

    /// @notice An optional EIP-2612 permit run before a relayed purchase.
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    uint16 public immutable maxRoyaltyBps;
    uint16 public immutable maxAgentFeeBps;

    /// @notice Number of contents published; indices run 1..contentCount.
    uint256 public contentCount;
    mapping(uint256 index => Content) internal _contents;
    mapping(bytes32 contentHash => uint256 index) public indexOf;
    mapping(uint256 tokenId => uint256 price) public askPrice;
    mapping(address account => uint256) public owed;
    /// @notice One counter per signer, shared by `Purchase`, `Listing`, `CancelListing` and `Withdraw`.
    mapping(address signer => uint256) public nonces;
    /// @notice Set while a relayed listing stands; cleared with the listing.
    mapping(uint256 tokenId => ListingRelay) public listingRelay;

    event ContentPublished(
        uint256 indexed index,
        bytes32 indexed contentHash,
        address indexed creator,
        uint256 price,
        uint256 royaltyBps,
        address keyAgent,
        bytes32 keyCommitment
    );
    event PriceChanged(uint256 indexed index, uint256 price);
    event LicensePurchased(uint256 indexed tokenId, uint256 price);
    event Listed(uint256 indexed tokenId, address indexed seller, uint256 price);
    event Unlisted(uint256 indexed tokenId);
    event ListingRelayed(uint256 indexed tokenId, address indexed relayer, uint256 relayerFee);
    event Resold(uint256 indexed tokenId, uint256 price);
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    error ZeroContentHash();
    error ZeroCommitment();
    error AlreadyPublished(bytes32 contentHash);
    error RoyaltyTooHigh(uint256 bps);
    error AgentFeeTooHigh(uint256 bps);
    error UnknownContent(uint256 index);
    error NotCreator(uint256 index);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error NotTokenOwner(uint256 tokenId);
    error ZeroPrice();
    error NotListed(uint256 tokenId);
    error NothingOwed();
    error Expired(uint64 deadline);
    error BadSignature();
    error OwedTooLow(uint256 owed, uint256 needed);
    error RelayerFeeTooHigh(uint256 relayerFee, uint256 sellerShare);

    constructor(
        IERC20 token_,
        address treasury_,
        uint16 protocolFeeBps_,
        uint16 maxRoyaltyBps_,
        uint16 maxAgentFeeBps_
    ) ERC721("Bits Licence", "BITSL") EIP712("LicenseRegistry", "1") FeeSource(token_, treasury_, protocolFeeBps_) {
        if (uint256(protocolFeeBps_) + maxRoyaltyBps_ + maxAgentFeeBps_ > BPS) revert BadParams();
        maxRoyaltyBps = maxRoyaltyBps_;
        maxAgentFeeBps = maxAgentFeeBps_;
    }

    // ---------------------------------------------------------------- publish

    /// @notice Publish a content; the caller is its creator.
    /// @param keyCommitment keccak256(K ‖ contentHash), K the content key.
    /// @return index the new content index (from 1).
    function publish(
        bytes32 contentHash,
        uint96 price,
        uint16 royaltyBps,
        address keyAgent,
        uint16 agentFeeBps,
        bytes32 keyCommitment
    ) external returns (uint256 index) {
        if (contentHash == 0) revert ZeroContentHash();
        if (keyCommitment == 0) revert ZeroCommitment();
        if (keyAgent == address(0)) revert ZeroAddress();
        if (royaltyBps > maxRoyaltyBps) revert RoyaltyTooHigh(royaltyBps);
        if (agentFeeBps > maxAgentFeeBps) revert AgentFeeTooHigh(agentFeeBps);
        if (indexOf[contentHash] != 0) revert AlreadyPublished(contentHash);
        index = ++contentCount;
        indexOf[contentHash] = index;
        _contents[index] = Content(msg.sender, 0, royaltyBps, agentFeeBps, keyAgent, price, keyCommitment);
        emit ContentPublished(index, contentHash, msg.sender, price, royaltyBps, keyAgent, keyCommitment);
    }

    /// @notice The creator changes the primary price.
    function setPrice(uint256 index, uint96 price) external {
        Content storage c = _existing(index);
        if (c.creator != msg.sender) revert NotCreator(index);
        c.price = price;
        emit PriceChanged(index, price);
    }

    // ------------------------------------------------------------ primary sale

    /// @notice Buy a new licence for `holder`, paid by the caller.
    /// @param maxPrice the most the caller pays (guards against a price change).
    function buy(uint256 index, address holder, uint256 maxPrice) external nonReentrant returns (uint256 tokenId) {
        return _sell(index, msg.sender, holder, maxPrice);
    }

    /// @notice Relayed purchase: `payer` signed an EIP-712 `Purchase`, the
    /// caller (a relayer) submits it and gets `relayerFee` from the payer. An
    /// optional EIP-2612 permit lets a payer without ETH approve in the same
    /// transaction (a front-run permit is tolerated when the allowance is there).
    function buyFor(PurchaseRequest calldata req, address payer, Permit calldata permit, bytes calldata sig)
        external
        nonReentrant
        returns (uint256 tokenId)
    {
        if (block.timestamp > req.deadline) revert Expired(req.deadline);
        bytes32 digest = hashPurchase(req, nonces[payer]);
        if (ECDSA.recoverCalldata(digest, sig) != payer) revert BadSignature();
        ++nonces[payer];
        if (permit.deadline != 0) {
            try IERC20Permit(address(token)).permit(
                payer, address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s
            ) {} catch {}
        }
        tokenId = _sell(req.contentIndex, payer, req.holder, req.maxPrice);
        if (req.relayerFee != 0) token.safeTransferFrom(payer, msg.sender, req.relayerFee);
    }

    function _sell(uint256 index, address payer, address holder, uint256 maxPrice)
        private
        returns (uint256 tokenId)
    {
        Content storage c = _existing(index);
        uint256 price = c.price;
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        uint64 serial = c.serial;
        c.serial = serial + 1;
        tokenId = index << 64 | serial;
        if (price != 0) {
            token.safeTransferFrom(payer, address(this), price);
            address creator = c.creator;
            address agent = c.keyAgent;
            uint256 fee = price * protocolFeeBps / BPS;
            uint256 agentFee = price * c.agentFeeBps / BPS;
            treasuryOwed += fee;
            if (agent == creator) {
                owed[creator] += price - fee;
            } else {
                if (agentFee != 0) owed[agent] += agentFee;
                owed[creator] += price - fee - agentFee;
            }
        }
        _mint(holder, tokenId);
        emit LicensePurchased(tokenId, price);
    }

    // ----------------------------------------------------------------- resale

    /// @notice The licence owner offers it at `price`.
    function list(uint256 tokenId, uint96 price) external {
        if (_ownerOf(tokenId) != msg.sender) revert NotTokenOwner(tokenId);
        if (price == 0) revert ZeroPrice();
        _clearRelay(tokenId);
        askPrice[tokenId] = price;
        emit Listed(tokenId, msg.sender, price);
    }

    /// @notice The licence owner withdraws its offer.
    function unlist(uint256 tokenId) external {
        if (_ownerOf(tokenId) != msg.sender) revert NotTokenOwner(tokenId);
        _unlist(tokenId);
    }

    /// @notice Relayed listing: the licence owner (who may hold no ETH) signed
    /// an EIP-712 `Listing`; the caller (a relayer) submits it and is owed
    /// `relayerFee` out of the seller's share when the licence sells. The
    /// signer must own the licence now; any transfer clears the listing, so
    /// it still owns it at sale time. The fee must fit in the seller's share
    /// (price less protocol fee, agent fee and royalty).
    function listFor(ListingRequest calldata req, bytes calldata sig) external {
        if (block.timestamp > req.deadline) revert Expired(req.deadline);
        uint256 tokenId = req.tokenId;
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) revert NotTokenOwner(tokenId);
        uint256 nonce = nonces[owner];
        if (ECDSA.recoverCalldata(hashListing(req, nonce), sig) != owner) revert BadSignature();
        nonces[owner] = nonce + 1;
        uint256 price = req.price;
        if (price == 0) revert ZeroPrice();
        if (price > type(uint96).max) revert PriceAboveMax(price, type(uint96).max);
        uint256 share = price - _cuts(_contents[tokenId >> 64], price);
        if (req.relayerFee > share) revert RelayerFeeTooHigh(req.relayerFee, share);
        askPrice[tokenId] = price;
        if (req.relayerFee != 0) {
            listingRelay[tokenId] = ListingRelay(msg.sender, uint96(req.relayerFee)); // <= share < 2^96
        } else {
            _clearRelay(tokenId);
        }
        emit Listed(tokenId, owner, price);
        emit ListingRelayed(tokenId, msg.sender, req.relayerFee);
    }

    /// @notice Relayed unlisting: the licence owner signed an EIP-712
    /// `CancelListing`; the caller submits it and gets `relayerFee` from the
    /// owner's tokens (allowance needed), as `buyFor` pays its relayer.
    function cancelFor(uint256 tokenId, uint256 relayerFee, uint64 deadline, bytes calldata sig) external nonReentrant {
        if (block.timestamp > deadline) revert Expired(deadline);
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) revert NotTokenOwner(tokenId);
        uint256 nonce = nonces[owner];
        if (ECDSA.recoverCalldata(hashCancelListing(tokenId, relayerFee, nonce, deadline), sig) != owner) {
            revert BadSignature();
        }
        nonces[owner] = nonce + 1;
        _unlist(tokenId);
        if (relayerFee != 0) token.safeTransferFrom(owner, msg.sender, relayerFee);
    }

    function _unlist(uint256 tokenId) private {
        if (askPrice[tokenId] == 0) revert NotListed(tokenId);
        delete askPrice[tokenId];
        _clearRelay(tokenId);
        emit Unlisted(tokenId);
    }

    function _clearRelay(uint256 tokenId) private {
        if (listingRelay[tokenId].relayer != address(0)) delete listingRelay[tokenId];
    }

    /// @dev Protocol fee, agent fee and royalty of a resale at `price`.
    function _cuts(Content storage c, uint256 price) private view returns (uint256) {
        return price * protocolFeeBps / BPS + price * c.agentFeeBps / BPS + price * c.royaltyBps / BPS;
    }

    /// @notice Buy a listed licence for `holder`, paid by the caller; fees and
    /// royalty are enforced here.
    function buyListed(uint256 tokenId, address holder, uint256 maxPrice) external nonReentrant {
        uint256 price = askPrice[tokenId];
        if (price == 0) revert NotListed(tokenId);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        if (holder == address(0)) revert ZeroAddress();
        address seller = _ownerOf(tokenId);
        Content storage c = _contents[tokenId >> 64];
        token.safeTransferFrom(msg.sender, address(this), price);
        uint256 fee = price * protocolFeeBps / BPS;
        uint256 agentFee = price * c.agentFeeBps / BPS;
        uint256 royalty = price * c.royaltyBps / BPS;
        treasuryOwed += fee;
        if (agentFee != 0) owed[c.keyAgent] += agentFee;
        if (royalty != 0) owed[c.creator] += royalty;
        ListingRelay memory relay = listingRelay[tokenId];
        if (relay.fee != 0) owed[relay.relayer] += relay.fee;
        owed[seller] += price - fee - agentFee - royalty - relay.fee;
        _update(holder, tokenId, address(0)); // clears the listing and its relay
        emit Resold(tokenId, price);
    }

    /// @dev Every transfer (plain, resale, burn) clears a standing listing.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && askPrice[tokenId] != 0) {
            delete askPrice[tokenId];
            _clearRelay(tokenId);
            emit Unlisted(tokenId);
        }
    }

    // --------------------------------------------------------------- payouts

    /// @notice Pay what the caller is owed to `to`.
    function withdraw(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = owed[msg.sender];
        if (amount == 0) revert NothingOwed();
        owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @notice Relayed payout, for a seller or creator with no ETH: `from`
    /// signed an EIP-712 `Withdraw`; `to` gets `amount` and the caller (a
    /// relayer) `fee`, both out of what `from` is owed.
    function withdrawFor(address from, address to, uint256 amount, uint256 fee, uint64 deadline, bytes calldata sig)
        external
        nonReentrant
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        if (to == address(0)) revert ZeroAddress();
        uint256 nonce = nonces[from];
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(WITHDRAW_TYPEHASH, from, to, amount, fee, nonce, deadline)));
        if (ECDSA.recoverCalldata(digest, sig) != from) revert BadSignature();
        nonces[from] = nonce + 1;
        uint256 have = owed[from];
        if (amount == 0 || have < amount + fee) revert OwedTooLow(have, amount + fee);
        owed[from] = have - amount - fee;
        emit Withdrawn(from, to, amount);
        token.safeTransfer(to, amount);
        if (fee != 0) token.safeTransfer(msg.sender, fee);
    }

    // ------------------------------------------------------------------ views

    /// @notice ERC-2981: the creator gets `royaltyBps` of a resale.
    function royaltyInfo(uint256 tokenId, uint256 salePrice)
        external
        view
        returns (address receiver, uint256 royaltyAmount)
    {
        Content storage c = _contents[tokenId >> 64];
        return (c.creator, salePrice * c.royaltyBps / BPS);
    }

    function content(uint256 index) external view returns (Content memory) {
        return _contents[index];
    }

    /// @notice The key agent that serves the content of licence `tokenId`.
    function keyAgentOf(uint256 tokenId) external view returns (address) {
        return _contents[tokenId >> 64].keyAgent;
    }

    /// @notice EIP-712 digest of a `Purchase` with `nonce`.
    function hashPurchase(PurchaseRequest calldata req, uint256 nonce) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    PURCHASE_TYPEHASH, req.contentIndex, req.holder, req.maxPrice, req.relayerFee, nonce, req.deadline
                )
            )
        );
    }

    /// @notice EIP-712 digest of a `Listing` with `nonce` (the owner's `nonces`).
    function hashListing(ListingRequest calldata req, uint256 nonce) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(LISTING_TYPEHASH, req.tokenId, req.price, req.relayerFee, nonce, req.deadline))
        );
    }

    /// @notice EIP-712 digest of a `CancelListing` with `nonce`.
    function hashCancelListing(uint256 tokenId, uint256 relayerFee, uint256 nonce, uint64 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CANCEL_LISTING_TYPEHASH, tokenId, relayerFee, nonce, deadline)));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function supportsInterface(bytes4 id) public view override(ERC721, IERC165) returns (bool) {
        return id == type(IERC2981).interfaceId || super.supportsInterface(id);
    }

    function _existing(uint256 index) private view returns (Content storage c) {
        c = _contents[index];
        if (c.creator == address(0)) revert UnknownContent(index);
    }
}
