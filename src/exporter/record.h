/* SPDX-License-Identifier: MIT */
/*
 * kmem_exporter --record.dir DIR: the flight recorder (kmemtop --record,
 * docs/recorder.md) in a thread of its own, with its own context, while
 * the exporter serves.
 */
#ifndef KX_RECORD_H
#define KX_RECORD_H

#include "kmem.h"

struct kx_recorder;

struct kx_record_opts {
    const char *dir;
    double interval;               /* seconds between samples (default 10) */
    const char *retain, *max_size; /* "7d", "256MiB" (NULL: the defaults) */
    struct kmem_ctx_opts paths;
    const char *command;
};

/* Open the recording (locked) and start the thread. 0, or -errno with @err set. */
int kx_record_start(struct kx_recorder **out, const struct kx_record_opts *o, char *err,
                    size_t errlen);
/* Stop the thread (it ends within a second) and close the recording. */
void kx_record_stop(struct kx_recorder *r);

#endif
