/* SPDX-License-Identifier: MIT */
/*
 * kmemtop: where did the kernel's memory go? Also a drop-in for procps-ng
 * 4.0.2 slabtop when invoked under that name.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmemtop.h"
#include "allocview.h"
#include "kmemrec.h"
#include "record.h"
#include "html.h"
#include "report.h"

#define DEFAULT_DELAY        3
#define DEFAULT_RECORD_DELAY 10

/* SIGINT, SIGTERM, SIGHUP while a tarball is made: print nothing, remove what was written. */
static volatile sig_atomic_t capture_interrupted;

enum {
    OPT_ROOT = 256,
    OPT_CGROUPS,
    OPT_NODE,
    OPT_REPORT,
    OPT_JSON,
    OPT_CAPTURE,
    OPT_FORCE,
    OPT_ALLOC,
    OPT_ALLOC_COUNTS,
    OPT_ALLOC_RATES,
    OPT_ALLOC_KEYS,
    OPT_ALLOC_OBJECTS,
    OPT_ALLOC_CHECK,
    OPT_BY_CACHE,
    OPT_RECORD,
    OPT_REPLAY,
    OPT_AT,
    OPT_DIFF,
    OPT_OPENMETRICS,
    OPT_LIST,
    OPT_RETAIN,
    OPT_MAX_SIZE,
    OPT_RECORD_COUNT,
    OPT_RECORD_TIME,
    OPT_QUIET,
    OPT_WINDOW,
    OPT_HTML,
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
            "the kernel memory charged to each cgroup / Kubernetes container.\n"
            "Without -o, --report, --json or --capture: a full-screen view (? lists its keys).\n\n"
            "Options:\n"
            " -d, --delay <secs>  refresh every <secs> seconds (default 3); with -o or\n"
            "                     --json: take two samples <secs> apart, so that CHANGE\n"
            "                     (the growth over <secs>) is filled and -s g can sort by it\n"
            " -o, --once          print once, then exit: the slab view (as slabtop -o), or\n"
            "                     the --cgroups table, or the --node summary\n"
            " -s, --sort <key>    sort the slab view (keys below), or with --cgroups the\n"
            "                     cgroup table: k kernel (default), g change, n name\n"
            "     --cgroups       the cgroup view (with -o: the cgroup table once)\n"
            "     --by-cache      with --cgroups -o: slab bytes per cgroup and cache, from\n"
            "                     the owner snapshot (needs root and BPF on a live kernel;\n"
            "                     read from kmem-owners.txt under --root)\n"
            "     --node          the node view (with -o: the node summary once)\n"
            "     --report        explain all of the node's kernel memory, then exit\n"
            "     --json          print the whole snapshot as one JSON document\n"
            "     --html <file>   write one self-contained page: treemaps of MemTotal and of\n"
            "                     the cgroups' kernel memory, with their tables\n"
            "     --capture <dir> copy every file kmem reads into <dir>, for --root <dir>\n"
            "                     (with kmem-capture.txt: date, host, kernel, command);\n"
            "                     a <name>.tar.gz or .tgz instead of <dir>: a tarball of\n"
            "                     <name>/ (tar -xzf it, then --root <name>)\n"
            "     --force         with --capture: replace an earlier capture in <dir>, or\n"
            "                     the tarball\n"
            "     --root <dir>    read <dir>/proc, <dir>/sys and <dir>/var/log instead of\n"
            "                     /proc, /sys and /var/log (a capture, a host at /host)\n"
            "     --alloc <secs>  trace slab allocations per cgroup and cache with BPF for\n"
            "                     <secs> seconds, then print them (with --json: one document)\n"
            "     --alloc-counts  with --alloc: counts only, no live-object tracking (cheaper)\n"
            "     --alloc-rates   with --alloc: allocations only, one window (the exporter's\n"
            "                     cheap mode: no free hooks, no live objects)\n"
            "     --alloc-objects <n>  live objects tracked (default 262144)\n"
            "     --alloc-keys <n>     (cgroup, cache) pairs counted (default 65536)\n"
            "     --alloc-check <cache>  with --alloc: the traced net of <cache> against\n"
            "                     /proc/slabinfo over the same moments (docs/alloc.md)\n"
            "     --record <dir>  the flight recorder: a sample every -d seconds (default\n"
            "                     10) into <dir> until stopped; see docs/recorder.md\n"
            "     --record.retain <dur>   remove segments older than <dur> (default 7d)\n"
            "     --record.max-size <size>  remove the oldest segments beyond <size>\n"
            "                     (default 256MiB)\n"
            "     --record.count <n>  stop after <n> samples\n"
            "     --record.time <secs>  with --record: the first sample's time (seconds since\n"
            "                     the epoch), each next one -d later, without waiting\n"
            "     --quiet         with --record: no start and end messages\n"
            "     --replay <dir>  a moment of a recording (newest, or --at <time>) as a\n"
            "                     capture: with -o, --json, --report, or the full screen\n"
            "     --at <time>     \"YYYY-MM-DD HH:MM[:SS]\" (local) or \"N{s,m,h,d} ago\"\n"
            "     --list          with --replay: every sample\n"
            "     --diff <a> <b>  what grew and shrank: two times of --replay <dir>, or two\n"
            "                     captures or recordings (--json too)\n"
            "     --window <dur>  with --replay: leak verdicts over <dur> (e.g. 6h)\n"
            "     --openmetrics   with --replay: the recording for promtool backfilling\n"
            " -h, --help          display this help and exit\n"
            " -V, --version       output version information and exit\n"
            "\nSlab sort keys (as slabtop): a active objects, b objects per slab, c cache\n"
            " size, l slabs, v active slabs, n name, o objects (default), p pages per slab,\n"
            " s object size, u utilization; g change since the last refresh (needs -d with -o),\n"
            " G growth since kmemtop started (with -o -d N: over those N seconds), r rate per\n"
            " minute (not with -o). Only G and r are case-sensitive.\n"
            "\nInvoked as 'slabtop' it behaves as procps-ng slabtop. See kmemtop(1).\n",
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

/* kmemtop's checks once every option is known: each option must do what it says. */
static void check_opts(struct kt_opts *o, const char *sort_arg)
{
    bool cg_table = o->view == KT_VIEW_CGROUPS;

    if (o->report && o->json)
        die(o, "--report and --json are two outputs: choose one");
    if (o->by_cache && (!cg_table || !(o->once || o->json) || o->report))
        die(o, "--by-cache goes with --cgroups -o (a table) or --cgroups --json");
    if (o->by_cache && sort_arg)
        die(o, "--by-cache lists the largest caches of the largest cgroups first: -s does not "
               "apply");
    if (o->by_cache && o->delay_given && !o->json)
        die(o, "--by-cache shows one owner snapshot: -d does not apply");
    if (o->html && (o->report || o->json || o->once || o->alloc_seconds > 0 || o->view_given))
        die(o, "--html FILE is an output of its own: without --report, --json, -o, --cgroups, "
               "--node or --alloc");
    if (o->html && (o->delay_given || sort_arg))
        die(o, "--html FILE shows one snapshot, all of it: -d and -s do not apply");
    if (o->force && !o->capture)
        die(o, "--force goes with --capture DIR (it replaces an earlier capture there)");
    if (o->delay_given && o->report)
        die(o, "--report shows one snapshot: -d does not apply");
    if (o->delay_given && o->once && o->view == KT_VIEW_NODE)
        die(o, "the node summary has no change column: -d does not apply to --node -o");
    if (sort_arg && (o->report || o->json || (o->once && o->view == KT_VIEW_NODE)))
        die(o, "-s sorts the slab view or the --cgroups table, not this output");
    if (sort_arg) {
        if (strlen(sort_arg) != 1) {
            fprintf(stderr, "%s: sort key '%s': a sort key is one letter (see %s -h)\n", o->prog,
                    sort_arg, o->prog);
            exit(EXIT_FAILURE);
        }
        if (cg_table && !kt_cg_sort_from_char(sort_arg[0], &o->cg_sort)) {
            fprintf(
                stderr,
                "%s: unknown sort key '%s' for the cgroup table (k kernel, g change, G growth, r "
                "per min, n name)\n",
                o->prog, sort_arg);
            exit(EXIT_FAILURE);
        }
        if (!cg_table) {
            /* G (growth since the start) and r (rate) need the history of
             * the interactive view; with -o the growth over its two samples
             * is their change, g. The other keys ignore case, as slabtop's. */
            if ((sort_arg[0] == 'G' || sort_arg[0] == 'r') && !o->once)
                o->sort = sort_arg[0];
            else if (sort_arg[0] != 'r')
                o->sort = kt_slab_sort_key((unsigned char)sort_arg[0]);
            else
                o->sort = 0;
            if (!o->sort) {
                fprintf(stderr,
                        "%s: unknown sort key '%s' for the slab view%s (a b c l v n o p s u g G "
                        "r; see %s -h)\n",
                        o->prog, sort_arg, sort_arg[0] == 'r' ? " printed once" : "", o->prog);
                exit(EXIT_FAILURE);
            }
        }
        o->sort_given = true;
    }
    if (o->once && !o->delay_given &&
        (cg_table ? o->cg_sort == KT_CG_SORT_CHANGE || o->cg_sort == KT_CG_SORT_GROWTH
                  : o->sort == 'g')) {
        fprintf(stderr,
                "%s: -s %c sorts by the change since the previous sample, and -o takes only one;\n"
                "  add -d SECONDS to take two samples that far apart, e.g.: %s%s -o -d 5 -s %c\n",
                o->prog, sort_arg ? sort_arg[0] : 'g', o->prog, cg_table ? " --cgroups" : "",
                sort_arg ? sort_arg[0] : 'g');
        exit(EXIT_FAILURE);
    }
}

/* The recorder's options (docs/recorder.md): each must do what it says. */
static void check_recorder_opts(const struct kt_opts *o)
{
    bool output = o->once || o->report || o->json || o->html || o->capture || o->alloc_seconds > 0;

    if (o->record && (output || o->replay || o->diff_a || o->openmetrics || o->list))
        die(o, "--record DIR records until stopped: it takes -d, --root and --record.* only");
    if (!o->record && (o->retain_given || o->max_size_given || o->record_count ||
                       o->record_time_ns || o->record_quiet))
        die(o, "--record.retain, --record.max-size, --record.count, --record.time and --quiet go "
               "with --record DIR");
    if (o->at && !o->replay)
        die(o, "--at TIME picks a moment of a recording: give it with --replay DIR");
    if (o->replay && o->root)
        die(o, "--replay DIR reads the recording: --root does not apply");
    if ((o->list || o->openmetrics) && !o->replay)
        die(o, "--list and --openmetrics read a recording: give it with --replay DIR");
    if ((o->list || o->openmetrics || o->diff_a) &&
        (o->once || o->report || o->html || o->capture || o->alloc_seconds > 0 || o->at ||
         (o->json && !o->diff_a)))
        die(o, "--list, --openmetrics and --diff are outputs of their own");
    if (o->diff_a && o->replay && o->root)
        die(o, "--diff A B with --replay DIR: A and B are times in DIR");
    if (o->window && !o->replay)
        die(o, "--window DURATION goes with --replay DIR");
    if (o->window && (o->once || o->capture || o->diff_a || o->list))
        die(o, "--window gives leak verdicts (alone, with --json, or after --report) or bounds "
               "--openmetrics");
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
        {"html", required_argument, NULL, OPT_HTML},
        {"capture", required_argument, NULL, OPT_CAPTURE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"alloc", required_argument, NULL, OPT_ALLOC},
        {"alloc-counts", no_argument, NULL, OPT_ALLOC_COUNTS},
        {"alloc-rates", no_argument, NULL, OPT_ALLOC_RATES},
        {"alloc-keys", required_argument, NULL, OPT_ALLOC_KEYS},
        {"alloc-objects", required_argument, NULL, OPT_ALLOC_OBJECTS},
        {"alloc-check", required_argument, NULL, OPT_ALLOC_CHECK},
        {"by-cache", no_argument, NULL, OPT_BY_CACHE},
        {"record", required_argument, NULL, OPT_RECORD},
        {"replay", required_argument, NULL, OPT_REPLAY},
        {"at", required_argument, NULL, OPT_AT},
        {"diff", required_argument, NULL, OPT_DIFF},
        {"openmetrics", no_argument, NULL, OPT_OPENMETRICS},
        {"list", no_argument, NULL, OPT_LIST},
        {"record.retain", required_argument, NULL, OPT_RETAIN},
        {"record.max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"record.count", required_argument, NULL, OPT_RECORD_COUNT},
        {"record.time", required_argument, NULL, OPT_RECORD_TIME},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"window", required_argument, NULL, OPT_WINDOW},
        {NULL, 0, NULL, 0},
    };
    const char *sort_arg = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "d:s:ohV", longopts, NULL)) != -1) {
        if (o->slabtop_mode && c > OPT_ROOT)
            usage(o, stderr); /* slabtop knows only --root beyond procps */
        /* A flag missing its value must not swallow the next flag: "--record
         * --quiet" would record into a directory named --quiet. A value that
         * begins with "--" is taken only as --flag=value. */
        if (optarg && optind > 0 && optarg == argv[optind - 1] && !strncmp(optarg, "--", 2)) {
            fprintf(stderr,
                    "%s: option '%s' needs a value, got the flag '%s' (write %s=%s if "
                    "that is the value)\n",
                    o->prog, optind > 1 ? argv[optind - 2] : "?", optarg,
                    optind > 1 ? argv[optind - 2] : "?", optarg);
            exit(EXIT_FAILURE);
        }
        switch (c) {
        case 'd':
            /* procps refuses -d with -o; kmemtop takes two samples that far apart */
            if (o->once && o->slabtop_mode)
                die(o, "Cannot combine -d and -o options");
            o->delay = parse_delay(o, optarg);
            if (o->delay < 1)
                die(o, "delay must be positive integer");
            o->delay_given = true;
            break;
        case 's':
            if (o->slabtop_mode) {
                /* procps: first character, case ignored, unknown means the default */
                o->sort = kt_slab_sort_key((unsigned char)optarg[0]);
                if (!o->sort || o->sort == 'g')
                    o->sort = 'o';
            } else {
                sort_arg = optarg;
            }
            break;
        case 'o':
            if (o->delay != 0 && o->slabtop_mode)
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
            o->view_given = true;
            break;
        case OPT_NODE:
            o->view = KT_VIEW_NODE;
            o->view_given = true;
            break;
        case OPT_REPORT:
            o->report = true;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_HTML:
            o->html = optarg;
            break;
        case OPT_CAPTURE:
            o->capture = optarg;
            break;
        case OPT_FORCE:
            o->force = true;
            break;
        case OPT_ALLOC:
            o->alloc_seconds = parse_seconds(o, optarg);
            break;
        case OPT_ALLOC_COUNTS:
            o->alloc_counts = true;
            break;
        case OPT_ALLOC_RATES:
            o->alloc_rates = true;
            break;
        case OPT_ALLOC_KEYS:
            o->alloc_keys = parse_count(o, "--alloc-keys", optarg);
            break;
        case OPT_ALLOC_OBJECTS:
            o->alloc_objects = parse_count(o, "--alloc-objects", optarg);
            break;
        case OPT_ALLOC_CHECK:
            o->alloc_check = optarg;
            break;
        case OPT_BY_CACHE:
            o->by_cache = true;
            break;
        case OPT_RECORD:
            o->record = optarg;
            break;
        case OPT_REPLAY:
            o->replay = optarg;
            break;
        case OPT_AT:
            o->at = optarg;
            break;
        case OPT_DIFF:
            o->diff_a = optarg;
            break;
        case OPT_OPENMETRICS:
            o->openmetrics = true;
            break;
        case OPT_LIST:
            o->list = true;
            break;
        case OPT_RETAIN:
            if (kmem_parse_duration(optarg, &o->retain)) {
                fprintf(stderr, "%s: --record.retain: '%s' is no duration (e.g. 7d, 12h, 0)\n",
                        o->prog, optarg);
                exit(EXIT_FAILURE);
            }
            o->retain_given = true;
            break;
        case OPT_MAX_SIZE:
            if (kmem_parse_size(optarg, &o->max_size)) {
                fprintf(stderr, "%s: --record.max-size: '%s' is no size (e.g. 256MiB, 1GiB, 0)\n",
                        o->prog, optarg);
                exit(EXIT_FAILURE);
            }
            o->max_size_given = true;
            break;
        case OPT_RECORD_COUNT:
            o->record_count = parse_count(o, "--record.count", optarg);
            break;
        case OPT_RECORD_TIME: {
            char *end = NULL;
            unsigned long long v;

            errno = 0;
            v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || v == 0 || v > 4000000000ull)
                die(o, "--record.time: seconds since the epoch");
            o->record_time_ns = v * 1000000000ull;
            break;
        }
        case OPT_QUIET:
            o->record_quiet = true;
            break;
        case OPT_WINDOW:
            o->window = optarg;
            break;
        default:
            /* getopt said which option; one more line, not the whole usage
             * (slabtop prints its usage, as procps's). */
            if (o->slabtop_mode)
                usage(o, stderr);
            fprintf(stderr, "Try '%s --help' for more information.\n", o->prog);
            exit(EXIT_FAILURE);
        }
    }
    if (o->diff_a && optind + 1 == argc)
        o->diff_b = argv[optind++];
    else if (o->diff_a)
        die(o, "--diff takes two arguments: --diff A B (captures, recordings, or with --replay "
               "DIR two times)");
    if (optind != argc) {
        if (o->slabtop_mode)
            usage(o, stderr);
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more information.\n",
                o->prog, argv[optind], o->prog);
        exit(EXIT_FAILURE);
    }
    if (!o->slabtop_mode) {
        check_opts(o, sort_arg);
        check_recorder_opts(o);
    }
    if (!o->delay_given)
        o->delay = o->record ? DEFAULT_RECORD_DELAY : DEFAULT_DELAY;
}

/* The command line, quoted where a shell would need it, for the capture's metadata. */
static char *command_line(int argc, char **argv)
{
    size_t len = 1;
    char *s, *p;

    for (int i = 0; i < argc; i++)
        len += 4 * strlen(argv[i]) + 3;
    s = malloc(len);
    if (!s)
        return NULL;
    p = s;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-_./=:,+@%") == strlen(a);

        if (i)
            *p++ = ' ';
        if (plain) {
            p = stpcpy(p, a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++)
            p = *a == '\'' ? stpcpy(p, "'\\''") : (*p = *a, p + 1);
        *p++ = '\'';
    }
    *p = '\0';
    return s;
}

/* Collect @flags; with -d (kmemtop), twice, -d seconds apart, so that changes are filled. */
static int collect(struct kmem_ctx *ctx, const struct kt_opts *o, unsigned flags)
{
    if (o->delay_given && !o->slabtop_mode) {
        kmem_collect(ctx, flags);
        sleep((unsigned)(o->delay > 86400 ? 86400 : o->delay));
        if (capture_interrupted)
            return -EINTR;
    }
    return kmem_collect(ctx, flags);
}

/* Print the slab view once (procps-compatible bytes; with -d, a CHANGE column). */
static int print_slabs_once(struct kmem_ctx *ctx, const struct kt_opts *o, unsigned flags)
{
    const struct kmem_snapshot *snap;
    struct kt_sink sink;
    size_t *idx;
    int err;

    err = collect(ctx, o, flags);
    if (capture_interrupted)
        return EXIT_FAILURE;
    snap = kmem_current(ctx);
    if (snap->status[KMEM_PART_SLAB].err) {
        if (o->slabtop_mode)
            kt_slabtop_read_error(o, err);
        else
            fprintf(stderr, "%s: %s\n", o->prog, snap->status[KMEM_PART_SLAB].msg);
        return EXIT_FAILURE;
    }
    idx = malloc((snap->slab.n ? snap->slab.n : 1) * sizeof(*idx));
    if (!idx) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        return EXIT_FAILURE;
    }
    kt_slab_sort(&snap->slab, o->sort, idx);
    kt_sink_file(&sink, stdout);
    sink.escape = !o->slabtop_mode; /* slabtop: procps prints names raw */
    kt_slab_render(&sink, &snap->slab, idx, kmem_previous(ctx) ? KT_CHANGE_SHOW : KT_CHANGE_NONE);
    free(idx);
    return EXIT_SUCCESS;
}

/* --cgroups -o and --node -o: the table or the summary once. */
static int print_view_once(struct kmem_ctx *ctx, const struct kt_opts *o, unsigned flags)
{
    enum kmem_part part = o->view == KT_VIEW_NODE ? KMEM_PART_NODE
                          : o->by_cache           ? KMEM_PART_OWNERS
                                                  : KMEM_PART_CGROUPS;
    const struct kmem_snapshot *snap;
    struct kt_sink sink;

    collect(ctx, o, flags);
    if (capture_interrupted)
        return EXIT_FAILURE;
    snap = kmem_current(ctx);
    if (snap->status[part].err) {
        fprintf(stderr, "%s: %s\n", o->prog, snap->status[part].msg);
        return EXIT_FAILURE;
    }
    kt_sink_file(&sink, stdout);
    if (part == KMEM_PART_NODE)
        kt_node_render(&sink, snap);
    else if (part == KMEM_PART_OWNERS)
        kt_owner_render(&sink, snap);
    else
        kt_cgroup_render(&sink, snap, o->cg_sort);
    return EXIT_SUCCESS;
}

/* --report / --json: one full snapshot; parts that fail are reported inside. */
static int print_whole(struct kmem_ctx *ctx, const struct kt_opts *o)
{
    const struct kmem_snapshot *snap;
    struct kmem_capture_meta meta;

    collect(ctx, o, KMEM_COLLECT_ALL);
    if (capture_interrupted)
        return EXIT_FAILURE;
    snap = kmem_current(ctx);
    if (o->json) {
        /* The capture being written (its replay prints the same), else the one read. */
        struct kt_json_info info = {.interval = o->delay_given ? o->delay : 0};

        if ((o->capture && kmem_ctx_capture_written(ctx, &meta) == 0) ||
            kmem_ctx_capture_meta(ctx, &meta) == 0)
            info.capture = &meta;
        return kt_json(stdout, snap, &info) ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    return kt_report(stdout, snap, kmem_ctx_capture_meta(ctx, &meta) == 0 ? &meta : NULL)
               ? EXIT_FAILURE
               : EXIT_SUCCESS;
}

static void on_capture_signal(int sig)
{
    capture_interrupted = sig;
}

/* Capture into @o->capture, or for a tarball into @tb's private directory. */
static int start_capture(struct kmem_ctx *ctx, const struct kt_opts *o, struct kt_tarball *tb)
{
    struct kmem_capture_opts co = {.replace = o->force && !tb, .command = o->command};
    int err;

    if (tb) {
        struct sigaction sa = {.sa_handler = on_capture_signal}; /* no SA_RESTART: sleep stops */

        err = kt_tarball_begin(tb, o);
        if (err)
            return err;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    err = kmem_ctx_capture_start(ctx, tb ? tb->capdir : o->capture, &co);
    if (!err)
        return 0;
    fprintf(stderr, "%s: %s\n", o->prog, kmem_strerror(ctx));
    if (err == -ENOTEMPTY && !o->force)
        fprintf(stderr, "%s: --force replaces an earlier capture (a directory with %s)\n", o->prog,
                "kmem-capture.txt");
    if (tb)
        kt_tarball_end(tb, ctx, o);
    return err;
}

/* After a capture: exit 1 on any failure; say how to replay it. */
static int finish_capture(struct kmem_ctx *ctx, const struct kt_opts *o, int rc,
                          struct kt_tarball *tb)
{
    const struct kmem_snapshot *snap = kmem_current(ctx);

    if (kmem_capture_status(ctx)) {
        fprintf(stderr, "%s: capture failed: %s\n", o->prog, kmem_strerror(ctx));
        rc = EXIT_FAILURE;
        goto out;
    }
    for (int p = 0; snap && p < KMEM_PART_COUNT; p++)
        if (snap->status[p].err)
            fprintf(stderr, "%s: warning: %s\n", o->prog, snap->status[p].msg);
    if (kmem_capture_unnamed(ctx))
        fprintf(stderr, "%s: warning: %zu files not captured: paths longer than PATH_MAX\n",
                o->prog, kmem_capture_unnamed(ctx));
    if (!tb) {
        fprintf(stderr, "%s: captured into %s; replay with: kmemtop --root %s\n", o->prog,
                o->capture, o->capture);
        return rc;
    }
    kmem_ctx_set_capture(ctx, NULL); /* every file closed before tar reads them */
    if (capture_interrupted || kt_tarball_pack(tb, o)) {
        if (capture_interrupted)
            fprintf(stderr, "%s: interrupted (%s): no tarball written\n", o->prog,
                    strsignal(capture_interrupted));
        rc = EXIT_FAILURE;
        goto out;
    }
    fprintf(stderr, "%s: captured into %s; replay with: tar -xzf %s && kmemtop --root %s\n",
            o->prog, tb->file, tb->file, tb->name);
out:
    if (tb && kt_tarball_end(tb, ctx, o))
        rc = EXIT_FAILURE;
    return rc;
}

int main(int argc, char **argv)
{
    struct kt_opts o = {.sort = 'o', .view = KT_VIEW_SLABS, .alloc_sort = 'n'};
    struct kmem_ctx *ctx;
    struct kt_tarball tarball, *tb = NULL;
    struct kt_source replay = {0};
    char err[512];
    const char *base = strrchr(argv[0], '/');
    /* A capture reads every part, whatever is printed, so that it replays everything. */
    unsigned flags;
    int rc;

    o.prog = base ? base + 1 : argv[0];
    /* "kmem-slabtop" is the name `make install` uses beside procps's slabtop. */
    o.slabtop_mode = strcmp(o.prog, "slabtop") == 0 || strcmp(o.prog, "kmem-slabtop") == 0;
    setlocale(LC_ALL, "");
    parse_opts(&o, argc, argv);

    if (o.record) {
        o.command = command_line(argc, argv);
        rc = kt_record_run(&o);
        free(o.command);
        return rc;
    }
    if (o.list)
        return kt_replay_list(&o);
    if (o.diff_a)
        return kt_diff_run(&o);
    if (o.openmetrics)
        return kt_openmetrics_run(&o);
    if (o.window && !o.report && !o.html) /* --html: --window bounds the growth chart */
        return kt_verdicts_run(&o);
    if (o.replay) {
        struct kt_source *g = &replay;

        if (kt_source_open(&o, o.replay, o.at, &replay))
            return EXIT_FAILURE;
        kt_source_guard(&g, 1);
        o.root = replay.root;
        kt_report_set_replay(o.replay, replay.when);
    }
    if (kmem_ctx_new(&ctx, o.root, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o.prog, err);
        kt_source_close(&replay);
        return EXIT_FAILURE;
    }
    if (o.capture) {
        o.command = command_line(argc, argv);
        tb = kt_is_tarball(o.capture) ? &tarball : NULL;
        if (start_capture(ctx, &o, tb)) {
            kmem_ctx_free(ctx);
            kt_source_close(&replay);
            free(o.command);
            return EXIT_FAILURE;
        }
    }
    flags = o.capture                   ? KMEM_COLLECT_ALL
            : o.by_cache                ? KMEM_COLLECT_OWNERS | KMEM_COLLECT_CGROUPS
            : o.view == KT_VIEW_CGROUPS ? KMEM_COLLECT_CGROUPS
            : o.view == KT_VIEW_NODE    ? KMEM_COLLECT_NODE | KMEM_COLLECT_SLAB
                                        : KMEM_COLLECT_SLAB;
    if (o.alloc_seconds > 0)
        rc = kt_alloc_once(ctx, &o);
    else if (o.html)
        rc = kt_html_run(ctx, &o);
    else if (o.report || o.json)
        rc = print_whole(ctx, &o);
    else if (o.once && o.view != KT_VIEW_SLABS)
        rc = print_view_once(ctx, &o, flags);
    else if (o.once)
        rc = print_slabs_once(ctx, &o, flags);
    else if (o.capture)
        rc = (collect(ctx, &o, KMEM_COLLECT_ALL), EXIT_SUCCESS); /* parts fail in warnings */
    else
        rc = kt_tui_run(ctx, &o);
    if (o.capture)
        rc = finish_capture(ctx, &o, rc, tb);
    kmem_ctx_free(ctx);
    if (o.window && o.report && rc == EXIT_SUCCESS)
        rc = kt_verdicts_run(&o); /* --report --window: the verdicts after the report */
    kt_source_close(&replay);
    free(o.command);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write error\n", o.prog);
        rc = EXIT_FAILURE;
    }
    return rc;
}
