/* SPDX-License-Identifier: MIT */
/* Public basics every layer of libkmem shares: where a context reads, the page size. */
#ifndef KMEM_BASE_H
#define KMEM_BASE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Where a context reads. Every path is optional: root defaults to "/";
 * procfs, sysfs and podlogs default to ROOT/proc, ROOT/sys and ROOT/var/log
 * (the directory holding pods/ and containers/).
 */
struct kmem_ctx_opts {
    const char *root;
    const char *procfs;
    const char *sysfs;
    const char *podlogs;
};

/* System page size used for page-counted figures (from the running kernel). */
uint64_t kmem_page_size(void);

/* Where a capture into memory hands each file (relative path; @link: a symlink's target). */
typedef void (*kmem_capture_sink_fn)(void *arg, const char *rel, const char *data, size_t len,
                                     const char *link);

#endif
