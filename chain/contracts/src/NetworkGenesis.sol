// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FeeSplitter} from "./FeeSplitter.sol";
import {LicenseRegistry} from "./LicenseRegistry.sol";
import {KeyRelease} from "./KeyRelease.sol";
import {PaymentHub} from "./PaymentHub.sol";

/// @title NetworkGenesis
/// @notice The fixed parameters of one Bits network and its networkId. Every
/// value is an immutable; the constructor checks that the deployed contracts
/// were built with exactly these values, so the networkId vouches for the
/// whole set. Routers refuse peers that announce another networkId.
///
/// The fee split (basis points, summing to 10,000) divides the protocol fee
/// that the treasury (a FeeSplitter) receives among protocol authors, hosters
/// and seeders, relays, and creators; each share goes to the payee named
/// here, and the FeeSplitter must have exactly these payees and shares.
///
/// `networkId = keccak256(abi.encode(params()))`.
contract NetworkGenesis {
    uint256 internal constant BPS = 10_000;
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 500;

    /// @notice Who gets a share of the protocol fee, in genesis order.
    struct Split {
        address authors;
        uint16 authorsBps;
        address hostersSeeders;
        uint16 hostersSeedersBps;
        address relays;
        uint16 relaysBps;
        address creators;
        uint16 creatorsBps;
    }

    struct Params {
        uint256 chainId;
        address token;
        address treasury; // the FeeSplitter
        uint16 protocolFeeBps;
        uint16 maxRoyaltyBps;
        uint16 maxAgentFeeBps;
        uint64 unlockDelay;
        uint64 maxPaperTTL;
        Split split;
        address licenseRegistry;
        address keyRelease;
        address paymentHub;
        address didRegistry;
        uint32 version;
    }

    uint256 public immutable chainId;
    address public immutable token;
    address public immutable treasury;
    uint16 public immutable protocolFeeBps;
    uint16 public immutable maxRoyaltyBps;
    uint16 public immutable maxAgentFeeBps;
    uint64 public immutable unlockDelay;
    uint64 public immutable maxPaperTTL;
    address internal immutable _authors;
    uint16 internal immutable _authorsBps;
    address internal immutable _hostersSeeders;
    uint16 internal immutable _hostersSeedersBps;
    address internal immutable _relays;
    uint16 internal immutable _relaysBps;
    address internal immutable _creators;
    uint16 internal immutable _creatorsBps;
    address public immutable licenseRegistry;
    address public immutable keyRelease;
    address public immutable paymentHub;
    address public immutable didRegistry;
    uint32 public immutable version;
    bytes32 public immutable networkId;

    event Genesis(bytes32 indexed networkId, Params params);

    error WrongChain(uint256 chainId);
    error FeeTooHigh(uint256 bps);
    error SplitNot10000(uint256 sum);
    /// @notice A deployed contract disagrees with the genesis on `what`.
    error Mismatch(string what);

    constructor(Params memory p) {
        if (p.chainId != block.chainid) revert WrongChain(p.chainId);
        if (p.protocolFeeBps > MAX_PROTOCOL_FEE_BPS) revert FeeTooHigh(p.protocolFeeBps);
        Split memory s = p.split;
        uint256 sum = uint256(s.authorsBps) + s.hostersSeedersBps + s.relaysBps + s.creatorsBps;
        if (sum != BPS) revert SplitNot10000(sum);
        _check(p);

        chainId = p.chainId;
        token = p.token;
        treasury = p.treasury;
        protocolFeeBps = p.protocolFeeBps;
        maxRoyaltyBps = p.maxRoyaltyBps;
        maxAgentFeeBps = p.maxAgentFeeBps;
        unlockDelay = p.unlockDelay;
        maxPaperTTL = p.maxPaperTTL;
        _authors = s.authors;
        _authorsBps = s.authorsBps;
        _hostersSeeders = s.hostersSeeders;
        _hostersSeedersBps = s.hostersSeedersBps;
        _relays = s.relays;
        _relaysBps = s.relaysBps;
        _creators = s.creators;
        _creatorsBps = s.creatorsBps;
        licenseRegistry = p.licenseRegistry;
        keyRelease = p.keyRelease;
        paymentHub = p.paymentHub;
        didRegistry = p.didRegistry;
        version = p.version;
        bytes32 id = keccak256(abi.encode(p));
        networkId = id;
        emit Genesis(id, p);
    }

    /// @notice All parameters, as hashed into the networkId.
    function params() public view returns (Params memory p) {
        p.chainId = chainId;
        p.token = token;
        p.treasury = treasury;
        p.protocolFeeBps = protocolFeeBps;
        p.maxRoyaltyBps = maxRoyaltyBps;
        p.maxAgentFeeBps = maxAgentFeeBps;
        p.unlockDelay = unlockDelay;
        p.maxPaperTTL = maxPaperTTL;
        p.split = split();
        p.licenseRegistry = licenseRegistry;
        p.keyRelease = keyRelease;
        p.paymentHub = paymentHub;
        p.didRegistry = didRegistry;
        p.version = version;
    }

    /// @notice The fee split of the protocol fee.
    function split() public view returns (Split memory) {
        return Split(
            _authors,
            _authorsBps,
            _hostersSeeders,
            _hostersSeedersBps,
            _relays,
            _relaysBps,
            _creators,
            _creatorsBps
        );
    }

    /// @dev Every contract must carry the genesis values.
    function _check(Params memory p) private view {
        FeeSplitter fs = FeeSplitter(p.treasury);
        if (address(fs.token()) != p.token) revert Mismatch("treasury.token");
        address[] memory payees = fs.payees();
        Split memory s = p.split;
        if (
            payees.length != 4 || payees[0] != s.authors || payees[1] != s.hostersSeeders || payees[2] != s.relays
                || payees[3] != s.creators
        ) revert Mismatch("treasury.payees");
        if (
            fs.shares(s.authors) != s.authorsBps || fs.shares(s.hostersSeeders) != s.hostersSeedersBps
                || fs.shares(s.relays) != s.relaysBps || fs.shares(s.creators) != s.creatorsBps
        ) revert Mismatch("treasury.shares");

        LicenseRegistry lr = LicenseRegistry(p.licenseRegistry);
        if (
            address(lr.token()) != p.token || lr.treasury() != p.treasury || lr.protocolFeeBps() != p.protocolFeeBps
                || lr.maxRoyaltyBps() != p.maxRoyaltyBps || lr.maxAgentFeeBps() != p.maxAgentFeeBps
        ) revert Mismatch("licenseRegistry");

        if (address(KeyRelease(p.keyRelease).registry()) != p.licenseRegistry) revert Mismatch("keyRelease");

        PaymentHub hub = PaymentHub(p.paymentHub);
        if (
            address(hub.token()) != p.token || hub.treasury() != p.treasury || hub.protocolFeeBps() != p.protocolFeeBps
                || hub.unlockDelay() != p.unlockDelay || hub.maxPaperTTL() != p.maxPaperTTL
        ) revert Mismatch("paymentHub");

        if (p.didRegistry.code.length == 0) revert Mismatch("didRegistry");
    }
}
