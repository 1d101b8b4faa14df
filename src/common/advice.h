/* SPDX-License-Identifier: MIT */
/*
 * The one errno -> advice table of kmem: what to do about an error, in the
 * words of the place that shows it (a file a reader could not read, the
 * kernel log, a detail file, the --json error field).
 */
#ifndef KMEM_ADVICE_H
#define KMEM_ADVICE_H

enum kmem_advice {
    KMEM_ADVICE_FILE,   /* a suffix to "cannot read FILE: strerror" */
    KMEM_ADVICE_KLOG,   /* the kernel log: the whole text */
    KMEM_ADVICE_DETAIL, /* a detail file, in --report: the whole text */
    KMEM_ADVICE_JSON,   /* a /proc file's error in --json: the whole text */
    KMEM_ADVICE_COUNT,
};

/* The advice for @err (either sign) where @where shows it, or NULL when the table has none. */
const char *kmem_errno_advice(int err, enum kmem_advice where);

/* The advice, or (for the whole-text places) strerror(). Never NULL. */
const char *kmem_errno_text(int err, enum kmem_advice where);

/* Suffix for a file error message: " (run as root ...)", or "". */
const char *kmem_errno_hint(int err);

#endif
