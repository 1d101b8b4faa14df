// SPDX-License-Identifier: MIT
/*
 * kmem_exporter: Prometheus exporter of kernel memory (slab caches, node
 * kinds, memory cgroups). Flags and setup; the rest lives in collectors.c
 * (the collector table), collect.c (shared collection), metrics*.c and
 * allocmetrics.c (families), expo.c (text format), http.c
 * (server), webconfig.c/auth.c (web config, basic auth), privs.c (--run-as).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect.h"
#include "collectors.h"
#include "http.h"
#include "log.h"
#include "privs.h"
#include "trim.h"
#include "webconfig.h"
#include "record.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "unknown"
#endif

#define PROG           "kmem_exporter"
#define DEFAULT_LISTEN ":10465"

struct options {
    const char *listen;
    const char *path;
    const char *web_config;
    const char *root;
    const char *procfs;
    const char *sysfs;
    bool once;
    const char *textfile;
    double min_interval;
    double read_timeout;
    const char *include;
    const char *exclude;
    const char *run_as;
    bool timestamps;
    const char *cadvisor_compat;
    unsigned max_conns;
    unsigned max_conns_per_ip;
    long bench; /* hidden: N collect+render cycles, then CPU figures */
    const char *log_level;
    const char *log_format;
    bool collector[KX_COLLECTORS_MAX]; /* --[no-]collector.<name>, indexed like kx_collectors */
    bool slab_empty, slab_static, slab_ne_names;
    unsigned slab_top; /* --collector.slabinfo.top: 0 every cache */
    bool cg_v1_sock, cg_dying;
    unsigned cg_budget_mib; /* --collector.cgroup.series-budget; 0: the default */
    const char *record_dir; /* --record.dir: the flight recorder (record.c) */
    double record_interval;
    const char *record_retain, *record_max_size;
};

#define OFF(f) offsetof(struct options, f), NULL
static const struct kx_flag main_flags[] = {
    {"web.listen-address", KX_F_STR, OFF(listen), "HOST:PORT",
     "Address on which to expose metrics and the landing page (default " DEFAULT_LISTEN ").", 0},
    {"web.telemetry-path", KX_F_STR, OFF(path), "PATH",
     "Path under which to expose metrics (default /metrics).", 0},
    {"web.config.file", KX_F_STR, OFF(web_config), "FILE",
     "exporter-toolkit web configuration: TLS and basic authentication.", 0},
    {"web.timestamps", KX_F_BOOL, OFF(timestamps), NULL,
     "Put millisecond timestamps on container_memory_kernel_usage samples, as cAdvisor does.", 0},
    {"web.max-connections", KX_F_UINT, OFF(max_conns), "N",
     "Maximum number of open HTTP connections (default 512).", 0},
    {"web.max-connections-per-ip", KX_F_UINT, OFF(max_conns_per_ip), "N",
     "Maximum number of open HTTP connections from one address (default 8).", 0},
    {"root", KX_F_STR, OFF(root), "DIR", "Read DIR/proc, DIR/sys and DIR/var/log instead of /.", 0},
    {"path.procfs", KX_F_STR, OFF(procfs), "DIR", "procfs mountpoint (default ROOT/proc).", 0},
    {"path.sysfs", KX_F_STR, OFF(sysfs), "DIR", "sysfs mountpoint (default ROOT/sys).", 0},
    {"once", KX_F_BOOL, OFF(once), NULL, "Write one exposition to stdout and exit.", 0},
    {"textfile", KX_F_STR, OFF(textfile), "FILE",
     "Write one exposition atomically to FILE (for node_exporter's textfile collector) and "
     "exit.",
     0},
    {"web.read-timeout", KX_F_SECONDS, OFF(read_timeout), "SECONDS",
     "Time a client has to send a whole request, from its connection or its previous "
     "response (default 5s); a connection that misses it is closed.",
     0},
    {"collect.min-interval", KX_F_SECONDS, OFF(min_interval), "SECONDS",
     "Reuse a collection younger than this for further scrapes (default 1; 0 = never; at most "
     "1h).",
     0},
    {"collector.slabinfo.include", KX_F_STR, OFF(include), "REGEX",
     "Only export slab caches whose whole name matches this regular expression (RE2 syntax).", 0},
    {"collector.slabinfo.exclude", KX_F_STR, OFF(exclude), "REGEX",
     "Do not export slab caches whose whole name matches this regular expression.", 0},
    {"collector.slabinfo.top", KX_F_UINT, OFF(slab_top), "N",
     "Export the N largest slab caches by size (after include/exclude) and the rest summed "
     "as cache=\"other\" (default 0: every cache).",
     0},
    {"collector.slabinfo.empty", KX_F_BOOL, OFF(slab_empty), NULL,
     "Also export slab caches that hold no object (all their series 0; default: off).", 0},
    {"collector.slabinfo.static-families", KX_F_BOOL, OFF(slab_static), NULL,
     "Also export kmem_slab_object_size_bytes, kmem_slab_objects_per_slab and "
     "kmem_slab_pages_per_slab (the labels of kmem_slab_info; default: off).",
     0},
    {"collector.slabinfo.node-exporter-names", KX_F_BOOL, OFF(slab_ne_names), NULL,
     "Also export node_exporter's node_slabinfo_* families (label slab) for existing "
     "dashboards (default: off).",
     0},
    {"collector.cgroup.v1-sock", KX_F_BOOL, OFF(cg_v1_sock), NULL,
     "cgroup v1: also read memory.kmem.tcp.usage_in_bytes of every cgroup for "
     "kmem_cgroup_sock_bytes (v2 has it in memory.stat; default: off).",
     0},
    {"collector.cgroup.dying-descendants", KX_F_BOOL, OFF(cg_dying), NULL,
     "cgroup v2: also read cgroup.stat of every cgroup for kmem_cgroup_dying_descendants (the "
     "root's is always read; default: off).",
     0},
    {"collector.cgroup.series-budget", KX_F_UINT, OFF(cg_budget_mib), "MIB",
     "The cgroup series of one scrape at most about this size (default 6 MiB): beyond it "
     "cgroups are left out, deepest first, and counted in "
     "kmem_cgroups_skipped{reason=\"over_budget\"}.",
     0},
    {"collector.cadvisor-compat", KX_F_STR, OFF(cadvisor_compat), "auto|always|never",
     "When to emit container_memory_kernel_usage: auto (default) only on cgroup v2, where "
     "the kubelet reports 0.",
     0},
    {"run-as", KX_F_STR, OFF(run_as), "USER",
     "After binding the port, switch to USER keeping only CAP_DAC_READ_SEARCH.", 0},
    {"log.level", KX_F_STR, OFF(log_level), "LEVEL",
     "Only log messages with the given severity or above: debug, info, warn, error (default "
     "info).",
     0},
    {"log.format", KX_F_STR, OFF(log_format), "FORMAT",
     "Output format of log messages: logfmt or json (default logfmt).", 0},
    {"record.dir", KX_F_STR, OFF(record_dir), "DIR",
     "Record every --record.interval into DIR while serving, as kmemtop --record DIR does "
     "(replay with kmemtop --replay DIR).",
     0},
    {"record.interval", KX_F_SECONDS, OFF(record_interval), "SECONDS",
     "Seconds between two samples of --record.dir (default 10).", 0},
    {"record.retain", KX_F_STR, OFF(record_retain), "DURATION",
     "Remove recorded segments older than this (default 7d; 0 keeps them).", 0},
    {"record.max-size", KX_F_STR, OFF(record_max_size), "SIZE",
     "Remove the oldest recorded segments beyond this total (default 256MiB; 0: no limit).", 0},
    {"bench", KX_F_LONG, OFF(bench), "N", "Run N collections and print their CPU cost.", 1},
};

/* Every flag: main_flags, then per collector its --[no-]collector.<name> and its own flags. */
#define FLAGS_MAX 128
static struct kx_flag flags[FLAGS_MAX];
static size_t nflags;
static char collector_flag_name[KX_COLLECTORS_MAX][64];
static char collector_flag_help[KX_COLLECTORS_MAX][320];

static void add_flag(const struct kx_flag *fl)
{
    assert(nflags < FLAGS_MAX); /* raise FLAGS_MAX */
    flags[nflags++] = *fl;
}

static void build_flags(struct options *o)
{
    size_t m = 0, nmain = sizeof(main_flags) / sizeof(main_flags[0]);
    /* The collectors come first among the collector.* flags. */
    while (m < nmain && strncmp(main_flags[m].name, "collector.", 10) != 0)
        add_flag(&main_flags[m++]);
    for (size_t i = 0; i < kx_ncollectors; i++) {
        const struct kx_collector_def *d = &kx_collectors[i];
        o->collector[i] = d->default_on;
        snprintf(collector_flag_name[i], sizeof(collector_flag_name[i]), "collector.%s", d->name);
        snprintf(collector_flag_help[i], sizeof(collector_flag_help[i]),
                 "Enable the %s collector: %s (default: %s).", d->name, d->help,
                 d->default_on ? "enabled" : "disabled");
        add_flag(&(struct kx_flag){collector_flag_name[i], KX_F_BOOL, 0, &o->collector[i], NULL,
                                   collector_flag_help[i], false});
        for (const struct kx_flag *fl = d->flags; fl && fl->name; fl++)
            add_flag(fl);
    }
    while (m < nmain)
        add_flag(&main_flags[m++]);
}

/* Where the value of @fl is stored. */
static void *flag_ptr(struct options *o, const struct kx_flag *fl)
{
    return fl->ptr ? fl->ptr : (char *)o + fl->off;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " [<flags>]\n\n"
               "Prometheus exporter of Linux kernel memory: slab caches, node kernel memory by\n"
               "kind, kernel memory of memory cgroups (container_memory_kernel_usage).\n\n"
               "Flags:\n"
               "  -h, --help                     Show this help and exit.\n"
               "      --version                  Show the version and exit.\n");
    for (size_t i = 0; i < nflags; i++) {
        const struct kx_flag *fl = &flags[i];
        if (fl->hidden)
            continue;
        char left[64];
        if (fl->kind == KX_F_BOOL)
            snprintf(left, sizeof(left), "--[no-]%s", fl->name);
        else
            snprintf(left, sizeof(left), "--%s=%s", fl->name, fl->arg);
        fprintf(f, "      %-*s %s\n", 40, left, fl->help);
    }
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* One line, as node_exporter's (kingpin): the usage is --help's. */
    fprintf(stderr, ", try --help\n");
    return 2;
}

#define MAX_SECONDS 3600 /* longest --collect.min-interval: an hour */

/* "1", "0.5", "1s", "500ms", "2m", "1h": a decimal number (no sign, no hex,
 * no inf or nan) and a unit, at most MAX_SECONDS. */
static int parse_seconds(const char *s, double *out)
{
    char *end;
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return -EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0 || strpbrk(s, "xXpPnNiI"))
        return -EINVAL;
    if (!strcmp(end, "ms"))
        v /= 1000;
    else if (!strcmp(end, "m"))
        v *= 60;
    else if (!strcmp(end, "h"))
        v *= 3600;
    else if (*end && strcmp(end, "s"))
        return -EINVAL;
    if (!isfinite(v) || v > MAX_SECONDS)
        return -EINVAL;
    *out = v;
    return 0;
}

static int set_flag(struct options *o, const struct kx_flag *fl, const char *v)
{
    char *p = flag_ptr(o, fl);
    char *end;
    switch (fl->kind) {
    case KX_F_STR:
        *(const char **)p = v;
        return 0;
    case KX_F_BOOL:
        return 0;
    case KX_F_SECONDS:
        return parse_seconds(v, (double *)p);
    case KX_F_UINT: {
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (!*v || *end || errno || n == 0 || n > 100000 || *v == '-')
            return -EINVAL;
        *(unsigned *)p = (unsigned)n;
        return 0;
    }
    case KX_F_LONG: {
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno || n <= 0)
            return -EINVAL;
        *(long *)p = n;
        return 0;
    }
    }
    return -EINVAL;
}

/* 0 to go on, or an exit status (+1 so that 0 can mean "exit 0"). */
static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--version")) {
            printf(PROG ", version " KMEM_VERSION "\n");
            return 1;
        }
        if (strncmp(a, "--", 2) || !a[2])
            return 1 + usage_error("unexpected argument '%s'", a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        bool negated = false;
        const struct kx_flag *fl = NULL;
        for (int pass = 0; pass < 2 && !fl; pass++) {
            const char *n = name;
            size_t l = nlen;
            if (pass == 1) {
                if (nlen <= 3 || strncmp(name, "no-", 3))
                    break;
                n += 3;
                l -= 3;
            }
            for (size_t k = 0; k < nflags; k++) {
                if (strlen(flags[k].name) == l && !strncmp(flags[k].name, n, l) &&
                    (pass == 0 || flags[k].kind == KX_F_BOOL)) {
                    fl = &flags[k];
                    negated = pass == 1;
                }
            }
        }
        if (!fl)
            return 1 + usage_error("unknown long flag '%s'", a);
        if (fl->kind == KX_F_BOOL) {
            if (eq) {
                if (!strcmp(eq + 1, "true"))
                    *(bool *)flag_ptr(o, fl) = !negated;
                else if (!strcmp(eq + 1, "false"))
                    *(bool *)flag_ptr(o, fl) = negated;
                else
                    return 1 + usage_error("flag '--%s' takes true or false, not '%s'", fl->name,
                                           eq + 1);
            } else {
                *(bool *)flag_ptr(o, fl) = !negated;
            }
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc)
                return 1 + usage_error("expected argument for flag '--%s'", fl->name);
            v = argv[++i];
            /* A flag missing its value must not swallow the next flag (which
             * would then silently not apply: --web.config.file, --run-as). */
            if (!strncmp(v, "--", 2))
                return 1 + usage_error("flag '--%s' needs a value, got the flag '%s' (write "
                                       "--%s=%s if that is the value)",
                                       fl->name, v, fl->name, v);
        }
        if (set_flag(o, fl, v))
            return 1 + usage_error("invalid value '%s' for flag '--%s'%s", v, fl->name,
                                   fl->kind == KX_F_SECONDS
                                       ? " (a duration from 0 to 1h, such as 1, 0.5, 500ms, 2m)"
                                       : "");
    }
    if (o->once && o->textfile)
        return 1 + usage_error("--once and --textfile are exclusive");
    enum kx_log_level level;
    enum kx_log_format format;
    if (kx_log_parse_level(o->log_level, &level))
        return 1 + usage_error("invalid value '%s' for flag '--log.level' (debug, info, warn, "
                               "error)",
                               o->log_level);
    if (kx_log_parse_format(o->log_format, &format))
        return 1 + usage_error("invalid value '%s' for flag '--log.format' (logfmt, json)",
                               o->log_format);
    kx_log_setup(level, format, STDERR_FILENO);
    return 0;
}

/* ---- --root / --path.procfs / --path.sysfs ---- */

/* Each given directory must exist now: a typo should stop the start, not fail every scrape. */
static int check_paths(const struct options *o, char *err, size_t errlen)
{
    const struct {
        const char *flag, *dir;
    } dirs[] = {{"--root", o->root}, {"--path.procfs", o->procfs}, {"--path.sysfs", o->sysfs}};
    struct stat st;

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if (!dirs[i].dir)
            continue;
        if (stat(dirs[i].dir, &st) < 0) {
            int e = errno;
            snprintf(err, errlen, "%s %.512s: %s", dirs[i].flag, dirs[i].dir, strerror(e));
            return -e;
        }
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s %.512s: not a directory", dirs[i].flag, dirs[i].dir);
            return -ENOTDIR;
        }
    }
    return 0;
}

/* ---- one-shot outputs ---- */

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Temp file in the same directory, fsync, rename, fsync the directory. */
static int write_textfile(const char *path, const char *data, size_t len)
{
    char *d1 = strdup(path), *d2 = strdup(path);
    char *tmp = NULL;
    int r = 0, fd = -1;
    if (!d1 || !d2)
        goto out_nomem;
    const char *dir = dirname(d1), *base = basename(d2);
    /* A hidden name: node_exporter only reads *.prom files. */
    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
        tmp = NULL;
        goto out_nomem;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        goto out_free;
    }
    r = write_all(fd, data, len);
    if (!r && fchmod(fd, 0644))
        r = -errno;
    if (!r && fsync(fd))
        r = -errno;
    if (close(fd) && !r)
        r = -errno;
    if (!r && rename(tmp, path))
        r = -errno;
    if (r) {
        unlink(tmp);
        goto out_free;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    goto out_free;
out_nomem:
    r = -ENOMEM;
out_free:
    free(tmp);
    free(d1);
    free(d2);
    return r;
}

static int run_once(struct kx_collector *c, const char *textfile)
{
    struct kx_blob *b;
    int r = kx_collector_refresh(c, &b);
    if (r) {
        kx_log(KX_LOG_ERROR, "Rendering failed", "err", strerror(-r), NULL);
        return 1;
    }
    size_t len;
    const char *text = kx_blob_text(b, &len);
    if (textfile)
        r = write_textfile(textfile, text, len);
    else
        r = write_all(STDOUT_FILENO, text, len);
    if (r)
        kx_log(KX_LOG_ERROR, "Writing the exposition failed", "file",
               textfile ? textfile : "stdout", "err", strerror(-r), NULL);
    const char *msg;
    bool ok = kx_blob_ok(b, &msg);
    if (!ok)
        kx_log(KX_LOG_ERROR, "Collection incomplete", "err", msg, NULL);
    kx_blob_put(b);
    return r || !ok ? 1 : 0;
}

static int run_bench(struct kx_collector *c, long n)
{
    struct rusage r0, r1;
    size_t bytes = 0;
    getrusage(RUSAGE_SELF, &r0);
    for (long i = 0; i < n; i++) {
        struct kx_blob *b;
        int r = kx_collector_refresh(c, &b);
        if (r) {
            kx_log(KX_LOG_ERROR, "Benchmark collection failed", "err", strerror(-r), NULL);
            return 1;
        }
        kx_blob_text(b, &bytes);
        kx_blob_put(b);
    }
    getrusage(RUSAGE_SELF, &r1);
    double u = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
               (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6;
    double s = (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
               (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    printf("cycles=%ld user_s=%.6f sys_s=%.6f cpu_per_cycle_ms=%.4f bytes=%zu maxrss_kib=%ld\n", n,
           u, s, (u + s) * 1000 / (double)n, bytes, r1.ru_maxrss);
    return 0;
}

/* ---- the server ---- */

static void blob_release(void *blob)
{
    kx_blob_put(blob);
}

static int metrics_body(void *cls, bool gzip, struct kx_body *out, char *err, size_t errlen)
{
    struct kx_collector *c = cls;
    struct kx_blob *b;
    int r = kx_collector_get(c, &b);
    if (r) {
        snprintf(err, errlen, "collection failed: %s", strerror(-r));
        return r;
    }
    out->data = kx_blob_text(b, &out->len);
    out->gzip = false;
    if (gzip && kx_blob_gzip(b, &out->data, &out->len) == 0)
        out->gzip = true;
    else
        out->data = kx_blob_text(b, &out->len);
    out->release = blob_release;
    out->ref = b;
    return 0;
}

static bool collector_ready(void *cls)
{
    return kx_collector_ready(cls);
}

static int serve(const struct options *o, struct kx_collector *c, const struct kx_webconfig *web,
                 struct kx_auth *auth, int fd)
{
    char err[512];
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the server threads */

    struct kx_http_opts ho = {
        .listen_fd = fd,
        .telemetry_path = o->path,
        .web = web,
        .auth = auth,
        .conn_limit = o->max_conns,
        .per_ip_limit = o->max_conns_per_ip,
        .timeout_s = 10,
        .header_timeout_ms = o->read_timeout > 0 ? (unsigned)(o->read_timeout * 1000) : 5000,
        /* Over 32 KiB, libmicrohttpd maps each connection's memory with
         * mmap(2), returned at close; at 32 KiB or less it mallocs it, and
         * a burst of 512 connections leaves ~16 MiB of heap resident. */
        .conn_memory_limit = 36 * 1024,
        .threads = 2,
        .metrics = metrics_body,
        .metrics_cls = c,
        .ready = collector_ready,
    };
    struct kx_http *h;
    if (kx_http_start(&h, &ho, err, sizeof(err))) {
        kx_log(KX_LOG_ERROR, "Starting the HTTP server failed", "err", err, NULL);
        return 1;
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", kx_http_port(fd));
    kx_log(KX_LOG_INFO, "Listening on", "address", o->listen, "port", port, "tls",
           web && web->tls ? "true" : "false", "basic_auth",
           auth && kx_auth_enabled(auth) ? "true" : "false", "metrics_path", o->path, NULL);
    /* One collection warms every code path a scrape takes; then the pages
     * only start-up needed are given back (trim.h). */
    struct kx_blob *warm = NULL;
    if (kx_collector_get(c, &warm) == 0)
        kx_blob_put(warm);
    kx_trim_rss();
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        kx_log(KX_LOG_WARN, "SIGHUP ignored: restart to reload the web configuration", NULL);
    unsigned long cut, busy;
    kx_http_stats(h, &cut, &busy);
    char ssig[16], scut[24], sbusy[24];
    snprintf(ssig, sizeof(ssig), "%s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    snprintf(scut, sizeof(scut), "%lu", cut);
    snprintf(sbusy, sizeof(sbusy), "%lu", busy);
    kx_log(KX_LOG_INFO, "Stopping", "signal", ssig, "connections_cut_at_deadline", scut,
           "password_checks_refused", sbusy, NULL);
    kx_http_stop(h);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {
        .listen = DEFAULT_LISTEN,
        .path = "/metrics",
        .min_interval = 1,
        .read_timeout = 5,
        .max_conns = 512,
        .max_conns_per_ip = 8,
        .log_level = "info",
        .log_format = "logfmt",
    };
    char err[1024] = "";
    int status = 1;
    struct kx_webconfig web;
    struct kx_filter filter;
    struct kx_auth *auth = NULL;
    struct kx_collector *c = NULL;
    void *state[KX_COLLECTORS_MAX] = {0};
    int fd = -1;

    build_flags(&o);
    int pr = parse_args(argc, argv, &o);
    if (pr)
        return pr - 1;
    if (o.path[0] != '/')
        return usage_error("--web.telemetry-path '%s' must start with '/'", o.path);
    if (!strcmp(o.path, KX_HTTP_HEALTHY_PATH) || !strcmp(o.path, KX_HTTP_READY_PATH))
        return usage_error("--web.telemetry-path '%s' is the path of a probe", o.path);
    uid_t run_uid;
    gid_t run_gid;
    if (o.run_as && kx_privs_lookup(o.run_as, &run_uid, &run_gid, err, sizeof(err)) == 0 &&
        run_uid == 0)
        return usage_error("--run-as %s: that is uid 0, which keeps root's files writable; name "
                           "an unprivileged user such as nobody",
                           o.run_as);
    if (o.record_dir && o.run_as)
        return usage_error("--record.dir cannot be combined with --run-as (the recorder writes "
                           "DIR as the user that starts it; run it under that user instead)");
    if ((o.record_interval || o.record_retain || o.record_max_size) && !o.record_dir)
        return usage_error("--record.interval, --record.retain and --record.max-size go with "
                           "--record.dir DIR");
    /* A collector that needs privileges after the drop (a BPF tracer's maps). */
    for (size_t i = 0; i < kx_ncollectors; i++)
        if (o.collector[i] && o.run_as && kx_collectors[i].refuses_run_as)
            return usage_error("--collector.%s cannot be combined with --run-as (%s)",
                               kx_collectors[i].name, kx_collectors[i].refuses_run_as);

    signal(SIGPIPE, SIG_IGN);
    /* One malloc arena: the server threads allocate little (the exposition
     * is shared), and every extra arena keeps its own free pages resident. */
    mallopt(M_ARENA_MAX, 1);
    /* Expositions (~100 KiB) get their own mappings, returned when freed. */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024);

    enum kx_cadvisor_compat compat = KX_CADVISOR_AUTO;
    if (o.cadvisor_compat && kx_cadvisor_compat_parse(o.cadvisor_compat, &compat))
        return usage_error("invalid value '%s' for flag '--collector.cadvisor-compat' (auto, "
                           "always or never)",
                           o.cadvisor_compat);

    kx_webconfig_init(&web);
    if (kx_filter_init(&filter, o.include, o.exclude, err, sizeof(err))) {
        kx_log(KX_LOG_ERROR, "Invalid cache filter", "err", err, NULL);
        return 2;
    }
    bool server = !o.once && !o.textfile && !o.bench;
    if (server && o.web_config && kx_webconfig_load(o.web_config, &web, err, sizeof(err))) {
        kx_log(KX_LOG_ERROR, "Invalid web configuration", "err", err, NULL);
        goto out_free;
    }
    for (const char *w = web.warnings; w && *w;) {
        int n = (int)strcspn(w, "\n");
        char line[1024];
        snprintf(line, sizeof(line), "%.*s", n, w);
        kx_log(KX_LOG_WARN, "Web configuration", "warning", line, NULL);
        w += n + (w[n] == '\n');
    }
    if (kx_auth_new(&auth, &web)) {
        kx_log(KX_LOG_ERROR, "Out of memory", NULL);
        goto out_free;
    }
    if (check_paths(&o, err, sizeof(err))) {
        kx_log(KX_LOG_ERROR, "Invalid path", "err", err, NULL);
        goto out_free;
    }
    struct kx_collector_opts co = {
        .paths = {.root = o.root, .procfs = o.procfs, .sysfs = o.sysfs},
        .min_interval = o.bench ? 0 : o.min_interval,
        .render =
            {
                .filter = &filter,
                /* node_exporter's textfile collector rejects timestamps, and
                 * its own process_* series would collide with ours. */
                .timestamps = o.timestamps && !o.textfile,
                .process = server || o.bench,
                .slab = {.empty = o.slab_empty,
                         .top = o.slab_top,
                         .static_families = o.slab_static,
                         .node_exporter_names = o.slab_ne_names},
                .cadvisor_compat = compat,
                .cg_budget = (size_t)o.cg_budget_mib << 20,
            },
        .log_errors = server,
        .cg_extras =
            (o.cg_v1_sock ? KMEM_CG_EXTRA_SOCK : 0u) | (o.cg_dying ? KMEM_CG_EXTRA_DYING : 0u),
    };
    for (size_t i = 0; i < kx_ncollectors; i++) {
        const struct kx_collector_def *d = &kx_collectors[i];
        if (!o.collector[i]) {
            co.render.disabled |= 1u << i;
            continue;
        }
        if (!d->start)
            continue;
        /* A source that cannot load is reported per scrape (kmem_collector_success 0). */
        err[0] = '\0';
        if (d->start(&state[i], err, sizeof(err))) {
            kx_log(KX_LOG_ERROR, "Out of memory", "collector", d->name, NULL);
            goto out_free;
        }
        if (err[0])
            kx_log(KX_LOG_WARN, "Collector cannot collect", "collector", d->name, "warning", err,
                   NULL);
        err[0] = '\0';
        co.state[i] = state[i];
    }
    int r = kx_collector_new(&c, &co, err, sizeof(err));
    if (r) {
        kx_log(KX_LOG_ERROR, "Cannot collect", "err", err[0] ? err : strerror(-r), NULL);
        goto out_free;
    }
    if (o.bench) {
        status = run_bench(c, o.bench);
        goto out_free;
    }
    if (!server) {
        status = run_once(c, o.textfile);
        goto out_free;
    }

    if (server) {
        char enabled[256] = "", disabled[256] = "";
        for (size_t i = 0; i < kx_ncollectors; i++) {
            char *l = o.collector[i] ? enabled : disabled;
            size_t n = strlen(l);
            snprintf(l + n, sizeof(enabled) - n, "%s%s", n ? "," : "", kx_collectors[i].name);
        }
        kx_log(KX_LOG_INFO, "Starting kmem_exporter", "version", KMEM_VERSION, NULL);
        kx_log(KX_LOG_INFO, "Collectors", "enabled", enabled, "disabled", disabled, NULL);
    }
    fd = kx_http_listen(o.listen, err, sizeof(err));
    if (fd < 0) {
        kx_log(KX_LOG_ERROR, "Cannot listen", "err", err, NULL);
        goto out_free;
    }
    if (o.run_as) {
        if (kx_privs_drop(o.run_as, err, sizeof(err))) {
            kx_log(KX_LOG_ERROR, "Cannot drop privileges", "err", err, NULL);
            goto out_free;
        }
    }
    struct kx_recorder *rec = NULL;
    if (o.record_dir) {
        struct kx_record_opts ro = {
            .dir = o.record_dir,
            .interval = o.record_interval,
            .retain = o.record_retain,
            .max_size = o.record_max_size,
            .paths = {.root = o.root, .procfs = o.procfs, .sysfs = o.sysfs},
            .command = "kmem_exporter --record.dir",
        };
        if (kx_record_start(&rec, &ro, err, sizeof(err))) {
            kx_log(KX_LOG_ERROR, "Cannot record", "dir", o.record_dir, "err", err, NULL);
            goto out_free;
        }
        kx_log(KX_LOG_INFO, "Recording", "dir", o.record_dir, NULL);
    }
    status = serve(&o, c, &web, auth, fd);
    fd = -1; /* the server closed it */
    kx_record_stop(rec);

out_free:
    if (fd >= 0)
        close(fd);
    kx_collector_free(c);
    for (size_t i = 0; i < kx_ncollectors; i++)
        if (state[i])
            kx_collectors[i].stop(state[i]);
    kx_auth_free(auth);
    kx_filter_free(&filter);
    kx_webconfig_free(&web);
    return status;
}
