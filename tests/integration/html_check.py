#!/usr/bin/env python3
"""Check one page of kmemtop --html against kmemtop --json of the same input.

Usage: html_check.py PAGE JSON [--memtotal BYTES] [--screenshot PNG]
                     [--noscript] [--max-bytes N] [--min-cgroups N]
                     [--series-dir DIR [--min-tops N]] [--verdicts JSON [--min-verdicts N]]

Prints TAP-ish "ok - ..." / "not ok - ..." lines (tests/run.sh counts them):

- static: no reference to any network address or other file (http(s)://,
  protocol-relative //host, src=, href=, url(), @import, <link>);
- every colour pair of the CSS (a rule with both color and background) has a
  WCAG contrast of at least 4.5:1, and every class a box uses has such a rule;
- headless Chromium loads the file with every request sent to a proxy that
  this script listens on (so any request at all is seen and counted): no
  request, no script error (window errors, console errors), the script ran;
- the DOM's figures equal the JSON's: every node kind, every slab cache,
  every cgroup and every leaf cgroup's kernel parts (counts asserted);
- with --series-dir (DIR/<ns>.json: --replay --at each sample's time
  --json), every sample of the growth table, and the top growing caches and
  cgroups (first, last, growth, growth per hour; at least --min-tops of
  them) against the first and last samples;
- with --verdicts, the leak verdicts and OOM kills against --window --json;
- with --screenshot, a 1280x800 screenshot; with --noscript, the page with
  scripts off still has every positioned box.
"""
import html.parser
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

from kt_format import human, human_delta

failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc)
    if not cond:
        failed = True
    return cond


class Dom(html.parser.HTMLParser):
    """Rows (tr data-k), boxes (div.b) and the body's attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows = {}  # key -> {"b": bytes, "cells": [...]}
        self.samples = []  # growth table rows: {"t": ns, "b": kernel, "kinds": {key: bytes}}
        self.tops = {}  # top growers: key -> (first, last, [cells])
        self._top = None
        self.verdicts = {}  # "verdict:SUBJECT:NAME" -> (verdict, growth)
        self.ooms = []  # OOM kills: times
        self.row_keys = []
        self.boxes = []  # dicts of attributes
        self.body = {}
        self.styles = []
        self._row = None
        self._cell = None
        self._in_style = False
        self.section = ""
        self.rows_i = {}  # (section, data-i) -> row

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id", "")
        if tag == "body":
            self.body = a
        elif tag == "style":
            self._in_style = True
            self.styles.append("")
        elif tag == "tr" and "data-t" in a:
            self.samples.append({"t": int(a["data-t"]), "b": int(a["data-b"]), "kinds": {}})
        elif tag == "td" and "data-k" in a and self.samples:
            self.samples[-1]["kinds"][a["data-k"]] = int(a["data-b"])
        elif tag == "tr" and "data-verdict" in a:
            self.verdicts[a["data-k"]] = (a["data-verdict"], int(a["data-growth"]))
        elif tag == "tr" and "data-oom-t" in a:
            self.ooms.append(int(a["data-oom-t"]))
        elif tag == "tr" and "data-first" in a:
            self._top = (a["data-k"], int(a["data-first"]), int(a["data-last"]), [])
        elif tag == "tr" and "data-k" in a:
            k = a["data-k"]
            parent = self.rows_i.get((self.section, a.get("data-p")))
            if self.section == "cgroups" and not k.startswith("cg:") and parent:
                # The cgroup table leaves out the path of the cgroup above (html.c row_key).
                up = parent
                while up and not up["k"].startswith("cg:"):
                    up = self.rows_i.get((self.section, up["p"]))
                path = up["k"][3:] if up else ""
                k = k.replace("::", ":" + path + ":", 1) if "::" in k else k + path if k.endswith(":") else k
            self._row = {"k": k, "b": a.get("data-b"), "cells": [],
                         "i": (self.section, a.get("data-i")), "p": a.get("data-p")}
            self.rows_i[self._row["i"]] = self._row
        elif tag == "td" and (self._row is not None or self._top is not None):
            self._cell = ""
        elif tag == "div" and "b" in a.get("class", "").split():
            a["section"] = self.section
            self.boxes.append(a)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        elif tag == "td" and self._top is not None and self._cell is not None:
            self._top[3].append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._top is not None:
            self.tops[self._top[0]] = self._top[1:]
            self._top = None
        elif tag == "tr" and self._row is not None:
            self.rows.setdefault(self._row["k"], self._row)
            self.row_keys.append(self._row["k"])
            self._row = None

    def handle_data(self, data):
        if self._in_style:
            self.styles[-1] += data
        if self._cell is not None:
            self._cell += data


def parse(text):
    d = Dom()
    d.feed(text)
    return d


# ---- static checks -------------------------------------------------------------

NETWORK = [
    (r"https?:", "http: or https: URL"),
    (r"(?<![:/\w])//[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]", "protocol-relative //host"),
    (r"\b(?:src|href|action|srcset|poster)\s*=", "attribute that loads something"),
    (r"url\(", "CSS url()"),
    (r"@import", "CSS @import"),
    (r"<(?:link|iframe|object|embed|img|audio|video|source)\b", "element that loads"),
    (r"\b(?:fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon)\b", "script request"),
]


def static_checks(text, size, max_bytes):
    for pat, what in NETWORK:
        m = re.search(pat, text, re.I)
        ok(m is None, "the page has no %s%s" % (what, "" if m is None else
                                                 ": ..." + text[max(0, m.start() - 40):m.end() + 40]))
    if max_bytes:
        ok(size <= max_bytes, "page size %d bytes <= %d" % (size, max_bytes))


def luminance(hexrgb):
    c = [int(hexrgb[i:i + 2], 16) / 255.0 for i in (0, 2, 4)]
    c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def contrast(a, b):
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def contrast_checks(dom):
    css = "".join(dom.styles)
    pairs = 0
    bad = []
    classes = set()
    for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        fg = re.search(r"(?:^|;)\s*color:\s*#([0-9a-fA-F]{6})", body)
        bg = re.search(r"background:\s*#([0-9a-fA-F]{6})", body)
        if not (fg and bg):
            continue
        pairs += 1
        r = contrast(fg.group(1), bg.group(1))
        if r < 4.5:
            bad.append("%s %.2f" % (sel.strip(), r))
        m = re.fullmatch(r"\s*\.(c\d+t\d+)\s*", sel)
        if m:
            classes.add(m.group(1))
    ok(pairs >= 30 and not bad,
       "text contrast >= 4.5:1 in all %d colour pairs of the CSS%s" % (pairs, (": " + ", ".join(bad)) if bad else ""))
    used = set()
    for b in dom.boxes:
        used |= {c for c in b.get("class", "").split() if re.fullmatch(r"c\d+t\d+", c)}
    ok(used and used <= classes,
       "every box colour class has a checked rule (%d used, missing: %s)" % (len(used), sorted(used - classes)))


# Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB.
CVD = {
    "normal vision": None,
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}


def lab(hexrgb, m):
    """CIE L*a*b* (D65) of a colour as a reader with the deficiency @m sees it."""
    c = [int(hexrgb[i:i + 2], 16) / 255.0 for i in (0, 2, 4)]
    c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
    if m:
        c = [max(0.0, min(1.0, sum(m[i][j] * c[j] for j in range(3)))) for i in range(3)]
    x = (0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2]) / 0.95047
    y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    z = (0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2]) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return (116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2]))


def colour_blind_checks(text, dom):
    """Every two colours of the legends stay apart (CIE76 distance >= 10) for every reader."""
    css = "".join(dom.styles)
    rule = dict(re.findall(r"\.(c\d+t0)\{background:#([0-9a-fA-F]{6})", css))
    legend = {}
    for cls, name in re.findall(r'<span class="sw (c\d+t0)"></span>([^<]+)', text):
        legend[name] = rule.get(cls)
    for hexrgb, name in re.findall(r'<span class="sw" style="background:#([0-9a-fA-F]{6})"></span>([^<]+)', text):
        legend[name] = hexrgb
    missing = [n for n, c in legend.items() if c is None]
    colours = sorted(set(c.lower() for c in legend.values() if c))
    worst = (1e9, "", "", "")
    for name, m in CVD.items():
        labs = {c: lab(c, m) for c in colours}
        for i, a in enumerate(colours):
            for b in colours[i + 1:]:
                d = sum((p - q) ** 2 for p, q in zip(labs[a], labs[b])) ** 0.5
                if d < worst[0]:
                    worst = (d, a, b, name)
    ok(len(colours) >= 8 and not missing and worst[0] >= 10,
       "the %d legend colours stay apart for colour-blind readers (closest: #%s and #%s, "
       "distance %.1f, %s)%s" % (len(colours), worst[1], worst[2], worst[0], worst[3],
                                 "; no colour for " + ", ".join(missing) if missing else ""))


# ---- the browser ------------------------------------------------------------------


# Chromium's own background services (update checks, sign-in, time), which
# it contacts whatever the page: requests to them are not the page's.
CHROMIUM_OWN = re.compile(rb"^(?:CONNECT |[A-Z]+ https?://)(?:update\.googleapis\.com|accounts\.google\.com|"
                          rb"clients\d*\.google\.com|optimizationguide-pa\.googleapis\.com|"
                          rb"content-autofill\.googleapis\.com|safebrowsing\.googleapis\.com|"
                          rb"redirector\.gvt1\.com|www\.gstatic\.com)[:/]")


class Trap:
    """A TCP listener used as Chromium's proxy: every connection is a request."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.own = 0
        self.first = b""
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(2)
            try:
                data = c.recv(300).split(b"\r\n")[0]
            except OSError:
                data = b"(nothing read)"
            if CHROMIUM_OWN.match(data):
                self.own += 1
            else:
                self.hits += 1
                if not self.first:
                    self.first = data
            c.close()


def chromium(trap, page, extra):
    prof = tempfile.mkdtemp(prefix="kmem-html-chromium.")
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", "--user-data-dir=" + prof,
           "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
           "--disable-client-side-phishing-detection", "--disable-default-apps", "--no-pings",
           "--disable-domain-reliability", "--safebrowsing-disable-auto-update",
           "--proxy-server=127.0.0.1:%d" % trap.port, "--proxy-bypass-list=<-loopback>",
           "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
           "--virtual-time-budget=3000"] + extra + ["file://" + os.path.abspath(page)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(prof, ignore_errors=True)
    return p


class Cdp:
    """Chromium driven over --remote-debugging-pipe (fds 3 and 4, NUL-ended JSON)."""

    def __init__(self, trap, extra=()):
        import base64  # noqa: F401 (used by callers through screenshot())
        self.prof = tempfile.mkdtemp(prefix="kmem-html-cdp.")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        os.set_inheritable(to_r, True)
        os.set_inheritable(from_w, True)
        cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--user-data-dir=" + self.prof,
               "--proxy-server=127.0.0.1:%d" % trap.port, "--proxy-bypass-list=<-loopback>",
               "--remote-debugging-pipe", "--hide-scrollbars", "--window-size=1280,800"] + list(extra)

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.p = subprocess.Popen(cmd + ["about:blank"], preexec_fn=fds, close_fds=False,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.n = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=120):
        import select
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        while True:
            for m in self._messages():
                if m.get("id") == self.n:
                    if "error" in m:
                        raise RuntimeError("%s: %s" % (method, m["error"]))
                    return m.get("result", {})
                self.events.append(m)
            r, _, _ = select.select([self.from_r], [], [], timeout)
            if not r:
                raise TimeoutError(method)
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise EOFError(method)
            self.buf += chunk

    def _messages(self):
        out = []
        while b"\0" in self.buf:
            one, self.buf = self.buf.split(b"\0", 1)
            out.append(json.loads(one))
        return out

    def wait_event(self, name, timeout=120):
        import select
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            self.events.extend(self._messages())
            if any(e.get("method") == name for e in self.events):
                continue
            r, _, _ = select.select([self.from_r], [], [], timeout)
            if not r:
                raise TimeoutError(name)
            self.buf += os.read(self.from_r, 1 << 20)

    def open(self, url, scripts=True):
        t = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        a = self.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True},
                      session=False)
        self.session = a["sessionId"]
        self.send("Page.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        if not scripts:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def html(self):
        root = self.send("DOM.getDocument", {"depth": -1})["root"]
        return self.send("DOM.getOuterHTML", {"nodeId": root["nodeId"]})["outerHTML"]

    def screenshot(self, path):
        import base64
        d = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(d))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        os.close(self.to_w)
        os.close(self.from_r)
        shutil.rmtree(self.prof, ignore_errors=True)


def pixels(png):
    """The decompressed image data of a PNG (IDAT chunks), to compare two screenshots."""
    import struct
    import zlib
    with open(png, "rb") as f:
        data = f.read()
    pos, idat, head = 8, b"", b""
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            head = data[pos + 8:pos + 8 + n]
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return head, zlib.decompress(idat)


def console_errors(stderr):
    return [l for l in stderr.splitlines()
            if "CONSOLE" in l and re.search(r"error|uncaught|exception", l, re.I)]


# ---- figures ------------------------------------------------------------------------


def human_ok(text, n):
    """kt_human's form ("12M", "4.0K", "512B"), within its rounding of n."""
    m = re.fullmatch(r"(\d+(?:\.\d)?)([BKMGTPE])", text)
    if not m:
        return False
    v = float(m.group(1)) * 1024 ** "BKMGTPE".index(m.group(2))
    return abs(v - n) <= max(0.06 * n, 1)


def rows_by_index(dom, section, i):
    """The row of data-i @i in @section (a row's parent: its data-p)."""
    return dom.rows_i.get((section, i)) if i is not None else None


def compare(dom, doc, memtotal):
    rows = dom.rows

    def row_eq(key, want, what, bad):
        r = rows.get(key)
        if r is None:
            bad.append("%s: no row %s" % (what, key))
            return 0
        cells = r["cells"]
        if (r["b"] != str(want) or len(cells) < 3 or cells[2] != str(want)
                or not human_ok(cells[1], want)):
            bad.append("%s: row %s says %s/%s, JSON %d" % (what, key, r["b"],
                                                          cells[1:3], want))
        return 1

    node = doc["node"]
    if node["status"]["ok"]:
        bad = []
        n = sum(row_eq("kind:" + k, v, "kind", bad) for k, v in node["kinds"].items())
        n += row_eq("mem:kernel", node["kernel_total_bytes"], "kernel", bad)
        n += row_eq("mem:MemTotal", node["meminfo"]["MemTotal"], "MemTotal", bad)
        ok(not bad and n == len(node["kinds"]) + 2 and n >= 10,
           "%d node figures (every kind, kernel, MemTotal) equal the JSON's%s" % (n, "; " + "; ".join(bad[:5]) if bad else ""))
        # MemTotal's other parts: user space and free memory, and their parts
        bad = []
        lru, iso, huge = node["lru_bytes"], node["isolated_bytes"], node["hugetlb_bytes"]
        free, pcp = node["meminfo"]["MemFree"], node["percpu_free_bytes"]
        n = sum(row_eq(k, v, "MemTotal part", bad) for k, v in (
            ("mem:user", lru + iso + huge), ("mem:lru", lru), ("mem:isolated", iso),
            ("mem:hugetlb", huge), ("mem:free", free + pcp), ("mem:MemFree", free),
            ("mem:percpu_free", pcp)))
        ok(not bad and n == 7,
           "%d parts of MemTotal besides the kernel (user space, free, and theirs) equal the JSON's%s"
           % (n, "; " + "; ".join(bad[:5]) if bad else ""))
        # Each cache under the kind that counts it: thread stacks from a slab
        # cache under kernel_stack, the others by reclaim_account.
        bad = []
        n = 0
        caches = (doc.get("slab") or {}).get("caches") or []
        # split by reclaim_account only when every cache with slabs has it (htmlmodel.c split_known)
        split = all(c["reclaimable"] is not None for c in caches if c["num_slabs"])
        for c in caches:
            r = rows.get("cache:" + c["name"] + ("#%d" % c["dup"] if c["dup"] else ""))
            up = r and rows_by_index(dom, r["i"][0], r["p"])
            if not r or not up:
                continue
            if c["name"] == "thread_stack" and node.get("stack_in_slab"):
                want = "kind:kernel_stack"
            elif not split:
                want = "mem:slab"
            else:
                want = "kind:slab_reclaimable" if c["reclaimable"] else "kind:slab_unreclaimable"
            if up["k"] != want:
                bad.append("%s under %s, not %s" % (c["name"], up["k"], want))
            n += 1
        ok(not bad and n >= 1, "%d slab caches under the kind that counts them%s"
           % (n, "; " + "; ".join(bad[:5]) if bad else ""))
        if memtotal is not None:
            ok(rows.get("mem:MemTotal", {}).get("b") == str(memtotal),
               "MemTotal in the page is /proc/meminfo's (%d)" % memtotal)
    slab = doc["slab"]
    if slab["status"]["ok"]:
        bad = []
        n = 0
        for c in slab["caches"]:
            key = "cache:" + c["name"] + ("#%d" % c["dup"] if c["dup"] else "")
            n += row_eq(key, c["size_bytes"], "cache", bad)
        ok(not bad and n == len(slab["caches"]) and n >= 1,
           "%d slab caches in the table equal the JSON's%s" % (n, "; " + "; ".join(bad[:5]) if bad else ""))
    cgs = doc["cgroups"]
    if cgs["status"]["ok"] and cgs["items"]:
        bad = []
        n = parts = 0
        paths = [c["path"] for c in cgs["items"]]
        for c in cgs["items"]:
            n += row_eq("cg:" + c["path"], c["kernel_bytes"], "cgroup", bad)
            prefix = "/" if c["path"] == "/" else c["path"] + "/"
            leaf = not any(p != c["path"] and p.startswith(prefix) for p in paths)
            if leaf:
                for k, v in c["components"].items():
                    parts += row_eq("cgkind:%s:%s" % (c["path"], k), v, "part", bad)
        ok(not bad and n == len(cgs["items"]) and n >= 1 and parts >= 1,
           "%d cgroups and %d kernel parts of leaf cgroups equal the JSON's%s" % (n, parts, "; " + "; ".join(bad[:5]) if bad else ""))
    own = doc.get("owners") or {}
    if own.get("status", {}).get("ok"):
        bad = []
        n = 0
        paths = {c["path"] for c in cgs.get("items", [])}
        for c in own.get("cgroups", []):
            if c.get("removed") or c.get("path") not in paths:
                continue
            # The 8 largest one by one (OWNER_TOP in htmlmodel.c), the rest summed.
            caches = sorted(c["caches"], key=lambda k: (-k["bytes"], k["cache"]))
            for k in caches[:8]:
                n += row_eq("cgcache:%s:%s" % (c["path"], k["cache"]), k["bytes"], "owner cache", bad)
            rest = caches[8:]
            if rest:
                got = sum(int(rows[k]["b"]) for k in ("cgcache:%s:(more)" % c["path"],
                                                      "cgcache:%s:(more reclaimable)" % c["path"])
                          if k in rows)
                if got != sum(k["bytes"] for k in rest):
                    bad.append("%s: the %d more caches sum to %d in the page, %d in the JSON"
                               % (c["path"], len(rest), got, sum(k["bytes"] for k in rest)))
                n += len(rest)
        ok(not bad and n >= 1,
           "%d (cgroup, cache) pairs of the owner snapshot equal the JSON's%s" % (n, "; " + "; ".join(bad[:5]) if bad else ""))
    # Every box shows its row's bytes (its row by index in its section, or by key).
    bad = []
    for b in dom.boxes:
        r = dom.rows_i.get((b["section"], b["data-i"])) if "data-i" in b else rows.get(b.get("data-k"))
        if r is None or r["b"] != b.get("data-b"):
            bad.append("%s/%s" % (b["section"], b.get("data-i", b.get("data-k"))))
    ok(len(dom.boxes) >= 10 and not bad,
       "every one of the %d treemap boxes has a table row with its bytes%s" % (len(dom.boxes), ": " + ", ".join(bad[:5]) if bad else ""))
    # Positioned boxes, inside their treemap.
    outside = 0
    for b in dom.boxes:
        m = re.fullmatch(r"left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%;height:([\d.]+)%", b.get("style", ""))
        if not m or float(m.group(1)) + float(m.group(3)) > 100.01 or float(m.group(2)) + float(m.group(4)) > 100.01:
            outside += 1
    ok(outside == 0, "every box is positioned inside its treemap (%d outside)" % outside)


def compare_series(dom, series_dir, least_tops):
    """Every sample row of the growth table against --replay DIR --at <its time> --json."""
    bad = []
    n = 0
    for row in dom.samples:
        path = os.path.join(series_dir, "%d.json" % row["t"])
        if not os.path.exists(path):
            bad.append("no JSON for sample %d" % row["t"])
            continue
        with open(path) as f:
            doc = json.load(f)
        kinds = doc["node"]["kinds"]
        if row["b"] != doc["node"]["kernel_total_bytes"]:
            bad.append("sample %d: kernel %d, JSON %d" % (row["t"], row["b"], doc["node"]["kernel_total_bytes"]))
        for k, v in row["kinds"].items():
            if kinds.get(k.split(":", 1)[1]) != v:
                bad.append("sample %d: %s %d, JSON %s" % (row["t"], k, v, kinds.get(k.split(":", 1)[1])))
        n += 1
    ok(n >= 2 and n == len(dom.samples) and not bad,
       "%d samples of the growth chart equal --replay --at TIME --json%s" % (n, "; " + "; ".join(bad[:5]) if bad else ""))
    if n >= 2 and not bad:
        compare_tops(dom, series_dir, least_tops)


def compare_tops(dom, series_dir, least):
    """The top growers' first, last, growth and growth per hour against the first and
    last samples' --json (the hours between them from the sample table)."""
    docs = []
    for row in (dom.samples[0], dom.samples[-1]):
        with open(os.path.join(series_dir, "%d.json" % row["t"])) as f:
            docs.append(json.load(f))
    vals = []
    for doc in docs:
        v = {}
        for c in doc["slab"]["caches"]:
            v["cache:%s%s" % (c["name"], "#%d" % c["dup"] if c["dup"] else "")] = c["size_bytes"]
        for c in doc.get("cgroups", {}).get("items", []):
            v["cg:" + c["path"]] = c["kernel_bytes"] or 0
        vals.append(v)
    hours = (dom.samples[-1]["t"] - dom.samples[0]["t"]) / 3.6e12
    bad = []
    for k, (first, last, cells) in dom.tops.items():
        want_first, want_last = vals[0].get(k, 0), vals[1].get(k, 0)
        g = want_last - want_first
        want = [human(want_first), human(want_last), human_delta(g), human_delta(g / hours) if hours > 0 else "-"]
        if (first, last) != (want_first, want_last) or cells[1:5] != want:
            bad.append("%s: page %d %d %s, JSON %d %d %s" % (k, first, last, cells[1:5], want_first, want_last, want))
    caches = sum(1 for k in dom.tops if k.startswith("cache:"))
    cgroups = sum(1 for k in dom.tops if k.startswith("cg:"))
    ok(caches + cgroups >= least and not bad,
       "%d top growing caches and %d cgroups: first, last, growth and growth per hour (%.4f h) equal the "
       "first and last samples' --json%s" % (caches, cgroups, hours, "; " + "; ".join(bad[:5]) if bad else ""))


def compare_verdicts(dom, path, least):
    """The page's leak verdicts and OOM kills against --replay DIR --window D --json's."""
    with open(path) as f:
        doc = json.load(f)
    want = {"verdict:%s:%s" % (v["subject"], v["name"]): (v["verdict"], v["growth_bytes"])
            for v in doc["verdicts"]}
    bad = ["%s: page %s, JSON %s" % (k, dom.verdicts.get(k), w) for k, w in want.items()
           if dom.verdicts.get(k) != w]
    bad += ["%s only in the page" % k for k in dom.verdicts if k not in want]
    ok(not bad and len(want) >= least,
       "%d leak verdicts (kind, growth) equal --replay --window --json's%s" % (len(want), "; " + "; ".join(bad[:5]) if bad else ""))
    ok(len(dom.ooms) == len(doc.get("oom_kills", [])),
       "%d OOM kills in the page, %d in the JSON" % (len(dom.ooms), len(doc.get("oom_kills", []))))


def main():
    args = sys.argv[1:]
    page, jpath = args[0], args[1]
    opt = {}
    flags = set()
    i = 2
    while i < len(args):
        if args[i] in ("--noscript", "--probe-network"):
            flags.add(args[i])
            i += 1
        else:
            opt[args[i]] = args[i + 1]
            i += 2
    with open(page, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    with open(jpath) as f:
        doc = json.load(f)
    name = os.path.basename(page)
    if "--probe-network" in flags:
        # The oracle itself: a page that loads something must be seen by the trap.
        trap = Trap()
        chromium(trap, page, ["--dump-dom"])
        ok(trap.hits >= 1, "a page with a network reference is caught: %d request(s) seen (%r)" % (trap.hits, trap.first[:60]))
        return 1 if failed else 0
    static_checks(text, len(raw), int(opt.get("--max-bytes", "0")))
    dom_file = parse(text)
    contrast_checks(dom_file)
    colour_blind_checks(text, dom_file)
    if "--min-cgroups" in opt:
        ok(sum(1 for k in dom_file.row_keys if k.startswith("cg:")) >= int(opt["--min-cgroups"]),
           "%s has at least %s cgroups" % (name, opt["--min-cgroups"]))

    trap = Trap()
    p = chromium(trap, page, ["--dump-dom"])
    ok(p.returncode == 0, "chromium --dump-dom %s exits 0 (%d)" % (name, p.returncode))
    dom = parse(p.stdout)
    errs = console_errors(p.stderr)
    ok(dom.body.get("data-ready") == "ok", "the page's script ran to its end in %s" % name)
    ok("data-errors" not in dom.body and not errs,
       "no script error in %s%s" % (name, (": " + " | ".join(errs[:3])) if errs else ""))
    compare(dom, doc, int(opt["--memtotal"]) if "--memtotal" in opt else None)
    if "--series-dir" in opt:
        compare_series(dom, opt["--series-dir"], int(opt.get("--min-tops", "1")))
    if "--verdicts" in opt:
        compare_verdicts(dom, opt["--verdicts"], int(opt.get("--min-verdicts", "1")))
    ok(len(dom.boxes) == len(dom_file.boxes) and all(re.match(r"left:", b.get("style", "")) for b in dom_file.boxes),
       "the file itself has all %d boxes positioned (the script adds none)" % len(dom_file.boxes))
    if "--screenshot" in opt:
        shot = opt["--screenshot"]
        q = chromium(trap, page, ["--screenshot=" + shot, "--window-size=1280,800"])
        ok(q.returncode == 0 and os.path.exists(shot) and os.path.getsize(shot) > 10000,
           "screenshot of %s at 1280x800" % name)
        if "--noscript" in flags:
            # Scripts off (DevTools: Emulation.setScriptExecutionDisabled): the
            # same boxes, and the same picture as with scripts on.
            cdp = Cdp(trap)
            try:
                url = "file://" + os.path.abspath(page)
                cdp.open(url, scripts=False)
                off_dom = parse(cdp.html())
                off = shot + ".noscript.png"
                cdp.screenshot(off)
                cdp.open(url, scripts=True)
                on = shot + ".script.png"
                cdp.screenshot(on)
                on_dom = parse(cdp.html())
                # Keyboard: Tab reaches the first box, an arrow key the next; the
                # card shows the box's exact figure.
                js = ("(function(){var t=document.getElementById('tip');var a=document.activeElement;"
                      "return JSON.stringify({k:a&&a.getAttribute('data-k'),b:a&&a.getAttribute('data-b'),"
                      "tip:t.hidden?'':t.textContent,i:Array.prototype.indexOf.call("
                      "document.querySelectorAll('#memtotal .b'),a)});})()")
                keys = []
                for key, code in (("Tab", 9), ("ArrowRight", 39)):
                    for kind in ("keyDown", "keyUp"):
                        cdp.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key,
                                                            "windowsVirtualKeyCode": code})
                    keys.append(json.loads(cdp.send("Runtime.evaluate", {"expression": js})["result"]["value"]))
                # Enter on a box opens its table and marks its row.
                for kind in ("keyDown", "keyUp"):
                    cdp.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                        "windowsVirtualKeyCode": 13})
                hl = json.loads(cdp.send("Runtime.evaluate", {"expression": (
                    "(function(){var r=document.querySelector('tr.hl');return JSON.stringify("
                    "{b:r&&r.getAttribute('data-b'),open:!!(r&&r.closest('details').open)});})()")})["result"]["value"])
            finally:
                cdp.close()
            ok(hl["open"] and hl["b"] == keys[1]["b"],
               "keyboard: Enter on a box opens its table at its row (%s)" % hl)
            ok(keys[0]["i"] == 0 and keys[1]["i"] == 1 and keys[1]["b"] and
               ("(%s bytes)" % keys[1]["b"]) in keys[1]["tip"],
               "keyboard: Tab reaches the first box, ArrowRight the next, its card shows the exact bytes (%s)" % keys[1])
            ok(off_dom.body.get("data-ready") is None and on_dom.body.get("data-ready") == "ok",
               "DevTools ran %s with scripts off (no marker) and on (marker)" % name)
            ok(len(off_dom.boxes) == len(dom_file.boxes) and len(off_dom.boxes) >= 10,
               "with scripts off %s shows all %d positioned boxes" % (name, len(off_dom.boxes)))
            ok(pixels(off) == pixels(on),
               "with scripts off %s looks the same as with scripts on (pixels compared)" % name)
            for f in (off, on):
                os.unlink(f)
    ok(trap.hits == 0, "%s made no network request (%d seen by the proxy%s)" %
       (name, trap.hits, (": " + repr(trap.first[:60])) if trap.first else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
