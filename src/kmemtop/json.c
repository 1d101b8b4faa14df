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

/* The sys/kernel/slab attributes of a cache, null when not read. */
static void json_slab_attr(struct jw *w, const struct kmem_slabinfo *si,
                           const struct kmem_slab_attr *a)
{
    static const char *const keys[] = {"reclaimable", "accounted", "merged", "order", "aliases"};

    if (!a->known) {
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            jw_null(w, keys[k]);
        jw_null(w, "unique_id");
        jw_null(w, "alias_names");
        return;
    }
    jw_bool(w, "reclaimable", a->reclaimable);
    if (a->accounted < 0)
        jw_null(w, "accounted");
    else
        jw_bool(w, "accounted", a->accounted);
    jw_bool(w, "merged", a->merged);
    jw_u64(w, "order", a->order);
    jw_u64(w, "aliases", a->aliases);
    jw_str_or_null(w, "unique_id", a->unique_id);
    jw_arr(w, "alias_names");
    if (a->names && si->attr_names.p) {
        const char *p = kmem_arena_at(&si->attr_names, a->names);

        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char name[KMEM_SLAB_NAME_MAX];

            snprintf(name, sizeof(name), "%.*s", (int)len, p);
            jw_str(w, NULL, name);
            p += len + (comma ? 1 : 0);
        }
    }
    jw_arr_end(w);
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
        json_slab_attr(w, si, &s->attr);
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
    jw_obj(w, "attributes");
    jw_bool(w, "read", si->attrs_read);
    jw_bool(w, "ok", si->attrs_ok);
    if (si->attrs_read && !si->attrs_ok)
        jw_str(w, "error", strerror(si->attrs_err < 0 ? -si->attrs_err : si->attrs_err));
    else
        jw_null(w, "error");
    jw_u64(w, "caches_known", si->attrs_known);
    jw_obj_end(w);
    jw_obj_end(w);
}

static const char *src_name(enum kmem_vmap_stack_source s)
{
    return (unsigned)s < KMEM_VMAP_STACK_SOURCE_COUNT ? kmem_vmap_stack_source_name[s] : "unknown";
}

/* A kernel log or file error as "strerror (what to do)". */
static const char *log_error(int err)
{
    switch (err < 0 ? -err : err) {
    case EPERM:
    case EACCES:
        return "Permission denied (dmesg_restrict: run as root or grant CAP_SYSLOG)";
    case ENOENT:
        return "No such file (neither ROOT/dev/kmsg nor ROOT/var/log/dmesg)";
    default:
        return strerror(err < 0 ? -err : err);
    }
}

static void json_node_extra(struct jw *w, const struct kmem_node *n)
{
    const struct kmem_bootlog *b = &n->boot;

    jw_u64(w, "isolated_bytes", n->isolated_bytes);
    jw_bool(w, "stack_in_slab", n->stack_in_slab);
    jw_str(w, "stack_slab_source", src_name(n->stack_slab_source));
    jw_bool(w, "scs_in_slab", n->scs_in_slab);
    jw_str(w, "scs_source", src_name(n->scs_source));
    jw_u64(w, "percpu_first_chunk_bytes", n->percpu_first_chunk_bytes);
    if (n->slab_gap_known) {
        jw_obj(w, "slab_gap");
        jw_u64(w, "slabinfo_bytes", n->slabinfo_bytes);
        jw_i64(w, "gap_bytes", n->slab_gap);
        if (n->slab_split_known) {
            jw_u64(w, "reclaimable_caches_bytes", n->slabinfo_reclaimable_bytes);
            jw_i64(w, "large_kmalloc_bytes", n->large_kmalloc);
        } else {
            jw_null(w, "reclaimable_caches_bytes");
            jw_null(w, "large_kmalloc_bytes");
        }
        jw_obj_end(w);
    } else {
        jw_null(w, "slab_gap");
    }

    jw_obj(w, "boot_log");
    jw_bool(w, "available", b->read && b->err == 0);
    if (b->read && b->err)
        jw_str(w, "error", log_error(b->err));
    else
        jw_null(w, "error");
    jw_obj(w, "hash_bytes");
    for (int h = 0; h < KMEM_HASH_HOME_COUNT; h++)
        jw_u64(w, kmem_hash_home_name[h], b->hash_bytes[h]);
    jw_obj_end(w);
    jw_u64(w, "hash_table_lines", b->n_hash_lines);
    jw_arr(w, "hash_tables");
    for (unsigned i = 0; i < b->n_hash; i++) {
        jw_obj(w, NULL);
        jw_str(w, "name", b->hash[i].name);
        jw_u64(w, "entries", b->hash[i].entries);
        jw_u64(w, "bytes", b->hash[i].bytes);
        jw_str(w, "home", kmem_hash_home_name[b->hash[i].home]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (b->image_freed_seen)
        jw_u64(w, "image_freed_bytes", b->image_freed_bytes);
    else
        jw_null(w, "image_freed_bytes");
    if (b->percpu_seen)
        jw_u64(w, "percpu_unit_pages", b->percpu_unit_pages);
    else
        jw_null(w, "percpu_unit_pages");
    if (b->possible_cpus)
        jw_u64(w, "possible_cpus", b->possible_cpus);
    else
        jw_null(w, "possible_cpus");
    jw_obj_end(w);

    jw_obj(w, "zram");
    jw_u64(w, "devices_total", n->zram.n_total);
    jw_u64(w, "mem_used_total_bytes", n->zram.mem_used_total);
    jw_arr(w, "devices");
    for (unsigned i = 0; i < n->zram.n; i++) {
        const struct kmem_zram_dev *z = &n->zram.dev[i];

        jw_obj(w, NULL);
        jw_str(w, "name", z->name);
        jw_u64(w, "orig_data_bytes", z->orig_data);
        jw_u64(w, "compr_data_bytes", z->compr_data);
        jw_u64(w, "mem_used_bytes", z->mem_used);
        jw_u64(w, "mem_limit_bytes", z->mem_limit);
        jw_u64(w, "mem_used_max_bytes", z->mem_used_max);
        jw_u64(w, "same_pages", z->same_pages);
        jw_u64(w, "huge_pages", z->huge_pages);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);

    if (n->sock.present) {
        const struct kmem_sockstat *k = &n->sock;

        jw_obj(w, "sockets");
        jw_u64(w, "memory_bytes", k->mem_bytes);
        jw_u64(w, "sockets_used", k->sockets_used);
        jw_u64(w, "tcp_inuse", k->tcp_inuse);
        jw_u64(w, "tcp_orphan", k->tcp_orphan);
        jw_u64(w, "tcp_tw", k->tcp_tw);
        jw_u64(w, "tcp_alloc", k->tcp_alloc);
        jw_u64(w, "tcp_mem_pages", k->tcp_mem_pages);
        jw_u64(w, "udp_inuse", k->udp_inuse);
        jw_u64(w, "udp_mem_pages", k->udp_mem_pages);
        jw_u64(w, "frag_bytes", k->frag_bytes);
        jw_u64(w, "frag6_bytes", k->frag6_bytes);
        jw_u64(w, "tcp6_inuse", k->tcp6_inuse);
        jw_u64(w, "udp6_inuse", k->udp6_inuse);
        jw_obj_end(w);
    } else {
        jw_null(w, "sockets");
    }
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
    jw_str(w, "vmap_stack_source", src_name(n->vmap_stack_source));
    json_node_extra(w, n);
    jw_obj_end(w);
}

/* An errno of a /proc file as text, or null. */
static void json_file_error(struct jw *w, int err)
{
    if (!err)
        jw_null(w, "error");
    else if (err == -EPERM || err == -EACCES)
        jw_str(w, "error", "Permission denied (run as root)");
    else
        jw_str(w, "error", strerror(err < 0 ? -err : err));
}

static void json_detail(struct jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_detail *d = &snap->detail;
    const struct kmem_vmallocinfo *v = &d->vmalloc;
    const struct kmem_iomem *io = &d->iomem;
    const struct kmem_allocinfo *a = &d->alloc;
    const struct kmem_outside *o = &d->outside;

    jw_obj(w, "node_detail");
    if (!(snap->flags & KMEM_COLLECT_DETAIL)) {
        json_status(w, snap, KMEM_COLLECT_DETAIL, &snap->status[KMEM_PART_DETAIL]);
        jw_obj_end(w);
        return;
    }
    json_status(w, snap, KMEM_COLLECT_DETAIL, &snap->status[KMEM_PART_DETAIL]);
    jw_bool(w, "reused", d->reused);

    jw_obj(w, "vmalloc");
    json_file_error(w, v->err);
    jw_u64(w, "areas", v->areas);
    jw_u64(w, "bytes", v->bytes);
    jw_u64(w, "vsize_bytes", v->vsize);
    jw_u64(w, "ioremap_vsize_bytes", v->ioremap_vsize);
    jw_u64(w, "callers", v->callers);
    jw_arr(w, "top");
    for (unsigned i = 0; i < v->n_top; i++) {
        jw_obj(w, NULL);
        jw_str(w, "caller", v->top[i].caller);
        jw_str_or_null(w, "plain", v->top[i].plain);
        jw_u64(w, "bytes", v->top[i].bytes);
        jw_u64(w, "vsize_bytes", v->top[i].vsize);
        jw_u64(w, "areas", v->top[i].areas);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_u64(w, "rest_bytes", v->rest_bytes);
    jw_arr(w, "groups");
    for (unsigned i = 0; i < v->n_groups; i++) {
        jw_obj(w, NULL);
        jw_str(w, "name", v->groups[i].name);
        jw_u64(w, "bytes", v->groups[i].bytes);
        jw_u64(w, "areas", v->groups[i].areas);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);

    jw_obj(w, "iomem");
    json_file_error(w, io->err);
    jw_u64(w, "system_ram_bytes", io->system_ram);
    jw_u64(w, "ram_ranges", io->ram_ranges);
    jw_u64(w, "kernel_code_bytes", io->kernel_code);
    jw_u64(w, "kernel_rodata_bytes", io->kernel_rodata);
    jw_u64(w, "kernel_data_bytes", io->kernel_data);
    jw_u64(w, "kernel_bss_bytes", io->kernel_bss);
    if (io->kernel_seen)
        jw_u64(w, "kernel_span_bytes", io->kernel_end - io->kernel_start + 1);
    else
        jw_null(w, "kernel_span_bytes");
    jw_u64(w, "crash_kernel_bytes", io->crash_kernel);
    jw_obj_end(w);

    jw_obj(w, "allocinfo");
    jw_bool(w, "present", a->present);
    json_file_error(w, a->err);
    if (a->present && !a->err) {
        char ver[32];

        snprintf(ver, sizeof(ver), "%u.%u", a->major, a->minor);
        jw_str(w, "version", ver);
    } else {
        jw_null(w, "version");
    }
    jw_u64(w, "sites", a->sites);
    jw_i64(w, "bytes", a->bytes);
    jw_u64(w, "calls", a->calls);
    jw_arr(w, "top");
    for (unsigned i = 0; i < a->n_top; i++) {
        jw_obj(w, NULL);
        jw_str(w, "site", a->top[i].site);
        jw_str_or_null(w, "func", a->top[i].func);
        jw_str_or_null(w, "module", a->top[i].module);
        jw_i64(w, "bytes", a->top[i].bytes);
        jw_u64(w, "calls", a->top[i].calls);
        jw_bool(w, "accurate", !a->top[i].inaccurate);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);

    jw_obj(w, "outside");
    jw_bool(w, "known", o->known);
    if (o->known) {
        jw_u64(w, "system_ram_bytes", o->system_ram);
        jw_u64(w, "total_bytes", o->total);
    } else {
        jw_null(w, "system_ram_bytes");
        jw_null(w, "total_bytes");
    }
    jw_u64(w, "memtotal_bytes", o->memtotal);
    jw_obj(w, "parts");
    for (int p = 0; p < KMEM_OUT_PART_COUNT; p++)
        jw_u64(w, kmem_outside_part_name[p], o->part[p]);
    jw_obj_end(w);
    if (o->known) {
        jw_i64(w, "unexplained_raw_bytes", o->unexplained_signed);
    } else {
        jw_null(w, "unexplained_raw_bytes");
    }
    jw_bool(w, "kernel_image_from_span", o->image_from_span);
    jw_bool(w, "memmap_estimated", o->memmap_estimated);
    jw_u64(w, "kernel_image_named_bytes", o->image_named);
    if (o->known && (snap->flags & KMEM_COLLECT_NODE) && !snap->status[KMEM_PART_NODE].err)
        jw_u64(w, "unexplained_total_bytes",
               add_sat(snap->node.kind[KMEM_NODE_UNACCOUNTED], o->part[KMEM_OUT_UNEXPLAINED]));
    else
        jw_null(w, "unexplained_total_bytes");
    jw_obj_end(w);
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

/* Slab bytes per cgroup and cache (ownview.c writes the object). */
static void json_owners(struct jw *w, const struct kmem_snapshot *snap)
{
    jw_key(w, "owners");
    kt_json_owners(w->f, snap, w->depth);
}

/* Where the snapshot comes from: a capture's kmem-capture.txt, or null. */
static void json_capture(struct jw *w, const struct kmem_capture_meta *m)
{
    if (!m) {
        jw_null(w, "capture");
        return;
    }
    jw_obj(w, "capture");
    jw_str_or_null(w, "date", m->date);
    jw_str_or_null(w, "hostname", m->hostname);
    jw_str_or_null(w, "kernel", m->kernel);
    jw_str_or_null(w, "kmem_version", m->version);
    jw_str_or_null(w, "command", m->command);
    jw_obj_end(w);
}

int kt_json(FILE *f, const struct kmem_snapshot *snap, const struct kt_json_info *info)
{
    struct jw w = {.f = f};

    jw_obj(&w, NULL);
    jw_u64(&w, "version", 1);
    jw_str(&w, "kmem_version", KMEM_VERSION);
    jw_u64(&w, "page_size", kmem_page_size());
    if (info && info->interval > 0)
        jw_u64(&w, "interval_seconds", (uint64_t)info->interval);
    else
        jw_null(&w, "interval_seconds");
    json_capture(&w, info ? info->capture : NULL);
    json_slab(&w, snap);
    json_node(&w, snap);
    json_detail(&w, snap);
    json_cgroups(&w, snap);
    json_owners(&w, snap);
    jw_obj_end(&w);
    fputc('\n', f);
    if (fflush(f) != 0 || ferror(f))
        return -(errno ? errno : EIO);
    return 0;
}

/* A JSON string with the escaping above, for the other JSON documents (--alloc). */
void kt_json_string(FILE *f, const char *s)
{
    jw_string_raw(f, s ? s : "");
}
