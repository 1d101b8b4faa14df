// SPDX-License-Identifier: MIT
/* Privilege drop: setgroups/setgid/setuid keeping CAP_DAC_READ_SEARCH. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sys/capability.h>

#include "privs.h"

int kx_privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    int r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
    if (!res) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(user, &end, 10);
        if (*user && !*end && !errno && n < (unsigned long)(uid_t)-1)
            r = getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &res);
    }
    if (!res) {
        snprintf(err, errlen, "--run-as: no such user '%s'%s%s", user, r ? ": " : "",
                 r ? strerror(r) : "");
        return r ? -r : -ENOENT;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return 0;
}

static int fail(char *err, size_t errlen, int e, const char *what)
{
    snprintf(err, errlen, "--run-as: %s: %s", what, strerror(e));
    return -e;
}

/* Permitted = effective = {CAP_DAC_READ_SEARCH}, inheritable empty. */
static int set_caps(char *err, size_t errlen)
{
    cap_value_t keep[] = {CAP_DAC_READ_SEARCH};
    cap_t caps = cap_init();
    if (!caps)
        return fail(err, errlen, errno, "cap_init");
    int r = 0;
    if (cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) ||
        cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) || cap_set_proc(caps))
        r = fail(err, errlen, errno, "cap_set_proc(CAP_DAC_READ_SEARCH)");
    cap_free(caps);
    return r;
}

static int verify(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
        return fail(err, errlen, errno, "getresuid");
    if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
        snprintf(err, errlen, "--run-as: uid/gid not fully changed");
        return -EPERM;
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "--run-as: could regain root after dropping it");
        return -EPERM;
    }
    /* Exactly CAP_DAC_READ_SEARCH in permitted and effective. */
    cap_t want = cap_init(), have = cap_get_proc();
    int r = 0;
    cap_value_t keep[] = {CAP_DAC_READ_SEARCH};
    if (!want || !have) {
        r = fail(err, errlen, errno, "cap_get_proc");
    } else {
        cap_set_flag(want, CAP_PERMITTED, 1, keep, CAP_SET);
        cap_set_flag(want, CAP_EFFECTIVE, 1, keep, CAP_SET);
        if (cap_compare(want, have) != 0) {
            char *txt = cap_to_text(have, NULL);
            snprintf(err, errlen, "--run-as: capabilities are '%s', not cap_dac_read_search=ep",
                     txt ? txt : "?");
            cap_free(txt);
            r = -EPERM;
        }
    }
    cap_free(want);
    cap_free(have);
    return r;
}

int kx_privs_drop(const char *user, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    int r = kx_privs_lookup(user, &uid, &gid, err, errlen);
    if (r)
        return r;

    if (getuid() != 0 || geteuid() != 0) {
        if (getuid() == uid && geteuid() == uid)
            return 0; /* already that user: nothing to drop */
        snprintf(err, errlen, "--run-as %s: must be started as root", user);
        return -EPERM;
    }

    /* Shrink the bounding set while CAP_SETPCAP is still held. */
    for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
        if (c == CAP_DAC_READ_SEARCH)
            continue;
        if (cap_drop_bound(c) && errno != EINVAL)
            return fail(err, errlen, errno, "cap_drop_bound");
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
        return fail(err, errlen, errno, "clearing ambient capabilities");
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
        return fail(err, errlen, errno, "PR_SET_KEEPCAPS");
    if (setgroups(1, &gid))
        return fail(err, errlen, errno, "setgroups");
    if (setresgid(gid, gid, gid))
        return fail(err, errlen, errno, "setgid");
    if (setresuid(uid, uid, uid))
        return fail(err, errlen, errno, "setuid");
    /* setuid() kept the permitted set (KEEPCAPS) but cleared the effective one. */
    r = set_caps(err, errlen);
    if (r)
        return r;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
        return fail(err, errlen, errno, "PR_SET_KEEPCAPS");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return fail(err, errlen, errno, "PR_SET_NO_NEW_PRIVS");
    return verify(uid, gid, err, errlen);
}
