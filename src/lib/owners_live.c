// SPDX-License-Identifier: MIT
/*
 * The owner snapshot of the live kernel: the walker of ownwalk.h, opened
 * once and kept (its BPF program stays loaded between walks), run on demand.
 * Built without the walker (ownwalk.h absent), every walk says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "readers.h"

#if __has_include("ownwalk.h")
#include "ownwalk.h"
#include "timeutil.h"

int kmem_owners_live(void **state, struct kmem_owners *o, char *err, size_t errlen)
{
    struct kmem_ownwalk *w = *state;
    struct timespec c0, c1;
    int e;

    if (!w) {
        e = kmem_ownwalk_open(&w, err, errlen);
        if (e)
            return e;
        *state = w;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    e = kmem_ownwalk_run(w, o, err, errlen);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    if (e)
        return e;
    o->present = true;
    if (!o->taken.tv_sec)
        clock_gettime(CLOCK_REALTIME, &o->taken);
    if (!(o->cpu_seconds > 0))
        o->cpu_seconds = kmem_ts_diff(&c0, &c1);
    return 0;
}

void kmem_owners_live_close(void *state)
{
    if (state)
        kmem_ownwalk_close(state);
}

#else

int kmem_owners_live(void **state, struct kmem_owners *o, char *err, size_t errlen)
{
    (void)state;
    (void)o;
    snprintf(err, errlen, "owner snapshot: this kmem was built without the owner walker");
    return -ENOSYS;
}

void kmem_owners_live_close(void *state)
{
    (void)state;
}

#endif
