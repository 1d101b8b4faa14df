/* SPDX-License-Identifier: MIT */
/* The one parse-error type of libkmem's pure parsers (set with kmem_parse_fail()). */
#ifndef KMEM_PARSE_ERROR_H
#define KMEM_PARSE_ERROR_H

/* What went wrong in a pure parser, and on which line. */
struct kmem_parse_error {
    unsigned line;    /* 1-based; 0 when not tied to a line */
    const char *what; /* static text, NULL when unknown */
};

#endif
