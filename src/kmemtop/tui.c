/* SPDX-License-Identifier: MIT */
/*
 * Interactive ncurses views: slabs (procps slabtop layout plus a CHANGE
 * column), cgroups, node. Keys are listed on the top line (kmemtop) and work
 * as in procps slabtop: q quits; any other key first resets the sort to the
 * default and then applies itself if it is a sort key.
 */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmemtop.h"
#include "allocview.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool curses_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
{
    char buf[1024];
    int y, x;

    if (s->rows_left == 0)
        return false;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    getyx(stdscr, y, x);
    (void)x;
    if (attr == KT_HEADING)
        attron(A_REVERSE);
    else if (attr == KT_BOLD)
        attron(A_BOLD);
    mvaddnstr(y, 0, buf, s->width);
    if (attr == KT_HEADING && (int)strlen(buf) < s->width)
        hline(' ', s->width - (int)strlen(buf)); /* reverse video across the row */
    attrset(A_NORMAL);
    if (y + 1 < LINES)
        move(y + 1, 0);
    if (s->rows_left > 0)
        s->rows_left--;
    return s->rows_left != 0;
}

static const char *const view_name[KT_VIEW_COUNT] = {
    [KT_VIEW_SLABS] = "slabs",
    [KT_VIEW_CGROUPS] = "cgroups",
    [KT_VIEW_NODE] = "node",
    [KT_VIEW_ALLOC] = "allocations",
};

/* kmemtop reads every part on every refresh, so that the change columns of
 * each view stay relative to the last refresh whichever view was shown;
 * slabtop reads only /proc/slabinfo, as procps does. */
static unsigned flags_for(const struct kt_opts *o)
{
    return o->slabtop_mode ? KMEM_COLLECT_SLAB : KMEM_COLLECT_ALL;
}

static void draw_keys(const struct kt_opts *o, struct kt_sink *s)
{
    static const char *const cg_sort_name[] = {"kernel", "change", "name"};
    char line[256];
    int n = 0;

    for (int v = 0; v < KT_VIEW_COUNT; v++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%d %s%s ",
                      v == (int)o->view ? "[" : " ", v + 1, view_name[v],
                      v == (int)o->view ? "]" : " ");
    if (o->view == KT_VIEW_SLABS)
        snprintf(line + n, sizeof(line) - (size_t)n, "| sort %c (g growth) | every %lds | q quit",
                 o->sort, o->delay);
    else if (o->view == KT_VIEW_CGROUPS)
        snprintf(line + n, sizeof(line) - (size_t)n,
                 "| sort %s (k kernel, g growth, n name) | every %lds | q quit",
                 cg_sort_name[o->cg_sort == 'g'   ? 1
                              : o->cg_sort == 'n' ? 2
                                                  : 0],
                 o->delay);
    else if (o->view == KT_VIEW_ALLOC)
        snprintf(line + n, sizeof(line) - (size_t)n,
                 "| sort %s (n net, c change, r rate) | every %lds | q quit",
                 o->alloc_sort == 'c'   ? "change"
                 : o->alloc_sort == 'r' ? "rate"
                                        : "net",
                 o->delay);
    else
        snprintf(line + n, sizeof(line) - (size_t)n, "| every %lds | q quit", o->delay);
    kt_line(s, KT_BOLD, "%s", line);
}

static void draw(struct kmem_ctx *ctx, struct kt_opts *o, size_t **idx, size_t *idx_cap,
                 struct kt_allocview *av)
{
    const struct kmem_snapshot *snap = kmem_current(ctx);
    /* procps leaves the last row empty (it shows rows - 8 caches) */
    struct kt_sink sink = {
        .line = curses_line, .width = COLS, .rows_left = LINES > 1 ? LINES - 1 : 1};

    erase();
    move(0, 0);
    if (!o->slabtop_mode)
        draw_keys(o, &sink);
    switch (o->view) {
    case KT_VIEW_SLABS:
        if (snap->slab_status.err) {
            kt_line(&sink, KT_NORMAL, "Slab caches: %s", snap->slab_status.msg);
            break;
        }
        if (snap->slab.n > *idx_cap) {
            size_t *p = realloc(*idx, snap->slab.n * sizeof(**idx));
            if (!p)
                break;
            *idx = p;
            *idx_cap = snap->slab.n;
        }
        kt_slab_sort(&snap->slab, o->sort, *idx);
        kt_slab_render(&sink, &snap->slab, *idx,
                       kmem_previous(ctx) && !kmem_previous(ctx)->slab_status.err
                           ? KT_CHANGE_SHOW
                           : KT_CHANGE_FIRST);
        break;
    case KT_VIEW_CGROUPS:
        kt_cgroup_render(&sink, snap,
                         o->cg_sort == 'g'   ? KT_CG_SORT_CHANGE
                         : o->cg_sort == 'n' ? KT_CG_SORT_NAME
                                             : KT_CG_SORT_KERNEL);
        break;
    case KT_VIEW_ALLOC:
        kt_allocview_draw(av, &sink, o->alloc_sort);
        break;
    default:
        kt_node_render(&sink, snap);
        break;
    }
    refresh();
}

/* Apply a key; returns false to quit. */
static bool handle_key(struct kt_opts *o, int c)
{
    if (c == 'q' || c == 'Q')
        return false;
    if (c == KEY_RESIZE || c == ERR)
        return true;
    if (!o->slabtop_mode) {
        if (c >= '1' && c < '1' + KT_VIEW_COUNT) {
            o->view = (enum kt_view)(c - '1');
            return true;
        }
        if (c == '\t') {
            o->view = (enum kt_view)((o->view + 1) % KT_VIEW_COUNT);
            return true;
        }
        if (o->view == KT_VIEW_CGROUPS && (c == 'k' || c == 'g' || c == 'n')) {
            o->cg_sort = (char)c;
            return true;
        }
        if (o->view == KT_VIEW_ALLOC && (c == 'n' || c == 'c' || c == 'r')) {
            o->alloc_sort = (char)c;
            return true;
        }
    }
    /* procps 4.x: reset to the default sort, then apply a sort key; 'g'
     * (growth, the CHANGE column) is one more, in slabtop mode too. */
    o->sort = 'o';
    if (c > 0 && c < 256 && kt_slab_sort_key(c))
        o->sort = kt_slab_sort_key(c);
    return true;
}

int kt_tui_run(struct kmem_ctx *ctx, struct kt_opts *o)
{
    size_t *idx = NULL, idx_cap = 0;
    int rc = EXIT_SUCCESS, err;
    /* The BPF tracer of the allocations view: loaded only while it is shown. */
    struct kt_allocview *av = o->slabtop_mode ? NULL : kt_allocview_new();

    /* Fail before touching the terminal, as procps does. */
    err = kmem_collect(ctx, flags_for(o));
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
    for (;;) {
        int c;

        if (av && o->view == KT_VIEW_ALLOC)
            kt_allocview_enter(av, o);
        else
            kt_allocview_leave(av);
        draw(ctx, o, &idx, &idx_cap, av);
        timeout((int)(o->delay > 86400 ? 86400000 : o->delay * 1000));
        c = getch();
        if (interrupted || !handle_key(o, c))
            break;
        if (c == KEY_RESIZE)
            continue; /* redraw the same snapshot at the new size */
        err = kmem_collect(ctx, flags_for(o));
        if (av && o->view == KT_VIEW_ALLOC)
            kt_allocview_refresh(av, ctx);
        if (err && o->slabtop_mode) {
            endwin();
            fprintf(stderr, "%s: Unable to get slabinfo node data: %s\n", o->prog,
                    strerror(err == -EINVAL ? ERANGE : -err));
            free(idx);
            return EXIT_FAILURE;
        }
    }
    endwin();
    free(idx);
    kt_allocview_free(av);
    return rc;
}
