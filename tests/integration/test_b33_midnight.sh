#!/bin/sh
# test_proxy_b33 across midnight UTC, when the blinded keys change
# (docs/proxy.md): every process of it (bitsd, i2pd, curl, the test's
# own shell) runs under libfaketime with its wall clock moved so that the
# test starts at 23:57:30 UTC, the monotonic clock left alone; the test
# publishes everything before midnight and fetches after it
# (B33_MIDNIGHT).  So i2pd's encrypted LeaseSets, which end at midnight
# before their inner ones do, are stored at our floodfill before it and
# looked up by our proxy after it; bitsd publishes its own under the new
# day's key at midnight, and r1 (i2pd takes the blinding's date from the
# published time) fetches bitsd's site after it.
. "${top_srcdir:-.}/tests/integration/i2pd-lib.sh"
NAME=test_b33_midnight
FT=
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
	 /usr/lib/*/faketime/libfaketime.so.1; do
	[ -f "$f" ] && { FT=$f; break; }
done
if [ -z "$FT" ]; then
	bad "libfaketime is not installed (tools/check installs the faketime package)"
	result $NAME
	exit 1
fi
# libfaketime 0.9.10 gives the first preloaded process of a tree a POSIX
# shared memory object and semaphore (/dev/shm/faketime_*), removed when
# that process exits, not when it execs or is killed: those this test
# leaves are removed at its end
shm_before=$(ls /dev/shm 2>/dev/null | grep '^\(sem\.\)\{0,1\}faketime_')
now=$(date +%s)
midnight=$(( ((now + 120) / 86400 + 1) * 86400 ))
export LD_PRELOAD="$FT${LD_PRELOAD:+ $LD_PRELOAD}"
export FAKETIME="+$((midnight - 150 - now))s" DONT_FAKE_MONOTONIC=1
export B33_MIDNIGHT=$midnight
# ASan's allocator reads the clock to time its releases to the OS, and
# libfaketime's first clock call allocates: without the timing the two
# do not deadlock (no effect on a build without ASan)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_release_to_os_interval_ms=-1"
start=$(date +%s)
sh "${top_srcdir:-.}/tests/integration/test_proxy_b33.sh"
rc=$?
end=$(date +%s)
unset LD_PRELOAD FAKETIME
for f in $(ls /dev/shm 2>/dev/null | grep '^\(sem\.\)\{0,1\}faketime_'); do
	printf '%s\n' "$shm_before" | grep -qxF "$f" || rm -f "/dev/shm/$f"
done
[ "$start" -lt "$midnight" ] && [ "$end" -gt "$midnight" ] &&
	ok "the run crossed midnight UTC: from $((start - midnight)) s to +$((end - midnight)) s" ||
	bad "the run did not cross midnight UTC ($start to $end, midnight $midnight)"
[ $rc = 0 ] && ok "test_proxy_b33 passed across midnight" ||
	bad "test_proxy_b33 failed across midnight (its lines above)"
result $NAME
