/* SPDX-License-Identifier: MIT */
/*
 * Internal to libkmem: the one parser for "key value" tables (/proc/meminfo,
 * /proc/vmstat, cgroup v2 memory.stat and cgroup.stat) that binds key names
 * to slots once, through a table indexed by enum.
 */
#ifndef KMEM_KV_H
#define KMEM_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_error.h"

/*
 * names[i] is the key stored in slot i (NULL: slot unused). Keys not in the
 * table are skipped, their lines still checked for shape.
 */
struct kmem_kv_table {
    const char *const *names;
    unsigned n;   /* slots, at most 64 (the present mask) */
    bool colon;   /* keys end with ':' ("MemTotal:   123 kB") */
    bool kb_unit; /* an optional trailing "kB" multiplies the value by 1024 */
    /* Lines of keys not in the table are skipped unchecked, and parsing
     * stops once every key of the table was seen (memory.stat: the kernel
     * adds keys, and what follows ours is counters). */
    bool lenient;
};

/*
 * Parse [buf, buf + len). Each non-blank line is "KEY VALUE" or, with
 * kb_unit, "KEY VALUE kB"; VALUE is an unsigned decimal (lenient: only the
 * lines of the table's keys are checked). Fills v[slot] and
 * sets bit slot in *present for keys of the table (last one wins).
 * Returns 0, or -EINVAL with *err set (line, what) on the first bad line.
 */
int kmem_kv_parse(const struct kmem_kv_table *t, const char *buf, size_t len, uint64_t *v,
                  uint64_t *present, struct kmem_parse_error *err);

#endif
