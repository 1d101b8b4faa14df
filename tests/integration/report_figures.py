#!/usr/bin/env python3
"""kmemtop --report's figures against --json of the same tree: every share,
percentage and table row of the report is recomputed from the JSON's bytes
(the same double arithmetic and printf rounding as kt_pct()). Prints TAP
lines; each line says how many figures it compared."""
import json
import re
import sys


def pct(part, whole):
    return 100.0 * part / whole if whole else 0.0


def main():
    rep_path, json_path, name = sys.argv[1:4]
    text = open(rep_path).read()
    flat = re.sub(r'\s+', ' ', text)
    j = json.load(open(json_path))
    out = []

    def check(what, n, errs):
        out.append('%s - %s: %s (%d compared)' % ('not ok' if errs or not n else 'ok', name,
                                                 what, n))
        out.extend('#   ' + e for e in errs[:8])

    node = j.get('node') or {}
    kinds = node.get('kinds') or {}
    total = node.get('kernel_total_bytes')
    memtotal = (node.get('meminfo') or {}).get('MemTotal')
    if kinds:
        # the kind table: bytes and share of every kind, and the total
        errs, n = [], 0
        for k, v in list(kinds.items()) + [('total', total)]:
            m = re.search(r'^  %s +(\d+) +\S+ +([\d.]+)%%$' % re.escape(k), text, re.M)
            want = '%.1f' % (pct(v, total) if k != 'total' else 100.0)
            if not m or int(m.group(1)) != v or m.group(2) != want:
                errs.append('%s: want %d %s%%, line %s' % (k, v, want, m and m.group(0)))
            n += 1
        check('kind table: bytes and share of kernel memory', n, errs)
        errs, n = [], 0
        m = re.search(r'Kernel memory is ([\d.]+)% of MemTotal \((\d+) bytes', flat)
        if not m or m.group(1) != '%.1f' % pct(total, memtotal) or int(m.group(2)) != memtotal:
            errs.append('Kernel memory is ...%% of MemTotal: %s' % (m and m.group(0)))
        n += 1
        m = re.search(r'The kernel uses \S+ \((\d+) bytes\), ([\d.]+)% of MemTotal\. '
                      r'The largest kind is (\w+): \S+ \(([\d.]+)%\)', flat)
        big = max(kinds, key=lambda k: kinds[k])
        if not m or int(m.group(1)) != total or m.group(2) != '%.1f' % pct(total, memtotal) \
                or kinds.get(m.group(3)) != kinds[big] \
                or m.group(4) != '%.1f' % pct(kinds[big], total):
            errs.append('In short, the kernel uses: %s (largest %s)' % (m and m.group(0), big))
        n += 1
        un = node.get('unaccounted_raw_bytes')
        if un and un > 0:
            m = re.search(r'No counter explains \S+ \(([\d.]+)%\)', flat)
            if not m or m.group(1) != '%.1f' % pct(un, total):
                errs.append('No counter explains: %s' % (m and m.group(0)))
            m = re.search(r'= +%d +unaccounted \(\S+, ([\d.]+)%% of kernel memory\)' % un, text)
            if not m or m.group(1) != '%.1f' % pct(un, total):
                errs.append('= unaccounted: %s' % (m and m.group(0)))
            n += 2
        m = re.search(r'Reclaimable slab \(\S+, (\d+)% of kernel memory\)', flat)
        if m:
            if m.group(1) != '%.0f' % pct(kinds['slab_reclaimable'], total):
                errs.append('Reclaimable slab: %s' % m.group(0))
            n += 1
        check('percentages of kernel memory and MemTotal', n, errs)

    caches = (j.get('slab') or {}).get('caches') or []
    if caches:
        errs, n = [], 0
        rows = re.findall(r'^ +(\d+) +\S+ +(\d+) +(\d+) +(\d+)  (\S+)( \(line (\d+), '
                          r'repeated name\))?$', text.split('Top ', 1)[-1], re.M)
        by_size = sorted(caches, key=lambda c: -c['size_bytes'])
        for i, r in enumerate(rows):
            b, objs, inuse, osz, cname = int(r[0]), int(r[1]), int(r[2]), int(r[3]), r[4]
            cands = [c for c in caches if c['name'] == cname and (c['dup'] != 0) == bool(r[5])]
            if not any(c['size_bytes'] == b and c['num_objs'] == objs and c['active_objs'] == inuse
                       and c['objsize'] == osz for c in cands):
                errs.append('top cache row %s: no cache of --json with these figures' % (r,))
            if b != by_size[i]['size_bytes']:
                errs.append('top cache row %d is %d bytes; the %d-th largest has %d' % (
                    i + 1, b, i + 1, by_size[i]['size_bytes']))
            n += 1
        check('top slab caches: bytes, objects, in use, object size, order', n, errs)
        # the slab gap split by reclaim_account, recomputed from the caches
        m = re.search(r'reclaimable caches = (\d+) bytes \(SReclaimable = (\d+)\); large '
                      r'kmallocs = SUnreclaim - the other caches = (-?\d+) bytes', flat)
        if m:
            recl = sum(c['size_bytes'] for c in caches if c['reclaimable'])
            unrecl = sum(c['size_bytes'] for c in caches if c['reclaimable'] is False)
            mi = node['meminfo']
            want = (recl, mi['SReclaimable'], mi['SUnreclaim'] - unrecl)
            got = tuple(int(x) for x in m.groups())
            check('the slab gap by reclaim_account (reclaimable caches, large kmallocs)', 3,
                  [] if got == want else ['report %s, from the caches %s' % (got, want)])
        # the advice's largest reclaimable / unreclaimable cache, by reclaim_account
        for such in re.finditer(r'(Reclaimable|Unreclaimable) slab \(\S+, \d+% of kernel memory\)'
                                r'.*?The largest such cache is (\S+) \(\S+, (\d+)% of it', flat):
            rcl = such.group(1) == 'Reclaimable'
            mine = [c for c in caches if c.get('reclaimable') is rcl]
            best = max(mine, key=lambda c: c['size_bytes'])
            kb = kinds['slab_reclaimable' if rcl else 'slab_unreclaimable']
            e = []
            if such.group(2) != best['name'] or such.group(3) != '%.0f' % pct(best['size_bytes'], kb):
                e.append('%s: want %s (%.0f%%), got %s' % (such.group(0)[:60], best['name'],
                                                           pct(best['size_bytes'], kb),
                                                           such.group(2)))
            check('the largest %s cache of the advice' % such.group(1).lower(), 1, e)

    cg = j.get('cgroups') or {}
    items = cg.get('items') or []
    if items and kinds:
        errs, n = [], 0
        m = re.search(r'charged to cgroups +(\d+) bytes', text)
        m2 = re.search(r'not charged +(\d+) bytes', text)
        if m and m2:
            ch, nch = int(m.group(1)), int(m2.group(1))
            if ch != items[0]['kernel_bytes']:
                errs.append('charged %d, root cgroup %d' % (ch, items[0]['kernel_bytes']))
            mm = re.search(r'([\d.]+)% of the node\'s kernel memory is charged', flat)
            if not mm or mm.group(1) != '%.1f' % pct(min(ch, total), total):
                errs.append('share charged: %s' % (mm and mm.group(0)))
            mm = re.search(r'Cgroups are charged \S+; \S+ \(([\d.]+)%\) belongs to no cgroup', flat)
            if not mm or mm.group(1) != '%.1f' % pct(nch, total):
                errs.append('In short, no cgroup: %s (want %.1f)' % (mm and mm.group(0),
                                                                    pct(nch, total)))
            n += 3
            # the cgroup tables: share of the charged memory
            sect = text.split('Top cgroups by kernel memory', 1)[-1].split('\nRemoved', 1)[0]
            rows = re.findall(r'^ +(\d+) +\S+ +([\d.]+)%  (.*)$', sect, re.M)
            for b, share, who in rows:
                if share != '%.1f' % pct(int(b), ch):
                    errs.append('cgroup %s: %s bytes %s%%' % (who, b, share))
                n += 1
            mm = re.search(r'Most kernel memory is held by .*?: \S+, ([\d.]+)% of the kernel '
                           r'memory charged to cgroups', flat)
            if mm and rows:
                leaf = sect.split('Leaf cgroups', 1)[-1]
                first = re.search(r'^ +(\d+) +\S+ +([\d.]+)%', leaf, re.M)
                if mm.group(1) != '%.1f' % pct(int(first.group(1)), ch):
                    errs.append('advice, most kernel memory: %s' % mm.group(0))
                n += 1
        check('cgroups: charged, not charged, shares of the charged memory', n, errs)
    print('\n'.join(out))


if __name__ == '__main__':
    main()
