/* SPDX-License-Identifier: MIT */
#ifndef KMEMTOP_H
#define KMEMTOP_H

#include <stdbool.h>
#include <stdint.h>

#include "kmem.h"
#include "views.h"

enum kt_view { KT_VIEW_SLABS, KT_VIEW_CGROUPS, KT_VIEW_NODE, KT_VIEW_ALLOC, KT_VIEW_COUNT };

struct kt_opts {
    bool slabtop_mode; /* invoked as "slabtop": procps-ng 4.0.2 behaviour */
    const char *prog;  /* short program name for messages */
    bool once;
    long delay;       /* seconds */
    bool delay_given; /* -d: with -o or --json (kmemtop), two samples this far apart */
    char sort;        /* slab sort key */
    enum kt_cg_sort cg_sort;
    bool sort_given; /* -s */
    const char *root;
    enum kt_view view;
    bool view_given; /* --cgroups or --node */
    bool report, json;
    bool by_cache;    /* --by-cache: with --cgroups -o, slab bytes per cgroup and cache */
    const char *html; /* --html FILE (html.c) */
    const char *capture;
    bool force;    /* --force: --capture may replace an earlier capture */
    char *command; /* the command line, for the capture's metadata */
    /* --alloc SECONDS (allocview.c); 0 when not asked */
    double alloc_seconds;
    bool alloc_counts;       /* --alloc-counts: no live-object tracking */
    bool alloc_rates;        /* --alloc-rates: allocation-only hooks (the exporter's mode) */
    unsigned alloc_keys;     /* --alloc-keys N (0: default) */
    unsigned alloc_objects;  /* --alloc-objects N (0: default) */
    const char *alloc_check; /* --alloc-check CACHE: the tracer against /proc/slabinfo */
    char alloc_sort;         /* allocations view: n net, c change, r rate */
    /* The flight recorder (record.c, docs/recorder.md). */
    const char *record; /* --record DIR */
    const char *replay; /* --replay DIR */
    const char *at;     /* --at TIME */
    const char *diff_a; /* --diff A B */
    const char *diff_b;
    bool openmetrics; /* --openmetrics */
    bool list;        /* --list: the samples of --replay DIR */
    uint64_t retain;  /* --record.retain, seconds */
    bool retain_given;
    uint64_t max_size; /* --record.max-size, bytes */
    bool max_size_given;
    unsigned long record_count; /* --record.count N: stop after N samples (0: never) */
    uint64_t record_time_ns;    /* --record.time EPOCH: synthetic timeline, no waiting */
    bool record_quiet;
    const char *window; /* --window DURATION: verdicts over the last DURATION */
};

/* procps slabtop's message for a /proc/slabinfo that cannot be read (main.c). */
void kt_slabtop_read_error(const struct kt_opts *o, int err);

/* --capture FILE.tar.gz (tarball.c): a capture taken into a private directory, then packed. */
struct kt_tarball {
    const char *file; /* the tarball, as given */
    char *tmpdir;     /* private (0700), next to @file; removed by kt_tarball_end() */
    char *capdir;     /* tmpdir/NAME: the capture, so that the tarball holds NAME/ */
    char *name;       /* @file's name without .tar.gz or .tgz */
};
/* True when @path names a tarball (.tar.gz, .tgz). */
bool kt_is_tarball(const char *path);
/* Check @o->capture (an existing file only with --force) and make the private directory. */
int kt_tarball_begin(struct kt_tarball *tb, const struct kt_opts *o);
/* Pack the capture (stopped) into @tb->file, in one rename; 0 or -errno, said on stderr. */
int kt_tarball_pack(struct kt_tarball *tb, const struct kt_opts *o);
/* Remove the private directory, whatever happened; 0 or -errno, said on stderr. */
int kt_tarball_end(struct kt_tarball *tb, struct kmem_ctx *ctx, const struct kt_opts *o);

/* Interactive ncurses loop (tui.c). Returns the exit status. */
int kt_tui_run(struct kmem_ctx *ctx, struct kt_opts *o);

#endif
