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
#include "detail.h"
#include "owners.h"

/* /proc/slabinfo into @out (its arrays are reused). 0 or -errno with message. */
int kmem_read_slabinfo(struct kmem_io *io, struct kmem_slabinfo *out);
/*
 * sys/kernel/slab attributes of every cache of @cur, copied from @prev (may
 * be NULL) when the list of caches is the same. 0 or -errno (also in
 * cur->attrs_err); never a message: the slab part does not fail for it.
 */
int kmem_read_slab_attrs(struct kmem_io *io, struct kmem_slabinfo *cur,
                         const struct kmem_slabinfo *prev);
/*
 * An unmerged cache's SLAB_ACCOUNT is not in sysfs (6.1 to 7.x have no
 * attribute for it); a cache of @si whose accounted is unknown (-1) and of
 * which the owner snapshot @o holds objects charged to a cgroup (cgroup id
 * not 0) is charged to cgroups: accounted = 1, accounted_charged. Caches
 * without charged objects stay unknown (a cache used only by root-cgroup
 * tasks is not charged either). Returns how many caches it settled.
 */
size_t kmem_slab_attrs_from_owners(struct kmem_slabinfo *si, const struct kmem_owners *o);

/*
 * /proc/meminfo, vmstat, zoneinfo into @node; @prev (may be NULL) carries
 * what does not change while a kernel runs (where stacks live, the kernel
 * log); @slab (may be NULL) is this collection's /proc/slabinfo (the
 * thread_stack and scs_cache caches, the slab gap).
 */
int kmem_read_node(struct kmem_io *io, struct kmem_node *node, const struct kmem_node *prev,
                   const struct kmem_slabinfo *slab);
void kmem_node_release(struct kmem_node *node);
/*
 * meminfo Slab against the sum of @slab (this collection's /proc/slabinfo)
 * and, when every cache's sys/kernel/slab attributes are known, its
 * reclaimable part and the large kmallocs (docs/node.md, "The slab gap").
 */
void kmem_node_slab_gap(struct kmem_node *node, const struct kmem_slabinfo *slab,
                        uint64_t page_size);

/* Sub-readers of the node (never fail the node: what is missing stays 0). */
/* The kernel log: ROOT/dev/kmsg, else ROOT/var/log/dmesg. 0 or -errno (also in out->err). */
int kmem_read_bootlog(struct kmem_io *io, struct kmem_bootlog *out);
void kmem_read_zram(struct kmem_io *io, struct kmem_zram *out);
void kmem_read_sockstat(struct kmem_io *io, struct kmem_sockstat *out, uint64_t page_size);

/* Cgroup reader state that outlives snapshots (buffers, layout, name maps). */
struct kmem_cg_reader;
struct kmem_cg_reader *kmem_cg_reader_new(void);
void kmem_cg_reader_free(struct kmem_cg_reader *r);
/* Which per-cgroup files beyond the kernel figure's (KMEM_CG_EXTRA_*) and
 * how many fds may stay open (KMEM_CG_FDS_AUTO, 0 for none). */
void kmem_cg_reader_set(struct kmem_cg_reader *r, unsigned extras, size_t fd_max);
void kmem_cg_reader_get(const struct kmem_cg_reader *r, unsigned *extras, size_t *fd_max);
/* Fds kept open now. */
size_t kmem_cg_reader_fds(const struct kmem_cg_reader *r);
/* kmem_ctx_cgroup_watch() */
const char *kmem_cg_reader_watch(const struct kmem_cg_reader *r);

/* Every memory cgroup into @out (its storage is reused). 0 or -errno with message. */
int kmem_read_cgroups(struct kmem_io *io, struct kmem_cg_reader *r, struct kmem_cgroups *out);
/* Fill has_prev/delta_kernel of @cur from @prev (may be NULL). */
void kmem_cgroups_diff(struct kmem_cgroups *cur, const struct kmem_cgroups *prev);
void kmem_cgroups_release(struct kmem_cgroups *cgs);

/*
 * The node's detail files (not cheap: read at most once a minute by the
 * snapshot layer): /proc/vmallocinfo, /proc/iomem, /proc/allocinfo. Each
 * records its own error in its struct; the return is the first error of a
 * file that should be there (vmallocinfo, iomem), with a message.
 */
int kmem_read_detail(struct kmem_io *io, struct kmem_detail *out, uint64_t page_size);

/*
 * The owner part (kmem.h, struct kmem_owner_snap) into @out: ROOT/kmem-owners.txt,
 * else on the live machine the walker (*@walker: its state, opened on first
 * use, closed with kmem_owners_live_close()); cgroup ids named from @cgs
 * (may be NULL). Written into the capture when capturing. 0 or -errno with
 * message.
 */
int kmem_read_owners(struct kmem_io *io, void **walker, bool isolated, struct kmem_owner_snap *out,
                     const struct kmem_cgroups *cgs);
/* One walk of the live kernel (owners_live.c). 0 or -errno with @err. */
int kmem_owners_live(void **state, struct kmem_owners *o, char *err, size_t errlen);
/*
 * The same in a child process that loads the walker, walks and exits (the
 * rows come back through a pipe): the caller's memory never holds the
 * walker (libbpf and the kernel's BTF), at the cost of loading it for every
 * walk. The same rows and figures as kmem_owners_live(). 0 or -errno with @err.
 */
int kmem_owners_live_isolated(struct kmem_owners *o, char *err, size_t errlen);
void kmem_owners_live_close(void *state);

#endif
