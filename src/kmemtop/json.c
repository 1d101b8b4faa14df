/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --json: the whole snapshot as one JSON document. The schema is
 * documented in docs/json-schema.md and docs/kmem.schema.json.
 *
 * Strings: cache names and cgroup paths are arbitrary bytes. Valid UTF-8 is
 * copied as is; every byte that is not part of a valid UTF-8 sequence is
 * written as \u00XX (the code point equal to the byte's value). Control
 * characters (C0 and C1), '"', '\\', DEL and U+2028/U+2029 are escaped.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "0.0.0"
#endif

/*
 * A small streaming writer. Containers opened as array elements are written
 * on one line (one cache or cgroup per line); the rest is indented.
 */
#define JW_MAX_DEPTH 16

struct jw {
    FILE *f;
    int depth;
    bool first[JW_MAX_DEPTH]; /* no member written yet at this depth */
    bool compact[JW_MAX_DEPTH];
    bool in_array[JW_MAX_DEPTH];
};

static void jw_newline(struct jw *w)
{
    if (w->compact[w->depth]) {
        return;
    }
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

static void jw_string_raw(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t left = strlen(str);

    fputc('"', f);
    while (left) {
        unsigned c = *s;
        size_t n;

        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fprintf(f, "\\u%04x", c);
                break;
            }
            n = kt_utf8_seq(s, left);
            if (n == 0) {
                /* Not UTF-8: the byte as the code point of the same value. */
                fprintf(f, "\\u%04x", c);
                break;
            }
            if (kt_utf8_is_c1(s, n)) {
                fprintf(f, "\\u%04x", s[1]); /* C1 controls: not raw on a terminal */
            } else if (n == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) {
                fprintf(f, "\\u%04x", s[2] == 0xA8 ? 0x2028 : 0x2029);
            } else {
                fwrite(s, 1, n, f);
            }
            s += n;
            left -= n;
            continue;
        }
        s++;
        left--;
    }
    fputc('"', f);
}

/* Start a value: the separator and, inside an object, the key. */
static void jw_key(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth])
            fputc(',', w->f);
        if (w->compact[w->depth] && !w->first[w->depth])
            fputc(' ', w->f);
        w->first[w->depth] = false;
        jw_newline(w);
    }
    if (key) {
        jw_string_raw(w->f, key);
        fputs(": ", w->f);
    }
}

static void jw_open(struct jw *w, const char *key, char c)
{
    bool compact;

    jw_key(w, key);
    compact = w->compact[w->depth] || w->in_array[w->depth];
    fputc(c, w->f);
    if (w->depth + 1 >= JW_MAX_DEPTH)
        return; /* not reached: the document is 5 levels deep */
    w->depth++;
    w->first[w->depth] = true;
    w->compact[w->depth] = compact;
    w->in_array[w->depth] = c == '[';
}

static void jw_close(struct jw *w, char c)
{
    bool empty = w->first[w->depth];

    w->depth--;
    if (!empty && !w->compact[w->depth + 1])
        jw_newline(w);
    fputc(c, w->f);
}

static void jw_obj(struct jw *w, const char *key)
{
    jw_open(w, key, '{');
}
static void jw_obj_end(struct jw *w)
{
    jw_close(w, '}');
}
static void jw_arr(struct jw *w, const char *key)
{
    jw_open(w, key, '[');
}
static void jw_arr_end(struct jw *w)
{
    jw_close(w, ']');
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    fprintf(w->f, "%" PRIu64, v);
}

static void jw_i64(struct jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    fprintf(w->f, "%" PRId64, v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
    jw_key(w, key);
    fputs(v ? "true" : "false", w->f);
}

static void jw_null(struct jw *w, const char *key)
{
    jw_key(w, key);
    fputs("null", w->f);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_string_raw(w->f, s);
}

/* A string, or null when NULL or empty. */
static void jw_str_or_null(struct jw *w, const char *key, const char *s)
{
    if (s && *s)
        jw_str(w, key, s);
    else
        jw_null(w, key);
}

/* "status": {"ok": ..., "error": ...}; returns true when the part is usable. */
static bool json_status(struct jw *w, const struct kmem_snapshot *snap, unsigned part,
                        const struct kmem_status *st)
{
    bool collected = (snap->flags & part) != 0;
    bool ok = collected && st->err == 0;

    jw_obj(w, "status");
    jw_bool(w, "ok", ok);
    if (ok)
        jw_null(w, "error");
    else if (!collected)
        jw_str(w, "error", "not collected");
    else
        jw_str(w, "error", st->msg[0] ? st->msg : strerror(st->err < 0 ? -st->err : st->err));
    jw_obj_end(w);
    return ok;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void json_slab(struct jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_slabinfo *si = &snap->slab;
    uint64_t page = kmem_page_size();
    uint64_t act_objs = 0, objs = 0, act_slabs = 0, slabs = 0, size = 0, act = 0;
    int64_t delta = 0;
    size_t active_caches = 0;
    bool any_prev = false;

    jw_obj(w, "slab");
    if (!json_status(w, snap, KMEM_COLLECT_SLAB, &snap->status[KMEM_PART_SLAB])) {
        jw_obj_end(w);
        return;
    }
    jw_u64(w, "version_major", si->major);
    jw_u64(w, "version_minor", si->minor);
    jw_bool(w, "statistics", si->statistics);
    jw_arr(w, "caches");
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        uint64_t sb = kmem_slab_bytes(s, page), ab = kmem_slab_active_bytes(s);

        jw_obj(w, NULL);
        jw_str(w, "name", s->name);
        jw_u64(w, "dup", s->dup);
        jw_u64(w, "active_objs", s->active_objs);
        jw_u64(w, "num_objs", s->num_objs);
        jw_u64(w, "objsize", s->objsize);
        jw_u64(w, "objperslab", s->objperslab);
        jw_u64(w, "pagesperslab", s->pagesperslab);
        jw_u64(w, "active_slabs", s->active_slabs);
        jw_u64(w, "num_slabs", s->num_slabs);
        jw_u64(w, "size_bytes", sb);
        jw_u64(w, "active_bytes", ab);
        if (s->has_prev)
            jw_i64(w, "delta_bytes", s->delta_bytes);
        else
            jw_null(w, "delta_bytes");
        jw_obj_end(w);

        act_objs = add_sat(act_objs, s->active_objs);
        objs = add_sat(objs, s->num_objs);
        act_slabs = add_sat(act_slabs, s->active_slabs);
        slabs = add_sat(slabs, s->num_slabs);
        size = add_sat(size, sb);
        act = add_sat(act, ab);
        active_caches += s->num_objs > 0;
        if (s->has_prev) {
            any_prev = true;
            delta += s->delta_bytes;
        }
    }
    jw_arr_end(w);
    jw_obj(w, "totals");
    jw_u64(w, "caches", si->n);
    jw_u64(w, "active_caches", active_caches);
    jw_u64(w, "active_objs", act_objs);
    jw_u64(w, "num_objs", objs);
    jw_u64(w, "active_slabs", act_slabs);
    jw_u64(w, "num_slabs", slabs);
    jw_u64(w, "size_bytes", size);
    jw_u64(w, "active_bytes", act);
    if (any_prev)
        jw_i64(w, "delta_bytes", delta);
    else
        jw_null(w, "delta_bytes");
    jw_obj_end(w);
    jw_obj_end(w);
}

static void json_node(struct jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_node *n = &snap->node;

    jw_obj(w, "node");
    if (!json_status(w, snap, KMEM_COLLECT_NODE, &snap->status[KMEM_PART_NODE])) {
        jw_obj_end(w);
        return;
    }
    jw_obj(w, "meminfo");
    for (int i = 0; i < KMEM_MI_COUNT; i++)
        if (n->mi.present & (UINT64_C(1) << i))
            jw_u64(w, kmem_meminfo_name[i], n->mi.v[i]);
    jw_obj_end(w);
    jw_obj(w, "vmstat");
    for (int i = 0; i < KMEM_VM_COUNT; i++)
        if (n->vm.present & (UINT64_C(1) << i))
            jw_u64(w, kmem_vmstat_name[i], n->vm.v[i]);
    jw_obj_end(w);
    jw_obj(w, "kinds");
    for (int i = 0; i < KMEM_NODE_KIND_COUNT; i++)
        jw_u64(w, kmem_node_kind_name[i], n->kind[i]);
    jw_obj_end(w);
    jw_u64(w, "kernel_total_bytes", n->kernel_total);
    jw_i64(w, "unaccounted_raw_bytes", n->unaccounted_signed);
    jw_u64(w, "percpu_free_pages", n->percpu_free_pages);
    jw_u64(w, "percpu_free_bytes", n->percpu_free_bytes);
    jw_u64(w, "memmap_bytes", n->memmap_bytes);
    jw_u64(w, "memmap_boot_bytes", n->memmap_boot_bytes);
    jw_u64(w, "lru_bytes", n->lru_bytes);
    jw_u64(w, "hugetlb_bytes", n->hugetlb_bytes);
    jw_u64(w, "node_page_size", n->page_size);
    jw_bool(w, "vmap_stack", n->vmap_stack);
    jw_str(w, "vmap_stack_source",
           (unsigned)n->vmap_stack_source < KMEM_VMAP_STACK_SOURCE_COUNT
               ? kmem_vmap_stack_source_name[n->vmap_stack_source]
               : "unknown");
    jw_obj_end(w);
}

/*
 * Cgroups in tree order (kt_cg_tree_order): the walk order depends on
 * readdir(), which differs between a live tree and a copy of it; this order
 * makes the document the same for both.
 */
static void json_cgroups(struct jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_cgroups *cgs = &snap->cgroups;
    size_t *idx = NULL;

    jw_obj(w, "cgroups");
    if (!json_status(w, snap, KMEM_COLLECT_CGROUPS, &snap->status[KMEM_PART_CGROUPS])) {
        jw_obj_end(w);
        return;
    }
    jw_str(w, "layout",
           (unsigned)cgs->layout <= KMEM_CG_HYBRID ? kmem_cg_layout_name[cgs->layout] : "none");
    jw_str_or_null(w, "mount", cgs->mount);
    jw_u64(w, "skipped_vanished", cgs->n_vanished);
    jw_u64(w, "skipped_errors", cgs->n_errors);
    jw_bool(w, "kernel_exact", cgs->kernel_exact);
    if (cgs->dying_source != KMEM_CG_DYING_NONE) {
        jw_u64(w, "dying", cgs->dying);
        jw_str(w, "dying_source", kmem_cg_dying_source_name[cgs->dying_source]);
    } else {
        jw_null(w, "dying");
        jw_null(w, "dying_source");
    }
    if (cgs->possible_cpus)
        jw_u64(w, "possible_cpus", cgs->possible_cpus);
    else
        jw_null(w, "possible_cpus");
    if (cgs->n) {
        idx = malloc(cgs->n * sizeof(*idx));
        if (idx)
            kt_cg_tree_order(cgs->v, cgs->n, idx);
    }
    jw_arr(w, "items");
    for (size_t i = 0; i < cgs->n; i++) {
        /* Without memory for the index, the reader's order. */
        const struct kmem_cgroup *cg = &cgs->v[idx ? idx[i] : i];

        jw_obj(w, NULL);
        jw_str(w, "path", cg->path ? cg->path : "");
        jw_i64(w, "depth", cg->depth);
        jw_u64(w, "kernel_bytes", cg->kernel);
        jw_bool(w, "approx", cg->kernel_approx);
        jw_bool(w, "lower_bound", cg->kernel_lower_bound);
        if (cg->has_upper_bound)
            jw_u64(w, "upper_bound_bytes", cg->kernel_upper_bound);
        else
            jw_null(w, "upper_bound_bytes");
        jw_u64(w, "usage_bytes", cg->usage);
        jw_obj(w, "components");
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
            if (cg->comp_present & (UINT32_C(1) << k))
                jw_u64(w, kmem_cg_kind_name[k], cg->comp[k]);
        jw_obj_end(w);
        jw_u64(w, "components_excess_bytes", cg->comp_excess);
        if (cg->has_sock)
            jw_u64(w, "sock_bytes", cg->sock);
        else
            jw_null(w, "sock_bytes");
        if (cg->has_dying)
            jw_u64(w, "dying_descendants", cg->dying);
        else
            jw_null(w, "dying_descendants");
        jw_str_or_null(w, "pod_uid", cg->pod_uid);
        jw_str_or_null(w, "qos", cg->qos);
        jw_str_or_null(w, "container_id", cg->container_id);
        jw_str_or_null(w, "runtime", cg->runtime);
        jw_str_or_null(w, "namespace", cg->namespace_name);
        jw_str_or_null(w, "pod", cg->pod_name);
        jw_str_or_null(w, "container", cg->container_name);
        if (cg->container_name && *cg->container_name && cg->container_attempt >= 0)
            jw_i64(w, "attempt", cg->container_attempt);
        else
            jw_null(w, "attempt");
        jw_bool(w, "conmon", cg->kube_conmon);
        if (cg->has_prev)
            jw_i64(w, "delta_kernel_bytes", cg->delta_kernel);
        else
            jw_null(w, "delta_kernel_bytes");
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    free(idx);
}

int kt_json(FILE *f, const struct kmem_snapshot *snap)
{
    struct jw w = {.f = f};

    jw_obj(&w, NULL);
    jw_u64(&w, "version", 1);
    jw_str(&w, "kmem_version", KMEM_VERSION);
    jw_u64(&w, "page_size", kmem_page_size());
    json_slab(&w, snap);
    json_node(&w, snap);
    json_cgroups(&w, snap);
    jw_obj_end(&w);
    fputc('\n', f);
    if (fflush(f) != 0 || ferror(f))
        return -(errno ? errno : EIO);
    return 0;
}
