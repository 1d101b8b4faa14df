/* SPDX-License-Identifier: MIT */
/* "key value [kB]" tables: /proc/meminfo, /proc/vmstat. */
#include <errno.h>
#include <string.h>

#include "kv.h"
#include "parse.h"

/*
 * Find @key in the table, starting at *hint: the kernel prints its keys in
 * a fixed order, so the slot after the last match is nearly always the next
 * one (netdata's ARL idea). Returns the slot or -1.
 */
static int kv_lookup(const struct kmem_kv_table *t, const size_t *lens, const char *key,
                     size_t klen, unsigned *hint)
{
    for (unsigned i = 0; i < t->n; i++) {
        unsigned s = (*hint + i) % t->n;
        const char *name = t->names[s];

        /* lengths first: most keys of a kernel file are not in the table */
        if (lens[s] == klen && memcmp(name, key, klen) == 0) {
            *hint = (s + 1) % t->n;
            return (int)s;
        }
    }
    return -1;
}

int kmem_kv_parse(const struct kmem_kv_table *t, const char *buf, size_t len, uint64_t *v,
                  uint64_t *present, struct kmem_parse_error *err)
{
    const char *p = buf, *end = buf + len;
    unsigned line = 0, hint = 0;
    size_t lens[64];
    uint64_t all = 0, seen = 0;

    for (unsigned i = 0; i < t->n && i < 64; i++) {
        lens[i] = t->names[i] ? strlen(t->names[i]) : SIZE_MAX;
        if (t->names[i])
            all |= UINT64_C(1) << i;
    }
    kmem_parse_ok(err);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *q, *key, *unit;
        size_t klen;
        uint64_t val;
        int slot, rc;

        if (!eol)
            eol = end;
        line++;
        q = kmem_skip_blanks(p, eol);
        p = eol < end ? eol + 1 : end;
        if (q == eol)
            continue; /* blank line */

        key = q;
        while (q < eol && !kmem_is_blank(*q))
            q++;
        klen = (size_t)(q - key);
        if (t->colon) {
            if (klen < 2 || key[klen - 1] != ':')
                return kmem_parse_fail(err, line, "expected \"Key: value\"");
            klen--;
        }
        slot = kv_lookup(t, lens, key, klen, &hint);
        if (slot < 0 && t->lenient)
            continue;
        if (memchr(key, '\0', klen))
            return kmem_parse_fail(err, line, "NUL byte in a key");

        rc = kmem_parse_u64(&q, eol, &val);
        if (rc == -ERANGE)
            return kmem_parse_fail(err, line, "number too large for 64 bits");
        if (rc)
            return kmem_parse_fail(err, line, "expected an unsigned number after the key");

        q = kmem_skip_blanks(q, eol);
        if (t->lenient && q < eol && *q == '\0')
            q = eol; /* lenient: a NUL ends the line (memory.stat read with its terminator) */
        unit = q;
        while (q < eol && !kmem_is_blank(*q))
            q++;
        if (q > unit) {
            if (!t->kb_unit || q - unit != 2 || memcmp(unit, "kB", 2) != 0)
                return kmem_parse_fail(err, line, "unexpected text after the number");
            if (val > UINT64_MAX / 1024)
                return kmem_parse_fail(err, line, "kB value too large for 64 bits of bytes");
            val *= 1024;
        }
        if (kmem_skip_blanks(q, eol) != eol)
            return kmem_parse_fail(err, line, "unexpected text after the number");

        if (slot >= 0) {
            v[slot] = val;
            *present |= UINT64_C(1) << slot;
            seen |= UINT64_C(1) << slot;
            if (t->lenient && seen == all)
                break;
        }
    }
    return 0;
}
