#!/bin/sh
# The netDb's SQLite database survives kill -9 during heavy storing
# (issue [D]): after each kill the database opens, passes PRAGMA
# integrity_check, loads without a bad row, and holds at least every
# RouterInfo stored two seconds before the kill.  Three rounds on the same
# database.  No network: netdb_stress feeds the netDb synthetic RouterInfos.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/bits-netdb-persist.XXXXXX")
. "$top_srcdir/tests/integration/i2pd-lib.sh"
STRESS="$top_builddir/tests/integration/netdb_stress"
PID=""
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

# LOSS_MS: how far back from the kill every store must be on disk.
LOSS_MS=2000
for round in 1 2 3; do
	"$STRESS" run "$W/db" >"$W/progress" 2>"$W/stress.err" &
	PID=$!
	# Let it store for a while (at least 3 s, and some hundreds of rows).
	i=0
	while [ $i -lt 120 ]; do
		last=$(tail -n 1 "$W/progress" 2>/dev/null)
		t=${last%% *}; n=${last##* }
		[ -n "$last" ] && [ "$t" -ge $((3000 + round * 500)) ] && [ "$n" -ge 300 ] && break
		sleep 0.25; i=$((i + 1))
	done
	kill -9 "$PID"
	wait "$PID" 2>/dev/null
	PID=""
	last=$(tail -n 1 "$W/progress")
	t_kill=${last%% *}
	stored_kill=${last##* }
	# the count reported LOSS_MS before the last report
	floor=$(awk -v lim=$((t_kill - LOSS_MS)) '$1 <= lim { n = $2 } END { print n + 0 }' "$W/progress")
	if out=$("$STRESS" check "$W/db" 2>"$W/check.err"); then
		ok "round $round: the database opens, passes integrity_check and loads without a bad row"
	else
		bad "round $round: check failed: $out $(cat "$W/check.err")"
	fi
	rows=$(printf '%s\n' "$out" | head -1 | awk '{ print $1 }')
	rows=${rows:-0}
	echo "  round $round: killed at ${t_kill} ms after $stored_kill stores this run; $rows rows on disk"
	if [ "$round" = 1 ]; then base=0; fi
	if [ "$rows" -ge $((base + floor)) ] && [ "$rows" -le $((base + stored_kill + 100)) ]; then
		ok "round $round: at most the last ${LOSS_MS} ms lost ($rows >= $((base + floor)))"
	else
		bad "round $round: $rows rows, expected between $((base + floor)) and $((base + stored_kill))"
	fi
	base=$rows
done
result test_netdb_persist
