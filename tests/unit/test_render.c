/* SPDX-License-Identifier: MIT */
/*
 * kmemtop renderers on hand-built snapshots: --report numbers and formula,
 * --json (validated by a small parser here, then checked member by member),
 * the cgroup table's order and columns, the node view, and error parts.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kmem.h"
#include "../../src/kmemtop/views.h"
#include "../../src/kmemtop/report.h"
#include "textcheck.h"

#define MiB (UINT64_C(1) << 20)

/* ---- the snapshot ------------------------------------------------------ */

static struct kmem_slab slabs[] = {
    {.name = "dentry",
     .active_objs = 100,
     .num_objs = 210,
     .objsize = 192,
     .objperslab = 21,
     .pagesperslab = 1,
     .active_slabs = 10,
     .num_slabs = 10,
     .line = 3},
    {.name = "ext4_inode_cache",
     .active_objs = 700,
     .num_objs = 800,
     .objsize = 1128,
     .objperslab = 29,
     .pagesperslab = 8,
     .active_slabs = 50,
     .num_slabs = 50,
     .line = 4,
     .has_prev = true,
     .delta_bytes = -4096,
     .delta_objs = -1},
    /* quote, backslash, a control byte, a lone Latin-1 byte, a valid "é", DEL */
    {.name = "we\"ird\\na\001me\xe9-\xc3\xa9\x7f",
     .objsize = 8,
     .objperslab = 512,
     .pagesperslab = 1,
     .line = 5},
    {.name = "dentry",
     .dup = 1,
     .active_objs = 5,
     .num_objs = 21,
     .objsize = 192,
     .objperslab = 21,
     .pagesperslab = 1,
     .active_slabs = 2,
     .num_slabs = 2,
     .line = 6},
};

static struct kmem_cgroup cgs[] = {
    {.path = "/", .depth = 0, .kernel = 50 * MiB, .usage = 900 * MiB},
    {.path = "/a",
     .depth = 1,
     .kernel = 30 * MiB,
     .usage = 300 * MiB,
     .has_prev = true,
     .delta_kernel = 0},
    {.path = "/a/b",
     .depth = 2,
     .kernel = 20 * MiB,
     .has_prev = true,
     .delta_kernel = (int64_t)MiB},
    {.path = "/a/c",
     .depth = 2,
     .kernel = 10 * MiB,
     .kernel_approx = true,
     .has_prev = true,
     .delta_kernel = -2 * (int64_t)MiB},
    {.path = "/a-b", .depth = 1, .kernel = 15 * MiB},
    {.path = "/kubepods.slice/kubepods-pod0a.slice/cri-containerd-0123456789abcdef0123.scope",
     .depth = 3,
     .kernel = 5 * MiB,
     .pod_uid = "0a",
     .qos = "guaranteed",
     .container_id = "0123456789abcdef0123",
     .runtime = "containerd",
     .namespace_name = "prod",
     .pod_name = "web-1",
     .container_name = "nginx"},
    {.path = "/evil\033[2J", .depth = 1, .kernel = 1 * MiB},
};
#define NCG (sizeof(cgs) / sizeof(cgs[0]))

static void fill_components(void)
{
    struct kmem_cgroup *b = &cgs[2];

    for (size_t i = 0; i < NCG; i++) { /* tests may change them */
        memset(cgs[i].comp, 0, sizeof(cgs[i].comp));
        cgs[i].comp_present = 0;
    }
    b->comp[KMEM_CG_SLAB_RECLAIMABLE] = 6 * MiB;
    b->comp[KMEM_CG_SLAB_UNRECLAIMABLE] = 4 * MiB;
    b->comp[KMEM_CG_KERNEL_STACK] = 3 * MiB;
    b->comp[KMEM_CG_PAGETABLES] = 2 * MiB;
    b->comp[KMEM_CG_OTHER] = 5 * MiB;
    b->comp_present = (1u << KMEM_CG_SLAB_RECLAIMABLE) | (1u << KMEM_CG_SLAB_UNRECLAIMABLE) |
                      (1u << KMEM_CG_KERNEL_STACK) | (1u << KMEM_CG_PAGETABLES) |
                      (1u << KMEM_CG_OTHER);
    b->has_sock = true;
    b->sock = 7 * MiB;
    for (size_t i = 0; i < NCG; i++)
        if (!cgs[i].pod_uid) {
            cgs[i].pod_uid = cgs[i].qos = cgs[i].container_id = cgs[i].runtime = "";
            cgs[i].namespace_name = cgs[i].pod_name = cgs[i].container_name = "";
        }
}

static void set_mi(struct kmem_node *n, enum kmem_meminfo_field f, uint64_t v)
{
    n->mi.v[f] = v;
    n->mi.present |= UINT64_C(1) << f;
}

static void set_vm(struct kmem_node *n, enum kmem_vmstat_field f, uint64_t v)
{
    n->vm.v[f] = v;
    n->vm.present |= UINT64_C(1) << f;
}

static void make_snap(struct kmem_snapshot *s)
{
    struct kmem_node *n = &s->node;

    memset(s, 0, sizeof(*s));
    fill_components();
    s->flags = KMEM_COLLECT_ALL;
    s->slab.major = 2;
    s->slab.minor = 1;
    s->slab.n = sizeof(slabs) / sizeof(slabs[0]);
    s->slab.v = slabs;
    kmem_slabinfo_totals(&s->slab, kmem_page_size());

    set_mi(n, KMEM_MI_MEMTOTAL, 16384 * MiB);
    set_mi(n, KMEM_MI_MEMFREE, 12000 * MiB);
    set_mi(n, KMEM_MI_ACTIVE, 1500 * MiB);
    set_mi(n, KMEM_MI_INACTIVE, 2000 * MiB);
    set_mi(n, KMEM_MI_UNEVICTABLE, 10 * MiB);
    set_mi(n, KMEM_MI_KRECLAIMABLE, 310 * MiB);
    set_mi(n, KMEM_MI_SLAB, 500 * MiB);
    set_mi(n, KMEM_MI_SRECLAIMABLE, 300 * MiB);
    set_mi(n, KMEM_MI_SUNRECLAIM, 200 * MiB);
    set_mi(n, KMEM_MI_KERNELSTACK, 20 * MiB);
    set_mi(n, KMEM_MI_PAGETABLES, 30 * MiB);
    set_mi(n, KMEM_MI_SECPAGETABLES, 0);
    set_mi(n, KMEM_MI_VMALLOCUSED, 60 * MiB);
    set_mi(n, KMEM_MI_PERCPU, 8 * MiB);
    set_mi(n, KMEM_MI_HUGEPAGES_TOTAL, 0);
    set_mi(n, KMEM_MI_HUGEPAGESIZE, 2 * MiB);
    set_mi(n, KMEM_MI_HUGETLB, 0);
    set_mi(n, KMEM_MI_ZSWAP, 0);
    set_vm(n, KMEM_VM_NR_MEMMAP_PAGES, 0);
    set_vm(n, KMEM_VM_NR_MEMMAP_BOOT_PAGES, 65536);
    set_vm(n, KMEM_VM_NR_ZSPAGES, 0);
    n->percpu_free_pages = 2560;
    n->vmap_stack = n->vmap_stack_detected = true;
    n->vmap_stack_source = KMEM_VMAP_STACK_VMALLOCINFO;
    kmem_node_compute(n, 4096);

    s->cgroups.layout = KMEM_CG_V2;
    s->cgroups.mount = "sys/fs/cgroup";
    s->cgroups.n = NCG;
    s->cgroups.v = cgs;
}

/* ---- capture helpers --------------------------------------------------- */

static char *report_of(const struct kmem_snapshot *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(kt_report(f, s, NULL), 0);
    fclose(f);
    return buf;
}

static char *json_of(const struct kmem_snapshot *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(kt_json(f, s, NULL), 0);
    fclose(f);
    return buf;
}

/* A file sink that accepts @max lines, then reports "full" (like a screen). */
struct limited {
    struct kt_sink s;
    int max, seen;
    bool (*inner)(struct kt_sink *, enum kt_attr, const char *, va_list);
    int headings;
};

static bool limited_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
{
    struct limited *l = (struct limited *)s;

    if (l->max >= 0 && l->seen >= l->max)
        return false;
    l->seen++;
    l->headings += attr == KT_HEADING;
    l->inner(s, attr, fmt, ap);
    return l->max < 0 || l->seen < l->max;
}

enum which { CGROUPS, NODE };

static char *view_of(const struct kmem_snapshot *snap, enum which w, enum kt_cg_sort sort, int max,
                     int width, int *headings)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct limited l = {.max = max};

    assert_non_null(f);
    kt_sink_file(&l.s, f);
    l.inner = l.s.line;
    l.s.line = limited_line;
    l.s.width = width;
    if (w == CGROUPS)
        kt_cgroup_render(&l.s, snap, sort);
    else
        kt_node_render(&l.s, snap);
    fclose(f);
    if (headings)
        *headings = l.headings;
    return buf;
}

/* ---- a minimal JSON validator (RFC 8259 syntax, UTF-8 text) ------------- */

struct jp {
    const char *p;
    int depth;
};

static bool jp_value(struct jp *j);

static void jp_ws(struct jp *j)
{
    while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
        j->p++;
}

static bool jp_string(struct jp *j)
{
    if (*j->p != '"')
        return false;
    for (j->p++; *j->p != '"'; j->p++) {
        unsigned char c = (unsigned char)*j->p;

        if (c < 0x20 || c == 0)
            return false;
        if (c == '\\') {
            j->p++;
            if (*j->p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", j->p[i]) || !j->p[i])
                        return false;
                j->p += 4;
            } else if (!*j->p || !strchr("\"\\/bfnrt", *j->p)) {
                return false;
            }
        }
    }
    j->p++;
    return true;
}

static bool jp_number(struct jp *j)
{
    const char *s = j->p;

    if (*j->p == '-')
        j->p++;
    if (*j->p == '0')
        j->p++;
    else if (*j->p >= '1' && *j->p <= '9')
        while (*j->p >= '0' && *j->p <= '9')
            j->p++;
    else
        return false;
    if (*j->p == '.' || *j->p == 'e' || *j->p == 'E')
        return false; /* kmem prints integers only */
    return j->p > s;
}

static bool jp_members(struct jp *j, char close, bool object)
{
    j->p++;
    jp_ws(j);
    if (*j->p == close) {
        j->p++;
        return true;
    }
    for (;;) {
        jp_ws(j);
        if (object) {
            if (!jp_string(j))
                return false;
            jp_ws(j);
            if (*j->p++ != ':')
                return false;
        }
        if (!jp_value(j))
            return false;
        jp_ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p++ != close)
            return false;
        return true;
    }
}

static bool jp_value(struct jp *j)
{
    bool ok;

    jp_ws(j);
    if (++j->depth > 64)
        return false;
    switch (*j->p) {
    case '{':
        ok = jp_members(j, '}', true);
        break;
    case '[':
        ok = jp_members(j, ']', false);
        break;
    case '"':
        ok = jp_string(j);
        break;
    case 't':
        ok = strncmp(j->p, "true", 4) == 0 && (j->p += 4);
        break;
    case 'f':
        ok = strncmp(j->p, "false", 5) == 0 && (j->p += 5);
        break;
    case 'n':
        ok = strncmp(j->p, "null", 4) == 0 && (j->p += 4);
        break;
    default:
        ok = jp_number(j);
    }
    j->depth--;
    return ok;
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;

        if (n == 0)
            return false;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static void assert_valid_json(const char *doc)
{
    struct jp j = {.p = doc};

    assert_true(valid_utf8(doc));
    assert_true(jp_value(&j));
    jp_ws(&j);
    assert_int_equal(*j.p, '\0');
}

/* ---- shared helpers (common.c) ------------------------------------------ */

static void test_printable(void **state)
{
    static const struct {
        const char *in, *qmark, *hex;
        size_t chars; /* characters of the '?' form */
    } t[] = {
        {"dentry", "dentry", "dentry", 6},
        {"", "", "", 0},
        /* C0, ESC, DEL */
        {"a\001b\033[2Jc\177", "a?b?[2Jc?", "a\\x01b\\x1b[2Jc\\x7f", 9},
        /* C1 as raw bytes: 0x9b (CSI), 0x85 (NEL), 0x80 */
        {"x\x9b"
         "31my\x85\x80",
         "x?31my??", "x\\x9b31my\\x85\\x80", 8},
        /* C1 UTF-8 encoded: U+009B, U+0080, U+009F; U+00A0 is not a control */
        {"\xc2\x9b"
         "1m|\xc2\x80|\xc2\x9f|\xc2\xa0",
         "??1m|??|??|\xc2\xa0", "\\xc2\\x9b1m|\\xc2\\x80|\\xc2\\x9f|\xc2\xa0", 12},
        /* valid UTF-8 kept; a stray Latin-1 byte and a truncated sequence are not */
        {"\xc3\xa9t\xe9|\xe2\x82", "\xc3\xa9t?|??", "\xc3\xa9t\\xe9|\\xe2\\x82", 6},
        /* overlong '/' and a surrogate */
        {"\xc0\xaf\xed\xa0\x80", "?????", "\\xc0\\xaf\\xed\\xa0\\x80", 5},
    };
    char out[256];

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_int_equal(kt_printable(out, sizeof(out), t[i].in, KT_ESC_QMARK), t[i].chars);
        assert_string_equal(out, t[i].qmark);
        kt_printable(out, sizeof(out), t[i].in, KT_ESC_HEX);
        assert_string_equal(out, t[i].hex);
        kt_put_printable(f, t[i].in);
        fclose(f);
        assert_string_equal(buf, t[i].hex);
        free(buf);
    }
    /* Truncation never splits a character or an escape. */
    assert_int_equal(kt_printable(out, 4, "ab\xc3\xa9", KT_ESC_QMARK), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(kt_printable(out, 6, "a\033b", KT_ESC_HEX), 5);
    assert_string_equal(out, "a\\x1b");
    assert_int_equal(kt_printable(out, 5, "a\033b", KT_ESC_HEX), 1);
    assert_string_equal(out, "a");
    /* Keeping the end of a long name, by characters. */
    assert_string_equal(kt_fit_tail(out, sizeof(out), "/a/b/c/d", 6), "...c/d");
    assert_string_equal(kt_fit_tail(out, sizeof(out), "/\xc3\xa9/\xc3\xa9\xc3\xa9", 5),
                        "/\xc3\xa9/\xc3\xa9\xc3\xa9");
    assert_string_equal(kt_fit_tail(out, sizeof(out), "/\xc3\xa9/\xc3\xa9\xc3\xa9", 4),
                        "...\xc3\xa9");
    assert_string_equal(kt_fit_tail(out, sizeof(out), "short", 6), "short");
}

static void test_cg_names_and_tree(void **state)
{
    static const struct kmem_cgroup conmon = {.path = "/k/pod1/conmon",
                                              .pod_uid = "1",
                                              .namespace_name = "ns",
                                              .pod_name = "p",
                                              .kube_conmon = true};
    static const struct kmem_cgroup unnamed = {.path =
                                                   "/k/pod9/cri-containerd-abcdef0123456789.scope",
                                               .pod_uid = "9",
                                               .container_id = "abcdef0123456789"};
    struct kmem_snapshot s;
    size_t idx[NCG];
    char buf[256];

    (void)state;
    make_snap(&s);
    assert_string_equal(kt_cg_name(buf, sizeof(buf), &cgs[5], KT_ESC_QMARK), "prod/web-1/nginx");
    assert_string_equal(kt_cg_node_name(buf, sizeof(buf), &cgs[5]), "nginx");
    assert_string_equal(kt_cg_name(buf, sizeof(buf), &cgs[6], KT_ESC_HEX), "/evil\\x1b[2J");
    assert_string_equal(kt_cg_node_name(buf, sizeof(buf), &cgs[6]), "evil?[2J");
    assert_string_equal(kt_cg_node_name(buf, sizeof(buf), &cgs[0]), "/");
    assert_string_equal(kt_cg_node_name(buf, sizeof(buf), &cgs[2]), "b");
    assert_string_equal(kt_cg_name(buf, sizeof(buf), &conmon, KT_ESC_QMARK), "ns/p (conmon)");
    assert_string_equal(kt_cg_node_name(buf, sizeof(buf), &conmon), "ns/p (conmon)");
    assert_string_equal(kt_cg_name(buf, sizeof(buf), &unnamed, KT_ESC_QMARK), "pod 9/abcdef012345");
    assert_string_equal(kt_cg_node_name(buf, sizeof(buf), &unnamed), "container abcdef012345");

    assert_true(kt_cg_is_ancestor("/", "/a"));
    assert_true(kt_cg_is_ancestor("/a", "/a/b"));
    assert_false(kt_cg_is_ancestor("/a", "/a-b"));
    assert_false(kt_cg_is_ancestor("/a", "/a"));
    assert_false(kt_cg_is_ancestor("/", "/"));

    /* Tree order: "/", "/a", "/a/b", "/a/c", "/a-b", "/evil...", "/kubepods..." */
    kt_cg_tree_order(s.cgroups.v, s.cgroups.n, idx);
    assert_string_equal(cgs[idx[0]].path, "/");
    assert_string_equal(cgs[idx[1]].path, "/a");
    assert_string_equal(cgs[idx[2]].path, "/a/b");
    assert_string_equal(cgs[idx[3]].path, "/a/c");
    assert_string_equal(cgs[idx[4]].path, "/a-b");
    assert_int_equal(idx[6], 5);
    assert_string_equal(kt_human(buf, sizeof(buf), 1536), "1.5K");
    assert_string_equal(kt_human_delta(buf, sizeof(buf), -3.0 * MiB), "-3.0M");
    assert_true(kt_pct(1, 0) == 0.0);
}

/* ---- report ------------------------------------------------------------ */

static void test_report_kinds_and_formula(void **state)
{
    struct kmem_snapshot s;
    const struct kmem_node *n = &s.node;
    char want[512], got[512], h[32];
    char *out;

    (void)state;
    make_snap(&s);
    out = report_of(&s);

    /* Every kind: name, exact bytes, share of the total. */
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        char prefix[64];

        snprintf(prefix, sizeof(prefix), "  %-20s ", kmem_node_kind_name[k]);
        snprintf(want, sizeof(want), "  %-20s %15" PRIu64 " %8s %6.1f%%", kmem_node_kind_name[k],
                 n->kind[k], kt_human(h, sizeof(h), (double)n->kind[k]),
                 100.0 * (double)n->kind[k] / (double)n->kernel_total);
        assert_string_equal(line_starting(out, prefix, got, sizeof(got)), want);
    }
    assert_int_equal(n->kind[KMEM_NODE_SLAB_RECLAIMABLE], 300 * MiB);
    assert_int_equal(n->kind[KMEM_NODE_OTHER_RECLAIMABLE], 10 * MiB);
    assert_int_equal(n->kind[KMEM_NODE_VMALLOC], 40 * MiB); /* stacks left out */
    snprintf(want, sizeof(want), "  %-20s %15" PRIu64, "total", n->kernel_total);
    assert_contains(out, want);

    /* The formula with this node's values, and the reader's result. */
    assert_contains(out, "  unaccounted = MemTotal - MemFree - per-CPU free pages\n");
    snprintf(want, sizeof(want), "      %15" PRIu64 "  MemTotal\n", 16384 * MiB);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "    - %15" PRIu64 "  MemFree\n", 12000 * MiB);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "    - %15" PRIu64 "  per-CPU free pages\n",
             2560 * UINT64_C(4096));
    assert_contains(out, want);
    snprintf(want, sizeof(want), "    - %15" PRIu64 "  Active + Inactive + Unevictable\n",
             3510 * MiB);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "    = %15" PRId64 "  unaccounted (", n->unaccounted_signed);
    assert_contains(out, want);
    assert_true(n->unaccounted_signed > 0);
    /* The terms printed add up to the reader's result. */
    assert_lacks(out, "note: these terms give");

    /* Per-CPU free pages and the memmap, with their inputs. */
    assert_contains(out, "  per-CPU free pages = 2560 pages x 4096 bytes = 10485760 bytes");
    assert_contains(out, "         = (0 + 65536) x 4096 = 268435456 bytes");
    /* The summary names the largest kind and cache (the text is wrapped). */
    assert_contains(out, "\nIn short\n--------\n  The kernel uses ");
    {
        char *flat = strdup(out), *o = flat;

        for (const char *p = out; *p; p++) {
            if (p[0] == '\n' && p[1] == ' ' && p[2] == ' ') {
                *o++ = ' ';
                p += 2;
            } else {
                *o++ = *p;
            }
        }
        *o = '\0';
        assert_contains(flat, "The largest kind is slab_reclaimable: ");
        assert_contains(flat, "The largest slab cache is ext4_inode_cache: ");
        snprintf(want, sizeof(want), "(%" PRIu64 " bytes)", n->kernel_total);
        assert_contains(flat, want);
        free(flat);
    }
    /* vmalloc without the stacks, with the values plugged in. */
    assert_contains(out, "62914560 - 20971520 - 0 = 41943040");
    free(out);
}

static void test_report_slabs(void **state)
{
    struct kmem_snapshot s;
    uint64_t ps = kmem_page_size();
    char want[512];
    char *out, *a, *b, *c;

    (void)state;
    make_snap(&s);
    out = report_of(&s);
    snprintf(want, sizeof(want), "  /proc/slabinfo lists 4 caches using %" PRIu64 " bytes",
             (10 + 400 + 2) * ps);
    assert_contains(out, want);
    assert_contains(out, "  /proc/meminfo counts Slab = 524288000 bytes.");
    snprintf(want, sizeof(want), "  %15" PRIu64 " ", 400 * ps);
    a = strstr(out, want);
    assert_non_null(a);
    assert_non_null(strstr(a, "  ext4_inode_cache\n"));
    b = strstr(out, "  dentry\n");
    c = strstr(out, "  dentry (line 6, repeated name)\n");
    /* Largest first; the empty cache last; control bytes escaped. */
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    /* A stray byte (not UTF-8) is escaped too; the valid "\xc3\xa9" is kept. */
    assert_contains(c, "we\"ird\\na\\x01me\\xe9-\xc3\xa9\\x7f\n");
    free(out);
}

static void test_report_cgroups(void **state)
{
    struct kmem_snapshot s;
    char want[512];
    char *out, *top, *leaf;

    (void)state;
    make_snap(&s);
    out = report_of(&s);
    snprintf(want, sizeof(want), "  %-20s %15" PRIu64 " bytes", "charged to cgroups", 50 * MiB);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "  %-20s %15" PRIu64 " bytes", "not charged",
             s.node.kernel_total - 50 * MiB);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "node kernel memory %" PRIu64 " - charged\n", s.node.kernel_total);
    assert_contains(out, want);
    assert_contains(out, "Tasks in the");
    assert_contains(out, "kernel threads are never charged");

    top = strstr(out, "Top-level cgroups");
    leaf = strstr(out, "Leaf cgroups");
    assert_non_null(top);
    assert_non_null(leaf);
    /* Top level: /a, /a-b, the escaped one; never the root, no leaves below /a. */
    assert_true(strstr(top, "  /a\n") < leaf);
    assert_true(strstr(top, "  /a-b\n") < strstr(top, "  /evil\\x1b[2J\n"));
    assert_true(strstr(top, "  /a/b\n") > leaf);
    /* Leaves, by kernel memory: /a/b 20M, /a-b 15M, /a/c ~10M, the pod 5M, /evil 1M; not /a. */
    assert_null(strstr(leaf, "  /a\n"));
    snprintf(want, sizeof(want), "  %15" PRIu64 " ", 20 * MiB);
    assert_true(strstr(leaf, want) < strstr(leaf, "  /a-b\n"));
    assert_true(strstr(leaf, "  /a-b\n") < strstr(leaf, "  /a/c\n"));
    assert_true(strstr(leaf, "  /a/c\n") < strstr(leaf, "  prod/web-1/nginx\n"));
    snprintf(want, sizeof(want), "  %15" PRIu64 " ", 10 * MiB);
    assert_non_null(strstr(leaf, want));
    assert_contains(leaf, "~"); /* /a/c is approximated */
    assert_contains(out, "Values are hierarchical");
    assert_lacks(out, "\033");
    free(out);
}

/* @s with wrapped lines joined ("\n" and the indentation that follows become one space). */
static char *unwrap(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;

    assert_non_null(out);
    while (*s) {
        if (*s == '\n') {
            while (*s == '\n' || *s == ' ')
                s++;
            *o++ = ' ';
            continue;
        }
        *o++ = *s++;
    }
    *o = '\0';
    return out;
}

/* Exactness, the root's parts and removed cgroups in --report. */
static void test_report_cgroup_exactness_and_dying(void **state)
{
    struct kmem_snapshot s;
    char want[512];
    char *out, *flat;

    (void)state;
    make_snap(&s);
    /* /a/c is estimated: the whole is not exact. */
    out = report_of(&s);
    flat = unwrap(out);
    assert_contains(flat, "Estimated: this kernel's memory.stat has no \"kernel\" line");
    assert_contains(flat, "memory.current - pages on its LRU lists - sock");
    assert_contains(out, "Unknown: this kernel shows no count");
    free(flat);
    free(out);

    s.cgroups.kernel_exact = true;
    cgs[0].comp[KMEM_CG_SLAB_RECLAIMABLE] = 30 * MiB;
    cgs[0].comp[KMEM_CG_OTHER] = 20 * MiB;
    cgs[0].comp_present = (1u << KMEM_CG_SLAB_RECLAIMABLE) | (1u << KMEM_CG_OTHER);
    cgs[0].has_sock = true;
    cgs[0].sock = 3 * MiB;
    s.cgroups.dying = 10;
    s.cgroups.dying_source = KMEM_CG_DYING_SUBSYS_MEMORY;
    s.cgroups.possible_cpus = 4;
    cgs[1].has_dying = true;
    cgs[1].dying = 7;
    out = report_of(&s);
    assert_contains(out, "the root cgroup's memory.stat \"kernel\"");
    assert_contains(out, "Exact: every cgroup figure is the kernel's own counter");
    assert_contains(out, "By kind (the parts add up to the charged total):");
    snprintf(want, sizeof(want), "    %-20s %15" PRIu64 " bytes", "slab_reclaimable", 30 * MiB);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "    %-20s %15" PRIu64 " bytes", "sock", 3 * MiB);
    assert_contains(out, want);
    assert_contains(out, "outside kernel memory");
    snprintf(want, sizeof(want), "  %-20s %15d  root cgroup.stat nr_dying_subsys_memory\n",
             "removed, still held", 10);
    assert_contains(out, want);
    /* 10 x (16384 + 4 x 1900) */
    snprintf(want, sizeof(want), "  %-20s %15d bytes", "they pin about", 10 * (16384 + 4 * 1900));
    assert_contains(out, want);
    assert_contains(out, "estimate: 10 x (16384 + 4 CPUs x 1900)");
    assert_contains(out, "Below the top-level cgroups with the most:\n                7  /a\n");
    free(out);

    /* The v2 root without its own memory.stat: a lower bound. */
    cgs[0].kernel_lower_bound = true;
    s.cgroups.kernel_exact = false;
    s.cgroups.dying = 0;
    out = report_of(&s);
    flat = unwrap(out);
    assert_contains(out, "the sum of the root's children (a lower bound)");
    assert_contains(flat, "\"not charged\" may be too high");
    assert_contains(out, "None: no removed memory cgroup is held.");
    free(flat);
    free(out);
    memset(&cgs[0].comp, 0, sizeof(cgs[0].comp));
    cgs[0].comp_present = 0;
    cgs[0].has_sock = false;
    cgs[0].kernel_lower_bound = false;
    cgs[1].has_dying = false;
}

static void test_report_edge_cases(void **state)
{
    struct kmem_snapshot s;
    char want[256];
    char *out;

    (void)state;
    /* Counters that explain more than MemTotal: the raw value, and 0 in the kinds. */
    make_snap(&s);
    s.node.mi.v[KMEM_MI_MEMFREE] = 15000 * MiB;
    kmem_node_compute(&s.node, 4096);
    assert_true(s.node.unaccounted_signed < 0);
    out = report_of(&s);
    snprintf(want, sizeof(want),
             "    = %15" PRId64 "  unaccounted (below zero: the counters overlap by %" PRId64
             " bytes; shown as 0)\n",
             s.node.unaccounted_signed, -s.node.unaccounted_signed);
    assert_contains(out, want);
    assert_lacks(out, "note: these terms give");
    free(out);

    /* No memory controller; no slab caches; a kernel without the memmap counters. */
    make_snap(&s);
    s.cgroups.layout = KMEM_CG_NONE;
    s.cgroups.n = 0;
    s.slab.n = 0;
    kmem_slabinfo_totals(&s.slab, kmem_page_size());
    s.node.vm.present = 0;
    out = report_of(&s);
    assert_contains(out, "No memory cgroup hierarchy was found under sys/fs/cgroup");
    assert_contains(out, "  /proc/slabinfo lists 0 caches using 0 bytes");
    assert_contains(out, "This kernel does not report the memmap's size");
    free(out);
}

static void test_report_missing_parts(void **state)
{
    struct kmem_snapshot s;
    char *out;

    (void)state;
    make_snap(&s);
    s.status[KMEM_PART_SLAB].err = -EACCES;
    snprintf(s.status[KMEM_PART_SLAB].msg, sizeof(s.status[KMEM_PART_SLAB].msg),
             "cannot open /proc/slabinfo: Permission denied (run as root or grant "
             "CAP_DAC_READ_SEARCH)");
    s.slab.n = 0;
    kmem_slabinfo_totals(&s.slab, kmem_page_size());
    s.status[KMEM_PART_NODE].err = -ENOENT;
    snprintf(s.status[KMEM_PART_NODE].msg, sizeof(s.status[KMEM_PART_NODE].msg),
             "cannot open /x/proc/meminfo: nope");
    s.status[KMEM_PART_CGROUPS].err = -ENOENT;
    snprintf(s.status[KMEM_PART_CGROUPS].msg, sizeof(s.status[KMEM_PART_CGROUPS].msg),
             "no cgroup tree under /x");
    s.cgroups.n = 0;
    out = report_of(&s);
    assert_contains(out, "  Slab caches are not available: cannot open /proc/slabinfo: Permission "
                         "denied (run as root or grant CAP_DAC_READ_SEARCH)\n");
    assert_contains(out, "  Node counters are not available: cannot open /x/proc/meminfo: nope\n");
    assert_contains(out, "  Cgroups are not available: no cgroup tree under /x\n");
    assert_lacks(out, "unaccounted = MemTotal");
    free(out);

    /* Cgroups without node counters: charged is known, not-charged is not. */
    make_snap(&s);
    s.status[KMEM_PART_NODE].err = -EIO;
    snprintf(s.status[KMEM_PART_NODE].msg, sizeof(s.status[KMEM_PART_NODE].msg), "boom");
    out = report_of(&s);
    assert_contains(out, "charged to cgroups");
    assert_contains(out, "the part not charged needs the node counters");
    free(out);

    /* Not collected at all. */
    make_snap(&s);
    s.flags = KMEM_COLLECT_SLAB;
    out = report_of(&s);
    assert_contains(out, "  Node counters: not collected.\n");
    free(out);
}

/* ---- JSON -------------------------------------------------------------- */

static void test_json(void **state)
{
    struct kmem_snapshot s;
    char want[512];
    char *out;

    (void)state;
    make_snap(&s);
    out = json_of(&s);
    assert_valid_json(out);
    assert_contains(out, "\"version\": 1,");
    assert_contains(out, "\"kmem_version\": \"" KMEM_VERSION "\"");
    snprintf(want, sizeof(want), "\"page_size\": %" PRIu64 ",", kmem_page_size());
    assert_contains(out, want);
    /* Caches, one per line, with derived bytes and deltas. */
    snprintf(want, sizeof(want),
             "{\"name\": \"ext4_inode_cache\", \"dup\": 0, \"active_objs\": 700, \"num_objs\": "
             "800, \"objsize\": 1128, \"objperslab\": 29, \"pagesperslab\": 8, \"active_slabs\": "
             "50, \"num_slabs\": 50, \"size_bytes\": %" PRIu64
             ", \"active_bytes\": 789600, \"delta_bytes\": -4096, \"reclaimable\": null, "
             "\"accounted\": null, \"merged\": null, \"order\": null, \"aliases\": null, "
             "\"unique_id\": null, \"alias_names\": null}",
             400 * kmem_page_size());
    assert_contains(out, want);
    assert_contains(out, "{\"name\": \"dentry\", \"dup\": 1,");
    /* Escaping: quote, backslash, control byte, stray byte, valid UTF-8, DEL. */
    assert_contains(out, "\"name\": \"we\\\"ird\\\\na\\u0001me\\\\xe9-\xc3\xa9\\u007f\"");
    snprintf(want, sizeof(want), "\"size_bytes\": %" PRIu64 ",", (10 + 400 + 2) * kmem_page_size());
    assert_contains(out, want);
    assert_contains(out, "\"caches\": 4,");
    assert_contains(out, "\"active_caches\": 3,");
    assert_contains(out, "\"delta_bytes\": -4096\n");
    /* Node. */
    assert_contains(out, "\"SReclaimable\": 314572800,");
    assert_contains(out, "\"nr_memmap_boot_pages\": 65536");
    assert_lacks(out, "\"Unaccepted\"");
    snprintf(want, sizeof(want), "\"kernel_total_bytes\": %" PRIu64 ",", s.node.kernel_total);
    assert_contains(out, want);
    snprintf(want, sizeof(want), "\"unaccounted_raw_bytes\": %" PRId64 ",",
             s.node.unaccounted_signed);
    assert_contains(out, want);
    assert_contains(out, "\"vmalloc\": 41943040,");
    assert_contains(out, "\"memmap_bytes\": 268435456,");
    assert_contains(out, "\"vmap_stack\": true");
    /* Cgroups. */
    assert_contains(out, "\"layout\": \"v2\"");
    assert_contains(out, "{\"path\": \"/a/b\", \"depth\": 2, \"kernel_bytes\": 20971520, "
                         "\"approx\": false, \"lower_bound\": false, \"upper_bound_bytes\": null, "
                         "\"usage_bytes\": 0, \"components\": "
                         "{\"slab_reclaimable\": 6291456, \"slab_unreclaimable\": 4194304, "
                         "\"kernel_stack\": 3145728, \"pagetables\": 2097152, \"other\": 5242880}, "
                         "\"components_excess_bytes\": 0, \"pagetables_unreported\": false, "
                         "\"sock_bytes\": 7340032, "
                         "\"dying_descendants\": null, \"pod_uid\": null,");
    assert_contains(out, "\"kernel_exact\": false,");
    assert_contains(out, "\"dying\": null,");
    assert_contains(out, "\"dying_source\": null,");
    assert_contains(out, "\"possible_cpus\": null,");
    assert_contains(out, "\"container\": \"nginx\", \"attempt\": 0, \"conmon\": false");
    assert_contains(out, "\"delta_kernel_bytes\": 1048576}");
    assert_contains(out, "\"delta_kernel_bytes\": -2097152}");
    assert_contains(out, "\"path\": \"/evil\\u001b[2J\"");
    assert_contains(out, "\"pod_uid\": \"0a\", \"qos\": \"guaranteed\", \"container_id\": "
                         "\"0123456789abcdef0123\", \"runtime\": \"containerd\", \"namespace\": "
                         "\"prod\", \"pod\": \"web-1\", \"container\": \"nginx\"");
    assert_contains(out, "\"components\": {}");
    /* Cgroups in tree order: a cgroup, then its descendants; "/a/c" before "/a-b". */
    assert_true(strstr(out, "{\"path\": \"/\",") < strstr(out, "{\"path\": \"/a\","));
    assert_true(strstr(out, "{\"path\": \"/a\",") < strstr(out, "{\"path\": \"/a/b\","));
    assert_true(strstr(out, "{\"path\": \"/a/c\",") < strstr(out, "{\"path\": \"/a-b\","));
    assert_true(strstr(out, "{\"path\": \"/evil") < strstr(out, "{\"path\": \"/kubepods"));
    free(out);
}

static void test_json_errors(void **state)
{
    struct kmem_snapshot s;
    char *out;

    (void)state;
    make_snap(&s);
    s.status[KMEM_PART_NODE].err = -EACCES;
    snprintf(s.status[KMEM_PART_NODE].msg, sizeof(s.status[KMEM_PART_NODE].msg),
             "cannot open \"/proc/meminfo\"\n");
    s.flags &= ~(unsigned)KMEM_COLLECT_CGROUPS;
    out = json_of(&s);
    assert_valid_json(out);
    assert_contains(out,
                    "\"ok\": false,\n      \"error\": \"cannot open \\\"/proc/meminfo\\\"\\n\"");
    assert_contains(out, "\"error\": \"not collected\"");
    assert_lacks(out, "\"meminfo\"");
    assert_lacks(out, "\"items\"");
    assert_contains(out, "\"caches\": [");
    free(out);
}

static void test_json_utf8_edges(void **state)
{
    static struct kmem_slab one;
    struct kmem_snapshot s;
    char *out;
    /* overlong '/', a surrogate, beyond U+10FFFF, truncated 3-byte, U+2028, 4-byte emoji,
     * U+009B (a C1 control, CSI) encoded and as a raw byte */
    static const char name[] = "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82|\xe2\x80\xa8|"
                               "\xf0\x9f\x98\x80|\xc2\x9b|\x9b";

    (void)state;
    make_snap(&s);
    memcpy(one.name, name, sizeof(name));
    s.slab.v = &one;
    s.slab.n = 1;
    kmem_slabinfo_totals(&s.slab, kmem_page_size());
    out = json_of(&s);
    assert_valid_json(out);
    /* invalid bytes as the text \xHH (issue 24), the encoded C1 as \u009b */
    assert_contains(out, "\"name\": \"\\\\xc0\\\\xaf|\\\\xed\\\\xa0\\\\x80|\\\\xf4\\\\x90\\\\x80"
                         "\\\\x80|\\\\xe2\\\\x82|\\u2028|\xf0\x9f\x98\x80|\\u009b|\\\\x9b\"");
    free(out);
}

/* ---- cgroup table ------------------------------------------------------ */

static void test_cgroup_table(void **state)
{
    struct kmem_snapshot s;
    char want[256], got[256], k[32], c[32], sl[32], st[32], pt[32], ot[32];
    int headings;
    char *out;

    (void)state;
    make_snap(&s);
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, -1, 0, &headings);
    assert_int_equal(headings, 1);
    assert_string_equal(line_starting(out, "cgroup layout", got, sizeof(got)),
                        "cgroup layout v2, 7 memory cgroups; ~ = no \"kernel\" in memory.stat, "
                        "sum of the parts; - = not available on this cgroup version");
    assert_int_equal(count_lines(out), 2 + (int)NCG);
    /* Sorted by kernel memory, descending. */
    assert_int_equal(row_of(out, "  /"), 2);
    assert_int_equal(row_of(out, "  /a"), 3);
    assert_int_equal(row_of(out, "  /a/b"), 4);
    assert_int_equal(row_of(out, "  /a-b"), 5);
    assert_int_equal(row_of(out, "  /a/c"), 6);
    assert_int_equal(row_of(out, "  prod/web-1/nginx"), 7);
    assert_int_equal(row_of(out, "  /evil?[2J"), 8);
    assert_lacks(out, "\033");
    /* The /a/b row, column by column. */
    snprintf(want, sizeof(want), "%8s %8s %8s %8s %8s %8s  /a/b",
             kt_human(k, sizeof(k), 20.0 * MiB), kt_human_delta(c, sizeof(c), 1.0 * MiB),
             kt_human(sl, sizeof(sl), 10.0 * MiB), kt_human(st, sizeof(st), 3.0 * MiB),
             kt_human(pt, sizeof(pt), 2.0 * MiB), kt_human(ot, sizeof(ot), 5.0 * MiB));
    assert_contains(out, want);
    /* Approximated kernel value marked; no previous value leaves CHANGE blank. */
    snprintf(want, sizeof(want), "~%s", kt_human(k, sizeof(k), 10.0 * MiB));
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof(want), "%8s %8s %8s", kt_human(k, sizeof(k), 15.0 * MiB), "", "-");
    assert_contains(out, want);
    free(out);

    /* By change: +1M first, then the zeros (ties by kernel desc), -2M last. */
    out = view_of(&s, CGROUPS, KT_CG_SORT_CHANGE, -1, 0, NULL);
    assert_int_equal(row_of(out, "  /a/b"), 2);
    assert_int_equal(row_of(out, "  /"), 3);
    assert_int_equal(row_of(out, "  /a"), 4);
    assert_int_equal(row_of(out, "  /a-b"), 5);
    assert_int_equal(row_of(out, "  /a/c"), 8);
    free(out);

    /* By name (path). */
    out = view_of(&s, CGROUPS, KT_CG_SORT_NAME, -1, 0, NULL);
    assert_int_equal(row_of(out, "  /"), 2);
    assert_true(row_of(out, "  /a") < row_of(out, "  /a-b"));
    assert_true(row_of(out, "  /a-b") < row_of(out, "  /a/b"));
    assert_true(row_of(out, "  /a/c") < row_of(out, "  /evil?[2J"));
    free(out);
}

static void test_cgroup_table_v1_limits_errors(void **state)
{
    struct kmem_snapshot s;
    char *out;

    (void)state;
    make_snap(&s);
    /* v1 reports no breakdown: its empty columns are hidden, TCP is shown. */
    s.cgroups.layout = KMEM_CG_HYBRID;
    for (size_t i = 0; i < NCG; i++) {
        cgs[i].comp_present = 0;
        cgs[i].has_sock = true;
        cgs[i].sock = i * 4096;
    }
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, -1, 0, NULL);
    assert_contains(out, "cgroup layout hybrid, 7 memory cgroups; ~ = no \"kernel\" in "
                         "memory.stat, sum of the parts\n");
    assert_contains(out, "  KERNEL   CHANGE      TCP  NAMESPACE/POD/CONTAINER or CGROUP\n");
    assert_contains(out, "     20M    +1.0M     8.0K  /a/b\n");
    free(out);
    /* -o without a previous sample: no CHANGE column. */
    for (size_t i = 0; i < NCG; i++)
        cgs[i].has_prev = false;
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, -1, 0, NULL);
    assert_contains(out, "  KERNEL      TCP  NAMESPACE/POD/CONTAINER or CGROUP\n");
    free(out);
    make_snap(&s);
    cgs[1].has_prev = cgs[2].has_prev = cgs[3].has_prev = true;

    /* A full screen stops the table. */
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, 4, 0, NULL);
    assert_int_equal(count_lines(out), 4);
    free(out);

    /* A narrow screen keeps the end of long names. */
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, -1, 24, NULL);
    assert_contains(out, "    5.0M  ...web-1/nginx\n");
    free(out);

    s.cgroups.layout = KMEM_CG_NONE;
    s.cgroups.n = 0;
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, -1, 0, NULL);
    assert_string_equal(out, "cgroup layout none, 0 memory cgroups\n");
    free(out);

    s.status[KMEM_PART_CGROUPS].err = -EACCES;
    snprintf(s.status[KMEM_PART_CGROUPS].msg, sizeof(s.status[KMEM_PART_CGROUPS].msg),
             "cannot open /sys/fs/cgroup: Permission denied (run as root)");
    out = view_of(&s, CGROUPS, KT_CG_SORT_KERNEL, -1, 0, NULL);
    assert_string_equal(out, "cannot open /sys/fs/cgroup: Permission denied (run as root)\n");
    free(out);
}

/* ---- node view --------------------------------------------------------- */

static void test_node_view(void **state)
{
    struct kmem_snapshot s;
    char want[256], got[256], a[32], b[32];
    int headings;
    char *out;

    (void)state;
    make_snap(&s);
    out = view_of(&s, NODE, KT_CG_SORT_KERNEL, -1, 0, &headings);
    assert_int_equal(headings, 1);
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        char prefix[64];
        int l;

        snprintf(prefix, sizeof(prefix), "%-20s ", kmem_node_kind_name[k]);
        l = snprintf(want, sizeof(want), "%-20s %8s %5.1f%%", kmem_node_kind_name[k],
                     kt_human(a, sizeof(a), (double)s.node.kind[k]),
                     100.0 * (double)s.node.kind[k] / (double)s.node.kernel_total);
        line_starting(out, prefix, got, sizeof(got));
        assert_int_equal(strncmp(got, want, (size_t)l), 0);
    }
    snprintf(want, sizeof(want), "node kernel memory %s = %.1f%% of MemTotal %s",
             kt_human(a, sizeof(a), (double)s.node.kernel_total),
             100.0 * (double)s.node.kernel_total / (double)(16384 * MiB),
             kt_human(b, sizeof(b), 16384.0 * MiB));
    assert_string_equal(line_starting(out, "node kernel", got, sizeof(got)), want);
    snprintf(want, sizeof(want), "%-20s %8s", "per-CPU free pages",
             kt_human(a, sizeof(a), 2560.0 * 4096));
    assert_contains(out, want);
    snprintf(want, sizeof(want), "%-20s %8s", "memmap", kt_human(a, sizeof(a), 65536.0 * 4096));
    assert_contains(out, want);
    free(out);

    /* Counters that over-explain MemTotal. */
    s.node.unaccounted_signed = -5 * (int64_t)MiB;
    out = view_of(&s, NODE, KT_CG_SORT_KERNEL, -1, 0, NULL);
    snprintf(want, sizeof(want), "counters exceed MemTotal by %s; shown as 0",
             kt_human(a, sizeof(a), 5.0 * MiB));
    assert_contains(out, want);
    free(out);

    s.status[KMEM_PART_NODE].err = -EACCES;
    snprintf(s.status[KMEM_PART_NODE].msg, sizeof(s.status[KMEM_PART_NODE].msg),
             "cannot open /proc/zoneinfo: x");
    out = view_of(&s, NODE, KT_CG_SORT_KERNEL, -1, 0, NULL);
    assert_string_equal(out, "cannot open /proc/zoneinfo: x\n");
    free(out);
}

/* What a cache means in --report's "What to do": the caches of issue 23, the
 * prefixes (specific before generic), and none for an unknown cache. */
static void test_cache_meaning(void **state)
{
    static const struct {
        const char *cache, *words;
    } cases[] = {
        {"shmem_inode_cache", "tmpfs"},
        {"dentry", "paths looked up"},
        {"sock_inode_cache", "sockets"},
        {"ext4_inode_cache", "ext4"},
        {"task_struct", "processes and threads"},
        {"kmalloc-64", "generic kernel allocations, kmalloc"},
        {"kmalloc-cg-192", "charged to cgroups"},
        {"kmalloc-rcl-8k", "reclaimable"},
        {"radix_tree_node", "page cache"},
        {"xfs_inode", "files of XFS"},
        {"xfs_buf", "XFS file system metadata"},
        {"maple_node", "memory maps"},
        {"skbuff_head_cache", "network packets"},
        {"UNIX", "UNIX domain sockets"},
        {"UNIX-STREAM", "UNIX domain stream sockets"},
        {"eventpoll_epi", "epoll watches"},
        {"eventpoll_pwq", "epoll watches"},
        {"inotify_inode_mark", "inotify watches"},
        {"tw_sock_TCP", "TIME-WAIT"},
        {"request_sock_TCPv6", "SYN received"},
        {"filp", "open files"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *m = kt_cache_meaning(cases[i].cache);

        assert_non_null(m);
        assert_non_null(strstr(m, cases[i].words));
        assert_null(strchr(m, '(')); /* the report puts it in parentheses */
    }
    assert_null(kt_cache_meaning("no_such_cache"));
    assert_null(kt_cache_meaning("kmalloc")); /* a prefix needs its '-' */
    assert_null(kt_cache_meaning(""));
}

/* The verdicts' line for a cache: its meaning, and for a merged cache the
 * caches sharing its slabs with theirs (signal_cache holds UNIX sockets on 6.18). */
static void test_cache_explain(void **state)
{
    char out[512], small[24];

    (void)state;
    kt_cache_explain(out, sizeof(out), "dentry", "");
    assert_string_equal(out, "dentry: file paths looked up, including names that were not found");
    kt_cache_explain(out, sizeof(out), "signal_cache", "UNIX,UNIX-STREAM,no_such");
    assert_non_null(strstr(out, "signal_cache: processes"));
    assert_non_null(strstr(out, "merged into it, sharing its slabs: UNIX,UNIX-STREAM,no_such"));
    assert_non_null(strstr(out, "; UNIX: UNIX domain sockets"));
    assert_non_null(strstr(out, "; UNIX-STREAM: UNIX domain stream sockets"));
    assert_null(strstr(out, "; no_such:"));
    kt_cache_explain(out, sizeof(out), "no_such_cache", NULL);
    assert_string_equal(out, "no_such_cache: no plain-words hint for this cache");
    /* cut short, still a string */
    kt_cache_explain(small, sizeof(small), "signal_cache", "UNIX,UNIX-STREAM");
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_cg_names_and_tree),
        cmocka_unit_test(test_report_kinds_and_formula),
        cmocka_unit_test(test_report_slabs),
        cmocka_unit_test(test_report_cgroups),
        cmocka_unit_test(test_report_cgroup_exactness_and_dying),
        cmocka_unit_test(test_report_edge_cases),
        cmocka_unit_test(test_report_missing_parts),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_utf8_edges),
        cmocka_unit_test(test_cgroup_table),
        cmocka_unit_test(test_cgroup_table_v1_limits_errors),
        cmocka_unit_test(test_node_view),
        cmocka_unit_test(test_cache_meaning),
        cmocka_unit_test(test_cache_explain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
