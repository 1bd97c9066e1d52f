# Shared helpers for tools/check, tools/demo and tests/e2e (sourced, not run).
# deps_install: install what is missing on Debian 12 (apt-get update once).
BITS_APT_PKGS="build-essential autoconf automake libtool pkg-config clang
libclang-rt-14-dev llvm libsodium-dev libssl-dev libevent-dev libsqlite3-dev
zlib1g-dev libnatpmp-dev libminiupnpc-dev libsecp256k1-dev libjansson-dev
python3 python3-txi2p-tahoe i2pd unzip zip
nftables iproute2 miniupnpd-nftables natpmpc miniupnpc conntrack
curl strace chromium ffmpeg faketime"

# still_running PID: PID is still running (a zombie is not) after up to
# 5 s; a process killed a moment ago may still be on its way out
still_running() {
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ] || return 1
		sleep 0.25
	done
}

# python_direct DIR: put python3 on PATH as the interpreter itself (a
# symlink in DIR), not a version manager's shim.  pyenv's runs a chain of
# bash scripts before each start (0.65 s of CPU against 0.1 s for the
# interpreter on a quiet machine here), and the tests start python3
# thousands of times: in a profile of a check the shim's scripts took
# 44 % of the CPU, twice what python3, bitsd and i2pd took together.  The
# same interpreter runs; without a shim this does nothing.
python_direct() {
	pd_py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || return 0
	[ -x "$pd_py" ] && [ "$(command -v python3)" != "$pd_py" ] || return 0
	mkdir -p "$1" && ln -sf "$pd_py" "$1/python3" && PATH="$1:$PATH" && export PATH
}

# foundry_bin CONTRACTS NAME: the platform's own forge, anvil or cast that
# npm's @foundry-rs/NAME starts through a node script (node_modules/.bin/
# NAME). Never that script: it exits 0 whatever the tool's exit status
# (1.7.1: "cast chain-id" of a port nobody listens on, refused, exit 0),
# and a node start costs about 0.25 s of CPU here. With no platform
# binary installed, a path that does not exist (callers test -x).
foundry_bin() {
	for f in "$1"/node_modules/@foundry-rs/"$2"-*/bin/"$2"; do
		[ -x "$f" ] && break
	done
	echo "$f"
}

# anvil_up ANVIL CAST LOG [CHAIN_ID]: start anvil on 127.0.0.1, port 0
# (it binds a free port itself and names it in LOG: a port found free
# first could be taken by another listener before anvil binds it), and
# wait until it answers there, 60 s at most (a loaded machine takes
# seconds). Sets APID and RPC; 1 when anvil exited or never answered.
anvil_up() {
	"$1" --host 127.0.0.1 --port 0 --chain-id "${4:-31337}" >"$3" 2>&1 &
	APID=$! RPC= au_i=0
	until [ -n "$RPC" ] && "$2" chain-id --rpc-url "$RPC" >/dev/null 2>&1; do
		au_i=$((au_i + 1))
		[ $au_i -le 600 ] && kill -0 "$APID" 2>/dev/null || return 1
		sleep 0.1
		au_port=$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$3" | head -n 1)
		[ -z "$au_port" ] || RPC=http://127.0.0.1:$au_port
	done
}

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

deps_install() {
	missing=""
	for p in $BITS_APT_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	# Keep Debian's i2pd package from starting a system router (it would try
	# to reseed from the real network); our tests run their own.
	policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
		policy=1
	fi
	rc=0
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
		install -y --no-install-recommends $missing >/dev/null 2>&1 || {
		as_root apt-get -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1
		as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
			install -y --no-install-recommends $missing >/dev/null || rc=$?
	}
	[ "$policy" = 1 ] && as_root rm -f /usr/sbin/policy-rc.d
	if command -v systemctl >/dev/null 2>&1; then
		as_root systemctl disable --now i2pd >/dev/null 2>&1 || true
	fi
	return $rc
}
