/* SPDX-License-Identifier: MIT */
/* The one time-difference helper of kmem, and the monotonic clock in seconds. */
#ifndef KMEM_TIMEUTIL_H
#define KMEM_TIMEUTIL_H

#include <time.h>

/* Seconds from @a to @b (negative when @b is earlier). */
static inline double kmem_ts_diff(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Clock @id now, in seconds (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...). */
static inline double kmem_clock_seconds(clockid_t id)
{
    static const struct timespec zero;
    struct timespec t;

    clock_gettime(id, &t);
    return kmem_ts_diff(&zero, &t);
}

#endif
