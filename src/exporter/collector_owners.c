// SPDX-License-Identifier: MIT
/*
 * The owners collector: resident slab bytes per (cgroup, cache) from the
 * owner snapshot (owners.h), taken at most every --collector.owners.interval
 * seconds (default 60; the snapshot part reuses the last one in between).
 * Per cgroup, its --collector.owners.top largest caches get a series each
 * and the rest one cache="other" series, so that the series of a cgroup
 * add up to what the snapshot charged to it. Objects no cgroup owns and
 * cgroups removed since the walk have no series.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "collectors.h"

kx_render_fn kx_owners_col_render;
void kx_owners_col_setup(struct kmem_ctx *ctx);
extern const struct kx_flag kx_owners_col_flags[];

#define OWNERS_DEFAULT_TOP 10

static unsigned owners_top;         /* --collector.owners.top; 0: OWNERS_DEFAULT_TOP */
static double owners_interval = 60; /* --collector.owners.interval */

const struct kx_flag kx_owners_col_flags[] = {
    {"collector.owners.top", KX_F_UINT, 0, &owners_top, "N",
     "Per cgroup, a series for each of its N largest slab caches; the rest summed as "
     "cache=\"other\" (default 10).",
     false},
    {"collector.owners.interval", KX_F_SECONDS, 0, &owners_interval, "SECONDS",
     "Take the owner snapshot at most this often; scrapes in between show the last one "
     "(default 60s).",
     false},
    {NULL, KX_F_BOOL, 0, NULL, NULL, NULL, false},
};

void kx_owners_col_setup(struct kmem_ctx *ctx)
{
    kmem_ctx_set_owners_interval(ctx, owners_interval);
}

static const struct kx_family fam_bytes = {
    "kmem_cgroup_slab_bytes",
    "Resident slab bytes of the cache owned by the memory cgroup itself (not its descendants), "
    "from the owner snapshot: the cgroup's largest caches, the rest as cache=\"other\".",
    KX_GAUGE,
    {"cgroup", "cache", "namespace", "pod", "container"}};

static const char *nz(const char *s)
{
    return s ? s : "";
}

int kx_owners_col_render(struct kmem_buf *b, const struct kx_collection *c,
                         const struct kx_render_opts *o, void *state)
{
    const struct kmem_owners *ow = c->owners ? &c->owners->o : NULL;
    unsigned top = owners_top ? owners_top : OWNERS_DEFAULT_TOP;
    (void)o;
    (void)state;

    kx_family_head(b, &fam_bytes);
    /* Rows are sorted by cgroup path, then id, then bytes (largest first). */
    for (size_t i = 0; ow && i < ow->nrows;) {
        const struct kmem_owner_row *r = &ow->rows[i];
        const struct kmem_cgroup *cg = r->cgroup_id && r->cgroup && c->cgroups
                                           ? kmem_cgroups_find(c->cgroups, r->cgroup)
                                           : NULL;
        uint64_t other = 0;
        size_t j = i, k = 0;

        for (; j < ow->nrows && ow->rows[j].cgroup_id == r->cgroup_id; j++, k++) {
            if (!cg)
                continue; /* not charged, or removed since the walk */
            if (k < top)
                kx_family_u64(b, &fam_bytes,
                              KX_VALUES(cg->path, ow->rows[j].cache, nz(cg->namespace_name),
                                        nz(cg->pod_name), nz(cg->container_name)),
                              ow->rows[j].bytes, KX_NO_TIMESTAMP);
            else
                other += ow->rows[j].bytes;
        }
        if (cg && k > top)
            kx_family_u64(b, &fam_bytes,
                          KX_VALUES(cg->path, "other", nz(cg->namespace_name), nz(cg->pod_name),
                                    nz(cg->container_name)),
                          other, KX_NO_TIMESTAMP);
        i = j;
    }
    return b->err;
}
