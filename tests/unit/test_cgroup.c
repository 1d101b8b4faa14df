/* SPDX-License-Identifier: MIT */
/*
 * The cgroup reader: memory.stat parsing, every fixture tree with exact
 * values, vanished and broken cgroups, diffs, capture, and (when
 * KMEM_LIVE_CGROUP is set by tests/integration/cgroup_live.sh) the live
 * kernel's v1 counters.
 *
 * Fixture values are hand-computed: each leaf cgroup has the parts listed in
 * the tables below; every parent holds the sum of its children; memory.current
 * (v2) = anon + file + kernel + sock of the fixture's memory.stat.
 */
#include <dirent.h>
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

#include "testtree.h"

#include "kmem.h"
#include "parse.h"

#define BIT(k) (1u << (k))
#define V2_ALL                                                                                     \
    (BIT(KMEM_CG_SLAB_RECLAIMABLE) | BIT(KMEM_CG_SLAB_UNRECLAIMABLE) | BIT(KMEM_CG_KERNEL_STACK) | \
     BIT(KMEM_CG_PAGETABLES) | BIT(KMEM_CG_SEC_PAGETABLES) | BIT(KMEM_CG_PERCPU) |                 \
     BIT(KMEM_CG_VMALLOC) | BIT(KMEM_CG_ZSWAP) | BIT(KMEM_CG_OTHER))
#define V2_515                                                                                     \
    (BIT(KMEM_CG_SLAB_RECLAIMABLE) | BIT(KMEM_CG_SLAB_UNRECLAIMABLE) | BIT(KMEM_CG_KERNEL_STACK) | \
     BIT(KMEM_CG_PAGETABLES) | BIT(KMEM_CG_PERCPU))

/* ---- helpers ------------------------------------------------------------ */

static char *fixture(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/tests/fixtures/%s", test_top(), name);
    return path;
}

static struct kmem_ctx *open_root(const char *root)
{
    struct kmem_ctx *ctx = NULL;
    char err[512];

    if (kmem_ctx_new(&ctx, root, err, sizeof(err)) != 0)
        fail_msg("kmem_ctx_new(%s): %s", root, err);
    return ctx;
}

static const struct kmem_cgroups *collect(struct kmem_ctx *ctx)
{
    int err = kmem_collect(ctx, KMEM_COLLECT_CGROUPS);

    if (err)
        fail_msg("kmem_collect: %d %s", err, kmem_strerror(ctx));
    return &kmem_current(ctx)->cgroups;
}

static const struct kmem_cgroup *find(const struct kmem_cgroups *cgs, const char *path)
{
    for (size_t i = 0; i < cgs->n; i++)
        if (strcmp(cgs->v[i].path, path) == 0)
            return &cgs->v[i];
    fail_msg("no cgroup %s among %zu", path, cgs->n);
    return NULL;
}

static bool has(const struct kmem_cgroups *cgs, const char *path)
{
    for (size_t i = 0; i < cgs->n; i++)
        if (strcmp(cgs->v[i].path, path) == 0)
            return true;
    return false;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f)
        fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A private copy of a fixture tree in a temp dir (removed by the caller). */
static char *copy_fixture(const char *name, char *dir, size_t len)
{
    snprintf(dir, len, "%s/kmem-cgtest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        fail_msg("mkdtemp");
    sh("cp -a '%s/.' '%s/'", fixture(name), dir);
    return dir;
}

/* ---- memory.stat parser ------------------------------------------------- */

struct memstat_case {
    const char *name;
    const char *text;
    int err;
    unsigned line;
    uint64_t kernel;
    bool approx;
    uint32_t present;
    uint64_t comp[KMEM_CG_KIND_COUNT];
    int sock; /* -1: no sock line */
    uint64_t lru, excess;
};

static const struct memstat_case memstat_cases[] = {
    {"6.x full",
     "anon 100\nfile 200\nkernel 1000\nkernel_stack 16\npagetables 32\n"
     "sec_pagetables 8\npercpu 4\nsock 77\nvmalloc 2\nzswap 40\nzswapped 120\n"
     "inactive_anon 60\nactive_anon 40\ninactive_file 150\nactive_file 50\nunevictable 3\n"
     "slab_reclaimable 300\nslab_unreclaimable 500\nslab 800\npgfault 9\n",
     0,
     0,
     1000,
     false,
     V2_ALL,
     {[KMEM_CG_SLAB_RECLAIMABLE] = 300,
      [KMEM_CG_SLAB_UNRECLAIMABLE] = 500,
      [KMEM_CG_KERNEL_STACK] = 16,
      [KMEM_CG_PAGETABLES] = 32,
      [KMEM_CG_SEC_PAGETABLES] = 8,
      [KMEM_CG_PERCPU] = 4,
      [KMEM_CG_VMALLOC] = 2,
      [KMEM_CG_ZSWAP] = 40,
      [KMEM_CG_OTHER] = 98},
     77,
     303,
     0},
    {"5.15 no kernel",
     "anon 1\nkernel_stack 16384\npagetables 4096\npercpu 96\nsock 5\n"
     "slab_reclaimable 8192\nslab_unreclaimable 4096\n",
     0,
     0,
     32864,
     true,
     V2_515,
     {[KMEM_CG_SLAB_RECLAIMABLE] = 8192,
      [KMEM_CG_SLAB_UNRECLAIMABLE] = 4096,
      [KMEM_CG_KERNEL_STACK] = 16384,
      [KMEM_CG_PAGETABLES] = 4096,
      [KMEM_CG_PERCPU] = 96},
     5,
     0,
     0},
    {"5.10: no kernel, no pagetables",
     "anon 1\nfile 2\nkernel_stack 16384\npercpu 96\nsock 0\nslab_reclaimable 8192\n"
     "slab_unreclaimable 4096\nslab 12288\n",
     0,
     0,
     28768,
     true,
     BIT(KMEM_CG_SLAB_RECLAIMABLE) | BIT(KMEM_CG_SLAB_UNRECLAIMABLE) | BIT(KMEM_CG_KERNEL_STACK) |
         BIT(KMEM_CG_PERCPU),
     {[KMEM_CG_SLAB_RECLAIMABLE] = 8192,
      [KMEM_CG_SLAB_UNRECLAIMABLE] = 4096,
      [KMEM_CG_KERNEL_STACK] = 16384,
      [KMEM_CG_PERCPU] = 96},
     0,
     0,
     0},
    {"kernel below parts: the excess comes off the largest part",
     "kernel 10\nslab_reclaimable 20\npercpu 4\n",
     0,
     0,
     10,
     false,
     BIT(KMEM_CG_SLAB_RECLAIMABLE) | BIT(KMEM_CG_PERCPU) | BIT(KMEM_CG_OTHER),
     {[KMEM_CG_SLAB_RECLAIMABLE] = 6, [KMEM_CG_PERCPU] = 4},
     -1,
     0,
     14},
    {"kernel below parts: several parts trimmed",
     "kernel 5\nslab_reclaimable 4\nslab_unreclaimable 4\npercpu 4\n",
     0,
     0,
     5,
     false,
     BIT(KMEM_CG_SLAB_RECLAIMABLE) | BIT(KMEM_CG_SLAB_UNRECLAIMABLE) | BIT(KMEM_CG_PERCPU) |
         BIT(KMEM_CG_OTHER),
     {[KMEM_CG_SLAB_RECLAIMABLE] = 0, [KMEM_CG_SLAB_UNRECLAIMABLE] = 1, [KMEM_CG_PERCPU] = 4},
     -1,
     0,
     7},
    {"kernel 0, parts above it",
     "kernel 0\nkernel_stack 8\n",
     0,
     0,
     0,
     false,
     BIT(KMEM_CG_KERNEL_STACK) | BIT(KMEM_CG_OTHER),
     {0},
     -1,
     0,
     8},
    {"kernel only",
     "kernel 4096",
     0,
     0,
     4096,
     false,
     BIT(KMEM_CG_OTHER),
     {[KMEM_CG_OTHER] = 4096},
     -1,
     0,
     0},
    {"empty", "", 0, 0, 0, true, 0, {0}, -1, 0, 0},
    {"blank lines, tabs, no final newline",
     "\n\nkernel\t 50\n  \npercpu 20",
     0,
     0,
     50,
     false,
     BIT(KMEM_CG_PERCPU) | BIT(KMEM_CG_OTHER),
     {[KMEM_CG_PERCPU] = 20, [KMEM_CG_OTHER] = 30},
     -1,
     0,
     0},
    {"unknown keys and junk values skipped",
     "future_key abc\nkernel_stack_x 1\nkernel 7\nsock_x 3\n",
     0,
     0,
     7,
     false,
     BIT(KMEM_CG_OTHER),
     {[KMEM_CG_OTHER] = 7},
     -1,
     0,
     0},
    {"max u64",
     "kernel 18446744073709551615\nsock 18446744073709551615\nunevictable 18446744073709551615\n"
     "active_file 5\n",
     0,
     0,
     UINT64_MAX,
     false,
     BIT(KMEM_CG_OTHER),
     {[KMEM_CG_OTHER] = UINT64_MAX},
     -2,
     UINT64_MAX,
     0},
    {"parts saturate",
     "slab_reclaimable 18446744073709551615\nslab_unreclaimable 5\n",
     0,
     0,
     UINT64_MAX,
     true,
     BIT(KMEM_CG_SLAB_RECLAIMABLE) | BIT(KMEM_CG_SLAB_UNRECLAIMABLE),
     {[KMEM_CG_SLAB_RECLAIMABLE] = UINT64_MAX, [KMEM_CG_SLAB_UNRECLAIMABLE] = 5},
     -1,
     0,
     0},
    {.name = "overflow",
     .text = "anon 1\nkernel 18446744073709551616\n",
     .err = -EINVAL,
     .line = 2},
    {.name = "missing value", .text = "anon 1\nfile 2\npercpu\n", .err = -EINVAL, .line = 3},
    {.name = "negative", .text = "kernel -5\n", .err = -EINVAL, .line = 1},
    {.name = "trailing garbage", .text = "kernel 5 6\n", .err = -EINVAL, .line = 1},
    {.name = "glued garbage", .text = "kernel 5kB\n", .err = -EINVAL, .line = 1},
    {.name = "bad zswap", .text = "zswap x\n", .err = -EINVAL, .line = 1},
    {.name = "bad LRU line", .text = "kernel 1\nactive_anon 1 2\n", .err = -EINVAL, .line = 2},
};

/* The present parts of @cg add up to its kernel value (saturating). */
static uint64_t parts_sum(const struct kmem_cgroup *cg)
{
    uint64_t sum = 0;

    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
        if (cg->comp_present & BIT(k))
            sum = sum + cg->comp[k] < sum ? UINT64_MAX : sum + cg->comp[k];
    return sum;
}

static void test_memstat_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(memstat_cases) / sizeof(memstat_cases[0]); i++) {
        const struct memstat_case *c = &memstat_cases[i];
        struct kmem_cgroup cg;
        struct kmem_parse_error perr = {99, NULL};
        int err;

        memset(&cg, 0xa5, sizeof(cg));
        err = kmem_cg_memstat_parse(c->text, strlen(c->text), &cg, &perr);
        if (err != c->err || perr.line != c->line)
            fail_msg("%s: err %d line %u, want %d line %u", c->name, err, perr.line, c->err,
                     c->line);
        if (err && !perr.what)
            fail_msg("%s: no reason given", c->name);
        if (err)
            continue;
        if (cg.kernel != c->kernel || cg.kernel_approx != c->approx ||
            cg.comp_present != c->present)
            fail_msg("%s: kernel %llu approx %d present %#x", c->name,
                     (unsigned long long)cg.kernel, cg.kernel_approx, cg.comp_present);
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
            if (cg.comp[k] != c->comp[k])
                fail_msg("%s: %s = %llu, want %llu", c->name, kmem_cg_kind_name[k],
                         (unsigned long long)cg.comp[k], (unsigned long long)c->comp[k]);
        /* The parts add up exactly to kernel. */
        if (parts_sum(&cg) != cg.kernel)
            fail_msg("%s: parts add up to %llu, kernel %llu", c->name,
                     (unsigned long long)parts_sum(&cg), (unsigned long long)cg.kernel);
        if (cg.has_sock != (c->sock != -1) || (c->sock >= 0 && cg.sock != (uint64_t)c->sock) ||
            (c->sock == -2 && cg.sock != UINT64_MAX))
            fail_msg("%s: sock %d %llu, want %d", c->name, cg.has_sock, (unsigned long long)cg.sock,
                     c->sock);
        if (cg.lru != c->lru || cg.comp_excess != c->excess)
            fail_msg("%s: lru %llu excess %llu", c->name, (unsigned long long)cg.lru,
                     (unsigned long long)cg.comp_excess);
    }
}

/* pagetables_unreported: memory.stat says pagetables 0 while anonymous
 * pages are on the LRU (some process maps them, so its page tables are
 * charged somewhere): only then. */
static void test_memstat_pagetables_unreported(void **state)
{
    static const struct {
        const char *text;
        bool want;
    } cases[] = {
        {"anon 8192\nkernel 4096\npagetables 0\ninactive_anon 4096\nactive_anon 4096\n", true},
        {"kernel 4096\npagetables 0\ninactive_anon 0\nactive_anon 4096\n", true},
        {"kernel 12288\npagetables 8192\ninactive_anon 4096\nactive_anon 4096\n", false},
        {"kernel 8192\npagetables 4096\ninactive_anon 4096\nactive_anon 0\n", false}, /* one page */
        {"kernel 4096\npagetables 0\ninactive_anon 0\nactive_anon 0\ninactive_file 4096\n", false},
        {"kernel 4096\ninactive_anon 4096\nactive_anon 4096\n", false},
    };
    size_t compared = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kmem_cgroup cg;
        struct kmem_parse_error perr = {0, NULL};

        memset(&cg, 0xa5, sizeof(cg));
        assert_int_equal(kmem_cg_memstat_parse(cases[i].text, strlen(cases[i].text), &cg, &perr),
                         0);
        if (cg.pagetables_unreported != cases[i].want)
            fail_msg("case %zu: pagetables_unreported %d, want %d", i, cg.pagetables_unreported,
                     cases[i].want);
        compared++;
    }
    assert_int_equal(compared, 6);
}

static void test_memstat_nul_inside(void **state)
{
    static const char text[] = "kernel 9\0\nkernel_stack 4\n";
    struct kmem_cgroup cg;

    (void)state;
    assert_int_equal(kmem_cg_memstat_parse(text, sizeof(text) - 1, &cg, NULL), 0);
    assert_int_equal(cg.kernel, 9);
    assert_int_equal(cg.comp[KMEM_CG_KERNEL_STACK], 4);
}

/* Lines of keys kmem does not use are skipped whatever their shape (kernels add keys). */
static void test_memstat_unknown_shapes(void **state)
{
    static const char text[] = "anon 1 2 3\nnew_key x\nkernel 9\nslab_reclaimable 4\n"
                               "future: 7 kB\n";
    struct kmem_cgroup cg;
    struct kmem_parse_error perr;

    (void)state;
    assert_int_equal(kmem_cg_memstat_parse(text, sizeof(text) - 1, &cg, &perr), 0);
    assert_int_equal(cg.kernel, 9);
    assert_int_equal(cg.comp[KMEM_CG_SLAB_RECLAIMABLE], 4);
    /* A key kmem uses must still be "key number". */
    assert_int_equal(kmem_cg_memstat_parse("kernel x\n", 9, &cg, &perr), -EINVAL);
    assert_int_equal(perr.line, 1);
}

/* ---- cgroup.stat, /proc/cgroups, CPU lists ----------------------------- */

static void test_cgstat_table(void **state)
{
    static const struct {
        const char *text;
        int err;
        uint64_t dying;
        enum kmem_cg_dying_source src;
    } cases[] = {
        {"nr_descendants 13\nnr_dying_descendants 7\n", 0, 7, KMEM_CG_DYING_DESCENDANTS},
        /* 6.12+: the memory controller's own count wins, wherever it is */
        {"nr_descendants 6\nnr_dying_descendants 4\nnr_subsys_memory 7\n"
         "nr_dying_subsys_memory 3\n",
         0, 3, KMEM_CG_DYING_SUBSYS_MEMORY},
        {"nr_dying_subsys_memory 0\nnr_dying_descendants 9\n", 0, 0, KMEM_CG_DYING_SUBSYS_MEMORY},
        {"nr_dying_subsys_cpu 5\nnr_descendants 1\n", 0, 0, KMEM_CG_DYING_NONE},
        {"", 0, 0, KMEM_CG_DYING_NONE},
        {"nr_dying_descendants 18446744073709551615", 0, UINT64_MAX, KMEM_CG_DYING_DESCENDANTS},
        {"nr_dying_descendants x\n", -EINVAL, 0, KMEM_CG_DYING_NONE},
        {"nr_dying_descendants 1 2\n", -EINVAL, 0, KMEM_CG_DYING_NONE},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum kmem_cg_dying_source src = KMEM_CG_DYING_PROC_CGROUPS;
        struct kmem_parse_error perr;
        uint64_t dying = 99;
        int err = kmem_cg_cgstat_parse(cases[i].text, strlen(cases[i].text), &dying, &src, &perr);

        if (err != cases[i].err || dying != cases[i].dying || src != cases[i].src)
            fail_msg("case %zu: err %d dying %llu source %d", i, err, (unsigned long long)dying,
                     (int)src);
    }
}

static void test_proc_cgroups_and_cpulist(void **state)
{
    static const char proc[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                               "cpuset\t3\t3\t1\nmemory\t4\t96\t1\npids\t8\t3\t1\n";
    static const struct {
        const char *text;
        unsigned want;
    } cpus[] = {
        {"0-1\n", 2},  {"0\n", 1},  {"0-3,8-15\n", 12},  {"0,2,4\n", 3}, {"0-7", 8},
        {"", 0},       {"\n", 0},   {"3-1\n", 0},        {"0-\n", 0},    {"-1\n", 0},
        {"0,,1\n", 0}, {"1x\n", 0}, {"0-16777216\n", 0},
    };
    uint64_t num = 1;

    (void)state;
    assert_int_equal(kmem_cg_proc_cgroups_parse(proc, strlen(proc), &num), 0);
    assert_int_equal(num, 96);
    assert_int_equal(kmem_cg_proc_cgroups_parse("cpu 1 3 1\n", 10, &num), -ENOENT);
    assert_int_equal(num, 0);
    assert_int_equal(kmem_cg_proc_cgroups_parse("memory 4 x 1\n", 13, &num), -EINVAL);
    for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++)
        if (kmem_cpulist_count(cpus[i].text, strlen(cpus[i].text)) != cpus[i].want)
            fail_msg("cpu list '%s': %u, want %u", cpus[i].text,
                     kmem_cpulist_count(cpus[i].text, strlen(cpus[i].text)), cpus[i].want);
}

/* ---- v2 fixtures -------------------------------------------------------- */

/* Leaf or summed values of one v2 cgroup: kernel parts, then other, sock, current. */
struct v2_expect {
    const char *path;
    uint64_t r, u, ks, pt, sp, pc, vm, other, sock, current;
    uint64_t kernel;
    const char *uid, *qos, *cid, *runtime, *ns, *pod, *container;
    bool conmon;
};

#define SC_B  "/kubepods.slice/kubepods-burstable.slice"
#define SC_PB SC_B "/kubepods-burstable-pod1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d.slice"
#define SC_E  "/kubepods.slice/kubepods-besteffort.slice"
#define SC_PE SC_E "/kubepods-besteffort-poda0b1c2d3_e4f5_4607_8899_aabbccddeeff.slice"
#define SC_PG "/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_4968_8776_655443322110.slice"
#define UID_B "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
#define UID_E "a0b1c2d3-e4f5-4607-8899-aabbccddeeff"
#define UID_G "0f1e2d3c-4b5a-4968-8776-655443322110"
#define ID(xx)                                                                                     \
    xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx
#define NOKUBE "", "", "", "", "", "", "", false

static const struct v2_expect sc_expect[] = {
    /* The root's own memory.stat: its children plus 2 MiB of dentries a removed
     * cgroup handed up (usage: the sum of the children's memory.current). */
    {"/", 18063360 + 14680064 + 2097152, 3096576 + 7340032, 311296 + 1769472, 4603904 + 3670016,
     8192, 61440 + 229376, 28672 + 98304, 90112 + 458752, 1232896 + 122880, 727650304,
     54509568 + 2097152, NOKUBE},
    {"/system.slice", 14680064, 7340032, 1769472, 3670016, 0, 229376, 98304, 458752, 122880,
     280027136, 28246016, NOKUBE},
    {"/system.slice/containerd.service", 8388608, 4194304, 1048576, 2097152, 0, 131072, 65536,
     262144, 40960, 173514752, 16187392, NOKUBE},
    {"/system.slice/kubelet.service", 6291456, 3145728, 720896, 1572864, 0, 98304, 32768, 196608,
     81920, 106512384, 12058624, NOKUBE},
    {"/kubepods.slice", 18063360, 3096576, 311296, 4603904, 8192, 61440, 28672, 90112, 1232896,
     447623168, 26263552, NOKUBE},
    {SC_B, 1081344, 589824, 81920, 282624, 0, 20480, 8192, 16384, 4096, 18100224, 2080768, NOKUBE},
    {SC_PB, 1081344,  589824,  81920, 282624,      0,  20480, 8192,      16384,
     4096,  18100224, 2080768, UID_B, "burstable", "", "",    "default", "web-7d4b9c8f6d-x2x9k",
     "",    false},
    {SC_PB "/cri-containerd-" ID("b1") ".scope",
     1048576,
     524288,
     65536,
     262144,
     0,
     16384,
     8192,
     12288,
     4096,
     17670144,
     1937408,
     UID_B,
     "burstable",
     ID("b1"),
     "containerd",
     "default",
     "web-7d4b9c8f6d-x2x9k",
     "nginx",
     false},
    /* the sandbox (pause) container has no log link: the kubelet's "POD" */
    {SC_PB "/cri-containerd-" ID("b2") ".scope",
     32768,
     65536,
     16384,
     20480,
     0,
     4096,
     0,
     4096,
     0,
     430080,
     143360,
     UID_B,
     "burstable",
     ID("b2"),
     "containerd",
     "default",
     "web-7d4b9c8f6d-x2x9k",
     "POD",
     false},
    {SC_E, 204800, 409600, 32768, 126976, 0, 8192, 4096, 8192, 0, 2252800, 794624, NOKUBE},
    {SC_PE,   204800, 409600, 32768,        126976, 0,  8192,          4096,          8192, 0,
     2252800, 794624, UID_E,  "besteffort", "",     "", "kube-system", "debug-tools", "",   false},
    {SC_PE "/cri-containerd-" ID("e1") ".scope",
     204800,
     409600,
     32768,
     126976,
     0,
     8192,
     4096,
     8192,
     0,
     2252800,
     794624,
     UID_E,
     "besteffort",
     ID("e1"),
     "containerd",
     "kube-system",
     "debug-tools",
     "shell-tools",
     false},
    {SC_PG, 16777216, 2097152,      196608,         4194304,  8192,  32768,
     16384, 65536,    1228800,      427270144,      23388160, UID_G, "guaranteed",
     "",    "",       "monitoring", "prometheus-0", "",       false},
    {SC_PG "/cri-containerd-" ID("c7") ".scope",
     16777216,
     2097152,
     196608,
     4194304,
     8192,
     32768,
     16384,
     65536,
     1228800,
     427270144,
     23388160,
     UID_G,
     "guaranteed",
     ID("c7"),
     "containerd",
     "monitoring",
     "prometheus-0",
     "prometheus",
     false},
};

#define CR_P   SC_B "/kubepods-burstable-pod5e6f7a8b_9c0d_4e1f_a2b3_c4d5e6f70819.slice"
#define UID_C  "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f70819"
#define CR_SUM 2117632, 1089536, 81920, 425984, 0, 20480, 8192, 24576, 8192, 45953024, 3768320

static const struct v2_expect crio_expect[] = {
    /* The root's own memory.stat: 1 MiB of slab handed up by a removed cgroup. */
    {"/", 2117632, 1089536 + 1048576, 81920, 425984, 0, 20480, 8192, 24576, 8192, 45953024,
     3768320 + 1048576, NOKUBE},
    {"/kubepods.slice", CR_SUM, NOKUBE},
    {SC_B, CR_SUM, NOKUBE},
    {CR_P, CR_SUM, UID_C, "burstable", "", "", "default", "redis-0", "", false},
    {CR_P "/crio-" ID("c1") ".scope",
     2097152,
     1048576,
     49152,
     409600,
     0,
     12288,
     8192,
     20480,
     8192,
     45596672,
     3645440,
     UID_C,
     "burstable",
     ID("c1"),
     "crio",
     "default",
     "redis-0",
     "redis",
     false},
    /* conmon: the pod's identity, no container */
    {CR_P "/crio-conmon-" ID("c1") ".scope",
     12288,
     24576,
     16384,
     8192,
     0,
     4096,
     0,
     4096,
     0,
     200704,
     69632,
     UID_C,
     "burstable",
     "",
     "crio",
     "default",
     "redis-0",
     "",
     true},
    {CR_P "/crio-" ID("c0") ".scope",
     8192,
     16384,
     16384,
     8192,
     0,
     4096,
     0,
     0,
     0,
     155648,
     53248,
     UID_C,
     "burstable",
     ID("c0"),
     "crio",
     "default",
     "redis-0",
     "POD",
     false},
};

#define NK_POD   "/kubepods/besteffort/pod77777777-8888-4999-aaaa-bbbbbbbbbbbb"
#define UID_N    "77777777-8888-4999-aaaa-bbbbbbbbbbbb"
#define NK_K8S   524288, 131072, 16384, 65536, 0, 4096, 0, 0, 0, 3887104, 741376
#define NK_SSHD  1048576, 262144, 32768, 131072, 0, 8192, 0, 0, 0, 7774208, 1482752
#define NK_ROOTV 5767168, 1441792, 212992, 983040, 0, 36864, 0, 0, 12288, 112263168, 8441856

/* Root with its own memory.stat: 1 MiB of slab handed up by a removed cgroup. */
#define NK_ROOTS                                                                                   \
    5767168 + 1048576, 1441792, 212992, 983040, 0, 36864, 0, 0, 12288, 112263168, 8441856 + 1048576

static const struct v2_expect nokernel_expect[] = {
    {"/", NK_ROOTS, NOKUBE},
    {"/system.slice", NK_SSHD, NOKUBE},
    {"/system.slice/sshd.service", NK_SSHD, NOKUBE},
    {"/user.slice", 4194304, 1048576, 163840, 786432, 0, 24576, 0, 0, 12288, 100601856, 6217728,
     NOKUBE},
    {"/kubepods", NK_K8S, NOKUBE},
    {"/kubepods/besteffort", NK_K8S, NOKUBE},
    {NK_POD, NK_K8S, UID_N, "besteffort", "", "", "batch", "report-28391", "", false},
    {NK_POD "/" ID("d1"), NK_K8S, UID_N, "besteffort", ID("d1"), "", "batch", "report-28391",
     "report", false},
};

/* v2-no-root-stat: the same tree without a root memory.stat: the root sums its children. */
static const struct v2_expect noroot_expect[] = {
    {"/", NK_ROOTV, NOKUBE},
    {"/system.slice", NK_SSHD, NOKUBE},
    {"/system.slice/sshd.service", NK_SSHD, NOKUBE},
    {"/user.slice", 4194304, 1048576, 163840, 786432, 0, 24576, 0, 0, 12288, 100601856, 6217728,
     NOKUBE},
    {"/kubepods", NK_K8S, NOKUBE},
    {"/kubepods/besteffort", NK_K8S, NOKUBE},
    {NK_POD, NK_K8S, UID_N, "besteffort", "", "", "batch", "report-28391", "", false},
    {NK_POD "/" ID("d1"), NK_K8S, UID_N, "besteffort", ID("d1"), "", "batch", "report-28391",
     "report", false},
};

/* zswap (part of kernel) in v2-systemd-containerd: the prometheus container and its ancestors. */
static uint64_t zswap_of(const char *path)
{
    static const char *const with[] = {"/", "/kubepods.slice", SC_PG,
                                       SC_PG "/cri-containerd-" ID("c7") ".scope"};

    for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++)
        if (strcmp(path, with[i]) == 0)
            return 32768;
    return 0;
}

static void check_v2(const struct kmem_cgroups *cgs, const struct v2_expect *e, size_t n,
                     bool approx, bool sc_zswap)
{
    assert_int_equal(cgs->layout, KMEM_CG_V2);
    assert_string_equal(cgs->mount, "sys/fs/cgroup");
    assert_int_equal(cgs->n, n);
    assert_int_equal(cgs->n_vanished, 0);
    assert_int_equal(cgs->n_errors, 0);
    assert_string_equal(cgs->v[0].path, "/");
    assert_int_equal(cgs->v[0].depth, 0);
    for (size_t i = 0; i < n; i++) {
        const struct kmem_cgroup *c = find(cgs, e[i].path);
        const uint64_t zsw = sc_zswap ? zswap_of(e[i].path) : 0;
        const uint64_t want[KMEM_CG_KIND_COUNT] = {
            [KMEM_CG_SLAB_RECLAIMABLE] = e[i].r,
            [KMEM_CG_SLAB_UNRECLAIMABLE] = e[i].u,
            [KMEM_CG_KERNEL_STACK] = e[i].ks,
            [KMEM_CG_PAGETABLES] = e[i].pt,
            [KMEM_CG_SEC_PAGETABLES] = e[i].sp,
            [KMEM_CG_PERCPU] = e[i].pc,
            [KMEM_CG_VMALLOC] = e[i].vm,
            [KMEM_CG_ZSWAP] = zsw,
            [KMEM_CG_OTHER] = approx ? 0 : e[i].other - zsw,
        };

        if (c->kernel != e[i].kernel)
            fail_msg("%s: kernel %llu want %llu", e[i].path, (unsigned long long)c->kernel,
                     (unsigned long long)e[i].kernel);
        assert_int_equal(c->usage, e[i].current);
        assert_int_equal(c->kernel_approx, approx);
        assert_int_equal(c->comp_present, approx ? V2_515 : V2_ALL);
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
            if (c->comp[k] != want[k])
                fail_msg("%s: %s = %llu, want %llu", e[i].path, kmem_cg_kind_name[k],
                         (unsigned long long)c->comp[k], (unsigned long long)want[k]);
        assert_int_equal(parts_sum(c), c->kernel);
        assert_int_equal(c->comp_excess, 0);
        assert_true(c->has_sock);
        assert_int_equal(c->sock, e[i].sock);
        /* Every cgroup but the root has memory.current, hence an upper bound. */
        assert_int_equal(c->has_upper_bound, c->depth > 0);
        if (c->has_upper_bound)
            assert_true(c->kernel_upper_bound >= c->kernel);
        assert_string_equal(c->pod_uid, e[i].uid);
        assert_string_equal(c->qos, e[i].qos);
        assert_string_equal(c->container_id, e[i].cid);
        assert_string_equal(c->runtime, e[i].runtime);
        assert_string_equal(c->namespace_name, e[i].ns);
        assert_string_equal(c->pod_name, e[i].pod);
        assert_string_equal(c->container_name, e[i].container);
        assert_int_equal(c->kube_conmon, e[i].conmon);
    }
}

static void test_v2_systemd_containerd(void **state)
{
    struct kmem_ctx *ctx = open_root(fixture("v2-systemd-containerd"));
    const struct kmem_cgroups *cgs = collect(ctx);

    (void)state;
    check_v2(cgs, sc_expect, sizeof(sc_expect) / sizeof(sc_expect[0]), false, true);
    for (size_t i = 0; i < cgs->n; i++)
        assert_false(cgs->v[i].has_prev);
    /* The root's own memory.stat (6.1): exact, and 2 MiB above its children. */
    assert_true(cgs->kernel_exact);
    assert_false(cgs->v[0].kernel_lower_bound);
    assert_int_equal(cgs->v[0].kernel - (find(cgs, "/system.slice")->kernel +
                                         find(cgs, "/kubepods.slice")->kernel),
                     2097152);
    /* Removed cgroups: cgroup.stat nr_dying_descendants (no per-controller keys on 6.1). */
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_DESCENDANTS);
    assert_int_equal(cgs->dying, 7);
    assert_true(cgs->v[0].has_dying);
    assert_int_equal(find(cgs, "/kubepods.slice")->dying, 5);
    assert_int_equal(find(cgs, SC_PB)->dying, 3);
    assert_false(find(cgs, SC_PG)->has_dying); /* no cgroup.stat in the fixture */
    assert_int_equal(cgs->possible_cpus, 8);
    /* Restart attempts from the pod-log directories. */
    assert_int_equal(find(cgs, SC_PB "/cri-containerd-" ID("b1") ".scope")->container_attempt, 0);
    assert_int_equal(find(cgs, SC_PB "/cri-containerd-" ID("b2") ".scope")->container_attempt, 0);
    assert_int_equal(find(cgs, SC_PB)->depth, 3);
    assert_int_equal(find(cgs, SC_PB "/cri-containerd-" ID("b1") ".scope")->depth, 4);
    /* The whole snapshot reads the tree too (other parts are tested elsewhere). */
    kmem_collect(ctx, KMEM_COLLECT_ALL);
    assert_int_equal(kmem_current(ctx)->status[KMEM_PART_CGROUPS].err, 0);
    assert_int_equal(kmem_current(ctx)->cgroups.n, 14);
    kmem_ctx_free(ctx);
}

static void test_v2_crio(void **state)
{
    struct kmem_ctx *ctx = open_root(fixture("v2-crio"));

    const struct kmem_cgroups *cgs;

    (void)state;
    cgs = collect(ctx);
    check_v2(cgs, crio_expect, sizeof(crio_expect) / sizeof(crio_expect[0]), false, false);
    assert_true(cgs->kernel_exact);
    /* 6.12 cgroup.stat: the memory controller's own count wins over all cgroups'. */
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_SUBSYS_MEMORY);
    assert_int_equal(cgs->dying, 3);
    assert_int_equal(find(cgs, "/kubepods.slice")->dying, 3);
    assert_int_equal(cgs->possible_cpus, 4);
    /* The attempt of the log link's target (2.log), not the highest <N>.log (3). */
    assert_int_equal(find(cgs, CR_P "/crio-" ID("c1") ".scope")->container_attempt, 2);
    /* The sandbox: no log link in a pod that has one: "POD", attempt 0. */
    assert_string_equal(find(cgs, CR_P "/crio-" ID("c0") ".scope")->container_name, "POD");
    assert_int_equal(find(cgs, CR_P "/crio-" ID("c0") ".scope")->container_attempt, 0);
    kmem_ctx_free(ctx);
}

static void test_v2_no_kernel_stat(void **state)
{
    struct kmem_ctx *ctx = open_root(fixture("v2-no-kernel-stat"));

    const struct kmem_cgroups *cgs;

    (void)state;
    cgs = collect(ctx);
    check_v2(cgs, nokernel_expect, sizeof(nokernel_expect) / sizeof(nokernel_expect[0]), true,
             false);
    /* Estimated (before 5.18), but the root's figure is its own memory.stat's. */
    assert_false(cgs->kernel_exact);
    assert_false(cgs->v[0].kernel_lower_bound);
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_DESCENDANTS);
    assert_int_equal(cgs->dying, 2);
    kmem_ctx_free(ctx);
}

/* Without a root memory.stat, the root is the sum of its children: a lower bound. */
static void test_v2_no_root_stat(void **state)
{
    struct kmem_ctx *ctx = open_root(fixture("v2-no-root-stat"));
    const struct kmem_cgroups *cgs;

    (void)state;
    cgs = collect(ctx);
    check_v2(cgs, noroot_expect, sizeof(noroot_expect) / sizeof(noroot_expect[0]), true, false);
    assert_true(cgs->v[0].kernel_lower_bound);
    assert_true(cgs->v[0].kernel_approx);
    assert_false(cgs->kernel_exact);
    for (size_t i = 1; i < cgs->n; i++)
        assert_false(cgs->v[i].kernel_lower_bound);
    assert_int_equal(cgs->dying, 0);
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_DESCENDANTS);
    kmem_ctx_free(ctx);
}

/* The upper bound of an estimate: memory.current - LRU pages - sock, never below kernel. */
static void test_v2_upper_bound(void **state)
{
    const char *leaf = "/system.slice/sshd.service";
    char dir[256], p[1024];
    const struct kmem_cgroups *cgs;
    const struct kmem_cgroup *c;
    struct kmem_ctx *ctx;

    (void)state;
    copy_fixture("v2-no-kernel-stat", dir, sizeof(dir));
    ctx = open_root(dir);
    cgs = collect(ctx);
    /* The fixture's memory.current is anon + file + kernel + sock, and its LRU lists
     * hold anon + file: the bound is tight. */
    for (size_t i = 1; i < cgs->n; i++)
        assert_int_equal(cgs->v[i].kernel_upper_bound, cgs->v[i].kernel);
    /* 1 MiB charged that no memory.stat line explains (page tables on 5.10, vmalloc,
     * pipes, ...): the estimate stays, the bound rises by it. */
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup%s/memory.current", dir, leaf);
    write_file(p, "8822784\n"); /* 7774208 + 1048576 */
    cgs = collect(ctx);
    c = find(cgs, leaf);
    assert_int_equal(c->kernel, 1482752);
    assert_int_equal(c->kernel_upper_bound, 1482752 + 1048576);
    /* memory.current below the LRU pages (stale statistics): clamped at kernel. */
    write_file(p, "4096\n");
    c = find(collect(ctx), leaf);
    assert_true(c->has_upper_bound);
    assert_int_equal(c->kernel_upper_bound, c->kernel);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* ---- v1 fixtures -------------------------------------------------------- */

struct v1_expect {
    const char *path;
    uint64_t kernel, tcp, usage;
    const char *uid, *qos, *cid, *ns, *pod, *container;
};

#define V1_PA  "/kubepods/burstable/pod3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"
#define V1_PG  "/kubepods/pod9a8b7c6d-5e4f-4321-8fed-cba987654321"
#define UID_A  "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"
#define UID_G1 "9a8b7c6d-5e4f-4321-8fed-cba987654321"
#define NOK1   "", "", "", "", "", ""

static const struct v1_expect v1_expect[] = {
    {"/", 25616384, 0, 2147483648, NOK1},
    {"/kubepods", 16179200, 262144, 611319808, NOK1},
    {"/kubepods/burstable", 3596288, 16384, 74448896, NOK1},
    {"/kubepods/besteffort", 0, 0, 0, NOK1},
    {V1_PA, 3596288, 16384, 74448896, UID_A, "burstable", "", "shop", "api-5f6d8c7b9-qwert", ""},
    {V1_PA "/" ID("a1"), 3403776, 16384, 73400320, UID_A, "burstable", ID("a1"), "shop",
     "api-5f6d8c7b9-qwert", "api"},
    {V1_PA "/" ID("a0"), 192512, 0, 1048576, UID_A, "burstable", ID("a0"), "shop",
     "api-5f6d8c7b9-qwert", "POD"},
    {V1_PG, 12582912, 245760, 536870912, UID_G1, "guaranteed", "", "kube-system", "etcd-node1", ""},
    {V1_PG "/" ID("e7"), 12582912, 245760, 536870912, UID_G1, "guaranteed", ID("e7"), "kube-system",
     "etcd-node1", "etcd"},
    {"/system.slice", 9437184, 0, 157286400, NOK1},
    {"/system.slice/docker.service", 9437184, 0, 157286400, NOK1},
};

static void check_v1(const struct kmem_cgroups *cgs)
{
    size_t n = sizeof(v1_expect) / sizeof(v1_expect[0]);

    assert_int_equal(cgs->layout, KMEM_CG_V1);
    assert_string_equal(cgs->mount, "sys/fs/cgroup/memory");
    assert_int_equal(cgs->n, n);
    assert_int_equal(cgs->n_vanished + cgs->n_errors, 0);
    assert_string_equal(cgs->v[0].path, "/");
    for (size_t i = 0; i < n; i++) {
        const struct v1_expect *e = &v1_expect[i];
        const struct kmem_cgroup *c = find(cgs, e->path);

        assert_int_equal(c->kernel, e->kernel);
        assert_int_equal(c->usage, e->usage);
        assert_false(c->kernel_approx);
        assert_false(c->kernel_lower_bound);
        assert_false(c->has_upper_bound);
        /* No parts on v1: "other" is all of it; tcp is socket memory, outside. */
        assert_int_equal(c->comp_present, BIT(KMEM_CG_OTHER));
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
            assert_int_equal(c->comp[k], k == KMEM_CG_OTHER ? e->kernel : 0);
        assert_true(c->has_sock);
        assert_int_equal(c->sock, e->tcp);
        assert_string_equal(c->pod_uid, e->uid);
        assert_string_equal(c->qos, e->qos);
        assert_string_equal(c->container_id, e->cid);
        assert_string_equal(c->runtime, "");
        assert_string_equal(c->namespace_name, e->ns);
        assert_string_equal(c->pod_name, e->pod);
        assert_string_equal(c->container_name, e->container);
    }
}

static void test_v1_cgroupfs(void **state)
{
    struct kmem_ctx *ctx = open_root(fixture("v1-cgroupfs"));

    const struct kmem_cgroups *cgs;

    (void)state;
    cgs = collect(ctx);
    check_v1(cgs);
    assert_true(cgs->kernel_exact);
    /* /proc/cgroups counts 15 memory cgroups; 11 have a directory. */
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_PROC_CGROUPS);
    assert_int_equal(cgs->dying, 4);
    assert_int_equal(cgs->possible_cpus, 16);
    assert_int_equal(find(cgs, V1_PG "/" ID("e7"))->container_attempt, 1);
    assert_int_equal(find(cgs, V1_PA "/" ID("a1"))->container_attempt, 0);
    kmem_ctx_free(ctx);
}

/* The shared capture of this machine: hybrid, v1 memory beside a cgroup2 tree. */
static void test_shared_hybrid(void **state)
{
    char root[4096], path[8192];
    const struct kmem_cgroups *cgs;
    struct kmem_ctx *ctx;

    (void)state;
    snprintf(root, sizeof(root), "%s/tests/fixtures/debian12-linux6.18-hybrid", test_top());
    if (access(root, F_OK) != 0)
        snprintf(root, sizeof(root), "%s", fixture("debian12-linux6.18-hybrid"));
    ctx = open_root(root);
    cgs = collect(ctx);
    assert_int_equal(cgs->layout, KMEM_CG_HYBRID);
    assert_string_equal(kmem_cg_layout_name[cgs->layout], "hybrid");
    assert_string_equal(cgs->mount, "sys/fs/cgroup/memory");
    assert_int_equal(cgs->n, 7);
    assert_int_equal(cgs->n_vanished + cgs->n_errors, 0);
    assert_string_equal(cgs->v[0].path, "/");
    assert_int_equal(cgs->v[0].kernel, 71958528);
    assert_int_equal(cgs->v[0].usage, 931524608);
    assert_int_equal(find(cgs, "/process_api")->kernel, 71069696);
    /* Removed cgroups: /proc/cgroups num_cgroups of memory minus the 7 walked. */
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_PROC_CGROUPS);
    assert_int_equal(cgs->dying, 49 - 7);
    assert_true(cgs->kernel_exact);
    /* Every cgroup equals its memory.kmem.usage_in_bytes. */
    for (size_t i = 0; i < cgs->n; i++) {
        unsigned long long want = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/sys/fs/cgroup/memory%s/memory.kmem.usage_in_bytes", root,
                 cgs->v[i].path);
        f = fopen(path, "r");
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%llu", &want), 1);
        fclose(f);
        assert_int_equal(cgs->v[i].kernel, want);
        assert_string_equal(cgs->v[i].pod_uid, "");
    }
    kmem_ctx_free(ctx);
}

/* ---- every tree: the parts add up ---------------------------------------- */

/*
 * Every fixture tree and every real tree the VM tests captured (5.10, 6.1,
 * 6.12): for every cgroup, the parts present add up exactly to its kernel
 * value; a v2 root with its own memory.stat is read from it (not a lower
 * bound) and holds at least what its children hold; kernel_exact follows the
 * root's "kernel" line.
 */
static void check_tree(const char *root)
{
    char p[8192];
    const struct kmem_cgroups *cgs;
    struct kmem_ctx *ctx;
    uint64_t top = 0;

    snprintf(p, sizeof(p), "%s/sys/fs/cgroup", root);
    if (access(p, F_OK) != 0)
        return; /* a slab-only fixture */
    ctx = open_root(root);
    if (kmem_collect(ctx, KMEM_COLLECT_CGROUPS) != 0) {
        kmem_ctx_free(ctx);
        return; /* trees without a memory hierarchy are tested elsewhere */
    }
    cgs = &kmem_current(ctx)->cgroups;
    for (size_t i = 0; i < cgs->n; i++) {
        const struct kmem_cgroup *c = &cgs->v[i];

        if (parts_sum(c) != c->kernel)
            fail_msg("%s: %s: parts add up to %llu, kernel %llu", root, c->path,
                     (unsigned long long)parts_sum(c), (unsigned long long)c->kernel);
        if (c->depth == 1)
            top += c->kernel;
        if (c->has_upper_bound && c->kernel_upper_bound < c->kernel)
            fail_msg("%s: %s: upper bound below kernel", root, c->path);
    }
    if (cgs->layout == KMEM_CG_V2) {
        FILE *f;
        char line[256];
        bool has_stat, has_kernel = false;

        snprintf(p, sizeof(p), "%s/sys/fs/cgroup/memory.stat", root);
        f = fopen(p, "r");
        has_stat = f != NULL;
        while (f && fgets(line, sizeof(line), f))
            has_kernel |= strncmp(line, "kernel ", 7) == 0;
        if (f)
            fclose(f);
        if (cgs->v[0].kernel_lower_bound == has_stat)
            fail_msg("%s: root lower_bound %d with a root memory.stat %d", root,
                     cgs->v[0].kernel_lower_bound, has_stat);
        if (cgs->kernel_exact != has_kernel)
            fail_msg("%s: kernel_exact %d, root memory.stat kernel line %d", root,
                     cgs->kernel_exact, has_kernel);
        if (cgs->v[0].kernel < top)
            fail_msg("%s: the root %llu below its children %llu", root,
                     (unsigned long long)cgs->v[0].kernel, (unsigned long long)top);
    }
    kmem_ctx_free(ctx);
}

static void check_trees_in(const char *dir)
{
    char path[4096];
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    if (!d)
        fail_msg("cannot list %s", dir);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        check_tree(path);
        n++;
    }
    closedir(d);
    assert_true(n > 0);
}

static void test_every_tree_parts_add_up(void **state)
{
    char dir[4096];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/tests/fixtures", test_top());
    check_trees_in(dir);
    snprintf(dir, sizeof(dir), "%s/tests/vm/trees", test_top());
    check_trees_in(dir);
}

/* ---- layouts and failures ----------------------------------------------- */

static void test_no_hierarchy(void **state)
{
    char dir[256];
    struct kmem_ctx *ctx;
    int err;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kmem-cgtest.XXXXXX");
    assert_non_null(mkdtemp(dir));
    sh("mkdir -p %s/sys/fs/cgroup/cpu && echo 'cpu io' > %s/sys/fs/cgroup/cgroup.controllers", dir,
       dir);
    ctx = open_root(dir);
    err = kmem_collect(ctx, KMEM_COLLECT_CGROUPS);
    assert_int_equal(err, -ENOENT);
    assert_non_null(strstr(kmem_strerror(ctx), "no memory cgroup hierarchy under"));
    assert_non_null(strstr(kmem_strerror(ctx), "/sys/fs/cgroup"));
    assert_int_equal(kmem_current(ctx)->cgroups.layout, KMEM_CG_NONE);
    assert_int_equal(kmem_current(ctx)->cgroups.n, 0);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* cgroup2 with memory mounted at sys/fs/cgroup/unified (rare hybrid variant). */
static void test_v2_at_unified(void **state)
{
    char dir[256], p[512];
    const struct kmem_cgroups *cgs;
    struct kmem_ctx *ctx;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kmem-cgtest.XXXXXX");
    assert_non_null(mkdtemp(dir));
    sh("mkdir -p %s/sys/fs/cgroup/unified/a %s/sys/fs/cgroup/cpu", dir, dir);
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/unified/cgroup.controllers", dir);
    write_file(p, "io memory pids\n");
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/unified/a/memory.stat", dir);
    write_file(p, "anon 0\nkernel 8192\nslab_unreclaimable 4096\n");
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/unified/a/memory.current", dir);
    write_file(p, "65536\n");
    ctx = open_root(dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->layout, KMEM_CG_V2);
    assert_string_equal(cgs->mount, "sys/fs/cgroup/unified");
    assert_int_equal(cgs->n, 2);
    assert_int_equal(cgs->v[0].kernel, 8192);
    assert_true(cgs->v[0].kernel_lower_bound); /* no root memory.stat in this tree */
    assert_false(cgs->kernel_exact);
    assert_int_equal(find(cgs, "/a")->comp[KMEM_CG_OTHER], 4096);
    assert_int_equal(find(cgs, "/a")->usage, 65536);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* An unreadable hierarchy root is an error naming the file, with a hint. */
static void test_root_unreadable(void **state)
{
    char dir[256];
    struct kmem_ctx *ctx;

    (void)state;
    copy_fixture("v1-cgroupfs", dir, sizeof(dir));
    sh("rm %s/sys/fs/cgroup/memory/memory.kmem.usage_in_bytes", dir);
    ctx = open_root(dir);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_CGROUPS), -ENOENT);
    assert_non_null(strstr(kmem_strerror(ctx), "sys/fs/cgroup/memory/memory.kmem.usage_in_bytes"));
    assert_non_null(strstr(kmem_strerror(ctx), "CONFIG_MEMCG_KMEM"));
    assert_int_equal(kmem_current(ctx)->cgroups.n, 0);
    sh("echo 12x > %s/sys/fs/cgroup/memory/memory.kmem.usage_in_bytes", dir);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_CGROUPS), -EINVAL);
    assert_non_null(strstr(kmem_strerror(ctx), "cannot parse"));
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/*
 * v1: a cgroup that cannot be read is skipped and counted (n_errors) with
 * every cgroup below it, and none of them is counted as removed: the count of
 * removed cgroups is /proc/cgroups num_cgroups minus all of them.
 */
static void test_v1_unreadable_not_dying(void **state)
{
    char dir[256];
    const struct kmem_cgroups *cgs;
    struct kmem_ctx *ctx;

    (void)state;
    copy_fixture("v1-cgroupfs", dir, sizeof(dir));
    ctx = open_root(dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 11);
    assert_int_equal(cgs->n_errors, 0);
    assert_int_equal(cgs->dying, 4);
    /* kubepods/burstable: its file unparsable; a pod and its two containers below. */
    sh("echo lots > '%s/sys/fs/cgroup/memory/kubepods/burstable/memory.kmem.usage_in_bytes'", dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 7);
    assert_int_equal(cgs->n_errors, 4);
    assert_int_equal(cgs->dying_source, KMEM_CG_DYING_PROC_CGROUPS);
    assert_int_equal(cgs->dying, 4);
    /* A leaf that cannot be read: one skipped, still 4 removed. */
    sh("echo 1 > '%s/sys/fs/cgroup/memory/kubepods/burstable/memory.kmem.usage_in_bytes'", dir);
    sh("echo -1 > '%s/sys/fs/cgroup/memory/system.slice/docker.service/memory.kmem.usage_in_bytes'",
       dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 10);
    assert_int_equal(cgs->n_errors, 1);
    assert_int_equal(cgs->dying, 4);
    /* /proc/cgroups counting fewer than were seen: none removed, never negative. */
    sh("sed -i 's/^memory\t4\t15/memory\t4\t9/' '%s/proc/cgroups'", dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->dying, 0);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* Cgroups that vanish (files gone, dir removed) are skipped, not errors. */
static void test_vanished(void **state)
{
    const char *leaf = SC_PB "/cri-containerd-" ID("b2") ".scope";
    char dir[256];
    const struct kmem_cgroups *cgs;
    struct kmem_ctx *ctx;

    (void)state;
    copy_fixture("v2-systemd-containerd", dir, sizeof(dir));
    ctx = open_root(dir);
    assert_int_equal(collect(ctx)->n, 14);
    /* A cgroup being removed: its files are gone before its directory. */
    sh("rm '%s/sys/fs/cgroup%s/memory.stat'", dir, leaf);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 13);
    assert_int_equal(cgs->n_vanished, 1);
    assert_int_equal(cgs->n_errors, 0);
    assert_false(has(cgs, leaf));
    /* Whole subtree removed between collections. */
    sh("rm -rf '%s/sys/fs/cgroup%s'", dir, SC_E);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 10);
    assert_int_equal(cgs->n_vanished, 1);
    assert_int_equal(kmem_current(ctx)->status[KMEM_PART_CGROUPS].err, 0);
    /* Garbage in a known key is an error on that cgroup only: skipped and counted. */
    sh("echo 'kernel lots' > '%s/sys/fs/cgroup/system.slice/kubelet.service/memory.stat'", dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 9);
    assert_int_equal(cgs->n_errors, 1);
    /* The root's figure is its own memory.stat, whatever the walk saw. */
    assert_int_equal(cgs->v[0].kernel, 54509568 + 2097152);
    /* Without it, the root sums the (hierarchical) children it saw. */
    sh("rm '%s/sys/fs/cgroup/memory.stat'", dir);
    cgs = collect(ctx);
    assert_true(cgs->v[0].kernel_lower_bound);
    assert_int_equal(cgs->v[0].kernel, 28246016 + 26263552);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* Deltas across two collections; new cgroups have no previous value. */
static void test_diff(void **state)
{
    const char *leaf = V1_PA "/" ID("a1");
    char dir[256], p[1024];
    const struct kmem_cgroups *cgs;
    const struct kmem_cgroup *c;
    struct kmem_ctx *ctx;

    (void)state;
    copy_fixture("v1-cgroupfs", dir, sizeof(dir));
    ctx = open_root(dir);
    cgs = collect(ctx);
    for (size_t i = 0; i < cgs->n; i++)
        assert_false(cgs->v[i].has_prev);
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/memory%s/memory.kmem.usage_in_bytes", dir, leaf);
    write_file(p, "3412992\n"); /* +9216 */
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/memory/memory.kmem.usage_in_bytes", dir);
    write_file(p, "25600000\n"); /* -16384 */
    sh("rm -rf '%s/sys/fs/cgroup/memory/system.slice/docker.service'", dir);
    sh("cp -a '%s/sys/fs/cgroup/memory/kubepods/besteffort' '%s/sys/fs/cgroup/memory/kubepods/new'",
       dir, dir);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 11);
    c = find(cgs, leaf);
    assert_true(c->has_prev);
    assert_int_equal(c->delta_kernel, 9216);
    assert_true(cgs->v[0].has_prev);
    assert_int_equal(cgs->v[0].delta_kernel, -16384);
    c = find(cgs, "/kubepods/new");
    assert_false(c->has_prev);
    c = find(cgs, "/kubepods/besteffort");
    assert_true(c->has_prev);
    assert_int_equal(c->delta_kernel, 0);
    assert_false(has(cgs, "/system.slice/docker.service"));
    /* One cgroup array per reader: the previous snapshot's cgroups were
     * read over, and are emptied (the change is in has_prev / delta_kernel). */
    assert_int_equal(kmem_previous(ctx)->cgroups.n, 0);
    assert_null(kmem_previous(ctx)->cgroups.v);
    assert_false(has(&kmem_previous(ctx)->cgroups, "/system.slice/docker.service"));
    /* A third collection compares with the second, not the first. */
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/memory%s/memory.kmem.usage_in_bytes", dir, leaf);
    write_file(p, "3416064\n"); /* +3072 */
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 11);
    c = find(cgs, leaf);
    assert_true(c->has_prev);
    assert_int_equal(c->delta_kernel, 3072);
    c = find(cgs, "/kubepods/new");
    assert_true(c->has_prev);
    assert_int_equal(c->delta_kernel, 0);
    /* A collection without cgroups in between: no previous value. */
    assert_int_equal(kmem_collect(ctx, 0), 0);
    assert_int_equal(kmem_current(ctx)->cgroups.n, 0);
    cgs = collect(ctx);
    assert_int_equal(cgs->n, 11);
    for (size_t i = 0; i < cgs->n; i++)
        assert_false(cgs->v[i].has_prev);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* Steady state: every collection reuses the reader's one array. */
static void test_reuse(void **state)
{
    struct kmem_ctx *ctx = open_root(fixture("v2-systemd-containerd"));
    const struct kmem_cgroup *v[4];

    (void)state;
    for (int i = 0; i < 4; i++)
        v[i] = collect(ctx)->v;
    assert_ptr_equal(v[0], v[1]);
    assert_ptr_equal(v[1], v[2]);
    assert_ptr_equal(v[2], v[3]);
    check_v2(&kmem_current(ctx)->cgroups, sc_expect, sizeof(sc_expect) / sizeof(sc_expect[0]),
             false, true);
    kmem_ctx_free(ctx);
}

/* --capture copies what was read (names included) so --root reproduces it. */
static void test_capture(void **state)
{
    char dir[256];
    struct kmem_ctx *ctx;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kmem-cgtest.XXXXXX");
    assert_non_null(mkdtemp(dir));
    ctx = open_root(fixture("v2-systemd-containerd"));
    assert_int_equal(kmem_ctx_set_capture(ctx, dir), 0);
    collect(ctx);
    kmem_ctx_free(ctx);
    ctx = open_root(dir);
    check_v2(collect(ctx), sc_expect, sizeof(sc_expect) / sizeof(sc_expect[0]), false, true);
    kmem_ctx_free(ctx);
    sh("rm -rf %s", dir);
}

/* ---- live (tests/integration/cgroup_live.sh) ---------------------------- */

static uint64_t read_u64(const char *path)
{
    unsigned long long v = 0;
    FILE *f = fopen(path, "r");

    if (!f || fscanf(f, "%llu", &v) != 1)
        fail_msg("cannot read %s", path);
    fclose(f);
    return v;
}

static void test_live(void **state)
{
    const char *cg = getenv("KMEM_LIVE_CGROUP");
    const char *min = getenv("KMEM_LIVE_MIN_BYTES");
    char file[4096];
    struct kmem_ctx *ctx;
    uint64_t got = 0, want = 0;
    int tries;

    (void)state;
    assert_true(cg && *cg);
    snprintf(file, sizeof(file), "/sys/fs/cgroup/memory%s/memory.kmem.usage_in_bytes", cg);
    ctx = open_root("/");
    for (tries = 0; tries < 5; tries++) {
        const struct kmem_cgroups *cgs = collect(ctx);

        assert_true(cgs->layout == KMEM_CG_V1 || cgs->layout == KMEM_CG_HYBRID);
        got = find(cgs, cg)->kernel;
        want = read_u64(file);
        if (got == want)
            break;
        usleep(200000);
    }
    print_message("live %s: kmem %llu, file %llu, tries %d\n", cg, (unsigned long long)got,
                  (unsigned long long)want, tries + 1);
    assert_int_equal(got, want);
    {
        const struct kmem_cgroups *cgs = &kmem_current(ctx)->cgroups;
        const struct kmem_cgroup *c = find(cgs, cg);

        /* v1: one part, "other", all of it; memory.kmem.tcp is sock, apart. */
        assert_int_equal(c->comp_present, BIT(KMEM_CG_OTHER));
        assert_int_equal(c->comp[KMEM_CG_OTHER], c->kernel);
        assert_true(c->has_sock);
        assert_true(cgs->kernel_exact);
        assert_int_equal(cgs->dying_source, KMEM_CG_DYING_PROC_CGROUPS);
    }
    if (min && *min)
        assert_true(got >= strtoull(min, NULL, 10));
    kmem_ctx_free(ctx);
}

/* The previous snapshot's kernel by path, as the test saw it. */
struct seen {
    char **path;
    uint64_t *kernel;
    size_t n;
};

static void seen_free(struct seen *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->path[i]);
    free(p->path);
    free(p->kernel);
    memset(p, 0, sizeof(*p));
}

/*
 * Every cgroup of @cgs has a previous value exactly when its path was in
 * @prev, and its delta_kernel is its kernel minus that one; then @prev
 * becomes @cgs. Returns how many cgroups had a previous value.
 */
static size_t check_deltas(const struct kmem_cgroups *cgs, struct seen *prev)
{
    size_t with = 0;
    struct seen next = {calloc(cgs->n + 1, sizeof(char *)), calloc(cgs->n + 1, 8), cgs->n};

    assert_non_null(next.path);
    assert_non_null(next.kernel);
    for (size_t i = 0; i < cgs->n; i++) {
        const struct kmem_cgroup *c = &cgs->v[i];
        size_t j = 0;

        while (j < prev->n && strcmp(prev->path[j], c->path) != 0)
            j++;
        if (j < prev->n) {
            if (!c->has_prev)
                fail_msg("%s: in the previous snapshot but no has_prev", c->path);
            assert_int_equal(c->delta_kernel, (int64_t)(c->kernel - prev->kernel[j]));
            with++;
        } else if (c->has_prev) {
            fail_msg("%s: has_prev but not in the previous snapshot", c->path);
        }
        next.path[i] = strdup(c->path);
        next.kernel[i] = c->kernel;
    }
    seen_free(prev);
    *prev = next;
    return with;
}

/*
 * has_prev / delta_kernel on the live hierarchy through every way a
 * collection reads it: a walk, the known tree re-read, a merge of a changed
 * directory (a cgroup made, one removed), a walk after the known tree was
 * dropped. The deltas are checked against the snapshots the test kept.
 */
static void test_live_diff(void **state)
{
    const char *cg = getenv("KMEM_LIVE_CGROUP");
    struct seen prev = {0};
    const struct kmem_cgroups *cgs;
    struct kmem_ctx *ctx;
    char d1[4096], d2[4096], p1[1024];
    size_t with;

    (void)state;
    snprintf(d1, sizeof(d1), "/sys/fs/cgroup/memory%s/kmem-diff-1", cg);
    snprintf(d2, sizeof(d2), "/sys/fs/cgroup/memory%s/kmem-diff-2", cg);
    snprintf(p1, sizeof(p1), "%s/kmem-diff-1", cg);
    ctx = open_root("/");
    kmem_ctx_set_cgroup_reading(ctx, 0, KMEM_CG_FDS_AUTO); /* as kmem_exporter reads */
    cgs = collect(ctx);
    assert_int_equal(check_deltas(cgs, &prev), 0);
    cgs = collect(ctx); /* the known tree again */
    assert_true(check_deltas(cgs, &prev) >= 3);
    assert_int_equal(mkdir(d1, 0755), 0);
    cgs = collect(ctx); /* a merge (inotify) or a walk */
    with = check_deltas(cgs, &prev);
    assert_true(has(cgs, p1));
    assert_false(find(cgs, p1)->has_prev);
    assert_true(with >= 3);
    cgs = collect(ctx);
    assert_true(find(cgs, p1)->has_prev);
    assert_true(check_deltas(cgs, &prev) >= 4);
    assert_int_equal(rmdir(d1), 0);
    assert_int_equal(mkdir(d2, 0755), 0);
    cgs = collect(ctx);
    assert_false(has(cgs, p1));
    assert_true(check_deltas(cgs, &prev) >= 3);
    kmem_ctx_set_cgroup_reading(ctx, KMEM_CG_EXTRA_USAGE,
                                KMEM_CG_FDS_AUTO); /* drops the known tree */
    cgs = collect(ctx);
    assert_true(check_deltas(cgs, &prev) >= 4);
    cgs = collect(ctx);
    assert_true(check_deltas(cgs, &prev) >= 4);
    /* The extra file is kept too (the reader's pool of extra fds): more
     * than one fd a cgroup, and its value is the file's. */
    assert_true(kmem_ctx_cgroup_fds(ctx) > cgs->n + cgs->n / 2);
    {
        char uf[4096];
        uint64_t got = 0, want = 0;

        snprintf(uf, sizeof(uf), "/sys/fs/cgroup/memory%s/memory.usage_in_bytes", cg);
        for (int tries = 0; tries < 5; tries++) {
            cgs = collect(ctx);
            got = find(cgs, cg)->usage;
            want = read_u64(uf);
            if (got == want)
                break;
            usleep(200000);
        }
        assert_int_equal(got, want);
    }
    assert_int_equal(rmdir(d2), 0);
    print_message("live diff %s: %zu cgroups compared in the last collection\n", cg, prev.n);
    seen_free(&prev);
    kmem_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memstat_table),
        cmocka_unit_test(test_memstat_pagetables_unreported),
        cmocka_unit_test(test_memstat_nul_inside),
        cmocka_unit_test(test_memstat_unknown_shapes),
        cmocka_unit_test(test_cgstat_table),
        cmocka_unit_test(test_proc_cgroups_and_cpulist),
        cmocka_unit_test(test_v1_unreadable_not_dying),
        cmocka_unit_test(test_v2_systemd_containerd),
        cmocka_unit_test(test_v2_crio),
        cmocka_unit_test(test_v2_no_kernel_stat),
        cmocka_unit_test(test_v2_no_root_stat),
        cmocka_unit_test(test_v2_upper_bound),
        cmocka_unit_test(test_v1_cgroupfs),
        cmocka_unit_test(test_shared_hybrid),
        cmocka_unit_test(test_every_tree_parts_add_up),
        cmocka_unit_test(test_no_hierarchy),
        cmocka_unit_test(test_v2_at_unified),
        cmocka_unit_test(test_root_unreadable),
        cmocka_unit_test(test_vanished),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_capture),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_live_diff),
    };

    /*
     * The live check needs a cgroup charged for it: tests/integration/
     * cgroup_live.sh creates one, charges it and runs only this check (in both
     * builds). Without it the check would compare nothing, so it is not part
     * of the plain unit run.
     */
    if (getenv("KMEM_LIVE_CGROUP"))
        return cmocka_run_group_tests(live, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
