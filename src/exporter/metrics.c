// SPDX-License-Identifier: MIT
/* Metric logic: snapshot -> families (docs/exporter.md, "Metrics"). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "collectors.h"
#include "sort.h"

kx_render_fn kx_render_slabinfo;

#ifndef KMEM_VERSION
#define KMEM_VERSION "unknown"
#endif

/* ---- slab cache filter ---- */

static int compile(struct kx_re **re, const char *src, const char *flag, char *err, size_t errlen)
{
    char msg[256];
    int r = kx_re_compile(re, src, msg, sizeof(msg));
    if (r)
        snprintf(err, errlen, "%s '%.200s': %s", flag, src, msg);
    return r;
}

int kx_filter_init(struct kx_filter *f, const char *include, const char *exclude, char *err,
                   size_t errlen)
{
    memset(f, 0, sizeof(*f));
    if (include && !include[0]) {
        snprintf(err, errlen,
                 "--collector.slabinfo.include '': an empty expression matches no cache; "
                 "leave the flag out to export every cache");
        return -EINVAL;
    }
    int r =
        include ? compile(&f->include, include, "--collector.slabinfo.include", err, errlen) : 0;
    if (!r && exclude)
        r = compile(&f->exclude, exclude, "--collector.slabinfo.exclude", err, errlen);
    if (r)
        kx_filter_free(f);
    return r;
}

void kx_filter_free(struct kx_filter *f)
{
    kx_re_free(f->include);
    kx_re_free(f->exclude);
    f->include = f->exclude = NULL;
}

bool kx_filter_match(const struct kx_filter *f, const char *cache)
{
    if (!f)
        return true;
    size_t len = strlen(cache);
    if (f->include && !kx_re_match(f->include, cache, len))
        return false;
    if (f->exclude && kx_re_match(f->exclude, cache, len))
        return false;
    return true;
}

/* True if @name ends in '#' and one or more digits: it could be taken for a
 * generated "name#n", so it gets its own index too. */
static bool looks_generated(const char *name, size_t n)
{
    size_t i = n;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    return i < n && i > 0 && name[i - 1] == '#';
}

void kx_cache_label(const struct kmem_slab *s, char *out, size_t outlen)
{
    size_t n = strnlen(s->name, sizeof(s->name));

    /* The common case, on every scrape: a first line whose name cannot be
     * mistaken for a generated one. */
    if (s->dup == 0 && n < outlen && !looks_generated(s->name, n)) {
        memcpy(out, s->name, n + 1);
        return;
    }
    if (s->dup == 0 && !looks_generated(s->name, n))
        snprintf(out, outlen, "%.*s", (int)n, s->name);
    else
        snprintf(out, outlen, "%.*s#%u", (int)n, s->name, s->dup);
}

/* ---- families ---- */

/*
 * Per selected cache: five families that change (objects, active objects,
 * slabs, bytes, active bytes) and one kmem_slab_info series carrying what
 * does not change while the cache exists (object size, objects and pages
 * per slab) as labels. The three static families of old are opt-in
 * (static_families), and so is node_exporter's naming (node_exporter_names).
 * A cache without any object is left out unless `empty` is set.
 */
enum slab_family {
    SF_OBJECTS,
    SF_ACTIVE_OBJECTS,
    SF_OBJECT_SIZE,
    SF_OBJECTS_PER_SLAB,
    SF_PAGES_PER_SLAB,
    SF_SLABS,
    SF_SIZE_BYTES,
    SF_ACTIVE_BYTES,
    SF_COUNT
};

/* Every family here has one label, slab_family[0]'s: their samples share
 * its label text, built once per cache (slab_labels_build). */
static const struct kx_family slab_family[SF_COUNT] = {
    [SF_OBJECTS] = {"kmem_slab_objects",
                    "Objects allocated in the slab cache (num_objs in /proc/slabinfo).",
                    KX_GAUGE,
                    {"cache"}},
    [SF_ACTIVE_OBJECTS] = {"kmem_slab_active_objects",
                           "Objects in use in the slab cache (active_objs in /proc/slabinfo).",
                           KX_GAUGE,
                           {"cache"}},
    [SF_OBJECT_SIZE] = {"kmem_slab_object_size_bytes",
                        "Size of one object of the slab cache, with metadata (objsize).",
                        KX_GAUGE,
                        {"cache"}},
    [SF_OBJECTS_PER_SLAB] = {"kmem_slab_objects_per_slab",
                             "Objects per slab of the cache (objperslab).",
                             KX_GAUGE,
                             {"cache"}},
    [SF_PAGES_PER_SLAB] = {"kmem_slab_pages_per_slab",
                           "Pages per slab of the cache (pagesperslab).",
                           KX_GAUGE,
                           {"cache"}},
    [SF_SLABS] = {"kmem_slab_slabs", "Slabs of the cache (num_slabs).", KX_GAUGE, {"cache"}},
    [SF_SIZE_BYTES] = {"kmem_slab_size_bytes",
                       "Memory held by the slab cache: num_slabs x pagesperslab x page size.",
                       KX_GAUGE,
                       {"cache"}},
    [SF_ACTIVE_BYTES] = {"kmem_slab_active_bytes",
                         "Memory of the objects in use: active_objs x objsize.",
                         KX_GAUGE,
                         {"cache"}},
};
static_assert(sizeof(slab_family) / sizeof(slab_family[0]) == SF_COUNT, "slab_family table");

/* Only with --collector.slabinfo.static-families (the labels of kmem_slab_info). */
static bool slab_static(enum slab_family f)
{
    return f == SF_OBJECT_SIZE || f == SF_OBJECTS_PER_SLAB || f == SF_PAGES_PER_SLAB;
}

static const struct kx_family slab_info_family = {
    "kmem_slab_info",
    "Properties of the slab cache that do not change while it exists, as labels: "
    "object_size_bytes (objsize), objects_per_slab (objperslab), pages_per_slab "
    "(pagesperslab), and from /sys/kernel/slab (read when the cache list "
    "changes) reclaimable (reclaim_account), accounted (SLAB_ACCOUNT), merged "
    "(shares a ':flags-size' directory), order, aliases (caches merged into it); "
    "always 1.",
    KX_GAUGE,
    {"cache", "object_size_bytes", "objects_per_slab", "pages_per_slab", "reclaimable", "accounted",
     "merged", "order", "aliases"},
};

/* node_exporter's slabinfo collector (1.5 to 1.9): names, HELP, order. */
static const struct {
    struct kx_family fam;
    enum slab_family f;
} ne_family[] = {
    {{"node_slabinfo_active_objects",
      "The number of objects that are currently active (i.e., in use).",
      KX_GAUGE,
      {"slab"}},
     SF_ACTIVE_OBJECTS},
    {{"node_slabinfo_object_size_bytes",
      "The size of objects in this slab, in bytes.",
      KX_GAUGE,
      {"slab"}},
     SF_OBJECT_SIZE},
    {{"node_slabinfo_objects",
      "The total number of allocated objects (i.e., objects that are both in use and not in "
      "use).",
      KX_GAUGE,
      {"slab"}},
     SF_OBJECTS},
    {{"node_slabinfo_objects_per_slab",
      "The number of objects stored in each slab.",
      KX_GAUGE,
      {"slab"}},
     SF_OBJECTS_PER_SLAB},
    {{"node_slabinfo_pages_per_slab",
      "The number of pages allocated for each slab.",
      KX_GAUGE,
      {"slab"}},
     SF_PAGES_PER_SLAB},
};

static uint64_t slab_value(const struct kmem_slab *s, enum slab_family f, uint64_t page_size)
{
    switch (f) {
    case SF_OBJECTS:
        return s->num_objs;
    case SF_ACTIVE_OBJECTS:
        return s->active_objs;
    case SF_OBJECT_SIZE:
        return s->objsize;
    case SF_OBJECTS_PER_SLAB:
        return s->objperslab;
    case SF_PAGES_PER_SLAB:
        return s->pagesperslab;
    case SF_SLABS:
        return s->num_slabs;
    case SF_SIZE_BYTES:
        return kmem_slab_bytes(s, page_size);
    case SF_ACTIVE_BYTES:
        return kmem_slab_active_bytes(s);
    case SF_COUNT:
        break;
    }
    return 0;
}

/* A cache without any object: all its series would be 0. */
static bool slab_empty(const struct kmem_slab *s)
{
    return s->num_objs == 0 && s->active_objs == 0 && s->num_slabs == 0;
}

/* The label text of every selected cache, escaped once and reused by every
 * family: "{cache=\"...\"} " pieces in one scratch buffer (and
 * "{slab=\"...\"} " ones for node_exporter's names). */
struct slab_labels {
    struct kmem_buf text;
    size_t *off; /* 2n + 1 offsets: cache label of i at [off[2i], off[2i+1]),
                  * slab label at [off[2i+1], off[2i+2]); empty when not selected */
    /* --collector.slabinfo.top: the caches past the N largest (drop[i]), summed per family */
    unsigned char *drop;
    bool rest;
    uint64_t rest_value[SF_COUNT];
    /* its label piece, built once in text: cache="other", or "other (rest)"
     * when a cache kept is named other */
    size_t rest_from, rest_to;
};

/* '{name="value"} ': the label text of a family with one label. */
static void label_text(struct kmem_buf *b, const char *name, const char *value)
{
    kmem_buf_addc(b, '{');
    kmem_buf_adds(b, name);
    kmem_buf_add(b, "=\"", 2);
    kx_expo_escape_label(b, value);
    kmem_buf_add(b, "\"} ", 3);
}

struct by_size {
    uint64_t bytes;
    size_t i;
};

/* Largest first; equal sizes keep the file's order. */
static int cmp_by_size(const void *pa, const void *pb)
{
    const struct by_size *a = pa, *b = pb;

    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * Keep the @top largest of the selected caches (by kmem_slab_size_bytes) and
 * sum the others into sl->rest_value: their label pieces become empty.
 */
static int slab_keep_top(struct slab_labels *sl, const struct kmem_slabinfo *si, unsigned top,
                         uint64_t page_size)
{
    struct by_size *v = calloc(si->n ? si->n : 1, sizeof(*v));
    size_t n = 0;

    sl->drop = calloc(si->n ? si->n : 1, 1);
    if (!v || !sl->drop) {
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < si->n; i++)
        if (sl->off[2 * i + 1] != sl->off[2 * i])
            v[n++] = (struct by_size){kmem_slab_bytes(&si->v[i], page_size), i};
    if (n > top) {
        const char *rest_label = "other";

        kmem_sort(v, n, sizeof(*v), cmp_by_size);
        sl->rest = true;
        for (size_t k = 0; k < n; k++) {
            size_t i = v[k].i;

            if (k < top) {
                if (strcmp(si->v[i].name, "other") == 0)
                    rest_label = "other (rest)";
                continue;
            }
            for (int f = 0; f < SF_COUNT; f++)
                sl->rest_value[f] += slab_value(&si->v[i], (enum slab_family)f, page_size);
            sl->drop[i] = 1;
        }
        sl->rest_from = sl->text.len;
        label_text(&sl->text, slab_family[0].labels[0], rest_label);
        sl->rest_to = sl->text.len;
    }
    free(v);
    return sl->text.err;
}

static int slab_labels_build(struct slab_labels *sl, const struct kmem_slabinfo *si,
                             const struct kx_render_opts *o)
{
    kmem_buf_init(&sl->text, (size_t)64 << 20);
    sl->off = calloc(2 * si->n + 1, sizeof(*sl->off));
    if (!sl->off)
        return -ENOMEM;
    char label[KMEM_SLAB_NAME_MAX + 16];
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        sl->off[2 * i] = sl->off[2 * i + 1] = sl->text.len;
        if ((!o->slab.empty && slab_empty(s)) || !kx_filter_match(o->filter, s->name))
            continue;
        kx_cache_label(s, label, sizeof(label));
        label_text(&sl->text, slab_family[0].labels[0], label);
        sl->off[2 * i + 1] = sl->text.len;
        if (o->slab.node_exporter_names)
            label_text(&sl->text, ne_family[0].fam.labels[0], label);
    }
    sl->off[2 * si->n] = sl->text.len;
    if (!sl->text.err && o->slab.top)
        return slab_keep_top(sl, si, o->slab.top, o->page_size);
    return sl->text.err;
}

static void slab_labels_free(struct slab_labels *sl)
{
    kmem_buf_free(&sl->text);
    free(sl->off);
    free(sl->drop);
}

/* One family's samples: @which 0 for the cache label, 1 for the slab label. */
static void slab_samples(struct kmem_buf *b, const struct kmem_slabinfo *si,
                         const struct slab_labels *sl, int which, const char *name,
                         enum slab_family f, uint64_t page_size)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; si && i < si->n; i++) {
        size_t from = sl->off[2 * i + which], to = sl->off[2 * i + which + 1];
        if (to == from || (sl->drop && sl->drop[i]))
            continue;
        kx_expo_line_u64(b, name, nlen, sl->text.data + from, to - from,
                         slab_value(&si->v[i], f, page_size));
    }
    /* The rest of --collector.slabinfo.top: the families that add up (never a size
     * per object or per slab, nor node_exporter's names). */
    if (sl->rest && which == 0 && !slab_static(f))
        kx_expo_line_u64(b, name, nlen, sl->text.data + sl->rest_from, sl->rest_to - sl->rest_from,
                         sl->rest_value[f]);
}

/*
 * kmem_slab_info{cache, object_size_bytes, objects_per_slab, pages_per_slab}
 * 1, and where /sys/kernel/slab has the cache's attributes (SLUB; read when
 * the cache list changes, docs/node.md) reclaimable, accounted, merged,
 * order and aliases (other caches merged into it) too.
 */
/* ',name="' of label @i of kmem_slab_info (after the cache label). */
static void info_label(struct kmem_buf *b, int i)
{
    kmem_buf_addc(b, ',');
    kmem_buf_adds(b, slab_info_family.labels[i]);
    kmem_buf_add(b, "=\"", 2);
}

static void slab_info(struct kmem_buf *b, const struct kmem_slabinfo *si,
                      const struct slab_labels *sl)
{
    static const char *const tri[] = {"unknown", "false", "true"};

    /* The hot path: the cache label text is the one built for every family,
     * the others follow in the declared order; the five from
     * /sys/kernel/slab only where it was read. */
    kx_family_head(b, &slab_info_family);
    for (size_t i = 0; si && i < si->n; i++) {
        size_t from = sl->off[2 * i], to = sl->off[2 * i + 1];
        if (to == from || (sl->drop && sl->drop[i]))
            continue;
        const struct kmem_slab *s = &si->v[i];
        /* The cache label piece is "{cache=\"...\"} ": reuse all but "} ". */
        kmem_buf_adds(b, slab_info_family.name);
        kmem_buf_add(b, sl->text.data + from, to - from - 2);
        info_label(b, 1);
        kmem_buf_add_u64(b, s->objsize);
        kmem_buf_addc(b, '"');
        info_label(b, 2);
        kmem_buf_add_u64(b, s->objperslab);
        kmem_buf_addc(b, '"');
        info_label(b, 3);
        kmem_buf_add_u64(b, s->pagesperslab);
        kmem_buf_addc(b, '"');
        if (s->attr.known) {
            info_label(b, 4);
            kmem_buf_adds(b, s->attr.reclaimable ? "true\"" : "false\"");
            info_label(b, 5);
            /* sysfs and the name only: the owner snapshot's evidence
             * (accounted_charged) would make the label depend on --collector.owners */
            kmem_buf_adds(b, tri[s->attr.accounted_charged ? 0 : s->attr.accounted + 1]);
            kmem_buf_addc(b, '"');
            info_label(b, 6);
            kmem_buf_adds(b, s->attr.merged ? "true\"" : "false\"");
            info_label(b, 7);
            kmem_buf_add_u64(b, s->attr.order);
            kmem_buf_addc(b, '"');
            info_label(b, 8);
            kmem_buf_add_u64(b, s->attr.aliases);
            kmem_buf_addc(b, '"');
        }
        kmem_buf_add(b, "} 1\n", 4);
    }
}

int kx_render_slabinfo(struct kmem_buf *b, const struct kx_collection *c,
                       const struct kx_render_opts *o, void *state)
{
    const struct kmem_slabinfo *si = c->slab;
    struct slab_labels sl = {0};
    int r = 0;

    (void)state;
    if (si) {
        r = slab_labels_build(&sl, si, o);
        if (r)
            goto out_free;
    }
    for (int f = 0; f < SF_COUNT; f++) {
        if (slab_static((enum slab_family)f) && !o->slab.static_families)
            continue;
        kx_family_head(b, &slab_family[f]);
        if (si)
            slab_samples(b, si, &sl, 0, slab_family[f].name, (enum slab_family)f, o->page_size);
    }
    slab_info(b, si, &sl);
    for (size_t k = 0; o->slab.node_exporter_names && k < sizeof(ne_family) / sizeof(ne_family[0]);
         k++) {
        kx_family_head(b, &ne_family[k].fam);
        if (si)
            slab_samples(b, si, &sl, 1, ne_family[k].fam.name, ne_family[k].f, o->page_size);
    }
    r = b->err;
out_free:
    slab_labels_free(&sl);
    return r;
}

/* ---- process_* self metrics (always the real /proc/self) ---- */

/* The start of @path (at most @len - 1 bytes) into @buf, NUL-terminated. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    struct kmem_buf b = {0};
    int r = kmem_buf_read_file(&b, AT_FDCWD, path, 0);
    size_t n;

    if (r) {
        free(b.data);
        return r;
    }
    n = b.len < len - 1 ? b.len : len - 1;
    memcpy(buf, b.data, n);
    buf[n] = '\0';
    free(b.data);
    return (ssize_t)n;
}

static pthread_once_t btime_once = PTHREAD_ONCE_INIT;
static uint64_t btime_s;

static void btime_init(void)
{
    char buf[16384];
    if (read_small("/proc/stat", buf, sizeof(buf)) < 0)
        return;
    const char *p = strstr(buf, "\nbtime ");
    if (p)
        btime_s = strtoull(p + 7, NULL, 10);
}

int kx_process_read(struct kx_process *p)
{
    char buf[1024];
    memset(p, 0, sizeof(*p));
    if (read_small("/proc/self/stat", buf, sizeof(buf)) < 0)
        return -EIO;
    /* The command may hold spaces and parentheses: fields start after the last ')'. */
    const char *s = strrchr(buf, ')');
    if (!s)
        return -EINVAL;
    s++;
    uint64_t field[64] = {0};
    int nf = 3; /* field 3 is the state letter */
    while (*s && nf < 64) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *end;
        field[nf] = strtoull(s, &end, 10);
        if (end == s) /* state letter */
            end = (char *)s + 1;
        while (*end && *end != ' ')
            end++;
        s = end;
        nf++;
    }
    if (nf < 25)
        return -EINVAL;
    long tck = sysconf(_SC_CLK_TCK);
    long pg = sysconf(_SC_PAGESIZE);
    if (tck <= 0)
        tck = 100;
    p->cpu_seconds = (double)(field[14] + field[15]) / (double)tck;
    p->vsize_bytes = field[23];
    p->rss_bytes = field[24] * (uint64_t)(pg > 0 ? pg : 4096);
    pthread_once(&btime_once, btime_init);
    p->start_time_seconds = (double)btime_s + (double)field[22] / (double)tck;

    DIR *d = opendir("/proc/self/fd");
    if (d) {
        const struct dirent *de;
        uint64_t n = 0;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                n++;
        closedir(d);
        p->open_fds = n > 0 ? n - 1 : 0; /* minus the directory's own fd */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        p->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
    p->ok = true;
    return 0;
}
