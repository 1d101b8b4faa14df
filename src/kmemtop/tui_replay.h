/* SPDX-License-Identifier: MIT */
/* The replay TUI's time travel (kmemtop --replay DIR): step through the samples. */
#ifndef KMEMTOP_TUI_REPLAY_H
#define KMEMTOP_TUI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "kmem.h"
#include "history.h"

struct kt_replay;

/*
 * Open the recording @dir for a TUI whose @ctx reads the directory @root
 * (the sample kt_source_open() wrote out): rewrite @root in place with the
 * newest sample, or the one at or before @at (the one before it collected first, so that CHANGE is
 * against it), the baseline at the oldest. 0, or -1 with @err set.
 */
int kt_replay_open(struct kt_replay **out, const char *dir, const char *root, const char *at,
                   struct kmem_ctx *ctx, struct kt_history *h, char *err, size_t errlen);
void kt_replay_free(struct kt_replay *r);

/* Apply a key (steps, time prompt, baseline). True when the key was the replay's. */
bool kt_replay_key(struct kt_replay *r, int c, struct kmem_ctx *ctx, struct kt_history *h);
/* The header line: which sample, of how many, the baseline (or the message of the last key). */
void kt_replay_header(const struct kt_replay *r, char *out, size_t len);
/* The time prompt being typed, or NULL. */
const char *kt_replay_prompt(const struct kt_replay *r);

struct kt_sink;
/* The verdicts view (V): shown? Drawn over the window baseline..shown sample. */
bool kt_replay_verdicts_shown(const struct kt_replay *r);
void kt_replay_verdicts_draw(struct kt_replay *r, struct kt_sink *s);
void kt_replay_verdicts_hide(struct kt_replay *r);
/* The selected verdict's name (a cache without "#dup") and its enum
 * kmem_verdict_subject, or -1 when none. */
int kt_replay_verdict_pick(const struct kt_replay *r, char *name, size_t len);

#endif
