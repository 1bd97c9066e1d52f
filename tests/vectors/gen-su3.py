#!/usr/bin/env python3
"""Write su3-model-reseed.su3 and su3-model-signer.crt: an su3 reseed bundle
built by this independent model of updates spec "SU3 File Specification"
(header by hand, zip by Python's zipfile) and signed by the openssl command
line tool ("pkeyutl -sign" with PKCS#1 v1.5 padding over the bare SHA-512
digest, no DigestInfo: the spec's "raw" signature).  The zip holds the
i2pd RouterInfo i2pd-routerinfo-ntcp2.dat under its routerInfo-<hash>.dat
name.  Run in tests/vectors/ with openssl on PATH; the key is thrown away.
tests/unit/router/test_su3.c must verify the file with the certificate."""
import base64, hashlib, io, os, struct, subprocess, tempfile, zipfile

ri = open('i2pd-routerinfo-ntcp2.dat', 'rb').read()
certlen = struct.unpack('>H', ri[385:387])[0]
h = hashlib.sha256(ri[:387 + certlen]).digest()
name = 'routerInfo-' + base64.b64encode(h, altchars=b'-~').decode() + '.dat'
z = io.BytesIO()
with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
    zf.writestr(name, ri)
content = z.getvalue()
version = b'1700000000'.ljust(16, b'\0')
signer = b'test@bits.i2p'
hdr = bytearray(40)
hdr[0:6] = b'I2Psu3'
struct.pack_into('>HH', hdr, 8, 6, 512)        # RSA-SHA512-4096
hdr[13] = len(version)
hdr[15] = len(signer)
struct.pack_into('>Q', hdr, 16, len(content))
hdr[25] = 0                                    # zip
hdr[27] = 3                                    # reseed
body = bytes(hdr) + version + signer + content
with tempfile.TemporaryDirectory() as d:
    key, crt = os.path.join(d, 'k.pem'), 'su3-model-signer.crt'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:4096',
                    '-keyout', key, '-out', crt, '-days', '36500', '-nodes',
                    '-subj', '/CN=test@bits.i2p', '-set_serial', '1'],
                   check=True, capture_output=True)
    dig = os.path.join(d, 'dig')
    open(dig, 'wb').write(hashlib.sha512(body).digest())
    sig = subprocess.run(['openssl', 'pkeyutl', '-sign', '-inkey', key,
                          '-in', dig, '-pkeyopt', 'rsa_padding_mode:pkcs1'],
                         check=True, capture_output=True).stdout
assert len(sig) == 512
open('su3-model-reseed.su3', 'wb').write(body + sig)
print(name)
