#!/usr/bin/env python3
"""Write leaseset-model-*.bin: one LeaseSet of each type, encoded by this
independent model of common-structures spec (LeaseSet, LeaseSet2Header,
OfflineSignature, LeaseSet2, MetaLeaseSet, EncryptedLeaseSet) and signed
with python-cryptography's Ed25519.  Fixed keys and times, so the files are
reproducible: python3 gen-leasesets.py  (run in tests/vectors/).
The C decoder must decode and verify each of them
(tests/unit/router/test_leaseset.c, "model_vectors")."""
import hashlib
import struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

PUBLISHED = 1700000000          # seconds


def key(seed_byte):
    sk = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    return sk, pk


def destination(pk):
    # 256-byte crypto field (unused, padding) + 96 bytes padding + the
    # 32-byte Ed25519 key at the end of the 384-byte area; key certificate
    # type 5, length 4: sig type 7, crypto type 0.
    pad = bytes(range(32)) * 11
    return pad[:352] + pk + bytes([5, 0, 4, 0, 7, 0, 0])


def lease2(gw, tid, end):
    return gw + struct.pack('>II', tid, end)


def offline(dest_sk, transient_pk, expires):
    body = struct.pack('>IH', expires, 7) + transient_pk
    return body + dest_sk.sign(body)


def ls2(store_type, dest_sk, dest_pk, body, flags=0, off=b'',
        signer=None, expires=600):
    d = destination(dest_pk)
    data = d + struct.pack('>IHH', PUBLISHED, expires, flags) + off + body
    return data + (signer or dest_sk).sign(bytes([store_type]) + data)


def mapping(pairs):
    m = b''.join(bytes([len(k)]) + k + b'=' + bytes([len(v)]) + v + b';'
                 for k, v in sorted(pairs))
    return struct.pack('>H', len(m)) + m


def main():
    dsk, dpk = key(1)
    tsk, tpk = key(2)
    bsk, bpk = key(3)
    gw = hashlib.sha256(b'gateway').digest()
    # LeaseSet2: options, keys X25519 then ElGamal, two leases.
    body = (mapping([(b'a', b'1')]) + bytes([2]) +
            struct.pack('>HH', 4, 32) + bytes(range(32)) +
            struct.pack('>HH', 0, 256) + bytes(256) +
            bytes([2]) + lease2(gw, 7, PUBLISHED + 500) +
            lease2(gw, 8, PUBLISHED + 550))
    open('leaseset-model-ls2.bin', 'wb').write(ls2(3, dsk, dpk, body))
    # The same with an offline signature: the transient key signs.
    off = offline(dsk, tpk, PUBLISHED + 86400)
    open('leaseset-model-ls2-offline.bin', 'wb').write(
        ls2(3, dsk, dpk, body, flags=1, off=off, signer=tsk))
    # MetaLeaseSet: two MetaLeases, one revocation, 18 hours.
    meta = (mapping([]) + bytes([2]) +
            gw + bytes([0, 0, 3, 5]) + struct.pack('>I', PUBLISHED + 60000) +
            gw + bytes([0, 0, 5, 9]) + struct.pack('>I', PUBLISHED + 60000) +
            bytes([1]) + hashlib.sha256(b'revoked').digest())
    open('leaseset-model-meta.bin', 'wb').write(
        ls2(7, dsk, dpk, meta, expires=60000))
    # EncryptedLeaseSet outer layer, RedDSA sig type 11 (Ed25519 verify).
    ct = bytes((i * 7) & 0xff for i in range(120))
    data = (struct.pack('>H', 11) + bpk +
            struct.pack('>IHH', PUBLISHED, 600, 0) +
            struct.pack('>H', len(ct)) + ct)
    open('leaseset-model-enc.bin', 'wb').write(
        data + bsk.sign(bytes([5]) + data))
    # LeaseSet (1): dest, ElGamal key, unused signing key, Leases (8-byte
    # dates in ms), signature over it all (no type byte).
    d = destination(dpk)
    data = (d + bytes(256) + bytes(32) + bytes([1]) + gw +
            struct.pack('>IQ', 9, (PUBLISHED + 500) * 1000))
    open('leaseset-model-ls1.bin', 'wb').write(data + dsk.sign(data))


main()
