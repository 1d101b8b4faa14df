/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "advice.h"
#include "macros.h"

static const struct {
    enum kmem_advice where;
    int err;
    const char *text;
} advice[] = {
    {KMEM_ADVICE_FILE, EACCES, " (run as root or grant CAP_DAC_READ_SEARCH)"},
    {KMEM_ADVICE_FILE, EPERM, " (run as root or grant CAP_DAC_READ_SEARCH)"},
    {KMEM_ADVICE_FILE, ENOENT, " (is /proc mounted, or does --root point at a captured tree?)"},
    {KMEM_ADVICE_FILE, EINVAL, " (not a regular file: a FIFO or a device is never read)"},
    {KMEM_ADVICE_FILE, EFBIG, " (larger than any kernel file kmem reads: 32 MiB)"},
    {KMEM_ADVICE_KLOG, EPERM,
     "Permission denied (dmesg_restrict: run as root or grant CAP_SYSLOG)"},
    {KMEM_ADVICE_KLOG, EACCES,
     "Permission denied (dmesg_restrict: run as root or grant CAP_SYSLOG)"},
    {KMEM_ADVICE_KLOG, ENOENT, "No such file (neither ROOT/dev/kmsg nor ROOT/var/log/dmesg)"},
    {KMEM_ADVICE_DETAIL, EPERM, "readable by root only: run as root"},
    {KMEM_ADVICE_DETAIL, EACCES, "readable by root only: run as root"},
    {KMEM_ADVICE_DETAIL, ENOENT, "not in this tree or kernel"},
    {KMEM_ADVICE_JSON, EPERM, "Permission denied (run as root)"},
    {KMEM_ADVICE_JSON, EACCES, "Permission denied (run as root)"},
};

const char *kmem_errno_advice(int err, enum kmem_advice where)
{
    err = err < 0 ? -err : err;
    for (size_t i = 0; i < ARRAY_SIZE(advice); i++)
        if (advice[i].where == where && advice[i].err == err)
            return advice[i].text;
    return NULL;
}

const char *kmem_errno_text(int err, enum kmem_advice where)
{
    const char *t = kmem_errno_advice(err, where);

    if (t)
        return t;
    return where == KMEM_ADVICE_FILE ? "" : strerror(err < 0 ? -err : err);
}

const char *kmem_errno_hint(int err)
{
    return kmem_errno_text(err, KMEM_ADVICE_FILE);
}
