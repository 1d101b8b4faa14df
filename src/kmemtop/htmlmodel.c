/* SPDX-License-Identifier: MIT */
/*
 * The boxes of kmemtop --html: two trees built from one snapshot, with the
 * same bytes that --json prints for the same things (json.c reads the same
 * fields), then laid out in pixels.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "macros.h"
#include "sat.h"
#include "common.h"
#include "html.h"

/* ---- the tree ------------------------------------------------------------ */

static char *dup_printable(const char *s)
{
    size_t len = 4 * strlen(s ? s : "") + 1;
    char *p = malloc(len);

    if (p)
        kt_printable(p, len, s, KT_ESC_HEX);
    return p;
}

int kt_hmap_add(struct kt_hmap *m, int parent, const char *key, const char *name, uint64_t bytes,
                enum kt_hcol colour)
{
    struct kt_hnode *n;
    int err;

    if (m->err)
        return -1;
    KMEM_GROW(err, m->v, &m->cap, m->n + 1);
    if (err) {
        m->err = err;
        return -1;
    }
    n = &m->v[m->n];
    *n = (struct kt_hnode){
        .parent = parent, .first = -1, .last = -1, .next = -1, .bytes = bytes, .colour = colour};
    n->name = dup_printable(name);
    n->key = dup_printable(key);
    if (!n->name || !n->key) {
        free(n->name);
        free(n->key);
        m->err = -ENOMEM;
        return -1;
    }
    if (parent >= 0) {
        struct kt_hnode *p = &m->v[parent];

        n->depth = p->depth + 1;
        if (p->last >= 0)
            m->v[p->last].next = (int)m->n;
        else
            p->first = (int)m->n;
        p->last = (int)m->n;
    }
    return (int)m->n++;
}

void kt_hmap_note(struct kt_hmap *m, int i, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (i < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(m->v[i].note);
    m->v[i].note = dup_printable(buf);
    if (!m->v[i].note)
        m->err = -ENOMEM;
}

void kt_hmap_free(struct kt_hmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].key);
        free(m->v[i].note);
    }
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

/* Sum of the children's bytes. */
static uint64_t child_sum(const struct kt_hmap *m, int i)
{
    uint64_t s = 0;

    for (int c = m->v[i].first; c >= 0; c = m->v[c].next)
        s = kmem_add_sat(s, m->v[c].bytes);
    return s;
}

/*
 * A rest box when the children of @i add up to less than @i: what they do
 * not name. With @always, also when nothing is left (0 bytes: a row of the
 * table only). Its index, or -1.
 */
static int add_rest(struct kt_hmap *m, int i, const char *name, enum kt_hcol colour, bool always)
{
    uint64_t s;
    char key[4400];
    int r;

    if (i < 0 || m->v[i].first < 0)
        return -1;
    s = child_sum(m, i);
    if (s >= m->v[i].bytes && !always)
        return -1;
    snprintf(key, sizeof(key), "rest:%s", m->v[i].key);
    r = kt_hmap_add(m, i, key, name, s < m->v[i].bytes ? m->v[i].bytes - s : 0, colour);
    if (r >= 0)
        m->v[r].synthetic = true;
    return r;
}

/* ---- MemTotal ------------------------------------------------------------ */

enum kt_hcol kt_html_kind_colour(int k)
{
    switch (k) {
    case KMEM_NODE_SLAB_RECLAIMABLE:
        return KT_HC_SLAB_R;
    case KMEM_NODE_SLAB_UNRECLAIMABLE:
        return KT_HC_SLAB_U;
    case KMEM_NODE_KERNEL_STACK:
        return KT_HC_STACK;
    case KMEM_NODE_PAGETABLES:
    case KMEM_NODE_SEC_PAGETABLES:
        return KT_HC_PAGETABLES;
    case KMEM_NODE_VMALLOC:
        return KT_HC_VMALLOC;
    case KMEM_NODE_PERCPU:
        return KT_HC_PERCPU;
    case KMEM_NODE_UNACCOUNTED:
        return KT_HC_UNACCOUNTED;
    default:
        return KT_HC_OTHER;
    }
}

/* Words for a kind, as the report says them. */
static const char *const kind_words[KMEM_NODE_KIND_COUNT] = {
    [KMEM_NODE_SLAB_RECLAIMABLE] = "slab, reclaimable",
    [KMEM_NODE_SLAB_UNRECLAIMABLE] = "slab, unreclaimable",
    [KMEM_NODE_KERNEL_STACK] = "kernel stacks",
    [KMEM_NODE_PAGETABLES] = "page tables",
    [KMEM_NODE_SEC_PAGETABLES] = "secondary page tables",
    [KMEM_NODE_VMALLOC] = "vmalloc",
    [KMEM_NODE_PERCPU] = "per-CPU",
    [KMEM_NODE_OTHER_RECLAIMABLE] = "other reclaimable",
    [KMEM_NODE_ZSWAP] = "zswap pool",
    [KMEM_NODE_ZRAM] = "zram",
    [KMEM_NODE_BOUNCE] = "bounce buffers",
    [KMEM_NODE_WRITEBACK_TMP] = "FUSE writeback",
    [KMEM_NODE_HASH_TABLES] = "boot hash tables",
    [KMEM_NODE_UNACCOUNTED] = "unexplained rest",
};
static_assert(ARRAY_SIZE(kind_words) == KMEM_NODE_KIND_COUNT, "kind_words");

const char *kt_html_kind_words(int k)
{
    return (unsigned)k < KMEM_NODE_KIND_COUNT ? kind_words[k] : "?";
}

/* True when sys/kernel/slab told reclaim_account for every cache that holds slabs. */
static bool split_known(const struct kmem_slabinfo *si)
{
    for (size_t i = 0; i < si->n; i++)
        if (si->v[i].num_slabs && !si->v[i].attr.known)
            return false;
    return true;
}

/*
 * Slab caches under their kind, by reclaim_account. Without it (no
 * sys/kernel/slab), one "slab" box holds every cache and the two kinds are
 * in the table only.
 */
static void add_caches(struct kt_hmap *m, const struct kmem_snapshot *snap, const int *kind,
                       int kern)
{
    const struct kmem_slabinfo *si = &snap->slab;
    uint64_t page = kmem_page_size();
    int slab_r = kind[KMEM_NODE_SLAB_RECLAIMABLE], slab_u = kind[KMEM_NODE_SLAB_UNRECLAIMABLE];

    if (!kt_part_ok(snap, KMEM_PART_SLAB))
        return;
    if (!split_known(si)) {
        m->v[slab_r].hidden = m->v[slab_u].hidden = true;
        slab_r = slab_u =
            kt_hmap_add(m, kern, "mem:slab", "slab",
                        kmem_add_sat(m->v[slab_r].bytes, m->v[slab_u].bytes), KT_HC_SLAB_U);
        if (slab_u < 0)
            return;
        m->v[slab_u].synthetic = true;
        kt_hmap_note(m, slab_u,
                     "Slab, reclaimable and not: sys/kernel/slab was not read, so which cache "
                     "counts in which is not known.");
    }
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        char key[KMEM_SLAB_NAME_MAX + 32];
        int parent = s->attr.reclaimable ? slab_r : slab_u;

        if (snap->node.stack_in_slab && strcmp(s->name, "thread_stack") == 0)
            parent = kind[KMEM_NODE_KERNEL_STACK]; /* counted there, not in Slab */
        if (s->dup)
            snprintf(key, sizeof(key), "cache:%s#%u", s->name, s->dup);
        else
            snprintf(key, sizeof(key), "cache:%s", s->name);
        kt_hmap_add(m, parent, key, s->name, kmem_slab_bytes(s, page), m->v[parent].colour);
    }
    if (slab_r == slab_u)
        add_rest(m, slab_u, "large kmalloc (not in slabinfo)", KT_HC_SLAB_U, false);
}

/* vmalloc callers (/proc/vmallocinfo), without the stacks that kernel_stack counts. */
static void add_vmalloc(struct kt_hmap *m, const struct kmem_snapshot *snap, int parent)
{
    const struct kmem_vmallocinfo *v = &snap->detail.vmalloc;
    uint64_t left_out = 0;

    if (!kt_part_ok(snap, KMEM_PART_DETAIL) || v->err || v->n_top == 0)
        return;
    for (unsigned i = 0; i < v->n_top; i++) {
        const struct kmem_vmalloc_caller *c = &v->top[i];
        char key[128];
        int n;

        if (c->plain && snap->node.vmap_stack && strstr(c->plain, "stacks") &&
            !strstr(c->plain, "IRQ")) {
            left_out = kmem_add_sat(left_out, c->bytes);
            continue;
        }
        snprintf(key, sizeof(key), "vmalloc:%s", c->caller);
        n = kt_hmap_add(m, parent, key, c->caller, c->bytes, KT_HC_VMALLOC);
        if (n >= 0 && c->plain)
            kt_hmap_note(m, n, "%s.", c->plain);
    }
    if (v->rest_bytes) {
        int n = kt_hmap_add(m, parent, "vmalloc:(other callers)", "other callers", v->rest_bytes,
                            KT_HC_VMALLOC);

        if (n >= 0)
            m->v[n].synthetic = true;
    }
    kt_hmap_note(m, parent,
                 "Callers from /proc/vmallocinfo (pages behind each area); thread stacks "
                 "(%" PRIu64 " bytes there) are under kernel stacks.",
                 left_out);
}

int kt_html_mem_tree(struct kt_hmap *m, const struct kmem_snapshot *snap, bool kernel_only)
{
    const struct kmem_node *n = &snap->node;
    const uint64_t *mi = n->mi.v;
    int root = -1, free_, user, kern, kind[KMEM_NODE_KIND_COUNT];

    m->title = kernel_only ? "Kernel memory" : "MemTotal";
    if (!kt_part_ok(snap, KMEM_PART_NODE))
        return -ENODATA;
    if (!kernel_only) {
        root = kt_hmap_add(m, -1, "mem:MemTotal", "MemTotal", mi[KMEM_MI_MEMTOTAL], KT_HC_GROUP);
        kt_hmap_note(m, root, "All the RAM the kernel manages (/proc/meminfo MemTotal).");
    }
    kern = kt_hmap_add(m, root, "mem:kernel", "kernel", n->kernel_total, KT_HC_GROUP);
    kt_hmap_note(m, kern, "The node's kernel memory: the kinds below do not overlap.");
    if (!kernel_only) {
        user = kt_hmap_add(
            m, root, "mem:user", "user space",
            kmem_add_sat(kmem_add_sat(n->lru_bytes, n->isolated_bytes), n->hugetlb_bytes),
            KT_HC_USER);
        kt_hmap_note(
            m, kt_hmap_add(m, user, "mem:lru", "programs and page cache", n->lru_bytes, KT_HC_USER),
            "Active + Inactive + Unevictable (the LRU lists).");
        kt_hmap_add(m, user, "mem:hugetlb", "huge pages", n->hugetlb_bytes, KT_HC_USER);
        kt_hmap_add(m, user, "mem:isolated", "isolated pages", n->isolated_bytes, KT_HC_USER);
        free_ = kt_hmap_add(m, root, "mem:free", "free",
                            kmem_add_sat(mi[KMEM_MI_MEMFREE], n->percpu_free_bytes), KT_HC_FREE);
        kt_hmap_add(m, free_, "mem:MemFree", "MemFree", mi[KMEM_MI_MEMFREE], KT_HC_FREE);
        kt_hmap_add(m, free_, "mem:percpu_free", "per-CPU free lists", n->percpu_free_bytes,
                    KT_HC_FREE);
    }
    if (m->err)
        return m->err;
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        char key[64];

        snprintf(key, sizeof(key), "kind:%s", kmem_node_kind_name[k]);
        kind[k] = kt_hmap_add(m, kern, key, kind_words[k], n->kind[k], kt_html_kind_colour(k));
        if (kind[k] < 0)
            return m->err;
    }
    if (n->unaccounted_signed < 0)
        kt_hmap_note(m, kind[KMEM_NODE_UNACCOUNTED],
                     "The counters overlap by %" PRIu64 " bytes: shown as 0.",
                     (uint64_t)(-(n->unaccounted_signed + 1)) + 1);
    else
        kt_hmap_note(m, kind[KMEM_NODE_UNACCOUNTED],
                     "MemTotal minus free, user space and every kind with a counter "
                     "(kmemtop --report shows the formula).");
    add_caches(m, snap, kind, kern);
    add_rest(m, kind[KMEM_NODE_SLAB_UNRECLAIMABLE], "large kmalloc (not in slabinfo)", KT_HC_SLAB_U,
             false);
    add_rest(m, kind[KMEM_NODE_SLAB_RECLAIMABLE], "not in /proc/slabinfo", KT_HC_SLAB_R, false);
    add_vmalloc(m, snap, kind[KMEM_NODE_VMALLOC]);
    add_rest(m, kind[KMEM_NODE_VMALLOC], "not in /proc/vmallocinfo", KT_HC_VMALLOC, false);
    return m->err;
}

/* ---- cgroups ------------------------------------------------------------- */

#define OWNER_TOP 8 /* caches of a cgroup shown one by one; the rest summed */

static enum kt_hcol cg_kind_colour(int k)
{
    static const enum kt_hcol c[KMEM_CG_KIND_COUNT] = {
        [KMEM_CG_SLAB_RECLAIMABLE] = KT_HC_SLAB_R,
        [KMEM_CG_SLAB_UNRECLAIMABLE] = KT_HC_SLAB_U,
        [KMEM_CG_KERNEL_STACK] = KT_HC_STACK,
        [KMEM_CG_PAGETABLES] = KT_HC_PAGETABLES,
        [KMEM_CG_SEC_PAGETABLES] = KT_HC_PAGETABLES,
        [KMEM_CG_PERCPU] = KT_HC_PERCPU,
        [KMEM_CG_VMALLOC] = KT_HC_VMALLOC,
        [KMEM_CG_ZSWAP] = KT_HC_OTHER,
        [KMEM_CG_OTHER] = KT_HC_OTHER,
    };

    return c[k];
}

static bool nonempty(const char *s)
{
    return s && *s;
}

/* A pod's cgroup (not a container's, not CRI-O's conmon). */
static bool is_pod(const struct kmem_cgroup *cg)
{
    return nonempty(cg->pod_uid) && !nonempty(cg->container_id) && !cg->kube_conmon;
}

/* The child of @parent with key @key, made (a group) if missing. */
static int group(struct kt_hmap *m, int parent, const char *key, const char *name)
{
    int g;

    for (int c = m->v[parent].first; c >= 0; c = m->v[c].next)
        if (strcmp(m->v[c].key, key) == 0)
            return c;
    g = kt_hmap_add(m, parent, key, name, 0, KT_HC_GROUP);
    if (g >= 0)
        m->v[g].synthetic = true;
    return g;
}

/*
 * Where a pod goes under the cgroup node @parent: a namespace group, inside
 * a QoS group when the parent is not a QoS class's own cgroup (guaranteed
 * pods sit right under kubepods).
 */
static int pod_parent(struct kt_hmap *m, int parent, const struct kmem_cgroup *pcg,
                      const struct kmem_cgroup *cg, uint64_t bytes)
{
    char key[4200], name[300];
    int g = parent;

    if (nonempty(cg->qos) && !nonempty(pcg->qos) && !strstr(pcg->path, cg->qos)) {
        snprintf(key, sizeof(key), "qos:%s:%s", pcg->path, cg->qos);
        snprintf(name, sizeof(name), "%s (QoS)", cg->qos);
        g = group(m, g, key, name);
        if (g < 0)
            return -1;
        m->v[g].bytes = kmem_add_sat(m->v[g].bytes, bytes);
    }
    if (nonempty(cg->namespace_name)) {
        snprintf(key, sizeof(key), "ns:%s:%s%s", pcg->path, cg->qos ? cg->qos : "",
                 cg->namespace_name);
        snprintf(name, sizeof(name), "namespace %s", cg->namespace_name);
        g = group(m, g, key, name);
        if (g < 0)
            return -1;
        m->v[g].bytes = kmem_add_sat(m->v[g].bytes, bytes);
    }
    return g;
}

/* True when the owner snapshot @own has rows of the cgroup @path. */
static bool owns(const struct kmem_owners *own, const char *path)
{
    if (!own || !own->present)
        return false;
    for (size_t i = 0; i < own->nrows; i++)
        if (own->rows[i].cgroup && strcmp(own->rows[i].cgroup, path) == 0)
            return true;
    return false;
}

/*
 * The owner snapshot's caches of @cg under its slab parts @slab_r / @slab_u
 * (by the cache's reclaim_account), else under @fallback (-1: nowhere).
 */
static int cmp_row_bytes(const void *pa, const void *pb, void *arg)
{
    const struct kmem_owner_row *r = arg, *a = &r[*(const size_t *)pa],
                                *b = &r[*(const size_t *)pb];

    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->cache, b->cache);
}

/*
 * The OWNER_TOP largest caches of @cg one by one; the rest summed per part
 * ("N more caches"), so that a node with many cgroups keeps a small page.
 */
static void add_owner_caches(struct kt_hmap *m, const struct kmem_snapshot *snap,
                             const struct kmem_owners *own, const struct kmem_cgroup *cg,
                             int slab_r, int slab_u, int fallback)
{
    uint64_t more_bytes[2] = {0, 0};
    size_t more[2] = {0, 0}, n = 0, *idx;
    int more_parent[2] = {-1, -1};

    if (!own || !own->present || (slab_r < 0 && slab_u < 0 && fallback < 0))
        return;
    idx = malloc((own->nrows ? own->nrows : 1) * sizeof(*idx));
    if (!idx) {
        m->err = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < own->nrows; i++)
        if (own->rows[i].cgroup && own->rows[i].cache && strcmp(own->rows[i].cgroup, cg->path) == 0)
            idx[n++] = i;
    qsort_r(idx, n, sizeof(*idx), cmp_row_bytes, own->rows);
    for (size_t j = 0; j < n; j++) {
        const struct kmem_owner_row *row = &own->rows[idx[j]];
        const struct kmem_slab *s = NULL;
        char key[4400];
        int parent, rcl;

        for (size_t k = 0; k < snap->slab.n && !s; k++)
            if (strcmp(snap->slab.v[k].name, row->cache) == 0)
                s = &snap->slab.v[k];
        rcl = s && s->attr.known && s->attr.reclaimable;
        parent = rcl ? slab_r : slab_u;
        if (parent < 0)
            parent = slab_r >= 0 ? slab_r : slab_u >= 0 ? slab_u : fallback;
        if (j >= OWNER_TOP) {
            more[rcl]++;
            more_bytes[rcl] = kmem_add_sat(more_bytes[rcl], row->bytes);
            more_parent[rcl] = parent;
            continue;
        }
        snprintf(key, sizeof(key), "cgcache:%s:%s", cg->path, row->cache);
        /* The colour of the slab kind that counts the cache, wherever it sits (v1: "other"). */
        kt_hmap_add(m, parent, key, row->cache, row->bytes,
                    s && s->attr.known ? (s->attr.reclaimable ? KT_HC_SLAB_R : KT_HC_SLAB_U)
                                       : m->v[parent].colour);
    }
    for (int r = 0; r < 2; r++) {
        char key[4400], name[64];
        int i;

        if (!more[r])
            continue;
        snprintf(key, sizeof(key), "cgcache:%s:(%s)", cg->path, r ? "more reclaimable" : "more");
        snprintf(name, sizeof(name), "%zu more caches", more[r]);
        i = kt_hmap_add(m, more_parent[r], key, name, more_bytes[r], m->v[more_parent[r]].colour);
        if (i >= 0)
            m->v[i].synthetic = true;
    }
    free(idx);
}

/* The kernel parts of a leaf cgroup @i, and its caches where the owner snapshot has them. */
static void add_parts(struct kt_hmap *m, const struct kmem_snapshot *snap,
                      const struct kmem_owners *own, const struct kmem_cgroup *cg, int i)
{
    int part[KMEM_CG_KIND_COUNT];

    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++) {
        char key[4200];

        part[k] = -1;
        if (!(cg->comp_present & (UINT32_C(1) << k)))
            continue;
        snprintf(key, sizeof(key), "cgkind:%s:%s", cg->path, kmem_cg_kind_name[k]);
        part[k] = kt_hmap_add(m, i, key, kmem_cg_kind_name[k], cg->comp[k], cg_kind_colour(k));
    }
    /*
     * Caches go under the part that counts them (reclaim_account). Without
     * sys/kernel/slab that is not known: the two slab parts are then rows
     * of the table only, and one "slab" box holds them (as in the node's tree).
     */
    if (owns(own, cg->path) && !split_known(&snap->slab) && part[KMEM_CG_SLAB_RECLAIMABLE] >= 0 &&
        part[KMEM_CG_SLAB_UNRECLAIMABLE] >= 0) {
        int r = part[KMEM_CG_SLAB_RECLAIMABLE], u = part[KMEM_CG_SLAB_UNRECLAIMABLE], slab;
        char key[4200];

        snprintf(key, sizeof(key), "cgslab:%s", cg->path);
        slab = kt_hmap_add(m, i, key, "slab", kmem_add_sat(m->v[r].bytes, m->v[u].bytes),
                           KT_HC_SLAB_U);
        if (slab >= 0) {
            m->v[r].hidden = m->v[u].hidden = true;
            m->v[slab].synthetic = true;
            kt_hmap_note(m, slab,
                         "Slab, reclaimable and not: sys/kernel/slab was not read, so which "
                         "cache counts in which is not known.");
            part[KMEM_CG_SLAB_RECLAIMABLE] = part[KMEM_CG_SLAB_UNRECLAIMABLE] = slab;
        }
    }
    /* Without slab parts (v1: all of it is "other"), under other, else the cgroup itself. */
    add_owner_caches(m, snap, own, cg, part[KMEM_CG_SLAB_RECLAIMABLE],
                     part[KMEM_CG_SLAB_UNRECLAIMABLE],
                     part[KMEM_CG_OTHER] >= 0 ? part[KMEM_CG_OTHER] : i);
}

int kt_html_cg_tree(struct kt_hmap *m, const struct kmem_snapshot *snap,
                    const struct kmem_owners *own)
{
    const struct kmem_cgroups *cgs = &snap->cgroups;
    size_t *idx, *stack, depth = 0;
    int *node;

    m->title = "Kernel memory by cgroup";
    if (!kt_part_ok(snap, KMEM_PART_CGROUPS) || cgs->n == 0)
        return -ENODATA;
    idx = malloc(cgs->n * sizeof(*idx));
    stack = malloc(cgs->n * sizeof(*stack));
    node = malloc(cgs->n * sizeof(*node));
    if (!idx || !stack || !node) {
        free(idx);
        free(stack);
        free(node);
        return -ENOMEM;
    }
    kt_cg_tree_order(cgs->v, cgs->n, idx);
    for (size_t j = 0; j < cgs->n && !m->err; j++) {
        const struct kmem_cgroup *cg = &cgs->v[idx[j]];
        char key[4200], name[4200];
        int parent = -1;

        /* The stack holds the ancestors of cg in tree order: pop the others. */
        while (depth && !kt_cg_is_ancestor(cgs->v[stack[depth - 1]].path, cg->path))
            depth--;
        if (depth) {
            const struct kmem_cgroup *pcg = &cgs->v[stack[depth - 1]];

            parent = node[stack[depth - 1]];
            if (is_pod(cg))
                parent = pod_parent(m, parent, pcg, cg, cg->kernel);
        } else if (m->n) {
            parent = 0; /* a second root (not reached: v[0] is the root) */
        }
        snprintf(key, sizeof(key), "cg:%s", cg->path);
        kt_cg_node_name(name, sizeof(name), cg);
        node[idx[j]] = kt_hmap_add(m, parent, key, name, cg->kernel, KT_HC_GROUP);
        if (node[idx[j]] >= 0 && strcmp(name, cg->path) != 0)
            kt_hmap_note(m, node[idx[j]], "cgroup %s", cg->path);
        stack[depth++] = idx[j];
    }
    /* Leaves get their parts; inner cgroups a box for what no child holds. */
    for (size_t j = 0; j < cgs->n && !m->err; j++) {
        const struct kmem_cgroup *cg = &cgs->v[j];
        int i = node[j];

        if (i < 0)
            continue;
        if (m->v[i].first < 0) {
            add_parts(m, snap, own, cg, i);
        } else {
            /* What no child holds; the owner snapshot's caches of this cgroup itself there. */
            int r = add_rest(m, i, "in this cgroup itself", KT_HC_GROUP, owns(own, cg->path));

            add_owner_caches(m, snap, own, cg, -1, -1, r);
        }
    }
    free(idx);
    free(stack);
    free(node);
    return m->err;
}

/* ---- layout -------------------------------------------------------------- */

#define LABEL_STRIP 15.0 /* px: a group's name above its children */
#define PAD         2.0

static int layout_children(struct kt_hmap *m, int i)
{
    struct kt_hnode *p = &m->v[i];
    struct kt_rect in = p->r, *out;
    double *val;
    size_t n = 0, k = 0;
    int err;

    for (int c = p->first; c >= 0; c = m->v[c].next)
        n++;
    if (n == 0 || !p->drawn)
        return 0;
    if (in.w >= 4 * PAD && in.h >= 4 * PAD) {
        double strip = in.h >= 3 * LABEL_STRIP && in.w >= 40 ? LABEL_STRIP : PAD;

        in = (struct kt_rect){in.x + PAD, in.y + strip, in.w - 2 * PAD, in.h - strip - PAD};
    }
    val = malloc(n * sizeof(*val));
    out = malloc(n * sizeof(*out));
    if (!val || !out) {
        free(val);
        free(out);
        return -ENOMEM;
    }
    for (int c = p->first; c >= 0; c = m->v[c].next)
        val[k++] = m->v[c].hidden ? 0 : (double)m->v[c].bytes;
    err = kt_treemap_layout(val, n, in, out);
    k = 0;
    for (int c = m->v[i].first; c >= 0 && !err; c = m->v[c].next, k++) {
        m->v[c].r = out[k];
        m->v[c].drawn = out[k].w * out[k].h >= 1.0 && out[k].w >= 0.5 && out[k].h >= 0.5;
        err = layout_children(m, c);
    }
    free(val);
    free(out);
    return err;
}

int kt_hmap_layout(struct kt_hmap *m, struct kt_rect canvas)
{
    int err = 0;

    for (size_t i = 0; i < m->n && !err; i++) {
        if (m->v[i].parent >= 0)
            continue;
        m->v[i].r = canvas;
        m->v[i].drawn = m->v[i].bytes > 0;
        err = layout_children(m, (int)i);
    }
    return err;
}
