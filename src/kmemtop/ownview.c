/* SPDX-License-Identifier: MIT */
/*
 * Slab memory per cgroup and cache, from the owner snapshot (owners.h):
 * `kmemtop --cgroups --by-cache -o` (one table), the "owners" member of
 * --json, the lines of --report, and the cgroup view's drilldown (Enter on
 * a cgroup). Each cgroup's rows are the objects charged to that cgroup
 * itself (not to its descendants); SHARE is a row's part of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "views.h"
#include "sort.h"

/* Groups of rows by cgroup id: biggest first (then by path), not charged last. */
static int cmp_group(const void *pa, const void *pb)
{
    const struct kt_owner_group *a = pa, *b = pb;

    if ((a->id == 0) != (b->id == 0))
        return a->id == 0 ? 1 : -1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->path ? a->path : "", b->path ? b->path : "");
}

int kt_owner_groups(const struct kmem_snapshot *snap, struct kt_owner_group **out, size_t *n)
{
    const struct kmem_owners *o = &snap->owners.o;
    bool have_cgs = kt_part_ok(snap, KMEM_PART_CGROUPS);
    struct kt_owner_group *g;
    size_t k = 0;

    *out = NULL;
    *n = 0;
    g = malloc((o->nrows ? o->nrows : 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    for (size_t i = 0; i < o->nrows; i++) {
        const struct kmem_owner_row *r = &o->rows[i];

        if (k == 0 || g[k - 1].id != r->cgroup_id) {
            g[k] = (struct kt_owner_group){.id = r->cgroup_id, .path = r->cgroup, .first = i};
            g[k].cg = have_cgs && r->cgroup_id && r->cgroup
                          ? kmem_cgroups_find(&snap->cgroups, r->cgroup)
                          : NULL;
            k++;
        }
        g[k - 1].n++;
        g[k - 1].bytes += r->bytes;
        g[k - 1].objects += r->objects;
    }
    kmem_sort(g, k, sizeof(*g), cmp_group);
    *out = g;
    *n = k;
    return 0;
}

const char *kt_owner_group_name(char *buf, size_t len, const struct kt_owner_group *g,
                                enum kt_esc how)
{
    if (g->cg)
        return kt_cg_name(buf, len, g->cg, how);
    if (!g->id)
        return snprintf(buf, len, "(not charged)"), buf;
    if (!g->path)
        return snprintf(buf, len, "(cgroup %" PRIu64 ")", g->id), buf;
    kt_printable(buf, len, g->path, how);
    return buf;
}

const char *kt_owner_why(const struct kmem_snapshot *snap)
{
    const struct kmem_status *st = &snap->status[KMEM_PART_OWNERS];

    if (!(snap->flags & KMEM_COLLECT_OWNERS))
        return "owner snapshot: not collected";
    if (!st->err)
        return NULL;
    return st->msg[0] ? st->msg : strerror(st->err < 0 ? -st->err : st->err);
}

/* "2026-12-05 20:40:00 UTC" */
static const char *taken_str(char *buf, size_t len, const struct kmem_owners *o)
{
    struct tm tm;
    time_t t = o->taken.tv_sec;

    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "?");
    return buf;
}

/* The first line of the table and the drilldown: when, how big, how much removed. */
static void summary(char *line, size_t len, const struct kmem_snapshot *snap,
                    const struct kt_owner_group *g, size_t ng)
{
    const struct kmem_owner_snap *os = &snap->owners;
    uint64_t charged = 0, unowned = 0;
    size_t ncg = 0;
    char when[64], a[16], b[16];
    int n;

    for (size_t i = 0; i < ng; i++) {
        if (g[i].id) {
            charged += g[i].bytes;
            ncg++;
        } else {
            unowned += g[i].bytes;
        }
    }
    n = snprintf(line, len, "owner snapshot %s (%s): %zu cgroup%s, %s charged, %s not charged",
                 taken_str(when, sizeof(when), &os->o),
                 os->from_file ? "from kmem-owners.txt" : "walked", ncg, ncg == 1 ? "" : "s",
                 kt_human(a, sizeof(a), (double)charged), kt_human(b, sizeof(b), (double)unowned));
    if (n > 0 && (size_t)n < len && os->removed_cgroups)
        snprintf(line + n, len - (size_t)n, "; %zu removed cgroup%s (%s)", os->removed_cgroups,
                 os->removed_cgroups == 1 ? "" : "s",
                 kt_human(a, sizeof(a), (double)os->removed_bytes));
}

static int cache_width(const struct kmem_owners *o)
{
    size_t w = 5;

    for (size_t i = 0; i < o->nrows; i++) {
        size_t l = kt_text_width(o->rows[i].cache);

        if (l > w)
            w = l;
    }
    return (int)(w > 40 ? 40 : w);
}

void kt_owner_render(struct kt_sink *s, const struct kmem_snapshot *snap)
{
    const struct kmem_owners *o = &snap->owners.o;
    struct kt_owner_group *g = NULL;
    size_t ng = 0;
    char line[8192];
    int cw;

    if (kt_owner_why(snap)) {
        kt_line(s, KT_NORMAL, "%s", kt_owner_why(snap));
        return;
    }
    if (kt_owner_groups(snap, &g, &ng)) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    summary(line, sizeof(line), snap, g, ng);
    kt_line(s, KT_NORMAL, "%s", line);
    cw = cache_width(o);
    kt_line(s, KT_HEADING, "%14s %12s %6s  %-*s  %s", "BYTES", "OBJECTS", "SHARE", cw, "CACHE",
            "NAMESPACE/POD/CONTAINER or CGROUP");
    for (size_t k = 0; k < ng; k++) {
        char name[4096], cache[512];

        kt_owner_group_name(name, sizeof(name), &g[k], KT_ESC_HEX);
        for (size_t i = g[k].first; i < g[k].first + g[k].n; i++) {
            const struct kmem_owner_row *r = &o->rows[i];

            kt_printable(cache, sizeof(cache), r->cache, KT_ESC_HEX);
            kt_line(s, KT_NORMAL, "%14" PRIu64 " %12" PRIu64 " %5.1f%%  %-*s  %s", r->bytes,
                    r->objects, kt_pct(r->bytes, g[k].bytes), cw, cache, name);
        }
    }
    free(g);
}

/* ---- the drilldown of the cgroup view ---------------------------------- */

void kt_owner_screen(struct kt_sink *s, const struct kmem_snapshot *snap, const char *path,
                     struct kt_scroll *scroll)
{
    const struct kmem_owners *o = &snap->owners.o;
    const struct kmem_cgroup *cg =
        kt_part_ok(snap, KMEM_PART_CGROUPS) ? kmem_cgroups_find(&snap->cgroups, path) : NULL;
    struct kt_owner_group *g = NULL, *mine = NULL;
    size_t ng = 0;
    struct kt_window w;
    char line[4096], name[2048], a[16], b[16];
    int cw;

    if (cg)
        kt_cg_name(name, sizeof(name), cg, KT_ESC_QMARK);
    else
        kt_printable(name, sizeof(name), path, KT_ESC_QMARK);
    if (!kt_line(s, KT_BOLD, "%s: slab caches   (Esc or Left: back to the cgroups)", name))
        return;
    if (cg && (cg->comp_present & (UINT32_C(1) << KMEM_CG_SLAB_RECLAIMABLE))) {
        uint64_t slab = cg->comp[KMEM_CG_SLAB_RECLAIMABLE] + cg->comp[KMEM_CG_SLAB_UNRECLAIMABLE];

        snprintf(line, sizeof(line), "kernel %s, slab %s (memory.stat, with its descendants)",
                 kt_human(a, sizeof(a), (double)cg->kernel), kt_human(b, sizeof(b), (double)slab));
    } else if (cg) {
        snprintf(line, sizeof(line), "kernel %s (with its descendants)",
                 kt_human(a, sizeof(a), (double)cg->kernel));
    } else {
        snprintf(line, sizeof(line), "this cgroup is not in the hierarchy any more");
    }
    if (!kt_line(s, KT_NORMAL, "%s", line))
        return;
    if (kt_owner_why(snap)) {
        kt_line(s, KT_NORMAL, "%s", "");
        kt_line(s, KT_NORMAL, "Slab caches per cgroup are not known:");
        kt_line(s, KT_NORMAL, "    %s", kt_owner_why(snap));
        return;
    }
    if (kt_owner_groups(snap, &g, &ng)) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    for (size_t k = 0; k < ng; k++)
        if (g[k].id && g[k].path && strcmp(g[k].path, path) == 0)
            mine = &g[k];
    if (snap->owners.reused)
        snprintf(line, sizeof(line),
                 "objects charged to this cgroup itself: %s in %zu caches "
                 "(owner snapshot %.0fs old)",
                 kt_human(a, sizeof(a), mine ? (double)mine->bytes : 0.0), mine ? mine->n : 0,
                 snap->owners.age);
    else
        snprintf(line, sizeof(line), "objects charged to this cgroup itself: %s in %zu caches",
                 kt_human(a, sizeof(a), mine ? (double)mine->bytes : 0.0), mine ? mine->n : 0);
    if (!kt_line(s, KT_NORMAL, "%s", line))
        goto out;
    cw = mine ? cache_width(o) : 5;
    if (!kt_line(s, KT_HEADING, "%9s %12s %6s  %-*s", "BYTES", "OBJECTS", "SHARE", cw, "CACHE"))
        goto out;
    w = kt_window_fit(s, mine ? mine->n : 0, scroll, false);
    for (size_t i = w.first; mine && i < w.first + w.count; i++) {
        const struct kmem_owner_row *r = &o->rows[mine->first + i];
        char cache[512];

        kt_printable(cache, sizeof(cache), r->cache, KT_ESC_QMARK);
        if (!kt_line(s, KT_NORMAL, "%9s %12" PRIu64 " %5.1f%%  %s",
                     kt_human(a, sizeof(a), (double)r->bytes), r->objects,
                     kt_pct(r->bytes, mine->bytes), cache))
            break;
    }
    kt_window_footer(s, &w);
out:
    free(g);
}

/* ---- --report ------------------------------------------------------------ */

struct pair {
    const struct kt_owner_group *g;
    const struct kmem_owner_row *r;
};

static int cmp_pair(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;

    if (a->r->bytes != b->r->bytes)
        return a->r->bytes > b->r->bytes ? -1 : 1;
    return strcmp(a->r->cache, b->r->cache);
}

void kt_owner_report(FILE *f, const struct kmem_snapshot *snap, unsigned top)
{
    const struct kmem_owners *o = &snap->owners.o;
    struct kt_owner_group *g = NULL;
    struct pair *p = NULL;
    size_t ng = 0, np = 0;
    char line[1024], a[16];

    fputs("\nSlab memory by container and cache\n----------------------------------\n", f);
    if (kt_owner_why(snap)) {
        fprintf(f, "  Not known: %s\n", kt_owner_why(snap));
        return;
    }
    if (kt_owner_groups(snap, &g, &ng) || !(p = malloc((o->nrows ? o->nrows : 1) * sizeof(*p)))) {
        fputs("  out of memory\n", f);
        free(g);
        return;
    }
    summary(line, sizeof(line), snap, g, ng);
    fprintf(f, "  %s.\n", line);
    for (size_t k = 0; k < ng; k++)
        for (size_t i = 0; g[k].id && i < g[k].n; i++)
            p[np++] = (struct pair){.g = &g[k], .r = &o->rows[g[k].first + i]};
    kmem_sort(p, np, sizeof(*p), cmp_pair);
    if (!np)
        fputs("  No slab object is charged to any cgroup.\n", f);
    for (size_t i = 0; i < np && i < top; i++) {
        const struct kt_owner_group *gg = p[i].g;
        const struct kmem_cgroup *cg = gg->cg;
        char name[2048];

        fputs("  ", f);
        if (cg && cg->pod_name && *cg->pod_name) {
            fputs("Pod ", f);
            kt_put_printable(f, cg->namespace_name);
            fputc('/', f);
            kt_put_printable(f, cg->pod_name);
            if (cg->container_name && *cg->container_name) {
                fputs(" (container ", f);
                kt_put_printable(f, cg->container_name);
                fputc(')', f);
            }
        } else {
            kt_owner_group_name(name, sizeof(name), gg, KT_ESC_HEX);
            fprintf(f, "Cgroup %s", name);
        }
        fprintf(f, " holds %s in ", kt_human(a, sizeof(a), (double)p[i].r->bytes));
        kt_put_printable(f, p[i].r->cache);
        fprintf(f, " (%" PRIu64 " objects, %.0f%% of the slab charged to it).\n", p[i].r->objects,
                kt_pct(p[i].r->bytes, gg->bytes));
    }
    free(p);
    free(g);
}

/* ---- --json -------------------------------------------------------------- */

static void json_caches(struct kmem_jw *w, const struct kmem_owners *o,
                        const struct kt_owner_group *g)
{
    kmem_jw_arr(w, "caches");
    for (size_t i = 0; i < g->n; i++) {
        const struct kmem_owner_row *r = &o->rows[g->first + i];

        kmem_jw_obj(w, NULL);
        kmem_jw_str(w, "cache", r->cache);
        kmem_jw_u64(w, "objects", r->objects);
        kmem_jw_u64(w, "bytes", r->bytes);
        kmem_jw_obj_end(w);
    }
    kmem_jw_arr_end(w);
}

void kt_json_owners(struct kmem_jw *w, const struct kmem_snapshot *snap)
{
    const struct kmem_owner_snap *os = &snap->owners;
    const char *why = kt_owner_why(snap);
    struct kt_owner_group *g = NULL;
    size_t ng = 0;

    if (!why && kt_owner_groups(snap, &g, &ng))
        why = "out of memory";
    kmem_jw_obj(w, "owners");
    kmem_jw_obj(w, "status");
    kmem_jw_bool(w, "ok", !why);
    kmem_jw_str_or_null(w, "error", why);
    kmem_jw_obj_end(w);
    if (why) {
        kmem_jw_obj_end(w);
        return;
    }
    kmem_jw_str(w, "source", os->from_file ? "file" : "walk");
    /* kmem's JSON holds integers only (docs/json-schema.md). */
    kmem_jw_u64(w, "taken", os->o.taken.tv_sec > 0 ? (uint64_t)os->o.taken.tv_sec : 0);
    kmem_jw_bool(w, "reused", os->reused);
    kmem_jw_u64(w, "age_seconds", os->reused && os->age > 0 ? (uint64_t)(os->age + 0.5) : 0);
    kmem_jw_u64(w, "cpu_microseconds",
                os->o.cpu_seconds > 0 ? (uint64_t)(os->o.cpu_seconds * 1e6 + 0.5) : 0);
    kmem_jw_u64(w, "pages", os->o.pages);
    kmem_jw_u64(w, "slabs", os->o.slabs);
    kmem_jw_u64(w, "objects_charged", os->o.objects_charged);
    kmem_jw_u64(w, "objects_uncharged", os->o.objects_uncharged);
    kmem_jw_u64(w, "removed_cgroups", os->removed_cgroups);
    kmem_jw_u64(w, "removed_bytes", os->removed_bytes);
    kmem_jw_arr(w, "cgroups");
    for (size_t k = 0; k < ng; k++) {
        const struct kmem_cgroup *cg = g[k].cg;
        bool removed = g[k].path && strncmp(g[k].path, "(removed cgroup ", 16) == 0;

        if (!g[k].id)
            continue;
        kmem_jw_obj(w, NULL);
        kmem_jw_str_or_null(w, "path", removed ? NULL : g[k].path);
        kmem_jw_u64(w, "cgroup_id", g[k].id);
        kmem_jw_bool(w, "removed", removed);
        kmem_jw_str_or_null(w, "namespace", cg ? cg->namespace_name : NULL);
        kmem_jw_str_or_null(w, "pod", cg ? cg->pod_name : NULL);
        kmem_jw_str_or_null(w, "container", cg ? cg->container_name : NULL);
        kmem_jw_u64(w, "objects", g[k].objects);
        kmem_jw_u64(w, "bytes", g[k].bytes);
        json_caches(w, &os->o, &g[k]);
        kmem_jw_obj_end(w);
    }
    kmem_jw_arr_end(w);
    kmem_jw_obj(w, "not_charged");
    if (ng && !g[ng - 1].id) {
        kmem_jw_u64(w, "objects", g[ng - 1].objects);
        kmem_jw_u64(w, "bytes", g[ng - 1].bytes);
        json_caches(w, &os->o, &g[ng - 1]);
    } else {
        struct kt_owner_group none = {0};

        kmem_jw_u64(w, "objects", 0);
        kmem_jw_u64(w, "bytes", 0);
        json_caches(w, &os->o, &none);
    }
    kmem_jw_obj_end(w);
    kmem_jw_obj_end(w);
    free(g);
}
