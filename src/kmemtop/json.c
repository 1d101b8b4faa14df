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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "jsonw.h"
#include "macros.h"
#include "sat.h"
#include "views.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "0.0.0"
#endif

/*
 * Members written straight from a struct's fields, by table: a row names
 * the member, how it is written and the field (its type checked at compile
 * time by the JM_ macros: a row whose field has another type does not build).
 */
enum jm_kind {
    JK_U64,           /* uint64_t */
    JK_UINT,          /* unsigned, as a number */
    JK_I64,           /* int64_t */
    JK_CHARS,         /* char[], a string */
    JK_CHARS_OR_NULL, /* char[], null when empty */
    JK_STR,           /* const char *, a string */
    JK_STR_OR_NULL,   /* const char *, null when NULL or empty */
    JK_NOT,           /* bool, written negated */
};

struct jm {
    const char *key;
    enum jm_kind kind;
    size_t off;
};

/* A row: field @f of struct @T, which must be of C type @type, written as @kind under @key. */
/* clang-format off */
#define JM_(T, key, f, kind, type) {key, kind, _Generic(((T *)0)->f, type: offsetof(T, f))}
/* clang-format on */
#define JM_U64(T, key, f)           JM_(T, key, f, JK_U64, uint64_t)
#define JM_UINT(T, key, f)          JM_(T, key, f, JK_UINT, unsigned)
#define JM_I64(T, key, f)           JM_(T, key, f, JK_I64, int64_t)
#define JM_CHARS(T, key, f)         JM_(T, key, f, JK_CHARS, char *) /* char[]: a pointer here */
#define JM_CHARS_OR_NULL(T, key, f) JM_(T, key, f, JK_CHARS_OR_NULL, char *)
#define JM_STR(T, key, f)           JM_(T, key, f, JK_STR, const char *)
#define JM_STR_OR_NULL(T, key, f)   JM_(T, key, f, JK_STR_OR_NULL, const char *)
#define JM_NOT(T, key, f)           JM_(T, key, f, JK_NOT, bool)

static void json_members(struct kmem_jw *w, const void *base, const struct jm *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)base + m[i].off;

        switch (m[i].kind) {
        case JK_U64:
            kmem_jw_u64(w, m[i].key, *(const uint64_t *)p);
            break;
        case JK_UINT:
            kmem_jw_u64(w, m[i].key, *(const unsigned *)p);
            break;
        case JK_I64:
            kmem_jw_i64(w, m[i].key, *(const int64_t *)p);
            break;
        case JK_CHARS:
            kmem_jw_str(w, m[i].key, p);
            break;
        case JK_CHARS_OR_NULL:
            kmem_jw_str_or_null(w, m[i].key, p);
            break;
        case JK_STR:
            kmem_jw_str(w, m[i].key, *(const char *const *)p);
            break;
        case JK_STR_OR_NULL:
            kmem_jw_str_or_null(w, m[i].key, *(const char *const *)p);
            break;
        case JK_NOT:
            kmem_jw_bool(w, m[i].key, !*(const bool *)p);
            break;
        }
    }
}

/* "@key": [one object of members @m per element of @v (@n of @size bytes)]. */
static void json_rows(struct kmem_jw *w, const char *key, const void *v, size_t n, size_t size,
                      const struct jm *m, size_t nm)
{
    kmem_jw_arr(w, key);
    for (size_t i = 0; i < n; i++) {
        kmem_jw_obj(w, NULL);
        json_members(w, (const char *)v + i * size, m, nm);
        kmem_jw_obj_end(w);
    }
    kmem_jw_arr_end(w);
}
#define JSON_ROWS(w, key, v, n, m) json_rows(w, key, v, n, sizeof((v)[0]), m, ARRAY_SIZE(m))

/* "status": {"ok": ..., "error": ...}; returns true when the part is usable. */
static bool json_status(struct kmem_jw *w, const struct kmem_snapshot *snap, unsigned part,
                        const struct kmem_status *st)
{
    bool collected = (snap->flags & part) != 0;
    bool ok = collected && st->err == 0;

    kmem_jw_obj(w, "status");
    kmem_jw_bool(w, "ok", ok);
    if (ok)
        kmem_jw_null(w, "error");
    else if (!collected)
        kmem_jw_str(w, "error", "not collected");
    else
        kmem_jw_str(w, "error", st->msg[0] ? st->msg : strerror(st->err < 0 ? -st->err : st->err));
    kmem_jw_obj_end(w);
    return ok;
}

/* The sys/kernel/slab attributes of a cache, null when not read. */
static void json_slab_attr(struct kmem_jw *w, const struct kmem_slabinfo *si,
                           const struct kmem_slab_attr *a)
{
    static const char *const keys[] = {"reclaimable", "accounted", "merged", "order", "aliases"};

    if (!a->known) {
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            kmem_jw_null(w, keys[k]);
        kmem_jw_null(w, "unique_id");
        kmem_jw_null(w, "alias_names");
        return;
    }
    kmem_jw_bool(w, "reclaimable", a->reclaimable);
    /* "accounted" is what sysfs and the name say (as kmem_slab_info's label);
     * the owner snapshot's evidence is a key of its own, present when true. */
    if (a->accounted < 0 || a->accounted_charged)
        kmem_jw_null(w, "accounted");
    else
        kmem_jw_bool(w, "accounted", a->accounted);
    if (a->accounted_charged)
        kmem_jw_bool(w, "accounted_charged", true);
    kmem_jw_bool(w, "merged", a->merged);
    kmem_jw_u64(w, "order", a->order);
    kmem_jw_u64(w, "aliases", a->aliases);
    kmem_jw_str_or_null(w, "unique_id", a->unique_id);
    kmem_jw_arr(w, "alias_names");
    if (a->names && si->attr_names.p) {
        const char *p = kmem_arena_at(&si->attr_names, a->names);

        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char name[KMEM_SLAB_NAME_MAX];

            snprintf(name, sizeof(name), "%.*s", (int)len, p);
            kmem_jw_str(w, NULL, name);
            p += len + (comma ? 1 : 0);
        }
    }
    kmem_jw_arr_end(w);
}

static void json_slab(struct kmem_jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_slabinfo *si = &snap->slab;
    uint64_t page = kmem_page_size();
    const struct kmem_slab_totals *t = &si->totals;

    kmem_jw_obj(w, "slab");
    if (!json_status(w, snap, KMEM_COLLECT_SLAB, &snap->status[KMEM_PART_SLAB])) {
        kmem_jw_obj_end(w);
        return;
    }
    kmem_jw_u64(w, "version_major", si->major);
    kmem_jw_u64(w, "version_minor", si->minor);
    kmem_jw_bool(w, "statistics", si->statistics);
    kmem_jw_arr(w, "caches");
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];

        kmem_jw_obj(w, NULL);
        kmem_jw_str(w, "name", s->name);
        kmem_jw_u64(w, "dup", s->dup);
        kmem_jw_u64(w, "active_objs", s->active_objs);
        kmem_jw_u64(w, "num_objs", s->num_objs);
        kmem_jw_u64(w, "objsize", s->objsize);
        kmem_jw_u64(w, "objperslab", s->objperslab);
        kmem_jw_u64(w, "pagesperslab", s->pagesperslab);
        kmem_jw_u64(w, "active_slabs", s->active_slabs);
        kmem_jw_u64(w, "num_slabs", s->num_slabs);
        kmem_jw_u64(w, "size_bytes", kmem_slab_bytes(s, page));
        kmem_jw_u64(w, "active_bytes", kmem_slab_active_bytes(s));
        kmem_jw_i64_or_null(w, "delta_bytes", s->has_prev, s->delta_bytes);
        json_slab_attr(w, si, &s->attr);
        kmem_jw_obj_end(w);
    }
    kmem_jw_arr_end(w);
    kmem_jw_obj(w, "totals");
    kmem_jw_u64(w, "caches", t->caches);
    kmem_jw_u64(w, "active_caches", t->active_caches);
    kmem_jw_u64(w, "active_objs", t->active_objs);
    kmem_jw_u64(w, "num_objs", t->num_objs);
    kmem_jw_u64(w, "active_slabs", t->active_slabs);
    kmem_jw_u64(w, "num_slabs", t->num_slabs);
    kmem_jw_u64(w, "size_bytes", t->size_bytes);
    kmem_jw_u64(w, "active_bytes", t->active_bytes);
    kmem_jw_i64_or_null(w, "delta_bytes", t->has_delta, t->delta_bytes);
    kmem_jw_obj_end(w);
    kmem_jw_obj(w, "attributes");
    kmem_jw_bool(w, "read", si->attrs_read);
    kmem_jw_bool(w, "ok", si->attrs_ok);
    if (si->attrs_read && !si->attrs_ok)
        kmem_jw_str(w, "error", strerror(si->attrs_err < 0 ? -si->attrs_err : si->attrs_err));
    else
        kmem_jw_null(w, "error");
    kmem_jw_u64(w, "caches_known", si->attrs_known);
    kmem_jw_obj_end(w);
    kmem_jw_obj_end(w);
}

static const char *src_name(enum kmem_vmap_stack_source s)
{
    return (unsigned)s < KMEM_VMAP_STACK_SOURCE_COUNT ? kmem_vmap_stack_source_name[s] : "unknown";
}

static const struct jm boot_hash_members[] = {
    JM_CHARS(struct kmem_boot_hash, "name", name),
    JM_U64(struct kmem_boot_hash, "entries", entries),
    JM_U64(struct kmem_boot_hash, "bytes", bytes),
};

static const struct jm zram_dev_members[] = {
    JM_CHARS(struct kmem_zram_dev, "name", name),
    JM_U64(struct kmem_zram_dev, "orig_data_bytes", orig_data),
    JM_U64(struct kmem_zram_dev, "compr_data_bytes", compr_data),
    JM_U64(struct kmem_zram_dev, "mem_used_bytes", mem_used),
    JM_U64(struct kmem_zram_dev, "mem_limit_bytes", mem_limit),
    JM_U64(struct kmem_zram_dev, "mem_used_max_bytes", mem_used_max),
    JM_U64(struct kmem_zram_dev, "same_pages", same_pages),
    JM_U64(struct kmem_zram_dev, "huge_pages", huge_pages),
};

static const struct jm sock_members[] = {
    JM_U64(struct kmem_sockstat, "memory_bytes", mem_bytes),
    JM_U64(struct kmem_sockstat, "sockets_used", sockets_used),
    JM_U64(struct kmem_sockstat, "tcp_inuse", tcp_inuse),
    JM_U64(struct kmem_sockstat, "tcp_orphan", tcp_orphan),
    JM_U64(struct kmem_sockstat, "tcp_tw", tcp_tw),
    JM_U64(struct kmem_sockstat, "tcp_alloc", tcp_alloc),
    JM_U64(struct kmem_sockstat, "tcp_mem_pages", tcp_mem_pages),
    JM_U64(struct kmem_sockstat, "udp_inuse", udp_inuse),
    JM_U64(struct kmem_sockstat, "udp_mem_pages", udp_mem_pages),
    JM_U64(struct kmem_sockstat, "frag_bytes", frag_bytes),
    JM_U64(struct kmem_sockstat, "frag6_bytes", frag6_bytes),
    JM_U64(struct kmem_sockstat, "tcp6_inuse", tcp6_inuse),
    JM_U64(struct kmem_sockstat, "udp6_inuse", udp6_inuse),
};

static void json_node_extra(struct kmem_jw *w, const struct kmem_node *n)
{
    const struct kmem_bootlog *b = &n->boot;

    kmem_jw_u64(w, "isolated_bytes", n->isolated_bytes);
    kmem_jw_bool(w, "stack_in_slab", n->stack_in_slab);
    kmem_jw_str(w, "stack_slab_source", src_name(n->stack_slab_source));
    kmem_jw_bool(w, "scs_in_slab", n->scs_in_slab);
    kmem_jw_str(w, "scs_source", src_name(n->scs_source));
    kmem_jw_u64(w, "percpu_first_chunk_bytes", n->percpu_first_chunk_bytes);
    kmem_jw_u64(w, "percpu_units", n->percpu_units);
    kmem_jw_u64(w, "percpu_units_used", n->percpu_units_used);
    if (n->slab_gap_known) {
        kmem_jw_obj(w, "slab_gap");
        kmem_jw_u64(w, "slabinfo_bytes", n->slabinfo_bytes);
        kmem_jw_i64(w, "gap_bytes", n->slab_gap);
        if (n->slab_split_known) {
            kmem_jw_u64(w, "reclaimable_caches_bytes", n->slabinfo_reclaimable_bytes);
            kmem_jw_i64(w, "large_kmalloc_bytes", n->large_kmalloc);
        } else {
            kmem_jw_null(w, "reclaimable_caches_bytes");
            kmem_jw_null(w, "large_kmalloc_bytes");
        }
        kmem_jw_obj_end(w);
    } else {
        kmem_jw_null(w, "slab_gap");
    }

    kmem_jw_obj(w, "boot_log");
    kmem_jw_bool(w, "available", b->read && b->err == 0);
    if (b->read && b->err)
        kmem_jw_str(w, "error", kmem_errno_text(b->err, KMEM_ADVICE_KLOG));
    else
        kmem_jw_null(w, "error");
    kmem_jw_obj(w, "hash_bytes");
    for (int h = 0; h < KMEM_HASH_HOME_COUNT; h++)
        kmem_jw_u64(w, kmem_hash_home_name[h], b->hash_bytes[h]);
    kmem_jw_obj_end(w);
    kmem_jw_u64(w, "hash_table_lines", b->n_hash_lines);
    kmem_jw_arr(w, "hash_tables");
    for (unsigned i = 0; i < b->n_hash; i++) {
        kmem_jw_obj(w, NULL);
        json_members(w, &b->hash[i], boot_hash_members, ARRAY_SIZE(boot_hash_members));
        kmem_jw_str(w, "home", kmem_hash_home_name[b->hash[i].home]);
        kmem_jw_obj_end(w);
    }
    kmem_jw_arr_end(w);
    kmem_jw_u64_or_null(w, "image_freed_bytes", b->image_freed_seen, b->image_freed_bytes);
    kmem_jw_u64_or_null(w, "percpu_unit_pages", b->percpu_seen, b->percpu_unit_pages);
    kmem_jw_u64_or_null(w, "possible_cpus", b->possible_cpus != 0, b->possible_cpus);
    if (b->percpu_units) {
        kmem_jw_u64(w, "percpu_units", b->percpu_units);
        kmem_jw_u64(w, "percpu_units_unused", b->percpu_units_unused);
    } else {
        kmem_jw_null(w, "percpu_units");
        kmem_jw_null(w, "percpu_units_unused");
    }
    kmem_jw_u64_or_null(w, "swiotlb_bytes", b->swiotlb_seen || b->swiotlb_torn_down,
                        b->swiotlb_bytes);
    kmem_jw_obj_end(w);

    kmem_jw_obj(w, "zram");
    kmem_jw_u64(w, "devices_total", n->zram.n_total);
    kmem_jw_u64(w, "mem_used_total_bytes", n->zram.mem_used_total);
    JSON_ROWS(w, "devices", n->zram.dev, n->zram.n, zram_dev_members);
    kmem_jw_obj_end(w);

    if (n->sock.present) {
        kmem_jw_obj(w, "sockets");
        json_members(w, &n->sock, sock_members, ARRAY_SIZE(sock_members));
        kmem_jw_obj_end(w);
    } else {
        kmem_jw_null(w, "sockets");
    }
}

static void json_node(struct kmem_jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_node *n = &snap->node;

    kmem_jw_obj(w, "node");
    if (!json_status(w, snap, KMEM_COLLECT_NODE, &snap->status[KMEM_PART_NODE])) {
        kmem_jw_obj_end(w);
        return;
    }
    kmem_jw_obj(w, "meminfo");
    for (int i = 0; i < KMEM_MI_COUNT; i++)
        if (n->mi.present & (UINT64_C(1) << i))
            kmem_jw_u64(w, kmem_meminfo_name[i], n->mi.v[i]);
    kmem_jw_obj_end(w);
    kmem_jw_obj(w, "vmstat");
    for (int i = 0; i < KMEM_VM_COUNT; i++)
        if (n->vm.present & (UINT64_C(1) << i))
            kmem_jw_u64(w, kmem_vmstat_name[i], n->vm.v[i]);
    kmem_jw_obj_end(w);
    kmem_jw_obj(w, "kinds");
    for (int i = 0; i < KMEM_NODE_KIND_COUNT; i++)
        kmem_jw_u64(w, kmem_node_kind_name[i], n->kind[i]);
    kmem_jw_obj_end(w);
    kmem_jw_u64(w, "kernel_total_bytes", n->kernel_total);
    kmem_jw_i64(w, "unaccounted_raw_bytes", n->unaccounted_signed);
    kmem_jw_u64(w, "percpu_free_pages", n->percpu_free_pages);
    kmem_jw_u64(w, "percpu_free_bytes", n->percpu_free_bytes);
    kmem_jw_u64(w, "memmap_bytes", n->memmap_bytes);
    kmem_jw_u64(w, "memmap_boot_bytes", n->memmap_boot_bytes);
    kmem_jw_u64(w, "lru_bytes", n->lru_bytes);
    kmem_jw_u64(w, "hugetlb_bytes", n->hugetlb_bytes);
    kmem_jw_u64(w, "node_page_size", n->page_size);
    kmem_jw_bool(w, "vmap_stack", n->vmap_stack);
    kmem_jw_str(w, "vmap_stack_source", src_name(n->vmap_stack_source));
    json_node_extra(w, n);
    kmem_jw_obj_end(w);
}

/* An errno of a /proc file as text, or null. */
static void json_file_error(struct kmem_jw *w, int err)
{
    if (!err)
        kmem_jw_null(w, "error");
    else
        kmem_jw_str(w, "error", kmem_errno_text(err, KMEM_ADVICE_JSON));
}

static const struct jm vmalloc_members[] = {
    JM_U64(struct kmem_vmallocinfo, "areas", areas),
    JM_U64(struct kmem_vmallocinfo, "bytes", bytes),
    JM_U64(struct kmem_vmallocinfo, "vsize_bytes", vsize),
    JM_U64(struct kmem_vmallocinfo, "ioremap_vsize_bytes", ioremap_vsize),
    JM_U64(struct kmem_vmallocinfo, "other_pages_bytes", other_pages),
    JM_U64(struct kmem_vmallocinfo, "callers", callers),
};

static const struct jm vmalloc_caller_members[] = {
    JM_CHARS(struct kmem_vmalloc_caller, "caller", caller),
    JM_STR_OR_NULL(struct kmem_vmalloc_caller, "plain", plain),
    JM_U64(struct kmem_vmalloc_caller, "bytes", bytes),
    JM_U64(struct kmem_vmalloc_caller, "vsize_bytes", vsize),
    JM_U64(struct kmem_vmalloc_caller, "areas", areas),
};

static const struct jm vmalloc_group_members[] = {
    JM_STR(struct kmem_vmalloc_group, "name", name),
    JM_U64(struct kmem_vmalloc_group, "bytes", bytes),
    JM_U64(struct kmem_vmalloc_group, "areas", areas),
};

static const struct jm iomem_members[] = {
    JM_U64(struct kmem_iomem, "system_ram_bytes", system_ram),
    JM_UINT(struct kmem_iomem, "ram_ranges", ram_ranges),
    JM_U64(struct kmem_iomem, "kernel_code_bytes", kernel_code),
    JM_U64(struct kmem_iomem, "kernel_rodata_bytes", kernel_rodata),
    JM_U64(struct kmem_iomem, "kernel_data_bytes", kernel_data),
    JM_U64(struct kmem_iomem, "kernel_bss_bytes", kernel_bss),
};

static const struct jm allocinfo_members[] = {
    JM_U64(struct kmem_allocinfo, "sites", sites),
    JM_I64(struct kmem_allocinfo, "bytes", bytes),
    JM_U64(struct kmem_allocinfo, "calls", calls),
};

static const struct jm alloc_site_members[] = {
    JM_CHARS(struct kmem_alloc_site, "site", site),
    JM_CHARS_OR_NULL(struct kmem_alloc_site, "func", func),
    JM_CHARS_OR_NULL(struct kmem_alloc_site, "module", module),
    JM_I64(struct kmem_alloc_site, "bytes", bytes),
    JM_U64(struct kmem_alloc_site, "calls", calls),
    JM_NOT(struct kmem_alloc_site, "accurate", inaccurate),
};

static void json_detail(struct kmem_jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_detail *d = &snap->detail;
    const struct kmem_vmallocinfo *v = &d->vmalloc;
    const struct kmem_iomem *io = &d->iomem;
    const struct kmem_allocinfo *a = &d->alloc;
    const struct kmem_outside *o = &d->outside;

    kmem_jw_obj(w, "node_detail");
    if (!(snap->flags & KMEM_COLLECT_DETAIL)) {
        json_status(w, snap, KMEM_COLLECT_DETAIL, &snap->status[KMEM_PART_DETAIL]);
        kmem_jw_obj_end(w);
        return;
    }
    json_status(w, snap, KMEM_COLLECT_DETAIL, &snap->status[KMEM_PART_DETAIL]);
    kmem_jw_bool(w, "reused", d->reused);

    kmem_jw_obj(w, "vmalloc");
    json_file_error(w, v->err);
    json_members(w, v, vmalloc_members, ARRAY_SIZE(vmalloc_members));
    JSON_ROWS(w, "top", v->top, v->n_top, vmalloc_caller_members);
    kmem_jw_u64(w, "rest_bytes", v->rest_bytes);
    JSON_ROWS(w, "groups", v->groups, v->n_groups, vmalloc_group_members);
    kmem_jw_obj_end(w);

    kmem_jw_obj(w, "iomem");
    json_file_error(w, io->err);
    json_members(w, io, iomem_members, ARRAY_SIZE(iomem_members));
    kmem_jw_u64_or_null(w, "kernel_span_bytes", io->kernel_seen,
                        io->kernel_end - io->kernel_start + 1);
    kmem_jw_u64(w, "crash_kernel_bytes", io->crash_kernel);
    kmem_jw_obj_end(w);

    kmem_jw_obj(w, "allocinfo");
    kmem_jw_bool(w, "present", a->present);
    json_file_error(w, a->err);
    if (a->present && !a->err) {
        char ver[32];

        snprintf(ver, sizeof(ver), "%u.%u", a->major, a->minor);
        kmem_jw_str(w, "version", ver);
    } else {
        kmem_jw_null(w, "version");
    }
    json_members(w, a, allocinfo_members, ARRAY_SIZE(allocinfo_members));
    JSON_ROWS(w, "top", a->top, a->n_top, alloc_site_members);
    kmem_jw_obj_end(w);

    kmem_jw_obj(w, "outside");
    kmem_jw_bool(w, "known", o->known);
    if (o->known) {
        kmem_jw_u64(w, "system_ram_bytes", o->system_ram);
        kmem_jw_u64(w, "total_bytes", o->total);
    } else {
        kmem_jw_null(w, "system_ram_bytes");
        kmem_jw_null(w, "total_bytes");
    }
    kmem_jw_u64(w, "memtotal_bytes", o->memtotal);
    kmem_jw_obj(w, "parts");
    for (int p = 0; p < KMEM_OUT_PART_COUNT; p++)
        kmem_jw_u64(w, kmem_outside_part_name[p], o->part[p]);
    kmem_jw_obj_end(w);
    kmem_jw_i64_or_null(w, "unexplained_raw_bytes", o->known, o->unexplained_signed);
    kmem_jw_bool(w, "kernel_image_from_span", o->image_from_span);
    kmem_jw_bool(w, "memmap_estimated", o->memmap_estimated);
    kmem_jw_u64(w, "kernel_image_named_bytes", o->image_named);
    kmem_jw_u64_or_null(
        w, "unexplained_total_bytes",
        o->known && (snap->flags & KMEM_COLLECT_NODE) && !snap->status[KMEM_PART_NODE].err,
        kmem_add_sat(snap->node.kind[KMEM_NODE_UNACCOUNTED], o->part[KMEM_OUT_UNEXPLAINED]));
    kmem_jw_obj_end(w);
    kmem_jw_obj_end(w);
}

/*
 * Cgroups in tree order (kt_cg_tree_order): the walk order depends on
 * readdir(), which differs between a live tree and a copy of it; this order
 * makes the document the same for both.
 */
static void json_cgroups(struct kmem_jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_cgroups *cgs = &snap->cgroups;
    size_t *idx = NULL;

    kmem_jw_obj(w, "cgroups");
    if (!json_status(w, snap, KMEM_COLLECT_CGROUPS, &snap->status[KMEM_PART_CGROUPS])) {
        kmem_jw_obj_end(w);
        return;
    }
    kmem_jw_str(w, "layout",
                (unsigned)cgs->layout <= KMEM_CG_HYBRID ? kmem_cg_layout_name[cgs->layout]
                                                        : "none");
    kmem_jw_str_or_null(w, "mount", cgs->mount);
    kmem_jw_u64(w, "skipped_vanished", cgs->n_vanished);
    kmem_jw_u64(w, "skipped_errors", cgs->n_errors);
    kmem_jw_u64(w, "skipped_unnamed", cgs->n_unnamed);
    kmem_jw_bool(w, "kernel_exact", cgs->kernel_exact);
    if (cgs->dying_source != KMEM_CG_DYING_NONE) {
        kmem_jw_u64(w, "dying", cgs->dying);
        kmem_jw_str(w, "dying_source", kmem_cg_dying_source_name[cgs->dying_source]);
    } else {
        kmem_jw_null(w, "dying");
        kmem_jw_null(w, "dying_source");
    }
    kmem_jw_u64_or_null(w, "possible_cpus", cgs->possible_cpus != 0, cgs->possible_cpus);
    if (cgs->kernel_release) {
        char rel[32];

        snprintf(rel, sizeof(rel), "%u.%u", cgs->kernel_release / 1000, cgs->kernel_release % 1000);
        kmem_jw_str(w, "kernel_release", rel);
    } else {
        kmem_jw_null(w, "kernel_release");
    }
    kmem_jw_bool(w, "pagetables_unreported", cgs->pagetables_unreported);
    if (cgs->n) {
        idx = malloc(cgs->n * sizeof(*idx));
        if (idx)
            kt_cg_tree_order(cgs->v, cgs->n, idx);
    }
    kmem_jw_arr(w, "items");
    for (size_t i = 0; i < cgs->n; i++) {
        /* Without memory for the index, the reader's order. */
        const struct kmem_cgroup *cg = &cgs->v[idx ? idx[i] : i];

        kmem_jw_obj(w, NULL);
        kmem_jw_str(w, "path", cg->path ? cg->path : "");
        kmem_jw_i64(w, "depth", cg->depth);
        kmem_jw_u64(w, "kernel_bytes", cg->kernel);
        kmem_jw_bool(w, "approx", cg->kernel_approx);
        kmem_jw_bool(w, "lower_bound", cg->kernel_lower_bound);
        kmem_jw_u64_or_null(w, "upper_bound_bytes", cg->has_upper_bound, cg->kernel_upper_bound);
        kmem_jw_u64(w, "usage_bytes", cg->usage);
        kmem_jw_obj(w, "components");
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
            if (cg->comp_present & (UINT32_C(1) << k))
                kmem_jw_u64(w, kmem_cg_kind_name[k], cg->comp[k]);
        kmem_jw_obj_end(w);
        kmem_jw_u64(w, "components_excess_bytes", cg->comp_excess);
        kmem_jw_bool(w, "pagetables_unreported", cg->pagetables_unreported);
        kmem_jw_u64_or_null(w, "sock_bytes", cg->has_sock, cg->sock);
        kmem_jw_u64_or_null(w, "dying_descendants", cg->has_dying, cg->dying);
        kmem_jw_str_or_null(w, "pod_uid", cg->pod_uid);
        kmem_jw_str_or_null(w, "qos", cg->qos);
        kmem_jw_str_or_null(w, "container_id", cg->container_id);
        kmem_jw_str_or_null(w, "runtime", cg->runtime);
        kmem_jw_str_or_null(w, "namespace", cg->namespace_name);
        kmem_jw_str_or_null(w, "pod", cg->pod_name);
        kmem_jw_str_or_null(w, "container", cg->container_name);
        kmem_jw_i64_or_null(w, "attempt",
                            cg->container_name && *cg->container_name && cg->container_attempt >= 0,
                            cg->container_attempt);
        kmem_jw_bool(w, "conmon", cg->kube_conmon);
        kmem_jw_i64_or_null(w, "delta_kernel_bytes", cg->has_prev, cg->delta_kernel);
        kmem_jw_obj_end(w);
    }
    kmem_jw_arr_end(w);
    kmem_jw_obj_end(w);
    free(idx);
}

/* Where the snapshot comes from: a capture's kmem-capture.txt, or null. */
static void json_capture(struct kmem_jw *w, const struct kmem_capture_meta *m)
{
    if (!m) {
        kmem_jw_null(w, "capture");
        return;
    }
    kmem_jw_obj(w, "capture");
    kmem_jw_str_or_null(w, "date", m->date);
    kmem_jw_str_or_null(w, "hostname", m->hostname);
    kmem_jw_str_or_null(w, "kernel", m->kernel);
    kmem_jw_str_or_null(w, "kmem_version", m->version);
    kmem_jw_str_or_null(w, "command", m->command);
    kmem_jw_obj_end(w);
}

int kt_json(FILE *f, const struct kmem_snapshot *snap, const struct kt_json_info *info)
{
    struct kmem_jw w = {.f = f};

    kmem_jw_obj(&w, NULL);
    kmem_jw_u64(&w, "version", 1);
    kmem_jw_str(&w, "kmem_version", KMEM_VERSION);
    kmem_jw_u64(&w, "page_size", kmem_page_size());
    if (info && info->interval > 0)
        kmem_jw_u64(&w, "interval_seconds", (uint64_t)info->interval);
    else
        kmem_jw_null(&w, "interval_seconds");
    json_capture(&w, info ? info->capture : NULL);
    json_slab(&w, snap);
    json_node(&w, snap);
    json_detail(&w, snap);
    json_cgroups(&w, snap);
    kt_json_owners(&w, snap);
    kmem_jw_obj_end(&w);
    fputc('\n', f);
    if (fflush(f) != 0 || ferror(f))
        return -(errno ? errno : EIO);
    return 0;
}

/* A JSON string with the escaping above, for the other JSON documents (--alloc). */
void kt_json_string(FILE *f, const char *s)
{
    kmem_json_fputs(f, s, KMEM_JSON_SAFE | KMEM_JSON_SHORT);
}
