/* SPDX-License-Identifier: MIT */
/*
 * Time travel in kmemtop --replay DIR. The TUI's context keeps reading one
 * directory (it holds descriptors on its files and directories); each step
 * rewrites that directory in place with a sample of the recording: files
 * truncated and rewritten, files and directories the sample lacks removed.
 * A step collects the previous sample, then the shown one, so CHANGE is
 * against the sample before; GROWTH is against the baseline sample (b).
 */
#define _XOPEN_SOURCE 700
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "kmemrec.h"
#include "out.h"
#include "recfmt.h"
#include "tui_replay.h"

#define PROMPT_MAX 64

struct kt_replay {
    struct kmem_recording *rec;
    char *root;
    size_t n, cur, base;
    bool prompting;
    char prompt[PROMPT_MAX];
    char note[160];
    /* the verdicts view (V): computed over [base, cur] when either moves */
    bool vshown, vvalid;
    struct kmem_verdicts vd;
    size_t vbase, vcur, vsel, vtop;
    double vsecs; /* what computing them took */
};

/* nftw has no user pointer: the file set and root of the sync under way. */
static const struct kmem_fileset *sync_fs;
static size_t sync_rootlen;

static int prune(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    const char *rel = path + sync_rootlen;

    (void)st;
    if (ftw->level == 0)
        return 0;
    while (*rel == '/')
        rel++;
    if (type == FTW_DP) {
        if (ftw->level > 1)
            rmdir(path); /* fails when something is left in it: fine */
        return 0;
    }
    if (!kmem_fs_find(sync_fs, rel))
        unlink(path);
    return 0;
}

static int mkdirs(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            *p = '/';
            return -errno;
        }
        *p = '/';
    }
    return 0;
}

/* Make @root hold exactly sample @i. */
static int load(struct kt_replay *r, size_t i)
{
    struct kmem_fileset fs = {0};
    char path[4400];
    int err = kmem_recording_load(r->rec, i, &fs);

    if (err) {
        snprintf(r->note, sizeof(r->note), "%s", kmem_recording_strerror(r->rec));
        goto out;
    }
    kmem_fs_sort(&fs);
    sync_fs = &fs;
    sync_rootlen = strlen(r->root);
    nftw(r->root, prune, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t k = 0; k < fs.n && !err; k++) {
        const struct kmem_fs_entry *e = &fs.v[k];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", r->root, e->path);
        err = mkdirs(path);
        if (err)
            break;
        if (e->kind == KMEM_FS_LINK) {
            unlink(path);
            if (symlink(e->data, path) < 0)
                err = -errno;
            continue;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            err = -errno;
            break;
        }
        for (size_t done = 0; done < e->len && !err;) {
            ssize_t w = write(fd, e->data + done, e->len - done);

            if (w < 0 && errno != EINTR)
                err = -errno;
            else if (w > 0)
                done += (size_t)w;
        }
        close(fd);
    }
    if (err)
        snprintf(r->note, sizeof(r->note), "cannot write %.100s: %s", path, strerror(-err));
out:
    kmem_fs_free(&fs);
    return err;
}

/* Show sample @i: collect the one before it, then it. */
static int show(struct kt_replay *r, size_t i, struct kmem_ctx *ctx, struct kt_history *h)
{
    if (load(r, i ? i - 1 : i))
        return -1;
    kmem_collect(ctx, KMEM_COLLECT_ALL);
    if (load(r, i))
        return -1;
    kmem_collect(ctx, KMEM_COLLECT_ALL);
    kt_hist_regrow(h, kmem_current(ctx));
    r->cur = i;
    return 0;
}

static int set_base(struct kt_replay *r, size_t i, struct kmem_ctx *ctx, struct kt_history *h)
{
    if (load(r, i))
        return -1;
    kmem_collect(ctx, KMEM_COLLECT_ALL);
    kt_hist_reset_base(h, kmem_current(ctx));
    r->base = i;
    return 0;
}

int kt_replay_open(struct kt_replay **out, const char *dir, const char *root, const char *at,
                   struct kmem_ctx *ctx, struct kt_history *h, char *err, size_t errlen)
{
    struct kt_replay *r = calloc(1, sizeof(*r));
    size_t start;
    int rc;

    *out = NULL;
    if (!r || !(r->root = strdup(root))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (kmem_recording_open(&r->rec, dir, err, errlen)) {
        kt_replay_free(r);
        return -1;
    }
    rc = kmem_recording_scan(r->rec, 0);
    r->n = rc ? 0 : kmem_recording_count(r->rec);
    if (r->n == 0) {
        snprintf(err, errlen, "%s: no sample to replay", dir);
        kt_replay_free(r);
        return -1;
    }
    start = r->n - 1;
    if (at && *at) { /* --at TIME: open there (main checked the time) */
        struct timespec now;
        uint64_t t;
        long i;

        clock_gettime(CLOCK_REALTIME, &now);
        if (kmem_parse_time(at, (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec, &t) ==
                0 &&
            (i = kmem_recording_find(r->rec, t)) >= 0)
            start = (size_t)i;
    }
    /* Every collection reads everything: a step is a new moment. */
    kmem_ctx_set_detail_interval(ctx, 0);
    kmem_ctx_set_owners_interval(ctx, 0);
    if (set_base(r, 0, ctx, h) || show(r, start, ctx, h)) {
        snprintf(err, errlen, "%s", r->note);
        kt_replay_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void kt_replay_free(struct kt_replay *r)
{
    if (!r)
        return;
    kmem_verdicts_free(&r->vd);
    kmem_recording_close(r->rec);
    free(r->root);
    free(r);
}

static void jump(struct kt_replay *r, long i, struct kmem_ctx *ctx, struct kt_history *h)
{
    if (i < 0)
        i = 0;
    if ((size_t)i >= r->n)
        i = (long)r->n - 1;
    r->note[0] = '\0';
    if ((size_t)i == r->cur)
        snprintf(r->note, sizeof(r->note), "%s",
                 i == 0 ? "already the oldest sample" : "already the newest sample");
    else
        show(r, (size_t)i, ctx, h);
}

static void prompt_done(struct kt_replay *r, struct kmem_ctx *ctx, struct kt_history *h)
{
    struct timespec now;
    uint64_t t;
    long i;

    r->prompting = false;
    clock_gettime(CLOCK_REALTIME, &now);
    if (kmem_parse_time(r->prompt, (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec,
                        &t)) {
        snprintf(r->note, sizeof(r->note),
                 "not a time: \"%.60s\" (YYYY-MM-DD HH:MM[:SS], or N{s,m,h,d} ago)", r->prompt);
        return;
    }
    i = kmem_recording_find(r->rec, t);
    if (i < 0) {
        snprintf(r->note, sizeof(r->note), "%.60s is before the first sample: showing it",
                 r->prompt);
        i = 0;
    } else {
        r->note[0] = '\0';
    }
    if ((size_t)i != r->cur)
        show(r, (size_t)i, ctx, h);
}

bool kt_replay_key(struct kt_replay *r, int c, struct kmem_ctx *ctx, struct kt_history *h)
{
    size_t l = strlen(r->prompt);

    if (r->prompting) {
        if (c == '\n' || c == '\r' || c == KEY_ENTER)
            prompt_done(r, ctx, h);
        else if (c == 27)
            r->prompting = false;
        else if ((c == KEY_BACKSPACE || c == 127 || c == 8) && l > 0)
            r->prompt[l - 1] = '\0';
        else if (c >= 0x20 && c < 0x7f && l + 1 < PROMPT_MAX)
            r->prompt[l] = (char)c, r->prompt[l + 1] = '\0';
        return true;
    }
    if (c != ERR && c != KEY_RESIZE)
        r->note[0] = '\0'; /* the message of the last key goes */
    if (r->vshown && r->vvalid && r->vd.n) {
        size_t last = r->vd.n - 1;

        if (c == KEY_UP || c == 'k') {
            r->vsel = r->vsel ? r->vsel - 1 : 0;
            return true;
        }
        if (c == KEY_DOWN || c == 'j') {
            r->vsel = r->vsel < last ? r->vsel + 1 : last;
            return true;
        }
        if (c == KEY_HOME) {
            r->vsel = 0;
            return true;
        }
        if (c == KEY_END) {
            r->vsel = last;
            return true;
        }
    }
    switch (c) {
    case 'V':
        r->vshown = !r->vshown;
        return true;
    case '[':
    case '<':
        jump(r, (long)r->cur - 1, ctx, h);
        return true;
    case ']':
    case '>':
        jump(r, (long)r->cur + 1, ctx, h);
        return true;
    case '{':
        jump(r, 0, ctx, h);
        return true;
    case '}':
        jump(r, (long)r->n - 1, ctx, h);
        return true;
    case 'T':
        r->prompting = true;
        r->prompt[0] = '\0';
        return true;
    case 'b':
        r->note[0] = '\0';
        if (set_base(r, r->cur, ctx, h) == 0)
            show(r, r->cur, ctx, h);
        return true;
    default:
        return false;
    }
}

void kt_replay_header(const struct kt_replay *r, char *out, size_t len)
{
    char when[32], base[32];

    kmem_format_time(kmem_recording_sample(r->rec, r->cur)->time_ns, when, sizeof(when));
    kmem_format_time(kmem_recording_sample(r->rec, r->base)->time_ns, base, sizeof(base));
    if (r->note[0])
        snprintf(out, len, "replay %s, sample %zu of %zu | %s", when, r->cur + 1, r->n, r->note);
    else
        snprintf(out, len,
                 "replay %s, sample %zu of %zu | CHANGE: %s | GROWTH: since %s (b) | [ ] step, "
                 "{ } ends, T time",
                 when, r->cur + 1, r->n, r->cur ? "since the sample before" : "none (first)", base);
}

const char *kt_replay_prompt(const struct kt_replay *r)
{
    return r->prompting ? r->prompt : NULL;
}

/* The window of the verdicts: the baseline to the sample shown, or, when the
 * baseline is not before it, the oldest sample to the sample shown. */
static void vwindow(const struct kt_replay *r, size_t *from, size_t *to)
{
    *to = r->cur;
    *from = r->base < r->cur ? r->base : 0;
}

static void vcompute(struct kt_replay *r)
{
    size_t from, to;
    struct timespec a, b;

    vwindow(r, &from, &to);
    if (r->vvalid && r->vbase == from && r->vcur == to)
        return;
    kmem_verdicts_free(&r->vd);
    memset(&r->vd, 0, sizeof(r->vd));
    clock_gettime(CLOCK_MONOTONIC, &a);
    r->vvalid = kmem_recording_verdicts(r->rec, kmem_recording_sample(r->rec, from)->time_ns,
                                        kmem_recording_sample(r->rec, to)->time_ns, &r->vd) == 0;
    clock_gettime(CLOCK_MONOTONIC, &b);
    r->vsecs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    r->vbase = from;
    r->vcur = to;
    r->vsel = r->vtop = 0;
}

bool kt_replay_verdicts_shown(const struct kt_replay *r)
{
    return r && r->vshown;
}

static const char *const vclass[KMEM_VERDICT_COUNT] = {
    [KMEM_VERDICT_NOISE] = "noise",
    [KMEM_VERDICT_RECLAIMABLE_WARMING] = "WARMING",
    [KMEM_VERDICT_LEAK_SUSPECT] = "LEAK",
    [KMEM_VERDICT_DYING_PINNED] = "DYING",
    [KMEM_VERDICT_GREW_NOT_STEADY] = "UNSTEADY",
};

/* One verdict: class, subject, growth, rate, time to the limit, name, pod. */
static void verdict_row(struct kt_sink *s, enum kt_attr attr, const struct kmem_verdict *v)
{
    char g[32], rate[32], lim[32], name[600], pod[800];

    kt_human_delta(g, sizeof(g), (double)v->growth);
    kt_human(rate, sizeof(rate), v->rate_per_hour);
    if (v->verdict == KMEM_VERDICT_LEAK_SUSPECT && v->hours_to_limit >= 0)
        snprintf(lim, sizeof(lim), "%.1fh", v->hours_to_limit);
    else
        snprintf(lim, sizeof(lim), "-");
    kt_printable(name, sizeof(name), v->name, KT_ESC_QMARK);
    kt_printable(pod, sizeof(pod), v->pod, KT_ESC_QMARK);
    kt_line(s, attr, "%-8s %-6s %8s %8s/h %8s %5zu  %s%s%s%s", vclass[v->verdict],
            kmem_verdict_subject_name[v->subject], g, rate, lim, v->points, name,
            *pod ? "  pod " : "", pod, v->pinned ? "  (pinned while used)" : "");
}

/* Under the list: the selected verdict's supporting numbers, its pod, its whole name. */
static void verdict_detail(struct kt_sink *s, const struct kmem_verdict *v)
{
    char a[32], b[32], h1[32], h2[32], lim[32], name[600], pod[800], text[1800];
    int n;

    kt_human(a, sizeof(a), v->first);
    kt_human(b, sizeof(b), v->last);
    kt_human_delta(h1, sizeof(h1), (double)v->growth_first_half);
    kt_human_delta(h2, sizeof(h2), (double)v->growth_second_half);
    kt_printable(name, sizeof(name), v->name, KT_ESC_QMARK);
    kt_printable(pod, sizeof(pod), v->pod, KT_ESC_QMARK);
    n = snprintf(text, sizeof(text), "%s %s%s%s: %s -> %s, halves %s then %s",
                 kmem_verdict_subject_name[v->subject], name, *pod ? ", pod " : "", pod, a, b, h1,
                 h2);
    if (v->verdict == KMEM_VERDICT_RECLAIMABLE_WARMING && n > 0 && (size_t)n < sizeof(text))
        n += snprintf(text + n, sizeof(text) - (size_t)n, ", %s; reclaim could free %s",
                      v->stabilised ? "stabilised" : "still growing",
                      kt_human(lim, sizeof(lim), v->reclaimable_bytes));
    if (v->verdict == KMEM_VERDICT_LEAK_SUSPECT && v->limit && n > 0 && (size_t)n < sizeof(text))
        n += snprintf(text + n, sizeof(text) - (size_t)n, ", limit %s",
                      kt_human(lim, sizeof(lim), (double)v->limit));
    if (*v->merged && n > 0 && (size_t)n < sizeof(text))
        snprintf(text + n, sizeof(text) - (size_t)n, ", merged: %s", v->merged);
    kt_line_wrap(s, KT_BOLD, text);
}

void kt_replay_verdicts_draw(struct kt_replay *r, struct kt_sink *s)
{
    char a[32], b[32];
    int rows;

    vcompute(r);
    kmem_format_time(kmem_recording_sample(r->rec, r->vbase)->time_ns, a, sizeof(a));
    kmem_format_time(kmem_recording_sample(r->rec, r->vcur)->time_ns, b, sizeof(b));
    if (!r->vvalid) {
        kt_line(s, KT_NORMAL, "verdicts %s to %s: no sample in the window", a, b);
        return;
    }
    kt_line(s, KT_NORMAL,
            "verdicts %s to %s: %zu shown, %zu noise hidden, %zu of %zu samples read in %.2fs "
            "(%s) | V back, Up/Down, Enter shows it",
            a, b, r->vd.n, r->vd.n_noise, r->vd.points, r->vd.samples, r->vsecs,
            r->base < r->cur ? "b baseline to shown" : "oldest to shown: no baseline before it");
    kt_line(s, KT_HEADING, "%-8s %-6s %8s %10s %8s %5s  %s", "VERDICT", "OF", "GROWTH", "RATE",
            "TO LIMIT", "PTS", "NAME");
    if (!r->vd.n) {
        kt_line(s, KT_NORMAL, "no growth beyond noise in this window");
        return;
    }
    rows = s->rows_left - 3; /* the "N more" line, the selected one's two lines */
    if (rows < 1)
        rows = 1;
    if (r->vsel < r->vtop)
        r->vtop = r->vsel;
    if (r->vsel >= r->vtop + (size_t)rows)
        r->vtop = r->vsel - (size_t)rows + 1;
    for (size_t i = r->vtop; i < r->vd.n && i < r->vtop + (size_t)rows; i++)
        verdict_row(s, i == r->vsel ? KT_SELECTED : KT_NORMAL, &r->vd.v[i]);
    if (r->vtop + (size_t)rows < r->vd.n)
        kt_line(s, KT_NORMAL, "%zu more", r->vd.n - r->vtop - (size_t)rows);
    verdict_detail(s, &r->vd.v[r->vsel < r->vd.n ? r->vsel : 0]);
}

int kt_replay_verdict_pick(const struct kt_replay *r, char *name, size_t len)
{
    const struct kmem_verdict *v;

    if (!r->vshown || !r->vvalid || r->vsel >= r->vd.n)
        return -1;
    v = &r->vd.v[r->vsel];
    snprintf(name, len, "%s", v->name);
    if (v->subject == KMEM_SUBJECT_CACHE) {
        char *dup = strchr(name, '#'); /* "name#dup": the cache's own name */

        if (dup)
            *dup = '\0';
    }
    return (int)v->subject;
}

void kt_replay_verdicts_hide(struct kt_replay *r)
{
    r->vshown = false;
}
