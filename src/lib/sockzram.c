/* SPDX-License-Identifier: MIT */
/*
 * Two cheap node files read on every collection:
 *
 * /proc/net/sockstat and /proc/net/sockstat6 - socket counts, and the pages
 * the TCP and UDP memory accounting holds ("mem", pages) and IP fragment
 * queues ("memory", bytes):
 *
 *   sockets: used 143
 *   TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1
 *   UDP: inuse 3 mem 2
 *   FRAG: inuse 0 memory 0
 *
 * /sys/block/zram<N>/mm_stat - per zram device: orig_data_size
 * compr_data_size mem_used_total mem_limit mem_used_max same_pages
 * pages_compacted huge_pages [huge_pages_since] (bytes, pages for the last).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers.h"
#include "parse.h"
#include "sat.h"
#include "sort.h"

/* ---- sockstat ----------------------------------------------------------- */

struct sock_key {
    const char *proto; /* "TCP:" */
    const char *key;   /* "mem" */
    size_t off;        /* offset of the uint64_t in struct kmem_sockstat */
};

#define SK(p, k, f)                                                                                \
    {                                                                                              \
        p, k, offsetof(struct kmem_sockstat, f)                                                    \
    }
static const struct sock_key sock_keys[] = {
    SK("sockets:", "used", sockets_used),     SK("TCP:", "inuse", tcp_inuse),
    SK("TCP:", "orphan", tcp_orphan),         SK("TCP:", "tw", tcp_tw),
    SK("TCP:", "alloc", tcp_alloc),           SK("TCP:", "mem", tcp_mem_pages),
    SK("UDP:", "inuse", udp_inuse),           SK("UDP:", "mem", udp_mem_pages),
    SK("UDPLITE:", "inuse", udplite_inuse),   SK("RAW:", "inuse", raw_inuse),
    SK("FRAG:", "inuse", frag_inuse),         SK("FRAG:", "memory", frag_bytes),
    SK("TCP6:", "inuse", tcp6_inuse),         SK("UDP6:", "inuse", udp6_inuse),
    SK("UDPLITE6:", "inuse", udplite6_inuse), SK("RAW6:", "inuse", raw6_inuse),
    SK("FRAG6:", "inuse", frag6_inuse),       SK("FRAG6:", "memory", frag6_bytes),
};
#undef SK

int kmem_sockstat_parse(const char *buf, size_t len, bool v6, struct kmem_sockstat *out,
                        struct kmem_parse_error *err)
{
    const char *p = buf, *end = buf + len;
    unsigned line = 0;

    kmem_parse_ok(err);
    while (p < end) {
        const char *next, *eol = kmem_line_end(p, end, &next), *proto, *key;
        size_t pl, kl;

        line++;
        if (!kmem_next_token(&p, eol, &proto, &pl)) {
            p = next;
            continue; /* blank line */
        }
        if (proto[pl - 1] != ':')
            return kmem_parse_fail(err, line, "expected \"PROTO: key value ...\"");
        while (kmem_next_token(&p, eol, &key, &kl)) {
            uint64_t v;
            int rc = kmem_parse_u64(&p, eol, &v);

            if (rc)
                return kmem_parse_fail(err, line,
                                       rc == -ERANGE ? "value too large for 64 bits"
                                                     : "expected a number after each key");
            for (size_t i = 0; i < sizeof(sock_keys) / sizeof(sock_keys[0]); i++)
                if (kmem_tok_eq(proto, pl, sock_keys[i].proto) &&
                    kmem_tok_eq(key, kl, sock_keys[i].key))
                    *(uint64_t *)((char *)out + sock_keys[i].off) = v;
        }
        p = next;
    }
    if (v6)
        out->v6_present = true;
    else
        out->present = true;
    return 0;
}

void kmem_read_sockstat(struct kmem_io *io, struct kmem_sockstat *out, uint64_t page_size)
{
    int proc = kmem_io_dir(io, KMEM_DIR_PROC);

    memset(out, 0, sizeof(*out));
    /*
     * Optional: a missing or odd file leaves the note out, never fails the
     * node. proc/net is a link to proc/self/net: the copy is captured under
     * proc/net, where a replay reads it.
     */
    for (int v6 = 0; v6 < 2; v6++) {
        const char *name = v6 ? "net/sockstat6" : "net/sockstat";

        /* Beneath proc: a planted link out of the root is never followed. */
        if (proc < 0 || kmem_buf_read_beneath(&io->buf, proc, name) != 0)
            continue;
        kmem_capture(io, proc, name, io->buf.data, io->buf.len);
        if (kmem_sockstat_parse(io->buf.data, io->buf.len, v6, out, NULL) != 0) {
            if (v6)
                out->v6_present = false;
            else
                out->present = false;
        }
    }
    out->mem_bytes =
        kmem_add_sat(kmem_mul_sat(kmem_add_sat(out->tcp_mem_pages, out->udp_mem_pages), page_size),
                     kmem_add_sat(out->frag_bytes, out->frag6_bytes));
}

/* ---- zram ---------------------------------------------------------------- */

int kmem_zram_mm_stat_parse(const char *buf, size_t len, struct kmem_zram_dev *out,
                            struct kmem_parse_error *err)
{
    uint64_t *const field[] = {&out->orig_data,      &out->compr_data,   &out->mem_used,
                               &out->mem_limit,      &out->mem_used_max, &out->same_pages,
                               NULL /* compacted */, &out->huge_pages};
    const char *p = buf, *end = buf + len;
    uint64_t v;
    unsigned n = 0;
    int rc;

    kmem_parse_ok(err);
    while ((rc = kmem_parse_u64(&p, end, &v)) == 0) {
        if (n < sizeof(field) / sizeof(field[0]) && field[n])
            *field[n] = v;
        n++;
    }
    p = kmem_skip_blanks(p, end);
    if (rc == -ERANGE)
        return kmem_parse_fail(err, 1, "value too large for 64 bits");
    if ((p < end && *p != '\n') || n < 3)
        return kmem_parse_fail(err, 1, "expected at least 3 numbers");
    return 0;
}

static int cmp_dev(const void *a, const void *b)
{
    const struct kmem_zram_dev *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);

    /* zram2 before zram10 */
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

void kmem_read_zram(struct kmem_io *io, struct kmem_zram *out)
{
    int sys = kmem_io_dir(io, KMEM_DIR_SYS);
    DIR *d = kmem_opendir(sys, "block");
    struct kmem_zram_dev all[64];
    unsigned n = 0;
    const struct dirent *de;

    memset(out, 0, sizeof(*out));
    if (!d)
        return;
    while ((de = readdir(d))) {
        struct kmem_zram_dev dev = {0};
        char rel[NAME_MAX + 16];

        if (strncmp(de->d_name, "zram", 4) != 0 || strlen(de->d_name) >= sizeof(dev.name))
            continue;
        /*
         * sys/block/zramN is a symlink to the device directory: follow it,
         * and capture the file under sys/block/zramN/ where a replay looks.
         */
        char path[NAME_MAX + 32];

        snprintf(rel, sizeof(rel), "%s/mm_stat", de->d_name);
        snprintf(path, sizeof(path), "block/%s", rel);
        /* Beneath sys (the link goes to ../devices/...), never out of it. */
        if (kmem_buf_read_beneath(&io->buf, sys, path) != 0)
            continue;
        kmem_capture(io, dirfd(d), rel, io->buf.data, io->buf.len);
        if (kmem_zram_mm_stat_parse(io->buf.data, io->buf.len, &dev, NULL) != 0)
            continue;
        memcpy(dev.name, de->d_name, strlen(de->d_name) + 1);
        out->n_total++;
        out->mem_used_total = kmem_add_sat(out->mem_used_total, dev.mem_used);
        if (n < sizeof(all) / sizeof(all[0]))
            all[n++] = dev;
    }
    closedir(d);
    kmem_sort(all, n, sizeof(all[0]), cmp_dev);
    out->n = n < KMEM_ZRAM_MAX ? n : KMEM_ZRAM_MAX;
    memcpy(out->dev, all, out->n * sizeof(all[0]));
}
