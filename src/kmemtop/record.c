/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --record DIR and --replay DIR (docs/recorder.md): the recording
 * loop, and turning a moment of a recording (or a capture) into a root
 * directory the ordinary outputs read.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmemtop.h"
#include "kmemrec.h"
#include "record.h"

static volatile sig_atomic_t record_stop;

static void on_stop(int sig)
{
    record_stop = sig;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void human(uint64_t b, char *out, size_t len)
{
    if (b >= 10ull << 20)
        snprintf(out, len, "%.1f MiB", (double)b / 1048576.0);
    else if (b >= 10ull << 10)
        snprintf(out, len, "%.1f KiB", (double)b / 1024.0);
    else
        snprintf(out, len, "%llu B", (unsigned long long)b);
}

int kt_record_run(struct kt_opts *o)
{
    struct kmem_recorder_opts ro = {
        .dir = o->record,
        .retain_seconds = o->retain_given ? o->retain : KMEM_REC_DEFAULT_RETAIN,
        .max_bytes = o->max_size_given ? o->max_size : KMEM_REC_DEFAULT_MAX_BYTES,
        .command = o->command,
    };
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: sleeps end at once */
    const struct kmem_recorder_stats *st;
    struct kmem_recorder *rec;
    struct kmem_ctx *ctx;
    char err[768], a[32], b[32];
    bool oom = false;
    int rc = EXIT_SUCCESS;

    if (kmem_ctx_new(&ctx, o->root, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        return EXIT_FAILURE;
    }
    if (kmem_recorder_open(&rec, &ro, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        kmem_ctx_free(ctx);
        return EXIT_FAILURE;
    }
    kmem_ctx_set_owners_interval(ctx, KMEM_REC_OWNERS_INTERVAL);
    kmem_ctx_set_owners_isolated(ctx, true); /* the recorder stays small (docs/recorder.md) */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (!o->record_quiet)
        fprintf(stderr,
                "%s: recording into %s every %ld s (stop with Ctrl-C); replay with: "
                "kmemtop --replay %s\n",
                o->prog, o->record, o->delay, o->record);
    for (unsigned long n = 0; !record_stop && (!o->record_count || n < o->record_count); n++) {
        uint64_t next;

        if (o->record_time_ns)
            kmem_recorder_set_time(rec, o->record_time_ns + n * (uint64_t)o->delay * 1000000000ull);
        if (kmem_recorder_sample(rec, ctx, oom)) {
            fprintf(stderr, "%s: %s\n", o->prog, kmem_recorder_strerror(rec));
            rc = EXIT_FAILURE;
            break;
        }
        oom = false;
        if (o->record_time_ns || (o->record_count && n + 1 == o->record_count))
            continue; /* synthetic time: no waiting */
        next = now_ns() + (uint64_t)o->delay * 1000000000ull;
        /* Between samples, watch the OOM-kill counters once a second. */
        while (!record_stop) {
            uint64_t t = now_ns();
            struct timespec ts;

            if (t >= next)
                break;
            t = next - t > 1000000000ull ? 1000000000ull : next - t;
            ts.tv_sec = (time_t)(t / 1000000000ull);
            ts.tv_nsec = (long)(t % 1000000000ull);
            nanosleep(&ts, NULL);
            if (kmem_recorder_oom_rose(rec)) {
                oom = true;
                break;
            }
        }
    }
    st = kmem_recorder_stats(rec);
    human(st->disk_bytes, a, sizeof(a));
    human(st->raw_bytes, b, sizeof(b));
    if (!o->record_quiet || rc)
        fprintf(stderr, "%s: %llu samples in %s (%s as captures), %llu marked for an OOM kill\n",
                o->prog, (unsigned long long)st->samples, a, b,
                (unsigned long long)st->oom_samples);
    kmem_recorder_close(rec);
    kmem_ctx_free(ctx);
    return rc;
}

/* ---- replay ------------------------------------------------------------- */

static void print_warnings(const struct kt_opts *o, const struct kmem_recording *r)
{
    const char *w = kmem_recording_warnings(r);

    while (*w) {
        size_t l = strcspn(w, "\n");

        fprintf(stderr, "%s: warning: %.*s\n", o->prog, (int)l, w);
        w += l + (w[l] == '\n');
    }
}

int kt_recording_open(const struct kt_opts *o, struct kmem_recording **out)
{
    char err[768];

    *out = NULL;
    if (kmem_recording_open(out, o->replay, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        return -1;
    }
    if (kmem_recording_scan(*out, 0)) {
        fprintf(stderr, "%s: %s\n", o->prog, kmem_recording_strerror(*out));
        kmem_recording_close(*out);
        *out = NULL;
        return -1;
    }
    print_warnings(o, *out);
    return 0;
}

/* The index of the sample for @when ("" or NULL: the newest), or -1 with a message. */
static long pick(const struct kt_opts *o, struct kmem_recording *r, const char *dir,
                 const char *when)
{
    uint64_t t = UINT64_MAX;
    long i;

    if (when && *when && kmem_parse_time(when, now_ns(), &t)) {
        fprintf(stderr,
                "%s: cannot read the time '%s': give YYYY-MM-DD HH:MM[:SS] (local time) or "
                "N{s,m,h,d} ago\n",
                o->prog, when);
        return -1;
    }
    if (kmem_recording_scan(r, t)) {
        fprintf(stderr, "%s: %s\n", o->prog, kmem_recording_strerror(r));
        return -1;
    }
    print_warnings(o, r);
    i = kmem_recording_find(r, t);
    if (i < 0) {
        char first[32];

        if (kmem_recording_count(r) == 0) {
            fprintf(stderr, "%s: %s holds no readable sample\n", o->prog, dir);
            return -1;
        }
        kmem_format_time(kmem_recording_sample(r, 0)->time_ns, first, sizeof(first));
        fprintf(stderr, "%s: %s: no sample at or before %s: the recording starts at %s\n", o->prog,
                dir, when, first);
        return -1;
    }
    return i;
}

int kt_source_open(const struct kt_opts *o, const char *dir, const char *when,
                   struct kt_source *src)
{
    struct kmem_recording *r;
    const struct kmem_rec_sample *s;
    char err[768];
    long i;

    memset(src, 0, sizeof(*src));
    if (!kmem_is_recording(dir)) {
        struct stat st;

        if (when && *when) {
            fprintf(stderr, "%s: %s is no recording (no kmem-*.seg): a time does not apply\n",
                    o->prog, dir);
            return -1;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: %s: %s\n", o->prog, dir,
                    stat(dir, &st) < 0 ? strerror(errno) : "not a directory");
            return -1;
        }
        src->root = strdup(dir);
        snprintf(src->label, sizeof(src->label), "%s", dir);
        return src->root ? 0 : -1;
    }
    if (kmem_recording_open(&r, dir, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        return -1;
    }
    i = pick(o, r, dir, when);
    if (i < 0) {
        kmem_recording_close(r);
        return -1;
    }
    s = kmem_recording_sample(r, (size_t)i);
    src->time_ns = s->time_ns;
    src->flags = s->flags;
    if (asprintf(&src->root, "%s/kmem-replay.XXXXXX", kmem_rec_tmpdir()) < 0) {
        src->root = NULL;
        kmem_recording_close(r);
        return -1;
    }
    if (kmem_recording_materialize(r, (size_t)i, src->root)) {
        fprintf(stderr, "%s: %s\n", o->prog, kmem_recording_strerror(r));
        free(src->root);
        src->root = NULL;
        kmem_recording_close(r);
        return -1;
    }
    src->temporary = true;
    kmem_format_time(s->time_ns, src->when, sizeof(src->when));
    snprintf(src->label, sizeof(src->label), "%s at %s", dir, src->when);
    kmem_recording_close(r);
    return 0;
}

int kt_source_guard(struct kt_source *const *srcs, int n)
{
    bool any = false;
    pid_t pid;
    int status;

    for (int i = 0; i < n; i++)
        any |= srcs[i]->temporary;
    if (!any)
        return 0;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return 0; /* no guard: removed at a normal exit only */
    if (pid == 0) {
        for (int i = 0; i < n; i++)
            srcs[i]->temporary = false; /* the parent removes them */
        return 0;
    }
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < n; i++)
        kt_source_close(srcs[i]);
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
        _exit(128 + WTERMSIG(status));
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE);
}

void kt_source_close(struct kt_source *src)
{
    if (src->temporary && src->root)
        kmem_rec_remove_tree(src->root);
    free(src->root);
    memset(src, 0, sizeof(*src));
}

int kt_replay_list(const struct kt_opts *o)
{
    struct kmem_recording *r;
    char when[32];

    if (kt_recording_open(o, &r))
        return EXIT_FAILURE;
    for (size_t i = 0; i < kmem_recording_count(r); i++) {
        const struct kmem_rec_sample *s = kmem_recording_sample(r, i);

        kmem_format_time(s->time_ns, when, sizeof(when));
        printf("%s  %10u  %8u%s%s\n", when, s->raw_len, s->comp_len,
               s->flags & KMEM_REC_KEYFRAME ? "  keyframe"
               : s->flags & KMEM_REC_CHAIN  ? "  chained"
                                            : "",
               s->flags & KMEM_REC_OOM ? "  oom-kill" : "");
    }
    kmem_recording_close(r);
    return EXIT_SUCCESS;
}
