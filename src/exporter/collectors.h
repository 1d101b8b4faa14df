/* SPDX-License-Identifier: MIT */
/*
 * The collector table: one row per collector, from which everything else
 * comes (as node_exporter's collector registry): the --[no-]collector.<name>
 * flag and its --help line, the startup log, the snapshot parts a collection
 * reads, the kmem_collector_success and kmem_collector_duration_seconds
 * series, and the order families are rendered in.
 *
 * A collector reads one part of the snapshot (enum kmem_part; several
 * collectors may share a part) and renders families declared once
 * (struct kx_family, expo.h). A collector with a source of its own (a BPF
 * program) also has start/collect/stop; its collect is timed and its status
 * is the collector's. Adding a collector: README.md, "Adding a collector".
 */
#ifndef KX_COLLECTORS_H
#define KX_COLLECTORS_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

/* A flag: --name=ARG, or --[no-]name for F_BOOL. Its value is stored at
 * @ptr when set, else at @off bytes into main.c's options. */
enum kx_flag_kind { KX_F_STR, KX_F_BOOL, KX_F_SECONDS, KX_F_UINT, KX_F_LONG };

struct kx_flag {
    const char *name;
    enum kx_flag_kind kind;
    size_t off;
    void *ptr;
    const char *arg, *help;
    bool hidden;
};

/* Render a collector's families into @b. 0 or -errno (the buffer's error). */
typedef int kx_render_fn(struct kmem_buf *b, const struct kx_collection *c,
                         const struct kx_render_opts *o, void *state);

struct kx_collector_def {
    const char *name;     /* --[no-]collector.<name>, label collector="<name>" */
    bool default_on;      /* on unless --no-collector.<name> */
    enum kmem_part part;  /* the snapshot part it needs, read when it is on */
    kx_render_fn *render; /* its families */
    const char *help;     /* --help: what it reads and exports */

    /* Optional. */
    /* False when the part was read but the collector still failed in part
     * (kmem_collector_success 0): cgroups skipped on errors. */
    bool (*complete)(const struct kx_collection *c);
    const struct kx_flag *flags; /* its own --collector.<name>.* flags, ending with {NULL} */
    /* A collector with a source of its own. start (when the collector is
     * on, before the first collection): 0 or -ENOMEM; a problem that does
     * not stop the exporter goes into @warn (logged) and is reported by
     * collect at every collection. collect runs after the snapshot (which
     * holds @part), is timed, and fills the collector's status. */
    int (*start)(void **state, char *warn, size_t warnlen);
    void (*collect)(void *state, struct kmem_ctx *ctx, const struct kmem_snapshot *s,
                    struct kmem_status *st);
    void (*stop)(void *state);
    const char *refuses_run_as; /* why it cannot be combined with --run-as, or NULL */
    /* Configure the context once it is made (the collector is on): its part's interval. */
    void (*setup)(struct kmem_ctx *ctx);
};

extern const struct kx_collector_def kx_collectors[];
extern const size_t kx_ncollectors; /* at most KX_COLLECTORS_MAX */

/* The index of the collector called @name in kx_collectors, or -1. */
int kx_collector_index(const char *name);

/* True when collector @i is on for this render: not disabled, and started if
 * it has a start function. */
bool kx_collector_on(const struct kx_collection *c, const struct kx_render_opts *o, size_t i);

/* kmem_collector_success of collector @i in @c (its status read, and the
 * part complete). --once and --textfile exit 1 when any enabled collector's
 * is false: the one rule for the exit status. */
bool kx_collector_succeeded(const struct kx_collection *c, size_t i);

#endif
