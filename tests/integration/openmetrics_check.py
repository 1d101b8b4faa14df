#!/usr/bin/env python3
"""kmemtop --replay DIR --openmetrics against --replay DIR --json of the same
one-sample recording: every series of the four families, its labels and its
value. Prints TAP lines; the counts of what was compared are asserted."""
import json
import re
import sys

LINE = re.compile(r'^([a-z_]+)(\{.*\})? (\S+) (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def unescape(s):
    return re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1), s)


def main():
    om_path, json_path, name = sys.argv[1:4]
    mins = [int(x) for x in sys.argv[4].split(',')]
    snap = json.load(open(json_path))
    got = {}
    bad = []
    for line in open(om_path):
        line = line.rstrip('\n')
        if line.startswith('#') or not line:
            continue
        m = LINE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = tuple(sorted((k, unescape(v)) for k, v in LABEL.findall(m.group(2) or '')))
        key = (m.group(1), labels)
        if key in got:
            bad.append('repeated: ' + line)
        got[key] = float(m.group(3))
    fails = []

    def want(fam, labels, value, what):
        key = (fam, tuple(sorted(labels.items())))
        if key not in got:
            fails.append('%s: no %s%s' % (what, fam, labels))
        elif got[key] != float(value):
            fails.append('%s: %s%s is %.0f, --json says %s' % (what, fam, labels, got[key], value))
        got.pop(key, None)

    kinds = (snap.get('node') or {}).get('kinds') or {}
    for k, v in kinds.items():
        want('kmem_node_kernel_bytes', {'kind': k}, v, 'kind')
    caches = dups = 0
    for c in snap['slab']['caches']:
        if not c['num_slabs']:
            continue
        labels = {'cache': c['name']}
        if c['dup']:
            labels['dup'] = str(c['dup'])
            dups += 1
        want('kmem_slab_size_bytes', labels, c['size_bytes'], 'cache')
        caches += 1
    cgs = 0
    pods = 0
    for g in (snap.get('cgroups') or {}).get('items') or []:
        labels = {'cgroup': g['path'], 'namespace': g['namespace'] or '',
                  'pod': g['pod'] or '', 'container': g['container'] or ''}
        pods += bool(g['pod'])
        want('kmem_cgroup_kernel_bytes', labels, g['kernel_bytes'], 'cgroup')
        cgs += 1
    dying = (snap.get('cgroups') or {}).get('dying')
    if dying is not None:
        want('kmem_memory_cgroups_dying', {}, dying, 'dying')
    for key in got:
        fails.append('a series --json does not have: %s%s' % key)
    total = len(kinds) + caches + cgs + (dying is not None)
    ok = not fails and not bad
    print('%s - %s: every OpenMetrics series equals --json (%d kinds, %d caches, %d cgroups '
          '(%d of pods), dying %s: %d series)' % ('ok' if ok else 'not ok', name, len(kinds),
                                                 caches, cgs, pods, dying, total))
    for f in (bad + fails)[:10]:
        print('#   ' + f)
    have = [len(kinds), caches, dups, cgs]
    print('%s - %s: compared at least %d kinds, %d caches (%d repeated names), %d cgroups '
          '(%d, %d, %d, %d)' % ('ok' if all(h >= m for h, m in zip(have, mins)) else 'not ok',
                                name, *mins, *have))
    return pods


if __name__ == '__main__':
    print('# pods %d' % main())
