#!/bin/sh
# test_ssu2_bob.sh over IPv6: bitsd the introducer of an IPv6-only i2pd
# behind a firewall (by hand, about three minutes).
FAMILY=6 exec sh "${top_srcdir:-.}/tests/integration/test_ssu2_bob.sh"
