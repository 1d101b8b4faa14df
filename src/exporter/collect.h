/* SPDX-License-Identifier: MIT */
/*
 * Shared collection. One collector owns the kmem context (each part of its
 * snapshot is timed and fails on its own) and the last rendered
 * exposition (a refcounted blob). A blob younger than min_interval is
 * reused; scrapes that arrive while a collection runs wait for it and share
 * its bytes (and its gzip form, compressed once).
 */
#ifndef KX_COLLECT_H
#define KX_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

/* An immutable rendered exposition, shared by reference. */
struct kx_blob;

const char *kx_blob_text(const struct kx_blob *b, size_t *len);
/* The gzip form, made on first use. 0 or -errno. */
int kx_blob_gzip(struct kx_blob *b, const char **data, size_t *len);
/* True if every collector succeeded; else the first failure's message. */
bool kx_blob_ok(const struct kx_blob *b, const char **msg);
void kx_blob_get(struct kx_blob *b);
void kx_blob_put(struct kx_blob *b);

struct kx_collector;

struct kx_collector_opts {
    struct kmem_ctx_opts paths; /* root, procfs, sysfs, pod logs (NULL: defaults) */
    double min_interval;        /* seconds; 0 = collect on every request */
    struct kx_render_opts render;
    bool log_errors;    /* print collector failures on stderr (when they change) */
    unsigned cg_extras; /* KMEM_CG_EXTRA_*: per-cgroup files beyond the kernel figure's */
    /* The state of each started collector with a start function (collectors.h),
     * indexed like kx_collectors, owned by the caller; NULL: off. */
    void *state[KX_COLLECTORS_MAX];
};

int kx_collector_new(struct kx_collector **out, const struct kx_collector_opts *o, char *err,
                     size_t errlen);
void kx_collector_free(struct kx_collector *c);

/* The current exposition (a reference: kx_blob_put() it). 0 or -errno. */
int kx_collector_get(struct kx_collector *c, struct kx_blob **out);

/* True once a collection has been rendered (whatever its collectors'
 * success); never blocks, never collects (/-/ready). */
bool kx_collector_ready(struct kx_collector *c);

/* Collect and render now, ignoring min_interval (benchmarks, --once). */
int kx_collector_refresh(struct kx_collector *c, struct kx_blob **out);

#endif
