/* SPDX-License-Identifier: MIT */
/*
 * What a datum needs that this process lacks: uid 0 (the owner of the
 * 0400 /proc files) and the capabilities are separate things in a
 * container (uid 0 with every capability dropped is the DaemonSet's
 * case), so the advice names the capability or the mount that is missing,
 * not "run as root".
 */
#ifndef KMEM_NEEDS_H
#define KMEM_NEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMEM_CAP_DAC_READ_SEARCH 2
#define KMEM_CAP_SYS_ADMIN       21
#define KMEM_CAP_SYSLOG          34

struct kmem_privs {
    bool known;   /* capget() answered (else only euid is known) */
    bool euid0;   /* effective uid 0 */
    uint64_t eff; /* effective capabilities, bit n = capability n */
};

/* This process's euid and effective capabilities. */
void kmem_privs_self(struct kmem_privs *p);

enum kmem_need {
    KMEM_NEED_KLOG,   /* ROOT/dev/kmsg (or ROOT/var/log/dmesg): boot hash tables, freed init */
    KMEM_NEED_IOMEM,  /* /proc/iomem addresses: System RAM, the memory outside MemTotal */
    KMEM_NEED_VMINFO, /* /proc/vmallocinfo (0400 root): vmalloc callers */
};

/*
 * One sentence (into @buf, returned) saying what @need lacks, given @err
 * (the reader's -errno; for KMEM_NEED_IOMEM -EPERM means addresses shown
 * as zero; for KMEM_NEED_KLOG -ENODATA means a log without boot messages) and @p: the capability
 * missing (and that uid 0 is not enough), or the mount missing (ENOENT), or, when @p holds what is
 * needed, the other cause (a container's device rules for /dev/kmsg).
 */
const char *kmem_need_text(char *buf, size_t len, enum kmem_need need, int err,
                           const struct kmem_privs *p);

#endif
