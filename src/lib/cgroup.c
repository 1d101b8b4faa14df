/* TEMPORARY placeholder: the cgroup reader is being written (owner: cgroup helper). */
#include <errno.h>
#include "ctx.h"
const char *const kmem_cg_layout_name[] = {"none", "v1", "v2", "hybrid"};
const char *const kmem_cg_kind_name[KMEM_CG_KIND_COUNT] = {"slab_reclaimable", "slab_unreclaimable", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "vmalloc", "other", "sock", "tcp"};
int kmem_read_cgroups(struct kmem_ctx *ctx, struct kmem_snapshot *snap) { snap->cgroups.n = 0; return kmem_err(ctx, ENOSYS, "cgroup reader not built yet"); }
void kmem_cgroups_release(struct kmem_cgroups *cgs) { (void)cgs; }
void kmem_cgroups_diff(struct kmem_cgroups *cur, const struct kmem_cgroups *prev) { (void)cur; (void)prev; }
void kmem_cgroups_ctx_release(struct kmem_ctx *ctx) { (void)ctx; }
