#!/bin/sh
# Reseed (issue [D]):
#  1. tools/bits-su3 makes a self-signed RSA-4096 signer and an su3 bundle
#     of RouterInfos that `bitsd --init` wrote; bits-su3 verify accepts it;
#  2. i2pd 2.45.1 with reseed.verify = true and our certificate accepts the
#     bundle (it checks the raw RSA signature itself), and refuses it when
#     its certificate is another key;
#  3. our netDb reseeds from the su3 file, refuses a tampered copy and one
#     signed by a key it does not trust, and reads a directory of
#     routerInfo-*.dat files;
#  4. our netDb reseeds over HTTPS from a local server (python3 http.server
#     with TLS on 127.0.0.1) that serves the su3 at /i2pseeds.su3?netid=77,
#     and refuses the server when its certificate is not the trusted one.
# Everything stays on 127.0.0.0/8.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-netdb-reseed.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"
BITSD="$top_builddir/apps/bitsd"
SU3="$top_builddir/tools/bits-su3"
STRESS="$top_builddir/tests/integration/netdb_stress"
HTTPS_PID=""
cleanup() {
	[ -n "$HTTPS_PID" ] && kill "$HTTPS_PID" 2>/dev/null
	for d in "$W"/i2pd-*; do [ -d "$d" ] && i2pd_stop "$d"; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
need_i2pd test_netdb_reseed

# ---- 1. a bundle ----
mkdir -p "$W/ris"
for n in 1 2 3; do
	if "$BITSD" --datadir "$W/r$n" --init --netid 77 --host 127.0.0.10$n \
		--port $((25100 + n)) >"$W/init$n.log" 2>&1; then
		H=$(ri_b64hash "$W/r$n/router.info")
		cp "$W/r$n/router.info" "$W/ris/routerInfo-$H.dat"
	else
		bad "bitsd --init $n failed"; cat "$W/init$n.log"
	fi
done
if "$SU3" keygen --cn reseed@bits.test --key "$W/key.pem" --cert "$W/reseed_at_bits.test.crt" >"$W/keygen.log" 2>&1 &&
   "$SU3" keygen --cn reseed@bits.test --key "$W/other.pem" --cert "$W/other.crt" >>"$W/keygen.log" 2>&1; then
	ok "bits-su3 made two RSA-4096 signers with CN reseed@bits.test"
else
	bad "bits-su3 keygen failed"; cat "$W/keygen.log"
fi
openssl x509 -in "$W/reseed_at_bits.test.crt" -noout -text 2>/dev/null | grep -q "Public-Key: (4096 bit)" &&
	ok "the signer key is RSA-4096" || bad "the signer key is not RSA-4096"
if "$SU3" make --key "$W/key.pem" --signer reseed@bits.test --netid 77 \
	--out "$W/i2pseeds.su3" "$W/ris" >"$W/make.log" 2>&1; then
	ok "bits-su3 make: $(cat "$W/make.log")"
else
	bad "bits-su3 make failed"; cat "$W/make.log"
fi
out=$("$SU3" verify --cert "$W/reseed_at_bits.test.crt" --netid 77 "$W/i2pseeds.su3" 2>&1)
case "$out" in
*routerinfos=3\ refused=0*) ok "bits-su3 verify: $out" ;;
*) bad "bits-su3 verify: $out" ;;
esac
"$SU3" verify --cert "$W/other.crt" --netid 77 "$W/i2pseeds.su3" >/dev/null 2>&1 &&
	bad "bits-su3 verify accepted another key" || ok "bits-su3 verify refuses another key"
python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[len(d)//2]^=1; open(sys.argv[2],'wb').write(d)" \
	"$W/i2pseeds.su3" "$W/tampered.su3"

# ---- 2. i2pd checks our signature ----
H1=$(ri_b64hash "$W/r1/router.info")
for kind in good other; do
	d="$W/i2pd-$kind"; mkdir -p "$d/certs/reseed" "$d/certs/family"
	if [ $kind = good ]; then
		cp "$W/reseed_at_bits.test.crt" "$d/certs/reseed/"
		port=25111
	else
		cp "$W/other.crt" "$d/certs/reseed/reseed_at_bits.test.crt"
		port=25112
	fi
	i2pd_conf "$d" 127.0.0.1$((port - 25100)) $port "file = $W/i2pseeds.su3"
	sed -i "s/^verify = false/verify = true/" "$d/i2pd.conf"
	sed -i "1i certsdir = $d/certs" "$d/i2pd.conf"
	i2pd_start "$d"
done
if wait_log "$W/i2pd-good/i2pd.log" "RouterInfo added: $H1" 40; then
	ok "i2pd (reseed.verify = true) verified our su3 and added its RouterInfos"
else
	bad "i2pd did not accept our su3"; grep -i -E 'reseed|routerinfo' "$W/i2pd-good/i2pd.log" | head
fi
if wait_log "$W/i2pd-other/i2pd.log" "Reseed: SU3 signature verification failed" 40; then
	ok "i2pd with another key's certificate refused our su3"
else
	bad "i2pd did not report a bad su3 signature"; grep -i reseed "$W/i2pd-other/i2pd.log" | head
fi
grep -q "RouterInfo added: $H1" "$W/i2pd-other/i2pd.log" &&
	bad "i2pd added RouterInfos from an su3 it could not verify" || ok "nothing was added from the unverified su3"
for kind in good other; do i2pd_stop "$W/i2pd-$kind"; done

# ---- 3. our netDb from a file and a directory ----
expect_added() {	# NAME WANT ARGS...
	name=$1; want=$2; shift 2
	out=$("$STRESS" reseed --netid 77 "$@" 2>"$W/stress.err")
	got=$(printf '%s\n' "$out" | awk '/^added/ { print $2 }')
	if [ "${got:-x}" = "$want" ]; then ok "$name ($out)"; else
		bad "$name: $out (want added $want)"; tail -3 "$W/stress.err"; fi
}
expect_added "netDb reseeded from the su3 file" 3 \
	--file "$W/i2pseeds.su3" --signers "$W/reseed_at_bits.test.crt"
expect_added "a tampered su3 is refused" 0 \
	--file "$W/tampered.su3" --signers "$W/reseed_at_bits.test.crt"
grep -q "reseed from the su3 file failed: bad signature" "$W/stress.err" &&
	ok "... with a log line naming the bad signature" || bad "no log line for the tampered su3: $(cat "$W/stress.err")"
expect_added "an su3 from an untrusted key is refused" 0 \
	--file "$W/i2pseeds.su3" --signers "$W/other.crt"
mkdir -p "$W/certdir"; cp "$W/reseed_at_bits.test.crt" "$W/certdir/"
expect_added "a certificate directory works too" 3 \
	--file "$W/i2pseeds.su3" --signers "$W/certdir"
expect_added "netDb reseeded from a directory of routerInfo files" 3 --dir "$W/ris"
expect_added "a failing su3 falls back to the directory" 3 \
	--file "$W/tampered.su3" --signers "$W/certdir" --dir "$W/ris"

# ---- 4. HTTPS ----
mkdir -p "$W/www"; cp "$W/i2pseeds.su3" "$W/www/"
for c in tls other-tls; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$W/$c.key" \
		-out "$W/$c.crt" >/dev/null 2>&1 || bad "openssl req for $c failed"
done
cat > "$W/serve.py" <<'PY'
import http.server, ssl, sys, os
root, cert, key, log = sys.argv[1:5]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, 'a') as f:
            f.write('%s UA=%s\n' % (self.path, self.headers.get('User-Agent')))
        if self.path != '/i2pseeds.su3?netid=77':
            self.send_error(404); return
        data = open(os.path.join(root, 'i2pseeds.su3'), 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(('127.0.0.1', 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$W/serve.py" "$W/www" "$W/tls.crt" "$W/tls.key" "$W/requests.log" >"$W/port" 2>"$W/serve.err" &
HTTPS_PID=$!
i=0; while [ ! -s "$W/port" ] && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
PORT=$(head -1 "$W/port")
if [ -n "$PORT" ]; then ok "local HTTPS reseed server on 127.0.0.1:$PORT"; else bad "the HTTPS server did not start: $(cat "$W/serve.err")"; fi
expect_added "netDb reseeded over HTTPS" 3 --url "https://127.0.0.1:$PORT/" \
	--signers "$W/reseed_at_bits.test.crt" --cafile "$W/tls.crt"
grep -q "^/i2pseeds.su3?netid=77 UA=Wget/1.11.4" "$W/requests.log" &&
	ok "the request was GET /i2pseeds.su3?netid=77 with the reseed User-Agent" ||
	bad "unexpected request: $(cat "$W/requests.log")"
expect_added "a server whose certificate we do not trust is refused" 0 \
	--url "https://127.0.0.1:$PORT/" --signers "$W/reseed_at_bits.test.crt" \
	--cafile "$W/other-tls.crt"
grep -q "reseed from the HTTPS server failed" "$W/stress.err" &&
	ok "... with a log line" || bad "no log line for the untrusted server"
expect_added "an su3 over HTTPS from an untrusted key is refused" 0 \
	--url "https://127.0.0.1:$PORT/" --signers "$W/other.crt" --cafile "$W/tls.crt"
result test_netdb_reseed
