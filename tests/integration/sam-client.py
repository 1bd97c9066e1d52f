#!/usr/bin/env python3
"""SAM v3 client steps for tests/integration/test_sam_i2pd.sh.

  sam-client.py connect SAMPORT B32 NBYTES TIMEOUT
      a STREAM session on SAMPORT; NAMING LOOKUP of B32 (retried until
      found), STREAM CONNECT to it (retried while the peer is not
      reachable yet), NBYTES random bytes out, the same bytes expected
      back (an echo server behind the destination)
  sam-client.py accept SAMPORT ADDRFILE TCPHOST TCPPORT NBYTES TIMEOUT
      a STREAM session; its b32 written to ADDRFILE; STREAM ACCEPT while
      a thread connects to TCPHOST:TCPPORT (an i2pd client tunnel to it,
      retried), sends NBYTES, and reads them back echoed by us
  sam-client.py datagram SAMPORT SAMHOST2 SAMPORT2 UDPPORT2 TIMEOUT
      a DATAGRAM session on each bridge (ours on 127.0.0.1:SAMPORT, i2pd's
      on SAMHOST2:SAMPORT2 with its UDP port UDPPORT2), datagrams both
      ways, each repeated until one arrives
Exit 0 on success; prints what happened.
"""
import base64, hashlib, os, socket, sys, threading, time

I2P_B64 = bytes.maketrans(b'-~', b'+/')
# one-hop tunnels (the testnet has 5 routers); SAM_HOPS, by hand, for
# another length (0: zero-hop)
SHORT_TUNNELS = ('inbound.length={0} outbound.length={0} inbound.quantity=2 '
                 'outbound.quantity=2').format(os.environ.get('SAM_HOPS', '1'))


def b32_of(dest_b64):
    raw = base64.b64decode(dest_b64.encode().translate(I2P_B64))
    # the Destination: 384 bytes, then the certificate (type, length)
    cl = int.from_bytes(raw[385:387], 'big')
    h = hashlib.sha256(raw[:387 + cl]).digest()
    return base64.b32encode(h).decode().lower().rstrip('=') + '.b32.i2p'


class Sam:
    def __init__(self, host, port, timeout):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.f = self.s.makefile('rb')
        r = self.cmd('HELLO VERSION MIN=3.0 MAX=3.3')
        if 'RESULT=OK' not in r:
            raise RuntimeError('HELLO: ' + r)

    def cmd(self, line):
        self.s.sendall(line.encode() + b'\n')
        r = self.f.readline().decode().strip()
        return r

    def close(self):
        self.s.close()


def field(reply, name):
    for w in reply.split():
        if w.startswith(name + '='):
            return w[len(name) + 1:]
    return None


def lookup(port, name, deadline):
    while time.time() < deadline:
        c = Sam('127.0.0.1', port, 30)
        r = c.cmd('NAMING LOOKUP NAME=' + name)
        c.close()
        if 'RESULT=OK' in r:
            return field(r, 'VALUE')
        time.sleep(1)
    raise RuntimeError('NAMING LOOKUP of %s never succeeded' % name)


def stream_session(port, name):
    sess = Sam('127.0.0.1', port, 60)
    r = sess.cmd('SESSION CREATE STYLE=STREAM ID=%s DESTINATION=TRANSIENT '
                 'SIGNATURE_TYPE=7 %s' % (name, SHORT_TUNNELS))
    if 'RESULT=OK' not in r:
        raise RuntimeError('SESSION CREATE: ' + r)
    return sess


def my_dest(sess):
    # the public Destination (SESSION STATUS names the private keys)
    r = sess.cmd('NAMING LOOKUP NAME=ME')
    me = field(r, 'VALUE')
    if 'RESULT=OK' not in r or not me:
        raise RuntimeError('NAMING LOOKUP ME: ' + r)
    return me


def recv_exact(s, n, deadline):
    buf = bytearray()
    while len(buf) < n:
        s.settimeout(max(1.0, deadline - time.time()))
        d = s.recv(min(65536, n - len(buf)))
        if not d:
            break
        buf += d
    return bytes(buf)


def do_connect(port, b32, n, timeout):
    deadline = time.time() + timeout
    sess = stream_session(port, 'cli')
    dest = lookup(port, b32, deadline)
    print('looked up', b32)
    tries = 0
    while True:
        tries += 1
        c = Sam('127.0.0.1', port, 120)
        try:
            r = c.cmd('STREAM CONNECT ID=cli DESTINATION=%s SILENT=false'
                      % dest)
        except socket.timeout:
            r = 'no reply in 120 s'
        if 'RESULT=OK' in r:
            break
        c.close()
        if time.time() > deadline:
            raise RuntimeError('STREAM CONNECT: ' + r)
        time.sleep(2)
    print('connected after %d tries' % tries)
    data = os.urandom(n)
    t = threading.Thread(target=c.s.sendall, args=(data,))
    t.start()
    got = recv_exact(c.s, n, deadline)
    t.join()
    c.close()
    sess.close()
    if got != data:
        raise RuntimeError('echo mismatch: %d of %d bytes back' % (len(got), n))
    print('echoed %d bytes byte-exact' % n)


def do_accept(port, addrfile, host, tport, n, timeout):
    deadline = time.time() + timeout
    sess = stream_session(port, 'srv')
    me = my_dest(sess)
    with open(addrfile + '.tmp', 'w') as f:
        f.write(b32_of(me) + '\n')
    os.rename(addrfile + '.tmp', addrfile)
    data = os.urandom(n)
    result = {}

    def client():
        # i2pd's client tunnel: retried until a connection carries data
        while time.time() < deadline:
            try:
                s = socket.create_connection((host, tport), timeout=30)
                s.sendall(data)
                got = recv_exact(s, n, deadline)
                s.close()
                if got:
                    result['got'] = got
                    return
            except OSError:
                pass
            time.sleep(2)

    th = threading.Thread(target=client, daemon=True)
    th.start()
    while time.time() < deadline:
        a = Sam('127.0.0.1', port, None)
        r = a.cmd('STREAM ACCEPT ID=srv SILENT=false')
        if 'RESULT=OK' not in r:
            raise RuntimeError('STREAM ACCEPT: ' + r)
        a.s.settimeout(max(1.0, deadline - time.time()))
        peer = a.f.readline()	# the peer's Destination
        if not peer:
            a.close()
            continue
        # echo what arrives until the peer closes or all came back
        echoed = 0
        while echoed < n:
            try:
                d = a.f.read1(65536)
            except OSError:
                break
            if not d:
                break
            a.s.sendall(d)
            echoed += len(d)
        th.join(max(1.0, deadline - time.time()))
        a.close()
        if 'got' in result:
            break
    sess.close()
    if result.get('got') != data:
        raise RuntimeError('i2pd client got %d of %d bytes back, or others' %
                           (len(result.get('got', b'')), n))
    print('accepted an i2pd stream and echoed %d bytes byte-exact' % n)


def dg_session(host, port, name, udp):
    # i2pd answers SESSION CREATE once its tunnels are built
    s = Sam(host, port, 240)
    r = s.cmd('SESSION CREATE STYLE=DATAGRAM ID=%s DESTINATION=TRANSIENT '
              'SIGNATURE_TYPE=7 PORT=%d HOST=127.0.0.1 %s' %
              (name, udp.getsockname()[1], SHORT_TUNNELS))
    if 'RESULT=OK' not in r:
        raise RuntimeError('%s SESSION CREATE: %s' % (name, r))
    return s, my_dest(s)


def dg_exchange(sender_udp, to_addr, nick, dest, recv_udp, want_from, deadline):
    payload = os.urandom(200)
    while time.time() < deadline:
        sender_udp.sendto(('3.0 %s %s\n' % (nick, dest)).encode() + payload, to_addr)
        recv_udp.settimeout(3)
        try:
            d, _ = recv_udp.recvfrom(65536)
        except socket.timeout:
            continue
        head, _, body = d.partition(b'\n')
        if body == payload and head.split()[0].decode() == want_from:
            return True
        print('unexpected datagram: %r... (%d bytes)' % (d[:40], len(d)))
    return False


def do_datagram(port, host2, port2, udp2, timeout):
    deadline = time.time() + timeout
    ua = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ua.bind(('127.0.0.1', 0))
    ub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ub.bind(('127.0.0.1', 0))
    a, da = dg_session('127.0.0.1', port, 'dga', ua)
    b, db = dg_session(host2, port2, 'dgb', ub)
    # our bridge's UDP port (the test passes it)
    ours_udp = int(os.environ.get('BITS_SAM_UDP', '0'))
    ok1 = dg_exchange(ub, (host2, udp2), 'dgb', da, ua, db, deadline)
    print('i2pd -> bitsd repliable datagram:', 'ok' if ok1 else 'FAILED')
    ok2 = ok1 and dg_exchange(ua, ('127.0.0.1', ours_udp), 'dga', db, ub, da,
                              deadline)
    print('bitsd -> i2pd repliable datagram:', 'ok' if ok2 else 'FAILED')
    a.close()
    b.close()
    if not (ok1 and ok2):
        raise RuntimeError('datagram exchange failed')


def main():
    a = sys.argv[1:]
    try:
        if a[0] == 'connect':
            do_connect(int(a[1]), a[2], int(a[3]), float(a[4]))
        elif a[0] == 'accept':
            do_accept(int(a[1]), a[2], a[3], int(a[4]), int(a[5]), float(a[6]))
        elif a[0] == 'datagram':
            do_datagram(int(a[1]), a[2], int(a[3]), int(a[4]), float(a[5]))
        else:
            print(__doc__)
            return 2
    except (RuntimeError, OSError) as e:
        print('error: %s: %s' % (type(e).__name__, e))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
