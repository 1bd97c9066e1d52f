#!/usr/bin/env python3
"""Write garlic-model.json: a Garlic message to a router (ecies-routers
spec, Noise "N" with the 31-byte name zero-padded, MixHash of the router
key then of the ephemeral key, MixKey(DH), ChaChaPoly n = 0 with ad = h)
and a one-time reply (proposal 154: ChaChaPoly(key, n = 0, ad = tag)),
computed by this independent Python model with python-cryptography, from
fixed keys.  Payload blocks: DateTime, a LOCAL Garlic Clove holding a
DeliveryStatus, Padding (ecies spec).  Run in tests/vectors/."""
import hashlib, hmac, json, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

def raw(k):
    return k.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)

def hkdf(salt, ikm, n=64):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    t1 = hmac.new(prk, b'\x01', hashlib.sha256).digest()
    t2 = hmac.new(prk, t1 + b'\x02', hashlib.sha256).digest()
    return (t1 + t2)[:n]

router_sk = bytes(range(1, 33))
eph_sk = bytes(range(101, 133))
rk = X25519PrivateKey.from_private_bytes(router_sk)
ek = X25519PrivateKey.from_private_bytes(eph_sk)
rpk, epk = raw(rk), raw(ek)

# DeliveryStatus: msg id 0x01020304, timestamp 1700000000000 ms
ds = struct.pack('>IQ', 0x01020304, 1700000000000)
clove = bytes([0]) + bytes([10]) + struct.pack('>II', 0x0a0b0c0d, 1700000060) + ds
payload = (bytes([0]) + struct.pack('>HI', 4, 1700000000) +
           bytes([11]) + struct.pack('>H', len(clove)) + clove +
           bytes([254]) + struct.pack('>H', 3) + bytes(3))

name = b'Noise_N_25519_ChaChaPoly_SHA256'
h = name + bytes(32 - len(name))
ck = h
h = hashlib.sha256(h).digest()            # empty prologue
h = hashlib.sha256(h + rpk).digest()
h = hashlib.sha256(h + epk).digest()
shared = ek.exchange(rk.public_key())
kd = hkdf(ck, shared)
k = kd[32:]
ct = ChaCha20Poly1305(k).encrypt(bytes(12), payload, h)
data = epk + ct
garlic = struct.pack('>I', len(data)) + data

rkey = bytes(range(200, 232))
tag = bytes([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
tct = ChaCha20Poly1305(rkey).encrypt(bytes(12), payload, tag)
tdata = tag + tct
tagged = struct.pack('>I', len(tdata)) + tdata

json.dump({
    'source': 'tests/vectors/gen-garlic.py (independent model: python-cryptography)',
    'router_sk': router_sk.hex(), 'router_pk': rpk.hex(),
    'eph_sk': eph_sk.hex(), 'payload': payload.hex(),
    'garlic': garlic.hex(),
    'reply_key': rkey.hex(), 'reply_tag': tag.hex(), 'tagged': tagged.hex(),
}, open('garlic-model.json', 'w'), indent=1)
