/* SPDX-License-Identifier: MIT */
/*
 * The owner snapshot: the container (add, finish, copy, sort), the file
 * (round trip, escapes, every malformed shape with its line), the snapshot
 * part (read under a root, its interval, removed cgroups, capture) and the
 * cgroup inode numbers that name the walker's ids on the live machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testtree.h"

#include "buf.h"
#include "kmem.h"
#include "owners.h"

static const char *path_of_table(void *arg, uint64_t id)
{
    (void)arg;
    switch (id) {
    case 10:
        return "/b";
    case 11:
        return "/a";
    case 12:
        return "/";
    default:
        return NULL;
    }
}

static void test_add_finish_sort(void **state)
{
    struct kmem_owners o;

    (void)state;
    kmem_owners_init(&o);
    assert_int_equal(kmem_owners_add(&o, 10, "dentry", 10, 1920), 0);
    assert_int_equal(kmem_owners_add(&o, 0, "kmalloc-64", 5, 320), 0);
    assert_int_equal(kmem_owners_add(&o, 11, "kmalloc-64", 2, 128), 0);
    assert_int_equal(kmem_owners_add(&o, 10, "kmalloc-64", 100, 6400), 0);
    assert_int_equal(kmem_owners_add(&o, 10, "dentry", 1, 192), 0); /* accumulates */
    assert_int_equal(kmem_owners_add(&o, 12, "inode_cache", 3, 1800), 0);
    assert_int_equal(kmem_owners_add(&o, 99, "filp", 4, 1024), 0); /* unknown id */
    assert_int_equal(kmem_owners_count(&o), 6);
    assert_int_equal(kmem_owners_finish(&o, path_of_table, NULL), 0);
    assert_int_equal(o.nrows, 6);
    assert_true(o.present);
    assert_int_equal(o.objects_charged, 10 + 2 + 100 + 1 + 3 + 4);
    assert_int_equal(o.objects_uncharged, 5);
    /* unnamed (99) first (""), then "/", "/a", "/b" by bytes, not charged last */
    assert_null(o.rows[0].cgroup);
    assert_int_equal(o.rows[0].cgroup_id, 99);
    assert_string_equal(o.rows[1].cgroup, "/");
    assert_string_equal(o.rows[2].cgroup, "/a");
    assert_string_equal(o.rows[3].cgroup, "/b");
    assert_string_equal(o.rows[3].cache, "kmalloc-64");
    assert_int_equal(o.rows[3].bytes, 6400);
    assert_string_equal(o.rows[4].cache, "dentry");
    assert_int_equal(o.rows[4].objects, 11);
    assert_int_equal(o.rows[4].bytes, 2112);
    assert_int_equal(o.rows[5].cgroup_id, 0);
    assert_null(o.rows[5].cgroup);
    kmem_owners_free(&o);
}

static void test_copy(void **state)
{
    struct kmem_owners a, b;

    (void)state;
    kmem_owners_init(&a);
    kmem_owners_init(&b);
    for (uint64_t id = 1; id <= 300; id++) {
        char cache[32];

        snprintf(cache, sizeof(cache), "cache-%llu", (unsigned long long)(id % 7));
        assert_int_equal(kmem_owners_add(&a, id, cache, id, id * 64), 0);
        assert_int_equal(kmem_owners_add(&a, id, "dentry", 1, 192), 0);
    }
    assert_int_equal(kmem_owners_add(&a, 0, "dentry", 9, 9 * 192), 0);
    a.pages = 77;
    a.slabs = 66;
    a.cpu_seconds = 0.5;
    a.taken.tv_sec = 1234;
    assert_int_equal(kmem_owners_set_path(&a, 5, "/five"), 0);
    assert_int_equal(kmem_owners_finish(&a, NULL, NULL), 0);
    assert_int_equal(kmem_owners_copy(&b, &a), 0);
    assert_int_equal(b.nrows, a.nrows);
    assert_int_equal(b.nrows, 601);
    assert_int_equal(b.pages, 77);
    assert_int_equal(b.slabs, 66);
    assert_int_equal(b.taken.tv_sec, 1234);
    assert_int_equal(b.objects_charged, a.objects_charged);
    assert_int_equal(b.objects_uncharged, 9);
    for (size_t i = 0; i < a.nrows; i++) {
        assert_int_equal(b.rows[i].cgroup_id, a.rows[i].cgroup_id);
        assert_int_equal(b.rows[i].bytes, a.rows[i].bytes);
        assert_string_equal(b.rows[i].cache, a.rows[i].cache);
        assert_true((a.rows[i].cgroup == NULL) == (b.rows[i].cgroup == NULL));
        if (a.rows[i].cgroup_id == 5)
            assert_string_equal(b.rows[i].cgroup, "/five");
    }
    kmem_owners_free(&a); /* the copy owns its own strings */
    for (size_t i = 0; i < b.nrows; i++)
        if (b.rows[i].cgroup_id == 5)
            assert_string_equal(b.rows[i].cgroup, "/five");
    kmem_owners_free(&b);
}

static void test_round_trip(void **state)
{
    static const char weird[] = "a\tb\\c\nd\x01\x7f\xc3\xa9";
    struct kmem_parse_error perr = {0};
    struct kmem_owners a, b;
    struct kmem_buf out = {0};

    (void)state;
    kmem_owners_init(&a);
    kmem_owners_init(&b);
    assert_int_equal(kmem_owners_add(&a, 4021, weird, 3, 300), 0);
    assert_int_equal(kmem_owners_add(&a, 4021, "dentry", 2, 384), 0);
    assert_int_equal(kmem_owners_add(&a, 7, "kmalloc-64", 1, 64), 0);
    assert_int_equal(kmem_owners_add(&a, 0, "kmalloc-64", 8, 512), 0);
    assert_int_equal(kmem_owners_set_path(&a, 4021, "/pods/x\ty"), 0);
    assert_int_equal(kmem_owners_finish(&a, NULL, NULL), 0); /* 7 stays unnamed */
    a.taken.tv_sec = 1764967000;
    a.taken.tv_nsec = 5;
    a.pages = 1 << 20;
    a.slabs = 4242;
    a.cpu_seconds = 0.0125;
    assert_int_equal(kmem_owners_format(&a, &out), 0);
    assert_non_null(strstr(out.data, "taken 1764967000.000000005\n"));
    assert_non_null(strstr(out.data, "a\\tb\\\\c\\nd\\x01\\x7f\\xc3\\xa9"));
    assert_non_null(strstr(out.data, "\t/pods/x\\ty\n"));
    assert_non_null(strstr(out.data, "7\t1\t64\tkmalloc-64\t\n"));
    assert_int_equal(kmem_owners_parse(out.data, out.len, &b, &perr), 0);
    assert_int_equal(b.nrows, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(b.rows[i].cgroup_id, a.rows[i].cgroup_id);
        assert_int_equal(b.rows[i].objects, a.rows[i].objects);
        assert_int_equal(b.rows[i].bytes, a.rows[i].bytes);
        assert_string_equal(b.rows[i].cache, a.rows[i].cache);
        assert_true((a.rows[i].cgroup == NULL) == (b.rows[i].cgroup == NULL));
        if (a.rows[i].cgroup)
            assert_string_equal(b.rows[i].cgroup, a.rows[i].cgroup);
    }
    assert_int_equal(b.taken.tv_sec, 1764967000);
    assert_int_equal(b.taken.tv_nsec, 5);
    assert_int_equal(b.pages, 1 << 20);
    assert_int_equal(b.slabs, 4242);
    assert_true(b.cpu_seconds > 0.0124 && b.cpu_seconds < 0.0126);
    assert_int_equal(b.objects_charged, 6);
    assert_int_equal(b.objects_uncharged, 8);
    /* a name that is no path ("(removed cgroup N)") is written empty */
    kmem_owners_free(&b);
    assert_int_equal(kmem_owners_set_path(&a, 7, "(removed cgroup 7)"), 0);
    assert_int_equal(kmem_owners_finish(&a, NULL, NULL), 0); /* rows[] again after set_path */
    assert_int_equal(kmem_owners_format(&a, &out), 0);
    assert_non_null(strstr(out.data, "7\t1\t64\tkmalloc-64\t\n"));
    free(out.data);
    kmem_owners_free(&a);
}

#define HEAD                                                                                       \
    "kmem-owners 1\ntaken 1.5\ncpu_seconds 0.1\npages 1\nslabs 1\nobjects_charged 2\n"             \
    "objects_uncharged 0\nrows 2\n"

struct bad_case {
    const char *text;
    unsigned line;
    const char *what; /* part of the message */
};

static const struct bad_case bad[] = {
    {"", 1, "not a kmem-owners file"},
    {"kmem-owners 2\n", 1, "unsupported version"},
    {"kmem-owners 1\ntaken 1.5\n", 3, "file ends before the rows"},
    {"kmem-owners 1\ncpu_seconds 1\n", 2, "header keys in order"},
    {"kmem-owners 1\ntaken 1\n", 2, "taken is not"},
    {"kmem-owners 1\ntaken 1.1234567890\n", 2, "taken is not"},
    {"kmem-owners 1\ntaken 1.5\ncpu_seconds -1\n", 3, "not a number"},
    {"kmem-owners 1\ntaken 1.5\ncpu_seconds nan\n", 3, "not a number"},
    {"kmem-owners 1\ntaken 1.5\ncpu_seconds 0.1\npages 18446744073709551616\n", 4, "not a number"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\n", 10, "fewer rows"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\n7\t1\t64\tdentry\t/a\n8\t0\t0\tx\t/b\n", 11, "more rows"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\n7\t1\t64\tkmalloc-64\t/a\n", 10, "twice"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\n7\t1\t64\tdentry\t/b\n", 10, "two paths"},
    {HEAD "7\t1\t64\tkmalloc-64\n", 9, "TAB-separated"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\textra\n", 9, "more than 5 fields"},
    {HEAD "x\t1\t64\tkmalloc-64\t/a\n", 9, "cgroup id is not a number"},
    {HEAD "7\t-1\t64\tkmalloc-64\t/a\n", 9, "objects is not a number"},
    {HEAD "7\t1\t6 4\tkmalloc-64\t/a\n", 9, "bytes is not a number"},
    {HEAD "7\t1\t0\tkmalloc-64\t/a\n", 9, "objects without bytes"},
    {HEAD "7\t1\t64\t\t/a\n", 9, "empty cache name"},
    {HEAD "0\t1\t64\tkmalloc-64\t/a\n", 9, "not charged) with a path"},
    {HEAD "7\t1\t64\tkmalloc-64\ta\n", 9, "does not start with /"},
    {HEAD "7\t1\t64\tbad\\q\t/a\n", 9, "unknown escape"},
    {HEAD "7\t1\t64\tbad\\x0\t/a\n", 9, "unknown escape"},
    {HEAD "7\t1\t64\tbad\\x00\t/a\n", 9, "\\x00"},
    {HEAD "7\t1\t64\tbad\\\t/a\n", 9, "backslash at the end"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\\", 9, "backslash at the end"},
    {HEAD "7\t1\t64\tcaf\xc3\xa9\t/a\n", 9, "non-ASCII"},
    {HEAD "7\t1\t64\tkmalloc-64\t/a\r\n", 9, "control"},
    {"kmem-owners 1\ntaken 1.5\ncpu_seconds 0.1\npages 1\nslabs 1\nobjects_charged 3\n"
     "objects_uncharged 0\nrows 1\n7\t1\t64\tkmalloc-64\t/a\n",
     6, "not the sums"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kmem_parse_error perr = {0};
        struct kmem_owners o;
        int rc;

        kmem_owners_init(&o);
        rc = kmem_owners_parse(bad[i].text, strlen(bad[i].text), &o, &perr);
        if (rc != -EINVAL || perr.line != bad[i].line || !perr.what ||
            !strstr(perr.what, bad[i].what))
            fail_msg("case %zu: rc %d line %u what %s (want line %u, %s)", i, rc, perr.line,
                     perr.what ? perr.what : "(null)", bad[i].line, bad[i].what);
        assert_int_equal(o.nrows, 0);
        assert_false(o.present);
        kmem_owners_free(&o);
    }
    /* A NUL byte names its line. */
    {
        static const char nul[] = "kmem-owners 1\ntaken 1.5\n\0";
        struct kmem_parse_error perr = {0};
        struct kmem_owners o;

        kmem_owners_init(&o);
        assert_int_equal(kmem_owners_parse(nul, sizeof(nul) - 1, &o, &perr), -EINVAL);
        assert_int_equal(perr.line, 3);
        kmem_owners_free(&o);
    }
}

/* ---- the snapshot part ----------------------------------------------------- */

static const char good[] =
    "kmem-owners 1\ntaken 1764967000.000000000\ncpu_seconds 0.010000\npages 100\nslabs 10\n"
    "objects_charged 13\nobjects_uncharged 4\nrows 4\n"
    "21\t10\t1920\tdentry\t/system.slice\n"
    "21\t2\t128\tkmalloc-64\t/system.slice\n"
    "4242\t1\t1024\tfilp\t\n"
    "0\t4\t256\tkmalloc-64\t\n";

static void test_snapshot_part(void **state)
{
    char root[] = "/tmp/kmem-test-owners-XXXXXX", cap[PATH_MAX], err[512];
    struct kmem_ctx *ctx;
    const struct kmem_snapshot *s;

    (void)state;
    assert_non_null(mkdtemp(root));
    put_file(root, "kmem-owners.txt", good);
    assert_int_equal(kmem_ctx_new(&ctx, root, err, sizeof(err)), 0);
    kmem_ctx_set_owners_interval(ctx, 3600);
    kmem_collect(ctx, KMEM_COLLECT_OWNERS);
    s = kmem_current(ctx);
    assert_true(s->flags & KMEM_COLLECT_CGROUPS); /* implied */
    assert_int_equal(s->status[KMEM_PART_OWNERS].err, 0);
    assert_true(s->owners.from_file);
    assert_false(s->owners.reused);
    assert_int_equal(s->owners.o.nrows, 4);
    assert_int_equal(s->owners.removed_cgroups, 1);
    assert_int_equal(s->owners.removed_bytes, 1024);
    assert_string_equal(s->owners.o.rows[0].cgroup, "(removed cgroup 4242)");
    assert_string_equal(s->owners.o.rows[1].cgroup, "/system.slice");
    assert_string_equal(s->owners.o.rows[1].cache, "dentry");
    assert_int_equal(s->owners.o.rows[3].cgroup_id, 0);

    /* Within the interval: reused, even though the file changed. */
    put_file(root, "kmem-owners.txt", "kmem-owners 1\ntaken 1.5\nbroken\n");
    kmem_collect(ctx, KMEM_COLLECT_OWNERS);
    s = kmem_current(ctx);
    assert_int_equal(s->status[KMEM_PART_OWNERS].err, 0);
    assert_true(s->owners.reused);
    assert_int_equal(s->owners.o.nrows, 4);
    assert_int_equal(s->owners.removed_cgroups, 1);
    assert_string_equal(s->owners.o.rows[1].cgroup, "/system.slice");

    /* Interval 0: read again, and the parse error names the file and the line. */
    kmem_ctx_set_owners_interval(ctx, 0);
    assert_int_not_equal(kmem_collect(ctx, KMEM_COLLECT_OWNERS), 0);
    s = kmem_current(ctx);
    assert_int_equal(s->status[KMEM_PART_OWNERS].err, -EINVAL);
    assert_non_null(strstr(s->status[KMEM_PART_OWNERS].msg, "kmem-owners.txt:3: "));
    assert_non_null(strstr(s->status[KMEM_PART_OWNERS].msg, "header keys"));
    assert_int_equal(s->owners.o.nrows, 0);

    /* No file, not a live /proc: says so. */
    snprintf(cap, sizeof(cap), "%s/kmem-owners.txt", root);
    assert_int_equal(unlink(cap), 0);
    kmem_collect(ctx, KMEM_COLLECT_OWNERS);
    s = kmem_current(ctx);
    assert_int_equal(s->status[KMEM_PART_OWNERS].err, -ENOENT);
    assert_non_null(strstr(s->status[KMEM_PART_OWNERS].msg, "no owner snapshot"));
    kmem_ctx_free(ctx);

    /* A capture of a root with the file holds the same rows. */
    put_file(root, "kmem-owners.txt", good);
    assert_int_equal(kmem_ctx_new(&ctx, root, err, sizeof(err)), 0);
    snprintf(cap, sizeof(cap), "%s/cap", root);
    assert_int_equal(kmem_ctx_capture_start(ctx, cap, NULL), 0);
    kmem_collect(ctx, KMEM_COLLECT_OWNERS);
    assert_int_equal(kmem_capture_status(ctx), 0);
    kmem_ctx_set_capture(ctx, NULL);
    kmem_ctx_free(ctx);
    {
        struct kmem_buf b = {0};
        struct kmem_owners o;

        assert_int_equal(kmem_buf_read_file(&b, AT_FDCWD, strcat(cap, "/kmem-owners.txt"), 0), 0);
        kmem_owners_init(&o);
        assert_int_equal(kmem_owners_parse(b.data, b.len, &o, NULL), 0);
        assert_int_equal(o.nrows, 4);
        assert_int_equal(o.objects_charged, 13);
        assert_non_null(strstr(b.data, "4242\t1\t1024\tfilp\t\n")); /* removed: no path */
        assert_non_null(strstr(b.data, "21\t10\t1920\tdentry\t/system.slice\n"));
        kmem_owners_free(&o);
        free(b.data);
    }
    rm_tree(root);
}

/*
 * The live machine: every cgroup's ino is its directory's inode number (the
 * cgroup id the walker reports). Cgroups removed meanwhile are skipped; at
 * least the root is compared.
 */
/*
 * ACCT of an unmerged cache (sysfs has no SLAB_ACCOUNT attribute for it):
 * the owner snapshot of the fixture owners-v2 holds objects of dentry,
 * shmem_inode_cache and ext4_inode_cache charged to cgroups, so they are
 * accounted; buffer_head has none and stays unknown; kmalloc-64 keeps what
 * its name says.
 */
static void test_accounted_from_owners(void **state)
{
    static const char *const unmerged[] = {"dentry", "shmem_inode_cache", "ext4_inode_cache",
                                           "buffer_head", "kmalloc-64"};
    char root[] = "/tmp/kmem-test-fleet2-acct-XXXXXX", cmd[PATH_MAX * 2 + 64], d[PATH_MAX],
         err[512];
    char src[PATH_MAX];
    struct kmem_ctx *ctx;
    const struct kmem_snapshot *s;
    const struct kmem_slabinfo *si;
    size_t checked = 0;

    (void)state;
    assert_non_null(mkdtemp(root));
    snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s'", fixture_path(src, sizeof(src), "owners-v2"),
             root);
    assert_int_equal(system(cmd), 0);
    snprintf(d, sizeof(d), "%s/sys/kernel", root);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(d, sizeof(d), "%s/sys/kernel/slab", root);
    assert_int_equal(mkdir(d, 0755), 0);
    for (size_t i = 0; i < sizeof(unmerged) / sizeof(*unmerged); i++) {
        snprintf(d, sizeof(d), "%s/sys/kernel/slab/%s", root, unmerged[i]);
        assert_int_equal(mkdir(d, 0755), 0);
        put_file(d, "reclaim_account", i < 3 ? "1\n" : "0\n");
        put_file(d, "order", "0\n");
        put_file(d, "aliases", "0\n");
    }
    assert_int_equal(kmem_ctx_new(&ctx, root, err, sizeof(err)), 0);
    kmem_collect(ctx, KMEM_COLLECT_SLAB | KMEM_COLLECT_SLAB_ATTRS | KMEM_COLLECT_OWNERS);
    s = kmem_current(ctx);
    assert_int_equal(s->status[KMEM_PART_OWNERS].err, 0);
    si = &s->slab;
    for (size_t i = 0; i < sizeof(unmerged) / sizeof(*unmerged); i++) {
        long k = kmem_slabinfo_find(si, unmerged[i], 0);

        assert_true(k >= 0);
        assert_true(si->v[k].attr.known);
        assert_false(si->v[k].attr.merged);
        if (i < 3) {
            assert_int_equal(si->v[k].attr.accounted, 1);
            assert_true(si->v[k].attr.accounted_charged);
        } else {
            assert_int_equal(si->v[k].attr.accounted, i == 3 ? -1 : 0);
            assert_false(si->v[k].attr.accounted_charged);
        }
        checked++;
    }
    assert_int_equal(checked, 5);
    kmem_ctx_free(ctx);
    /* Without the owner part, dentry is unknown again (the flag is not in sysfs). */
    assert_int_equal(kmem_ctx_new(&ctx, root, err, sizeof(err)), 0);
    kmem_collect(ctx, KMEM_COLLECT_SLAB | KMEM_COLLECT_SLAB_ATTRS);
    s = kmem_current(ctx);
    assert_int_equal(s->slab.v[kmem_slabinfo_find(&s->slab, "dentry", 0)].attr.accounted, -1);
    kmem_ctx_free(ctx);
    rm_tree(root);
}

static void test_live_ino(void **state)
{
    struct kmem_ctx *ctx;
    char err[512];

    (void)state;
    assert_int_equal(kmem_ctx_new(&ctx, "/", err, sizeof(err)), 0);
    /* The first collection walks the tree; the second re-reads the known tree. */
    for (int round = 0; round < 2; round++) {
        const struct kmem_snapshot *s;
        size_t compared = 0;

        struct timespec t0;

        clock_gettime(CLOCK_REALTIME, &t0);
        kmem_collect(ctx, KMEM_COLLECT_CGROUPS);
        s = kmem_current(ctx);
        if (s->status[KMEM_PART_CGROUPS].err) {
            kmem_ctx_free(ctx);
            skip(); /* no memory cgroup hierarchy here */
        }
        for (size_t i = 0; i < s->cgroups.n && compared < 200; i++) {
            char path[PATH_MAX];
            struct stat st;

            snprintf(path, sizeof(path), "/%s%s", s->cgroups.mount, s->cgroups.v[i].path);
            if (stat(path, &st))
                continue;
            /* Made since the collection began (another cgroup of the same
             * name, on a machine that makes and removes them): not this one. */
            if (st.st_ctim.tv_sec >= t0.tv_sec - 1)
                continue;
            if (s->cgroups.v[i].ino != (uint64_t)st.st_ino)
                fail_msg("round %d: %s: ino %llu, stat %llu", round, path,
                         (unsigned long long)s->cgroups.v[i].ino, (unsigned long long)st.st_ino);
            assert_ptr_equal(kmem_cgroups_find(&s->cgroups, s->cgroups.v[i].path),
                             &s->cgroups.v[i]);
            compared++;
        }
        assert_true(compared >= 1);
    }
    kmem_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_finish_sort), cmocka_unit_test(test_copy),
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_snapshot_part),   cmocka_unit_test(test_accounted_from_owners),
        cmocka_unit_test(test_live_ino),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
