/* SPDX-License-Identifier: MIT */
/*
 * Interactive ncurses views: slab caches, cgroups, node.
 *
 * Invoked as slabtop, the loop is procps slabtop's: every key re-reads and
 * redraws, q quits, any other key resets the sort and then applies itself
 * if it is a sort key.
 *
 * As kmemtop, only the refresh timer collects: a key redraws the current
 * snapshot, so CHANGE stays the change over the last timed refresh and the
 * numbers hold still while a person reads them. Growth since a baseline and
 * a rate over the last minute come from history.c; the lists scroll, filter
 * and (cgroups) fold as a tree. '?' lists every key.
 */
#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmemtop.h"
#include "allocview.h"
#include "kmemrec.h"
#include "tui_replay.h"
#include "timeutil.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/*
 * The terminal was hung up (its tmux or ssh went away): getch() returns ERR
 * at once, forever, and a loop waiting for keys would spin. Asked after ERR.
 */
static bool tty_gone(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};

    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

KMEM_PRINTF(3, 0)
static bool curses_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
{
    char buf[2048];
    int y, x, len;

    if (s->rows_left == 0)
        return false;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    getyx(stdscr, y, x);
    (void)x;
    if (attr == KT_HEADING || attr == KT_SELECTED)
        attron(A_REVERSE);
    else if (attr == KT_BOLD)
        attron(A_BOLD);
    mvaddnstr(y, 0, buf, s->width);
    len = (int)kt_text_width(buf);
    if ((attr == KT_HEADING || attr == KT_SELECTED) && len < s->width)
        hline(' ', s->width - len); /* reverse video across the row */
    attrset(A_NORMAL);
    if (y + 1 < LINES)
        move(y + 1, 0);
    if (s->rows_left > 0)
        s->rows_left--;
    return s->rows_left != 0;
}

/* ---- slabtop mode: procps slabtop's loop -------------------------------- */

/* Apply a key as procps does; returns false to quit. */
static bool slabtop_key(struct kt_opts *o, int c)
{
    if (c == 'q' || c == 'Q')
        return false;
    if (c == KEY_RESIZE || c == ERR)
        return true;
    /* procps 4.x: reset to the default sort, then apply a sort key. */
    o->sort = 'o';
    if (c > 0 && c < 256 && kt_slab_sort_key(c))
        o->sort = kt_slab_sort_key(c);
    return true;
}

static void slabtop_draw(struct kmem_ctx *ctx, struct kt_opts *o, size_t **idx, size_t *idx_cap)
{
    const struct kmem_snapshot *snap = kmem_current(ctx);
    /* procps leaves the last row empty (it shows rows - 8 caches) */
    struct kt_sink sink = {
        .line = curses_line, .width = COLS, .rows_left = LINES > 1 ? LINES - 1 : 1};

    erase();
    move(0, 0);
    if (snap->slab.n > *idx_cap) {
        size_t *p = realloc(*idx, snap->slab.n * sizeof(**idx));

        if (!p)
            return;
        *idx = p;
        *idx_cap = snap->slab.n;
    }
    kt_slab_sort(&snap->slab, o->sort, *idx);
    kt_slab_render(&sink, &snap->slab, *idx,
                   kmem_previous(ctx) && !kmem_previous(ctx)->status[KMEM_PART_SLAB].err
                       ? KT_CHANGE_SHOW
                       : KT_CHANGE_FIRST);
    refresh();
}

static int slabtop_loop(struct kmem_ctx *ctx, struct kt_opts *o)
{
    size_t *idx = NULL, idx_cap = 0;
    int rc = EXIT_SUCCESS, err;

    for (;;) {
        int c;

        slabtop_draw(ctx, o, &idx, &idx_cap);
        timeout((int)(o->delay > 86400 ? 86400000 : o->delay * 1000));
        c = getch();
        if (interrupted || (c == ERR && tty_gone()) || !slabtop_key(o, c))
            break;
        if (c == KEY_RESIZE)
            continue; /* redraw the same snapshot at the new size */
        err = kmem_collect(ctx, KMEM_COLLECT_SLAB);
        if (err) {
            endwin();
            fprintf(stderr, "%s: Unable to get slabinfo node data: %s\n", o->prog,
                    strerror(err == -EINVAL ? ERANGE : -err));
            rc = EXIT_FAILURE;
            break;
        }
    }
    free(idx);
    return rc;
}

/* ---- kmemtop mode ------------------------------------------------------- */

#define FILTER_MAX  128
#define RATE_WINDOW 60.0 /* seconds the PER MIN column looks back */

struct tui {
    struct kmem_ctx *ctx;
    struct kt_opts *o;
    enum kt_view view;
    struct kt_history hist;
    struct kt_scroll scroll[KT_VIEW_COUNT];
    struct kt_cg_state cg;
    struct kt_scroll drill_scroll; /* the caches of one cgroup (cg.drill) */
    char filter[KT_VIEW_COUNT][FILTER_MAX];
    bool editing; /* typing a filter on the last line */
    bool help;
    double next_refresh;     /* kmem_clock_seconds(CLOCK_MONOTONIC) of the next timed refresh */
    char note[160];          /* one-off message on the status line (e.g. "baseline reset") */
    char capture[512];       /* reading a capture (--root): where it comes from; "" if not */
    struct kt_allocview *av; /* the BPF tracer of the allocations view, loaded while shown */
    struct kt_replay *rp;    /* --replay DIR of a recording: the samples stepped through */
};

static const char *const view_name[KT_VIEW_COUNT] = {
    [KT_VIEW_SLABS] = "slabs",
    [KT_VIEW_CGROUPS] = "cgroups",
    [KT_VIEW_NODE] = "node",
    [KT_VIEW_ALLOC] = "allocs",
};

/* Line 0: the views, the sort, the refresh, help. */
static void draw_keys(struct tui *t, struct kt_sink *s)
{
    char line[256];
    int n = 0;

    for (int v = 0; v < KT_VIEW_COUNT; v++)
        n +=
            snprintf(line + n, sizeof(line) - (size_t)n, "%s%d %s%s", v == (int)t->view ? "[" : " ",
                     v + 1, view_name[v], v == (int)t->view ? "]" : " ");
    if (t->view == KT_VIEW_SLABS)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " | sort: %s",
                      kt_slab_sort_name(t->o->sort));
    else if (t->view == KT_VIEW_CGROUPS && t->cg.drill)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " | caches of a cgroup, Esc back");
    else if (t->view == KT_VIEW_CGROUPS)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " | sort: %s, %s%s",
                      kt_cg_sort_name(t->o->cg_sort), t->cg.flat ? "flat" : "tree",
                      n + 60 <= COLS ? ", Enter caches" : "");
    else if (t->view == KT_VIEW_ALLOC)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " | sort: %s",
                      t->o->alloc_sort == 'c'   ? "change"
                      : t->o->alloc_sort == 'r' ? "rate"
                                                : "net");
    /* The refresh interval goes first when the line would not fit (80 columns). */
    if (t->rp)
        snprintf(line + n, sizeof(line) - (size_t)n, " | %s ? help  q quit",
                 kt_replay_verdicts_shown(t->rp) ? "[V verdicts]" : "V verdicts");
    else if ((n + (int)sizeof(" | every 99999s | ? help  q quit") - 1 > COLS && COLS > 0))
        snprintf(line + n, sizeof(line) - (size_t)n, " | ? help  q quit");
    else
        snprintf(line + n, sizeof(line) - (size_t)n, " | every %lds | ? help  q quit", t->o->delay);
    kt_line(s, KT_BOLD, "%s", line);
}

/* Line 1 of the list views: what GROWTH and PER MIN measure. */
static void draw_growth_line(struct tui *t, struct kt_sink *s)
{
    int part = t->view == KT_VIEW_SLABS ? KT_HIST_SLAB : KT_HIST_CG;
    char when[32] = "start";
    long age = 0;
    struct tm tm;

    if (t->rp)
        return; /* draw() gave the replay's line */
    if (t->note[0]) {
        kt_line(s, KT_NORMAL, "%s", t->note);
        return;
    }
    if (t->capture[0]) { /* nothing changes in a capture: say what it is instead */
        kt_line(s, KT_NORMAL, "%s", t->capture);
        return;
    }
    if (t->hist.have_base[part]) {
        age = (long)difftime(time(NULL), t->hist.base_wall[part]);
        if (localtime_r(&t->hist.base_wall[part], &tm))
            strftime(when, sizeof(when), "%H:%M:%S", &tm);
    }
    kt_line(s, KT_NORMAL,
            "CHANGE: last %lds  GROWTH: since %s (%ldm%02lds; b resets)  PER MIN: last %.0fs",
            t->o->delay, when, age / 60, age % 60, RATE_WINDOW);
}

/* The slab view without /proc/slabinfo: what it needs, and where to look meanwhile. */
static void slab_unavailable(struct kt_sink *s, const struct kmem_snapshot *snap)
{
    int err = snap->status[KMEM_PART_SLAB].err;

    kt_line(s, KT_NORMAL, "%s", "");
    kt_line(s, KT_BOLD, "No slab caches:");
    kt_line(s, KT_NORMAL, "    %s", snap->status[KMEM_PART_SLAB].msg);
    kt_line(s, KT_NORMAL, "%s", "");
    if (err == -EACCES || err == -EPERM) {
        kt_line(s, KT_NORMAL,
                "The slab view reads /proc/slabinfo, which only root can read "
                "(mode 0400).");
        kt_line(s, KT_NORMAL, "Run kmemtop as root (sudo kmemtop), or give it the capability:");
        kt_line(s, KT_NORMAL, "    sudo setcap cap_dac_read_search+ep \"$(command -v kmemtop)\"");
        kt_line(s, KT_NORMAL, "%s", "");
    }
    kt_line(s, KT_NORMAL, "The cgroup view (2) and the node view (3) do not need it.");
}

static void draw_help(struct tui *t, struct kt_sink *s)
{
    static const char *const lines[] = {
        "Views      1 slab caches  2 cgroups  3 node  4 allocations (BPF)  TAB next view",
        "Scroll     Up/Down  PgUp/PgDn  Home/End ('N more' under a long list)",
        "Filter     /  part of a name: cache, cgroup path, pod or container",
        "           Enter keeps it, Esc clears it",
        "Growth     CHANGE   since the last refresh (only the timer refreshes;",
        "                    keys redraw the same numbers)",
        "           GROWTH   since the baseline: kmemtop's start, or the last b",
        "           PER MIN  rate over the last minute (~: a new one's first seconds)",
        "           b        reset the baseline to now",
        "Slab sort  c cache size   o objects (default)   a active objects   u use",
        "           s object size  B objects per slab   l slabs   v active slabs",
        "           p pages per slab   n name   g change   G growth   r per min",
        "Cgroups    k kernel (default)  g change  G growth  r per min  n name",
        "           t tree or flat list  Right/+ unfold  Left/- fold",
        "           Enter the cgroup's slab caches (a folded + unfolds); Esc/Left back",
        "Allocs     n net growth since the view opened (default)   c change",
        "           r allocation rate; traced with BPF only while the view is shown",
        "Columns    more appear on wider terminals; - = not known or not available",
        "           slabs: RECL reclaimable, ACCT charged to cgroups (? = sysfs does",
        "           not say), ALIASES caches merged in, ORDER 2^n pages a slab",
        "           cgroups: ~ = sum of the parts (no \"kernel\" in memory.stat)",
        "Replay     [ ] the sample before/after  { } oldest/newest  T jump (replay)",
        "           (--replay)  b baseline at the sample shown; no timed refresh",
        "           V leak verdicts from the baseline to the sample shown (replay);",
        "             Up/Down pick one, Enter shows its cache or cgroup (replay)",
        "Quit       q",
    };
    char title[128];

    snprintf(title, sizeof(title), "kmemtop %s keys (any key closes this help)", KMEM_VERSION);
    kt_line(s, KT_HEADING, "%s", title);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!t->rp && strstr(lines[i], "replay"))
            continue; /* the replay's keys only in a replay */
        if (!kt_line(s, KT_NORMAL, "%s", lines[i]))
            break;
    }
}

static void draw(struct tui *t)
{
    const struct kmem_snapshot *snap = kmem_current(t->ctx);
    struct kt_sink sink = {.line = curses_line, .width = COLS, .rows_left = LINES};
    struct kt_screen sc = {
        .hist = &t->hist,
        .have_prev = kmem_previous(t->ctx) != NULL,
        .filter = t->filter[t->view],
        .scroll = &t->scroll[t->view],
    };

    erase();
    move(0, 0);
    if (t->editing && sink.rows_left > 1)
        sink.rows_left--; /* the last line is the filter prompt */
    draw_keys(t, &sink);
    if (t->rp && !t->help) { /* which sample, always */
        char line[512];

        kt_replay_header(t->rp, line, sizeof(line));
        kt_line(&sink, KT_NORMAL, "%s", t->note[0] ? t->note : line);
    }
    if (t->help) {
        draw_help(t, &sink);
    } else if (kt_replay_verdicts_shown(t->rp)) {
        kt_replay_verdicts_draw(t->rp, &sink);
    } else if (t->view == KT_VIEW_SLABS) {
        if (!kt_part_ok(snap, KMEM_PART_SLAB) && (snap->flags & KMEM_COLLECT_SLAB)) {
            slab_unavailable(&sink, snap);
        } else {
            draw_growth_line(t, &sink);
            kt_slab_screen(&sink, snap, t->o->sort, &sc);
        }
    } else if (t->view == KT_VIEW_CGROUPS && t->cg.drill) {
        kt_owner_screen(&sink, snap, t->cg.drill, &t->drill_scroll);
    } else if (t->view == KT_VIEW_CGROUPS) {
        draw_growth_line(t, &sink);
        kt_cgroup_screen(&sink, snap, t->o->cg_sort, &sc, &t->cg);
    } else if (t->view == KT_VIEW_ALLOC) {
        kt_allocview_draw(t->av, &sink, t->o->alloc_sort, t->filter[t->view], &t->scroll[t->view]);
    } else {
        if (t->capture[0])
            kt_line(&sink, KT_NORMAL, "%s", t->capture);
        kt_node_render(&sink, snap);
    }
    if (t->rp && kt_replay_prompt(t->rp)) {
        attron(A_BOLD);
        mvprintw(LINES - 1, 0, "time: %s", kt_replay_prompt(t->rp));
        attrset(A_NORMAL);
        printw("   (e.g. 3h ago, 2026-12-05 14:00; Enter jumps, Esc cancels)");
        move(LINES - 1, 6 + (int)strlen(kt_replay_prompt(t->rp)));
        curs_set(1);
    } else if (t->editing) {
        char shown[FILTER_MAX * 4];

        kt_printable(shown, sizeof(shown), t->filter[t->view], KT_ESC_QMARK);
        attron(A_BOLD);
        mvprintw(LINES - 1, 0, "/%s", shown);
        attrset(A_NORMAL);
        printw("   (Enter keeps, Esc clears)");
        move(LINES - 1, 1 + (int)kt_text_width(shown));
        curs_set(1);
    } else {
        curs_set(0);
    }
    refresh();
}

/* A timed refresh: the only place that collects. */
static void refresh_data(struct tui *t)
{
    kmem_collect(t->ctx, KMEM_COLLECT_ALL);
    kt_hist_record(&t->hist, kmem_current(t->ctx));
    if (t->av && t->view == KT_VIEW_ALLOC)
        kt_allocview_refresh(t->av, t->ctx);
    t->note[0] = '\0';
}

static void filter_key(struct tui *t, int c)
{
    char *f = t->filter[t->view];
    size_t l = strlen(f);

    if (c == '\n' || c == '\r' || c == KEY_ENTER) {
        t->editing = false;
    } else if (c == 27) { /* Esc */
        f[0] = '\0';
        t->editing = false;
    } else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
        while (l > 0 && ((unsigned char)f[l - 1] & 0xC0) == 0x80)
            l--; /* a whole UTF-8 character */
        f[l > 0 ? l - 1 : 0] = '\0';
    } else if (c == 21) { /* ^U */
        f[0] = '\0';
    } else if (c >= 0x20 && c < 0x100 && c != 0x7f && l + 1 < FILTER_MAX) {
        f[l] = (char)c;
        f[l + 1] = '\0';
    } else {
        return;
    }
    t->scroll[t->view].top = t->scroll[t->view].cur = 0;
}

/* Up/Down/PgUp/PgDn/Home/End: the cursor (cgroups) or the first row (slabs). */
static bool scroll_key(struct tui *t, int c)
{
    bool drill = t->view == KT_VIEW_CGROUPS && t->cg.drill;
    struct kt_scroll *sc = drill ? &t->drill_scroll : &t->scroll[t->view];
    bool cursor = t->view == KT_VIEW_CGROUPS && !drill;
    size_t *pos = cursor ? &sc->cur : &sc->top;
    size_t page = sc->page > 1 ? (size_t)sc->page - (cursor ? 1 : 0) : 1;
    size_t last = sc->n ? sc->n - 1 : 0;

    switch (c) {
    case KEY_UP:
        *pos = *pos ? *pos - 1 : 0;
        break;
    case KEY_DOWN:
        *pos = *pos < last ? *pos + 1 : last;
        break;
    case KEY_PPAGE:
        *pos = *pos > page ? *pos - page : 0;
        if (cursor && sc->top > page)
            sc->top -= page;
        break;
    case KEY_NPAGE:
        *pos = *pos + page < last ? *pos + page : last;
        if (cursor)
            sc->top += page;
        break;
    case KEY_HOME:
        *pos = sc->top = 0;
        break;
    case KEY_END:
        *pos = last;
        break;
    default:
        return false;
    }
    if (cursor) {
        free(t->cg.sel); /* the cursor moved: the renderer takes its row's cgroup */
        t->cg.sel = NULL;
    }
    return true;
}

static void view_key(struct tui *t, int c)
{
    enum kt_cg_sort cs;
    char key = 0;

    if (t->view == KT_VIEW_SLABS) {
        if (c == 'B')
            key = 'b'; /* b is the baseline */
        else if (c == 'G' || c == 'r')
            key = (char)c;
        else if (c > 0 && c < 256 && c != 'b' && islower(c))
            key = kt_slab_sort_key(c);
        if (key && key != t->o->sort) {
            t->o->sort = key;
            t->scroll[t->view].top = 0; /* a new order starts at its top */
        }
        return;
    }
    if (t->view == KT_VIEW_ALLOC) {
        if ((c == 'n' || c == 'c' || c == 'r') && c != t->o->alloc_sort) {
            t->o->alloc_sort = (char)c;
            t->scroll[t->view].top = 0; /* a new order starts at its top */
        }
        return;
    }
    if (t->view != KT_VIEW_CGROUPS)
        return;
    if (t->cg.drill) {
        if (c == KEY_LEFT) { /* back to the cgroups */
            free(t->cg.drill);
            t->cg.drill = NULL;
        }
        return;
    }
    if (c == '\n' || c == '\r' || c == KEY_ENTER) {
        /* A folded parent unfolds (as before); any other cgroup shows its caches. */
        if (!t->cg.flat && t->cg.sel_folded) {
            kt_cg_collapse(&t->cg, 0);
        } else if (t->cg.sel) {
            t->cg.drill = strdup(t->cg.sel);
            memset(&t->drill_scroll, 0, sizeof(t->drill_scroll));
        }
        return;
    }
    if (c > 0 && c < 256 && kt_cg_sort_from_char(c, &cs)) {
        t->o->cg_sort = cs;
    } else if (c == 't') {
        t->cg.flat = !t->cg.flat;
    } else if (!t->cg.flat && (c == KEY_LEFT || c == '-')) {
        kt_cg_collapse(&t->cg, 1);
    } else if (!t->cg.flat && (c == KEY_RIGHT || c == '+')) {
        kt_cg_collapse(&t->cg, 0);
    }
}

/* Apply a key; returns false to quit. Never collects. */
static bool tui_key(struct tui *t, int c)
{
    if (c == ERR || c == KEY_RESIZE)
        return true;
    if (t->help) {
        t->help = false; /* any key closes the help */
        return true;
    }
    if (t->editing) {
        filter_key(t, c);
        return true;
    }
    if (kt_replay_verdicts_shown(t->rp) && (c == '\n' || c == '\r' || c == KEY_ENTER)) {
        char name[4096];
        int subj = kt_replay_verdict_pick(t->rp, name, sizeof(name));
        size_t nl = strlen(name);
        const char *tail = nl >= FILTER_MAX ? name + nl - (FILTER_MAX - 1) : name;

        if (subj == KMEM_SUBJECT_CACHE || subj == KMEM_SUBJECT_CGROUP) {
            t->view = subj == KMEM_SUBJECT_CACHE ? KT_VIEW_SLABS : KT_VIEW_CGROUPS;
            if (t->view == KT_VIEW_CGROUPS && t->cg.drill) {
                free(t->cg.drill);
                t->cg.drill = NULL;
            }
            snprintf(t->filter[t->view], sizeof(t->filter[t->view]), "%s", tail);
            t->scroll[t->view] = (struct kt_scroll){0};
            kt_replay_verdicts_hide(t->rp);
        }
        return true;
    }
    if (t->rp && kt_replay_key(t->rp, c, t->ctx, &t->hist))
        return true;
    switch (c) {
    case 'q':
    case 'Q':
        return false;
    case '?':
    case 'h':
    case KEY_F(1):
        t->help = true;
        return true;
    case '\t':
        t->view = (enum kt_view)((t->view + 1) % KT_VIEW_COUNT);
        return true;
    case KEY_BTAB:
        t->view = (enum kt_view)((t->view + KT_VIEW_COUNT - 1) % KT_VIEW_COUNT);
        return true;
    case '/':
        if (t->view != KT_VIEW_NODE && !(t->view == KT_VIEW_CGROUPS && t->cg.drill))
            t->editing = true;
        return true;
    case 27: /* Esc: back from a cgroup's caches, else clear the filter */
        if (t->view == KT_VIEW_CGROUPS && t->cg.drill) {
            free(t->cg.drill);
            t->cg.drill = NULL;
        } else {
            t->filter[t->view][0] = '\0';
        }
        return true;
    case 'b':
        kt_hist_reset_base(&t->hist, kmem_current(t->ctx));
        snprintf(t->note, sizeof(t->note),
                 "baseline reset: GROWTH counts from now (CHANGE still from the last refresh)");
        return true;
    default:
        break;
    }
    if (c == '1' + KT_VIEW_ALLOC && t->o->root) {
        /* BPF traces the running kernel: a recording or a capture has none. */
        snprintf(t->note, sizeof(t->note), "view 4 traces the live kernel (BPF): %s has none",
                 t->o->replay ? "a recording (--replay)" : "a capture (--root)");
        return true;
    }
    if (c >= '1' && c < '1' + KT_VIEW_COUNT) {
        t->view = (enum kt_view)(c - '1');
        return true;
    }
    if (!scroll_key(t, c))
        view_key(t, c);
    return true;
}

static int kmemtop_loop(struct kmem_ctx *ctx, struct kt_opts *o)
{
    struct tui t = {.ctx = ctx, .o = o, .view = o->view, .av = kt_allocview_new()};
    const struct kmem_snapshot *snap = kmem_current(ctx);
    struct kmem_capture_meta meta;

    /* A capture (--root): say which, on the line that explains growth. */
    if (kmem_ctx_capture_meta(ctx, &meta) == 0) {
        char host[64], kernel[64], when[17];

        kt_printable(host, sizeof(host), meta.hostname, KT_ESC_QMARK);
        kt_printable(kernel, sizeof(kernel), meta.kernel, KT_ESC_QMARK);
        kt_printable(when, sizeof(when), meta.date, KT_ESC_QMARK); /* to the minute */
        if (strlen(when) > 10 && when[10] == 'T')
            when[10] = ' ';
        snprintf(t.capture, sizeof(t.capture), "capture: %s, Linux %s, %s (numbers do not change)",
                 host, kernel, when);
    }
    kt_hist_init(&t.hist, RATE_WINDOW);
    if (o->replay && kmem_is_recording(o->replay)) { /* no rate window: samples are not a clock */
        char err[768];

        if (kt_replay_open(&t.rp, o->replay, o->root, o->at, ctx, &t.hist, err, sizeof(err))) {
            endwin();
            fprintf(stderr, "%s: %s\n", o->prog, err);
            kt_hist_free(&t.hist);
            kt_allocview_free(t.av);
            return EXIT_FAILURE;
        }
        t.capture[0] = '\0'; /* the replay's line says which sample */
        snap = kmem_current(ctx);
    } else {
        kt_hist_record(&t.hist, snap);
    }
    /* Without /proc/slabinfo (not root), open on a view that has data. */
    if (t.view == KT_VIEW_SLABS && !o->view_given && !o->sort_given &&
        !kt_part_ok(snap, KMEM_PART_SLAB))
        t.view = kt_part_ok(snap, KMEM_PART_CGROUPS) ? KT_VIEW_CGROUPS
                 : kt_part_ok(snap, KMEM_PART_NODE)  ? KT_VIEW_NODE
                                                     : KT_VIEW_SLABS;
    t.next_refresh = kmem_clock_seconds(CLOCK_MONOTONIC) + (double)o->delay;
    set_escdelay(25);
    for (;;) {
        double left;
        int c;

        /* The tracer runs only while its view is shown. */
        if (t.av && t.view == KT_VIEW_ALLOC)
            kt_allocview_enter(t.av, o);
        else
            kt_allocview_leave(t.av);
        draw(&t);
        left = t.next_refresh - kmem_clock_seconds(CLOCK_MONOTONIC);
        timeout(t.rp           ? -1 /* a replay changes only on a key */
                : left <= 0    ? 0
                : left > 86400 ? 86400000
                               : (int)(left * 1000) + 1);
        c = getch();
        if (interrupted || (c == ERR && tty_gone()))
            break;
        if (t.rp) {
            if (c != ERR)
                t.note[0] = '\0';
            if (!tui_key(&t, c))
                break;
            continue;
        }
        if (c == ERR && kmem_clock_seconds(CLOCK_MONOTONIC) >= t.next_refresh) {
            refresh_data(&t);
            t.next_refresh += (double)o->delay;
            if (t.next_refresh <
                kmem_clock_seconds(CLOCK_MONOTONIC)) /* suspended, or a slow collection */
                t.next_refresh = kmem_clock_seconds(CLOCK_MONOTONIC) + (double)o->delay;
            continue;
        }
        if (!tui_key(&t, c))
            break;
    }
    kt_hist_free(&t.hist);
    kt_cg_state_free(&t.cg);
    kt_allocview_free(t.av);
    kt_replay_free(t.rp);
    return EXIT_SUCCESS;
}

int kt_tui_run(struct kmem_ctx *ctx, struct kt_opts *o)
{
    int err, rc;

    /* Fail before touching the terminal, as procps does. */
    err = kmem_collect(ctx, o->slabtop_mode ? KMEM_COLLECT_SLAB : KMEM_COLLECT_ALL);
    if (err && o->slabtop_mode) {
        kt_slabtop_read_error(o, err);
        return EXIT_FAILURE;
    }
    if (!initscr()) {
        fprintf(stderr, "%s: cannot initialise the terminal\n", o->prog);
        return EXIT_FAILURE;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    signal(SIGHUP, on_sigint);
    rc = o->slabtop_mode ? slabtop_loop(ctx, o) : kmemtop_loop(ctx, o);
    if (!isendwin())
        endwin();
    return rc;
}
