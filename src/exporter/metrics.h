/* SPDX-License-Identifier: MIT */
/*
 * Metric logic: renders the parts of a kmem snapshot (and this process's own
 * figures) as the families of docs/exporter.md into an exposition buffer. No I/O
 * except the process_* self metrics, read from the real /proc/self.
 */
#ifndef KX_METRICS_H
#define KX_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "kmem.h"
#include "expo.h"
#include "match.h"

/* Which slab caches get series: include (default all) minus exclude. */
struct kx_filter {
    struct kx_re *include, *exclude; /* NULL: not given */
};

/* Compile the two expressions (match.h: RE2 syntax, bounded, matching whole
 * names like Prometheus' ^(?:re)$). NULL means "not given". An empty include
 * is refused (it would match no cache); an empty exclude excludes nothing.
 * On error: -EINVAL (or -ENOMEM) and a message naming the flag in @err. */
int kx_filter_init(struct kx_filter *f, const char *include, const char *exclude, char *err,
                   size_t errlen);
void kx_filter_free(struct kx_filter *f);
bool kx_filter_match(const struct kx_filter *f, const char *cache);

/*
 * The series value of the cache label: "name", or "name#n" for the n-th
 * repeat of a name (struct kmem_slab.dup = n). A name that itself ends in
 * '#' and digits always gets "#dup" appended ("dup#1" -> "dup#1#0"), so the
 * mapping is one-to-one: a label ending in #digits is a generated one, and
 * stripping that suffix gives back the name and the index. @outlen must be
 * at least KMEM_SLAB_NAME_MAX + 11.
 */
void kx_cache_label(const struct kmem_slab *s, char *out, size_t outlen);

/* One collector's part of a collection. */
struct kx_part {
    const struct kmem_status *status;
    double seconds; /* time the part took */
};

/* Collectors are rows of kx_collectors (collectors.h), indexed from 0. */
#define KX_COLLECTORS_MAX 16

/* What one render sees. Any part pointer may be NULL when its part failed
 * (or was not read). part[] and state[] are indexed like kx_collectors. */
struct kx_collection {
    const struct kmem_slabinfo *slab;
    const struct kmem_node *node;
    const struct kmem_cgroups *cgroups;
    const struct kmem_detail *detail;     /* node detail (may be a copy up to a minute old) */
    const struct kmem_owner_snap *owners; /* owner snapshot (may be a copy: its own interval) */
    struct kx_part part[KX_COLLECTORS_MAX];
    /* A collector with a start function: its state (NULL: not started, off). */
    void *state[KX_COLLECTORS_MAX];
    int64_t when_ms; /* wall-clock time of the collection */
    /* Set by kx_render(): the collector's families did not fit (they are
     * left out, its kmem_collector_success is 0, the others are written). */
    bool render_failed[KX_COLLECTORS_MAX];
};

/*
 * --collector.cadvisor-compat: when container_memory_kernel_usage is
 * emitted. auto: only on cgroup v2, where the kubelet reports 0 (on v1 and
 * hybrid it reports memory.kmem.usage_in_bytes itself, and two sources of
 * one series would clash). The kmem_* families are always emitted.
 */
enum kx_cadvisor_compat { KX_CADVISOR_AUTO, KX_CADVISOR_ALWAYS, KX_CADVISOR_NEVER };

/* "auto", "always", "never" into *out. 0 or -EINVAL. */
int kx_cadvisor_compat_parse(const char *s, enum kx_cadvisor_compat *out);

struct kx_render_opts {
    const struct kx_filter *filter; /* NULL: every cache */
    uint64_t page_size;
    bool timestamps;   /* ms timestamps on container_memory_kernel_usage */
    bool process;      /* process_* self metrics */
    unsigned disabled; /* 1 << index in kx_collectors of each disabled collector: not
                        * collected, no families, no kmem_collector_* series */
    struct kx_slab_opts {
        bool empty;               /* also caches with no object (num_objs = num_slabs = 0) */
        unsigned top;             /* the N largest caches by size, the rest summed as
                                   * cache="other"; 0: every cache */
        bool static_families;     /* kmem_slab_object_size_bytes, _objects_per_slab,
                                   * _pages_per_slab per cache (in kmem_slab_info anyway) */
        bool node_exporter_names; /* node_slabinfo_* families, label slab, as node_exporter */
    } slab;
    enum kx_cadvisor_compat cadvisor_compat;
    size_t cg_budget; /* bytes of cgroup series at most (0: KX_CGROUP_EXPO_BUDGET) */
};

/*
 * The `name` label the kubelet gives a cgroup in /metrics/cadvisor (the
 * runtime handler's first alias): CRI-O and docker name containers
 * k8s_<container>_<pod>_<namespace>_<pod uid>_<attempt>; containerd (and a
 * container whose name or attempt is unknown) the container ID; "" for
 * cgroups that are not containers. Writes @out (NUL-terminated, cut to fit).
 */
void kx_cadvisor_name(const struct kmem_cgroup *cg, char *out, size_t outlen);

/* Append the whole exposition. 0, or the buffer's error. */
int kx_render(struct kmem_buf *b, const struct kx_collection *c, const struct kx_render_opts *o);

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
