/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --replay DIR --window DURATION [--json]: the leak verdicts of a
 * recording (src/lib/verdict.c, docs/recorder.md), each with what to do:
 * who holds it (cgroup, pod), what the cache is in plain words, and the
 * commands that show more of the same recording, ready to paste.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmemtop.h"
#include "kmemrec.h"
#include "record.h"
#include "report.h"

static const char *const verdict_words[KMEM_VERDICT_COUNT] = {
    [KMEM_VERDICT_NOISE] = "noise",
    [KMEM_VERDICT_RECLAIMABLE_WARMING] = "reclaimable cache warming up",
    [KMEM_VERDICT_LEAK_SUSPECT] = "LEAK SUSPECT: unreclaimable, steady growth",
    [KMEM_VERDICT_DYING_PINNED] = "pinned by dying cgroups",
    [KMEM_VERDICT_GREW_NOT_STEADY] =
        "grew, but not steadily (a step or bursts): not a leak's shape",
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Where the verdicts come from: what the commands need to show it again. */
struct vctx {
    char dir[4200];        /* the recording, shell-quoted */
    char from[48], to[48]; /* the window, shell-quoted local times */
    const struct kt_opts *o;
};

/* "pod NS/POD (container C)", "pod NS/POD" or "cgroup PATH". */
static void holder(char *out, size_t len, const struct kmem_verdict *v)
{
    char p[768];
    char *slash;

    if (!*v->pod) {
        snprintf(out, len, "cgroup %s", v->name);
        return;
    }
    snprintf(p, sizeof(p), "%s", v->pod);
    slash = strchr(p, '/');
    if (slash && (slash = strchr(slash + 1, '/'))) {
        *slash = 0;
        snprintf(out, len, "pod %s (container %s, cgroup %s)", p, slash + 1, v->name);
    } else {
        snprintf(out, len, "pod %s (cgroup %s)", p, v->name);
    }
}

/* What to do about one verdict: lines after "         -> ". */
static void advise(const struct vctx *c, const struct kmem_verdict *v)
{
    char a[32], who[1600], means[1024], base[4300];
    const char *pfx = "         -> ";

    snprintf(base, sizeof(base), "kmemtop --replay %s", c->dir);
    switch (v->subject) {
    case KMEM_SUBJECT_CACHE: {
        char name[KMEM_SLAB_NAME_MAX];
        const char *hash = strchr(v->name, '#');

        snprintf(name, sizeof(name), "%.*s", (int)(hash ? hash - v->name : (long)strlen(v->name)),
                 v->name);
        kt_cache_explain(means, sizeof(means), name, v->merged);
        printf("%s%s\n", pfx, means);
        if (v->pinned)
            printf("%sthe kernel counts it as reclaimable (reclaim_account), but reclaim frees "
                   "none of it while the sockets are open: judged as unreclaimable\n",
                   pfx);
        if (v->verdict == KMEM_VERDICT_RECLAIMABLE_WARMING)
            printf("%snot a leak: reclaim gives it back when memory runs short\n", pfx);
        printf("%swho holds it: %s --at %s --cgroups --by-cache -o\n", pfx, base, c->to);
        printf("%swhat else grew: %s --diff %s %s\n", pfx, base, c->from, c->to);
        break;
    }
    case KMEM_SUBJECT_CGROUP:
        if (*v->pod) { /* a plain cgroup is named on the verdict's line already */
            holder(who, sizeof(who), v);
            printf("%s%s\n", pfx, who);
        }
        if (v->whole_kernel) {
            if (v->owned_reclaimable >= 0)
                printf("%scgroup v1 gives no kernel parts; the owner snapshot at the end charges "
                       "it %s of reclaimable slab%s%s\n",
                       pfx, kt_human(a, sizeof(a), v->owned_reclaimable),
                       *v->owned_top ? ", most of it " : "", v->owned_top);
            else
                printf("%scgroup v1 gives no kernel parts: this is all of its kernel memory, "
                       "reclaimable caches included (no owner snapshot late in the window "
                       "says which)\n",
                       pfx);
        }
        if (v->verdict == KMEM_VERDICT_RECLAIMABLE_WARMING)
            printf("%snot a leak: reclaim gives it back when memory runs short\n", pfx);
        printf("%sits caches: %s --at %s --cgroups --by-cache -o\n", pfx, base, c->to);
        printf("%show it grew: %s --diff %s %s\n", pfx, base, c->from, c->to);
        break;
    case KMEM_SUBJECT_NODE:
        printf("%swhich caches and cgroups: %s --diff %s %s\n", pfx, base, c->from, c->to);
        break;
    case KMEM_SUBJECT_DYING:
        printf("%sremoved cgroups are held by what is still charged to them (page cache, tmpfs "
               "files); the report says what frees them: %s --at %s --report\n",
               pfx, base, c->to);
        break;
    }
}

static void oom_text(const struct vctx *c, const struct kmem_oom_event *e)
{
    char a[32], b[32], d[32], when[32], q[64];

    kmem_format_time(e->time_ns, when, sizeof(when));
    printf("  OOM kill at %s in %s%s%s%s: memory %s of %s, kernel %s", when, e->cgroup,
           *e->pod ? " (" : "", e->pod, *e->pod ? ")" : "",
           kt_human(a, sizeof(a), (double)e->usage),
           e->limit ? kt_human(b, sizeof(b), (double)e->limit) : "no limit",
           kt_human(d, sizeof(d), (double)e->kernel));
    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
        if (e->comp_present & (1u << k) && e->comp[k])
            printf(", %s %s", kmem_cg_kind_name[k], kt_human(a, sizeof(a), (double)e->comp[k]));
    printf("\n");
    if (!e->before_known)
        return;
    kmem_format_time(e->before_ns, when, sizeof(when));
    printf("         before the kill (%s): memory %s, kernel %s", when,
           kt_human(a, sizeof(a), (double)e->before_usage),
           kt_human(d, sizeof(d), (double)e->before_kernel));
    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
        if (e->before_comp_present & (1u << k) && e->before_comp[k])
            printf(", %s %s", kmem_cg_kind_name[k],
                   kt_human(a, sizeof(a), (double)e->before_comp[k]));
    printf("\n         -> what it held then: kmemtop --replay %s --at %s --cgroups -o\n", c->dir,
           kt_shq(q, sizeof(q), when));
}

static void verdicts_text(const struct vctx *c, const struct kmem_verdicts *vs)
{
    char a[32], b[32], d[32], from[32], to[32];

    kmem_format_time(vs->from_ns, from, sizeof(from));
    kmem_format_time(vs->to_ns, to, sizeof(to));
    printf("\nLeak verdicts from %s to %s (%zu samples, %zu read back; %zu series were noise):\n",
           from, to, vs->samples, vs->points, vs->n_noise);
    if (!vs->n)
        printf("  nothing grew beyond max(1 MiB, 5 %%)\n");
    for (size_t i = 0; i < vs->n; i++) {
        const struct kmem_verdict *v = &vs->v[i];

        printf("  %-6s %s%s: %s\n", kmem_verdict_subject_name[v->subject], v->name,
               v->subject != KMEM_SUBJECT_CGROUP ? ""
               : v->reclaimable                  ? " (slab_reclaimable)"
               : v->whole_kernel                 ? " (kernel)"
                                                 : " (kernel - slab_reclaimable)",
               verdict_words[v->verdict]);
        printf("         %s -> %s (%s), %s/h", kt_human(a, sizeof(a), v->first),
               kt_human(b, sizeof(b), v->last), kt_human_delta(d, sizeof(d), (double)v->growth),
               kt_human_delta(from, sizeof(from), v->rate_per_hour));
        if (v->verdict == KMEM_VERDICT_RECLAIMABLE_WARMING)
            printf("; reclaim could free up to %s; %s",
                   kt_human(a, sizeof(a), v->reclaimable_bytes),
                   v->stabilised ? "stabilising" : "still growing");
        if (v->verdict == KMEM_VERDICT_LEAK_SUSPECT && v->hours_to_limit >= 0)
            printf("; %.1f h until the limit (%s) at this rate", v->hours_to_limit,
                   kt_human(a, sizeof(a), (double)v->limit));
        printf("\n");
        advise(c, v);
    }
    for (size_t i = 0; i < vs->n_oom; i++)
        oom_text(c, &vs->oom[i]);
}

static void parts_json(uint32_t present, const uint64_t *comp)
{
    bool first = true;

    printf("{");
    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
        if (present & (1u << k)) {
            printf("%s\"%s\":%llu", first ? "" : ",", kmem_cg_kind_name[k],
                   (unsigned long long)comp[k]);
            first = false;
        }
    printf("}");
}

static void verdicts_json(const struct kmem_verdicts *vs)
{
    printf("{\"from_unix\":%.3f,\"to_unix\":%.3f,\"samples\":%zu,\"points\":%zu,\"noise\":%zu,"
           "\"verdicts\":[",
           (double)vs->from_ns / 1e9, (double)vs->to_ns / 1e9, vs->samples, vs->points,
           vs->n_noise);
    for (size_t i = 0; i < vs->n; i++) {
        const struct kmem_verdict *v = &vs->v[i];

        printf("%s{\"subject\":\"%s\",\"name\":", i ? "," : "",
               kmem_verdict_subject_name[v->subject]);
        kt_json_string(stdout, v->name);
        printf(",\"reclaimable\":%s,\"verdict\":\"%s\",\"first_bytes\":%.0f,\"last_bytes\":%.0f,"
               "\"growth_bytes\":%lld,\"growth_first_half_bytes\":%lld,"
               "\"growth_second_half_bytes\":%lld,\"rate_bytes_per_hour\":%.0f,\"points\":%zu",
               v->reclaimable ? "true" : "false", kmem_verdict_name[v->verdict], v->first, v->last,
               (long long)v->growth, (long long)v->growth_first_half,
               (long long)v->growth_second_half, v->rate_per_hour, v->points);
        if (v->verdict == KMEM_VERDICT_RECLAIMABLE_WARMING)
            printf(",\"reclaimable_bytes\":%.0f,\"stabilised\":%s", v->reclaimable_bytes,
                   v->stabilised ? "true" : "false");
        if (v->verdict == KMEM_VERDICT_LEAK_SUSPECT) {
            printf(",\"limit_bytes\":%llu,\"hours_to_limit\":", (unsigned long long)v->limit);
            if (v->hours_to_limit >= 0)
                printf("%.2f", v->hours_to_limit);
            else
                printf("null");
        }
        if (v->subject == KMEM_SUBJECT_CACHE) {
            const char *m;
            char name[KMEM_SLAB_NAME_MAX];
            const char *hash = strchr(v->name, '#');

            snprintf(name, sizeof(name), "%.*s",
                     (int)(hash ? hash - v->name : (long)strlen(v->name)), v->name);
            m = kt_cache_meaning(name);
            printf(",\"pinned\":%s,\"merged\":", v->pinned ? "true" : "false");
            kt_json_string(stdout, v->merged);
            printf(",\"meaning\":");
            if (m)
                kt_json_string(stdout, m);
            else
                printf("null");
        }
        if (v->subject == KMEM_SUBJECT_CGROUP) {
            printf(",\"pod\":");
            kt_json_string(stdout, v->pod);
            printf(",\"whole_kernel\":%s", v->whole_kernel ? "true" : "false");
            if (v->whole_kernel) {
                printf(",\"owned_reclaimable_bytes\":");
                if (v->owned_reclaimable >= 0)
                    printf("%.0f", v->owned_reclaimable);
                else
                    printf("null");
            }
        }
        printf("}");
    }
    printf("],\"oom_kills\":[");
    for (size_t i = 0; i < vs->n_oom; i++) {
        const struct kmem_oom_event *e = &vs->oom[i];

        printf("%s{\"time_unix\":%.3f,\"cgroup\":", i ? "," : "", (double)e->time_ns / 1e9);
        kt_json_string(stdout, e->cgroup);
        printf(",\"pod\":");
        kt_json_string(stdout, e->pod);
        printf(",\"kills\":%llu,\"usage_bytes\":%llu,\"limit_bytes\":%llu,\"kernel_bytes\":%llu,"
               "\"kernel_parts\":",
               (unsigned long long)e->kills, (unsigned long long)e->usage,
               (unsigned long long)e->limit, (unsigned long long)e->kernel);
        parts_json(e->comp_present, e->comp);
        printf(",\"before\":");
        if (e->before_known) {
            printf("{\"time_unix\":%.3f,\"usage_bytes\":%llu,\"kernel_bytes\":%llu,"
                   "\"kernel_parts\":",
                   (double)e->before_ns / 1e9, (unsigned long long)e->before_usage,
                   (unsigned long long)e->before_kernel);
            parts_json(e->before_comp_present, e->before_comp);
            printf("}");
        } else {
            printf("null");
        }
        printf("}");
    }
    printf("]}\n");
}

int kt_verdicts_run(const struct kt_opts *o)
{
    struct kmem_recording *r;
    struct kmem_verdicts vs;
    struct vctx c = {.o = o};
    uint64_t to = UINT64_MAX, from, dur;
    char when[32];
    int rc;

    if (kmem_parse_duration(o->window, &dur)) {
        fprintf(stderr, "%s: --window: '%s' is no duration (e.g. 6h, 2d)\n", o->prog, o->window);
        return EXIT_FAILURE;
    }
    if (o->at && kmem_parse_time(o->at, now_ns(), &to)) {
        fprintf(stderr, "%s: cannot read the time '%s'\n", o->prog, o->at);
        return EXIT_FAILURE;
    }
    if (kt_recording_open(o, &r))
        return EXIT_FAILURE;
    if (to == UINT64_MAX && kmem_recording_count(r))
        to = kmem_recording_sample(r, kmem_recording_count(r) - 1)->time_ns;
    /* (to - DURATION, to], from the whole second of @to (--at names a second) */
    from = to / 1000000000ull * 1000000000ull;
    from = from > dur * 1000000000ull ? from - dur * 1000000000ull : 0;
    rc = kmem_recording_verdicts(r, from, to, &vs);
    if (rc) {
        fprintf(stderr, "%s: %s\n", o->prog,
                rc == -ENOENT ? "no sample in that window" : kmem_recording_strerror(r));
        kmem_recording_close(r);
        return EXIT_FAILURE;
    }
    kt_shq(c.dir, sizeof(c.dir), o->replay);
    kmem_format_time(vs.from_ns, when, sizeof(when));
    kt_shq(c.from, sizeof(c.from), when);
    kmem_format_time(vs.to_ns, when, sizeof(when));
    kt_shq(c.to, sizeof(c.to), when);
    if (o->json)
        verdicts_json(&vs);
    else
        verdicts_text(&c, &vs);
    kmem_verdicts_free(&vs);
    kmem_recording_close(r);
    return EXIT_SUCCESS;
}
