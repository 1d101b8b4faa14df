/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --html FILE: one self-contained page (inline CSS and script, no
 * network reference) with two treemaps and their tables, built from the
 * same snapshot that --json prints (docs/html.md).
 *
 * The model (htmlmodel.c): a tree of boxes, each with the bytes --json
 * gives for the same thing, laid out in C (treemap.c) so that the page
 * shows positioned boxes with scripts off. The page (html.c) writes it.
 */
#ifndef KMEMTOP_HTML_H
#define KMEMTOP_HTML_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kmem.h"
#include "owners.h"
#include "treemap.h"

/* The colours of the page: one per kind (Okabe-Ito), the same in both treemaps. */
enum kt_hcol {
    KT_HC_FREE,
    KT_HC_USER,
    KT_HC_SLAB_R,
    KT_HC_SLAB_U,
    KT_HC_STACK,
    KT_HC_PAGETABLES,
    KT_HC_VMALLOC,
    KT_HC_PERCPU,
    KT_HC_OTHER,       /* every other kernel kind (zswap, zram, bounce, hash tables, ...) */
    KT_HC_UNACCOUNTED, /* what no counter explains */
    KT_HC_GROUP,       /* a group: the kernel, a cgroup, a QoS class, a namespace */
    KT_HC_COUNT
};

/* The colour of a node kind (enum kmem_node_kind), and the words for it ("kernel stacks"). */
enum kt_hcol kt_html_kind_colour(int kind);
const char *kt_html_kind_words(int kind);
/* 0xRRGGBB of a colour (the untinted one). */
unsigned kt_html_rgb(enum kt_hcol c);
/* @s (made printable already) with &, <, >, " and ' as entities. */
void kt_html_esc(FILE *f, const char *s);
/* kt_html_esc() of any bytes: made printable first (\xNN). */
void kt_html_esc_raw(FILE *f, const char *s);

struct kt_hnode {
    char *name; /* printable (kt_printable, \xNN for bytes a page must not show), owned */
    char *key;  /* stable id ("kind:vmalloc", "cache:dentry", "cg:/system.slice"), owned */
    char *note; /* one more sentence for the hover text, or NULL; owned */
    uint64_t bytes;
    int parent;            /* -1: the root */
    int first, last, next; /* children, in the order added; -1: none */
    int depth;
    enum kt_hcol colour;
    bool synthetic; /* a group or a rest that no counter of its own names */
    bool hidden;    /* in the table only (another box shows its bytes) */
    bool drawn;     /* has a box of at least a pixel (else: in the table only) */
    struct kt_rect r;
};

struct kt_hmap {
    const char *title; /* "MemTotal", "Kernel memory by cgroup" */
    struct kt_hnode *v;
    size_t n, cap;
    int err; /* first -ENOMEM while adding */
};

/* Add a node under @parent (-1: the root); its index, or -1 (m->err set). */
int kt_hmap_add(struct kt_hmap *m, int parent, const char *key, const char *name, uint64_t bytes,
                enum kt_hcol colour);
/* Set a node's note (printf format). */
void kt_hmap_note(struct kt_hmap *m, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void kt_hmap_free(struct kt_hmap *m);

/*
 * MemTotal: free, user space, and the kernel by kind (slab kinds -> caches,
 * vmalloc -> callers, stacks, page tables, per-CPU, ..., the unexplained
 * rest). @kernel_only: the kernel's subtree alone, as its own root. 0,
 * -ENODATA when the node part is missing, or -ENOMEM.
 */
int kt_html_mem_tree(struct kt_hmap *m, const struct kmem_snapshot *snap, bool kernel_only);

/*
 * The cgroup tree by kernel memory: cgroups, with Kubernetes pods grouped
 * by QoS class and namespace; the leaves split into their kernel parts, and
 * the slab parts into caches where @own (the owner snapshot; NULL: none)
 * has rows for the cgroup. 0, -ENODATA without cgroups, or -ENOMEM.
 */
int kt_html_cg_tree(struct kt_hmap *m, const struct kmem_snapshot *snap,
                    const struct kmem_owners *own);

/*
 * Lay the tree out in @canvas (pixels): every node's box inside its
 * parent's, below a label strip where there is room. 0 or -ENOMEM.
 */
int kt_hmap_layout(struct kt_hmap *m, struct kt_rect canvas);

struct kt_hseries;

/* What the page says about where its snapshot came from. */
struct kt_html_info {
    const struct kmem_capture_meta *capture; /* NULL: live (or --root without metadata) */
    const char *root;                        /* --root, or NULL */
    const struct kmem_owners *owners;        /* the owner snapshot, or NULL */
    const struct kt_hseries *series;         /* a recording's samples (htmlhist.h), or NULL */
    const char *series_source;               /* where they come from ("DIR") */
    const char *sample;                      /* the sample the treemaps show ("DIR at TIME") */
};

/* Write the page for @snap to @f. 0 or -errno. */
int kt_html(FILE *f, const struct kmem_snapshot *snap, const struct kt_html_info *info);

struct kt_opts;
/*
 * The growth series of the recording @dir (htmlrec.c): up to 120 samples
 * evenly spaced (every sample taken at an OOM kill too) up to @at (NULL:
 * the newest), over the last @window (NULL: all of it). 0, or -errno with
 * the reason in @err.
 */
int kt_html_series(const char *dir, const char *at, const char *window, struct kt_hseries *h,
                   char *err, size_t len);
/* kmemtop --html FILE: collect, write the page into FILE (replaced in one rename). Exit status. */
int kt_html_run(struct kmem_ctx *ctx, const struct kt_opts *o);

#endif
