/* SPDX-License-Identifier: MIT */
/* kmem_exporter --record.dir DIR: the flight recorder in a thread (record.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmemrec.h"
#include "log.h"
#include "record.h"

struct kx_recorder {
    struct kmem_ctx *ctx;
    struct kmem_recorder *rec;
    double interval;
    pthread_t thread;
    atomic_bool stop;
};

static double mono(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct kx_recorder *r = arg;
    bool oom = false;

    while (!atomic_load(&r->stop)) {
        double next = mono() + r->interval;

        if (kmem_recorder_sample(r->rec, r->ctx, oom)) {
            kx_log(KX_LOG_ERROR, "Recording stopped", "err", kmem_recorder_strerror(r->rec), NULL);
            break;
        }
        oom = false;
        /* Between samples, the OOM-kill counters once a second. */
        while (!atomic_load(&r->stop) && mono() < next) {
            struct timespec ts = {.tv_sec = 1};
            double left = next - mono();

            if (left < 1) {
                ts.tv_sec = 0;
                ts.tv_nsec = left > 0 ? (long)(left * 1e9) : 0;
            }
            nanosleep(&ts, NULL);
            if (kmem_recorder_oom_rose(r->rec)) {
                kx_log(KX_LOG_INFO, "An OOM kill: sampling now", NULL);
                oom = true;
                break;
            }
        }
    }
    return NULL;
}

int kx_record_start(struct kx_recorder **out, const struct kx_record_opts *o, char *err,
                    size_t errlen)
{
    struct kmem_recorder_opts ro = {
        .dir = o->dir,
        .retain_seconds = KMEM_REC_DEFAULT_RETAIN,
        .max_bytes = KMEM_REC_DEFAULT_MAX_BYTES,
        .command = o->command,
    };
    struct kx_recorder *r;
    sigset_t all, old;
    int rc;

    *out = NULL;
    if (o->retain && kmem_parse_duration(o->retain, &ro.retain_seconds)) {
        snprintf(err, errlen, "--record.retain: '%s' is no duration (e.g. 7d, 12h, 0)", o->retain);
        return -EINVAL;
    }
    if (o->max_size && kmem_parse_size(o->max_size, &ro.max_bytes)) {
        snprintf(err, errlen, "--record.max-size: '%s' is no size (e.g. 256MiB, 0)", o->max_size);
        return -EINVAL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->interval = o->interval > 0 ? o->interval : 10;
    rc = kmem_ctx_new_opts(&r->ctx, &o->paths, err, errlen);
    if (!rc) {
        kmem_ctx_set_owners_interval(r->ctx, KMEM_REC_OWNERS_INTERVAL);
        rc = kmem_recorder_open(&r->rec, &ro, err, errlen);
    }
    if (rc) {
        kx_record_stop(r);
        return rc;
    }
    /* The thread takes no signal: the main thread waits for them with sigwait(). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = -pthread_create(&r->thread, NULL, run, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf(err, errlen, "cannot start the recorder thread: %s", strerror(-rc));
        r->thread = 0;
        kx_record_stop(r);
        return rc;
    }
    *out = r;
    return 0;
}

void kx_record_stop(struct kx_recorder *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, true);
    if (r->thread)
        pthread_join(r->thread, NULL);
    kmem_recorder_close(r->rec);
    kmem_ctx_free(r->ctx);
    free(r);
}
