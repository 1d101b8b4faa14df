/* SPDX-License-Identifier: MIT */
/* Where procps-ng 4.0.2 slabtop's behaviour needs more than the shared views. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "kmemtop.h"

void kt_slabtop_read_error(const struct kt_opts *o, int err)
{
    const char *loc = setlocale(LC_MESSAGES, NULL);

    if (err == -ENODATA) {
        /* procps 4.0.2 reports an empty file with whatever errno its
         * start-up left: none in the C locale (its slabinfo_new "succeeds"
         * and the first reap fails), ENOENT from the catalogue lookup in any
         * other locale. */
        if (!loc || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0)
            fprintf(stderr, "%s: Unable to get slabinfo node data: %s\n", o->prog,
                    strerror(EINVAL));
        else
            fprintf(stderr, "%s: Unable to create slabinfo structure: %s\n", o->prog,
                    strerror(ENOENT));
        return;
    }
    /* procps's words; a parse failure is its ERANGE */
    fprintf(stderr, "%s: Unable to create slabinfo structure: %s\n", o->prog,
            strerror(err == -EINVAL ? ERANGE : -err));
}
