// SPDX-License-Identifier: MIT
/* The collector table, and the exposition made from it. */
#include <errno.h>
#include <assert.h>
#include <string.h>

#include "collectors.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "unknown"
#endif

/* Each collector's functions, defined in the file named. */
kx_render_fn kx_render_slabinfo;                        /* metrics.c */
kx_render_fn kx_render_node, kx_render_node_detail;     /* metrics_node.c */
kx_render_fn kx_render_cgroup;                          /* metrics_cgroup.c */
bool kx_cgroup_complete(const struct kx_collection *c); /* metrics_cgroup.c */
/* collector_alloc.c */
kx_render_fn kx_alloc_col_render;
extern const struct kx_flag kx_alloc_col_flags[];
int kx_alloc_col_start(void **state, char *warn, size_t warnlen);
void kx_alloc_col_collect(void *state, struct kmem_ctx *ctx, const struct kmem_snapshot *s,
                          struct kmem_status *st);
void kx_alloc_col_stop(void *state);
/* collector_owners.c */
kx_render_fn kx_owners_col_render;
void kx_owners_col_setup(struct kmem_ctx *ctx);
extern const struct kx_flag kx_owners_col_flags[];

/*
 * One row per collector, in the order of the exposition: their families,
 * then kmem_collector_success and kmem_collector_duration_seconds per
 * collector, in this order.
 */
const struct kx_collector_def kx_collectors[] = {
    {.name = "slabinfo",
     .default_on = true,
     .part = KMEM_PART_SLAB,
     .render = kx_render_slabinfo,
     .help = "/proc/slabinfo, kmem_slab_*"},
    {.name = "node",
     .default_on = true,
     .part = KMEM_PART_NODE,
     .render = kx_render_node,
     .help = "kernel memory by kind, kmem_node_*"},
    {.name = "node_detail",
     .default_on = true,
     .part = KMEM_PART_DETAIL,
     .render = kx_render_node_detail,
     .help = "/proc/vmallocinfo, /proc/iomem, /proc/allocinfo at most once a minute"},
    {.name = "cgroup",
     .default_on = true,
     .part = KMEM_PART_CGROUPS,
     .render = kx_render_cgroup,
     .help = "memory cgroups, kmem_cgroup_*, container_memory_kernel_usage",
     .complete = kx_cgroup_complete},
    {.name = "alloc",
     .default_on = false,
     .part = KMEM_PART_CGROUPS, /* to name the cgroup ids it traced */
     .render = kx_alloc_col_render,
     .help = "slab allocations per memory cgroup and cache, traced with BPF (needs root or "
             "CAP_BPF+CAP_PERFMON, Linux 6.1+ with BTF)",
     .flags = kx_alloc_col_flags,
     .start = kx_alloc_col_start,
     .collect = kx_alloc_col_collect,
     .stop = kx_alloc_col_stop,
     .refuses_run_as = "reading the BPF maps needs CAP_BPF"},
    {.name = "owners",
     .default_on = false,
     .part = KMEM_PART_OWNERS, /* with the cgroups, which name its cgroup ids */
     .render = kx_owners_col_render,
     .help = "slab bytes per memory cgroup and cache from the owner snapshot, "
             "kmem_cgroup_slab_bytes (a BPF walk of the slab pages at most every "
             "--collector.owners.interval; needs root, BPF and a kernel it can walk)",
     .flags = kx_owners_col_flags,
     .setup = kx_owners_col_setup,
     .refuses_run_as = "the owner walk loads BPF (CAP_BPF, CAP_PERFMON) at every interval"},
};
const size_t kx_ncollectors = sizeof(kx_collectors) / sizeof(kx_collectors[0]);
static_assert(sizeof(kx_collectors) / sizeof(kx_collectors[0]) <= KX_COLLECTORS_MAX,
              "raise KX_COLLECTORS_MAX");
static_assert(KX_COLLECTORS_MAX <= sizeof(unsigned) * 8, "kx_render_opts.disabled is a mask");

int kx_collector_index(const char *name)
{
    for (size_t i = 0; i < kx_ncollectors; i++)
        if (!strcmp(kx_collectors[i].name, name))
            return (int)i;
    return -1;
}

bool kx_collector_on(const struct kx_collection *c, const struct kx_render_opts *o, size_t i)
{
    if (o->disabled & (1u << i))
        return false;
    return !kx_collectors[i].start || c->state[i];
}

/* ---- the exporter's own families ---- */

enum {
    F_SUCCESS,
    F_DURATION,
    F_BUILD_INFO,
    F_CPU,
    F_RSS,
    F_VSIZE,
    F_START,
    F_OPEN_FDS,
    F_MAX_FDS,
    F_COUNT
};

static const struct kx_family fam[F_COUNT] = {
    [F_SUCCESS] = {"kmem_collector_success",
                   "1 if the collector's files were read and parsed in this scrape, else 0.",
                   KX_GAUGE,
                   {"collector"}},
    [F_DURATION] = {"kmem_collector_duration_seconds",
                    "Time the collector took in this scrape.",
                    KX_GAUGE,
                    {"collector"}},
    [F_BUILD_INFO] = {"kmem_exporter_build_info",
                      "A metric with a constant '1' value labeled by the version of "
                      "kmem_exporter.",
                      KX_GAUGE,
                      {"version"}},
    [F_CPU] = {"process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.",
               KX_COUNTER,
               {NULL}},
    [F_RSS] = {"process_resident_memory_bytes", "Resident memory size in bytes.", KX_GAUGE, {NULL}},
    [F_VSIZE] = {"process_virtual_memory_bytes", "Virtual memory size in bytes.", KX_GAUGE, {NULL}},
    [F_START] = {"process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.",
                 KX_GAUGE,
                 {NULL}},
    [F_OPEN_FDS] = {"process_open_fds", "Number of open file descriptors.", KX_GAUGE, {NULL}},
    [F_MAX_FDS] = {"process_max_fds", "Maximum number of open file descriptors.", KX_GAUGE, {NULL}},
};

bool kx_collector_succeeded(const struct kx_collection *c, size_t i)
{
    const struct kmem_status *st = c->part[i].status;
    bool ok = st && st->err == 0 && !c->render_failed[i];
    if (ok && kx_collectors[i].complete)
        ok = kx_collectors[i].complete(c);
    return ok;
}

static void render_collectors(struct kmem_buf *b, const struct kx_collection *c,
                              const struct kx_render_opts *o)
{
    kx_family_head(b, &fam[F_SUCCESS]);
    for (size_t i = 0; i < kx_ncollectors; i++) {
        if (!kx_collector_on(c, o, i))
            continue;
        kx_family_u64(b, &fam[F_SUCCESS], KX_VALUES(kx_collectors[i].name),
                      kx_collector_succeeded(c, i), KX_NO_TIMESTAMP);
    }
    kx_family_head(b, &fam[F_DURATION]);
    for (size_t i = 0; i < kx_ncollectors; i++)
        if (kx_collector_on(c, o, i))
            kx_family_double(b, &fam[F_DURATION], KX_VALUES(kx_collectors[i].name),
                             c->part[i].seconds, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam[F_BUILD_INFO]);
    kx_family_u64(b, &fam[F_BUILD_INFO], KX_VALUES(KMEM_VERSION), 1, KX_NO_TIMESTAMP);
}

static void render_process(struct kmem_buf *b)
{
    struct kx_process p;
    if (kx_process_read(&p) != 0)
        return; /* never fail a scrape for self metrics */
    kx_family_head(b, &fam[F_CPU]);
    kx_family_double(b, &fam[F_CPU], KX_NO_VALUES, p.cpu_seconds, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam[F_RSS]);
    kx_family_u64(b, &fam[F_RSS], KX_NO_VALUES, p.rss_bytes, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam[F_VSIZE]);
    kx_family_u64(b, &fam[F_VSIZE], KX_NO_VALUES, p.vsize_bytes, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam[F_START]);
    kx_family_double(b, &fam[F_START], KX_NO_VALUES, p.start_time_seconds, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam[F_OPEN_FDS]);
    kx_family_u64(b, &fam[F_OPEN_FDS], KX_NO_VALUES, p.open_fds, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam[F_MAX_FDS]);
    kx_family_u64(b, &fam[F_MAX_FDS], KX_NO_VALUES, p.max_fds, KX_NO_TIMESTAMP);
}

int kx_render(struct kmem_buf *b, const struct kx_collection *c, const struct kx_render_opts *o)
{
    for (size_t i = 0; i < kx_ncollectors; i++) {
        if (!kx_collector_on(c, o, i))
            continue;
        size_t before = b->len;
        int r = kx_collectors[i].render(b, c, o, c->state[i]);
        if (r == -E2BIG || r == -ENOMEM) {
            /* This collector's families did not fit: leave them out, so that
             * the others (and kmem_collector_success 0 for it) still are. */
            b->len = before;
            b->err = 0;
            ((struct kx_collection *)c)->render_failed[i] = true; /* collect_render's own */
        } else if (r) {
            return r;
        }
    }
    render_collectors(b, c, o);
    if (o->process)
        render_process(b);
    return b->err;
}
