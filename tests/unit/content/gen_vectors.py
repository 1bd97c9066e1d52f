#!/usr/bin/env python3
"""Known-answer vectors for the content format (docs/content-format.md),
computed independently of the C code: Python's `cryptography` for
HKDF-SHA256 and AES-256-GCM, hashlib for SHA-256, and a plain Keccak-256
below.  Prints the constants test_manifest.c checks.

    python3 tests/unit/content/gen_vectors.py
"""
import hashlib
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def keccak256(data):
    """Keccak-256 with the original 0x01 padding (as Ethereum uses it)."""
    rc = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A,
          0x8000000080008000, 0x000000000000808B, 0x0000000080000001,
          0x8000000080008081, 0x8000000000008009, 0x000000000000008A,
          0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
          0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
          0x8000000000008003, 0x8000000000008002, 0x8000000000000080,
          0x000000000000800A, 0x800000008000000A, 0x8000000080008081,
          0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
    rot = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61],
           [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
    mask = (1 << 64) - 1

    def rol(v, n):
        return ((v << n) | (v >> (64 - n))) & mask if n else v

    def f(a):
        for r in range(24):
            c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
            d = [c[(x - 1) % 5] ^ rol(c[(x + 1) % 5], 1) for x in range(5)]
            a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
            b = [[0] * 5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    b[y][(2 * x + 3 * y) % 5] = rol(a[x][y], rot[x][y])
            a = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y])
                  for y in range(5)] for x in range(5)]
            a[0][0] ^= rc[r]
        return a

    rate = 136
    msg = bytearray(data) + b'\x01'
    while len(msg) % rate:
        msg += b'\x00'
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off:off + rate]
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(block[8 * i:8 * i + 8], 'little')
        a = f(a)
    out = b''.join(a[i % 5][i // 5].to_bytes(8, 'little') for i in range(4))
    return out


# CHAIN.md §7 vectors.
assert keccak256(b'').hex() == \
    'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
assert keccak256(b'abc').hex() == \
    '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'


def leaf(ct):
    return hashlib.sha256(b'\x00' + ct).digest()


def node(l, r):
    return hashlib.sha256(b'\x01' + l + r).digest()


def mth(leaves):
    """RFC 6962 §2.1 merkle tree hash over leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def manifest(log2, size, count, salt, root, mime, index=None):
    out = b'BMAN' + bytes([2, log2]) + struct.pack('>QI', size, count)
    out += salt + root + bytes([len(mime)]) + mime
    if index is None:
        return out + b'\x00'
    timescale, duration, entries = index
    out += b'\x01' + struct.pack('>IQI', timescale, duration, len(entries))
    for t, o in entries:
        out += struct.pack('>QQ', t, o)
    return out


def main():
    K = bytes(range(32))
    salt = bytes(0x80 + i for i in range(32))
    size, log2 = 40000, 14
    pt = bytes((i * 7 + 3) & 0xff for i in range(size))
    chunk = 1 << log2
    count = max(1, -(-size // chunk))
    ck = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
              info=b'bits/content/v2/chunk-key').derive(K)
    aead = AESGCM(ck)
    cts = []
    for i in range(count):
        ad = (b'bits/content/v2/chunk' + salt + struct.pack('>Q', size) +
              bytes([log2]) + struct.pack('>II', count, i))
        nonce = b'\x00' * 4 + struct.pack('>Q', i)
        cts.append(aead.encrypt(nonce, pt[i * chunk:(i + 1) * chunk], ad))
    leaves = [leaf(c) for c in cts]
    root = mth(leaves)
    m = manifest(log2, size, count, salt, root, b'text/plain')
    h = hashlib.sha256(m).digest()
    print('chunk_key      ', ck.hex())
    for i, c in enumerate(cts):
        print('ct%d_sha256     ' % i, hashlib.sha256(c).hexdigest())
    print('root           ', root.hex())
    print('manifest       ', m.hex())
    print('content_hash   ', h.hex())
    print('key_commitment ', keccak256(K + h).hex())
    # Proof for chunk 0 of 3: sibling leaf 1, then leaf 2 (carried up).
    proof = b'BPRF\x01' + struct.pack('>IIB', 0, count, 2) + leaves[1] + leaves[2]
    print('proof0         ', proof.hex())
    mi = manifest(log2, size, count, salt, root, b'video/mp4',
                  (1000, 5000, [(0, 0), (2000, 20000)]))
    print('manifest_index ', mi.hex())
    print('hash_index     ', hashlib.sha256(mi).hexdigest())


main()
