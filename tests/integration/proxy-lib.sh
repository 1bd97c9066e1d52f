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
	fi
}
