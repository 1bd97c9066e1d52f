"""The acceptance suite's reads of the payment hub, straight over JSON-RPC
(a cast process an address took minutes a pass on a loaded machine).

    hub.py RPC HUB word SIG ADDR   the first word of SIG(ADDR) as a number
    hub.py RPC HUB sums ADDR...    "hub-balances ETH-balances" summed over
                                   the addresses, in one batch of calls

SIG is one of SELECTORS; "-" is printed where the node did not answer.
acceptance.sh's own Python imports word() from here as well.
"""
import json
import sys
import urllib.request

# the hub's public mappings the suite reads (cast sig 'balances(address)')
SELECTORS = {"balances(address)": "0x27e235e3", "pots(address)": "0xac71df7f"}


def _rpc(url, body, timeout=60):
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=timeout))


def _call(hub, sig, addr, rid=1):
    data = SELECTORS[sig] + addr.lower().removeprefix("0x").rjust(64, "0")
    return {"jsonrpc": "2.0", "id": rid, "method": "eth_call",
            "params": [{"to": hub, "data": data}, "latest"]}


def word(rpc, hub, sig, addr):
    """The first 32-byte word SIG(addr) returns (a struct's first field)."""
    return int(_rpc(rpc, _call(hub, sig, addr), 20)["result"][2:66], 16)


def sums(rpc, hub, addrs):
    """(hub balances, ETH balances) summed over addrs."""
    calls = []
    for a in addrs:
        calls.append(_call(hub, "balances(address)", a, len(calls)))
        calls.append({"jsonrpc": "2.0", "id": len(calls),
                      "method": "eth_getBalance", "params": [a, "latest"]})
    total = [0, 0]
    for r in _rpc(rpc, calls) if calls else []:
        total[r["id"] % 2] += int(r["result"], 16)
    return tuple(total)


def main(argv):
    rpc, hub, what, args = argv[1], argv[2], argv[3], argv[4:]
    try:
        if what == "word" and len(args) == 2:
            print(word(rpc, hub, args[0], args[1]))
        elif what == "sums":
            print(*sums(rpc, hub, args))
        else:
            sys.exit(__doc__)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print("-")
        print("hub.py %s: %s" % (what, e), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
