/* SPDX-License-Identifier: MIT */
/* kmemtop --record, --replay, --diff, --openmetrics (record.c, diff.c, openmetrics.c). */
#ifndef KMEMTOP_RECORD_H
#define KMEMTOP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "kmemtop.h"

/* --record DIR: sample every -d seconds until stopped. Returns the exit status. */
int kt_record_run(struct kt_opts *o);

/* A root directory to read: a capture as it is, or a recording's sample written out. */
struct kt_source {
    char *root;       /* the directory a context reads */
    bool temporary;   /* a sample written out: removed by kt_source_close() */
    uint64_t time_ns; /* the sample's time (0 for a capture) */
    uint32_t flags;   /* the sample's KMEM_REC_* */
    char when[32];    /* local time of the sample, "" for a capture */
    char label[4200]; /* "DIR at TIME" or "DIR", for headings */
};

/*
 * @dir is a recording (the sample at @when, or the newest when NULL/""),
 * or a capture / root directory (@when must be empty). 0, or -1 with a
 * message on stderr.
 */
int kt_source_open(const struct kt_opts *o, const char *dir, const char *when,
                   struct kt_source *src);
void kt_source_close(struct kt_source *src);
/*
 * Make sure the written-out samples of @srcs are removed however the
 * program ends (a signal, a closed pipe): the program goes on in a child
 * while this process waits for it, removes them and exits as it did.
 */
int kt_source_guard(struct kt_source *const *srcs, int n);

/* --diff A B (diff.c): text, or JSON with --json. */
int kt_diff_run(const struct kt_opts *o);

/* --replay DIR --window DUR [--at TIME] [--json]: leak verdicts over the window ending at TIME. */
int kt_verdicts_run(const struct kt_opts *o);

/* --replay DIR --openmetrics [--window DUR] (openmetrics.c). */
int kt_openmetrics_run(const struct kt_opts *o);

struct kmem_recording;
/* Open and scan o->replay, printing its warnings: 0, or -1 with a message printed. */
int kt_recording_open(const struct kt_opts *o, struct kmem_recording **out);

/* --replay DIR --list: one line per sample. */
int kt_replay_list(const struct kt_opts *o);

#endif
