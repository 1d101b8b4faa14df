#!/usr/bin/env python3
"""kmemtop --node -o and --cgroups -o against --json of the same tree: every
size and share of the two views recomputed from the JSON's bytes (the same
rounding as kt_human() and kt_pct()). Prints TAP lines, each with how many
figures it compared."""
import json
import re
import sys

from kt_format import human


def pct(part, whole):
    return 100.0 * part / whole if whole else 0.0


def node_view(text, j, name, out):
    node = j['node']
    kinds, total = node['kinds'], node['kernel_total_bytes']
    memtotal = node['meminfo']['MemTotal']
    errs, n = [], 0
    head = 'node kernel memory %s = %.1f%% of MemTotal %s' % (human(total), pct(total, memtotal),
                                                            human(memtotal))
    if text.split('\n', 1)[0] != head:
        errs.append('first line %r, want %r' % (text.split('\n', 1)[0], head))
    n += 1
    for k, v in list(kinds.items()) + [('total', total)]:
        m = re.search(r'^%s +(\S+) +([\d.]+)%%' % re.escape(k), text, re.M)
        want = (human(v), '%.1f' % (pct(v, total) if k != 'total' else 100.0))
        if not m or (m.group(1), m.group(2)) != want:
            errs.append('%s: want %s %s%%, got %s' % (k, want[0], want[1], m and m.group(0)))
        n += 1
    m = re.search(r'^per-CPU free pages +(\S+)', text, re.M)
    if not m or m.group(1) != human(node['percpu_free_bytes']):
        errs.append('per-CPU free pages: %s' % (m and m.group(0)))
    n += 1
    if 'nr_memmap_pages' in (node.get('vmstat') or {}):
        mm, boot = node['memmap_bytes'], node['memmap_boot_bytes']
        m = re.search(r'^memmap +(\S+) +page descriptors, (?:(\S+) of it )?outside MemTotal$',
                      text, re.M)
        if not m or m.group(1) != human(mm) or (boot < mm and m.group(2) != human(boot)):
            errs.append('memmap: %s (memmap %d, boot %d)' % (m and m.group(0), mm, boot))
        n += 1
    out.append('%s - %s: --node -o: sizes and shares of every kind, per-CPU free, memmap '
               '(%d compared)' % ('not ok' if errs else 'ok', name, n))
    out.extend('#   ' + e for e in errs[:8])
    return n


def cg_name(g):
    if g.get('pod'):
        s = '%s/%s' % (g['namespace'], g['pod'])
        return s + ('/' + g['container'] if g.get('container') else '')
    return g['path']


def cgroup_view(text, j, name, out):
    lines = text.split('\n')
    cols = []
    for t in lines[1].split():
        if t.startswith('NAMESPACE') or t == 'CGROUP':
            break
        cols.append(t)
    errs, n, rows = [], 0, 0
    by_name = {}
    for g in j['cgroups']['items']:
        by_name.setdefault(cg_name(g), []).append(g)
    for line in lines[2:]:
        f = line.split(None, len(cols))
        if len(f) < len(cols) + 1:
            continue
        who = f[-1]
        cands = by_name.get(who)
        if not cands:
            continue
        rows += 1
        g = cands[0]
        c = g['components'] or {}

        def cell(v):
            return '-' if v is None else human(v)
        slab = None
        if c.get('slab_reclaimable') is not None or c.get('slab_unreclaimable') is not None:
            slab = (c.get('slab_reclaimable') or 0) + (c.get('slab_unreclaimable') or 0)
        want = {'KERNEL': ('~' if g['approx'] else '') + human(g['kernel_bytes']),
                'SLAB': cell(slab), 'STACK': cell(c.get('kernel_stack')),
                'PGTABLE': cell(c.get('pagetables')), 'OTHER': cell(c.get('other')),
                'PERCPU': cell(c.get('percpu')), 'VMALLOC': cell(c.get('vmalloc')),
                'SOCK': cell(g.get('sock_bytes')), 'TCP': cell(g.get('sock_bytes')), 'USAGE': cell(g.get('usage_bytes'))}
        for col, got in zip(cols, f):
            if col not in want:
                continue
            if got != want[col]:
                errs.append('%s %s: %s, want %s' % (who, col, got, want[col]))
            n += 1
    ok = not errs and rows >= 3
    out.append('%s - %s: --cgroups -o: %d rows, %d cells (%s) against --json' % (
        'ok' if ok else 'not ok', name, rows, n, ' '.join(cols)))
    out.extend('#   ' + e for e in errs[:8])
    return n


def owner_view(text, j, name, out):
    """Each row's share is of its group's (cgroup's) rows; objects x size agree."""
    rows = re.findall(r'^ +(\d+) +(\d+) +([\d.]+)%  (\S+) +(.*)$', text, re.M)
    groups = {}
    for b, o, sh, cache, who in rows:
        groups[who] = groups.get(who, 0) + int(b)
    errs, n = [], 0
    for b, o, sh, cache, who in rows:
        want = '%.1f' % pct(int(b), groups[who])
        if sh != want:
            errs.append('%s %s: %s bytes %s%%, want %s%%' % (who, cache, b, sh, want))
        n += 1
    ok = not errs and len(groups) >= 3
    out.append('%s - %s: --cgroups --by-cache -o: share of each row in its cgroup, %d rows of %d '
               'cgroups' % ('ok' if ok else 'not ok', name, n, len(groups)))
    out.extend('#   ' + e for e in errs[:8])
    return n


def main():
    kind, view, json_path, name = sys.argv[1:5]
    out = []
    j = json.load(open(json_path))
    text = open(view).read()
    n = {'node': node_view, 'cgroups': cgroup_view, 'owners': owner_view}[kind](text, j, name, out)
    print('\n'.join(out))
    print('# compared %d' % n)


if __name__ == '__main__':
    main()
