#!/bin/sh
# kmem_exporter's operability (issue 12): --log.level and --log.format for
# every message (each stderr line parsed as logfmt or JSON), a failing
# collector logged once, --[no-]collector.<name> (a disabled collector has no
# family, no series, no kmem_collector_* series), /-/healthy and /-/ready
# (200 without collecting, without a password), and the refused values.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
R="--root $SHARED_FIXTURE"

# logcheck FORMAT FILE [MIN-LEVEL]: every line of FILE is one record of
# FORMAT with time, level and msg, and no level below MIN-LEVEL.
cat >"$T/logcheck.py" <<'EOP'
import json, re, sys
fmt, path = sys.argv[1], sys.argv[2]
order = ["DEBUG", "INFO", "WARN", "ERROR"]
least = order.index(sys.argv[3].upper()) if len(sys.argv) > 3 else 0
pair = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^ "=]+)(?: |$)')
n = 0
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if fmt == "json":
        rec = json.loads(line)
    else:
        rec, pos = {}, 0
        while pos < len(line):
            m = pair.match(line, pos)
            if not m:
                sys.exit("not logfmt at %d: %r" % (pos, line))
            v = m.group(2)
            rec[m.group(1)] = json.loads(v) if v.startswith('"') else v
            pos = m.end()
    if list(rec)[:3] != ["time", "level", "msg"]:
        sys.exit("no time, level, msg first: %r" % line)
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["time"]):
        sys.exit("bad time: %r" % line)
    if order.index(rec["level"]) < least:
        sys.exit("level below %s: %r" % (order[least], line))
    n += 1
print(n)
EOP
logcheck() { python3 "$T/logcheck.py" "$@" >"$T/logcheck.out" 2>&1 || { cat "$T/logcheck.out"; return 1; }; }

# ---- server logs: JSON at debug, logfmt at info, nothing at warn
for f in json logfmt; do
    P=$(free_port)
    spawn "$T/$f.log" "$E" --web.listen-address "127.0.0.1:$P" $R --log.format "$f" --log.level debug \
        --collect.min-interval 0
    check "--log.format $f: exporter answers" wait_url "http://127.0.0.1:$P/metrics"
    curl -s -o /dev/null "http://127.0.0.1:$P/metrics"
    stop_all
    check "--log.format $f: every line is a $f record with time, level, msg" logcheck "$f" "$T/$f.log"
    check "--log.format $f --log.level debug: start, listen, per-collector and stop lines" \
        sh -c "grep -q 'Starting kmem_exporter' '$T/$f.log' && grep -q 'Listening on' '$T/$f.log' &&
               grep -q 'Collector succeeded' '$T/$f.log' && grep -q 'Stopping' '$T/$f.log'"
done
check "json: the collector name is a field" grep -q '"msg":"Collector succeeded","collector":"cgroup"' "$T/json.log"
P=$(free_port)
spawn "$T/warn.log" "$E" --web.listen-address "127.0.0.1:$P" $R --log.level warn
check "--log.level warn: exporter answers" wait_url "http://127.0.0.1:$P/metrics"
stop_all
check_eq "--log.level warn: a clean run logs nothing" "" "$(cat "$T/warn.log")"

# ---- a failing collector: one ERROR line however many scrapes, then nothing
mkdir -p "$T/noslab/proc"
for f in meminfo vmstat zoneinfo; do ln -s "$SHARED_FIXTURE/proc/$f" "$T/noslab/proc/$f"; done
ln -s "$SHARED_FIXTURE/sys" "$T/noslab/sys"
P=$(free_port)
spawn "$T/fail.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$T/noslab" --collect.min-interval 0
check "failing collector: exporter answers" wait_url "http://127.0.0.1:$P/metrics"
for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$P/metrics"; done
stop_all
check "failing collector: logfmt records" logcheck logfmt "$T/fail.log"
check_eq "failing collector: logged once, at error, with collector=slabinfo and the file" 1 \
    "$(grep -c 'level=ERROR msg="Collector failed" collector=slabinfo .*err=.*noslab/proc/slabinfo' "$T/fail.log")"
"$E" --once --root "$T/noslab" --log.format json >/dev/null 2>"$T/once.err"
check "--once: the failure is a JSON record" logcheck json "$T/once.err"
check "--once: ... at level ERROR" grep -q '"level":"ERROR"' "$T/once.err"

# ---- --[no-]collector.<name>
"$E" --once $R >"$T/all.txt"
for c in slabinfo node cgroup node_detail; do
    case $c in
    slabinfo) fam="kmem_slab_" ;;
    node) fam="kmem_node_kernel_bytes\|kmem_node_slab_gap\|kmem_node_socket\|kmem_zram_" ;;
    node_detail) fam="kmem_node_detail_age\|kmem_node_outside\|kmem_node_system_ram\|kmem_vmalloc_\|kmem_allocinfo_" ;;
    cgroup) fam="kmem_cgroup_\|container_memory_kernel_usage" ;;
    esac
    "$E" --once $R "--no-collector.$c" >"$T/no-$c.txt"
    st=$?
    check "--no-collector.$c: exit 0, no $c family, no collector=\"$c\" series" \
        sh -c "[ $st -eq 0 ] && ! grep -q '$fam' '$T/no-$c.txt' && ! grep -q 'collector=\"$c\"' '$T/no-$c.txt' &&
               grep -q '^kmem_collector_success{' '$T/no-$c.txt'"
    "$E" --once $R "--collector.$c=false" >"$T/false-$c.txt"
    check "--collector.$c=false is --no-collector.$c" \
        sh -c "[ \"\$(sed 's/ .*//' '$T/no-$c.txt')\" = \"\$(sed 's/ .*//' '$T/false-$c.txt')\" ]"
    check "--collector.$c (default on) has its series" grep -q "^kmem_collector_success{collector=\"$c\"} 1$" "$T/all.txt"
done
"$E" --once $R --no-collector.slabinfo --no-collector.node --no-collector.cgroup \
    --no-collector.node_detail >"$T/none.txt"
check "every collector disabled: only kmem_exporter_build_info has a sample" \
    sh -c "[ \"\$(grep -v '^#' '$T/none.txt' | sed 's/[{ ].*//' | sort -u)\" = kmem_exporter_build_info ]"
"$E" --once --root "$T/noslab" --no-collector.slabinfo >/dev/null 2>"$T/noslab.err"
check "a disabled collector's file is not read: exit 0 without /proc/slabinfo" sh -c "[ $? -eq 0 ] && [ ! -s '$T/noslab.err' ]"

# ---- /-/healthy and /-/ready, with basic auth on every other path
HASH=$(htpasswd -nbBC 4 prometheus 'pw' | cut -d: -f2- | tr -d '\n')
printf 'basic_auth_users:\n  prometheus: %s\n' "$HASH" >"$T/web.yml"
P=$(free_port)
# A copy of the fixture, so that a collection after the first would see a change.
cp -r "$SHARED_FIXTURE" "$T/probe-root"
spawn "$T/probe.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$T/probe-root" \
    --web.config.file "$T/web.yml" --collect.min-interval 3600
U="http://127.0.0.1:$P"
check "basic-auth exporter answers" wait_url "$U/metrics" 10 -u prometheus:pw
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check_eq "/-/healthy: 200 without a password" 200 "$(code "$U/-/healthy")"
check_eq "/-/healthy: body" "kmem_exporter is Healthy." "$(cat "$T/body")"
check_eq "/-/ready: 200 without a password (the first collection is done)" 200 "$(code "$U/-/ready")"
check_eq "/-/ready: HEAD" 200 "$(code -I "$U/-/ready")"
check_eq "/-/healthy: POST is 405" 405 "$(code -X POST "$U/-/healthy")"
check_eq "/metrics still asks for the password" 401 "$(code "$U/metrics")"
check_eq "other paths still ask for the password" 401 "$(code "$U/-/other")"
# A probe never collects. The exporter collects once at start and, with
# --collect.min-interval 3600, serves that collection to every scrape of the
# hour, unless something collects meanwhile; so: change the fixture's
# slabinfo in place, send 400 probes, and the next scrape still has the
# value of the first collection (a probe that collected would bring the new).
slab="$T/probe-root/proc/slabinfo"
old=$(awk '$1 == "dentry" { print $2 }' "$slab")
awk '$1 == "dentry" { $2 += 1000 * $5; $3 += 1000 * $5; $14 += 1000; $15 += 1000 } { print }' "$slab" \
    >"$T/slab.new" && cat "$T/slab.new" >"$slab"
new=$(awk '$1 == "dentry" { print $2 }' "$slab")
"$E" --once --root "$T/probe-root" >"$T/once.txt"
check_eq "a collection now sees the changed fixture (dentry active objects $old -> $new)" "$new" \
    "$(awk '/^kmem_slab_active_objects\{cache="dentry"/ { print $2 }' "$T/once.txt")"
i=0
while [ $i -lt 200 ]; do curl -s -o /dev/null -o /dev/null "$U/-/ready" "$U/-/healthy"; i=$((i + 1)); done
curl -s -u prometheus:pw -o "$T/after.txt" "$U/metrics"
check_eq "400 probes later, /metrics still serves the first collection (no probe collected)" "$old" \
    "$(awk '/^kmem_slab_active_objects\{cache="dentry"/ { print $2 }' "$T/after.txt")"
stop_all

# ---- refused values (exit 2, usage on stderr)
for a in "--log.level=trace" "--log.level=INFO" "--log.format=text" "--web.telemetry-path=/-/ready" \
    "--web.telemetry-path=/-/healthy" "--collector.node=maybe"; do
    "$E" --once $R "$a" >/dev/null 2>"$T/err"
    check "$a refused (exit 2 with usage)" sh -c "[ $? -eq 2 ] && grep -q 'try --help' '$T/err'"
done
finish
