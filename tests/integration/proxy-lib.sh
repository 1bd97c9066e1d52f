# Shared by the proxy tests (sourced after i2pd-lib.sh, which has ok/bad).

# fetch LABEL URL FILE WANT [curl args]: retried until the page arrives
# byte-exact or FETCH_SECS (default 300) pass: LeaseSet publishing,
# lookups and tunnel builds come first
fetch() {
	label=$1 url=$2 out=$3 want=$4; shift 4
	end=$(($(date +%s) + ${FETCH_SECS:-300})) code=""
	while [ "$(date +%s)" -lt $end ]; do
		code=$(curl -s -m 120 -o "$out" -w '%{http_code}' "$@" "$url")
		[ -z "${FETCH_TRACE:-}" ] || echo "fetch $label: $code at $(date +%s)"
		[ "$code" = 200 ] && cmp -s "$out" "$want" && break
		sleep 2
	done
	if [ "$code" = 200 ] && cmp -s "$out" "$want"; then
		ok "$label"
	else
		bad "$label: last status $code"
		# "why:" lines go into tools/check's summary: the proxy's
		# page and what the test's fetch_why adds (its logs' counts)
		sed -n 's|.*<h1>\(.*\)</h1>.*|why: the last page said "\1"|p' "$out" | head -n 1
		! command -v fetch_why >/dev/null 2>&1 || fetch_why "$url"
	fi
}
