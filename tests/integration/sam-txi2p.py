#!/usr/bin/python3
# txi2p (the Twisted SAM v3 library Debian packages as python3-txi2p-tahoe),
# unchanged, against a SAM bridge: a SAMI2PStreamServerEndpoint on one
# session and a SAMI2PStreamClientEndpoint on another (each with its own
# SAM bridge address, possibly the same one).  The client sends SIZE random
# bytes behind an 8-byte length; the server checks them, answers with the
# SHA-256 it computed, then SIZE random bytes of its own behind a length and
# their SHA-256; the client checks both.  Prints "OK ..." lines; exit 0
# only when every check passed.
import argparse
import hashlib
import os
import struct
import sys

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint
from txi2p.sam import SAMI2PStreamClientEndpoint, SAMI2PStreamServerEndpoint

RESULT = {"server": None, "client": None}


def fail(msg):
    print("FAIL " + msg, flush=True)
    if reactor.running:
        reactor.stop()


class Framed(protocol.Protocol):
    """Reads an 8-byte length then that many bytes into a SHA-256."""

    def connectionMade(self):
        self.buf = b""
        self.want = None
        self.got = 0
        self.h = hashlib.sha256()

    def dataReceived(self, data):
        if not isinstance(data, bytes):
            fail("%s: got %r, not bytes" % (self.side, type(data)))
            return
        self.buf += data
        while self.buf:
            if self.want is None:
                if len(self.buf) < 8:
                    return
                (self.want,) = struct.unpack(">Q", self.buf[:8])
                self.buf = self.buf[8:]
                continue
            if self.got < self.want:
                take = self.buf[:self.want - self.got]
                self.buf = self.buf[len(take):]
                self.h.update(take)
                self.got += len(take)
                if self.got == self.want:
                    self.payloadDone()
                continue
            self.extra(self.buf)
            self.buf = b""

    def sendPayload(self, size):
        data = os.urandom(size)
        self.sent = hashlib.sha256(data).digest()
        self.transport.write(struct.pack(">Q", size) + data)


class Server(Framed):
    side = "server"

    def payloadDone(self):
        digest = self.h.digest()
        if digest != self.factory.expect[0]:
            fail("server: SHA-256 of the client's bytes differs")
            return
        print("OK server got %d bytes, sha256 %s" % (self.got, digest.hex()),
              flush=True)
        self.transport.write(digest)
        self.sendPayload(self.factory.size)
        self.transport.write(self.sent)
        RESULT["server"] = True

    def extra(self, data):
        fail("server: %d unexpected bytes" % len(data))


class Client(Framed):
    side = "client"

    def connectionMade(self):
        Framed.connectionMade(self)
        self.echo = None
        self.tail = b""
        self.sendPayload(self.factory.size)
        self.factory.expect[0] = self.sent

    def dataReceived(self, data):
        if self.echo is None:
            self.tail += data
            if len(self.tail) < 32:
                return
            self.echo, data = self.tail[:32], self.tail[32:]
            self.tail = b""
            if self.echo != self.sent:
                fail("client: the server's SHA-256 of our bytes differs")
                return
            print("OK client: the server verified our SHA-256", flush=True)
        Framed.dataReceived(self, data)

    def payloadDone(self):
        self.digest = self.h.digest()

    def extra(self, data):
        self.tail += data
        if len(self.tail) < 32:
            return
        if self.tail[:32] != self.digest:
            fail("client: SHA-256 of the server's bytes differs")
            return
        print("OK client got %d bytes, sha256 %s" % (self.got,
                                                     self.digest.hex()),
              flush=True)
        RESULT["client"] = True
        self.transport.loseConnection()
        reactor.callLater(0.2, reactor.stop)


def endpoint(addr):
    host, port = addr.rsplit(":", 1)
    return TCP4ClientEndpoint(reactor, host, int(port), timeout=30)


@defer.inlineCallbacks
def run(args):
    sf = protocol.Factory.forProtocol(Server)
    cf = protocol.Factory.forProtocol(Client)
    expect = [None]
    sf.size = cf.size = args.size
    sf.expect = cf.expect = expect
    opts = {"inbound.length": args.hops, "outbound.length": args.hops}
    server = SAMI2PStreamServerEndpoint.new(
        endpoint(args.sam_server), os.path.join(args.dir, "server.keys"),
        nickname="txi2p-server", options=opts)
    port = yield server.listen(sf)
    dest = port.getHost().destination
    print("OK server session, destination %d chars, b32 %s" %
          (len(dest), port.getHost().host), flush=True)
    client = SAMI2PStreamClientEndpoint.new(
        endpoint(args.sam_client), dest, nickname="txi2p-client",
        options=opts)
    for i in range(args.tries):
        try:
            yield client.connect(cf)
            break
        except Exception as e:
            print("connect try %d: %s" % (i + 1, e), flush=True)
            if i + 1 == args.tries:
                raise
            d = defer.Deferred()
            reactor.callLater(args.retry_delay, d.callback, None)
            yield d
    print("OK client connected", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam-server", required=True, help="HOST:PORT")
    ap.add_argument("--sam-client", required=True, help="HOST:PORT")
    ap.add_argument("--dir", required=True, help="for the server's key file")
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--hops", type=int, default=1)
    ap.add_argument("--tries", type=int, default=1)
    ap.add_argument("--retry-delay", type=float, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    def started():
        d = run(args)
        d.addErrback(lambda f: fail("txi2p: %s" % f.getErrorMessage()))

    reactor.callWhenRunning(started)
    reactor.callLater(args.timeout, fail, "no result within %gs" %
                      args.timeout)
    reactor.run()
    if RESULT["server"] and RESULT["client"]:
        print("OK both ways verified", flush=True)
        return 0
    print("FAIL server=%s client=%s" % (RESULT["server"], RESULT["client"]),
          flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
