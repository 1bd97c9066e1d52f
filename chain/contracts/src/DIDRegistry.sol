// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title DIDRegistry — the ERC-1056 (did:ethr) subset Bits uses
/// @notice Owners and attributes of identities, for creators, key agents and
/// protocol authors only (never routers). Attributes live only in
/// `DIDAttributeChanged` events: `did/svc/KeyAgent` (overlay destination
/// hash), `did/svc/Catalog`, `stealth/meta` (66-byte meta-address).
/// Delegates are left out. Signed variants follow ERC-1056 byte for byte:
/// `keccak256(0x19 ‖ 0x00 ‖ this ‖ nonce[owner] ‖ identity ‖ op ‖ args)`, so
/// did:ethr tools work unchanged (high-s signatures are rejected).
/// @dev `changed` holds `block.number` as ERC-1056 resolvers expect; on
/// Arbitrum that is the L1 block number, so scan logs by topic there.
contract DIDRegistry {
    mapping(address identity => address) public owners;
    mapping(address identity => uint256) public changed;
    mapping(address signer => uint256) public nonce;

    event DIDOwnerChanged(address indexed identity, address owner, uint256 previousChange);
    event DIDAttributeChanged(
        address indexed identity, bytes32 name, bytes value, uint256 validTo, uint256 previousChange
    );

    error NotOwner(address identity, address actor);

    /// @notice The owner of `identity`: itself until changed.
    function identityOwner(address identity) public view returns (address) {
        address o = owners[identity];
        return o == address(0) ? identity : o;
    }

    function changeOwner(address identity, address newOwner) external {
        _changeOwner(identity, msg.sender, newOwner);
    }

    function changeOwnerSigned(address identity, uint8 sigV, bytes32 sigR, bytes32 sigS, address newOwner) external {
        bytes32 h = keccak256(
            abi.encodePacked(
                bytes1(0x19), bytes1(0), this, nonce[identityOwner(identity)], identity, "changeOwner", newOwner
            )
        );
        _changeOwner(identity, _signer(identity, h, sigV, sigR, sigS), newOwner);
    }

    function setAttribute(address identity, bytes32 name, bytes calldata value, uint256 validity) external {
        _setAttribute(identity, msg.sender, name, value, validity);
    }

    function setAttributeSigned(
        address identity,
        uint8 sigV,
        bytes32 sigR,
        bytes32 sigS,
        bytes32 name,
        bytes calldata value,
        uint256 validity
    ) external {
        bytes32 h = keccak256(
            abi.encodePacked(
                bytes1(0x19),
                bytes1(0),
                this,
                nonce[identityOwner(identity)],
                identity,
                "setAttribute",
                name,
                value,
                validity
            )
        );
        _setAttribute(identity, _signer(identity, h, sigV, sigR, sigS), name, value, validity);
    }

    function revokeAttribute(address identity, bytes32 name, bytes calldata value) external {
        _revokeAttribute(identity, msg.sender, name, value);
    }

    function revokeAttributeSigned(
        address identity,
        uint8 sigV,
        bytes32 sigR,
        bytes32 sigS,
        bytes32 name,
        bytes calldata value
    ) external {
        bytes32 h = keccak256(
            abi.encodePacked(
                bytes1(0x19), bytes1(0), this, nonce[identityOwner(identity)], identity, "revokeAttribute", name, value
            )
        );
        _revokeAttribute(identity, _signer(identity, h, sigV, sigR, sigS), name, value);
    }

    /// @dev Recover the signer, require it owns `identity`, bump its nonce.
    function _signer(address identity, bytes32 h, uint8 v, bytes32 r, bytes32 s) private returns (address signer) {
        signer = ECDSA.recover(h, v, r, s);
        if (signer != identityOwner(identity)) revert NotOwner(identity, signer);
        ++nonce[signer];
    }

    function _onlyOwner(address identity, address actor) private view {
        if (actor != identityOwner(identity)) revert NotOwner(identity, actor);
    }

    function _changeOwner(address identity, address actor, address newOwner) private {
        _onlyOwner(identity, actor);
        owners[identity] = newOwner;
        emit DIDOwnerChanged(identity, newOwner, changed[identity]);
        changed[identity] = block.number;
    }

    function _setAttribute(address identity, address actor, bytes32 name, bytes calldata value, uint256 validity)
        private
    {
        _onlyOwner(identity, actor);
        emit DIDAttributeChanged(identity, name, value, block.timestamp + validity, changed[identity]);
        changed[identity] = block.number;
    }

    function _revokeAttribute(address identity, address actor, bytes32 name, bytes calldata value) private {
        _onlyOwner(identity, actor);
        emit DIDAttributeChanged(identity, name, value, 0, changed[identity]);
        changed[identity] = block.number;
    }
}
