/* SPDX-License-Identifier: MIT */
/*
 * Internal to libkmem: the readers, each filling one part of a snapshot
 * from the I/O layer. Only the snapshot module calls them; it passes each
 * its previous data explicitly. A reader never includes the snapshot module.
 */
#ifndef KMEM_READERS_H
#define KMEM_READERS_H

#include "io.h"
#include "slabinfo.h"
#include "node.h"
#include "cgroup.h"

/* /proc/slabinfo into @out (its arrays are reused). 0 or -errno with message. */
int kmem_read_slabinfo(struct kmem_io *io, struct kmem_slabinfo *out);

/*
 * /proc/meminfo, vmstat, zoneinfo into @node; @prev (may be NULL) carries
 * what does not change while a kernel runs (the vmap-stack decision).
 */
int kmem_read_node(struct kmem_io *io, struct kmem_node *node, const struct kmem_node *prev);
void kmem_node_release(struct kmem_node *node);

/* Cgroup reader state that outlives snapshots (buffers, layout, name maps). */
struct kmem_cg_reader;
struct kmem_cg_reader *kmem_cg_reader_new(void);
void kmem_cg_reader_free(struct kmem_cg_reader *r);
/* Which per-cgroup files beyond the kernel figure's (KMEM_CG_EXTRA_*) and
 * how many fds may stay open (KMEM_CG_FDS_AUTO, 0 for none). */
void kmem_cg_reader_set(struct kmem_cg_reader *r, unsigned extras, size_t fd_max);
/* Fds kept open now. */
size_t kmem_cg_reader_fds(const struct kmem_cg_reader *r);

/* Every memory cgroup into @out (its storage is reused). 0 or -errno with message. */
int kmem_read_cgroups(struct kmem_io *io, struct kmem_cg_reader *r, struct kmem_cgroups *out);
/* Fill has_prev/delta_kernel of @cur from @prev (may be NULL). */
void kmem_cgroups_diff(struct kmem_cgroups *cur, const struct kmem_cgroups *prev);
void kmem_cgroups_release(struct kmem_cgroups *cgs);

#endif
