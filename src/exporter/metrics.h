/* SPDX-License-Identifier: MIT */
/*
 * Metric logic: renders the parts of a kmem snapshot (and this process's own
 * figures) as the families of SPEC.md into an exposition buffer. No I/O
 * except the process_* self metrics, read from the real /proc/self.
 */
#ifndef KX_METRICS_H
#define KX_METRICS_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "kmem.h"
#include "expo.h"

/* Which slab caches get series: include (default all) minus exclude. */
struct kx_filter {
    bool has_include, has_exclude;
    regex_t include, exclude;
};

/* Compile the two POSIX EREs, anchored like Prometheus (^(?:re)$). NULL
 * means "not given". On error: -EINVAL and a message in @err. */
int kx_filter_init(struct kx_filter *f, const char *include, const char *exclude, char *err,
                   size_t errlen);
void kx_filter_free(struct kx_filter *f);
bool kx_filter_match(const struct kx_filter *f, const char *cache);

/* The series value of the cache label: "name", or "name#n" for the n-th
 * repeat of a name (struct kmem_slab.dup = n), so that no two collide. */
void kx_cache_label(const struct kmem_slab *s, char *out, size_t outlen);

/* One collector's part of a collection. */
struct kx_part {
    const struct kmem_status *status;
    double seconds; /* time the part took */
};

enum kx_collector_id {
    KX_COL_SLABINFO,
    KX_COL_NODE,
    KX_COL_CGROUP,
    KX_COL_NODE_DETAIL, /* vmallocinfo, iomem, allocinfo: read at most once a minute */
    KX_COL_COUNT
};
extern const char *const kx_collector_name[KX_COL_COUNT];

/* What one render sees. Any pointer may be NULL when its part failed. */
struct kx_collection {
    const struct kmem_slabinfo *slab;
    const struct kmem_node *node;
    const struct kmem_cgroups *cgroups;
    const struct kmem_detail *detail; /* node detail (may be a copy up to a minute old) */
    struct kx_part part[KX_COL_COUNT];
    int64_t when_ms; /* wall-clock time of the collection */
};

struct kx_render_opts {
    const struct kx_filter *filter; /* NULL: every cache */
    uint64_t page_size;
    bool timestamps; /* ms timestamps on container_memory_kernel_usage */
    bool process;    /* process_* self metrics */
};

/* Append the whole exposition. 0, or the buffer's error. */
int kx_render(struct kx_buf *b, const struct kx_collection *c, const struct kx_render_opts *o);

/* process_* figures of the calling process, from /proc/self. */
struct kx_process {
    double cpu_seconds;
    uint64_t rss_bytes, vsize_bytes;
    double start_time_seconds;
    uint64_t open_fds, max_fds;
    bool ok;
};
int kx_process_read(struct kx_process *p);

#endif
