/* SPDX-License-Identifier: MIT */
/*
 * --run-as USER: drop to USER's uid/gid keeping only CAP_DAC_READ_SEARCH
 * (enough to open /proc/slabinfo, mode 0400 root) in the permitted and
 * effective sets; the bounding, inheritable and ambient sets are emptied of
 * everything else and no_new_privs is set. Must run before any thread starts:
 * capabilities are per thread.
 */
#ifndef KX_PRIVS_H
#define KX_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* Look up @user (name or numeric uid). 0 or -errno with a message. */
int kx_privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Drop to @user and verify the result. 0 or -errno with a message. */
int kx_privs_drop(const char *user, char *err, size_t errlen);

#endif
