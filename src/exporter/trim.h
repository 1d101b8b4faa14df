/* SPDX-License-Identifier: MIT */
#ifndef KX_TRIM_H
#define KX_TRIM_H

#include <stddef.h>

/*
 * Give back the resident pages of clean, read-only file mappings (library
 * code and constants) and turn off fault-around on them, so that RSS holds
 * what the exporter touches while it serves rather than what start-up code
 * touched once (GnuTLS and p11-kit initialise themselves when libmicrohttpd
 * is loaded, even without TLS). The pages stay in the page cache; those
 * used again fault back in one at a time. Mappings with private copies
 * (Anonymous > 0, e.g. relocated data) or write permission are left alone.
 * Returns the number of kB dropped, or -errno.
 */
long kx_trim_rss(void);

#endif
