// SPDX-License-Identifier: MIT
/*
 * ownwalk_dump: one owner walk (src/lib/ownwalk.c), printed as text for the
 * VM checks (tests/vm/check_owners.py) and the cost bench (bench/owners.sh):
 *
 *   method <kallsyms|pairing>
 *   pages <n> slabs <n> cpu_seconds <s> rows <n>
 *   <cgroup id>\t<objects>\t<bytes>\t<cache>      (one line per row)
 *
 * Usage: ownwalk_dump [-n WALKS]  (the last walk is printed; the cpu line of
 * each walk goes to stderr). Exit 1 with the walker's message on stderr when
 * it cannot run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owners.h"
#include "ownwalk.h"

int main(int argc, char **argv)
{
    struct kmem_ownwalk *w;
    struct kmem_owners o;
    char err[512];
    int walks = 1;

    if (argc == 3 && !strcmp(argv[1], "-n"))
        walks = atoi(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: ownwalk_dump [-n WALKS]\n");
        return 2;
    }
    if (kmem_ownwalk_open(&w, err, sizeof(err))) {
        fprintf(stderr, "ownwalk_dump: %s\n", err);
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
    if (kmem_owners_finish(&o, NULL, NULL)) {
        fprintf(stderr, "ownwalk_dump: out of memory\n");
        return 1;
    }
    printf("method %s\n", kmem_ownwalk_method(w));
    printf("pages %llu slabs %llu cpu_seconds %.6f rows %zu\n", (unsigned long long)o.pages,
           (unsigned long long)o.slabs, o.cpu_seconds, o.nrows);
    for (size_t i = 0; i < o.nrows; i++)
        printf("%llu\t%llu\t%llu\t%s\n", (unsigned long long)o.rows[i].cgroup_id,
               (unsigned long long)o.rows[i].objects, (unsigned long long)o.rows[i].bytes,
               o.rows[i].cache);
    kmem_owners_free(&o);
    kmem_ownwalk_close(w);
    return 0;
}
