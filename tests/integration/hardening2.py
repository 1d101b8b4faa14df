#!/usr/bin/env python3
"""Loopback clients for hardening2.sh (issue 24). Each mode is bounded.

starve PORT USER PW: 24 addresses (127.0.0.10..33) send wrong passwords
without pause; once every one of them has had a wrong password answered 401
(so each is an address with a recent failure) and the queue is seen full
(a 429), the first login of USER from 127.0.0.200 must be answered 200.

slow PORT: 256 addresses (127.0.1.0..255) open 8 connections each that send
half a request line and then nothing; a scrape from 127.0.0.250 must be
answered 200 while they hold on.
"""
import os
import sys
import threading
import time

from rawhttp import basic, conn, exit_code, ok, request

def starve(port, user, pw):
    addrs = ["127.0.0.%d" % i for i in range(10, 34)]
    done = threading.Event()
    deadline = time.monotonic() + 60
    lock = threading.Lock()
    denied = set()
    statuses = {}
    ready = threading.Event()

    def attacker(src):
        i = 0
        while not done.is_set() and time.monotonic() < deadline:
            name = user if i % 2 else "nosuchuser%d" % i
            st, _, _ = request(port, src, basic(name, "wrong-" + os.urandom(4).hex()), 10)
            i += 1
            with lock:
                statuses[st] = statuses.get(st, 0) + 1
                if st == 401:
                    denied.add(src)
                if len(denied) == len(addrs) and statuses.get(429, 0) > 0:
                    ready.set()

    threads = [threading.Thread(target=attacker, args=(a,), daemon=True) for a in addrs]
    for t in threads:
        t.start()
    ready.wait(50)
    ok(ready.is_set(), "%d attacking addresses each had a wrong password refused, queue full "
       "(answers so far %s)" % (len(addrs), statuses))
    st, dt, _ = request(port, "127.0.0.200", basic(user, pw), 30)  # 30 s: a hang bound
    with lock:
        during = dict(statuses)
    done.set()
    for t in threads:
        t.join(15)
    ok(st == 200, "first login from a fresh address during the flood: %d in %.3f s "
       "(attackers' answers %s)" % (st, dt, during))
    ok(set(during) <= {401, 429}, "wrong passwords answered only 401 or 429 (%s)" % during)


def slow(port):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    socks = []
    addrs = ["127.0.1.%d" % i for i in range(256)]
    for rnd in range(8):
        for a in addrs:
            try:
                s = conn(port, a, 5)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHo")
                socks.append(s)
            except OSError:
                pass
    ok(len(socks) >= 1024, "%d slow connections made from %d addresses" % (len(socks), len(addrs)))
    st, dt, _ = request(port, "127.0.0.250", b"", 10)  # 10 s: a hang bound, ten times the goal
    ok(st == 200, "scrape while %d slow connections are held: %d in %.3f s" % (len(socks), st, dt))
    for s in socks:
        s.close()


def probe(port):
    """Four scrapes (each a long collection) are sent first; probes follow,
    one at a time, until a scrape's answer begins. At least one probe must be
    answered 200 before that: probes do not wait behind collections."""
    import select
    scr = []
    for i in range(4):
        s = conn(port, "127.0.0.%d" % (40 + i), 120)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        scr.append(s)
    before = 0
    statuses = []
    deadline = time.monotonic() + 120  # a hang bound
    while time.monotonic() < deadline:
        r, _, _ = select.select(scr, [], [], 0)
        if r:
            break
        st, _, _ = probe_once(port)
        statuses.append(st)
        r, _, _ = select.select(scr, [], [], 0)
        if r:
            break  # answered, but maybe after a scrape: not counted
        before += st == 200
    codes = []
    for s in scr:
        data = b""
        while time.monotonic() < deadline:
            b = s.recv(1 << 20)
            if not b:
                break
            data += b
        s.close()
        codes.append(data[:12])
    ok(before >= 1, "%d probes answered 200 while 4 scrapes were being collected (probe answers %s)"
       % (before, statuses[:10]))
    ok(all(c.startswith(b"HTTP/1.1 200") for c in codes), "the 4 scrapes answered 200 (%s)" % codes)


def probe_once(port):
    return request(port, "127.0.0.44", b"", 120, b"/-/healthy")


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "starve":
        starve(port, sys.argv[3], sys.argv[4])
    elif mode == "probe":
        probe(port)
    elif mode == "slow":
        slow(port)
    sys.exit(exit_code())
