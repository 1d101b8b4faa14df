/* SPDX-License-Identifier: MIT */
/*
 * Private to match.c (the automaton) and match_parse.c (the parser): the
 * byte sets and the parse tree the one hands to the other.
 */
#ifndef KX_MATCH_INT_H
#define KX_MATCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match.h"

/* ---- byte sets ---- */

struct cset {
    uint64_t w[4];
};

static inline bool cs_has(const struct cset *c, unsigned ch)
{
    return (c->w[(ch >> 6) & 3] >> (ch & 63)) & 1;
}

/* ---- parse tree ---- */

enum node_type { N_EMPTY, N_SET, N_BOL, N_EOL, N_CAT, N_ALT, N_REP };

struct node {
    enum node_type t;
    int first, last, next; /* children (CAT, ALT, REP) and the next sibling; -1: none */
    int min, max;          /* N_REP; max -1: unbounded */
    size_t size;           /* automaton states it compiles to (saturated) */
    struct cset set;       /* N_SET */
};

struct parser {
    const char *s;
    size_t i, n;
    struct node *nodes;
    size_t nn, cap;
    bool icase, dotnl;
    int depth;
    int rc; /* first error: -EINVAL or -ENOMEM */
    char *err;
    size_t errlen;
};

/*
 * Parse p->s (p->n bytes) into p->nodes: the root node's index, or -1 with
 * p->rc and the message in p->err. An empty expression is an N_EMPTY node;
 * text left after the expression (an unmatched ')') is an error.
 */
int kx_re_parse(struct parser *p);

#endif
