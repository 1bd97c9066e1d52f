// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {LicenseRegistry} from "./LicenseRegistry.sol";

/// @title KeyRelease (v1: events only)
/// @notice On-chain fallback for key delivery when the overlay path fails: a
/// licence holder posts a single-use ephemeral public key, the content's key
/// agent answers with the content key wrapped to it,
/// `w = K xor keccak256(address(a*E) ‖ requestId)`, and the holder checks
/// `keccak256(K ‖ contentHash)` against the registry's keyCommitment.
///
/// HONEST LIMIT: this is access through the protocol, not DRM. A past holder
/// keeps every key it decrypted and every plaintext it made; selling or
/// transferring the licence takes nothing back, and this contract cannot
/// revoke or detect copies. A key agent can also refuse to deliver; v1 has no
/// on-chain remedy for that (v2 adds an escrowed agent fee and `dispute`).
///
/// The usual request travels over the overlay as an EIP-712 `KeyRequest`
/// (domain "KeyRelease"); `hashKeyRequest` gives its digest (the requestId).
contract KeyRelease is EIP712 {
    bytes32 public constant KEY_REQUEST_TYPEHASH =
        keccak256("KeyRequest(uint256 tokenId,bytes ephemeralPubKey,uint64 deadline)");

    LicenseRegistry public immutable registry;

    event KeyRequested(uint256 indexed tokenId, address indexed holder, bytes ephemeralPubKey);
    event KeyDelivered(uint256 indexed tokenId, address indexed holder, bytes32 wrappedKey);

    error NotHolder(uint256 tokenId, address account);
    error NotKeyAgent(uint256 tokenId, address account);
    error BadEphemeralKey();
    error ZeroAddress();

    constructor(LicenseRegistry registry_) EIP712("KeyRelease", "1") {
        if (address(registry_) == address(0)) revert ZeroAddress();
        registry = registry_;
    }

    /// @notice The current holder of `tokenId` asks for its content key.
    /// @param ephemeralPubKey a fresh compressed secp256k1 key E (33 bytes).
    function requestKey(uint256 tokenId, bytes calldata ephemeralPubKey) external {
        if (ephemeralPubKey.length != 33 || (ephemeralPubKey[0] != 0x02 && ephemeralPubKey[0] != 0x03)) {
            revert BadEphemeralKey();
        }
        if (registry.ownerOf(tokenId) != msg.sender) revert NotHolder(tokenId, msg.sender);
        emit KeyRequested(tokenId, msg.sender, ephemeralPubKey);
    }

    /// @notice The content's key agent delivers the wrapped key to `holder`,
    /// which must still own the licence.
    function deliverKey(uint256 tokenId, address holder, bytes32 wrappedKey) external {
        if (registry.keyAgentOf(tokenId) != msg.sender) revert NotKeyAgent(tokenId, msg.sender);
        if (registry.ownerOf(tokenId) != holder) revert NotHolder(tokenId, holder);
        emit KeyDelivered(tokenId, holder, wrappedKey);
    }

    /// @notice EIP-712 digest of an off-chain `KeyRequest` (the requestId).
    function hashKeyRequest(uint256 tokenId, bytes calldata ephemeralPubKey, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(KEY_REQUEST_TYPEHASH, tokenId, keccak256(ephemeralPubKey), deadline)));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}
