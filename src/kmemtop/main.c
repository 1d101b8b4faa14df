/* SPDX-License-Identifier: MIT */
/*
 * kmemtop: where did the kernel's memory go? Also a drop-in for procps-ng
 * 4.0.2 slabtop when invoked under that name.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmemtop.h"
#include "allocview.h"

#define DEFAULT_DELAY 3

enum {
    OPT_ROOT = 256,
    OPT_CGROUPS,
    OPT_NODE,
    OPT_REPORT,
    OPT_JSON,
    OPT_CAPTURE,
    OPT_ALLOC,
    OPT_ALLOC_COUNTS,
    OPT_ALLOC_KEYS,
    OPT_ALLOC_OBJECTS,
};

static void usage_slabtop(FILE *out, const char *prog)
{
    fprintf(out,
            "\nUsage:\n %s [options]\n\nOptions:\n"
            " -d, --delay <secs>  delay updates\n"
            " -o, --once          only display once, then exit\n"
            " -s, --sort <char>   specify sort criteria by character (see below)\n"
            "\n -h, --help     display this help and exit\n"
            " -V, --version  output version information and exit\n"
            "\nThe following are valid sort criteria:\n"
            " a: sort by number of active objects\n"
            " b: sort by objects per slab\n"
            " c: sort by cache size\n"
            " l: sort by number of slabs\n"
            " v: sort by (non display) number of active slabs\n"
            " n: sort by name\n"
            " o: sort by number of objects (the default)\n"
            " p: sort by (non display) pages per slab\n"
            " s: sort by object size\n"
            " u: sort by cache utilization\n"
            "\nFor more details see slabtop(1).\n",
            prog);
}

static void usage_kmemtop(FILE *out, const char *prog)
{
    fprintf(out,
            "\nUsage:\n %s [options]\n\n"
            "Where did the kernel's memory go? Slab caches, node kernel memory and\n"
            "the kernel memory charged to each cgroup / Kubernetes container.\n\n"
            "Options:\n"
            " -d, --delay <secs>  refresh every <secs> seconds (default 3)\n"
            " -o, --once          print once, then exit (slab view, or the --cgroups table)\n"
            " -s, --sort <char>   slab sort key (see below)\n"
            "     --cgroups       the cgroup view (with -o: the cgroup table once)\n"
            "     --node          start in the node view\n"
            "     --report        explain all of the node's kernel memory, then exit\n"
            "     --json          print the whole snapshot as one JSON document\n"
            "     --capture <dir> copy every file kmem reads into <dir> (for --root)\n"
            "     --root <dir>    read <dir>/proc and <dir>/sys instead of /proc and /sys\n"
            "     --alloc <secs>  trace slab allocations per cgroup and cache with BPF for\n"
            "                     <secs> seconds, then print them (with --json: one document)\n"
            "     --alloc-counts  with --alloc: counts only, no live-object tracking (cheaper)\n"
            "     --alloc-objects <n>  live objects tracked (default 262144)\n"
            "     --alloc-keys <n>     (cgroup, cache) pairs counted (default 65536)\n"
            " -h, --help          display this help and exit\n"
            " -V, --version       output version information and exit\n"
            "\nSort keys (as slabtop): a active objects, b objects per slab, c cache size,\n"
            " l slabs, v active slabs, n name, o objects (default), p pages per slab,\n"
            " s object size, u utilization; g growth since the last refresh.\n"
            "\nInteractive keys: 1 slabs, 2 cgroups, 3 node, 4 allocations (BPF), TAB next\n"
            " view, sort keys, g growth, q quit. Invoked as 'slabtop' it behaves as\n"
            " procps-ng slabtop.\n",
            prog);
}

static _Noreturn void usage(const struct kt_opts *o, FILE *out)
{
    if (o->slabtop_mode)
        usage_slabtop(out, o->prog);
    else
        usage_kmemtop(out, o->prog);
    exit(out == stderr ? EXIT_FAILURE : EXIT_SUCCESS);
}

static _Noreturn void die(const struct kt_opts *o, const char *msg)
{
    fprintf(stderr, "%s: %s\n", o->prog, msg);
    exit(EXIT_FAILURE);
}

/* procps strtol_or_err(): the whole string must be a base-10 long. */
static long parse_delay(const struct kt_opts *o, const char *s)
{
    char *end = NULL;
    long v;

    if (*s) {
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == 0 && end != s && *end == '\0')
            return v;
    }
    if (errno)
        fprintf(stderr, "%s: illegal delay: '%s': %s\n", o->prog, s, strerror(errno));
    else
        fprintf(stderr, "%s: illegal delay: '%s'\n", o->prog, s);
    exit(EXIT_FAILURE);
}

/* --alloc SECONDS: a positive number, at most a day. */
static double parse_seconds(const struct kt_opts *o, const char *s)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 86400) {
        fprintf(stderr, "%s: --alloc: '%s' is not a number of seconds in (0, 86400]\n", o->prog, s);
        exit(EXIT_FAILURE);
    }
    return v;
}

/* A map size: 1 .. 2^26 entries. */
static unsigned parse_count(const struct kt_opts *o, const char *opt, const char *s)
{
    char *end = NULL;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < 1 || v > (1UL << 26)) {
        fprintf(stderr, "%s: %s: '%s' is not a number in 1..%lu\n", o->prog, opt, s, 1UL << 26);
        exit(EXIT_FAILURE);
    }
    return (unsigned)v;
}

static void parse_opts(struct kt_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"delay", required_argument, NULL, 'd'},
        {"sort", required_argument, NULL, 's'},
        {"once", no_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"root", required_argument, NULL, OPT_ROOT},
        {"cgroups", no_argument, NULL, OPT_CGROUPS},
        {"node", no_argument, NULL, OPT_NODE},
        {"report", no_argument, NULL, OPT_REPORT},
        {"json", no_argument, NULL, OPT_JSON},
        {"capture", required_argument, NULL, OPT_CAPTURE},
        {"alloc", required_argument, NULL, OPT_ALLOC},
        {"alloc-counts", no_argument, NULL, OPT_ALLOC_COUNTS},
        {"alloc-keys", required_argument, NULL, OPT_ALLOC_KEYS},
        {"alloc-objects", required_argument, NULL, OPT_ALLOC_OBJECTS},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "d:s:ohV", longopts, NULL)) != -1) {
        if (o->slabtop_mode && c > OPT_ROOT)
            usage(o, stderr); /* slabtop knows only --root beyond procps */
        switch (c) {
        case 'd':
            if (o->once)
                die(o, "Cannot combine -d and -o options");
            o->delay = parse_delay(o, optarg);
            if (o->delay < 1)
                die(o, "delay must be positive integer");
            break;
        case 's':
            /* procps: first character, case ignored, unknown means the default */
            o->sort = kt_slab_sort_key((unsigned char)optarg[0]);
            if (!o->sort || (o->slabtop_mode && o->sort == 'g'))
                o->sort = 'o';
            break;
        case 'o':
            if (o->delay != 0)
                die(o, "Cannot combine -d and -o options");
            o->once = true;
            break;
        case 'V':
            if (o->slabtop_mode)
                printf("slabtop from procps-ng 4.0.2 (kmem %s)\n", KMEM_VERSION);
            else
                printf("kmemtop from kmem %s\n", KMEM_VERSION);
            exit(EXIT_SUCCESS);
        case 'h':
            usage(o, stdout);
        case OPT_ROOT:
            o->root = optarg;
            break;
        case OPT_CGROUPS:
            o->view = KT_VIEW_CGROUPS;
            break;
        case OPT_NODE:
            o->view = KT_VIEW_NODE;
            break;
        case OPT_REPORT:
            o->report = true;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_CAPTURE:
            o->capture = optarg;
            break;
        case OPT_ALLOC:
            o->alloc_seconds = parse_seconds(o, optarg);
            break;
        case OPT_ALLOC_COUNTS:
            o->alloc_counts = true;
            break;
        case OPT_ALLOC_KEYS:
            o->alloc_keys = parse_count(o, "--alloc-keys", optarg);
            break;
        case OPT_ALLOC_OBJECTS:
            o->alloc_objects = parse_count(o, "--alloc-objects", optarg);
            break;
        default:
            usage(o, stderr);
        }
    }
    if (optind != argc)
        usage(o, stderr);
    if (!o->once && o->delay == 0)
        o->delay = DEFAULT_DELAY;
}

/* Print the slab view once (procps-compatible bytes). */
static int print_slabs_once(struct kmem_ctx *ctx, const struct kt_opts *o)
{
    const struct kmem_snapshot *snap;
    struct kt_sink sink;
    size_t *idx;
    int err;

    err = kmem_collect(ctx, KMEM_COLLECT_SLAB);
    snap = kmem_current(ctx);
    if (err) {
        if (o->slabtop_mode)
            kt_slabtop_read_error(o, err);
        else
            fprintf(stderr, "%s: %s\n", o->prog, snap->slab_status.msg);
        return EXIT_FAILURE;
    }
    idx = malloc((snap->slab.n ? snap->slab.n : 1) * sizeof(*idx));
    if (!idx) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        return EXIT_FAILURE;
    }
    kt_slab_sort(&snap->slab, o->sort, idx);
    kt_sink_file(&sink, stdout);
    kt_slab_render(&sink, &snap->slab, idx, KT_CHANGE_NONE);
    free(idx);
    return EXIT_SUCCESS;
}

static int print_cgroups_once(struct kmem_ctx *ctx, const struct kt_opts *o)
{
    struct kt_sink sink;
    int err = kmem_collect(ctx, KMEM_COLLECT_CGROUPS);

    if (err) {
        fprintf(stderr, "%s: %s\n", o->prog, kmem_current(ctx)->cgroup_status.msg);
        return EXIT_FAILURE;
    }
    kt_sink_file(&sink, stdout);
    kt_cgroup_render(&sink, kmem_current(ctx), KT_CG_SORT_KERNEL);
    return EXIT_SUCCESS;
}

/* --report / --json / --capture: one full snapshot; parts that fail are reported inside. */
static int whole_snapshot(struct kmem_ctx *ctx, const struct kt_opts *o)
{
    const struct kmem_snapshot *snap;
    int rc = EXIT_SUCCESS;

    if (o->capture && kmem_ctx_set_capture(ctx, o->capture)) {
        fprintf(stderr, "%s: %s\n", o->prog, kmem_strerror(ctx));
        return EXIT_FAILURE;
    }
    kmem_collect(ctx, KMEM_COLLECT_ALL);
    snap = kmem_current(ctx);
    if (o->json)
        rc = kt_json(stdout, snap) ? EXIT_FAILURE : EXIT_SUCCESS;
    else if (o->report)
        rc = kt_report(stdout, snap) ? EXIT_FAILURE : EXIT_SUCCESS;
    if (o->capture) {
        const struct kmem_status *st[] = {&snap->slab_status, &snap->node_status,
                                          &snap->cgroup_status};
        for (size_t i = 0; i < 3; i++)
            if (st[i]->err)
                fprintf(stderr, "%s: warning: %s\n", o->prog, st[i]->msg);
        fprintf(stderr, "%s: captured into %s; replay with: kmemtop --root %s\n", o->prog,
                o->capture, o->capture);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct kt_opts o = {.sort = 'o', .view = KT_VIEW_SLABS};
    struct kmem_ctx *ctx;
    char err[512];
    const char *base = strrchr(argv[0], '/');
    int rc;

    o.prog = base ? base + 1 : argv[0];
    /* "kmem-slabtop" is the name `make install` uses beside procps's slabtop. */
    o.slabtop_mode = strcmp(o.prog, "slabtop") == 0 || strcmp(o.prog, "kmem-slabtop") == 0;
    setlocale(LC_ALL, "");
    parse_opts(&o, argc, argv);

    if (kmem_ctx_new(&ctx, o.root, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o.prog, err);
        return EXIT_FAILURE;
    }
    if (o.alloc_seconds > 0)
        rc = kt_alloc_once(ctx, &o);
    else if (o.report || o.json || o.capture)
        rc = whole_snapshot(ctx, &o);
    else if (o.once && o.view == KT_VIEW_CGROUPS)
        rc = print_cgroups_once(ctx, &o);
    else if (o.once)
        rc = print_slabs_once(ctx, &o);
    else
        rc = kt_tui_run(ctx, &o);
    kmem_ctx_free(ctx);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write error\n", o.prog);
        rc = EXIT_FAILURE;
    }
    return rc;
}
