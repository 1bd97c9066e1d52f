# Shared by the console's tests (sourced).

# console_wav FILE: six seconds of a quiet tone, 16-bit mono at 22050 Hz
# (264,644 bytes: 5 chunks of 64 KiB).
console_wav() {
	python3 -c 'import struct, math, sys
n = 6 * 22050
pcm = b"".join(struct.pack("<h", int(2000 * math.sin(i * 0.05))) for i in range(n))
sys.stdout.buffer.write(b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " +
    struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16) + b"data" + struct.pack("<I", len(pcm)) + pcm)' >"$1"
}

# console_seal PORT DATADIR FILE REG INDEX AGENT OUT: seal FILE through the
# console of the bitsd on 127.0.0.1:PORT (DATADIR: its data directory) as
# "A paid tone" for 1 USDC, with licence INDEX of the LicenseRegistry REG
# and the key agent AGENT (a b32) in the card; publish the card to its
# feed; write H, KC (0x hex), CARD (the card id), K (the key, from the
# creator's key book) and N (the licence index) to OUT as shell
# assignments.  REG "-": no licence named, the router registers the
# content on chain itself (its wallet and key agent) before signing.
console_seal() {
	python3 - "$@" <<'PY'
import sys, json, http.client, time
port, d, f, reg, nxt, ag, out = sys.argv[1:8]
tok = open(d + "/api.token").read().strip()
def req(method, path, body=None, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    if isinstance(body, dict): body = json.dumps(body).encode()
    c.request(method, path, body, {"Authorization": "Bearer " + tok, "Content-Type": ctype})
    r = c.getresponse(); b = r.read()
    return r.status, json.loads(b) if b else {}
data = open(f, "rb").read()
s, up = req("POST", "/api/publish", {"name": "tone.wav", "size": len(data), "mime": "audio/wav"})
assert s == 201, (s, up)
for off in range(0, len(data), 200000):
    s, up = req("POST", "/api/publish/%d/data?offset=%d" % (up["id"], off), data[off:off + 200000],
                "application/octet-stream")
    assert s == 200, (s, up)
meta = {"title": "A paid tone", "tags": ["sound"], "price": "1", "currency": "USDC", "decimals": 6}
if reg != "-":
    meta.update({"licence": {"contract": reg, "index": int(nxt)}, "key_agent": ag})
s, up = req("POST", "/api/publish/%d/seal" % up["id"], meta)
assert s == 202, (s, up)
while up["state"] not in ("done", "failed"):
    time.sleep(0.2); s, up = req("GET", "/api/publish/%d" % up["id"])
assert up["state"] == "done", up
s, r = req("POST", "/api/feed/publish", {"card": up["card"]})
assert s == 200, (s, r)
card = req("GET", "/api/feed/card/" + up["card_id"])[1]["card"]
assert reg == "-" or (card["licence"]["index"] in (nxt, int(nxt)) and card["keyAgent"] == ag), card
assert card.get("licence") and card.get("keyAgent"), card
key = [l.split()[1] for l in open(d + "/console/keys") if l.startswith(card["contentHash"])][0]
open(out, "w").write("H=0x%s\nKC=0x%s\nCARD=%s\nK=%s\nN=%s\n" % (card["contentHash"], card["keyCommitment"],
                     up["card_id"], key, card["licence"]["index"]))
PY
}
