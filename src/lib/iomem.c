/* SPDX-License-Identifier: MIT */
/*
 * /proc/iomem: the physical address map (kernel/resource.c r_show()). Each
 * level of nesting is two more spaces:
 *
 *   00100000-bfffffff : System RAM
 *     01000000-0220bb07 : Kernel code
 *     02400000-02e09fff : Kernel rodata
 *     03000000-0327c13f : Kernel data
 *     03b34000-03c57fff : Kernel bss
 *     2f000000-36ffffff : Crash kernel
 *
 * Without root (CAP_SYS_ADMIN) every address reads as 0.
 */
#include <errno.h>
#include <string.h>

#include "detail.h"
#include "parse.h"
#include "sat.h"

static bool hex(const char **pp, const char *end, uint64_t *v)
{
    const char *p = *pp;
    uint64_t n = 0;
    int digits = 0;

    for (; p < end; p++, digits++) {
        unsigned d;

        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (*p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            break;
        if (n >> 60)
            return false;
        n = n << 4 | d;
    }
    if (!digits)
        return false;
    *pp = p;
    *v = n;
    return true;
}

static bool name_is(const char *p, const char *end, const char *name)
{
    size_t n = strlen(name);

    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    return (size_t)(end - p) == n && memcmp(p, name, n) == 0;
}

int kmem_iomem_parse(const char *buf, size_t len, struct kmem_iomem *out,
                     struct kmem_parse_error *err)
{
    static const char *const kernel[] = {"Kernel code", "Kernel rodata", "Kernel data",
                                         "Kernel bss"};
    uint64_t *const kfield[] = {&out->kernel_code, &out->kernel_rodata, &out->kernel_data,
                                &out->kernel_bss};
    const char *p = buf, *end = buf + len;
    bool nonzero = false;
    unsigned line = 0, ranges = 0;

    memset(out, 0, sizeof(*out));
    kmem_parse_ok(err);
    while (p < end) {
        const char *next, *eol = kmem_line_end(p, end, &next), *q = p;
        uint64_t start, stop, size;
        size_t indent;

        line++;
        while (q < eol && *q == ' ')
            q++;
        indent = (size_t)(q - p);
        p = next;
        if (q == eol)
            continue;
        if (!hex(&q, eol, &start) || q >= eol || *q != '-')
            return kmem_parse_fail(err, line, "expected \"START-END : name\"");
        q++;
        if (!hex(&q, eol, &stop) || !(eol - q >= 3 && memcmp(q, " : ", 3) == 0))
            return kmem_parse_fail(err, line, "expected \"START-END : name\"");
        if (stop < start)
            return kmem_parse_fail(err, line, "range ends before it starts");
        q += 3;
        ranges++;
        if (start || stop)
            nonzero = true;
        size = stop - start == UINT64_MAX ? UINT64_MAX : stop - start + 1;
        if (indent == 0 && name_is(q, eol, "System RAM")) {
            out->system_ram = kmem_add_sat(out->system_ram, size);
            out->ram_ranges++;
        } else if (name_is(q, eol, "Crash kernel")) {
            out->crash_kernel = kmem_add_sat(out->crash_kernel, size);
        } else {
            for (size_t k = 0; k < 4; k++) {
                if (!name_is(q, eol, kernel[k]))
                    continue;
                *kfield[k] = kmem_add_sat(*kfield[k], size);
                if (!out->kernel_seen || start < out->kernel_start)
                    out->kernel_start = start;
                if (!out->kernel_seen || stop > out->kernel_end)
                    out->kernel_end = stop;
                out->kernel_seen = true;
            }
        }
    }
    if (ranges && !nonzero) {
        /* Not root: kernel/resource.c prints every address as 0. */
        memset(out, 0, sizeof(*out));
        out->err = -EPERM;
    }
    return 0;
}
