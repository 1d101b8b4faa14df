/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --diff A B: what grew and what shrank between two moments (two
 * times of a recording with --replay DIR, two captures, two recordings),
 * by node kind, slab cache and cgroup / pod. Text, or JSON with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemrec.h"
#include "record.h"
#include "sort.h"

#define DIFF_TOP 25

struct drow {
    const char *name; /* cache name, kind, or cgroup path */
    const struct kmem_cgroup *cg;
    bool in_a, in_b;
    uint64_t a, b;   /* bytes */
    uint64_t ao, bo; /* objects (caches) */
    int reclaimable; /* caches: 1, 0, -1 unknown */
};

static int64_t change(const struct drow *r)
{
    return (int64_t)r->b - (int64_t)r->a;
}

static int cmp_change(const void *x, const void *y)
{
    int64_t a = change(x), b = change(y);
    uint64_t ma = a < 0 ? (uint64_t)-a : (uint64_t)a, mb = b < 0 ? (uint64_t)-b : (uint64_t)b;

    if (ma != mb)
        return ma > mb ? -1 : 1;
    return strcmp(((const struct drow *)x)->name, ((const struct drow *)y)->name);
}

static int open_snap(const struct kt_opts *o, struct kt_source *src, struct kmem_ctx **ctx)
{
    char err[512];

    if (kmem_ctx_new(ctx, src->root, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        return -1;
    }
    kmem_collect(*ctx, KMEM_COLLECT_ALL);
    return 0;
}

static struct drow *slab_rows(const struct kmem_snapshot *a, const struct kmem_snapshot *b,
                              size_t *n)
{
    uint64_t ps = kmem_page_size();
    struct drow *v = calloc(a->slab.n + b->slab.n + 1, sizeof(*v));
    size_t k = 0;

    if (!v)
        return NULL;
    for (size_t i = 0; i < b->slab.n; i++) {
        const struct kmem_slab *s = &b->slab.v[i];
        long j = kmem_slabinfo_find(&a->slab, s->name, s->dup);

        v[k] = (struct drow){.name = s->name,
                             .in_b = true,
                             .b = kmem_slab_bytes(s, ps),
                             .bo = s->num_objs,
                             .reclaimable = s->attr.known ? s->attr.reclaimable : -1};
        if (j >= 0) {
            v[k].in_a = true;
            v[k].a = kmem_slab_bytes(&a->slab.v[j], ps);
            v[k].ao = a->slab.v[j].num_objs;
        }
        k++;
    }
    for (size_t i = 0; i < a->slab.n; i++) {
        const struct kmem_slab *s = &a->slab.v[i];

        if (kmem_slabinfo_find(&b->slab, s->name, s->dup) >= 0)
            continue;
        v[k++] = (struct drow){.name = s->name,
                               .in_a = true,
                               .a = kmem_slab_bytes(s, ps),
                               .ao = s->num_objs,
                               .reclaimable = s->attr.known ? s->attr.reclaimable : -1};
    }
    *n = k;
    return v;
}

static const struct kmem_cgroup *cg_find(const struct kmem_cgroups *c, const char *path)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i].path, path))
            return &c->v[i];
    return NULL;
}

static struct drow *cg_rows(const struct kmem_snapshot *a, const struct kmem_snapshot *b, size_t *n)
{
    struct drow *v = calloc(a->cgroups.n + b->cgroups.n + 1, sizeof(*v));
    size_t k = 0;

    if (!v)
        return NULL;
    for (size_t i = 0; i < b->cgroups.n; i++) {
        const struct kmem_cgroup *c = &b->cgroups.v[i], *p = cg_find(&a->cgroups, c->path);

        v[k++] = (struct drow){.name = c->path,
                               .cg = c,
                               .in_b = true,
                               .b = c->kernel,
                               .in_a = p != NULL,
                               .a = p ? p->kernel : 0};
    }
    for (size_t i = 0; i < a->cgroups.n; i++) {
        const struct kmem_cgroup *c = &a->cgroups.v[i];

        if (!cg_find(&b->cgroups, c->path))
            v[k++] = (struct drow){.name = c->path, .cg = c, .in_a = true, .a = c->kernel};
    }
    *n = k;
    return v;
}

static void print_rows(const char *title, const char *col, struct drow *v, size_t n, bool all)
{
    char a[32], b[32], d[32], name[512];
    size_t shown = 0, changed = 0;

    kmem_sort(v, n, sizeof(*v), cmp_change);
    for (size_t i = 0; i < n; i++)
        changed += change(&v[i]) != 0 || v[i].in_a != v[i].in_b;
    printf("\n%s (%zu compared, %zu changed):\n", title, n, changed);
    printf("  %-44s %10s %10s %10s\n", col, "A", "B", "CHANGE");
    for (size_t i = 0; i < n && (all || shown < DIFF_TOP); i++) {
        const struct drow *r = &v[i];

        if (change(r) == 0 && r->in_a == r->in_b)
            continue;
        if (r->cg)
            kt_cg_name(name, sizeof(name), r->cg, KT_ESC_HEX);
        else
            kt_printable(name, sizeof(name), r->name, KT_ESC_HEX);
        printf("  %-44s %10s %10s %10s%s%s\n", name,
               r->in_a ? kt_human(a, sizeof(a), (double)r->a) : "-",
               r->in_b ? kt_human(b, sizeof(b), (double)r->b) : "-",
               kt_human_delta(d, sizeof(d), (double)change(r)),
               !r->in_a   ? "  new"
               : !r->in_b ? "  gone"
                          : "",
               r->reclaimable == 1 ? "  reclaimable" : "");
        shown++;
    }
    if (shown < changed)
        printf("  ... %zu more (all of them in --json)\n", changed - shown);
}

static void json_rows(const char *key, struct drow *v, size_t n, bool cgroups)
{
    bool first = true;

    kmem_sort(v, n, sizeof(*v), cmp_change);
    printf(",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        const struct drow *r = &v[i];

        if (change(r) == 0 && r->in_a == r->in_b)
            continue;
        printf("%s{\"%s\":", first ? "" : ",", cgroups ? "cgroup" : "name");
        kt_json_string(stdout, r->name);
        if (cgroups && r->cg) {
            printf(",\"namespace\":");
            kt_json_string(stdout, r->cg->namespace_name ? r->cg->namespace_name : "");
            printf(",\"pod\":");
            kt_json_string(stdout, r->cg->pod_name ? r->cg->pod_name : "");
            printf(",\"container\":");
            kt_json_string(stdout, r->cg->container_name ? r->cg->container_name : "");
        }
        printf(",\"in_a\":%s,\"in_b\":%s,\"a_bytes\":%llu,\"b_bytes\":%llu,\"change_bytes\":%lld",
               r->in_a ? "true" : "false", r->in_b ? "true" : "false", (unsigned long long)r->a,
               (unsigned long long)r->b, (long long)change(r));
        if (!cgroups && r->reclaimable >= 0 && r->ao + r->bo)
            printf(",\"a_objects\":%llu,\"b_objects\":%llu,\"reclaimable\":%s",
                   (unsigned long long)r->ao, (unsigned long long)r->bo,
                   r->reclaimable ? "true" : "false");
        printf("}");
        first = false;
    }
    printf("]");
}

static void json_source(const char *key, const struct kt_source *s)
{
    printf("\"%s\":{\"source\":", key);
    kt_json_string(stdout, s->label);
    printf(",\"time\":");
    kt_json_string(stdout, s->when);
    printf(",\"time_unix\":%.3f}", (double)s->time_ns / 1e9);
}

int kt_diff_run(const struct kt_opts *o)
{
    struct kt_source sa, sb;
    struct kt_source *g[2] = {&sa, &sb};
    struct kmem_ctx *ca = NULL, *cb = NULL;
    struct drow node[KMEM_NODE_KIND_COUNT], *slabs = NULL, *cgs = NULL;
    size_t ns = 0, nc = 0;
    int rc = EXIT_FAILURE;

    if (kt_source_open(o, o->replay ? o->replay : o->diff_a, o->replay ? o->diff_a : NULL, &sa))
        return EXIT_FAILURE;
    if (kt_source_open(o, o->replay ? o->replay : o->diff_b, o->replay ? o->diff_b : NULL, &sb)) {
        kt_source_close(&sa);
        return EXIT_FAILURE;
    }
    kt_source_guard(g, 2);
    if (open_snap(o, &sa, &ca) || open_snap(o, &sb, &cb))
        goto out;
    {
        const struct kmem_snapshot *a = kmem_current(ca), *b = kmem_current(cb);

        for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
            node[k] = (struct drow){.name = kmem_node_kind_name[k],
                                    .in_a = true,
                                    .in_b = true,
                                    .a = a->node.kind[k],
                                    .b = b->node.kind[k],
                                    .reclaimable = -1};
        slabs = slab_rows(a, b, &ns);
        cgs = cg_rows(a, b, &nc);
        if (!slabs || !cgs) {
            fprintf(stderr, "%s: out of memory\n", o->prog);
            goto out;
        }
        if (o->json) {
            printf("{");
            json_source("a", &sa);
            printf(",");
            json_source("b", &sb);
            printf(",\"node_kernel_bytes\":{\"a\":%llu,\"b\":%llu}",
                   (unsigned long long)a->node.kernel_total,
                   (unsigned long long)b->node.kernel_total);
            json_rows("node", node, KMEM_NODE_KIND_COUNT, false);
            json_rows("slabs", slabs, ns, false);
            json_rows("cgroups", cgs, nc, true);
            printf("}\n");
        } else {
            char x[32], y[32], d[32];

            printf("A: %s\nB: %s\n", sa.label, sb.label);
            printf("\nNode kernel memory: %s -> %s (%s)\n",
                   kt_human(x, sizeof(x), (double)a->node.kernel_total),
                   kt_human(y, sizeof(y), (double)b->node.kernel_total),
                   kt_human_delta(
                       d, sizeof(d),
                       (double)((int64_t)b->node.kernel_total - (int64_t)a->node.kernel_total)));
            print_rows("Node kernel memory by kind", "KIND", node, KMEM_NODE_KIND_COUNT, true);
            print_rows("Slab caches", "CACHE", slabs, ns, false);
            print_rows("Cgroups (kernel memory)", "CGROUP / POD", cgs, nc, false);
        }
        rc = EXIT_SUCCESS;
    }
out:
    free(slabs);
    free(cgs);
    kmem_ctx_free(ca);
    kmem_ctx_free(cb);
    kt_source_close(&sa);
    kt_source_close(&sb);
    return rc;
}
