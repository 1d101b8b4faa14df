"""Structural checks of the rendered Kubernetes variants (run by deploy.sh).

    python3 kustomize_check.py RULES_YML PROMETHEUS_YML BASE_KUSTOMIZATION NAME=RENDERED.yaml...

NAME is "plain" (deploy/kubernetes), "base" or an overlay's directory name;
RENDERED.yaml is `kubectl kustomize` of it. Prints one TAP line per check.

What a cluster would reject or silently get wrong, without a cluster:
- kinds per variant; every overlay is the plain objects, unchanged, plus
  Prometheus Operator objects only; one namespace; the part-of label;
- the image is the one of base/kustomization.yaml `images:`, everywhere;
- ServiceMonitor / PodMonitor: selector matches the Service / the DaemonSet's
  pods, namespaceSelector holds their namespace, ports by name exist, fields
  are the operator's (camelCase; the API server would prune unknown ones
  silently), and the target labels they produce, relabelings applied after
  the operator's own as prometheus-operator does, are those of the "kmem" job
  of deploy/prometheus/prometheus.yml: job="kmem", instance = node = the node
  name, and no namespace/pod/container target label;
- PrometheusRule: spec.groups equal deploy/prometheus/rules.yml's groups.
"""
import re
import sys

import yaml

rules_file, prom_file, base_kust = sys.argv[1:4]
renders = {}
for arg in sys.argv[4:]:
    name, path = arg.split("=", 1)
    renders[name] = [d for d in yaml.safe_load_all(open(path)) if d]

failed = 0


def check(desc, errs):
    global failed
    errs = [e for e in errs if e]
    if errs:
        failed = 1
        print("not ok - %s: %s" % (desc, "; ".join(errs)))
    else:
        print("ok - %s" % desc)


def one(docs, kind):
    got = [d for d in docs if d["kind"] == kind]
    return got[0] if len(got) == 1 else None


OPERATOR_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
PLAIN_KINDS = ["DaemonSet", "Namespace", "ResourceQuota", "Service", "ServiceAccount"]
plain = renders["plain"]

# ----------------------------------------------------------------- kinds
if "base" in renders:
    check("plain and base render the same objects",
          [] if renders["base"] == plain else ["they differ"])
check("plain variant: %s" % " ".join(PLAIN_KINDS),
      [] if sorted(d["kind"] for d in plain) == PLAIN_KINDS else
      ["kinds %s" % sorted(d["kind"] for d in plain)])
for name, docs in renders.items():
    if name in ("plain", "base"):
        continue
    rest = [d for d in docs if d["kind"] not in OPERATOR_KINDS]
    extra = sorted(d["kind"] for d in docs if d["kind"] in OPERATOR_KINDS)
    errs = [] if rest == plain else ["its plain objects differ from deploy/kubernetes"]
    if not extra:
        errs.append("no Prometheus Operator object")
    if "ServiceMonitor" in extra and "PodMonitor" in extra:
        errs.append("both a ServiceMonitor and a PodMonitor (every target scraped twice)")
    if extra.count("PrometheusRule") != 1:
        errs.append("%d PrometheusRules" % extra.count("PrometheusRule"))
    check("%s: the plain objects plus %s" % (name, " ".join(extra)), errs)

# ------------------------------------------------ namespace, labels, image
kust = yaml.safe_load(open(base_kust))
[img] = [i for i in kust.get("images", []) if i["name"] == "kmem"]
want_image = "%s:%s" % (img.get("newName", "kmem"), img["newTag"]) if "newTag" in img else \
    "%s@%s" % (img.get("newName", "kmem"), img["digest"])
for name, docs in renders.items():
    ns = one(docs, "Namespace")["metadata"]["name"]
    errs = ["%s/%s in namespace %s" % (d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
            for d in docs if d["kind"] != "Namespace" and d["metadata"].get("namespace") != ns]
    errs += ["%s/%s lacks app.kubernetes.io/part-of: kmem" % (d["kind"], d["metadata"]["name"])
             for d in docs if d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "kmem"]
    check("%s: every object in namespace %s, labelled app.kubernetes.io/part-of=kmem" % (name, ns), errs)
    images = [c["image"] for d in docs if d["kind"] == "DaemonSet"
              for c in d["spec"]["template"]["spec"]["containers"]]
    check("%s: image %s (images: of base/kustomization.yaml)" % (name, want_image),
          ["image %s" % i for i in images if i != want_image] or ([] if images else ["no image"]))

# ----------------------------------------------------- operator objects
RELABEL = {"sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action"}
ACTIONS = {"replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep",
           "lowercase", "uppercase", "keepequal", "dropequal"}
SELECTOR = {"matchLabels", "matchExpressions"}
NSSELECTOR = {"any", "matchNames"}
ENDPOINT = {"port", "targetPort", "path", "scheme", "params", "interval", "scrapeTimeout",
            "tlsConfig", "bearerTokenFile", "bearerTokenSecret", "authorization", "honorLabels",
            "honorTimestamps", "trackTimestampsStaleness", "basicAuth", "oauth2",
            "metricRelabelings", "relabelings", "proxyUrl", "followRedirects", "enableHttp2",
            "filterRunning"}
PODENDPOINT = (ENDPOINT - {"bearerTokenFile"}) | {"portNumber"}
COMMON_SPEC = {"jobLabel", "podTargetLabels", "selector", "namespaceSelector", "sampleLimit",
               "targetLimit", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
               "keepDroppedTargets", "attachMetadata", "scrapeClass", "scrapeProtocols",
               "bodySizeLimit"}
SM_SPEC = COMMON_SPEC | {"endpoints", "targetLabels"}
PM_SPEC = COMMON_SPEC | {"podMetricsEndpoints"}
RULE_GROUP = {"name", "interval", "rules", "limit", "partial_response_strategy", "query_offset", "labels"}
RULE = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


def fields(where, obj, allowed):
    if not isinstance(obj, dict):
        return ["%s is not a mapping" % where]
    return ["%s.%s is not a field of the operator's API" % (where, k) for k in obj if k not in allowed]


def relabel_fields(where, rls):
    errs = []
    for i, r in enumerate(rls or []):
        errs += fields("%s[%d]" % (where, i), r, RELABEL)
        if r.get("action", "replace").lower() not in ACTIONS:
            errs.append("%s[%d].action %s" % (where, i, r.get("action")))
    return errs


def relabel(labels, rls, snake=False):
    """Prometheus relabeling (replace, labeldrop, labelkeep, keep, drop) of a target."""
    k = (lambda a, b: b) if snake else (lambda a, b: a)
    labels = dict(labels)
    for r in rls:
        action = r.get("action", "replace").lower()
        regex = re.compile("^(?:%s)$" % r.get("regex", "(.*)"))
        if action in ("labeldrop", "labelkeep"):
            labels = {n: v for n, v in labels.items() if bool(regex.match(n)) == (action == "labelkeep")}
            continue
        src = r.get(k("sourceLabels", "source_labels"), [])
        value = r.get("separator", ";").join(labels.get(s, "") for s in src)
        m = regex.match(value)
        if action == "keep" and not m or action == "drop" and m:
            return None
        if action == "replace" and m:
            target = r[k("targetLabel", "target_label")]
            repl = re.sub(r"\$\{?(\d+)\}?", lambda g: m.group(int(g.group(1))) or "",
                          r.get("replacement", "$1"))
            if repl:
                labels[target] = repl
            else:
                labels.pop(target, None)
    return labels


def visible(labels):
    """The target's labels after relabeling: instance defaults to __address__."""
    labels = dict(labels)
    labels.setdefault("instance", labels.get("__address__", ""))
    return {n: v for n, v in labels.items() if not n.startswith("__")}


# The target labels the plain scrape config gives one exporter (role endpoints).
prom = yaml.safe_load(open(prom_file))
[kjob] = [j for j in prom["scrape_configs"] if "kubernetes_sd_configs" in j]
META = {"__address__": "10.0.0.7:10465", "__meta_kubernetes_pod_node_name": "node-a",
        "__meta_kubernetes_namespace": "kmem", "__meta_kubernetes_pod_name": "kmem-exporter-x1",
        "__meta_kubernetes_pod_container_name": "kmem-exporter"}
svc = one(plain, "Service")
META.update({"__meta_kubernetes_service_name": svc["metadata"]["name"],
             "__meta_kubernetes_endpoint_port_name": svc["spec"]["ports"][0]["name"]})
want_targets = visible(relabel(dict(META, job=kjob["job_name"]), kjob["relabel_configs"], snake=True))

ds = one(plain, "DaemonSet")
pod_labels = ds["spec"]["template"]["metadata"]["labels"]
[ctr] = ds["spec"]["template"]["spec"]["containers"]
ctr_ports = {p["name"] for p in ctr.get("ports", [])}
svc_ports = {p["name"] for p in svc["spec"]["ports"]}
ns = one(plain, "Namespace")["metadata"]["name"]
check("prometheus.yml's kmem job gives job, instance and node (%s)" % want_targets,
      [] if set(want_targets) == {"job", "instance", "node"} else ["got %s" % want_targets])


def monitor_checks(name, mon, kind):
    spec = mon["spec"]
    errs = fields("spec", spec, SM_SPEC if kind == "ServiceMonitor" else PM_SPEC)
    errs += fields("spec.selector", spec.get("selector", {}), SELECTOR)
    errs += fields("spec.namespaceSelector", spec.get("namespaceSelector", {}), NSSELECTOR)
    sel = spec["selector"].get("matchLabels", {})
    if kind == "ServiceMonitor":
        picked = [s for s in renders[name] if s["kind"] == "Service"
                  and sel.items() <= s["metadata"].get("labels", {}).items()]
        if [p["metadata"]["name"] for p in picked] != [svc["metadata"]["name"]]:
            errs.append("selector %s picks Services %s" % (sel, [p["metadata"]["name"] for p in picked]))
        labels_for_job = svc["metadata"].get("labels", {})
        eps, epfields, ports = spec.get("endpoints", []), ENDPOINT, svc_ports
        # ... and the Service's targetPort is a named container port.
        for p in svc["spec"]["ports"]:
            if isinstance(p["targetPort"], str) and p["targetPort"] not in ctr_ports:
                errs.append("Service targetPort %s is no container port" % p["targetPort"])
    else:
        if not sel or not sel.items() <= pod_labels.items():
            errs.append("selector %s does not match the DaemonSet's pods %s" % (sel, pod_labels))
        labels_for_job = pod_labels
        eps, epfields, ports = spec.get("podMetricsEndpoints", []), PODENDPOINT, ctr_ports
    nsel = spec.get("namespaceSelector", {})
    if not nsel.get("any") and ns not in nsel.get("matchNames", []):
        errs.append("namespaceSelector %s misses %s" % (nsel, ns))
    if not eps:
        errs.append("no endpoints")
    for i, ep in enumerate(eps):
        errs += fields("endpoint[%d]" % i, ep, epfields)
        errs += relabel_fields("endpoint[%d].relabelings" % i, ep.get("relabelings"))
        errs += relabel_fields("endpoint[%d].metricRelabelings" % i, ep.get("metricRelabelings"))
        if ep.get("port") not in ports:
            errs.append("endpoint port %s is not one of %s" % (ep.get("port"), sorted(ports)))
        if ep.get("path", "/metrics") != kjob.get("metrics_path", "/metrics"):
            errs.append("path %s" % ep.get("path"))
        for a, b in (("interval", "scrape_interval"), ("scrapeTimeout", "scrape_timeout")):
            if ep.get(a) != kjob.get(b):
                errs.append("%s %s, prometheus.yml %s" % (a, ep.get(a), kjob.get(b)))
        # The operator's own target labels (prometheus-operator promcfg.go:
        # namespace, service, pod, container, job, endpoint), then ours.
        job = labels_for_job.get(spec["jobLabel"]) if "jobLabel" in spec else None
        if job is None:
            job = svc["metadata"]["name"] if kind == "ServiceMonitor" else \
                "%s/%s" % (mon["metadata"]["namespace"], mon["metadata"]["name"])
        t = dict(META, namespace="kmem", pod="kmem-exporter-x1", container="kmem-exporter",
                 job=job, endpoint=ep.get("port", ""))
        if kind == "ServiceMonitor":
            t["service"] = svc["metadata"]["name"]
        got = visible(relabel(t, ep.get("relabelings", [])))
        if got != want_targets:
            errs.append("target labels %s, prometheus.yml's job gives %s" % (got, want_targets))
    return errs


for name, docs in renders.items():
    for kind in ("ServiceMonitor", "PodMonitor"):
        for mon in (d for d in docs if d["kind"] == kind):
            check("%s: %s %s selects the exporter, ports by name, the operator's fields, "
                  "target labels as prometheus.yml's kmem job" % (name, kind, mon["metadata"]["name"]),
                  monitor_checks(name, mon, kind))
    for pr in (d for d in docs if d["kind"] == "PrometheusRule"):
        rules = yaml.safe_load(open(rules_file))
        errs = [] if pr["spec"].get("groups") == rules["groups"] else \
            ["spec.groups differ from %s (run scripts/gen-prometheusrule.sh)" % rules_file]
        errs += fields("spec", pr["spec"], {"groups"})
        for g in pr["spec"].get("groups", []):
            errs += fields("group %s" % g.get("name"), g, RULE_GROUP)
            for r in g.get("rules", []):
                errs += fields("rule %s" % (r.get("record") or r.get("alert")), r, RULE)
        check("%s: PrometheusRule %s holds the groups of rules.yml" % (name, pr["metadata"]["name"]), errs)

sys.exit(failed)
