/* SPDX-License-Identifier: MIT */
/*
 * The kernel log: what boot allocated outside any counter. Three kinds of
 * lines are used (docs/node.md, "The kernel log"):
 *
 *   Dentry cache hash table entries: 4194304 (order: 13, 33554432 bytes, linear)
 *   VFS: Dquot-cache hash table entries: 512 (order 0, 4096 bytes)
 *   Freeing unused kernel image (initmem) memory: 3728K
 *   percpu: Embedded 53 pages/cpu s185560 r0 d31528 u1048576
 *   pcpu-alloc: [0] 0 1 2 3 4 5 - -
 *   futex hash table entries: 512 (32768 bytes on 1 NUMA nodes, total 32 KiB, linear).
 *   software IO TLB: mapped [mem 0x00000000bbfd0000-0x00000000bffd0000] (64MB)
 *
 * Lines come as /dev/kmsg records ("6,123,168362,-;text"), as dmesg prints
 * them ("[    0.168362] text"), from syslog ("Dec  1 ... kernel: text") or
 * bare. The live log is read from ROOT/dev/kmsg (a character device, read
 * record by record without blocking); a capture keeps only the lines used,
 * as a regular file at the same place.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers.h"
#include "parse.h"
#include "sat.h"

const char *const kmem_hash_home_name[KMEM_HASH_HOME_COUNT] = {
    [KMEM_HASH_MEMBLOCK] = "boot",
    [KMEM_HASH_PAGES] = "pages",
    [KMEM_HASH_VMALLOC] = "vmalloc",
};
static_assert(sizeof(kmem_hash_home_name) / sizeof(kmem_hash_home_name[0]) == KMEM_HASH_HOME_COUNT,
              "kmem_hash_home_name table");

/*
 * Tables allocated with HASH_EARLY (memblock, before the page allocator
 * exists): fs/dcache.c dcache_init_early(), fs/inode.c inode_init_early(),
 * kernel/locking/qspinlock_paravirt.h __pv_init_lock_hash(), and before
 * 4.15 kernel/pid.c pidhash_init(). With hashdist (NUMA) the first two are
 * made later with vmalloc instead, and the line then says "vmalloc".
 */
static const char *const early_tables[] = {"Dentry cache", "Inode-cache", "PV qspinlock", "PID"};

static bool starts(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);

    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* Position of @word in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);

    for (; (size_t)(end - p) >= n; p++)
        if (memcmp(p, word, n) == 0)
            return p;
    return NULL;
}

/* The message part of a log line: after a kmsg prefix, a syslog prefix, a [time]. */
static const char *message(const char *p, const char *end)
{
    const char *q, *k;

    /* kmsg: "PRI,SEQ,USEC,FLAGS[,caller=..];" - digits first, no blank before ';' */
    if (p < end && *p >= '0' && *p <= '9') {
        for (q = p; q < end && *q != ';' && *q != ' ' && *q != '\t'; q++)
            ;
        if (q < end && *q == ';')
            p = q + 1;
    }
    /* syslog / journal text: "... kernel: " */
    k = find(p, end, "kernel: ");
    if (k)
        p = k + 8;
    p = kmem_skip_blanks(p, end);
    /* dmesg: "[    0.168362] " and "[T1] " caller ids */
    while (p < end && *p == '[') {
        q = memchr(p, ']', (size_t)(end - p));
        if (!q)
            break;
        p = kmem_skip_blanks(q + 1, end);
    }
    return p;
}

/* Unsigned decimal at *pp (no blanks skipped); false if none or overflow. */
static bool number(const char **pp, const char *end, uint64_t *v)
{
    const char *p = *pp;
    uint64_t n = 0;

    if (p >= end || *p < '0' || *p > '9')
        return false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (n > (UINT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *pp = p;
    *v = n;
    return true;
}

static bool expect(const char **pp, const char *end, const char *word)
{
    if (!starts(*pp, end, word))
        return false;
    *pp += strlen(word);
    return true;
}

/*
 * The futex table of 6.17+ (kernel/futex/core.c futex_init(), one table per
 * node from alloc_pages_exact_nid() or vmalloc_huge_node()):
 * " (B bytes on N NUMA nodes, total T KiB" with @p after the entries; the
 * bytes are B x N. @p is left before ", linear).".
 */
static bool futex_sizes(const char **pp, const char *end, uint64_t *bytes)
{
    const char *p = *pp;
    uint64_t b, nodes, kib;

    if (!expect(&p, end, " (") || !number(&p, end, &b) || !expect(&p, end, " bytes on ") ||
        !number(&p, end, &nodes) || !expect(&p, end, " NUMA node"))
        return false;
    if (p < end && *p == 's')
        p++;
    if (!expect(&p, end, ", total ") || !number(&p, end, &kib) || !expect(&p, end, " KiB"))
        return false;
    *bytes = kmem_mul_sat(b, nodes);
    *pp = p;
    return true;
}

/*
 * "<name> hash table entries: E (order: O, B bytes[, linear|vmalloc[ hugepage]])"
 * (or "(order O, B bytes)" as fs/dquot.c prints it). True if the line is one.
 */
static bool hash_line(const char *m, const char *end, struct kmem_bootlog *out)
{
    const char *tag = find(m, end, " hash table entries: "), *p;
    uint64_t entries, order, bytes;
    enum kmem_hash_home home = KMEM_HASH_PAGES;
    size_t nl;

    if (!tag || tag == m)
        return false;
    p = tag + strlen(" hash table entries: ");
    if (!number(&p, end, &entries))
        return false;
    if (expect(&p, end, " (order")) {
        if (p < end && *p == ':')
            p++;
        p = kmem_skip_blanks(p, end);
        if (!number(&p, end, &order) || !expect(&p, end, ", ") || !number(&p, end, &bytes) ||
            !expect(&p, end, " bytes"))
            return false;
    } else if (!futex_sizes(&p, end, &bytes)) {
        return false;
    }
    if (expect(&p, end, ", ")) {
        if (starts(p, end, "vmalloc"))
            home = KMEM_HASH_VMALLOC;
        else if (!starts(p, end, "linear"))
            return false;
    } else if (!(p < end && *p == ')')) {
        return false;
    }
    nl = (size_t)(tag - m);
    if (home != KMEM_HASH_VMALLOC)
        for (size_t i = 0; i < sizeof(early_tables) / sizeof(early_tables[0]); i++)
            if (strlen(early_tables[i]) == nl && memcmp(m, early_tables[i], nl) == 0)
                home = KMEM_HASH_MEMBLOCK;
    out->n_hash_lines++;
    out->hash_bytes[home] = kmem_add_sat(out->hash_bytes[home], bytes);
    if (out->n_hash < KMEM_BOOT_HASH_MAX) {
        struct kmem_boot_hash *h = &out->hash[out->n_hash++];

        if (nl >= sizeof(h->name))
            nl = sizeof(h->name) - 1;
        memcpy(h->name, m, nl);
        h->name[nl] = '\0';
        for (size_t i = 0; i < nl; i++)
            if ((unsigned char)h->name[i] < 0x20 || h->name[i] == 0x7f)
                h->name[i] = '?';
        h->entries = entries;
        h->bytes = bytes;
        h->home = home;
    }
    return true;
}

/* Unsigned hexadecimal at *pp after "0x" (no blanks skipped). */
static bool hex_number(const char **pp, const char *end, uint64_t *v)
{
    const char *p = *pp;
    uint64_t n = 0;
    int digits = 0;

    if (!expect(&p, end, "0x"))
        return false;
    for (; p < end; p++, digits++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        if (n > (UINT64_MAX >> 4))
            return false;
        n = n << 4 | (uint64_t)d;
    }
    if (!digits)
        return false;
    *pp = p;
    *v = n;
    return true;
}

/*
 * The swiotlb default pool (kernel/dma/swiotlb.c), allocated from memblock
 * at boot: "software IO TLB: mapped [mem 0x...-0x...] (64MB)" (the end is
 * exclusive: start + bytes). Freed again when an IOMMU makes it useless:
 * "software IO TLB: tearing down default memory pool".
 */
static bool swiotlb_line(const char *m, const char *end, struct kmem_bootlog *out)
{
    const char *p = m;
    uint64_t start, stop, mb;

    if (!expect(&p, end, "software IO TLB: "))
        return false;
    if (starts(p, end, "tearing down default memory pool")) {
        out->swiotlb_torn_down = true;
        out->swiotlb_bytes = 0;
        return true;
    }
    if (!expect(&p, end, "mapped [mem ") || !hex_number(&p, end, &start) || !expect(&p, end, "-") ||
        !hex_number(&p, end, &stop) || !expect(&p, end, "] (") || !number(&p, end, &mb) ||
        !expect(&p, end, "MB)") || stop < start)
        return false;
    out->swiotlb_seen = true;
    out->swiotlb_torn_down = false;
    out->swiotlb_bytes = stop - start;
    return true;
}

/* "Freeing unused kernel image (initmem) memory: 3728K" and the like. */
static bool freed_line(const char *m, const char *end, struct kmem_bootlog *out)
{
    const char *p;
    uint64_t kb;

    if (!starts(m, end, "Freeing unused kernel") &&
        !starts(m, end, "Freeing SMP alternatives memory") &&
        !starts(m, end, "Freeing unused decrypted memory"))
        return false;
    p = find(m, end, "memory: ");
    if (!p)
        return false;
    p += strlen("memory: ");
    if (!number(&p, end, &kb) || !expect(&p, end, "K"))
        return false;
    out->image_freed_seen = true;
    out->image_freed_bytes = kmem_add_sat(out->image_freed_bytes, kmem_mul_sat(kb, 1024));
    return true;
}

/* "percpu: Embedded 53 pages/cpu ..." or "percpu: 59 4K pages/cpu ..." */
static bool percpu_line(const char *m, const char *end, struct kmem_bootlog *out)
{
    const char *p = m;
    uint64_t pages;

    if (!expect(&p, end, "percpu: "))
        return false;
    if (expect(&p, end, "Embedded ")) {
        if (!number(&p, end, &pages) || !expect(&p, end, " pages/cpu"))
            return false;
    } else {
        const char *tok;
        size_t tl;

        if (!number(&p, end, &pages) || !kmem_next_token(&p, end, &tok, &tl) ||
            tok[tl - 1] != 'K' || !expect(&p, end, " pages/cpu"))
            return false;
    }
    out->percpu_seen = true;
    out->percpu_unit_pages = pages;
    return true;
}

/*
 * "pcpu-alloc: [0] 0 1 2 3 [1] 4 5 - - " (mm/percpu.c pcpu_dump_alloc_info):
 * each CPU number or dash run after a "[group]" is one unit. The first line,
 * "pcpu-alloc: s.. r.. d.. u.. alloc=N*SIZE", lists none.
 */
static bool pcpu_alloc_line(const char *m, const char *end, struct kmem_bootlog *out)
{
    const char *p = m, *tok;
    size_t tl;
    uint64_t units = 0, unused = 0;
    bool group = false;

    if (!expect(&p, end, "pcpu-alloc: "))
        return false;
    if (p < end && *p == 's')
        return true; /* the sizes line */
    while (kmem_next_token(&p, end, &tok, &tl)) {
        size_t i = 0;

        if (tok[0] == '[' && tok[tl - 1] == ']' && tl > 2) {
            group = true;
            continue;
        }
        if (!group)
            return false;
        if (tok[0] == '-') {
            while (i < tl && tok[i] == '-')
                i++;
            unused++;
        } else {
            while (i < tl && tok[i] >= '0' && tok[i] <= '9')
                i++;
        }
        if (i != tl)
            return false;
        units++;
    }
    if (!units)
        return false;
    out->percpu_units = kmem_add_sat(out->percpu_units, units);
    out->percpu_units_unused = kmem_add_sat(out->percpu_units_unused, unused);
    return true;
}

int kmem_bootlog_parse(const char *buf, size_t len, struct kmem_bootlog *out, struct kmem_buf *keep)
{
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *next, *eol = kmem_line_end(p, end, &next);
        const char *m = message(p, eol);
        bool used = hash_line(m, eol, out) || freed_line(m, eol, out) || percpu_line(m, eol, out) ||
                    pcpu_alloc_line(m, eol, out) || swiotlb_line(m, eol, out);

        if (used && keep) {
            size_t ll = (size_t)(eol - p);

            if (kmem_buf_reserve(keep, keep->len + ll + 2))
                return -ENOMEM;
            memcpy(keep->data + keep->len, p, ll);
            keep->len += ll;
            keep->data[keep->len++] = '\n';
            keep->data[keep->len] = '\0';
        }
        p = next;
    }
    return 0;
}

/* Read the character device at @fd record by record into @out (one record a read). */
static int read_kmsg(int fd, struct kmem_bootlog *out, struct kmem_buf *keep)
{
    char rec[8192];
    size_t total = 0;

    for (;;) {
        ssize_t n = read(fd, rec, sizeof(rec));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE)
                continue; /* records were overwritten while reading: go on */
            if (errno == EAGAIN)
                return 0; /* the end of the log */
            return -errno;
        }
        if (n == 0)
            return 0;
        total += (size_t)n;
        if (total > KMEM_FILE_MAX)
            return 0; /* larger than any log buffer: stop, keep what was seen */
        if (kmem_bootlog_parse(rec, (size_t)n, out, keep))
            return -ENOMEM;
    }
}

int kmem_read_bootlog(struct kmem_io *io, struct kmem_bootlog *out)
{
    struct kmem_buf keep = {0};
    int root = kmem_io_dir(io, KMEM_DIR_ROOT), fd, err;
    struct stat st;

    memset(out, 0, sizeof(*out));
    out->read = true;
    if (io->kmsg_fd >= 0) { /* opened with the context (kmem_io_preopen) */
        fd = io->kmsg_fd;
        io->kmsg_fd = -1;
    } else {
        fd = kmem_open_kmsg(root); /* 1:11 or a regular file, no symlink */
    }
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
        err = read_kmsg(fd, out, &keep);
    } else if (fd >= 0 && S_ISREG(st.st_mode)) {
        err = kmem_buf_read_fd(&io->buf, fd, 0);
        if (!err)
            err = kmem_bootlog_parse(io->buf.data, io->buf.len, out, &keep);
    } else {
        err = fd >= 0 ? -EINVAL : fd;
    }
    if (fd >= 0)
        close(fd);
    if (err && kmem_buf_read_file(&io->buf, root, "var/log/dmesg", 0) == 0) {
        memset(out, 0, sizeof(*out));
        out->read = true;
        keep.len = 0;
        err = kmem_bootlog_parse(io->buf.data, io->buf.len, out, &keep);
    }
    out->err = err;
    /* A capture keeps only the lines used, where a replay looks first. */
    if (!err && kmem_capturing(io) && root >= 0)
        kmem_capture(io, root, "dev/kmsg", keep.data ? keep.data : "", keep.len);
    free(keep.data);
    return err;
}
