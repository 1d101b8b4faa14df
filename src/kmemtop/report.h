/* SPDX-License-Identifier: MIT */
/* kmemtop --report: what its sections share (report.c, report_advice.c,
 * report_cg.c). */
#ifndef KT_REPORT_H
#define KT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "views.h"

#define TOP_N 10
#define H     24

struct rep {
    FILE *f;
    const struct kmem_snapshot *snap;
    bool node_ok, slab_ok, cg_ok;
};

const char *kt_rep_hum(char *buf, uint64_t v);
void kt_rep_wrap(FILE *f, const char *first, int indent, const char *text);
void kt_rep_section(struct rep *r, const char *title);
void kt_rep_missing(struct rep *r, unsigned part, const struct kmem_status *st, const char *what);

/* report_advice.c */
void kt_rep_notes(struct rep *r);
void kt_rep_advice(struct rep *r);
/* The report is of a recorded moment (DIR, "YYYY-MM-DD HH:MM:SS"): its
 * commands replay that moment. NULL: the machine now. */
void kt_report_set_replay(const char *dir, const char *when);

/* cachehint.c: what a cache holds in plain words ("sockets"), NULL unknown. */
const char *kt_cache_meaning(const char *name);
/* "NAME: meaning", then the caches @merged into it ("a,b", may be NULL) and theirs. */
void kt_cache_explain(char *out, size_t len, const char *name, const char *merged);

/* report_cg.c */
void kt_rep_cgroups(struct rep *r);
void kt_rep_dying(struct rep *r);
/* The root's kernel, plus its sock on v2: what "not charged" leaves out. */
uint64_t kt_rep_charged(const struct kmem_cgroups *cgs);
/* The leaf cgroup (container, service) with the most kernel memory; NULL when
 * there is none below the root or it holds nothing. */
const struct kmem_cgroup *kt_rep_top_leaf(const struct kmem_cgroups *cgs);

#endif
