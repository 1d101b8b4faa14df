#!/bin/sh
# deploy/kubectl-kmem, the `kubectl kmem` plugin, without a cluster:
# - the pod it renders (--dry-run) for every command is a valid Pod
#   (python3-yaml against the fields the API server requires and the Pod
#   and Container field names, so a typo is caught; and kubectl itself
#   parses it, `kubectl label --local`, where kubectl is installed: a client
#   dry run would need an API server) with the node's view: nodeName,
#   hostPID, hostNetwork, the host's /sys and /var/log, privileged, the image;
#   replay's pod alone also mounts the node's /var/lib/kmem read-only;
# - the whole flow against a fake kubectl on PATH: apply (the manifest of
#   --dry-run), wait, exec of the right kmemtop command, cp for capture,
#   delete, also when the command fails; the exit status is the command's;
# - bad arguments: one line, exit 2, nothing applied.
. "$(dirname "$0")/../lib.sh"

P="$TOP/deploy/kubectl-kmem"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM
command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null ||
    { not_ok "python3-yaml is installed (make deps)"; finish; }

cat >"$T/podcheck.py" <<'PY'
import re, sys, yaml
path, cmd, node, image, ns = sys.argv[1:6]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
errs = []
def need(cond, what):
    if not cond:
        errs.append(what)
need(len(docs) == 1, "one object, got %d" % len(docs))
p = docs[0]
POD = {"apiVersion", "kind", "metadata", "spec"}
SPEC = {"nodeName", "hostPID", "hostNetwork", "restartPolicy", "activeDeadlineSeconds",
        "terminationGracePeriodSeconds", "automountServiceAccountToken", "tolerations",
        "containers", "volumes", "priorityClassName", "serviceAccountName", "securityContext"}
CONT = {"name", "image", "imagePullPolicy", "command", "args", "securityContext", "resources",
        "volumeMounts", "stdin", "tty", "env"}
need(set(p) <= POD, "unknown Pod fields %s" % sorted(set(p) - POD))
need(p.get("apiVersion") == "v1" and p.get("kind") == "Pod", "apiVersion v1, kind Pod")
md = p.get("metadata", {})
name = md.get("name", "")
need(re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name) is not None, "name %r is a DNS-1123 label" % name)
need(md.get("namespace") == ns, "namespace %s" % ns)
need(all(re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", str(v)) for v in md.get("labels", {}).values()),
     "label values are valid")
s = p.get("spec", {})
need(set(s) <= SPEC, "unknown PodSpec fields %s" % sorted(set(s) - SPEC))
need(s.get("nodeName") == node, "nodeName %s" % node)
need(s.get("hostPID") is True, "hostPID (the host's /proc)")
need(s.get("hostNetwork") is True, "hostNetwork (the host's /proc/net)")
need(s.get("restartPolicy") == "Never", "restartPolicy Never")
need(isinstance(s.get("activeDeadlineSeconds"), int) and 0 < s["activeDeadlineSeconds"] <= 7200,
     "activeDeadlineSeconds bounds the pod's life")
need({"operator": "Exists"} in s.get("tolerations", []), "tolerates every taint (any node)")
cs = s.get("containers", [])
need(len(cs) == 1, "one container")
c = cs[0] if cs else {}
need(set(c) <= CONT, "unknown Container fields %s" % sorted(set(c) - CONT))
need(c.get("name") and c.get("image") == image, "container name, image %s" % image)
need(isinstance(c.get("command"), list) and all(isinstance(a, str) for a in c["command"]), "command: strings")
need(c.get("securityContext", {}).get("privileged") is True, "privileged (BPF for alloc and owners)")
vols = {v["name"]: v for v in s.get("volumes", [])}
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
for m in mounts.values():
    need(m["name"] in vols, "mount %s has a volume" % m["name"])
for host in ("/sys", "/var/log"):
    m = mounts.get(host)
    need(m is not None and vols.get(m["name"], {}).get("hostPath", {}).get("path") == host,
         "the host's %s at %s" % (host, host))
need(mounts.get("/var/log", {}).get("readOnly") is True, "/var/log read-only")
rec = mounts.get("/var/lib/kmem")
if cmd == "replay":
    v = vols.get(rec["name"], {}) if rec else {}
    need(rec is not None and rec.get("readOnly") is True and v.get("hostPath", {}).get("path") == "/var/lib/kmem"
         and v["hostPath"].get("type") == "Directory",
         "the node's recording /var/lib/kmem (hostPath Directory) read-only at /var/lib/kmem")
else:
    need(rec is None and "/var/lib/kmem" not in [v.get("hostPath", {}).get("path") for v in vols.values()],
         "no recording mount outside replay")
need(len(mounts) == len(vols) == (3 if cmd == "replay" else 2), "mounts %s" % sorted(mounts))
for e in errs:
    print("%s: %s" % (cmd, e))
sys.exit(1 if errs else 0)
PY

NODE=worker-7.example.net
IMG=registry.example.com/kmem:0.1.0
n=0
for c in "top" "report" "alloc 5" "owners" "capture n7.tar.gz" "replay" "replay-list"; do
    # shellcheck disable=SC2086 # the command and its argument
    set -- $c
    sub=$1
    shift
    # replay-list: replay with ARGS (the file name differs, the command is replay)
    [ "$sub" = replay-list ] && set -- --at "1h ago" --report
    f=$sub
    [ "$sub" = replay-list ] && sub=replay
    "$P" --dry-run --image "$IMG" "$sub" "$NODE" "$@" >"$T/$f.yaml" 2>"$T/err"
    check_eq "$f: --dry-run exits 0" 0 $?
    check "$f: the pod is valid and has the node's view" python3 "$T/podcheck.py" "$T/$f.yaml" "$sub" "$NODE" "$IMG" kmem
    if command -v kubectl >/dev/null 2>&1; then
        check "$f: kubectl parses the manifest (label --local)" \
            sh -c "KUBECONFIG=/dev/null kubectl label --local -f '$T/$f.yaml' kmem.test=1 -o yaml >'$T/k.out' 2>&1 &&
                   grep -q '^kind: Pod' '$T/k.out' || { cat '$T/k.out'; exit 1; }"
    fi
    n=$((n + 1))
done
check "every command's manifest was checked ($n)" test "$n" -eq 7
check "report: runs kmemtop --report" grep -q -- "-- kmemtop --report$" "$T/report.yaml"
check "alloc: runs kmemtop --alloc SECS" grep -q -- "-- kmemtop --alloc 5$" "$T/alloc.yaml"
check "owners: runs kmemtop --cgroups --by-cache -o" grep -q -- "-- kmemtop --cgroups --by-cache -o$" "$T/owners.yaml"
check "top: exec with a terminal" grep -q -- "exec -it .* -- kmemtop$" "$T/top.yaml"
check "replay: the time-travel TUI, with a terminal" grep -q -- "exec -it .* -- kmemtop --replay /var/lib/kmem$" "$T/replay.yaml"
check "replay ARGS: kmemtop --replay /var/lib/kmem ARGS, no terminal" \
    grep -q -- "exec kmem-replay-[-a-z0-9]* -- kmemtop --replay /var/lib/kmem --at '1h ago' --report$" "$T/replay-list.yaml"
check "--image defaults to \$KMEM_IMAGE" sh -c "KMEM_IMAGE=x.io/k:1 '$P' --dry-run report n1 | grep -q 'image: x.io/k:1'"
check "-n sets the namespace" sh -c "'$P' --dry-run -n debug report n1 | grep -q 'namespace: debug'"
# The options kmemtop is given exist (its --help lists them).
if [ -x "$B/kmemtop" ]; then
    "$B/kmemtop" --help >"$T/help" 2>&1
    for o in --report --alloc --cgroups --by-cache --capture --replay --at --list --window; do
        check "kmemtop --help has $o (the plugin runs it)" grep -q -- " $o" "$T/help"
    done
fi

# ---- the flow, against a fake kubectl ----------------------------------
mkdir -p "$T/bin"
cat >"$T/bin/kubectl" <<'FAKE'
#!/bin/sh
# Logs its arguments; apply saves stdin; exec exits $FAKE_EXEC_RC; cp writes the file.
echo "$*" >>"$FAKE_LOG"
[ -z "${FAKE_ARGV:-}" ] || printf '%s\n' "$@" >"$FAKE_ARGV.$(date +%s%N)"
for a in "$@"; do last=$a; done
case " $* " in
*" apply "*) cat >"$FAKE_DIR/applied.yaml" ;;
*" wait "*) exit "${FAKE_WAIT_RC:-0}" ;;
*" exec "*) echo "ran: $*"; exit "${FAKE_EXEC_RC:-0}" ;;
*" cp "*) echo tarball >"$last" ;;
esac
exit 0
FAKE
chmod 755 "$T/bin/kubectl"
run_fake() { # rc-of-exec rc-of-wait args...
    r1=$1 r2=$2
    shift 2
    : >"$T/log"
    FAKE_EXEC_RC=$r1 FAKE_WAIT_RC=$r2 FAKE_LOG="$T/log" FAKE_DIR="$T" PATH="$T/bin:$PATH" \
        "$P" --image "$IMG" "$@" >"$T/fout" 2>"$T/ferr" </dev/null
}

run_fake 0 0 report "$NODE"
check_eq "report: exit 0" 0 $?
pod=$(sed -n 's/^  name: //p' "$T/applied.yaml")
check "report: apply, wait Ready, exec kmemtop --report, delete, in that order" sh -c "
    grep -n . '$T/log' | tr '\n' ' ' | grep -Eq '1:apply -f - 2:-n kmem wait --for=condition=Ready pod/$pod .*3:-n kmem exec $pod -- kmemtop --report 4:-n kmem delete pod $pod '"
check "report: the applied pod is the --dry-run manifest (but its name)" sh -c "
    sed '/^  name: /d' '$T/applied.yaml' >'$T/a' && sed -e '/^  name: /d' -e '/^# then:/d' '$T/report.yaml' >'$T/d' && cmp -s '$T/a' '$T/d'"
check "report: kmemtop's output is shown" grep -q "ran: .*kmemtop --report" "$T/fout"

run_fake 3 0 alloc "$NODE" 10
check_eq "alloc: the command's exit status (3) is the plugin's" 3 $?
check "alloc: the pod is deleted after a failure too" grep -q "delete pod" "$T/log"

run_fake 0 1 owners "$NODE"
check_eq "owners: a pod that never gets Ready: exit 1" 1 $?
check "... nothing is run in it, and it is deleted" sh -c "! grep -q ' exec ' '$T/log' && grep -q 'delete pod' '$T/log'"

(cd "$T" && run_fake 0 0 capture "$NODE" got.tar.gz)
check_eq "capture: exit 0" 0 $?
check "capture: kmemtop --capture in the pod, kubectl cp back, then delete" sh -c "
    grep -q 'exec .* -- kmemtop --capture /tmp/got.tar.gz' '$T/log' &&
    grep -q 'cp .*:/tmp/got.tar.gz got.tar.gz' '$T/log' && test -s '$T/got.tar.gz' && tail -1 '$T/log' | grep -q 'delete pod'"
check "capture: says how to read it" grep -q "kmemtop --root got" "$T/ferr"

# replay: argv words reach kubectl exec one by one (no shell: quotes,
# spaces, $ and ; stay inside their word); the TUI without ARGS gets -it.
rm -rf "$T/argv" && mkdir "$T/argv"
# shellcheck disable=SC2016 # $HOME is literal: it must reach kmemtop unexpanded
FAKE_ARGV="$T/argv/a" run_fake 0 0 replay "$NODE" --at '2h ago; rm -rf $HOME' --report
check_eq "replay ARGS: exit 0" 0 $?
check "replay ARGS: apply, wait, exec (no -it), delete" sh -c "
    grep -n . '$T/log' | tr '\n' ' ' | grep -Eq '1:apply -f - 2:-n kmem wait .*3:-n kmem exec kmem-replay-[^ ]* -- kmemtop --replay /var/lib/kmem --at 2h ago; rm -rf [$]HOME --report 4:-n kmem delete pod '"
ex=$(grep -l '^exec$' "$T"/argv/a.* | head -1)
# shellcheck disable=SC2016
printf '%s\n' -n kmem exec "$(sed -n 's/^  name: //p' "$T/applied.yaml")" -- kmemtop --replay /var/lib/kmem \
    --at '2h ago; rm -rf $HOME' --report >"$T/argv.want"
check "replay ARGS: kubectl exec's argv is exactly the words given ($(wc -l <"$T/argv.want") words)" \
    sh -c "test -n '$ex' && cmp '$T/argv.want' '$ex' && test \$(wc -l <'$ex') -eq 11"
check "replay: the applied pod mounts the node's /var/lib/kmem read-only" \
    sh -c "grep -A2 -- '- name: recording' '$T/applied.yaml' | grep -q 'mountPath: /var/lib/kmem' &&
           grep -A2 -- 'mountPath: /var/lib/kmem' '$T/applied.yaml' | grep -q 'readOnly: true'"
run_fake 0 0 replay "$NODE"
check "replay without ARGS: exec -it kmemtop --replay /var/lib/kmem (the TUI)" \
    grep -Eq '^-n kmem exec -it kmem-replay-[^ ]* -- kmemtop --replay /var/lib/kmem$' "$T/log"
run_fake 4 0 replay "$NODE" --list
check_eq "replay: kmemtop's exit status (4) is the plugin's" 4 $?
check "replay: the pod is deleted after a failure too" grep -q "delete pod" "$T/log"

run_fake 0 0 --keep report "$NODE"
check "--keep: the pod is not deleted" sh -c "! grep -q 'delete' '$T/log'"

# ---- bad arguments: one line, exit 2, nothing applied --------------------
bad() { # description args...
    d=$1
    shift
    run_fake 0 0 "$@"
    rc=$?
    check_eq "$d: exit 2" 2 "$rc"
    check "$d: nothing applied, one line" sh -c "! grep -q apply '$T/log' && test \$(wc -l <'$T/ferr') -eq 1"
}
bad "no node" report
bad "node with a capital" report Node-1
bad "alloc without seconds" alloc n1
bad "alloc with a bad number" alloc n1 5s
bad "alloc too long" alloc n1 99999
bad "capture not a tarball" capture n1 out.zip
bad "unknown command" frob n1
bad "unknown option" --frob report n1
bad "namespace not a name" -n 'a;b' report n1
bad "replay with an empty argument" replay n1 ''
bad "replay with a newline in an argument" replay n1 "--at
1h"
bad "replay with its own --replay" replay n1 --replay /tmp
bad "replay with --root" replay n1 --root=/host
bad "replay with 17 arguments" replay n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17
finish
