#!/usr/bin/env python3
"""Write els2-model.json: key blinding, b33 addresses and encrypted
LeaseSet2s computed by this independent model of the encryptedleaseset
spec ("Blinding Calculations", "Sign/Verify Calculations", "Derivation of
subcredentials", layers 1 and 2, DH and PSK client authorization) and the
b32encrypted spec ("Creation and encoding").  Curve arithmetic is plain
Python integers (affine Edwards coordinates); hashes are hashlib, X25519
and ChaCha20 are python-cryptography.  Every salt, nonce and key is fixed,
so the file is reproducible: python3 gen-els2.py  (run in tests/vectors/).
The inner LeaseSet2 is leaseset-model-ls2.bin (gen-leasesets.py), whose
Destination key is the Ed25519 key of seed 01 * 32.
Used by tests/unit/crypto/test_blinding.c and
tests/unit/router/test_leaseset_enc.c."""
import base64
import hashlib
import hmac
import json
import struct
import zlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives import serialization

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
RAW = serialization.Encoding.Raw
PUBRAW = serialization.PublicFormat.Raw


def inv(x):
    return pow(x, P - 2, P)


def add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * inv(1 + t) % P,
            (y1 * y2 + x1 * x2) * inv(1 - t) % P)


def mul(k, pt):
    r = (0, 1)
    while k:
        if k & 1:
            r = add(r, pt)
        pt = add(pt, pt)
        k >>= 1
    return r


def decode_point(b):
    y = int.from_bytes(b, 'little') & ((1 << 255) - 1)
    sign = b[31] >> 7
    x2 = (y * y - 1) * inv(D * y * y + 1) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    assert (x * x - x2) % P == 0
    if x & 1 != sign:
        x = P - x
    return (x, y)


def encode_point(pt):
    x, y = pt
    return (y | ((x & 1) << 255)).to_bytes(32, 'little')


BY = 4 * inv(5) % P
B = decode_point(BY.to_bytes(32, 'little'))


def H(p, d):
    return hashlib.sha256(p + d).digest()


def hkdf(salt, ikm, info, n):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def chacha(key, iv, data):
    # RFC 7539 ChaCha20 with the initial counter 1: cryptography's nonce
    # is the 4-byte little-endian counter then the 12-byte IV.
    c = Cipher(algorithms.ChaCha20(key, struct.pack('<I', 1) + iv), None)
    return c.encryptor().update(data)


def ed_scalar(seed):
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return int.from_bytes(h, 'little')


def alpha(pk, st, bst, date, secret):
    keydata = pk + struct.pack('>HH', st, bst)
    seed = hkdf(H(b'I2PGenerateAlpha', keydata), date + secret,
                b'i2pblinding1', 64)
    return int.from_bytes(seed, 'little') % L


def reddsa_sign(a, pk, msg, T):
    r = int.from_bytes(hashlib.sha512(T + pk + msg).digest(), 'little') % L
    R = encode_point(mul(r, B))
    k = int.from_bytes(hashlib.sha512(R + pk + msg).digest(), 'little') % L
    return R + ((r + k * a) % L).to_bytes(32, 'little')


def b33(pk, st, bst, flags):
    data = bytearray(bytes([flags, st, bst]) + pk)
    c = zlib.crc32(bytes(data[3:])) & 0xffffffff
    data[0] ^= c & 0xff
    data[1] ^= (c >> 8) & 0xff
    data[2] ^= (c >> 16) & 0xff
    return base64.b32encode(bytes(data)).decode().lower().rstrip('=') + \
        '.b32.i2p'


def x25519(sk_bytes):
    sk = X25519PrivateKey.from_private_bytes(sk_bytes)
    return sk, sk.public_key().public_bytes(RAW, PUBRAW)


def els2(inner, a_blind, A_blind, subcred, published, expires, auth,
         clients, tag):
    pub = struct.pack('>I', published)
    cookie = b''
    layer1 = b''
    if auth == 'none':
        layer1 = bytes([0])
    else:
        cookie = bytes([0xc0 + tag]) * 32
        entries = b''
        if auth == 'dh':
            esk, epk = x25519(bytes([0x50 + tag]) * 32)
            head = epk
            for csk_b in clients:
                _, cpk = x25519(csk_b)
                ss = esk.exchange(X25519PublicKey.from_public_bytes(cpk))
                okm = hkdf(epk, ss + cpk + subcred + pub, b'ELS2_XCA', 52)
                entries += okm[44:52] + chacha(okm[:32], okm[32:44], cookie)
            layer1 = bytes([1])
        else:
            head = bytes([0x60 + tag]) * 32     # authSalt
            for psk in clients:
                okm = hkdf(head, psk + subcred + pub, b'ELS2PSKA', 52)
                entries += okm[44:52] + chacha(okm[:32], okm[32:44], cookie)
            layer1 = bytes([3])
        layer1 += head + struct.pack('>H', len(clients)) + entries
    inner_salt = bytes([0x70 + tag]) * 32
    k = hkdf(inner_salt, cookie + subcred + pub, b'ELS2_L2K', 44)
    layer1 += inner_salt + chacha(k[:32], k[32:44], bytes([3]) + inner)
    outer_salt = bytes([0x80 + tag]) * 32
    k = hkdf(outer_salt, subcred + pub, b'ELS2_L1K', 44)
    ct = outer_salt + chacha(k[:32], k[32:44], layer1)
    data = (struct.pack('>H', 11) + A_blind +
            struct.pack('>IHH', published, expires, 0) +
            struct.pack('>H', len(ct)) + ct)
    return data + reddsa_sign(a_blind, A_blind, bytes([5]) + data,
                              bytes([0x90 + tag]) * 80)


def main():
    seed = bytes([1]) * 32
    pk = Ed25519PrivateKey.from_private_bytes(seed).public_key() \
        .public_bytes(RAW, PUBRAW)
    a = ed_scalar(seed)
    assert encode_point(mul(a, B)) == pk
    date = b'20231114'          # published 1700000000 s is that day, UTC
    out = {'seed': seed.hex(), 'pk': pk.hex(), 'date': date.decode(),
           'blinding': [], 'b33': [], 'els2': []}
    for st, secret in ((7, b''), (7, b'secret'), (11, b'')):
        al = alpha(pk, st, 11, date, secret)
        A_ = encode_point(add(decode_point(pk), mul(al, B)))
        a_ = (a + al) % L
        assert encode_point(mul(a_, B)) == A_
        cred = H(b'credential', pk + struct.pack('>HH', st, 11))
        sub = H(b'subcredential', cred + A_)
        out['blinding'].append({
            'sig_type': st, 'secret': secret.hex(),
            'alpha': al.to_bytes(32, 'little').hex(),
            'blinded_pk': A_.hex(), 'blinded_sk': a_.to_bytes(32, 'little')
            .hex(), 'subcredential': sub.hex(),
            'store_key': hashlib.sha256(struct.pack('>H', 11) + A_)
            .hexdigest()})
    for st, flags in ((7, 0), (11, 0), (7, 2), (7, 4), (7, 6)):
        out['b33'].append({'sig_type': st, 'blinded_sig_type': 11,
                           'flags': flags, 'address': b33(pk, st, 11, flags)})
    inner = open('leaseset-model-ls2.bin', 'rb').read()
    bl = out['blinding'][0]
    a_ = int.from_bytes(bytes.fromhex(bl['blinded_sk']), 'little')
    A_ = bytes.fromhex(bl['blinded_pk'])
    sub = bytes.fromhex(bl['subcredential'])
    dh_clients = [bytes([0x20 + i]) * 32 for i in range(3)]
    psk_clients = [bytes([0x30 + i]) * 32 for i in range(2)]
    for tag, (auth, clients) in enumerate((('none', []), ('dh', dh_clients),
                                           ('psk', psk_clients))):
        ls = els2(inner, a_, A_, sub, 1700000000, 600, auth, clients, tag)
        out['els2'].append({'auth': auth,
                            'client_keys': [c.hex() for c in clients],
                            'leaseset': ls.hex()})
    with open('els2-model.json', 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


main()
