/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "needs.h"

void kmem_privs_self(struct kmem_privs *p)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];

    memset(p, 0, sizeof(*p));
    memset(d, 0, sizeof(d));
    p->euid0 = geteuid() == 0;
    if (syscall(SYS_capget, &h, d) == 0) {
        p->known = true;
        p->eff = (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
    }
}

static bool has(const struct kmem_privs *p, unsigned cap)
{
    if (!p->known)
        return p->euid0; /* no capget: uid 0 is assumed to hold them */
    return (p->eff >> cap) & 1;
}

/* "uid 0 without CAP_X" or "uid N without CAP_X" (who we are, for the reader). */
static const char *who(const struct kmem_privs *p)
{
    return p->euid0 ? "this process is uid 0 but" : "this process is not uid 0 and";
}

const char *kmem_need_text(char *buf, size_t len, enum kmem_need need, int err,
                           const struct kmem_privs *p)
{
    err = err < 0 ? -err : err;
    switch (need) {
    case KMEM_NEED_KLOG:
        if (err == ENOENT)
            snprintf(buf, len,
                     "the kernel log is not in this tree: mount the host's /dev/kmsg (it is "
                     "not in a container's /dev) or the boot log saved at boot to "
                     "/var/log/dmesg");
        else if (err == ENODATA)
            snprintf(buf, len,
                     "the kernel log holds none of the boot messages kmem reads: "
                     "/var/log/dmesg is empty or not this boot's, or the kernel's log "
                     "buffer had dropped them when it was read (save it at boot: "
                     "deploy/systemd/kmem-dmesg.service, `dmesg --kernel >/var/log/dmesg`)");
        else if (!has(p, KMEM_CAP_SYSLOG))
            snprintf(buf, len,
                     "/dev/kmsg needs CAP_SYSLOG when dmesg_restrict is set: %s lacks "
                     "CAP_SYSLOG (add SYSLOG to the capabilities, or read the boot log saved "
                     "at boot to /var/log/dmesg instead)",
                     who(p));
        else
            snprintf(buf, len,
                     "this process holds CAP_SYSLOG, so /dev/kmsg is refused by the "
                     "container's device rules: allow the character device 1:11, or mount "
                     "the boot log saved to /var/log/dmesg");
        break;
    case KMEM_NEED_IOMEM:
        if (err == ENOENT)
            snprintf(buf, len, "/proc/iomem is not in this tree");
        else if (!has(p, KMEM_CAP_SYS_ADMIN))
            snprintf(buf, len,
                     "/proc/iomem shows every address as 0 without CAP_SYS_ADMIN (of the "
                     "host's user namespace): %s lacks CAP_SYS_ADMIN",
                     who(p));
        else
            snprintf(buf, len,
                     "/proc/iomem shows zero addresses although this process holds "
                     "CAP_SYS_ADMIN: it is not the host's user namespace");
        break;
    case KMEM_NEED_VMINFO:
        if (err == ENOENT)
            snprintf(buf, len, "/proc/vmallocinfo is not in this tree");
        else if (!p->euid0 && !has(p, KMEM_CAP_DAC_READ_SEARCH))
            snprintf(buf, len,
                     "/proc/vmallocinfo is mode 0400, owned by root: %s lacks "
                     "CAP_DAC_READ_SEARCH",
                     who(p));
        else
            snprintf(buf, len,
                     "/proc/vmallocinfo was refused (%s) although this process may "
                     "read it: a security module (SELinux, AppArmor) denies it",
                     strerror(err));
        break;
    }
    return buf;
}
