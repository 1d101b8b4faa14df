/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes identity of a memory cgroup: pod UID, QoS class, container ID and
 * runtime from the cgroup path (systemd and cgroupfs drivers; containerd,
 * CRI-O and docker scopes), and namespace / pod / container names from the
 * directory listings of ROOT/var/log/pods and ROOT/var/log/containers.
 *
 * No runtime socket, no API server, no file contents: only names the kubelet
 * and the runtimes already put on the node. The rules are in docs/cgroups.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "arena.h"
#include "kube.h"

/* ---- path parsing ------------------------------------------------------- */

/* A path component: [p, p + len). */
struct comp {
    const char *p;
    size_t len;
};

static bool comp_eq(struct comp c, const char *word)
{
    return c.p && strlen(word) == c.len && memcmp(c.p, word, c.len) == 0;
}

static bool has_suffix(struct comp c, const char *suf, struct comp *base)
{
    size_t sl = strlen(suf);

    if (c.len < sl || memcmp(c.p + c.len - sl, suf, sl) != 0)
        return false;
    base->p = c.p;
    base->len = c.len - sl;
    return true;
}

static bool has_prefix(struct comp c, const char *pre, struct comp *rest)
{
    size_t pl = strlen(pre);

    if (c.len < pl || memcmp(c.p, pre, pl) != 0)
        return false;
    rest->p = c.p + pl;
    rest->len = c.len - pl;
    return true;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * A pod UID as it appears in a cgroup name ('_' for '-' under systemd):
 * a UUID (8-4-4-4-12 hex digits) or, for static pods, 32 hex digits (the
 * kubelet's hash of the manifest). Copied with dashes into @out.
 */
static bool parse_uid(struct comp c, char *out, size_t outlen)
{
    static const size_t dash_at[] = {8, 13, 18, 23};
    size_t d = 0;

    if (c.len != 36 && c.len != 32)
        return false;
    if (c.len + 1 > outlen)
        return false;
    for (size_t i = 0; i < c.len; i++) {
        char ch = c.p[i];
        bool want_dash = c.len == 36 && d < 4 && i == dash_at[d];

        if (want_dash) {
            if (ch != '-' && ch != '_')
                return false;
            out[i] = '-';
            d++;
        } else {
            if (!is_hex(ch))
                return false;
            out[i] = ch;
        }
    }
    out[c.len] = '\0';
    return true;
}

/* A container ID: 64 lowercase hex digits. */
static bool parse_cid(struct comp c, char *out, size_t outlen)
{
    if (c.len != 64 || c.len + 1 > outlen)
        return false;
    for (size_t i = 0; i < c.len; i++)
        if (!((c.p[i] >= '0' && c.p[i] <= '9') || (c.p[i] >= 'a' && c.p[i] <= 'f')))
            return false;
    memcpy(out, c.p, c.len);
    out[c.len] = '\0';
    return true;
}

/*
 * systemd driver: "[<prefix>-]kubepods[-<qos>]-pod<uid>.slice", where the
 * prefix comes from a kubelet --cgroup-root nested in other slices.
 */
static bool match_systemd_pod(struct comp c, struct kmem_kube_id *id)
{
    static const struct {
        const char *tail;
        const char *qos;
    } classes[] = {
        {"kubepods-burstable", "burstable"},
        {"kubepods-besteffort", "besteffort"},
        {"kubepods", "guaranteed"},
    };
    struct comp base, uid, pre;
    const char *dash = NULL;

    if (!has_suffix(c, ".slice", &base))
        return false;
    for (size_t i = base.len; i >= 4; i--) {
        if (memcmp(base.p + i - 4, "-pod", 4) == 0) {
            dash = base.p + i - 4;
            break;
        }
    }
    if (!dash)
        return false;
    uid.p = dash + 4;
    uid.len = (size_t)(base.p + base.len - uid.p);
    pre.p = base.p;
    pre.len = (size_t)(dash - base.p);
    for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]); k++) {
        struct comp head;

        if (!has_suffix(pre, classes[k].tail, &head))
            continue;
        if (head.len > 0 && head.p[head.len - 1] != '-')
            continue;
        if (!parse_uid(uid, id->pod_uid, sizeof(id->pod_uid)))
            return false;
        snprintf(id->qos, sizeof(id->qos), "%s", classes[k].qos);
        return true;
    }
    return false;
}

/* cgroupfs driver: "kubepods/pod<uid>" or "kubepods/<qos>/pod<uid>". */
static bool match_cgroupfs_pod(struct comp c, struct comp parent, struct comp grand,
                               struct kmem_kube_id *id)
{
    struct comp uid;
    const char *qos;

    if (!has_prefix(c, "pod", &uid))
        return false;
    if (comp_eq(parent, "kubepods"))
        qos = "guaranteed";
    else if (comp_eq(grand, "kubepods") &&
             (comp_eq(parent, "burstable") || comp_eq(parent, "besteffort")))
        qos = parent.p[1] == 'u' ? "burstable" : "besteffort";
    else
        return false;
    if (!parse_uid(uid, id->pod_uid, sizeof(id->pod_uid)))
        return false;
    snprintf(id->qos, sizeof(id->qos), "%s", qos);
    return true;
}

/* The child of a pod cgroup: a container scope, conmon, or a bare ID. */
static bool match_container(struct comp c, struct kmem_kube_id *id)
{
    static const struct {
        const char *prefix;
        const char *runtime;
        bool conmon;
    } scopes[] = {
        /* Longest prefixes first: "crio-conmon-" before "crio-". */
        {"cri-containerd-", "containerd", false},
        {"crio-conmon-", "crio", true},
        {"crio-", "crio", false},
        {"docker-", "docker", false},
    };
    struct comp base = c, rest;
    char scratch[sizeof(id->container_id)];
    bool scope = has_suffix(c, ".scope", &base);

    for (size_t k = 0; k < sizeof(scopes) / sizeof(scopes[0]); k++) {
        if (!has_prefix(base, scopes[k].prefix, &rest))
            continue;
        if (scopes[k].conmon) {
            if (!parse_cid(rest, scratch, sizeof(scratch)))
                return false;
            id->conmon = true;
        } else if (!parse_cid(rest, id->container_id, sizeof(id->container_id))) {
            return false;
        }
        snprintf(id->runtime, sizeof(id->runtime), "%s", scopes[k].runtime);
        return true;
    }
    /* cgroupfs driver with containerd or docker: the bare ID; runtime unknown. */
    return !scope && parse_cid(base, id->container_id, sizeof(id->container_id));
}

bool kmem_kube_parse_path(const char *path, struct kmem_kube_id *id)
{
    struct comp grand = {0}, parent = {0}, c;
    const char *s = path;
    int after_pod = -1; /* components seen after the pod one; -1 before it */

    memset(id, 0, sizeof(*id));
    if (!path)
        return false;
    for (;;) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        c.p = s;
        while (*s && *s != '/')
            s++;
        c.len = (size_t)(s - c.p);
        if (comp_eq(c, ".") || comp_eq(c, ".."))
            goto out_none;
        if (after_pod >= 0) {
            if (++after_pod > 1 || !match_container(c, id))
                goto out_none;
        } else if (match_systemd_pod(c, id) || match_cgroupfs_pod(c, parent, grand, id)) {
            after_pod = 0;
        } else {
            /* A failed match may have written a partial uid. */
            memset(id, 0, sizeof(*id));
        }
        grand = parent;
        parent = c;
    }
    if (after_pod >= 0)
        return true;
out_none:
    memset(id, 0, sizeof(*id));
    return false;
}

/* ---- names from /var/log ------------------------------------------------ */

struct kn_pod { /* var/log/pods/<ns>_<pod>_<uid> */
    size_t uid, ns, pod;
};
struct kn_ctr { /* var/log/containers/<pod>_<ns>_<container>-<id>.log */
    size_t id, ns, pod, name;
    int attempt; /* <N> of the link's target .../<container>/<N>.log; -1 if not a link */
};
struct kn_pc { /* var/log/pods/<ns>_<pod>_<uid>/<container>/<attempt>.log */
    size_t uid, name;
    int attempt; /* highest <N> of <N>.log; -1 if none */
};

struct kmem_kube_names {
    struct kmem_arena arena; /* strings; entries hold offsets (the arena moves as it grows) */
    struct kn_pod *pods;
    size_t npods, cpods;
    struct kn_ctr *ctrs;
    size_t nctrs, cctrs;
    struct kn_pc *pcs;
    size_t npcs, cpcs;
};

struct kmem_kube_names *kmem_kube_names_new(void)
{
    return calloc(1, sizeof(struct kmem_kube_names));
}

void kmem_kube_names_free(struct kmem_kube_names *kn)
{
    if (!kn)
        return;
    kmem_arena_free(&kn->arena);
    free(kn->pods);
    free(kn->ctrs);
    free(kn->pcs);
    free(kn);
}

/* Append [s, s + len) to the names' arena; offset in *off. 0 or -ENOMEM. */
static int kn_str(struct kmem_kube_names *kn, const char *s, size_t len, size_t *off)
{
    return kmem_arena_add(&kn->arena, s, len, off);
}

static bool maybe_dir(const struct dirent *de)
{
    return de->d_type == DT_DIR || de->d_type == DT_UNKNOWN;
}

/* "<N>.log" (N a decimal below 10^6, as the kubelet writes them): N, else -1. */
static int log_attempt(const char *name)
{
    int n = 0, digits = 0;

    for (; *name >= '0' && *name <= '9'; name++) {
        if (++digits > 6)
            return -1;
        n = n * 10 + (*name - '0');
    }
    return digits && strcmp(name, ".log") == 0 ? n : -1;
}

/*
 * The highest <N>.log in var/log/pods/<pod dir>/<container>/: the kubelet
 * writes one per container start, so it is the restart attempt that CRI-O
 * and docker put in container names. Rotated logs (N.log.<date>) do not count.
 */
static int container_attempt(int podfd, const char *name)
{
    DIR *d = kmem_opendir(podfd, name);
    struct dirent *de;
    int best = -1;

    if (!d)
        return -1;
    while ((de = readdir(d))) {
        int n = log_attempt(de->d_name);

        if (n > best)
            best = n;
    }
    closedir(d);
    return best;
}

/* List var/log/pods/<dir>/ for container names of pod @uid. */
static int load_pod_containers(struct kmem_io *io, struct kmem_kube_names *kn, int podsfd,
                               const char *dirname, size_t uid)
{
    DIR *d = kmem_opendir(podsfd, dirname);
    struct dirent *de;
    int err = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        struct kn_pc *pc;

        if (de->d_name[0] == '.' || !maybe_dir(de))
            continue;
        KMEM_GROW(err, kn->pcs, &kn->cpcs, kn->npcs + 1);
        if (err)
            break;
        pc = &kn->pcs[kn->npcs];
        pc->uid = uid;
        pc->attempt = container_attempt(dirfd(d), de->d_name);
        err = kn_str(kn, de->d_name, strlen(de->d_name), &pc->name);
        if (err)
            break;
        kn->npcs++;
        if (kmem_capturing(io)) {
            char rel[2 * 256 + 32];

            /* Names only: an empty log file recreates the directory entry
             * and the attempt; ".kmem-capture" keeps a directory without one. */
            if (pc->attempt >= 0)
                snprintf(rel, sizeof(rel), "%s/%s/%d.log", dirname, de->d_name, pc->attempt);
            else
                snprintf(rel, sizeof(rel), "%s/%s/.kmem-capture", dirname, de->d_name);
            kmem_capture(io, podsfd, rel, "", 0);
        }
    }
    closedir(d);
    return err;
}

static int load_pods(struct kmem_io *io, struct kmem_kube_names *kn)
{
    DIR *d = kmem_opendir(kmem_io_dir(io, KMEM_DIR_PODLOGS), "pods");
    struct dirent *de;
    int err = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        const char *name = de->d_name, *u1, *u2;
        struct kn_pod *p;

        if (name[0] == '.' || !maybe_dir(de))
            continue;
        u1 = strchr(name, '_');
        u2 = u1 ? strchr(u1 + 1, '_') : NULL;
        if (!u1 || !u2 || u1 == name || u2 == u1 + 1 || !u2[1] || strchr(u2 + 1, '_'))
            continue;
        KMEM_GROW(err, kn->pods, &kn->cpods, kn->npods + 1);
        if (err)
            break;
        p = &kn->pods[kn->npods];
        err = kn_str(kn, name, (size_t)(u1 - name), &p->ns);
        if (!err)
            err = kn_str(kn, u1 + 1, (size_t)(u2 - u1 - 1), &p->pod);
        if (!err)
            err = kn_str(kn, u2 + 1, strlen(u2 + 1), &p->uid);
        if (err)
            break;
        kn->npods++;
        err = load_pod_containers(io, kn, dirfd(d), name, p->uid);
        if (err)
            break;
    }
    closedir(d);
    return err;
}

/*
 * The kubelet's link var/log/containers/<pod>_<ns>_<container>-<id>.log ->
 * /var/log/pods/<ns>_<pod>_<uid>/<container>/<N>.log names the log of that
 * very container ID: N is its attempt (readlink only, no log is opened). A
 * capture keeps the target as the contents of an empty-named regular file
 * (links are copied only within a directory): a regular file of at most
 * PATH_MAX bytes whose whole contents end in "/<N>.log" gives N too. @target
 * receives the target ("" if none).
 */
static int link_attempt(int dirfd, const char *name, char *target, size_t tlen)
{
    ssize_t n = readlinkat(dirfd, name, target, tlen - 1);
    const char *base;

    if (n < 0 && errno == EINVAL) { /* not a link: a capture's regular file */
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;

        n = -1;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (size_t)st.st_size < tlen)
            n = read(fd, target, tlen - 1);
        if (fd >= 0)
            close(fd);
        if (n > 0 && target[0] != '/')
            n = -1; /* a log's own contents, not a captured target */
    }
    if (n <= 0) {
        target[0] = '\0';
        return -1;
    }
    target[n] = '\0';
    if (memchr(target, '\n', (size_t)n)) {
        target[0] = '\0';
        return -1;
    }
    base = strrchr(target, '/');
    return log_attempt(base ? base + 1 : target);
}

static int load_containers(struct kmem_io *io, struct kmem_kube_names *kn)
{
    DIR *d = kmem_opendir(kmem_io_dir(io, KMEM_DIR_PODLOGS), "containers");
    struct dirent *de;
    int err = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        const char *name = de->d_name, *u1, *u2, *dash, *end;
        size_t len = strlen(name);
        struct kn_ctr *c;

        if (name[0] == '.' || de->d_type == DT_DIR || len < 5 ||
            strcmp(name + len - 4, ".log") != 0)
            continue;
        end = name + len - 4;
        u1 = memchr(name, '_', (size_t)(end - name));
        u2 = u1 ? memchr(u1 + 1, '_', (size_t)(end - u1 - 1)) : NULL;
        dash = NULL;
        for (const char *q = end; u2 && q > u2 + 1; q--) {
            if (q[-1] == '-') {
                dash = q - 1;
                break;
            }
        }
        if (!u1 || !u2 || !dash || u1 == name || u2 == u1 + 1 || dash == u2 + 1 || dash + 1 == end)
            continue;
        KMEM_GROW(err, kn->ctrs, &kn->cctrs, kn->nctrs + 1);
        if (err)
            break;
        c = &kn->ctrs[kn->nctrs];
        err = kn_str(kn, name, (size_t)(u1 - name), &c->pod);
        if (!err)
            err = kn_str(kn, u1 + 1, (size_t)(u2 - u1 - 1), &c->ns);
        if (!err)
            err = kn_str(kn, u2 + 1, (size_t)(dash - u2 - 1), &c->name);
        if (!err)
            err = kn_str(kn, dash + 1, (size_t)(end - dash - 1), &c->id);
        if (err)
            break;
        {
            char target[4096];

            c->attempt = link_attempt(dirfd(d), name, target, sizeof(target));
            kn->nctrs++;
            kmem_capture(io, dirfd(d), name, target, strlen(target));
        }
    }
    closedir(d);
    return err;
}

static int cmp_pod(const void *a, const void *b, void *arena)
{
    return strcmp((char *)arena + ((const struct kn_pod *)a)->uid,
                  (char *)arena + ((const struct kn_pod *)b)->uid);
}

static int cmp_ctr(const void *a, const void *b, void *arena)
{
    return strcmp((char *)arena + ((const struct kn_ctr *)a)->id,
                  (char *)arena + ((const struct kn_ctr *)b)->id);
}

static int cmp_pc(const void *a, const void *b, void *arena)
{
    const struct kn_pc *x = a, *y = b;
    int c = strcmp((char *)arena + x->uid, (char *)arena + y->uid);

    return c ? c : strcmp((char *)arena + x->name, (char *)arena + y->name);
}

int kmem_kube_names_load(struct kmem_io *io, struct kmem_kube_names *kn)
{
    int err;

    err = kmem_arena_reset(&kn->arena);
    if (err)
        return err;
    kn->npods = kn->nctrs = kn->npcs = 0;
    err = load_pods(io, kn);
    if (!err)
        err = load_containers(io, kn);
    if (err) {
        kn->npods = kn->nctrs = kn->npcs = 0;
        return err;
    }
    /* qsort_r() of no element: the array may still be NULL (UBSan). */
    if (kn->npods)
        qsort_r(kn->pods, kn->npods, sizeof(*kn->pods), cmp_pod, kn->arena.p);
    if (kn->nctrs)
        qsort_r(kn->ctrs, kn->nctrs, sizeof(*kn->ctrs), cmp_ctr, kn->arena.p);
    if (kn->npcs)
        qsort_r(kn->pcs, kn->npcs, sizeof(*kn->pcs), cmp_pc, kn->arena.p);
    return 0;
}

/* Binary search over @n elements of @size at @base, keyed by an arena string. */
static const void *kn_find(const struct kmem_kube_names *kn, const void *base, size_t n,
                           size_t size, int (*cmp)(const void *, const void *, void *),
                           const void *key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const void *e = (const char *)base + mid * size;
        int c = cmp(key, e, kn->arena.p);

        if (c == 0)
            return e;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Comparators for keys that are plain strings (not arena offsets). */
static int key_pod(const void *key, const void *e, void *arena)
{
    return strcmp(key, (char *)arena + ((const struct kn_pod *)e)->uid);
}

static int key_ctr(const void *key, const void *e, void *arena)
{
    return strcmp(key, (char *)arena + ((const struct kn_ctr *)e)->id);
}

struct pc_key {
    const char *uid, *name;
};

/* Some log link of var/log/containers names pod @pod of namespace @ns. */
static bool pod_has_link(const struct kmem_kube_names *kn, const char *ns, const char *pod)
{
    for (size_t i = 0; i < kn->nctrs; i++)
        if (!strcmp(kn->arena.p + kn->ctrs[i].pod, pod) &&
            !strcmp(kn->arena.p + kn->ctrs[i].ns, ns))
            return true;
    return false;
}

static int key_pc(const void *key, const void *e, void *arena)
{
    const struct pc_key *k = key;
    const struct kn_pc *pc = e;
    int c = strcmp(k->uid, (char *)arena + pc->uid);

    return c ? c : strcmp(k->name, (char *)arena + pc->name);
}

void kmem_kube_names_lookup(const struct kmem_kube_names *kn, const struct kmem_kube_id *id,
                            const char **ns, const char **pod, const char **container, int *attempt)
{
    const struct kn_pod *p = NULL;
    const struct kn_ctr *c = NULL;
    const struct kn_pc *pc = NULL;

    *ns = *pod = *container = NULL;
    *attempt = -1;
    if (!kn || !id->pod_uid[0])
        return;
    if (kn->npods)
        p = kn_find(kn, kn->pods, kn->npods, sizeof(*p), key_pod, id->pod_uid);
    if (p) {
        *ns = kn->arena.p + p->ns;
        *pod = kn->arena.p + p->pod;
    }
    if (!id->container_id[0] || !kn->nctrs)
        return;
    c = kn_find(kn, kn->ctrs, kn->nctrs, sizeof(*c), key_ctr, id->container_id);
    if (!c) {
        /*
         * A container of a known pod without a log link, while another
         * container of the pod has one: the pod's sandbox ("pause"), which
         * the kubelet names "POD". Its attempt (the sandbox's, not in
         * /var/log) is taken as 0, the pod's first sandbox.
         */
        if (p && !id->conmon && pod_has_link(kn, *ns, *pod)) {
            *container = "POD";
            *attempt = 0;
        }
        return;
    }
    if (p) {
        /* The log link must agree with the pod the path names (same pod name
         * reused by a new UID, e.g. a StatefulSet): same namespace and pod, and
         * the pod's own log directory has that container. */
        struct pc_key k = {id->pod_uid, kn->arena.p + c->name};

        if (strcmp(*ns, kn->arena.p + c->ns) != 0 || strcmp(*pod, kn->arena.p + c->pod) != 0)
            return;
        pc = kn_find(kn, kn->pcs, kn->npcs, sizeof(struct kn_pc), key_pc, &k);
        if (!pc)
            return;
        /* The link's target names this container ID's log; else the newest log. */
        *attempt = c->attempt >= 0 ? c->attempt : pc->attempt;
    } else {
        *ns = kn->arena.p + c->ns;
        *pod = kn->arena.p + c->pod;
    }
    *container = kn->arena.p + c->name;
}
