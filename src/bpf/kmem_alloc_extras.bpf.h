/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The allocation tracer's fentry/fexit programs (bulk allocations and
 * frees, kfree_rcu()), included by kmem_alloc.bpf.c (one BPF object): they
 * use that file's helpers and tables. The loader leaves them out where the
 * kernel refuses fentry/fexit.
 */
/*
 * Paths without a tracepoint, followed where the kernel has the function:
 * bulk allocations and frees (networking, the maple tree, kfree_bulk() of
 * kfree_rcu() batches), and kfree_rcu() itself (kvfree_call_rcu(): the object
 * is dead for its owner from then on; with slab sheaves, Linux 6.18, it never
 * reaches kfree()). The loader leaves out whichever does not exist.
 */
#define BULK_MAX 4096

struct bulk_ctx {
    void **p;
    struct ckey k;
    __u32 size;
    bool alloc;
};

static long bulk_one(__u32 i, void *data)
{
    struct bulk_ctx *c = data;
    void *obj = NULL;

    bpf_probe_read_kernel(&obj, sizeof(obj), &c->p[i]);
    if (no_object(obj))
        return 0;
    if (c->alloc)
        on_alloc(obj, &c->k, c->size);
    else
        on_free(obj, &c->k, c->size);
    return 0;
}

SEC("fexit/kmem_cache_alloc_bulk_noprof")
int BPF_PROG(kmem_cache_alloc_bulk, struct kmem_cache *s, gfp_t gfp, size_t size, void **p_,
             int ret)
{
    void **p = (void **)arg_ptr(ctx, 3);
    struct bulk_ctx c = {.p = p, .alloc = true};

    if (!s || ret <= 0)
        return 0;
    cache_key(&c.k, s, (gfp & gfp_account) || (s->flags & slab_account));
    c.size = s->size;
    bpf_loop(ret < BULK_MAX ? ret : BULK_MAX, bulk_one, &c, 0);
    return 0;
}

SEC("fentry/kmem_cache_free_bulk")
int BPF_PROG(kmem_cache_free_bulk, struct kmem_cache *s, size_t size, void **p_)
{
    void **p = (void **)arg_ptr(ctx, 2);
    struct bulk_ctx c = {.p = p, .k = {.cache = KMEM_ALLOC_KFREE, .hash = KMEM_ALLOC_KFREE}};

    /* s is NULL for kfree_bulk(): each object's own cache, unknown here. */
    if (s) {
        cache_key(&c.k, s, (s->flags & slab_account) != 0);
        c.size = s->size;
    }
    bpf_loop(size < BULK_MAX ? size : BULK_MAX, bulk_one, &c, 0);
    return 0;
}

SEC("fentry/kvfree_call_rcu")
int BPF_PROG(kvfree_call_rcu, struct callback_head *head, void *ptr_)
{
    __u64 obj = arg_ptr(ctx, 1);

    /* Linux 6.1: kvfree_call_rcu(head, func), func the offset of the head in
     * the object (or the object itself when head is NULL: kvfree_rcu(p)). */
    if (kvfree_old_abi) {
        __u64 h = 0;

        bpf_probe_read_kernel(&h, sizeof(h), &ctx[0]);
        if (h)
            obj = h - (obj & 4095);
    }
    /* Objects allocated during the trace only: a kfree_rcu() of an older one
     * (or of vmalloc memory) is not known to be slab, so it is not counted.
     * The object stays in the table, marked: its later free is not counted. */
    if (track && !no_object((const void *)obj))
        track_free_how(obj, true);
    return 0;
}
