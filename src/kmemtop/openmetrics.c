/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --replay DIR --openmetrics [--window DUR] [--at T]: the recording
 * as OpenMetrics text with a timestamp on every sample, for
 * `promtool tsdb create-blocks-from openmetrics` (backfilling Prometheus).
 * Each sample is read back as a snapshot; the values are kept per series so
 * that every series is written contiguously, in time order, family by
 * family, ending in "# EOF".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "kmemrec.h"
#include "record.h"

enum fam { F_NODE, F_SLAB, F_CGROUP, F_DYING, F_COUNT };

static const struct {
    const char *name, *help;
} fam[F_COUNT] = {
    [F_NODE] = {"kmem_node_kernel_bytes", "Node kernel memory by kind (kinds do not overlap)."},
    [F_SLAB] = {"kmem_slab_size_bytes", "Slab cache size: num_slabs x pagesperslab x page size."},
    [F_CGROUP] = {"kmem_cgroup_kernel_bytes", "Kernel memory charged to the memory cgroup."},
    [F_DYING] = {"kmem_memory_cgroups_dying", "Memory cgroups removed but still held."},
};

struct om_series {
    enum fam f;
    char *labels; /* {a="b",...} already escaped */
    double *v;    /* per point; NAN: absent */
};

struct om {
    struct om_series *s;
    size_t n, cap;
    size_t points;
    double *t; /* seconds since the epoch, per point */
};

/* Label value escaping of the exposition formats: \\, \", \n. */
static void esc(char *out, size_t len, const char *s)
{
    size_t o = 0;

    for (; *s && o + 3 < len; s++) {
        if (*s == '\\' || *s == '"') {
            out[o++] = '\\';
            out[o++] = *s;
        } else if (*s == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

static struct om_series *series(struct om *m, enum fam f, const char *labels, size_t npoints)
{
    int err;

    for (size_t i = m->n; i-- > 0;)
        if (m->s[i].f == f && !strcmp(m->s[i].labels, labels))
            return &m->s[i];
    KMEM_GROW(err, m->s, &m->cap, m->n + 1);
    if (err)
        return NULL;
    m->s[m->n].f = f;
    m->s[m->n].labels = strdup(labels);
    m->s[m->n].v = malloc(npoints * sizeof(double));
    if (!m->s[m->n].labels || !m->s[m->n].v) {
        free(m->s[m->n].labels);
        free(m->s[m->n].v);
        return NULL;
    }
    for (size_t k = 0; k < npoints; k++)
        m->s[m->n].v[k] = NAN;
    return &m->s[m->n++];
}

static void set(struct om *m, enum fam f, const char *labels, size_t k, size_t npoints, double v)
{
    struct om_series *s = series(m, f, labels, npoints);

    if (s)
        s->v[k] = v;
}

static void add_snapshot(struct om *m, const struct kmem_snapshot *s, size_t k, size_t np)
{
    uint64_t ps = kmem_page_size();
    char lab[8192], a[1024], b[1024], c[4400], d[1024];

    /* A part that was not read has no figures: no point, rather than zeros. */
    for (int i = 0; kt_part_ok(s, KMEM_PART_NODE) && i < KMEM_NODE_KIND_COUNT; i++) {
        snprintf(lab, sizeof(lab), "{kind=\"%s\"}", kmem_node_kind_name[i]);
        set(m, F_NODE, lab, k, np, (double)s->node.kind[i]);
    }
    for (size_t i = 0; i < s->slab.n; i++) {
        const struct kmem_slab *c0 = &s->slab.v[i];

        if (!c0->num_slabs)
            continue;
        esc(a, sizeof(a), c0->name);
        if (c0->dup)
            snprintf(lab, sizeof(lab), "{cache=\"%s\",dup=\"%u\"}", a, c0->dup);
        else
            snprintf(lab, sizeof(lab), "{cache=\"%s\"}", a);
        set(m, F_SLAB, lab, k, np, (double)kmem_slab_bytes(c0, ps));
    }
    for (size_t i = 0; i < s->cgroups.n; i++) {
        const struct kmem_cgroup *g = &s->cgroups.v[i];

        esc(c, sizeof(c), g->path);
        esc(a, sizeof(a), g->namespace_name ? g->namespace_name : "");
        esc(b, sizeof(b), g->pod_name ? g->pod_name : "");
        esc(d, sizeof(d), g->container_name ? g->container_name : "");
        snprintf(lab, sizeof(lab), "{cgroup=\"%s\",namespace=\"%s\",pod=\"%s\",container=\"%s\"}",
                 c, a, b, d);
        set(m, F_CGROUP, lab, k, np, (double)g->kernel);
    }
    if (kt_part_ok(s, KMEM_PART_CGROUPS) && s->cgroups.dying_source != KMEM_CG_DYING_NONE)
        set(m, F_DYING, "", k, np, (double)s->cgroups.dying);
}

int kt_openmetrics_run(const struct kt_opts *o)
{
    struct kmem_recording *r;
    struct om m = {0};
    uint64_t to = UINT64_MAX, from = 0, dur = 0;
    size_t lo = SIZE_MAX, hi = 0;
    int rc = EXIT_FAILURE;

    if (o->window && kmem_parse_duration(o->window, &dur)) {
        fprintf(stderr, "%s: --window: '%s' is no duration (e.g. 6h, 2d)\n", o->prog, o->window);
        return EXIT_FAILURE;
    }
    if (kt_recording_open(o, &r))
        return EXIT_FAILURE;
    if (kmem_recording_count(r) && o->window) {
        to = kmem_recording_sample(r, kmem_recording_count(r) - 1)->time_ns;
        from = to > dur * 1000000000ull ? to - dur * 1000000000ull : 0;
    }
    for (size_t i = 0; i < kmem_recording_count(r); i++) {
        uint64_t t = kmem_recording_sample(r, i)->time_ns;

        if (t < from || t > to)
            continue;
        lo = lo == SIZE_MAX ? i : lo;
        hi = i;
    }
    if (lo == SIZE_MAX) {
        fprintf(stderr, "%s: %s holds no sample to export\n", o->prog, o->replay);
        goto out;
    }
    m.points = hi - lo + 1;
    m.t = calloc(m.points, sizeof(*m.t));
    if (!m.t)
        goto out;
    for (size_t k = 0; k < m.points; k++) {
        char dir[4096], e2[512];
        struct kmem_ctx *ctx;

        snprintf(dir, sizeof(dir), "%s/kmem-om.XXXXXX", kmem_rec_tmpdir());
        if (kmem_recording_materialize(r, lo + k, dir)) {
            fprintf(stderr, "%s: %s\n", o->prog, kmem_recording_strerror(r));
            goto out;
        }
        if (kmem_ctx_new(&ctx, dir, e2, sizeof(e2))) {
            fprintf(stderr, "%s: %s\n", o->prog, e2);
            kmem_rec_remove_tree(dir);
            goto out;
        }
        kmem_collect(ctx, KMEM_COLLECT_ALL);
        add_snapshot(&m, kmem_current(ctx), k, m.points);
        m.t[k] = (double)kmem_recording_sample(r, lo + k)->time_ns / 1e9;
        kmem_ctx_free(ctx);
        kmem_rec_remove_tree(dir);
    }
    for (int f = 0; f < F_COUNT; f++) {
        bool any = false;

        for (size_t i = 0; i < m.n; i++) {
            if (m.s[i].f != (enum fam)f)
                continue;
            if (!any)
                printf("# TYPE %s gauge\n# HELP %s %s\n", fam[f].name, fam[f].name, fam[f].help);
            any = true;
            for (size_t k = 0; k < m.points; k++)
                if (!isnan(m.s[i].v[k]))
                    printf("%s%s %.0f %.3f\n", fam[f].name, m.s[i].labels, m.s[i].v[k], m.t[k]);
        }
    }
    printf("# EOF\n");
    rc = EXIT_SUCCESS;
out:
    for (size_t i = 0; i < m.n; i++) {
        free(m.s[i].labels);
        free(m.s[i].v);
    }
    free(m.s);
    free(m.t);
    kmem_recording_close(r);
    return rc;
}
