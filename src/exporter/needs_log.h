/* SPDX-License-Identifier: MIT */
/*
 * What a collection could not see for want of a capability or a mount (the
 * kernel log, /proc/iomem's addresses, /proc/vmallocinfo), logged as a
 * warning when it starts and again when it changes, in src/common/needs.c's
 * words: the capability or the mount that is missing (uid 0 is not enough
 * in a container), and which series it costs.
 */
#ifndef KX_NEEDS_LOG_H
#define KX_NEEDS_LOG_H

#include <stdbool.h>

#include "metrics.h"

enum { KX_UNAVAIL_KLOG, KX_UNAVAIL_IOMEM, KX_UNAVAIL_VMINFO, KX_UNAVAIL_COUNT };

struct kx_unavail {
    bool live;                         /* the proc directory read is a live procfs */
    char logged[KX_UNAVAIL_COUNT][16]; /* the state last logged ("" = available) */
};

/* Whether @procfs (NULL: /proc), or ROOT/proc, is a live procfs. */
bool kx_procfs_is_live(const char *root, const char *procfs);

/* Log what @col lacks (and what works again), each datum when its state changes. */
void kx_log_unavailable(struct kx_unavail *u, const struct kx_collection *col);

#endif
