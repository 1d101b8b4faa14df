// SPDX-License-Identifier: MIT
/* Warnings for figures a collection could not read for lack of privilege or mount. */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>

#include "log.h"
#include "needs.h"
#include "needs_log.h"

bool kx_procfs_is_live(const char *root, const char *procfs)
{
    char path[PATH_MAX];
    struct statfs sf;

    if (procfs)
        snprintf(path, sizeof(path), "%s", procfs);
    else
        snprintf(path, sizeof(path), "%s/proc", root && strcmp(root, "/") ? root : "");
    return statfs(path, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* The series a missing datum costs, for the warning. */
static const char *const lost[KX_UNAVAIL_COUNT] = {
    [KX_UNAVAIL_KLOG] = "kmem_node_kernel_bytes{kind=\"hash_tables\"} is 0 (its bytes count as "
                        "unaccounted), percpu includes the boot-time first chunk",
    [KX_UNAVAIL_IOMEM] = "kmem_node_system_ram_bytes and kmem_node_outside_bytes (RAM outside "
                         "MemTotal) are not exported",
    [KX_UNAVAIL_VMINFO] = "kmem_vmalloc_bytes (vmalloc callers) is not exported",
};
static const enum kmem_need need_of[KX_UNAVAIL_COUNT] = {
    [KX_UNAVAIL_KLOG] = KMEM_NEED_KLOG,
    [KX_UNAVAIL_IOMEM] = KMEM_NEED_IOMEM,
    [KX_UNAVAIL_VMINFO] = KMEM_NEED_VMINFO,
};
static const char *const what[KX_UNAVAIL_COUNT] = {
    [KX_UNAVAIL_KLOG] = "kernel log",
    [KX_UNAVAIL_IOMEM] = "/proc/iomem",
    [KX_UNAVAIL_VMINFO] = "/proc/vmallocinfo",
};

/*
 * The -errno that makes datum @i unavailable, 0 when it is available, or 1
 * when this collection did not decide it. A file that is absent (ENOENT) is
 * reported only on a live procfs: a captured tree or a fixture may lack it.
 */
static int state(const struct kx_unavail *u, const struct kx_collection *col, int i)
{
    const struct kmem_node *n = col->node;
    const struct kmem_detail *d = col->detail;
    int err;

    switch (i) {
    case KX_UNAVAIL_KLOG:
        if (!n || !n->boot.read)
            return 1;
        err = n->boot.err;
        /* A log without any boot message kmem reads (the kubelet's empty
         * FileOrCreate file: no boot log was saved) */
        if (!err && !n->boot.n_hash_lines && !n->boot.percpu_seen && !n->boot.image_freed_seen)
            err = -ENODATA;
        break;
    case KX_UNAVAIL_IOMEM:
        if (!d)
            return 1;
        err = d->iomem.err;
        break;
    default:
        if (!d)
            return 1;
        err = d->vmalloc.err;
        if (err && err != -EACCES && err != -EPERM && err != -ENOENT)
            return 1; /* a parse error is the collector's failure, logged as such */
        break;
    }
    if (err == -ENOENT && !u->live)
        return 0;
    return err;
}

void kx_log_unavailable(struct kx_unavail *u, const struct kx_collection *col)
{
    struct kmem_privs p;
    bool have_privs = false;

    for (int i = 0; i < KX_UNAVAIL_COUNT; i++) {
        int err = state(u, col, i);
        char now[16], why[320];

        if (err == 1)
            continue;
        snprintf(now, sizeof(now), "%d", err ? -err : 0);
        if (err == 0)
            now[0] = 0;
        if (strcmp(now, u->logged[i]) == 0)
            continue;
        if (err) {
            if (!have_privs) {
                kmem_privs_self(&p);
                have_privs = true;
            }
            kx_log(KX_LOG_WARN, "Data unavailable", "source", what[i], "reason",
                   kmem_need_text(why, sizeof(why), need_of[i], err, &p), "effect", lost[i], NULL);
        } else if (u->logged[i][0]) {
            kx_log(KX_LOG_INFO, "Data available again", "source", what[i], NULL);
        }
        memcpy(u->logged[i], now, sizeof(now));
    }
}
