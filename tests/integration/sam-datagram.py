#!/usr/bin/env python3
"""Datagrams between two SAM v3 bridges, for test_datagram_i2pd.sh.

  sam-datagram.py HOST_A:PORT_A HOST_B:PORT_B HOPS TIMEOUT [B_OPTIONS]

On each bridge (its UDP port one below its TCP port) a DATAGRAM session
and a RAW session (TRANSIENT Ed25519 destinations, HOPS-hop tunnels both
ways; B_OPTIONS added to B's SESSION CREATE), created at the same time.  Each side then resolves the other
side's b32 names with NAMING LOOKUP on its own session socket (retried
until the LeaseSet is found), and:

  repliable  A sends to B's DATAGRAM destination; B checks the sender
             named in the datagram is A's destination, and answers to
             that destination; A must get the answer.  Then the same
             from B to A.
  raw        A sends raw datagrams to B's RAW destination, and B to A's.

  sam-datagram.py lookup HOST_A:PORT_A HOST_B:PORT_B TIMEOUT
      a new DATAGRAM session on A; one on B with its default keys
      resolves A's b32 (an i2pd SAM session has ElGamal keys alone by
      default: its lookup asks for an ElGamal/AES reply)

  sam-datagram.py soak HOST_A:PORT_A HOST_B:PORT_B HOPS N SECONDS [B_OPTIONS]
      a DATAGRAM session on each bridge; after they resolve each other,
      N repliable datagrams each way, paced over SECONDS, numbered and
      checksummed; prints per direction how many arrived, were lost,
      came twice or out of order, and fails on a corrupt one, a wrong
      sender, or none arriving

A datagram is resent (a new one) every few seconds until one arrives, as
the tunnels may lose some; every datagram that does arrive must be one
that was sent, byte-exact.  Prints one line per check; exit 0 when all
pass.
"""
import base64, hashlib, os, socket, sys, threading, time

I2P_B64 = bytes.maketrans(b'-~', b'+/')
# how long A looks B's LeaseSet up in the netDb alone
REPUBLISH_S = 60
# every payload sent so far: a late copy of one an earlier step sent (its
# answer repeated, a hello) is skipped, anything else is an error
ALL_SENT = set()


def b32_of(dest_b64):
    raw = base64.b64decode(dest_b64.encode().translate(I2P_B64))
    # the Destination: 384 bytes, then the certificate (type, length)
    cl = int.from_bytes(raw[385:387], 'big')
    h = hashlib.sha256(raw[:387 + cl]).digest()
    return base64.b32encode(h).decode().lower().rstrip('=') + '.b32.i2p'


def field(reply, name):
    for w in reply.split():
        if w.startswith(name + '='):
            return w[len(name) + 1:]
    return None


class Session:
    """A SAM control socket with one DATAGRAM or RAW session and the UDP
    socket its datagrams are forwarded to."""

    def __init__(self, host, port, style, nick, hops, timeout, opts=''):
        self.host, self.port, self.style, self.nick = host, port, style, nick
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(('127.0.0.1', 0))
        # the bridge may not listen yet (i2pd starting)
        end = time.time() + 60
        while True:
            try:
                self.s = socket.create_connection((host, port),
                                                  timeout=timeout)
                break
            except ConnectionRefusedError:
                if time.time() > end:
                    raise
                time.sleep(0.5)
        self.f = self.s.makefile('rb')
        r = self.cmd('HELLO VERSION MIN=3.0 MAX=3.3')
        if 'RESULT=OK' not in r:
            raise RuntimeError('%s HELLO: %s' % (nick, r))
        r = self.cmd('SESSION CREATE STYLE=%s ID=%s DESTINATION=TRANSIENT '
                     'SIGNATURE_TYPE=7 PORT=%d HOST=127.0.0.1 '
                     'inbound.length=%d outbound.length=%d '
                     'inbound.quantity=2 outbound.quantity=2 %s' %
                     (style, nick, self.udp.getsockname()[1], hops, hops,
                      opts))
        if 'RESULT=OK' not in r:
            raise RuntimeError('%s SESSION CREATE: %s' % (nick, r))
        r = self.cmd('NAMING LOOKUP NAME=ME')
        self.dest = field(r, 'VALUE')
        if 'RESULT=OK' not in r or not self.dest:
            raise RuntimeError('%s NAMING LOOKUP ME: %s' % (nick, r))
        self.b32 = b32_of(self.dest)

    def cmd(self, line):
        self.s.sendall(line.encode() + b'\n')
        return self.f.readline().decode().strip()

    def resolve(self, b32, deadline):
        """The Destination behind b32, looked up through this session."""
        while time.time() < deadline:
            r = self.cmd('NAMING LOOKUP NAME=' + b32)
            if 'RESULT=OK' in r and field(r, 'VALUE'):
                return field(r, 'VALUE')
            time.sleep(1)
        raise RuntimeError('%s: NAMING LOOKUP %s never succeeded' %
                           (self.nick, b32))

    def send(self, dest, payload):
        ALL_SENT.add(payload)
        self.udp.sendto(('3.0 %s %s\n' % (self.nick, dest)).encode() +
                        payload, (self.host, self.port - 1))

    def recv(self, wait):
        """(sender Destination or None, payload) or None after wait s."""
        self.udp.settimeout(wait)
        try:
            d, _ = self.udp.recvfrom(65536)
        except socket.timeout:
            return None
        if self.style == 'RAW':
            return None, d
        head, nl, body = d.partition(b'\n')
        if not nl:
            raise RuntimeError('%s: a datagram without its header line' %
                               self.nick)
        return head.split()[0].decode(), body

    def close(self):
        self.s.close()
        self.udp.close()


def exchange(src, dst, to_dest, label, deadline, reply_from=None):
    """src sends to to_dest (dst's destination) until dst gets one; with
    reply_from (src's destination as dst must see it) dst answers to the
    sender it read and src must get the answer.  Returns (sent, got)."""
    sent = {}
    got = 0
    while time.time() < deadline:
        p = b'%s %d ' % (label.encode(), len(sent)) + os.urandom(100 + len(sent))
        sent[p] = True
        src.send(to_dest, p)
        end = time.time() + 4
        while time.time() < end:
            m = dst.recv(max(0.1, end - time.time()))
            if m is None:
                break
            frm, body = m
            if body not in sent and body in ALL_SENT:
                continue	# late: an earlier step's
            if body not in sent:
                raise RuntimeError('%s: a datagram that was not sent: %r' %
                                   (label, body[:40]))
            if reply_from is not None and frm != reply_from:
                raise RuntimeError('%s: the datagram names another sender'
                                   % label)
            got += 1
            if reply_from is None:
                return len(sent), got
            # answer the sender the datagram names
            ans = b'answer ' + body
            while time.time() < deadline:
                dst.send(frm, ans)
                a = src.recv(4)
                if a is not None and a[1] != ans and a[1] in ALL_SENT:
                    continue	# late: an earlier step's
                if a is not None:
                    if a[1] != ans or a[0] != to_dest:
                        raise RuntimeError('%s: a wrong answer: %r' %
                                           (label, a[1][:40]))
                    return len(sent), got
        # nothing yet: send another
    raise RuntimeError('%s: nothing arrived (%d sent)' % (label, len(sent)))


def lookup_only(hpa, hpb, timeout):
    ha, pa = hpa.rsplit(':', 1)
    hb, pb = hpb.rsplit(':', 1)
    a = Session(ha, int(pa), 'DATAGRAM', 'new', 1, timeout, '')
    s = None
    try:
        s = Session(hb, int(pb), 'DATAGRAM', 'elg', 1, timeout, '')
        t0 = time.time()
        d = s.resolve(a.b32, time.time() + timeout)
        if d != a.dest:
            print('FAIL %s resolved to another Destination' % a.b32)
            return 1
        print('ok   %s resolved by a session with default keys (%.1f s)' %
              (a.b32, time.time() - t0))
        return 0
    finally:
        a.close()
        if s:
            s.close()


def soak(hpa, hpb, hops, n, secs, bopts):
    ha, pa = hpa.rsplit(':', 1)
    hb, pb = hpb.rsplit(':', 1)
    timeout = 600
    a = Session(ha, int(pa), 'DATAGRAM', 'soaka', hops, timeout, '')
    b = Session(hb, int(pb), 'DATAGRAM', 'soakb', hops, timeout, bopts)
    deadline = time.time() + timeout
    da = b.resolve(a.b32, deadline)
    db = a.resolve(b.b32, deadline)
    # a first datagram each way, so both sessions and LeaseSets are up;
    # with SOAK_RACE set, none: both sides' first messages (each an NS)
    # cross on the way, the NS/NS race of the ecies spec
    if not os.environ.get('SOAK_RACE'):
        exchange(a, b, db, 'warm A->B', deadline)
        exchange(b, a, da, 'warm B->A', deadline)
    stats = {}
    errs = []

    def sender(src, to, tag):
        t0 = time.time()
        for i in range(n):
            body = os.urandom(150)
            p = b'%s %d ' % (tag, i) + hashlib.sha256(body).digest()[:8] + body
            src.udp.sendto(('3.0 %s %s\n' % (src.nick, to)).encode() + p,
                           (src.host, src.port - 1))
            ahead = t0 + secs * (i + 1) / n - time.time()
            if ahead > 0:
                time.sleep(ahead)

    def receiver(dst, tag, want_from, end):
        seen, dup, ooo, last = set(), 0, 0, -1
        while time.time() < end[0]:
            m = dst.recv(1)
            if m is None:
                continue
            frm, body = m
            if not body.startswith(tag + b' '):
                continue	# a warm-up straggler
            if frm != want_from:
                errs.append('%s: a wrong sender' % tag.decode())
                continue
            try:
                _, i, rest = body.split(b' ', 2)
                i = int(i)
            except ValueError:
                errs.append('%s: a corrupt datagram' % tag.decode())
                continue
            if hashlib.sha256(rest[8:]).digest()[:8] != rest[:8]:
                errs.append('%s: a corrupt datagram %d' % (tag.decode(), i))
                continue
            if i in seen:
                dup += 1
            else:
                seen.add(i)
            if i < last:
                ooo += 1
            last = max(last, i)
        stats[tag] = (len(seen), dup, ooo)

    end = [time.time() + secs + 3600]
    t0 = time.time()
    rs = [threading.Thread(target=receiver, args=(b, b'AB', a.dest, end)),
          threading.Thread(target=receiver, args=(a, b'BA', b.dest, end))]
    ss = [threading.Thread(target=sender, args=(a, db, b'AB')),
          threading.Thread(target=sender, args=(b, da, b'BA'))]
    for x in rs + ss:
        x.start()
    for x in ss:
        x.join()
    sent_s = time.time() - t0
    end[0] = time.time() + 30	# stragglers
    for x in rs:
        x.join()
    a.close()
    b.close()
    ok = not errs
    for tag, name in ((b'AB', 'A -> B'), (b'BA', 'B -> A')):
        got, dup, ooo = stats.get(tag, (0, 0, 0))
        print('%s   soak %s: %d sent in %.0f s, %d arrived (%.3f %% lost), '
              '%d twice, %d out of order' %
              ('ok' if got else 'FAIL', name, n, sent_s, got,
               100.0 * (n - got) / n, dup, ooo))
        ok = ok and got > 0
    for e in errs[:5]:
        print('FAIL', e)
    return 0 if ok else 1


def main():
    if len(sys.argv) in (7, 8) and sys.argv[1] == 'soak':
        try:
            return soak(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                        int(sys.argv[5]), float(sys.argv[6]),
                        sys.argv[7] if len(sys.argv) > 7 else '')
        except (RuntimeError, OSError) as e:
            print('FAIL', e)
            return 1
    if len(sys.argv) == 5 and sys.argv[1] == 'lookup':
        try:
            return lookup_only(sys.argv[2], sys.argv[3],
                               float(sys.argv[4]))
        except (RuntimeError, OSError) as e:
            print('FAIL', e)
            return 1
    if len(sys.argv) not in (5, 6):
        print(__doc__)
        return 2
    ha, pa = sys.argv[1].rsplit(':', 1)
    hb, pb = sys.argv[2].rsplit(':', 1)
    hops, timeout = int(sys.argv[3]), float(sys.argv[4])
    bopts = sys.argv[5] if len(sys.argv) > 5 else ''
    deadline = time.time() + timeout
    specs = {'a_dg': (ha, int(pa), 'DATAGRAM'), 'a_raw': (ha, int(pa), 'RAW'),
             'b_dg': (hb, int(pb), 'DATAGRAM'), 'b_raw': (hb, int(pb), 'RAW')}
    sess, errs = {}, []

    def create(nick):
        h, p, st = specs[nick]
        try:
            sess[nick] = Session(h, p, st, nick, hops, timeout,
                                 bopts if nick.startswith('b') else '')
        except (RuntimeError, OSError) as e:
            errs.append('%s: %s' % (nick, e))
    t0 = time.time()
    th = [threading.Thread(target=create, args=(n,)) for n in specs]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if errs:
        for e in errs:
            print('FAIL session:', e)
        return 1
    print('ok   4 sessions with %d-hop tunnels in %.1f s' % (hops, time.time() - t0))
    try:
        # each side resolves the other's b32 names through its own
        # sessions: B first (its lookups reach A's router, a floodfill,
        # when A is bitsd), then A.  i2pd gives its LeaseSet store up
        # when the confirmation comes later than its 5 s (a loaded
        # machine): when A has not found B's after REPUBLISH_S, B sends
        # to A now and then, and the LeaseSet bundled in its garlic
        # lets A resolve the name.
        got, how = {}, {}

        def res(nick, other):
            try:
                s, o = sess[nick], sess[other]
                if nick.startswith('b'):
                    got[nick] = s.resolve(o.b32, deadline)
                    return
                try:
                    got[nick] = s.resolve(o.b32, min(deadline, time.time() +
                                                     REPUBLISH_S))
                    how[nick] = 'from the netDb'
                    return
                except RuntimeError:
                    pass
                while time.time() < deadline:
                    o.send(got[other], b'hello from ' + other.encode())
                    try:
                        got[nick] = s.resolve(o.b32, time.time() + 5)
                        how[nick] = 'bundled by ' + other
                        return
                    except RuntimeError:
                        pass
                raise RuntimeError('%s: NAMING LOOKUP %s never succeeded' %
                                   (nick, o.b32))
            except (RuntimeError, OSError) as e:
                errs.append(str(e))

        def run(pairs):
            th = [threading.Thread(target=res, args=p) for p in pairs]
            for t in th:
                t.start()
            for t in th:
                t.join()
        t0 = time.time()
        run([('b_dg', 'a_dg'), ('b_raw', 'a_raw')])
        if not errs:
            print('ok   B resolved A\'s b32 LeaseSets (%.1f s)' %
                  (time.time() - t0))
            t0 = time.time()
            run([('a_dg', 'b_dg'), ('a_raw', 'b_raw')])
        if errs:
            for e in errs:
                print('FAIL lookup:', e)
            return 1
        for n, o in (('a_dg', 'b_dg'), ('b_dg', 'a_dg'), ('a_raw', 'b_raw'),
                     ('b_raw', 'a_raw')):
            if got[n] != sess[o].dest:
                print('FAIL %s resolved %s to another Destination' %
                      (n, sess[o].b32))
                return 1
        print('ok   A resolved B\'s b32 LeaseSets (%.1f s; DATAGRAM %s, '
              'RAW %s)' % (time.time() - t0, how['a_dg'], how['a_raw']))
        a, b = sess['a_dg'], sess['b_dg']
        n, g = exchange(a, b, got['a_dg'], 'repliable A->B', deadline,
                        reply_from=a.dest)
        print('ok   repliable A -> B (%d sent, %d arrived) and the answer '
              'to the sender it names' % (n, g))
        n, g = exchange(b, a, got['b_dg'], 'repliable B->A', deadline,
                        reply_from=b.dest)
        print('ok   repliable B -> A (%d sent, %d arrived) and the answer '
              'to the sender it names' % (n, g))
        a, b = sess['a_raw'], sess['b_raw']
        n, g = exchange(a, b, got['a_raw'], 'raw A->B', deadline)
        print('ok   raw A -> B (%d sent, %d arrived)' % (n, g))
        n, g = exchange(b, a, got['b_raw'], 'raw B->A', deadline)
        print('ok   raw B -> A (%d sent, %d arrived)' % (n, g))
    except (RuntimeError, OSError) as e:
        print('FAIL', e)
        return 1
    finally:
        for s in sess.values():
            s.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
