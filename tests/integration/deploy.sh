#!/bin/sh
# Checks of everything under deploy/ and man/: Prometheus rules (promtool
# check + unit tests), the scrape config, the Grafana dashboard, the
# Kubernetes manifests, the systemd unit, the Dockerfile, the man pages, and
# that every flag the deployment files pass to kmem_exporter is accepted by
# the program.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
D=deploy
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT

# ------------------------------------------------------------- Prometheus
check "promtool check rules deploy/prometheus/rules.yml" \
    sh -c "promtool check rules $D/prometheus/rules.yml >$T/out 2>&1 || { cat $T/out; exit 1; }"
check "promtool test rules deploy/prometheus/rules_test.yml" \
    sh -c "promtool test rules $D/prometheus/rules_test.yml >$T/out 2>&1 || { cat $T/out; exit 1; }"

# Each alert of rules.yml has a unit test that expects it to fire and one
# eval where it must stay silent (exp_alerts: []).
alerts_tested() {
    python3 - "$D/prometheus/rules.yml" "$D/prometheus/rules_test.yml" <<'EOF'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
fires, silent = set(), set()
for t in tests["tests"]:
    for a in t.get("alert_rule_test", []):
        (fires if a.get("exp_alerts") else silent).add(a["alertname"])
bad = sorted((alerts - fires) | (alerts - silent))
for a in bad:
    print("alert without a firing and a silent test:", a)
sys.exit(1 if bad or len(alerts) < 6 else 0)
EOF
}
check "every alert is unit-tested firing and silent" alerts_tested

# Every alert links its runbook: one common prefix ending in docs/runbooks.md,
# the anchor of the alert's section there; every section is an alert's and
# says what it means, how to investigate (with kmemtop) and what to do.
runbooks() {
    python3 - "$D/prometheus/rules.yml" docs/runbooks.md <<'EOF'
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
def anchor(h):  # GitHub's heading anchors
    return re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
sections = {}
for m in re.finditer(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", text, re.M | re.S):
    sections[anchor(m.group(1))] = m.group(2)
errs, prefixes = [], set()
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
for r in alerts:
    url = r.get("annotations", {}).get("runbook_url", "")
    m = re.fullmatch(r"(https?://\S+/docs/runbooks\.md)#([\w-]+)", url)
    if not m:
        errs.append("%s: runbook_url %r is not <URL>/docs/runbooks.md#<anchor>" % (r["alert"], url))
        continue
    prefixes.add(m.group(1))
    if m.group(2) != r["alert"].lower():
        errs.append("%s: anchor %s, expected %s" % (r["alert"], m.group(2), r["alert"].lower()))
    body = sections.get(m.group(2))
    if body is None:
        errs.append("%s: no section #%s in docs/runbooks.md" % (r["alert"], m.group(2)))
        continue
    for part in ("**Meaning.**", "**Investigate.**", "**Act.**", "kmemtop"):
        if part not in body:
            errs.append("%s: its runbook has no %s" % (r["alert"], part))
if len(prefixes) > 1:
    errs.append("runbook_url prefixes differ: %s" % sorted(prefixes))
stale = set(k for k in sections if k.startswith("kmem")) - {r["alert"].lower() for r in alerts}
errs += ["docs/runbooks.md: section #%s has no alert" % k for k in sorted(stale)]
for e in errs:
    print(e)
sys.exit(1 if errs or not alerts else 0)
EOF
}
check "every alert has a runbook_url to its section of docs/runbooks.md (meaning, kmemtop, what to do)" runbooks

# `cluster`: where one Prometheus holds several clusters, nothing of two
# clusters is summed or joined together. Every by()/on() of the rules keeps
# cluster; the dashboard has a cluster variable, selects on it everywhere,
# and keeps cluster in every by()/on() that names a node, namespace or pod.
cluster_label() {
    python3 - "$D/prometheus/rules.yml" "$D/grafana/kmem.json" <<'EOF'
import json, re, sys, yaml
CLAUSE = re.compile(r"\b(by|on)\s*\(([^()]*)\)")
errs = []
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        for kw, labels in CLAUSE.findall(r["expr"]):
            if "cluster" not in [l.strip() for l in labels.split(",")]:
                errs.append("rules.yml %s: %s (%s) without cluster" % (r.get("record") or r["alert"], kw, labels))
d = json.load(open(sys.argv[2]))
var = {v["name"]: v for v in d["templating"]["list"]}
c = var.get("cluster")
if not c or c["type"] != "query" or not c.get("includeAll") or c.get("allValue") != ".*":
    errs.append("dashboard: no cluster variable (query, includeAll, allValue .*)")
order = [v["name"] for v in d["templating"]["list"]]
if "cluster" in order and order.index("cluster") > order.index("job"):
    errs.append("dashboard: the cluster variable comes after job")
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr" and isinstance(v, str):
                exprs.append(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d["panels"])
for n in ("job", "instance", "cgroup"):
    q = var[n]["query"]["query"] if isinstance(var[n]["query"], dict) else var[n]["query"]
    exprs.append(q)
for e in exprs:
    for sel in re.findall(r"\{[^{}]*\}", e):
        if ("$job" in sel or "$instance" in sel) and 'cluster=~"$cluster"' not in sel:
            errs.append("dashboard: selector %s without cluster=~\"$cluster\"" % sel)
    for kw, labels in CLAUSE.findall(e):
        ls = [l.strip() for l in labels.split(",")]
        if set(ls) & {"instance", "node", "namespace", "pod"} and "cluster" not in ls:
            errs.append("dashboard: %s (%s) without cluster in %s" % (kw, labels, e))
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
EOF
}
check "rules and dashboard keep the cluster label apart (by/on, the \$cluster variable)" cluster_label

# Debian's Prometheus is built without Kubernetes service discovery, so its
# promtool rejects kubernetes_sd_configs. Check the file as is where that is
# supported, else a copy with kubernetes_sd_configs swapped for an empty
# static_configs (every other field is still checked).
check_config() {
    if promtool check config "$D/prometheus/prometheus.yml" >"$T/out" 2>&1; then
        return 0
    fi
    grep -q 'field kubernetes_sd_configs not found' "$T/out" || { cat "$T/out"; return 1; }
    mkdir -p "$T/prom" && cp "$D/prometheus/rules.yml" "$T/prom/" &&
        python3 - "$D/prometheus/prometheus.yml" "$T/prom/prometheus.yml" <<'EOF' &&
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for sc in c["scrape_configs"]:
    if sc.pop("kubernetes_sd_configs", None) is not None:
        sc.setdefault("static_configs", []).append({"targets": []})
yaml.safe_dump(c, open(sys.argv[2], "w"))
EOF
        promtool check config "$T/prom/prometheus.yml" >"$T/out" 2>&1 || { cat "$T/out"; return 1; }
}
check "promtool check config deploy/prometheus/prometheus.yml" check_config

# The Kubernetes job keeps exactly the Service of deploy/kubernetes, and its
# job label is the one the alerts and the dashboard use.
scrape_matches_service() {
    python3 - "$D/prometheus/prometheus.yml" "$D/kubernetes/base/service.yaml" <<'EOF'
import re, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
svc = yaml.safe_load(open(sys.argv[2]))
ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
port = [p["name"] for p in svc["spec"]["ports"]]
jobs = [s for s in c["scrape_configs"] if "kubernetes_sd_configs" in s]
assert len(jobs) == 1, "one Kubernetes scrape job"
j = jobs[0]
assert j["job_name"] == "kmem", j["job_name"]
sd = j["kubernetes_sd_configs"][0]
assert sd["role"] == "endpoints" and ns in sd["namespaces"]["names"], sd
keep = [r for r in j["relabel_configs"] if r.get("action") == "keep"]
assert keep, "no keep rule"
r = keep[0]
value = ";".join({"__meta_kubernetes_service_name": name,
                  "__meta_kubernetes_endpoint_port_name": port[0]}[l] for l in r["source_labels"])
assert re.fullmatch(r["regex"], value), (r["regex"], value)
for s in c["scrape_configs"]:
    for sc in s.get("static_configs", []):
        for t in sc["targets"]:
            assert t.endswith(":10465"), t
    if "kubernetes_sd_configs" not in s:
        assert any(r.get("target_label") == "job" and r.get("replacement") == "kmem"
                   for r in s.get("relabel_configs", [])), s["job_name"] + " does not set job=kmem"
EOF
}
check "scrape config keeps the kmem Service and labels job=kmem" scrape_matches_service

# ------------------------------------------------- metric names in queries
ALLOWED="kmem_slab_objects kmem_slab_active_objects kmem_slab_slabs kmem_slab_size_bytes
kmem_slab_active_bytes kmem_slab_info kmem_node_kernel_bytes kmem_cgroup_kernel_bytes
kmem_cgroup_kernel_component_bytes kmem_cgroup_sock_bytes kmem_cgroup_kernel_exact
kmem_cgroup_kernel_upper_bound_bytes kmem_memory_cgroups_dying kmem_cgroup_dying_descendants
container_memory_kernel_usage kmem_collector_success
kmem_collector_duration_seconds kmem_exporter_build_info up kmem_cgroup_slab_bytes"
export ALLOWED

# promql_names.py MODE FILE: print every metric name used by the PromQL of
# FILE (MODE rules: rules.yml exprs; grafana: every "expr" and variable query
# of a dashboard; self: run the extractor's own tests), one per line as
# "name<TAB>where". Exits 1 if an expression uses no metric at all.
cat >"$T/promql_names.py" <<'EOF'
import json, re, sys, yaml

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "inf", "nan", "start", "end"}

def names(expr):
    s = expr
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', s)  # strings
    s = re.sub(r'\{[^{}]*\}', ' ', s)           # label matchers (after strings are gone)
    s = re.sub(r'\[[^\[\]]*\]', ' ', s)         # ranges and subqueries
    s = re.sub(r'\$\{[^}]*\}|\$\w+', ' ', s)    # Grafana variables
    s = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)', r' ', s)
    s = re.sub(r'\blabel_values\s*\(([^(),]*),[^()]*\)', r'(\1)', s)  # label_values(metric, label)
    s = re.sub(r'\blabel_values\s*\(\s*\w+\s*\)', ' ', s)            # label_values(label)
    s = re.sub(r'\boffset\s+-?\w+', ' ', s)
    s = re.sub(r'@\s*(start|end)\s*\(\s*\)|@\s*-?[\d.]+', ' ', s)
    out = set()
    for m in re.finditer(r'(?<![\w.:])[A-Za-z_:][\w:]*', s):
        tok, rest = m.group(0), s[m.end():]
        if re.match(r'\s*\(', rest):            # a function or aggregation
            continue
        if tok.lower() in KEYWORDS:
            continue
        out.add(tok)
    return out

def selftest():
    cases = {
        'sum by (kind) (rate(foo_bar{a="b",c=~"x|y"}[5m])) and on(x) baz': {"foo_bar", "baz"},
        'topk(10, delta(kmem_slab_size_bytes{job="$job"}[$window] @ end()))': {"kmem_slab_size_bytes"},
        'a > ignoring (kind) 0.5 * sum without (kind) (b) unless c offset 5m': {"a", "b", "c"},
        'label_values(kmem_exporter_build_info{job="$job"}, instance)': {"kmem_exporter_build_info"},
        'label_values(job)': set(),
        'count(up == 0) or vector(0) > bool 1e9 + 0x10': {"up"},
        'node:kmem_kernel_bytes:sum / 1024': {"node:kmem_kernel_bytes:sum"},
        'max_over_time(x[1h:5m]) - avg_over_time(y[${__range}])': {"x", "y"},
        'z{__name__=~"foo.*", l="sum(bar)"}': {"z"},
    }
    bad = 0
    for e, want in cases.items():
        got = names(e)
        if got != want:
            print("extractor: %r -> %s, expected %s" % (e, sorted(got), sorted(want)))
            bad = 1
    return bad

def exprs(mode, path):
    if mode == "rules":
        for g in yaml.safe_load(open(path))["groups"]:
            for r in g["rules"]:
                yield r.get("record") or r.get("alert"), r["expr"]
    else:
        d = json.load(open(path))
        def walk(o, where):
            if isinstance(o, dict):
                w = o.get("title", where)
                for k, v in o.items():
                    if k == "expr" and isinstance(v, str):
                        yield w, v
                    else:
                        yield from walk(v, w)
            elif isinstance(o, list):
                for v in o:
                    yield from walk(v, where)
        yield from walk(d.get("panels", []), "panels")
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                yield "$" + v["name"], q

mode = sys.argv[1]
if mode == "self":
    sys.exit(selftest())
empty = 0
n = 0
for where, e in exprs(mode, sys.argv[2]):
    n += 1
    ns = names(e)
    if not ns:
        print("no metric in %s: %s" % (where, e), file=sys.stderr)
        empty = 1
    for x in sorted(ns):
        print("%s\t%s" % (x, where))
if n == 0:
    print("no expressions found", file=sys.stderr)
    empty = 1
sys.exit(empty)
EOF

check "PromQL name extractor passes its own tests" python3 "$T/promql_names.py" self

# check_names DESC MODE FILE [EXTRA_ALLOWED]: every metric name used is allowed
check_names() {
    if ! python3 "$T/promql_names.py" "$2" "$3" >"$T/names"; then
        not_ok "$1 (an expression without a metric name, or none found)"
        return
    fi
    bad=$(awk -F'\t' -v allowed="$ALLOWED $4" '
        BEGIN { n = split(allowed, a, /[ \n]+/); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
        !($1 in ok) { print $1 " (" $2 ")" }' "$T/names" | sort -u | tr '\n' ' ')
    if [ -n "$bad" ]; then not_ok "$1: not a kmem family: $bad"; else ok "$1"; fi
}
RECORDED=$(python3 -c 'import sys, yaml
print(" ".join(r["record"] for g in yaml.safe_load(open(sys.argv[1]))["groups"]
               for r in g["rules"] if "record" in r))' "$D/prometheus/rules.yml")
check_names "rules.yml uses only kmem metric families (and its own recorded series)" \
    rules "$D/prometheus/rules.yml" "$RECORDED"

# ------------------------------------------------------------------ Grafana
G=$D/grafana/kmem.json
check "grafana dashboard is valid JSON" sh -c "jq -e . $G >/dev/null"
check_eq "grafana dashboard schemaVersion" 39 "$(jq -r .schemaVersion "$G")"
check_eq "every panel and variable uses the \${DS_PROMETHEUS} datasource" "" \
    "$(jq -r '[.. | objects | select(has("datasource")) | .datasource
              | select(type == "object") | .uid | select(. != "${DS_PROMETHEUS}")] | unique | join(" ")' "$G")"
check_eq "dashboard has the DS_PROMETHEUS datasource variable" "prometheus" \
    "$(jq -r '.templating.list[] | select(.name == "DS_PROMETHEUS" and .type == "datasource") | .query' "$G")"
check_eq "panel ids are unique" "" \
    "$(jq -r '[.. | objects | select(has("gridPos")) | .id] | group_by(.) | map(select(length > 1) | .[0]) | join(" ")' "$G")"
check_names "dashboard queries use only kmem metric families" grafana "$G"
for fam in kmem_node_kernel_bytes kmem_slab_size_bytes kmem_cgroup_kernel_bytes \
    container_memory_kernel_usage kmem_collector_success; do
    check "dashboard has a panel on $fam" grep -q "^$fam	" "$T/names"
done

# ... and every one of them is in a real scrape of kmem_exporter (v2 fixture
# with Kubernetes pods, so the cgroup families have samples); `up` comes from
# Prometheus itself. The same for the rules (minus their recorded series).
in_real_scrape() { # names-file extra-ignored
    "$B/kmem_exporter" --once --root "$FIXTURES/v2-systemd-containerd" >"$T/scrape" 2>/dev/null || return 1
    missing=$(cut -f1 "$1" | sort -u | while read -r n; do
        case " up $2 " in *" $n "*) continue ;; esac
        grep -q "^${n}[{ ]" "$T/scrape" || echo "$n"
    done | tr '\n' ' ')
    [ -z "$missing" ] || { echo "# not in the scrape: $missing"; return 1; }
}
check "every family the dashboard queries has samples in a real kmem_exporter scrape" \
    in_real_scrape "$T/names" ""
# kmem_cgroup_slab_bytes comes with --collector.owners (off by default): a
# scrape of the owner snapshot's fixture with it.
python3 "$T/promql_names.py" rules "$D/prometheus/rules.yml" >"$T/rnames" &&
    check "every family the rules use has samples in a real kmem_exporter scrape" \
        in_real_scrape "$T/rnames" "$RECORDED kmem_cgroup_slab_bytes"
check "kmem_cgroup_slab_bytes (rules.yml, v1 containers) is in a scrape with --collector.owners" \
    sh -c "'$B/kmem_exporter' --once --collector.owners --root '$FIXTURES/owners-v2' 2>/dev/null | grep -q '^kmem_cgroup_slab_bytes{'"

# Every dashboard query parses as PromQL: promtool checks them as recording
# rules, with the Grafana variables replaced by sample values.
dash_promql_parses() {
    jq -r '.. | .expr? // empty | gsub("\n"; " ")' "$G" | python3 -c '
import sys, yaml
rules = []
for i, l in enumerate(sys.stdin):
    e = (l.strip().replace("$job", "kmem").replace("$instance", ".*").replace("$cluster", ".*")
         .replace("$window", "6h").replace("$cgroup", "/"))
    if e:
        rules.append({"record": "dashboard:expr_%d" % i, "expr": e})
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[1], "w"))
' "$T/dash_rules.yml" && promtool check rules "$T/dash_rules.yml" >"$T/out" 2>&1 || { cat "$T/out"; return 1; }
}
check "every dashboard query parses (promtool)" dash_promql_parses

# --------------------------------------------------------------- Kubernetes
# deploy/kubernetes: base/ (the manifests, the image in `images:`),
# components/ (servicemonitor, podmonitor, prometheusrule), overlays/ (base +
# components), kustomization.yaml (plain = base).
K=$D/kubernetes
KB=$K/base
for f in $(find "$K" -name '*.yaml' | sort); do
    check "$f parses as YAML" python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f"
done
# Each kustomization (base, components) lists every manifest next to it.
for kdir in "$KB" "$K"/components/*; do
    check_eq "$kdir/kustomization.yaml lists every manifest of its directory" \
        "$(find "$kdir" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -printf '%f\n' | sort | tr '\n' ' ')" \
        "$(python3 -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["resources"])), end=" ")' "$kdir/kustomization.yaml")"
done
check_eq "components are kind: Component" "" \
    "$(for c in "$K"/components/*/kustomization.yaml; do grep -q '^kind: Component$' "$c" || echo "$c"; done)"
# The image is set in one place: images: of base/kustomization.yaml; the
# DaemonSet names only "kmem", and nothing else sets an image.
check_eq "the image is set only by images: in base/kustomization.yaml" \
    "$KB/kustomization.yaml" \
    "$(grep -rlE '^ *(images|newName|newTag|digest):' "$K" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "the DaemonSet's image is the bare name kmem that images: rewrites" "kmem" \
    "$(sed -n 's/^ *image: *//p' "$KB/daemonset.yaml")"

# The PrometheusRule is generated from rules.yml, and is up to date.
PR=$K/components/prometheusrule/prometheusrule.yaml
check "prometheusrule.yaml is what scripts/gen-prometheusrule.sh makes of rules.yml (else run it again)" \
    sh -c "scripts/gen-prometheusrule.sh >'$T/prometheusrule.yaml' && diff -u '$PR' '$T/prometheusrule.yaml'"
check "gen-prometheusrule.sh refuses a rules file with another top-level key" \
    sh -c "printf 'groups: []\nfoo: 1\n' >'$T/bad_rules.yml'; ! scripts/gen-prometheusrule.sh '$T/bad_rules.yml' >/dev/null 2>&1"

# Render every variant as `kubectl apply -k` would, then check them together.
if command -v kubectl >/dev/null 2>&1; then
    variants="plain=$K base=$KB"
    for o in "$K"/overlays/*/; do
        o=${o%/}
        variants="$variants ${o##*/}=$o"
    done
    rendered=""
    for v in $variants; do
        name=${v%%=*}
        dir=${v#*=}
        check "kubectl kustomize $dir renders" \
            sh -c "kubectl kustomize '$dir' >'$T/render-$name.yaml' 2>'$T/kustomize.err' || { cat '$T/kustomize.err'; exit 1; }"
        rendered="$rendered $name=$T/render-$name.yaml"
    done
    # The runbook base is a kustomize setting: change the overlay's one line
    # (in a copy) and every alert's runbook_url of the rendered
    # PrometheusRule moves to it, anchors kept; the ConfigMap is not applied.
    runbook_base() {
        rm -rf "$T/kcopy" && cp -r "$K" "$T/kcopy" &&
            sed -i 's|base=https://kmem.invalid/docs/runbooks.md|base=https://wiki.example.org/kmem/runbooks.md|' \
                "$T/kcopy/overlays/$1/kustomization.yaml" &&
            kubectl kustomize "$T/kcopy/overlays/$1" >"$T/rb.yaml" &&
            python3 - "$T/rb.yaml" "$D/prometheus/rules.yml" <<'EOF2'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rules = yaml.safe_load(open(sys.argv[2]))
want = sorted("https://wiki.example.org/kmem/runbooks.md#" + r["alert"].lower()
              for g in rules["groups"] for r in g["rules"] if "alert" in r)
got = sorted(r["annotations"]["runbook_url"] for d in docs if d["kind"] == "PrometheusRule"
             for g in d["spec"]["groups"] for r in g["rules"] if "alert" in r)
cms = [d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"]
if got != want or len(want) < 8 or cms:
    print("runbook_urls %s, expected %s; ConfigMaps applied: %s" % (got, want, cms))
    sys.exit(1)
EOF2
    }
    for o in "$K"/overlays/*/; do
        o=${o%/}
        check "overlay ${o##*/}: the runbook base is its kmem-runbooks base= (every alert's runbook_url follows)" \
            runbook_base "${o##*/}"
    done
    check "at least two overlays (ServiceMonitor and PodMonitor)" test "$(ls -d "$K"/overlays/*/ | wc -l)" -ge 2
    # shellcheck disable=SC2086
    python3 tests/integration/kustomize_check.py "$D/prometheus/rules.yml" "$D/prometheus/prometheus.yml" \
        "$KB/kustomization.yaml" $rendered || not_ok "kustomize_check.py found errors (above)"
    # Every rendered variant records: the recorder's flags, the writable
    # hostPath /var/lib/kmem (DirectoryOrCreate) and its mount.
    recording_rendered() {
        python3 - "$@" <<'EOF'
import sys, yaml
n = 0
for f in sys.argv[1:]:
    for d in yaml.safe_load_all(open(f)):
        if not d or d.get("kind") != "DaemonSet":
            continue
        pod = d["spec"]["template"]["spec"]
        [c] = pod["containers"]
        args = c.get("args", [])
        vol = [v for v in pod["volumes"] if v.get("hostPath", {}).get("path") == "/var/lib/kmem"]
        ok = ("--record.dir=/var/lib/kmem" in args and "--record.retain=7d" in args and
              "--record.max-size=256MiB" in args and len(vol) == 1 and
              vol[0]["hostPath"].get("type") == "DirectoryOrCreate" and
              [m for m in c["volumeMounts"] if m["name"] == vol[0]["name"] and
               m["mountPath"] == "/var/lib/kmem" and not m.get("readOnly")])
        print("%s: %s" % (f, "records to /var/lib/kmem" if ok else "does NOT record (args %s)" % args))
        n += bool(ok)
sys.exit(0 if n == len(sys.argv) - 1 and n >= 3 else 1)
EOF
    }
    files=""
    for r in $rendered; do files="$files ${r#*=}"; done
    # shellcheck disable=SC2086 # one word per rendered file
    check "every rendered DaemonSet records to the hostPath /var/lib/kmem ($(echo $files | wc -w) variants)" \
        recording_rendered $files
else
    ok "kubectl kustomize renders every variant # SKIP kubectl is not installed (not packaged in Debian 12)"
fi

daemonset_contract() {
    python3 - "$KB" <<'EOF'
import sys, yaml
K = sys.argv[1]
ld = lambda f: yaml.safe_load(open("%s/%s" % (K, f)))
ns, sa, ds, svc, rq = (ld("namespace.yaml"), ld("serviceaccount.yaml"), ld("daemonset.yaml"),
                       ld("service.yaml"), ld("resourcequota.yaml"))
errs = []
def want(cond, msg):
    if not cond:
        errs.append(msg)
N = ns["metadata"]["name"]
for o in (sa, ds, svc, rq):
    want(o["metadata"]["namespace"] == N, "%s not in namespace %s" % (o["kind"], N))
want(ds["kind"] == "DaemonSet" and ds["apiVersion"] == "apps/v1", "DaemonSet apps/v1")
pod = ds["spec"]["template"]["spec"]
want(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
     "selector does not match the pod labels")
want(svc["spec"]["selector"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
     "Service selector does not match the pod labels")
want(pod["serviceAccountName"] == sa["metadata"]["name"], "service account")
want(pod.get("hostPID") is False, "hostPID must be false")
want(pod.get("hostNetwork") in (None, False), "hostNetwork must be false")
want(pod.get("priorityClassName") == "system-node-critical", "priorityClassName system-node-critical")
# GKE admits the critical classes outside kube-system only with a quota on them.
scopes = rq["spec"]["scopeSelector"]["matchExpressions"]
want(any(e["scopeName"] == "PriorityClass" and e["operator"] == "In" and
         pod.get("priorityClassName") in e["values"] for e in scopes),
     "ResourceQuota scoped to the DaemonSet's priority class")
want({"operator": "Exists"} in pod.get("tolerations", []), "toleration operator Exists")
want(pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", "pod seccomp RuntimeDefault")
[c] = pod["containers"]
argv = c["command"] + c.get("args", [])
want(argv[0].endswith("kmem_exporter"), "runs kmem_exporter")
want(" ".join(argv[1:]) == "--root /host --web.listen-address :10465 --record.dir=/var/lib/kmem"
     " --record.retain=7d --record.max-size=256MiB", "args: %s" % argv[1:])
sc = c["securityContext"]
want(sc["runAsUser"] == 0, "runAsUser 0")
want(sc["readOnlyRootFilesystem"] is True, "readOnlyRootFilesystem")
want(sc["allowPrivilegeEscalation"] is False, "allowPrivilegeEscalation false")
want(sc.get("privileged") in (None, False), "not privileged")
want(sc["capabilities"] == {"drop": ["ALL"], "add": ["DAC_READ_SEARCH"]}, "capabilities %s" % sc["capabilities"])
want(sc["seccompProfile"]["type"] == "RuntimeDefault", "container seccomp RuntimeDefault")
# The limit holds the exporter (~3 MiB) and the recorder (27 MiB at 5000 cgroups, docs/recorder.md).
want(c["resources"] == {"requests": {"cpu": "10m", "memory": "16Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"}}, "resources %s" % c["resources"])
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
want(ports.get("metrics") == 10465, "container port metrics 10465")
for probe in ("livenessProbe", "readinessProbe"):
    h = c[probe]["httpGet"]
    want(h["path"] in ("/metrics", "/-/healthy", "/-/ready") and h["port"] in ("metrics", 10465),
         "%s httpGet /metrics (or /-/healthy, /-/ready)" % probe)
# Exactly these host paths, read-only, at /host<path>: not all of /var/log;
# and the recording, the one writable mount, at /var/lib/kmem.
vols = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
HOST = ("/proc", "/sys", "/var/log/pods", "/var/log/containers", "/var/log/dmesg")
REC = "/var/lib/kmem"
want(sorted(vols.values()) == sorted(HOST + (REC,)), "hostPath volumes %s, want %s" % (sorted(vols.values()), HOST + (REC,)))
m = mounts.get(REC)
want(m is not None and vols.get(m["name"]) == REC and not m.get("readOnly"), "%s mounted read-write at %s" % (REC, REC))
want([mm["mountPath"] for mm in c["volumeMounts"] if not mm.get("readOnly")] == [REC], "only %s is writable" % REC)
for host in HOST:
    m = mounts.get("/host" + host)
    want(m is not None and vols.get(m["name"]) == host and m.get("readOnly") is True,
         "%s mounted read-only at /host%s" % (host, host))
want(len(mounts) == len(HOST) + 1, "only the host mounts and the recording: %s" % sorted(mounts))
# The boot log is a file the node may lack (deploy/systemd/kmem-dmesg.service
# saves it): FileOrCreate, so the pod starts anyway; the others are directories.
types = {v["hostPath"]["path"]: v["hostPath"].get("type") for v in pod["volumes"]}
want(types.get("/var/log/dmesg") == "FileOrCreate", "/var/log/dmesg hostPath type FileOrCreate")
want(all(types.get(h) == "Directory" for h in HOST if h != "/var/log/dmesg"), "directory hostPaths %s" % types)
want(types.get(REC) == "DirectoryOrCreate", "%s hostPath type DirectoryOrCreate (the kubelet makes it)" % REC)
# What the pod may not see, by choice: no capability for the kernel log or /proc/iomem.
want(not {"SYSLOG", "SYS_ADMIN"} & set(sc["capabilities"].get("add", [])), "no SYSLOG or SYS_ADMIN")
want(svc["spec"]["clusterIP"] == "None", "Service is headless")
[sp] = svc["spec"]["ports"]
want(sp["name"] == "metrics" and sp["port"] == 10465 and sp["targetPort"] in ("metrics", 10465), "Service port")
a = svc["metadata"].get("annotations", {})
want(a.get("prometheus.io/scrape") == "true" and a.get("prometheus.io/port") == "10465", "prometheus.io annotations")
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
EOF
}
check "DaemonSet, Service and ResourceQuota follow the deployment contract" daemonset_contract

# ------------------------------------------------------------------ systemd
U=$D/systemd/kmem_exporter.service
for d in DynamicUser=yes AmbientCapabilities=CAP_DAC_READ_SEARCH CapabilityBoundingSet=CAP_DAC_READ_SEARCH \
    NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
    ProtectKernelTunables=yes ProtectKernelModules=yes ProtectControlGroups=yes \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" MemoryDenyWriteExecute=yes \
    SystemCallFilter=@system-service LockPersonality=yes RestrictRealtime=yes RestrictNamespaces=yes \
    StateDirectory=kmem; do
    check "systemd unit sets $d" grep -qx "$d" "$U"
done
check "systemd unit records to its StateDirectory (--record.dir=/var/lib/kmem)" \
    grep -q '^ExecStart=.* --record.dir=/var/lib/kmem ' "$U"
check "systemd unit does not set ProcSubset=pid or PrivateUsers (they break reading /proc/slabinfo)" \
    sh -c "! grep -Eq '^(ProcSubset=pid|PrivateUsers=(yes|true|1))' $U"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify wants ExecStart to exist and Documentation= man pages installed:
    # point ExecStart at a stand-in and MANPATH at man/.
    verify_unit() {
        mkdir -p "$T/unit" "$T/man/man1" "$T/man/man8" &&
            cp "$B"/man/*.1 "$T/man/man1/" && cp "$B"/man/*.8 "$T/man/man8/" &&
            ln -sf /bin/true "$T/unit/kmem_exporter" &&
            sed "s|^ExecStart=/usr/local/sbin/kmem_exporter|ExecStart=$T/unit/kmem_exporter|" "$U" \
                >"$T/unit/kmem_exporter.service" &&
            MANPATH="$T/man" systemd-analyze verify "$T/unit/kmem_exporter.service" >"$T/out" 2>&1 &&
            ! grep . "$T/out" || { cat "$T/out"; return 1; }
    }
    check "systemd-analyze verify kmem_exporter.service" verify_unit
    # The boot-log unit (the DaemonSet's /var/log/dmesg): verify passes, and
    # it saves the kernel facility at boot into that file.
    check_eq "systemd-analyze verify kmem-dmesg.service" "" \
        "$(systemd-analyze verify "$D/systemd/kmem-dmesg.service" 2>&1)"
    check "kmem-dmesg.service writes dmesg --kernel to /var/log/dmesg" sh -c "
        grep -qx 'ExecStart=/usr/bin/dmesg --kernel' '$D/systemd/kmem-dmesg.service' &&
        grep -qx 'StandardOutput=truncate:/var/log/dmesg' '$D/systemd/kmem-dmesg.service'"
    check "systemd-analyze security: exposure at most 2.0 (OK)" \
        sh -c "systemd-analyze security --offline=yes --threshold=20 $U >/dev/null 2>&1"
else
    check "systemd unit has [Unit] [Service] [Install] and only Key=value lines" \
        awk '/^(#|$)/ { next } /^\[(Unit|Service|Install)\]$/ { s[$0] = 1; next }
             !/^[A-Za-z]+=/ { bad = 1 } END { exit bad || length(s) != 3 }' "$U"
fi

# ---------------------------------------------------------------- Dockerfile
F=$D/Dockerfile
# The base image is set in one place: ARG DEBIAN (before the first FROM),
# whose :12 the build stage uses; the runtime is FROM scratch, no other FROM
# names a registry.
check_eq "Dockerfile: stages FROM \${DEBIAN}:12 (build), the rootfs from it, the runtime FROM scratch, DEBIAN an ARG defaulting to debian" \
    'ARG DEBIAN=debian|FROM ${DEBIAN}:12 AS build|FROM build AS rootfs|FROM scratch' \
    "$(grep -E '^(FROM|ARG DEBIAN)' "$F" | tr '\n' '|' | sed 's/|$//')"
# .dockerignore (podman, buildah, the classic builder) and
# Dockerfile.dockerignore (BuildKit prefers it) are the same file, and keep
# .git and local build trees out of the context (image.sh checks the result).
check "deploy/Dockerfile.dockerignore is a copy of .dockerignore" cmp -s .dockerignore "$F.dockerignore"
dockerignore_excludes() {
    python3 - .dockerignore <<'EOF2'
import fnmatch, sys
pats = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
def ignored(path):  # last matching pattern wins; a directory pattern covers its contents
    verdict = False
    for p in pats:
        neg = p.startswith("!")
        q = p[1:] if neg else p
        q = q.rstrip("/")
        parts = path.split("/")
        hit = any(fnmatch.fnmatchcase("/".join(parts[:i]), q) or
                  (q.startswith("**/") and fnmatch.fnmatchcase("/".join(parts[:i]), q[3:]))
                  for i in range(1, len(parts) + 1))
        if hit:
            verdict = not neg
    return verdict
bad = [p for p in (".git", ".git/HEAD", "build/kmemtop", "build-san/kmemtop", "tests/fixtures/x",
                   "src/lib/x.o") if not ignored(p)]
bad += ["kept out: " + p for p in ("Makefile", "VERSION", "src/lib/kmem.h", "src/exporter/main.c") if ignored(p)]
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF2
}
check ".dockerignore keeps .git, build trees and tests out, and Makefile, VERSION, src in" dockerignore_excludes
check "Dockerfile: builds build/kmemtop and build/kmem_exporter" grep -q 'make .*build/kmemtop build/kmem_exporter' "$F"
check "Dockerfile: slabtop link and kmem_exporter entrypoint" \
    sh -c "grep -q 'ln -s kmemtop \$r/usr/bin/slabtop' $F && grep -q '^ENTRYPOINT \[\"/usr/bin/kmem_exporter\"\]' $F"
# The build stage's packages are ones scripts/deps.sh installs for the build too.
build_pkgs_known() {
    pkgs=$(sed -n '/^FROM .* AS build/,/^FROM/p' "$F" | sed -n '/apt-get install/,/rm -rf/p' |
        tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vxE 'apt-get|install|clean|rm|rf|&&|-y')
    deps=$(sed -n '/^[A-Z_]*PKGS="/,/"$/p' scripts/deps.sh | tr ' "=' '\n\n\n')
    r=0
    for p in $pkgs; do echo "$deps" | grep -qx "$p" || { echo "$p not in scripts/deps.sh"; r=1; }; done
    [ -n "$pkgs" ] && return $r
}
check "Dockerfile build packages are in scripts/deps.sh" build_pkgs_known
# The runtime stage is the rootfs stage's /rootfs and nothing else; its
# libraries are what `ldd` lists there (image.sh runs every program of the image).
runtime_stage() {
    rt=$(sed -n '/^FROM scratch/,$p' "$F" | grep -E '^(RUN|COPY|ADD|FROM)')
    [ "$rt" = "$(printf 'FROM scratch\nCOPY --from=rootfs /rootfs /')" ] || { echo "$rt"; return 1; }
    sed -n '/^FROM build AS rootfs/,/^FROM/p' "$F" | grep -q 'ldd \$r/usr/bin/kmemtop \$r/usr/bin/kmem_exporter'
}
check "Dockerfile runtime stage is FROM scratch with only the rootfs (the ldd closure of the programs)" runtime_stage

# ----------------------------------------------------------- the port 10465
check "port 10465 everywhere (DaemonSet, Service, systemd, Dockerfile, man page)" sh -c "
    grep -q ':10465' $KB/daemonset.yaml && grep -q 'port: 10465' $KB/service.yaml &&
    grep -q -- '--web.listen-address=:10465' $U && grep -q '^EXPOSE 10465' $F &&
    grep -q ':10465' $B/man/kmem_exporter.8"
default_port=$("$B/kmem_exporter" --help 2>&1 | sed -n 's/.*listen-address.*(default :\([0-9]*\)).*/\1/p')
check "the exporter's default port ($default_port) is outside 9100-9999 (the Prometheus wiki's allocated range)" \
    sh -c "[ -n '$default_port' ] && { [ '$default_port' -lt 9100 ] || [ '$default_port' -gt 9999 ]; } && [ '$default_port' = 10465 ]"

# ------------------------------------------------------------------ man pages
# The pages are generated into $B/man from man/*.in with the version of VERSION.
for m in "$B"/man/*.1 "$B"/man/*.8; do
    check "$m carries VERSION ($(cat "$TOP/VERSION"))" grep -qF "\"kmem $(cat "$TOP/VERSION")\"" "$m"
    check "$m renders with man -l without warnings" \
        sh -c "out=\$(MANWIDTH=80 man -l '$m' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
    check "$m: groff -man -ww -z is silent" \
        sh -c "out=\$(groff -man -ww -z '$m' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
done
for o in -o --once -s --sort -d --delay --root --cgroups --report --json --capture -h -V \
    'SLABTOP COMPATIBILITY' /proc/slabinfo /proc/meminfo /proc/vmstat /proc/zoneinfo /sys/fs/cgroup /var/log/pods; do
    check "kmemtop(1) documents $o" sh -c "MANWIDTH=200 man -l $B/man/kmemtop.1 2>/dev/null | grep -qF -- '$o'"
done
for o in --web.listen-address --web.telemetry-path --web.config.file --root --path.procfs --path.sysfs \
    --once --textfile --collect.min-interval --collector.slabinfo.include --collector.slabinfo.exclude \
    --run-as --web.timestamps; do
    check "kmem_exporter(8) documents $o" sh -c "MANWIDTH=200 man -l $B/man/kmem_exporter.8 2>/dev/null | grep -qF -- '$o'"
done

# Every option that the programs' --help lists is in their man page.
help_documented() { # PROG MANPAGE
    [ -x "$B/$1" ] || { echo "$B/$1 is not built"; return 1; }
    "$B/$1" --help >"$T/help" 2>&1 || { echo "$1 --help failed"; return 1; }
    opts=$(grep -oE -- '(^| )--?(\[no-\])?[a-zA-Z][a-z0-9.-]*' "$T/help" | sed 's/ //; s/\[no-\]//' | sort -u)
    [ -n "$opts" ] || { echo "no options in $1 --help"; return 1; }
    MANWIDTH=200 man -l "$2" 2>/dev/null >"$T/man.txt"
    r=0
    for o in $opts; do
        grep -qE -- "(^|[^a-z.-])$o([^a-z.-]|\$)" "$T/man.txt" || { echo "$o is not in $2"; r=1; }
    done
    return $r
}
check "every option of kmemtop --help is in kmemtop(1)" help_documented kmemtop "$B/man/kmemtop.1"
check "every option of kmem_exporter --help is in kmem_exporter(8)" help_documented kmem_exporter "$B/man/kmem_exporter.8"

# -------------------------------------- the program accepts the deploy flags
# Run the exporter with exactly the flags the DaemonSet, the systemd unit and
# the image pass, plus --once, on the shared fixture (--root replaced by it).
deploy_argvs() {
    python3 - "$KB/daemonset.yaml" "$U" "$F" <<'EOF'
import json, shlex, sys, yaml
ds = yaml.safe_load(open(sys.argv[1]))
c = ds["spec"]["template"]["spec"]["containers"][0]
print("daemonset\t" + shlex.join((c["command"] + c.get("args", []))[1:]))
for l in open(sys.argv[2]):
    if l.startswith("ExecStart="):
        print("systemd\t" + shlex.join(shlex.split(l.split("=", 1)[1])[1:]))
for l in open(sys.argv[3]):
    if l.startswith("CMD "):
        print("Dockerfile CMD\t" + shlex.join(json.loads(l[4:])))
EOF
}
deploy_argvs >"$T/argvs" || not_ok "extract the exporter arguments from the deployment files"
while IFS='	' read -r where args; do
    eval "set -- $args"
    fixed=""
    saw_root=0
    while [ $# -gt 0 ]; do
        case $1 in
        --root) fixed="$fixed --root '$SHARED_FIXTURE'"; saw_root=1; shift ;;
        --root=*) fixed="$fixed --root='$SHARED_FIXTURE'"; saw_root=1 ;;
        *) fixed="$fixed '$1'" ;;
        esac
        shift
    done
    [ $saw_root = 1 ] || fixed="$fixed --root '$SHARED_FIXTURE'"
    run_exporter() {
        [ -x "$B/kmem_exporter" ] || { echo "$B/kmem_exporter is not built"; return 1; }
        eval "timeout 30 '$B/kmem_exporter' $fixed --once" >"$T/expo" 2>"$T/err" ||
            { echo "exit $?:"; cat "$T/err"; return 1; }
        grep -q '^kmem_exporter_build_info' "$T/expo" || { echo "no kmem_exporter_build_info"; return 1; }
    }
    check "kmem_exporter accepts the $where arguments ($args) with --once" run_exporter
done <"$T/argvs"
check_eq "three sets of deployment arguments checked" 3 "$(wc -l <"$T/argvs")"

finish
