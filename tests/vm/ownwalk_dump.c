// SPDX-License-Identifier: MIT
/*
 * ownwalk_dump: one owner walk (src/lib/ownwalk.c), printed as text for the
 * VM checks (tests/vm/check_owners.py) and the cost bench (bench/owners.sh):
 *
 *   method <kallsyms|pairing>
 *   vmemmap <addr> end_pfn <n> layout <bits> vec_slabs <n> ... (kmem_ownwalk_stats)
 *   pages <n> slabs <n> cpu_seconds <s> rows <n>
 *   <cgroup id>\t<objects>\t<bytes>\t<cache>      (one line per row)
 *
 * With -p, also the page array found by pairing (ownpair.c) whatever way the
 * walker found it: "pairing 0x<addr>" or "pairing_error <why>".
 *
 * With -i, one walk taken as the recorder takes it (kmem_owners_live_isolated:
 * in a child process that sends the rows back through a pipe), printed the
 * same way ("method isolated", no walker statistics).
 *
 * Usage: ownwalk_dump [-p] [-n WALKS] [-s PREFIX]  (the last walk is printed; the
 * cpu line of each walk goes to stderr; -s copies /proc/slabinfo to
 * PREFIX.before once the walker is loaded and to PREFIX.after after the
 * walks, so that both reads hold the walker's own objects, its BPF maps and
 * programs, as the walk does). Exit 1 with the walker's message on stderr
 * when it cannot run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ownpair.h"
#include "owners.h"
#include "ownwalk.h"
#include "readers.h"

static void print_rows(const struct kmem_owners *o)
{
    printf("pages %llu slabs %llu cpu_seconds %.6f rows %zu\n", (unsigned long long)o->pages,
           (unsigned long long)o->slabs, o->cpu_seconds, o->nrows);
    for (size_t i = 0; i < o->nrows; i++)
        printf("%llu\t%llu\t%llu\t%s\n", (unsigned long long)o->rows[i].cgroup_id,
               (unsigned long long)o->rows[i].objects, (unsigned long long)o->rows[i].bytes,
               o->rows[i].cache);
}

/* -i: one walk in a child process, as the recorder takes it. */
static int isolated(void)
{
    struct kmem_owners o;
    char err[512];

    kmem_owners_init(&o);
    if (kmem_owners_live_isolated(&o, err, sizeof(err))) {
        fprintf(stderr, "ownwalk_dump: %s\n", err);
        return 1;
    }
    if (kmem_owners_finish(&o, NULL, NULL)) {
        fprintf(stderr, "ownwalk_dump: out of memory\n");
        return 1;
    }
    printf("method isolated\nvmemmap - (the walk ran in a child process)\n");
    print_rows(&o);
    kmem_owners_free(&o);
    return 0;
}

static int copy_slabinfo(const char *prefix, const char *suffix)
{
    char path[4096], buf[65536];
    FILE *in, *out;
    size_t n;

    snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
    in = fopen("/proc/slabinfo", "re");
    out = fopen(path, "we");
    if (!in || !out) {
        fprintf(stderr, "ownwalk_dump: %s: cannot copy /proc/slabinfo\n", path);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return fclose(out) ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct kmem_ownwalk *w;
    struct kmem_owners o;
    const char *si = NULL;
    char err[512];
    int walks = 1, pair = 0;

    if (argc == 2 && !strcmp(argv[1], "-i"))
        return isolated();
    if (argc > 1 && !strcmp(argv[1], "-p")) {
        pair = 1;
        argv++;
        argc--;
    }
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 < argc && !strcmp(argv[i], "-n")) {
            walks = atoi(argv[i + 1]);
        } else if (i + 1 < argc && !strcmp(argv[i], "-s")) {
            si = argv[i + 1];
        } else {
            fprintf(stderr, "usage: ownwalk_dump [-p] [-n WALKS] [-s PREFIX] | -i\n");
            return 2;
        }
    }
    if (kmem_ownwalk_open(&w, err, sizeof(err))) {
        fprintf(stderr, "ownwalk_dump: %s\n", err);
        return 1;
    }
    if (si && copy_slabinfo(si, "before")) {
        kmem_ownwalk_close(w);
        return 1;
    }
    kmem_owners_init(&o);
    for (int i = 0; i < walks; i++) {
        kmem_owners_free(&o);
        if (kmem_ownwalk_run(w, &o, err, sizeof(err))) {
            fprintf(stderr, "ownwalk_dump: %s\n", err);
            kmem_ownwalk_close(w);
            return 1;
        }
        fprintf(stderr, "walk %d cpu_seconds %.6f pages %llu slabs %llu\n", i, o.cpu_seconds,
                (unsigned long long)o.pages, (unsigned long long)o.slabs);
    }
    if (si && copy_slabinfo(si, "after")) {
        kmem_ownwalk_close(w);
        return 1;
    }
    if (kmem_owners_finish(&o, NULL, NULL)) {
        fprintf(stderr, "ownwalk_dump: out of memory\n");
        return 1;
    }
    struct kmem_ownwalk_stats st;

    kmem_ownwalk_stats(w, &st);
    printf("method %s\n", kmem_ownwalk_method(w));
    if (pair) {
        uint64_t v = 0;
        char why[256];

        if (kmem_ownpair_vmemmap(st.page_size, &v, why, sizeof(why)))
            printf("pairing_error %s\n", why);
        else
            printf("pairing 0x%llx\n", (unsigned long long)v);
    }
    printf("vmemmap 0x%llx end_pfn %llu layout 0x%x vec_slabs %llu inobj_slabs %llu objects %llu "
           "read_errors %llu bad_objcg %llu map_full %llu maps_prealloc %d\n",
           (unsigned long long)st.vmemmap, (unsigned long long)st.end_pfn, st.layout,
           (unsigned long long)st.vec_slabs, (unsigned long long)st.inobj_slabs,
           (unsigned long long)st.objects, (unsigned long long)st.read_errors,
           (unsigned long long)st.bad_objcg, (unsigned long long)st.map_full, st.maps_prealloc);
    print_rows(&o);
    kmem_owners_free(&o);
    kmem_ownwalk_close(w);
    return 0;
}
