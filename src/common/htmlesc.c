/* SPDX-License-Identifier: MIT */
/* The one HTML escaper (see htmlesc.h). */
#include <string.h>

#include "htmlesc.h"

int kmem_buf_add_html(struct kmem_buf *b, const char *s)
{
    for (;;) {
        size_t run = strcspn(s, "&<>\"'");
        const char *ent;

        kmem_buf_add(b, s, run);
        s += run;
        switch (*s) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default: /* the end */
            return b->err;
        }
        kmem_buf_adds(b, ent);
        s++;
    }
}
