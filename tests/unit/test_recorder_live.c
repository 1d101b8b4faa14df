/* SPDX-License-Identifier: MIT */
/*
 * The recorder on this machine's memory cgroups (root only; skipped
 * elsewhere): the context keeps its cgroup files open between samples and
 * reads each cgroup's OOM-kill counter and limit with them
 * (KMEM_CG_EXTRA_OOM), and every sample, not only the first one (a walk),
 * holds them, under the paths a capture holds them at, with the kernel's
 * contents; the owner walks run in a child process
 * (kmem_ctx_set_owners_isolated); the sample compressed against the
 * keyframe (kept compressed by the recorder) reads back. Checked on a
 * cgroup subtree of the test's own (others' cgroups come and go).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kmemrec.h"

#define LIMIT "268435456\n"
/* Past the first chain's reset (KMEM_REC_DEFAULT_CHAIN). */
#define NSAMPLES (KMEM_REC_DEFAULT_CHAIN + 2)

static char *slurp(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

static bool put(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);

    if (fd >= 0)
        close(fd);
    return ok;
}

/* Made by the test, removed whatever happens (teardown). */
static char made_cg[4096], made_sub[4096], made_rec[64];

static int cleanup(void **state)
{
    (void)state;
    if (*made_sub)
        rmdir(made_sub);
    if (*made_cg)
        rmdir(made_cg);
    if (*made_rec)
        kmem_rec_remove_tree(made_rec);
    return 0;
}

/* The file @mount@cg/@file of sample @fs, or NULL. */
static const struct kmem_fs_entry *in_sample(const struct kmem_fileset *fs, const char *mount,
                                             const char *cg, const char *file)
{
    char p[4096];

    snprintf(p, sizeof(p), "%s%s/%s", mount, cg, file);
    return kmem_fs_find(fs, p);
}

static void recorder_live(void **state)
{
    const char *hier = NULL, *mount = NULL, *main_file = NULL, *oom_file = NULL, *limit_file = NULL;
    char cg[256], sub[300], rec[] = "/tmp/kmem-test-reclive.XXXXXX", err[768], p[4096];
    struct kmem_recorder_opts o = {.no_sync = true, .command = "test_recorder_live"};
    struct kmem_recorder *r;
    struct kmem_recording *rd;
    struct kmem_ctx *ctx;
    char *s;

    (void)state;
    if (geteuid() != 0)
        skip();
    s = slurp("/sys/fs/cgroup/cgroup.controllers");
    if (s && strstr(s, "memory")) {
        hier = "/sys/fs/cgroup";
        mount = "sys/fs/cgroup";
        main_file = "memory.stat";
        oom_file = "memory.events";
        limit_file = "memory.max";
        s = slurp("/sys/fs/cgroup/cgroup.subtree_control");
        if (!s || !strstr(s, "memory"))
            skip();
    } else if (access("/sys/fs/cgroup/memory/memory.kmem.usage_in_bytes", F_OK) == 0) {
        hier = "/sys/fs/cgroup/memory";
        mount = "sys/fs/cgroup/memory";
        main_file = "memory.kmem.usage_in_bytes";
        oom_file = "memory.oom_control";
        limit_file = "memory.limit_in_bytes";
    } else {
        skip();
    }
    snprintf(cg, sizeof(cg), "/kmem-test-reclive-%ld", (long)getpid());
    snprintf(sub, sizeof(sub), "%s/a", cg);
    snprintf(p, sizeof(p), "%s%s", hier, cg);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(made_cg, sizeof(made_cg), "%s", p);
    snprintf(p, sizeof(p), "%s%s", hier, sub);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(made_sub, sizeof(made_sub), "%s", p);
    snprintf(p, sizeof(p), "%s%s/%s", hier, sub, limit_file);
    assert_true(put(p, LIMIT));

    assert_non_null(mkdtemp(rec));
    snprintf(made_rec, sizeof(made_rec), "%s", rec);
    o.dir = rec;
    assert_int_equal(kmem_ctx_new(&ctx, "/", err, sizeof(err)), 0);
    kmem_ctx_set_owners_isolated(ctx, true);
    assert_int_equal(kmem_recorder_open(&r, &o, err, sizeof(err)), 0);
    for (int i = 0; i < NSAMPLES; i++) {
        kmem_recorder_set_time(r, 1800000000000000000ull + (uint64_t)i * 10000000000ull);
        assert_int_equal(kmem_recorder_sample(r, ctx, false), 0);
    }
    /* The cgroup files stay open between samples (one at least per cgroup of ours). */
    assert_true(kmem_ctx_cgroup_fds(ctx) >= 2);
    kmem_recorder_close(r);
    kmem_ctx_free(ctx);

    assert_int_equal(kmem_recording_open(&rd, rec, err, sizeof(err)), 0);
    assert_int_equal(kmem_recording_scan(rd, 0), 0);
    assert_int_equal(kmem_recording_count(rd), NSAMPLES);
    /* The chain's reset: sample KMEM_REC_DEFAULT_CHAIN is compressed against
     * the keyframe (which the recorder keeps compressed and reads back). */
    assert_int_equal(kmem_recording_sample(rd, 0)->flags & KMEM_REC_KEYFRAME, KMEM_REC_KEYFRAME);
    assert_int_equal(kmem_recording_sample(rd, KMEM_REC_DEFAULT_CHAIN)->flags &
                         (KMEM_REC_KEYFRAME | KMEM_REC_CHAIN),
                     0);
    assert_true(kmem_recording_sample(rd, KMEM_REC_DEFAULT_CHAIN + 1)->flags & KMEM_REC_CHAIN);
    for (size_t i = 0; i < NSAMPLES; i++) {
        const char *cgs[] = {"", cg, sub};
        const struct kmem_fs_entry *e;
        struct kmem_fileset fs = {0};
        int checked = 0;

        assert_int_equal(kmem_recording_load(rd, i, &fs), 0);
        for (int c = 0; c < 3; c++) {
            assert_non_null(in_sample(&fs, mount, cgs[c], main_file));
            if (!*cgs[c] && !strcmp(oom_file, "memory.events"))
                continue; /* the v2 root has neither file */
            assert_non_null(in_sample(&fs, mount, cgs[c], oom_file));
            assert_non_null(in_sample(&fs, mount, cgs[c], limit_file));
            checked++;
        }
        assert_true(checked >= 2);
        /* The kernel's contents, as read. */
        e = in_sample(&fs, mount, sub, limit_file);
        assert_string_equal(e->data, LIMIT);
        e = in_sample(&fs, mount, sub, oom_file);
        assert_non_null(strstr(e->data, "oom_kill 0\n"));
        kmem_fs_free(&fs);
    }
    kmem_recording_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(recorder_live, cleanup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
