/* SPDX-License-Identifier: MIT */
/*
 * Leak verdicts over a window of a recording (kmemrec.h, docs/recorder.md):
 * up to max_points samples spread over the window are read back as
 * snapshots; each slab cache, each cgroup, the node's slab and the dying
 * cgroups become a series, and each series is classified.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemrec.h"
#include "sort.h"

const char *const kmem_verdict_name[KMEM_VERDICT_COUNT] = {
    [KMEM_VERDICT_NOISE] = "noise",
    [KMEM_VERDICT_RECLAIMABLE_WARMING] = "reclaimable_warming",
    [KMEM_VERDICT_LEAK_SUSPECT] = "leak_suspect",
    [KMEM_VERDICT_DYING_PINNED] = "dying_pinned",
    [KMEM_VERDICT_GREW_NOT_STEADY] = "grew_not_steady",
};

const char *const kmem_verdict_subject_name[KMEM_SUBJECT_DYING + 1] = {
    [KMEM_SUBJECT_NODE] = "node",
    [KMEM_SUBJECT_CACHE] = "cache",
    [KMEM_SUBJECT_CGROUP] = "cgroup",
    [KMEM_SUBJECT_DYING] = "dying",
};

bool kmem_cache_pinned_while_used(const char *name)
{
    /* net/socket.c: SLAB_RECLAIM_ACCOUNT, but an inode per open socket */
    return !strcmp(name, "sock_inode_cache");
}

/* Per-dying-cgroup estimate of what it pins (bench/dying_memcg.sh; report_cg.c). */
#define DYING_SLAB_BYTES       16384.0
#define DYING_PERCPU_CPU_BYTES 1900.0

struct series {
    char name[512];
    enum kmem_verdict_subject subject;
    bool reclaimable;
    double v[KMEM_VERDICT_MAX_POINTS];
    bool have[KMEM_VERDICT_MAX_POINTS];
    double limit, usage; /* the cgroup's memory.max / limit, its usage (last point) */
    bool pinned, whole_kernel;
    char merged[256], pod[768];
    double owned_recl;  /* whole_kernel: see kmem_verdict.owned_reclaimable */
    double owned_first; /* ... the same at the first point (taken before the middle), or -1 */
    char owned_top[64];
};

static double slope(const double *t, const double *v, const bool *have, size_t n, size_t *used)
{
    double st = 0, sv = 0, stt = 0, stv = 0;
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (have[i]) {
            st += t[i];
            sv += v[i];
            stt += t[i] * t[i];
            stv += t[i] * v[i];
            k++;
        }
    *used = k;
    if (k < 2 || stt * (double)k - st * st == 0)
        return 0;
    return (stv * (double)k - st * sv) / (stt * (double)k - st * st);
}

/*
 * Classify one series. Growth below max(1 MiB, 5 % of the start) is noise.
 * A reclaimable series that grew is a cache warming up (reclaim can free
 * it); one that is not reclaimable, rose in at least 80 % of the steps and
 * kept rising in the second half of the window is a leak suspect.
 */
static void classify(const struct series *s, const double *t, size_t n, struct kmem_verdict *out)
{
    size_t first = n, last = 0, used, ups = 0, steps = 0, mid;
    double prev = NAN, g1, g2;

    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", s->name);
    out->subject = s->subject;
    out->hours_to_limit = -1;
    for (size_t i = 0; i < n; i++)
        if (s->have[i]) {
            if (first == n)
                first = i;
            last = i;
            if (!isnan(prev)) {
                steps++;
                ups += s->v[i] >= prev;
            }
            prev = s->v[i];
        }
    if (first == n)
        return;
    out->first = s->v[first];
    out->last = s->v[last];
    out->growth = (int64_t)(s->v[last] - s->v[first]);
    out->rate_per_hour = slope(t, s->v, s->have, n, &used) * 3600.0;
    out->points = used;
    out->reclaimable = s->reclaimable;
    out->pinned = s->pinned;
    out->whole_kernel = s->whole_kernel;
    out->owned_reclaimable = s->owned_recl;
    snprintf(out->owned_top, sizeof(out->owned_top), "%s", s->owned_top);
    snprintf(out->merged, sizeof(out->merged), "%s", s->merged);
    snprintf(out->pod, sizeof(out->pod), "%s", s->pod);
    if (fabs(s->v[last] - s->v[first]) < fmax(1048576.0, 0.05 * s->v[first]) || used < 3) {
        out->verdict = KMEM_VERDICT_NOISE;
        return;
    }
    if (s->v[last] < s->v[first]) {
        out->verdict = KMEM_VERDICT_NOISE; /* shrank */
        return;
    }
    /* Growth in each half of the window (by sample index). */
    mid = first + (last - first) / 2;
    while (mid > first && !s->have[mid])
        mid--;
    g1 = s->v[mid] - s->v[first];
    g2 = s->v[last] - s->v[mid];
    out->growth_first_half = (int64_t)g1;
    out->growth_second_half = (int64_t)g2;
    if (s->subject == KMEM_SUBJECT_DYING) {
        out->verdict = KMEM_VERDICT_DYING_PINNED;
        return;
    }
    if (s->reclaimable) {
        out->verdict = KMEM_VERDICT_RECLAIMABLE_WARMING;
        out->stabilised = g2 < 0.25 * g1;
        out->reclaimable_bytes = s->v[last];
        return;
    }
    /*
     * A cgroup whose kernel memory is not split (v1): when a recent owner
     * snapshot charges it at least half of the growth in reclaimable slab,
     * the growth is (mostly) a cache warming up, not a leak.
     */
    if (s->whole_kernel && s->owned_recl >= 0 && s->owned_first >= 0 &&
        s->owned_recl - s->owned_first >= 0.5 * (s->v[last] - s->v[first])) {
        out->verdict = KMEM_VERDICT_RECLAIMABLE_WARMING;
        out->stabilised = g2 < 0.25 * g1;
        out->reclaimable_bytes = s->owned_recl;
        return;
    }
    if (steps && (double)ups >= 0.8 * (double)steps && g2 >= 0.3 * g1 && g2 > 0 &&
        out->rate_per_hour > 0) {
        out->verdict = KMEM_VERDICT_LEAK_SUSPECT;
        out->limit = (uint64_t)s->limit;
        if (s->limit > 0 && s->limit > s->usage)
            out->hours_to_limit = (s->limit - s->usage) / out->rate_per_hour;
        else if (s->limit > 0)
            out->hours_to_limit = 0;
        return;
    }
    out->verdict = KMEM_VERDICT_GREW_NOT_STEADY; /* beyond noise, but a step or bursts */
}

/* ---- series from a recording -------------------------------------------- */

struct acc {
    struct series *s;
    size_t n, cap;
};

static struct series *get(struct acc *a, enum kmem_verdict_subject subj, const char *name,
                          bool reclaimable)
{
    int err;

    for (size_t i = a->n; i-- > 0;)
        if (a->s[i].subject == subj && a->s[i].reclaimable == reclaimable &&
            !strcmp(a->s[i].name, name))
            return &a->s[i];
    KMEM_GROW(err, a->s, &a->cap, a->n + 1);
    if (err)
        return NULL;
    memset(&a->s[a->n], 0, sizeof(a->s[a->n]));
    snprintf(a->s[a->n].name, sizeof(a->s[a->n].name), "%s", name);
    a->s[a->n].subject = subj;
    a->s[a->n].reclaimable = reclaimable;
    a->s[a->n].owned_recl = a->s[a->n].owned_first = -1;
    return &a->s[a->n++];
}

static struct series *put(struct acc *a, enum kmem_verdict_subject subj, const char *name,
                          bool recl, size_t k, double v, double limit, double usage)
{
    struct series *s = get(a, subj, name, recl);

    if (!s)
        return NULL;
    s->v[k] = v;
    s->have[k] = true;
    s->limit = limit;
    s->usage = usage;
    return s;
}

/* Is cache @name reclaimable for the verdicts: reclaim_account, and not pinned while used. */
static bool cache_reclaimable(const struct kmem_slabinfo *si, const char *name)
{
    long i = kmem_slabinfo_find(si, name, 0);

    return i >= 0 && si->v[i].attr.known && si->v[i].attr.reclaimable &&
           !kmem_cache_pinned_while_used(name);
}

/*
 * The reclaimable slab the owner snapshot @o charges to cgroup @path, and
 * its largest such cache into @top; -1 when @o was not taken in
 * [@min_ns, @max_ns] (at the last point, a snapshot from before the middle
 * of the window says nothing of the growth; at the first, one from after it
 * is no baseline).
 */
static double owned_reclaimable(const struct kmem_owner_snap *o, const struct kmem_slabinfo *si,
                                const char *path, uint64_t min_ns, uint64_t max_ns, char *top,
                                size_t toplen)
{
    uint64_t taken = (uint64_t)o->o.taken.tv_sec * 1000000000ull + (uint64_t)o->o.taken.tv_nsec;
    double sum = 0, best = 0;

    *top = 0;
    if (!o->o.present || taken < min_ns || taken > max_ns)
        return -1;
    for (size_t i = 0; i < o->o.nrows; i++) {
        const struct kmem_owner_row *r = &o->o.rows[i];

        if (!r->cgroup || !r->cache || strcmp(r->cgroup, path) || !cache_reclaimable(si, r->cache))
            continue;
        sum += (double)r->bytes;
        if ((double)r->bytes > best) {
            best = (double)r->bytes;
            snprintf(top, toplen, "%s", r->cache);
        }
    }
    return sum;
}

/* "namespace/pod/container" of a cgroup, only the parts it has. */
static void pod_of(const struct kmem_cgroup *g, char *out, size_t len)
{
    const char *part[3] = {g->namespace_name, g->pod_name, g->container_name};
    size_t n = 0;

    *out = 0;
    for (int i = 0; i < 3; i++)
        if (part[i] && *part[i] && n < len) {
            int w = snprintf(out + n, len - n, "%s%s", n ? "/" : "", part[i]);

            n = w > 0 ? n + (size_t)w : n;
        }
}

/* A cgroup's limit from the sample's memory.max / memory.limit_in_bytes; 0 when none. */
static double cg_limit(const struct kmem_fileset *fs, const struct kmem_cgroups *cg,
                       const struct kmem_cgroup *c)
{
    char path[4300];
    const struct kmem_fs_entry *e;
    double v;

    snprintf(path, sizeof(path), "%s%s/%s", cg->mount, strcmp(c->path, "/") ? c->path : "",
             cg->layout == KMEM_CG_V2 ? "memory.max" : "memory.limit_in_bytes");
    e = kmem_fs_find(fs, path);
    if (!e || !strncmp(e->data, "max", 3))
        return 0;
    v = strtod(e->data, NULL);
    return v >= 9.2e18 ? 0 : v; /* v1 "unlimited" is PAGE_COUNTER_MAX pages */
}

static uint64_t oom_kills(const char *text)
{
    const char *p = text;

    while ((p = strstr(p, "oom_kill ")))
        if (p == text || p[-1] == '\n')
            return strtoull(p + 9, NULL, 10);
        else
            p++;
    return 0;
}

static int snap_of(struct kmem_recording *r, size_t i, struct kmem_fileset *fs,
                   struct kmem_ctx **ctx, char *dir, size_t dirlen)
{
    char err[512];
    int rc;

    snprintf(dir, dirlen, "%s/kmem-verdict.XXXXXX", kmem_rec_tmpdir());
    rc = kmem_recording_load(r, i, fs);
    if (rc)
        return rc;
    rc = kmem_recording_materialize(r, i, dir);
    if (rc)
        return rc;
    rc = kmem_ctx_new(ctx, dir, err, sizeof(err));
    if (rc) {
        kmem_rec_remove_tree(dir);
        return rc;
    }
    /* no detail files: the verdicts use none of them (vmallocinfo, iomem...) */
    kmem_collect(*ctx, KMEM_COLLECT_ALL & ~KMEM_COLLECT_DETAIL);
    return 0;
}

enum owner_role { OWN_NONE, OWN_FIRST, OWN_LAST };

/*
 * The points of sample @k. At the window's first and last points (@role),
 * the owner snapshot of a cgroup without kernel parts is read too: taken
 * before / after @mid_ns, the middle of the window.
 */
static void add_points(struct acc *a, const struct kmem_snapshot *s, const struct kmem_fileset *fs,
                       size_t k, enum owner_role role, uint64_t mid_ns)
{
    const struct kmem_node *nd = &s->node;
    uint64_t ps = kmem_page_size();
    double memtotal = (double)nd->mi.v[KMEM_MI_MEMTOTAL];
    double used = memtotal - (double)nd->mi.v[KMEM_MI_MEMAVAILABLE];
    const struct kmem_cgroups *cg = &s->cgroups;

    put(a, KMEM_SUBJECT_NODE, "SUnreclaim", false, k, (double)nd->mi.v[KMEM_MI_SUNRECLAIM],
        memtotal, used);
    put(a, KMEM_SUBJECT_NODE, "SReclaimable", true, k, (double)nd->mi.v[KMEM_MI_SRECLAIMABLE],
        memtotal, used);
    for (size_t i = 0; i < s->slab.n; i++) {
        const struct kmem_slab *c = &s->slab.v[i];
        char name[KMEM_SLAB_NAME_MAX + 16];

        if (c->dup)
            snprintf(name, sizeof(name), "%s#%u", c->name, c->dup);
        else
            snprintf(name, sizeof(name), "%s", c->name);
        {
            bool pinned = kmem_cache_pinned_while_used(c->name);
            struct series *se =
                put(a, KMEM_SUBJECT_CACHE, name, c->attr.known && c->attr.reclaimable && !pinned, k,
                    (double)kmem_slab_bytes(c, ps), memtotal, used);

            if (se) {
                se->pinned = pinned && c->attr.known && c->attr.reclaimable;
                if (c->attr.merged && c->attr.names && s->slab.attr_names.p)
                    snprintf(se->merged, sizeof(se->merged), "%s",
                             kmem_arena_at(&s->slab.attr_names, c->attr.names));
            }
        }
    }
    for (size_t i = 0; i < cg->n; i++) {
        const struct kmem_cgroup *c = &cg->v[i];
        double lim = cg_limit(fs, cg, c), recl = 0;

        if (c->comp_present & (1u << KMEM_CG_SLAB_RECLAIMABLE))
            recl = (double)c->comp[KMEM_CG_SLAB_RECLAIMABLE];
        struct series *se = put(a, KMEM_SUBJECT_CGROUP, c->path, false, k, (double)c->kernel - recl,
                                lim ? lim : memtotal, lim ? (double)c->usage : used);

        if (se) {
            pod_of(c, se->pod, sizeof(se->pod));
            /* no slab_reclaimable part: v1, whose memory.stat has no kernel parts */
            se->whole_kernel = !(c->comp_present & (1u << KMEM_CG_SLAB_RECLAIMABLE));
            if (role == OWN_LAST && se->whole_kernel)
                se->owned_recl =
                    owned_reclaimable(&s->owners, &s->slab, c->path, mid_ns, UINT64_MAX,
                                      se->owned_top, sizeof(se->owned_top));
            else if (role == OWN_FIRST && se->whole_kernel) {
                char top[64];

                se->owned_first =
                    owned_reclaimable(&s->owners, &s->slab, c->path, 0, mid_ns, top, sizeof(top));
            }
        }
        if (recl > 0 && (se = put(a, KMEM_SUBJECT_CGROUP, c->path, true, k, recl,
                                  lim ? lim : memtotal, lim ? (double)c->usage : used)))
            pod_of(c, se->pod, sizeof(se->pod));
    }
    if (cg->dying_source != KMEM_CG_DYING_NONE)
        put(a, KMEM_SUBJECT_DYING, "dying memory cgroups", false, k,
            (double)cg->dying * (DYING_SLAB_BYTES + cg->possible_cpus * DYING_PERCPU_CPU_BYTES),
            memtotal, used);
}

/* Fill the "before" figures of @n events from the cgroups of the sample before. */
static void before_of(const struct kmem_cgroups *cg, uint64_t t_ns, struct kmem_oom_event *ev,
                      size_t n)
{
    for (size_t e = 0; e < n; e++)
        for (size_t c = 0; c < cg->n; c++) {
            const struct kmem_cgroup *g = &cg->v[c];

            if (strcmp(g->path, ev[e].cgroup))
                continue;
            ev[e].before_known = true;
            ev[e].before_ns = t_ns;
            ev[e].before_usage = g->usage;
            ev[e].before_kernel = g->kernel;
            ev[e].before_comp_present = g->comp_present;
            memcpy(ev[e].before_comp, g->comp, sizeof(ev[e].before_comp));
            break;
        }
}

/* What each cgroup whose oom_kill rose between samples @i - 1 and @i was made of at @i. */
static int add_ooms(struct kmem_recording *r, size_t i, struct kmem_verdicts *out)
{
    struct kmem_fileset before = {0}, at = {0};
    struct kmem_ctx *ctx = NULL;
    char dir[4096];
    size_t first_new = out->n_oom;
    int err;

    if (i == 0)
        return 0;
    err = kmem_recording_load(r, i - 1, &before);
    if (!err)
        err = kmem_recording_load(r, i, &at);
    if (err)
        goto out;
    {
        bool rose = false;

        for (size_t f = 0; f < at.n && !rose; f++) {
            const struct kmem_fs_entry *e = &at.v[f], *e0;
            size_t l = strlen(e->path);

            if ((l < 14 || strcmp(e->path + l - 14, "/memory.events")) &&
                (l < 19 || strcmp(e->path + l - 19, "/memory.oom_control")))
                continue;
            e0 = kmem_fs_find(&before, e->path);
            rose = oom_kills(e->data) > (e0 ? oom_kills(e0->data) : 0);
        }
        if (!rose)
            goto out;
    }
    err = snap_of(r, i, &at, &ctx, dir, sizeof(dir));
    if (err)
        goto out;
    {
        const struct kmem_cgroups *cg = &kmem_current(ctx)->cgroups;

        for (size_t c = 0; c < cg->n; c++) {
            const struct kmem_cgroup *g = &cg->v[c];
            char path[4300];
            const struct kmem_fs_entry *e1, *e0;
            struct kmem_oom_event *ev;

            snprintf(path, sizeof(path), "%s%s/%s", cg->mount, strcmp(g->path, "/") ? g->path : "",
                     cg->layout == KMEM_CG_V2 ? "memory.events" : "memory.oom_control");
            e1 = kmem_fs_find(&at, path);
            e0 = kmem_fs_find(&before, path);
            if (!e1 || oom_kills(e1->data) <= (e0 ? oom_kills(e0->data) : 0))
                continue;
            if (g->depth > 0 && cg->layout == KMEM_CG_V2) {
                /* v2 counts a kill in every ancestor too: keep the deepest only */
                bool child = false;

                for (size_t d = 0; d < cg->n && !child; d++) {
                    size_t l = strlen(g->path);
                    char p2[4300];
                    const struct kmem_fs_entry *f1, *f0;

                    if (strncmp(cg->v[d].path, g->path, l) || cg->v[d].path[l] != '/')
                        continue;
                    snprintf(p2, sizeof(p2), "%s%s/memory.events", cg->mount, cg->v[d].path);
                    f1 = kmem_fs_find(&at, p2);
                    f0 = kmem_fs_find(&before, p2);
                    child = f1 && oom_kills(f1->data) > (f0 ? oom_kills(f0->data) : 0);
                }
                if (child)
                    continue;
            }
            KMEM_GROW(err, out->oom, &out->cap_oom, out->n_oom + 1);
            if (err)
                goto out;
            ev = &out->oom[out->n_oom++];
            memset(ev, 0, sizeof(*ev));
            ev->time_ns = kmem_recording_sample(r, i)->time_ns;
            snprintf(ev->cgroup, sizeof(ev->cgroup), "%s", g->path);
            pod_of(g, ev->pod, sizeof(ev->pod));
            ev->kills = oom_kills(e1->data) - (e0 ? oom_kills(e0->data) : 0);
            ev->usage = g->usage;
            ev->limit = (uint64_t)cg_limit(&at, cg, g);
            ev->kernel = g->kernel;
            ev->comp_present = g->comp_present;
            memcpy(ev->comp, g->comp, sizeof(ev->comp));
        }
    }
    if (out->n_oom > first_new) {
        /* what they were made of at the sample before the kill */
        struct kmem_fileset fs0 = {0};

        kmem_ctx_free(ctx);
        kmem_rec_remove_tree(dir);
        ctx = NULL;
        err = snap_of(r, i - 1, &fs0, &ctx, dir, sizeof(dir));
        kmem_fs_free(&fs0);
        if (err) {
            ctx = NULL;
            err = 0; /* the event stands without it */
            goto out;
        }
        before_of(&kmem_current(ctx)->cgroups, kmem_recording_sample(r, i - 1)->time_ns,
                  out->oom + first_new, out->n_oom - first_new);
    }
out:
    if (ctx) {
        kmem_ctx_free(ctx);
        kmem_rec_remove_tree(dir);
    }
    kmem_fs_free(&before);
    kmem_fs_free(&at);
    return err;
}

static int cmp_verdict(const void *x, const void *y)
{
    const struct kmem_verdict *a = x, *b = y;

    if (a->verdict != b->verdict)
        return a->verdict == KMEM_VERDICT_LEAK_SUSPECT   ? -1
               : b->verdict == KMEM_VERDICT_LEAK_SUSPECT ? 1
                                                         : (int)a->verdict - (int)b->verdict;
    return a->growth > b->growth ? -1 : a->growth < b->growth;
}

int kmem_recording_verdicts(struct kmem_recording *r, uint64_t from_ns, uint64_t to_ns,
                            struct kmem_verdicts *out)
{
    size_t idx[KMEM_VERDICT_MAX_POINTS], n = 0, lo = SIZE_MAX, hi = 0;
    double t[KMEM_VERDICT_MAX_POINTS];
    struct acc a = {0};
    int err = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < kmem_recording_count(r); i++) {
        uint64_t ti = kmem_recording_sample(r, i)->time_ns;

        if (ti < from_ns || ti > to_ns)
            continue;
        lo = lo == SIZE_MAX ? i : lo;
        hi = i;
        /* marked by the recorder, or the first of a run (which saw no earlier counter) */
        if (kmem_recording_sample(r, i)->flags & (KMEM_REC_OOM | KMEM_REC_FIRST)) {
            err = add_ooms(r, i, out);
            if (err)
                return err;
        }
    }
    if (lo == SIZE_MAX)
        return -ENOENT;
    for (size_t k = 0; k < KMEM_VERDICT_MAX_POINTS; k++) {
        size_t i = hi == lo ? lo : lo + (hi - lo) * k / (KMEM_VERDICT_MAX_POINTS - 1);

        if (n && idx[n - 1] == i)
            continue;
        idx[n++] = i;
        if (hi == lo)
            break;
    }
    for (size_t k = 0; k < n; k++) {
        struct kmem_fileset fs = {0};
        struct kmem_ctx *ctx = NULL;
        char dir[4096];

        t[k] = (double)(kmem_recording_sample(r, idx[k])->time_ns -
                        kmem_recording_sample(r, lo)->time_ns) /
               1e9;
        err = snap_of(r, idx[k], &fs, &ctx, dir, sizeof(dir));
        if (!err) {
            add_points(&a, kmem_current(ctx), &fs, k,
                       k + 1 == n ? OWN_LAST
                       : k == 0   ? OWN_FIRST
                                  : OWN_NONE,
                       kmem_recording_sample(r, lo)->time_ns / 2 +
                           kmem_recording_sample(r, hi)->time_ns / 2);
            kmem_ctx_free(ctx);
            kmem_rec_remove_tree(dir);
        }
        kmem_fs_free(&fs);
        if (err)
            goto out;
    }
    out->v = calloc(a.n + 1, sizeof(*out->v));
    if (!out->v) {
        err = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < a.n; i++) {
        classify(&a.s[i], t, n, &out->v[out->n]);
        if (out->v[out->n].verdict != KMEM_VERDICT_NOISE)
            out->n++;
        else
            out->n_noise++;
    }
    kmem_sort(out->v, out->n, sizeof(*out->v), cmp_verdict);
    out->from_ns = kmem_recording_sample(r, lo)->time_ns;
    out->to_ns = kmem_recording_sample(r, hi)->time_ns;
    out->points = n;
    out->samples = hi - lo + 1;
out:
    free(a.s);
    return err;
}

void kmem_verdicts_free(struct kmem_verdicts *v)
{
    free(v->v);
    free(v->oom);
    memset(v, 0, sizeof(*v));
}
