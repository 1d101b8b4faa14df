/* SPDX-License-Identifier: MIT */
/*
 * The one HTML escaper of kmem (kmemtop --html, the exporter's landing page):
 * & < > " ' become &amp; &lt; &gt; &quot; &#39;, so the text is safe both
 * between tags and inside a quoted attribute value. Other bytes are kept
 * (make them printable first where they come from the kernel).
 */
#ifndef KMEM_HTMLESC_H
#define KMEM_HTMLESC_H

#include "buf.h"

/* Append @s to @b, escaped. 0, or the buffer's sticky error. */
int kmem_buf_add_html(struct kmem_buf *b, const char *s);

#endif
