// SPDX-License-Identifier: GPL-2.0
/*
 * The owner walker: a BPF_PROG_TYPE_SYSCALL program run on demand with
 * bpf_prog_test_run_opts() (nothing is attached anywhere). One run walks a
 * range of page frames: it reads their struct pages from the page array
 * (vmemmap_base + pfn x sizeof(struct page)), 64 at a time, finds the head
 * pages of slabs, and for each slab reads the per-object obj_cgroup vector
 * the kernel keeps for memory cgroup accounting. Every non-NULL entry is an
 * allocated, charged object; its owner is objcg->memcg, named by the kernfs id
 * of the memcg's cgroup (the inode number of its directory). The counts land
 * in a hash map keyed by (cgroup id, struct kmem_cache *).
 *
 * Layouts (all read with CO-RE, from the running kernel's BTF):
 *   slab head   before 6.10: PG_slab in page->flags (head pages only);
 *               6.12+: the top byte of page_type is PGTY_slab.
 *   vector      5.17-6.9: slab->memcg_data with MEMCG_DATA_OBJCGS, an array
 *               of struct obj_cgroup * (8 bytes an object);
 *               6.10+: slab->obj_exts (low 3 bits are flags), an array of
 *               struct slabobj_ext whose size the BTF gives (16 bytes with
 *               CONFIG_MEM_ALLOC_PROFILING), objcg first;
 *               7.x: slabobj_ext is a union, each object has 0-2 elements
 *               (objcg if slab->obj_exts_needs_objcg, then the codetag), and
 *               the vector may live inside the objects
 *               (slab->obj_exts_in_object: stride = kmem_cache->size);
 *               kernels between had slab->stride.
 * A slab freed or reused while it is read gives a wrong count for that slab,
 * never a fault: every kernel read is bpf_probe_read_kernel().
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "kmem_owners.h"

char LICENSE[] SEC("license") = "GPL";

/* Older and newer layouts than the vmlinux.h this is built with. */
struct slab___memcg {
    unsigned long memcg_data;
} __attribute__((preserve_access_index));

struct slab___v7 {
    unsigned int obj_exts_in_object : 1;
    unsigned int obj_exts_needs_objcg : 1;
} __attribute__((preserve_access_index));

struct slab___stride {
    unsigned short stride;
} __attribute__((preserve_access_index));

struct slab___pt {
    unsigned int __page_type;
} __attribute__((preserve_access_index));

struct slabobj_ext___union {
    union {
        struct obj_cgroup *_objcg;
    };
} __attribute__((preserve_access_index));

union codetag_ref___x {
    void *ct;
};

struct slabobj_ext___ctref {
    union codetag_ref___x _ctref;
} __attribute__((preserve_access_index));

enum pageflags___old { PG_slab___old = 9 };
enum pagetype___new { PGTY_slab___new = 245 };

/* Inputs, set by the loader before each run. */
__u32 mode;
__u64 gen;
__u64 vmemmap;
__u64 start_pfn, nr_pfns;
/* Outputs of the setup run. */
__u64 out_vmemmap, out_max_pfn;
__s64 err_vmemmap, err_max_pfn;
__u32 page_size, layout, slab_pgty, slab_pgflag;
__u32 ext_size, vec_offset;
/* Outputs of walk runs (added up over the runs of one walk). */
__u64 pages, slabs, objects, charged, read_errors, bad_objcg, map_full, vec_slabs, inobj_slabs;

/* State of the slab being walked (one run at a time per loaded object). */
static __u64 cur_pfn0, cur_cache, cur_vec, cur_objects, cur_stride, cur_per;
static __u64 run_objcg, run_len, slab_charged;

struct buf {
    __u8 pages[KMEM_OWNERS_BLOCK * KMEM_OWNERS_PAGE_MAX];
    __u8 vec[KMEM_OWNERS_VEC_BYTES];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct buf);
} bufs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536); /* set by the loader */
    __type(key, struct kmem_owners_key);
    __type(value, struct kmem_owners_val);
} owners SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, struct kmem_owners_cache);
} caches SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct kmem_owners_objcg);
} objcgs SEC(".maps");

static __always_inline int kernel_ptr(__u64 p)
{
    return (p >> 47) == 0x1ffff && p != ~0ULL;
}

/* kernfs id of the memory cgroup of @objcg, cached for the walk. */
static __u64 objcg_id(__u64 objcg)
{
    struct kmem_owners_objcg *c = bpf_map_lookup_elem(&objcgs, &objcg);
    struct kmem_owners_objcg v = {.gen = gen};
    struct obj_cgroup *o = (struct obj_cgroup *)objcg;

    if (c && c->gen == gen)
        return c->id;
    v.id = BPF_CORE_READ(o, memcg, css.cgroup, kn, id);
    bpf_map_update_elem(&objcgs, &objcg, &v, BPF_ANY);
    return v.id;
}

/* Add the run of objects owned by run_objcg. */
static void flush(void)
{
    struct kmem_owners_key k = {.cache = cur_cache};
    struct kmem_owners_val *v, nv = {.gen = gen};

    if (!run_len || !run_objcg)
        return;
    if (!kernel_ptr(run_objcg)) {
        bad_objcg += run_len;
        run_len = 0;
        return;
    }
    k.cgroup_id = objcg_id(run_objcg);
    v = bpf_map_lookup_elem(&owners, &k);
    if (v && v->gen == gen) {
        v->objects += run_len;
    } else {
        nv.objects = run_len;
        if (bpf_map_update_elem(&owners, &k, &nv, BPF_ANY))
            map_full += run_len;
    }
    slab_charged += run_len;
    run_len = 0;
}

static __always_inline void account(__u64 objcg)
{
    if (objcg == run_objcg) {
        run_len++;
        return;
    }
    flush();
    run_objcg = objcg;
    run_len = 1;
}

static __always_inline struct buf *the_buf(void)
{
    __u32 zero = 0;

    return bpf_map_lookup_elem(&bufs, &zero);
}

static int ent_cb(__u32 j, void *ctx)
{
    struct buf *b = the_buf();
    __u64 off = (__u64)j * cur_stride + vec_offset;

    if (!b || off > KMEM_OWNERS_VEC_BYTES - 8)
        return 1;
    account(*(__u64 *)(b->vec + off));
    return 0;
}

/* Chunk @idx of the vector: cur_per objects. */
static int vec_cb(__u32 idx, void *ctx)
{
    struct buf *b = the_buf();
    __u64 first = (__u64)idx * cur_per, n, bytes, objcg = 0;

    if (!b || first >= cur_objects)
        return 1;
    if (cur_per == 1) {
        if (bpf_probe_read_kernel(&objcg, 8, (void *)(cur_vec + first * cur_stride + vec_offset)))
            read_errors++;
        else
            account(objcg);
        return 0;
    }
    n = cur_objects - first;
    if (n > cur_per)
        n = cur_per;
    bytes = n * cur_stride;
    if (bytes > KMEM_OWNERS_VEC_BYTES || bytes == 0)
        return 1;
    if (bpf_probe_read_kernel(b->vec, bytes, (void *)(cur_vec + first * cur_stride))) {
        read_errors++;
        return 0;
    }
    bpf_loop(n, ent_cb, NULL, 0);
    return 0;
}

static struct kmem_owners_cache *cache_of(__u64 cache)
{
    struct kmem_owners_cache *c = bpf_map_lookup_elem(&caches, &cache);
    struct kmem_owners_cache nc = {};
    struct kmem_cache *s = (struct kmem_cache *)cache;

    if (c && c->gen == gen)
        return c;
    __builtin_memset(&nc, 0, sizeof(nc));
    nc.gen = gen;
    nc.size = BPF_CORE_READ(s, size);
    bpf_probe_read_kernel_str(nc.name, sizeof(nc.name), BPF_CORE_READ(s, name));
    if (bpf_map_update_elem(&caches, &cache, &nc, BPF_ANY))
        return NULL;
    return bpf_map_lookup_elem(&caches, &cache);
}

/* Is the struct page at @p the head page of a slab? */
static __always_inline int slab_head(void *p)
{
    if (layout & KMEM_OWNERS_SLAB_PGTY) {
        struct slab___pt *pt = p;

        if (bpf_core_field_exists(pt->__page_type))
            return (pt->__page_type >> 24) == slab_pgty;
        return 0;
    }
    return (*(__u64 *)p >> slab_pgflag) & 1;
}

/* The struct page at @p (in the block buffer @b) is a slab head. */
static void one_slab(void *p)
{
    struct slab *s = p;
    struct slab___memcg *sm = p;
    struct slab___v7 *s7 = p;
    struct slab___stride *ss = p;
    struct kmem_owners_cache *c;
    __u64 cache = (__u64)s->slab_cache, vec = 0, stride = ext_size, nobj;

    if (!kernel_ptr(cache))
        return;
    c = cache_of(cache);
    if (!c) {
        map_full++;
        return;
    }
    nobj = BPF_CORE_READ_BITFIELD(s, objects);
    slabs++;
    c->slabs++;
    c->inuse += BPF_CORE_READ_BITFIELD(s, inuse);
    objects += nobj;

    if (layout & KMEM_OWNERS_VEC_OBJEXTS) {
        if (bpf_core_field_exists(s->obj_exts))
            vec = s->obj_exts & ~7ULL;
        if (layout & KMEM_OWNERS_VEC_NEEDSOBJCG) {
            if (bpf_core_field_exists(s7->obj_exts_needs_objcg) &&
                !BPF_CORE_READ_BITFIELD(s7, obj_exts_needs_objcg))
                vec = 0; /* this slab's vector holds no owners */
        }
        if (layout & KMEM_OWNERS_VEC_INOBJ) {
            if (bpf_core_field_exists(s7->obj_exts_in_object) &&
                BPF_CORE_READ_BITFIELD(s7, obj_exts_in_object)) {
                stride = c->size;
                inobj_slabs++;
            }
        }
        if (bpf_core_field_exists(ss->stride)) {
            __u64 st = BPF_CORE_READ_BITFIELD(ss, stride);

            if (st)
                stride = st;
        }
    } else if (layout & KMEM_OWNERS_VEC_MEMCGDATA) {
        __u64 md = 0;

        if (bpf_core_field_exists(sm->memcg_data))
            md = sm->memcg_data;
        if ((md & 3) == 1) /* MEMCG_DATA_OBJCGS, not MEMCG_DATA_KMEM */
            vec = md & ~7ULL;
    }
    if (!kernel_ptr(vec) || !nobj || stride < 8 || (stride & 7))
        return;
    vec_slabs++;
    cur_cache = cache;
    cur_vec = vec;
    cur_objects = nobj;
    cur_stride = stride;
    cur_per = stride <= 64 ? KMEM_OWNERS_VEC_BYTES / stride : 1;
    run_objcg = 0;
    run_len = 0;
    slab_charged = 0;
    bpf_loop((nobj + cur_per - 1) / cur_per, vec_cb, NULL, 0);
    flush();
    c->charged += slab_charged;
    charged += slab_charged;
}

static int page_cb(__u32 i, void *ctx)
{
    struct buf *b = the_buf();
    __u64 off = (__u64)i * page_size;
    void *p;

    if (!b || cur_pfn0 + i >= start_pfn + nr_pfns)
        return 1;
    if (off > (KMEM_OWNERS_BLOCK - 1) * KMEM_OWNERS_PAGE_MAX)
        return 1;
    p = b->pages + off;
    pages++;
    if (slab_head(p))
        one_slab(p);
    return 0;
}

static int block_cb(__u32 idx, void *ctx)
{
    struct buf *b = the_buf();
    __u64 bytes = (__u64)KMEM_OWNERS_BLOCK * page_size;

    if (!b || bytes > sizeof(b->pages) || !bytes)
        return 1;
    cur_pfn0 = start_pfn + (__u64)idx * KMEM_OWNERS_BLOCK;
    if (bpf_probe_read_kernel(b->pages, bytes, (void *)(vmemmap + cur_pfn0 * page_size))) {
        read_errors++; /* a hole in the page array (no memory there) */
        return 0;
    }
    bpf_loop(KMEM_OWNERS_BLOCK, page_cb, NULL, 0);
    return 0;
}

static void setup(void)
{
    static const char vname[] = "vmemmap_base", mname[] = "max_pfn";
    __u64 addr = 0;

    page_size = bpf_core_type_size(struct page);
    layout = 0;
    if (bpf_core_enum_value_exists(enum pagetype___new, PGTY_slab___new)) {
        layout |= KMEM_OWNERS_SLAB_PGTY;
        slab_pgty = bpf_core_enum_value(enum pagetype___new, PGTY_slab___new);
    } else if (bpf_core_enum_value_exists(enum pageflags___old, PG_slab___old)) {
        layout |= KMEM_OWNERS_SLAB_PGFLAG;
        slab_pgflag = bpf_core_enum_value(enum pageflags___old, PG_slab___old);
    }
    if (bpf_core_field_exists(struct slab, obj_exts))
        layout |= KMEM_OWNERS_VEC_OBJEXTS;
    else if (bpf_core_field_exists(struct slab___memcg, memcg_data))
        layout |= KMEM_OWNERS_VEC_MEMCGDATA;
    if (bpf_core_field_exists(struct slab___v7, obj_exts_in_object))
        layout |= KMEM_OWNERS_VEC_INOBJ;
    if (bpf_core_field_exists(struct slab___v7, obj_exts_needs_objcg))
        layout |= KMEM_OWNERS_VEC_NEEDSOBJCG;
    ext_size = 8;
    vec_offset = 0;
    if (layout & KMEM_OWNERS_VEC_OBJEXTS) {
        if (bpf_core_field_exists(struct slabobj_ext___union, _objcg)) {
            /* 7.x: 0-2 union elements an object, objcg first. */
            layout |= KMEM_OWNERS_VEC_UNION;
            ext_size = bpf_core_type_size(struct slabobj_ext___union);
            if (bpf_core_field_exists(struct slabobj_ext___ctref, _ctref))
                ext_size *= 2;
        } else {
            ext_size = bpf_core_type_size(struct slabobj_ext);
            vec_offset = bpf_core_field_offset(struct slabobj_ext, objcg);
        }
    }
    err_vmemmap = bpf_kallsyms_lookup_name(vname, sizeof(vname), 0, &addr);
    if (!err_vmemmap)
        err_vmemmap = bpf_probe_read_kernel(&out_vmemmap, 8, (void *)addr);
    addr = 0;
    err_max_pfn = bpf_kallsyms_lookup_name(mname, sizeof(mname), 0, &addr);
    if (!err_max_pfn)
        err_max_pfn = bpf_probe_read_kernel(&out_max_pfn, 8, (void *)addr);
}

SEC("syscall")
int kmem_owners_walk(void *ctx)
{
    if (mode == KMEM_OWNERS_MODE_SETUP) {
        setup();
        return 0;
    }
    if (!vmemmap || !page_size)
        return -22;
    bpf_loop((nr_pfns + KMEM_OWNERS_BLOCK - 1) / KMEM_OWNERS_BLOCK, block_cb, 0, 0);
    return 0;
}
