/* SPDX-License-Identifier: MIT */
/*
 * The node's new sources, table-driven: the kernel log (hash tables, freed
 * kernel image, per-CPU first chunk), CPU lists, sockstat, zram mm_stat,
 * /proc/vmallocinfo by caller, /proc/iomem, /proc/allocinfo, memory outside
 * MemTotal, where stacks live (thread_stack, scs_cache), the slab gap, the
 * sys/kernel/slab attributes (merged caches, reuse, capture) and the
 * once-a-minute detail part.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
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

#include "buf.h"
#include "kmem.h"
#include "parse.h"

#define KB  UINT64_C(1024)
#define MiB (UINT64_C(1) << 20)

/* ---- temporary trees ------------------------------------------------------ */

static void put_link(const char *root, const char *rel, const char *target)
{
    char path[8192 + 64];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    assert_int_equal(symlink(target, path), 0);
}

static char *read_whole(const char *path)
{
    struct kmem_buf b = {0};

    if (kmem_buf_read_file(&b, AT_FDCWD, path, 0) != 0) {
        free(b.data);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

/* ---- the kernel log --------------------------------------------------------- */

#define LOG_X86                                                                                    \
    "6,70,103916,-;setup_percpu: NR_CPUS:256 nr_cpumask_bits:2 nr_cpu_ids:2 nr_node_ids:1\n"       \
    "6,71,108035,-;percpu: Embedded 53 pages/cpu s185560 r0 d31528 u1048576\n"                     \
    "7,72,108040,-;pcpu-alloc: s185560 r0 d31528 u1048576 alloc=1*2097152\n"                       \
    "7,73,108041,-;pcpu-alloc: [0] 0 1 \n"                                                         \
    "6,75,108116,-;PV qspinlock hash table entries: 256 (order: 0, 4096 bytes, linear)\n"          \
    " SUBSYSTEM=cpu\n"                                                                             \
    "6,80,168362,-;Dentry cache hash table entries: 4194304 (order: 13, 33554432 bytes, linear)\n" \
    "6,81,198339,-;Inode-cache hash table entries: 2097152 (order: 12, 16777216 bytes, linear)\n"  \
    "6,90,253969,-;Mount-cache hash table entries: 65536 (order: 7, 524288 bytes, linear)\n"       \
    "6,91,254396,-;Memory: 3218172K/25165432K available (18478K kernel code, 2544K rwdata)\n"      \
    "6,92,260142,-;futex hash table entries: 512 (32768 bytes on 1 NUMA nodes, total 32 KiB, "     \
    "linear).\n"                                                                                   \
    "6,93,310858,-;VFS: Dquot-cache hash table entries: 512 (order 0, 4096 bytes)\n"               \
    "6,94,345950,-;TCP established hash table entries: 262144 (order: 9, 2097152 bytes, linear)\n" \
    "6,95,395082,-;Freeing initrd memory: 7424K\n"                                                 \
    "6,96,455896,-;Freeing unused kernel image (initmem) memory: 3728K\n"                          \
    "6,97,459461,-;Freeing unused kernel image (text/rodata gap) memory: 2000K\n"                  \
    "6,98,463337,-;Freeing unused kernel image (rodata/data gap) memory: 2008K\n"

struct log_case {
    const char *name, *text;
    unsigned lines, kept;          /* hash table lines; entries kept */
    uint64_t boot, pages, vmalloc; /* hash bytes per home */
    bool freed_seen;
    uint64_t freed;
    bool pcpu_seen;
    uint64_t pcpu_pages;
    unsigned kept_lines;    /* lines written to keep */
    uint64_t units, unused; /* pcpu-alloc lines */
    uint64_t swiotlb;       /* swiotlb's default pool */
};

static const struct log_case log_cases[] = {
    {"kmsg records of 6.18 (x86_64)", LOG_X86, 7, 7, (4096 + 33554432 + 16777216),
     (524288 + 32768 + 4096 + 2097152), 0, true, (3728 + 2000 + 2008) * KB, true, 53, 13, 2, 0, 0},
    /* 6.17+ futex tables (one per node) and swiotlb's pool (kernel/dma/swiotlb.c) */
    {"futex per node, swiotlb",
     "[    0.2] futex hash table entries: 65536 (4194304 bytes on 2 NUMA nodes, total 8192 KiB, "
     "linear).\n"
     "[    0.2] futex hash table entries: 1048576 (67108864 bytes on 1 NUMA node, total 65536 KiB, "
     "vmalloc).\n"
     "[    0.3] software IO TLB: area num 4.\n"
     "[    0.3] software IO TLB: mapped [mem 0x00000000bbfd0000-0x00000000bffd0000] (64MB)\n",
     2, 2, 0, 2 * 4194304, 67108864, false, 0, false, 0, 3, 0, 0, 64 * MiB},
    {"swiotlb torn down (an IOMMU took over)",
     "software IO TLB: mapped [mem 0x00000000bbfd0000-0x00000000bffd0000] (64MB)\n"
     "software IO TLB: tearing down default memory pool\n",
     0, 0, 0, 0, 0, false, 0, false, 0, 2, 0, 0, 0},
    {"not futex or swiotlb lines",
     "futex hash table entries: 512 (32768 bytes on x NUMA nodes, total 32 KiB, linear).\n"
     "futex hash table entries: 512 (32768 bytes, total 32 KiB, linear).\n"
     "futex hash table entries: 512 (32768 bytes on 1 NUMA nodes, total 32 KiB, odd).\n"
     "software IO TLB: mapped [mem 0xbffd0000-0xbbfd0000] (64MB)\n"
     "software IO TLB: mapped [mem 0x-0x10] (64MB)\n"
     "software IO TLB: No low mem\n",
     0, 0, 0, 0, 0, false, 0, false, 0, 0, 0, 0, 0},
    /* mm/percpu.c pcpu_dump_alloc_info: 6 CPUs in 8 units, 12 CPUs in 16 (2 groups) */
    {"pcpu-alloc units, unused units, several groups and lines",
     "[    0.1] percpu: Embedded 60 pages/cpu s208896 r8192 d28672 u262144\n"
     "[    0.1] pcpu-alloc: s208896 r8192 d28672 u262144 alloc=1*2097152\n"
     "[    0.1] pcpu-alloc: [0] 0 1 2 3 4 5 - - \n"
     "[T0] pcpu-alloc: [0] 00 01 02 03 04 05 -- -- [1] 06 07 08 09 \n"
     "pcpu-alloc: [1] 10 11 -- -- \n",
     0, 0, 0, 0, 0, false, 0, true, 60, 5, 8 + 16, 2 + 4, 0},
    {"not pcpu-alloc unit lines",
     "pcpu-alloc: 0 1 2\n"
     "pcpu-alloc: [0] 0 1 x\n"
     "pcpu-alloc: [0] 0 -1\n"
     "pcpu-alloc: [0]\n"
     "pcpu-alloc:[0] 0 1\n",
     0, 0, 0, 0, 0, false, 0, false, 0, 0, 0, 0, 0},
    {"dmesg and syslog forms, NUMA (vmalloc) tables, old kernels",
     "[    0.1] Dentry cache hash table entries: 1048576 (order: 11, 8388608 bytes, vmalloc)\n"
     "Dec  1 14:25:01 host kernel: [    0.2] Inode-cache hash table entries: 524288 (order: 10, "
     "4194304 bytes, vmalloc hugepage)\n"
     "[T1] PID hash table entries: 4096 (order: 3, 32768 bytes)\n"
     "[    1.0] [T1] TCP bind hash table entries: 65536 (order: 8, 1048576 bytes)\n"
     "percpu: 59 4K pages/cpu s201240 r8192 d32232\n"
     "Freeing unused kernel memory: 1024K\n"
     "Freeing SMP alternatives memory: 52K\n"
     "Freeing unused decrypted memory: 2036K\n",
     4, 4, 32768, 1048576, 8388608 + 4194304, true, (1024 + 52 + 2036) * KB, true, 59, 8, 0, 0, 0},
    {"not hash table lines",
     "hash table entries: 1 (order: 0, 4096 bytes, linear)\n"
     "X hash table entries: 1 (order: 0, 4096 bytes, odd)\n"
     "X hash table entries: x (order: 0, 4096 bytes, linear)\n"
     "X hash table entries: 1 (order: 0, 4096 bytes\n"
     "Freeing unused kernel memory: lots\n"
     "percpu: Embedded pages/cpu\n"
     "percpu: 12 pages/cpu\n",
     0, 0, 0, 0, 0, false, 0, false, 0, 0, 0, 0, 0},
    {"empty", "", 0, 0, 0, 0, 0, false, 0, false, 0, 0, 0, 0, 0},
};

static void test_bootlog_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(log_cases) / sizeof(log_cases[0]); i++) {
        const struct log_case *c = &log_cases[i];
        struct kmem_bootlog b, again;
        struct kmem_buf keep = {0};
        unsigned kept_lines = 0;

        print_message("bootlog: %s\n", c->name);
        memset(&b, 0, sizeof(b));
        assert_int_equal(kmem_bootlog_parse(c->text, strlen(c->text), &b, &keep), 0);
        assert_int_equal(b.n_hash_lines, c->lines);
        assert_int_equal(b.n_hash, c->kept);
        assert_int_equal(b.hash_bytes[KMEM_HASH_MEMBLOCK], c->boot);
        assert_int_equal(b.hash_bytes[KMEM_HASH_PAGES], c->pages);
        assert_int_equal(b.hash_bytes[KMEM_HASH_VMALLOC], c->vmalloc);
        assert_int_equal(b.image_freed_seen, c->freed_seen);
        assert_int_equal(b.image_freed_bytes, c->freed);
        assert_int_equal(b.percpu_seen, c->pcpu_seen);
        assert_int_equal(b.percpu_unit_pages, c->pcpu_pages);
        assert_int_equal(b.percpu_units, c->units);
        assert_int_equal(b.percpu_units_unused, c->unused);
        assert_int_equal(b.swiotlb_bytes, c->swiotlb);
        for (size_t k = 0; k < keep.len; k++)
            kept_lines += keep.data[k] == '\n';
        assert_int_equal(kept_lines, c->kept_lines);
        /* What a capture keeps gives the same figures. */
        memset(&again, 0, sizeof(again));
        assert_int_equal(kmem_bootlog_parse(keep.data ? keep.data : "", keep.len, &again, NULL), 0);
        assert_memory_equal(again.hash_bytes, b.hash_bytes, sizeof(b.hash_bytes));
        assert_int_equal(again.image_freed_bytes, b.image_freed_bytes);
        assert_int_equal(again.percpu_units, b.percpu_units);
        assert_int_equal(again.percpu_units_unused, b.percpu_units_unused);
        assert_int_equal(again.swiotlb_bytes, b.swiotlb_bytes);
        free(keep.data);
    }
}

static void test_bootlog_names(void **state)
{
    struct kmem_bootlog b;

    (void)state;
    memset(&b, 0, sizeof(b));
    assert_int_equal(kmem_bootlog_parse(LOG_X86, strlen(LOG_X86), &b, NULL), 0);
    assert_string_equal(b.hash[0].name, "PV qspinlock");
    assert_int_equal(b.hash[0].home, KMEM_HASH_MEMBLOCK);
    assert_string_equal(b.hash[1].name, "Dentry cache");
    assert_int_equal(b.hash[1].entries, 4194304);
    assert_string_equal(b.hash[3].name, "Mount-cache");
    assert_int_equal(b.hash[3].home, KMEM_HASH_PAGES);
    assert_string_equal(b.hash[4].name, "futex");
    assert_int_equal(b.hash[4].bytes, 32768);
    assert_int_equal(b.hash[4].home, KMEM_HASH_PAGES);
    assert_string_equal(b.hash[5].name, "VFS: Dquot-cache");
    /* More lines than slots: every line still counts. */
    {
        char big[64 * 100] = "";

        for (int i = 0; i < 60; i++)
            strcat(big, "T hash table entries: 1 (order: 0, 4096 bytes, linear)\n");
        memset(&b, 0, sizeof(b));
        assert_int_equal(kmem_bootlog_parse(big, strlen(big), &b, NULL), 0);
        assert_int_equal(b.n_hash, KMEM_BOOT_HASH_MAX);
        assert_int_equal(b.n_hash_lines, 60);
        assert_int_equal(b.hash_bytes[KMEM_HASH_PAGES], 60 * 4096);
    }
}

static void test_cpulist(void **state)
{
    static const struct {
        const char *text;
        uint64_t n;
    } cases[] = {{"0-1\n", 2}, {"0\n", 1}, {"0-3,8,10-11\n", 7}, {"", 0},
                 {"3-1\n", 0}, {"x\n", 0}, {"0-\n", 0},          {"0-255", 256}};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(kmem_cpulist_count(cases[i].text, strlen(cases[i].text)), cases[i].n);
}

/* ---- sockstat and zram -------------------------------------------------------- */

static void test_sockstat(void **state)
{
    static const char v4[] = "sockets: used 143\n"
                             "TCP: inuse 5 orphan 1 tw 2 alloc 7 mem 3\n"
                             "UDP: inuse 3 mem 2\n"
                             "UDPLITE: inuse 0\n"
                             "RAW: inuse 1\n"
                             "FRAG: inuse 1 memory 4096\n";
    static const char v6[] = "TCP6: inuse 4\nUDP6: inuse 2\nUDPLITE6: inuse 0\nRAW6: inuse 0\n"
                             "FRAG6: inuse 0 memory 0\n";
    struct kmem_parse_error perr;
    struct kmem_sockstat s;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(kmem_sockstat_parse(v4, strlen(v4), false, &s, &perr), 0);
    assert_int_equal(kmem_sockstat_parse(v6, strlen(v6), true, &s, &perr), 0);
    assert_true(s.present && s.v6_present);
    assert_int_equal(s.sockets_used, 143);
    assert_int_equal(s.tcp_inuse, 5);
    assert_int_equal(s.tcp_orphan, 1);
    assert_int_equal(s.tcp_tw, 2);
    assert_int_equal(s.tcp_alloc, 7);
    assert_int_equal(s.tcp_mem_pages, 3);
    assert_int_equal(s.udp_mem_pages, 2);
    assert_int_equal(s.raw_inuse, 1);
    assert_int_equal(s.frag_bytes, 4096);
    assert_int_equal(s.tcp6_inuse, 4);
    assert_int_equal(s.udp6_inuse, 2);

    memset(&s, 0, sizeof(s));
    assert_int_equal(kmem_sockstat_parse("TCP: inuse\n", 11, false, &s, &perr), -EINVAL);
    assert_int_equal(perr.line, 1);
    assert_int_equal(kmem_sockstat_parse("\nTCP inuse 1\n", 13, false, &s, &perr), -EINVAL);
    assert_int_equal(perr.line, 2);
    assert_int_equal(kmem_sockstat_parse("TCP: mem 99999999999999999999\n", 30, false, &s, &perr),
                     -EINVAL);
}

static void test_zram_mm_stat(void **state)
{
    static const char full[] =
        "  1048576   262144   393216        0   393216       12        0        3        2\n";
    struct kmem_parse_error perr;
    struct kmem_zram_dev z;

    (void)state;
    memset(&z, 0, sizeof(z));
    assert_int_equal(kmem_zram_mm_stat_parse(full, strlen(full), &z, &perr), 0);
    assert_int_equal(z.orig_data, 1048576);
    assert_int_equal(z.compr_data, 262144);
    assert_int_equal(z.mem_used, 393216);
    assert_int_equal(z.mem_limit, 0);
    assert_int_equal(z.mem_used_max, 393216);
    assert_int_equal(z.same_pages, 12);
    assert_int_equal(z.huge_pages, 3);
    /* 4.x kernels print 7 numbers */
    assert_int_equal(kmem_zram_mm_stat_parse("1 2 3 4 5 6 7\n", 14, &z, &perr), 0);
    assert_int_equal(kmem_zram_mm_stat_parse("1 2\n", 4, &z, &perr), -EINVAL);
    assert_int_equal(kmem_zram_mm_stat_parse("1 2 x\n", 6, &z, &perr), -EINVAL);
}

/* ---- /proc/vmallocinfo -------------------------------------------------------- */

static const char VMALLOCINFO[] =
    "0x00000000add57432-0x00000000df2d6ded   20480 irq_init_percpu_irqstack+0xca/0x100 vmap\n"
    "0x00000000df2d6ded-0x000000000921af11    8192 acpi_os_map_iomem+0x1bc/0x1e0 "
    "phys=0x00000000000a0000 ioremap\n"
    "0x00000000614abe78-0x00000000b3cf3d5f   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4\n"
    "0x00000000ddedefe8-0x0000000056124195   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4\n"
    "0x0000000011111111-0x0000000022222222 4206592 htab_map_alloc+0x21/0x90 pages=1026 vmalloc "
    "N0=1026\n"
    "0x0000000011111111-0x0000000022222222   12288 xfs_buf_alloc+0x50/0x80 [xfs] pages=2 vmalloc\n"
    "0x0000000033333333-0x0000000044444444   20480 unpurged vm_area\n"
    "0x0000000055555555-0x0000000066666666   16384 vm_map_ram\n"
    /* vmap(VM_MAP_PUT_PAGES) of a GPU driver: pages, but not vmalloc'd (not in VmallocUsed) */
    "0x0000000077777777-0x0000000088888888 1052672 i915_gem_object_map_page+0x1f0/0x250 [i915] "
    "pages=256 vmap N0=256\n"
    "0x0000000099999999-0x00000000aaaaaaaa   16384 pcpu_mem_zalloc+0x2b/0x60 pages=3 vmalloc N0=3\n"
    "\n";

static void test_vmallocinfo(void **state)
{
    struct kmem_parse_error perr;
    struct kmem_vmallocinfo v;

    (void)state;
    assert_int_equal(kmem_vmallocinfo_parse(VMALLOCINFO, strlen(VMALLOCINFO), 4096, &v, &perr), 0);
    assert_int_equal(v.areas, 10);
    assert_int_equal(v.bytes, (4 + 4 + 1026 + 2 + 3) * 4096);
    assert_int_equal(v.other_pages, 256 * 4096);
    assert_int_equal(v.vsize,
                     20480 + 8192 + 20480 * 2 + 4206592 + 12288 + 20480 + 16384 + 1052672 + 16384);
    assert_int_equal(v.ioremap_vsize, 8192);
    assert_int_equal(v.callers, 9);
    /* by RAM, then address space, then name */
    assert_string_equal(v.top[0].caller, "htab_map_alloc");
    assert_string_equal(v.top[0].plain, "BPF maps");
    assert_string_equal(v.top[1].caller, "kernel_clone");
    assert_int_equal(v.top[1].areas, 2);
    assert_int_equal(v.top[1].bytes, 8 * 4096);
    assert_string_equal(v.top[1].plain, "thread stacks");
    assert_string_equal(v.top[2].caller, "pcpu_mem_zalloc");
    assert_string_equal(v.top[2].plain, "per-CPU allocator bookkeeping");
    assert_string_equal(v.top[3].caller, "xfs_buf_alloc [xfs]");
    assert_null(v.top[3].plain);
    /* the GPU mapping's pages are not vmalloc's: 0 bytes, its address space kept */
    assert_string_equal(v.top[4].caller, "i915_gem_object_map_page [i915]");
    assert_int_equal(v.top[4].bytes, 0);
    assert_int_equal(v.top[4].vsize, 1052672);
    assert_string_equal(v.groups[0].name, "BPF maps");
    assert_string_equal(v.groups[1].name, "thread stacks");
    assert_string_equal(v.groups[2].name, "per-CPU allocator bookkeeping");
    assert_string_equal(v.groups[3].name, "other");
    assert_int_equal(v.groups[3].bytes, 2 * 4096);
    assert_int_equal(v.rest_bytes, 0);

    /*
     * More callers than the top holds: 30 callers, each with two areas of
     * i + 1 pages and i + 3 pages of address space; the 6 smallest are the
     * rest (their RAM, not their address space), every area in "other".
     */
    {
        char big[30 * 2 * 96];
        size_t len = 0;
        uint64_t rest = 0;

        for (int i = 0; i < 30; i++)
            for (int a = 0; a < 2; a++)
                len += (size_t)snprintf(
                    big + len, sizeof(big) - len, "0x%x-0x%x %d f%02d+0x10/0x40 pages=%d vmalloc\n",
                    0x1000 * (i * 2 + a), 0x1000 * (i * 2 + a + 1), (i + 3) * 4096, i, i + 1);
        assert_int_equal(kmem_vmallocinfo_parse(big, len, 4096, &v, &perr), 0);
        assert_int_equal(v.callers, 30);
        assert_int_equal(v.n_top, KMEM_VMALLOC_TOP);
        assert_string_equal(v.top[0].caller, "f29");
        assert_int_equal(v.top[0].areas, 2);
        assert_int_equal(v.top[0].bytes, 2 * 30 * 4096);
        assert_int_equal(v.top[0].vsize, 2 * 32 * 4096);
        for (int i = 0; i < 30 - KMEM_VMALLOC_TOP; i++)
            rest += 2 * (uint64_t)(i + 1) * 4096;
        assert_int_equal(v.rest_bytes, rest);
        assert_int_equal(v.n_groups, 1);
        assert_string_equal(v.groups[0].name, "other");
        assert_int_equal(v.groups[0].areas, 60);
        assert_int_equal(v.groups[0].bytes, v.bytes);
    }

    /* errors name the line */
    assert_int_equal(kmem_vmallocinfo_parse("\nnot an address\n", 16, 4096, &v, &perr), -EINVAL);
    assert_int_equal(perr.line, 2);
    assert_int_equal(kmem_vmallocinfo_parse("0x1-0x2 x f\n", 12, 4096, &v, &perr), -EINVAL);
    assert_int_equal(kmem_vmallocinfo_parse("0x1-0x2 1 f pages=z vmalloc\n", 28, 4096, &v, &perr),
                     -EINVAL);
    assert_int_equal(kmem_vmallocinfo_parse("", 0, 4096, &v, &perr), 0);
    assert_int_equal(v.areas, 0);
}

static void test_vmalloc_plain_names(void **state)
{
    static const struct {
        const char *sym, *plain;
    } cases[] = {
        {"bpf_map_area_alloc", "BPF maps"},
        {"array_map_alloc", "BPF maps"},
        {"bpf_prog_pack_alloc", "BPF programs"},
        {"bpf_jit_binary_alloc", "BPF programs"},
        {"pcpu_create_chunk", "per-CPU allocator bookkeeping"},
        {"execmem_alloc", "module code and data"},
        {"alloc_large_system_hash", "boot hash tables"},
        {"alloc_thread_stack_node", "thread stacks"},
        {"scs_alloc", "shadow call stacks"},
        {"xfs_buf_alloc", NULL},
        {"", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p = kmem_vmalloc_plain_name(cases[i].sym, strlen(cases[i].sym));

        if (cases[i].plain)
            assert_string_equal(p, cases[i].plain);
        else
            assert_null(p);
    }
}

/* ---- /proc/iomem ------------------------------------------------------------------ */

static const char IOMEM[] = "00000000-00000fff : Reserved\n"
                            "00001000-0009fbff : System RAM\n"
                            "0009fc00-000fffff : Reserved\n"
                            "  000f0000-000fffff : System ROM\n"
                            "00100000-bfffffff : System RAM\n"
                            "  01000000-0220bb07 : Kernel code\n"
                            "  02400000-02e09fff : Kernel rodata\n"
                            "  03000000-0327c13f : Kernel data\n"
                            "  03b34000-03c57fff : Kernel bss\n"
                            "  2f000000-36ffffff : Crash kernel\n"
                            "c0001000-eebfffff : PCI Bus 0000:00\n"
                            "100000000-63fffffff : System RAM\n"
                            "4000000000-7fffffffff : PCI Bus 0000:00\n"
                            "  4000000000-400007ffff : 0000:00:01.0\n"
                            "    4000000000-400007ffff : System RAM\n";

static void test_iomem(void **state)
{
    struct kmem_parse_error perr;
    struct kmem_iomem io;

    (void)state;
    assert_int_equal(kmem_iomem_parse(IOMEM, strlen(IOMEM), &io, &perr), 0);
    assert_int_equal(io.err, 0);
    /* top-level System RAM only */
    assert_int_equal(io.system_ram, (0x9fbff - 0x1000 + 1) + (0xbfffffffull - 0x100000 + 1) +
                                        (0x63fffffffull - 0x100000000ull + 1));
    assert_int_equal(io.ram_ranges, 3);
    assert_int_equal(io.kernel_code, 0x220bb07 - 0x1000000 + 1);
    assert_int_equal(io.kernel_rodata, 0x2e09fff - 0x2400000 + 1);
    assert_int_equal(io.kernel_data, 0x327c13f - 0x3000000 + 1);
    assert_int_equal(io.kernel_bss, 0x3c57fff - 0x3b34000 + 1);
    assert_int_equal(io.kernel_start, 0x1000000);
    assert_int_equal(io.kernel_end, 0x3c57fff);
    assert_int_equal(io.crash_kernel, 128 * MiB);

    /* without root every address is 0: known as not known */
    {
        static const char zero[] = "00000000-00000000 : System RAM\n"
                                   "  00000000-00000000 : Kernel code\n";

        assert_int_equal(kmem_iomem_parse(zero, strlen(zero), &io, &perr), 0);
        assert_int_equal(io.err, -EPERM);
        assert_int_equal(io.system_ram, 0);
    }
    assert_int_equal(kmem_iomem_parse("0-1 : a\n2-1 : b\n", 16, &io, &perr), -EINVAL);
    assert_int_equal(perr.line, 2);
    assert_int_equal(kmem_iomem_parse("0-1 a\n", 6, &io, &perr), -EINVAL);
    /* more than 64 bits */
    assert_int_equal(kmem_iomem_parse("10000000000000000-2 : a\n", 24, &io, &perr), -EINVAL);
    /* leading zeros are fine */
    assert_int_equal(kmem_iomem_parse("00000000000000001-2 : a\n", 24, &io, &perr), 0);
}

/* ---- /proc/allocinfo ------------------------------------------------------------ */

static void test_allocinfo(void **state)
{
    static const char v1[] = "allocinfo - version: 1.0\n"
                             "#     <size>  <calls> <tag info>\n"
                             "           0        0 init/main.c:1310 func:do_initcalls\n"
                             "       16384        4 mm/percpu-vm.c:95 func:pcpu_alloc_pages\n"
                             "   160432128    39168 mm/slub.c:2450 func:alloc_slab_page\n"
                             "        4096        1 fs/xfs/xfs_buf.c:123 [xfs] func:xfs_buf_alloc\n"
                             "       -4096        1 lib/x.c:1 func:neg accurate:no\n";
    struct kmem_parse_error perr;
    struct kmem_allocinfo a;

    (void)state;
    assert_int_equal(kmem_allocinfo_parse(v1, strlen(v1), &a, &perr), 0);
    assert_true(a.present);
    assert_int_equal(a.major, 1);
    assert_int_equal(a.minor, 0);
    assert_int_equal(a.sites, 5);
    assert_int_equal(a.bytes, 16384 + 160432128 + 4096 - 4096);
    assert_int_equal(a.calls, 4 + 39168 + 1 + 1);
    assert_int_equal(a.n_top, 5);
    assert_string_equal(a.top[0].site, "mm/slub.c:2450");
    assert_string_equal(a.top[0].func, "alloc_slab_page");
    assert_string_equal(a.top[0].module, "");
    assert_string_equal(a.top[2].module, "xfs");
    assert_int_equal(a.top[4].bytes, -4096);
    assert_true(a.top[4].inaccurate);

    assert_int_equal(kmem_allocinfo_parse("nope\n", 5, &a, &perr), -EINVAL);
    assert_int_equal(perr.line, 1);
    assert_int_equal(kmem_allocinfo_parse("allocinfo - version: 2.0\n1 x a.c:1\n", 35, &a, &perr),
                     -EINVAL);
    assert_int_equal(perr.line, 2);
    assert_int_equal(kmem_allocinfo_parse("", 0, &a, &perr), -EINVAL);
    /* more sites than kept: the biggest stay */
    {
        char big[40 * 64] = "allocinfo - version: 2.0\n";

        for (int i = 1; i <= 40; i++) {
            char l[64];

            snprintf(l, sizeof(l), "%d 1 f.c:%d func:f\n", i * 10, i);
            strcat(big, l);
        }
        assert_int_equal(kmem_allocinfo_parse(big, strlen(big), &a, &perr), 0);
        assert_int_equal(a.n_top, KMEM_ALLOCINFO_TOP);
        assert_int_equal(a.top[0].bytes, 400);
        assert_int_equal(a.top[KMEM_ALLOCINFO_TOP - 1].bytes, (40 - KMEM_ALLOCINFO_TOP + 1) * 10);
    }
}

/* ---- outside MemTotal -------------------------------------------------------------- */

static void test_outside(void **state)
{
    struct kmem_outside o;
    struct kmem_iomem io;
    struct kmem_node n;
    struct kmem_parse_error perr;

    (void)state;
    memset(&n, 0, sizeof(n));
    n.mi.v[KMEM_MI_MEMTOTAL] = 24684084 * KB;
    n.memmap_boot_bytes = 98304 * 4096;
    n.boot.hash_bytes[KMEM_HASH_MEMBLOCK] = 48 * MiB + 4096;
    n.percpu_first_chunk_bytes = 53 * 4096 * 4; /* with 2 unused units: */
    n.percpu_first_chunk_kept_bytes = 53 * 4096 * 2;
    n.boot.swiotlb_bytes = 64 * MiB;
    assert_int_equal(kmem_iomem_parse(IOMEM, strlen(IOMEM), &io, &perr), 0);

    /* without the freed lines: the four named ranges */
    kmem_outside_compute(&o, &n, &io);
    assert_true(o.known);
    assert_int_equal(o.system_ram, io.system_ram);
    assert_int_equal(o.total, io.system_ram - 24684084 * KB);
    assert_false(o.image_from_span);
    assert_int_equal(o.part[KMEM_OUT_KERNEL_IMAGE],
                     io.kernel_code + io.kernel_rodata + io.kernel_data + io.kernel_bss);
    assert_int_equal(o.part[KMEM_OUT_CRASH_KERNEL], 128 * MiB);
    assert_int_equal(o.unexplained_signed,
                     (int64_t)o.total -
                         (int64_t)(o.part[KMEM_OUT_MEMMAP] + o.part[KMEM_OUT_KERNEL_IMAGE] +
                                   128 * MiB + 48 * MiB + 4096 + 53 * 4096 * 2 + 64 * MiB));
    assert_int_equal(o.part[KMEM_OUT_SWIOTLB], 64 * MiB);
    /* with them: the span minus what was freed */
    n.boot.image_freed_seen = true;
    n.boot.image_freed_bytes = (3728 + 2000 + 2008) * KB;
    kmem_outside_compute(&o, &n, &io);
    assert_true(o.image_from_span);
    assert_int_equal(o.part[KMEM_OUT_KERNEL_IMAGE],
                     0x3c58000 - 0x1000000 - (3728 + 2000 + 2008) * KB);
    /* a freed sum that would cut into the named ranges is not used */
    n.boot.image_freed_bytes = 40 * MiB;
    kmem_outside_compute(&o, &n, &io);
    assert_false(o.image_from_span);
    /* iomem unknown: the parts known, no total, nothing unexplained */
    io.err = -EPERM;
    kmem_outside_compute(&o, &n, &io);
    assert_false(o.known);
    assert_int_equal(o.total, 0);
    assert_int_equal(o.part[KMEM_OUT_MEMMAP], 98304 * 4096);
    assert_int_equal(o.part[KMEM_OUT_UNEXPLAINED], 0);
    /* no node: never known */
    io.err = 0;
    kmem_outside_compute(&o, NULL, &io);
    assert_false(o.known);
    /* before 6.11 (no nr_memmap_boot_pages): one 64-byte struct page per page of System RAM */
    n.page_size = 4096;
    kmem_outside_compute(&o, &n, &io);
    assert_true(o.memmap_estimated);
    assert_int_equal(o.part[KMEM_OUT_MEMMAP], io.system_ram / 4096 * 64);
    n.vm.present |= UINT64_C(1) << KMEM_VM_NR_MEMMAP_BOOT_PAGES;
    kmem_outside_compute(&o, &n, &io);
    assert_false(o.memmap_estimated);
    assert_int_equal(o.part[KMEM_OUT_MEMMAP], 98304 * 4096);
}

/* ---- readers on a tree -------------------------------------------------------------- */

static const char MEMINFO[] = "MemTotal:       1000000 kB\nMemFree:         600000 kB\n"
                              "Active:          100000 kB\nInactive:        150000 kB\n"
                              "Unevictable:       5000 kB\nKReclaimable:     30000 kB\n"
                              "Slab:             50000 kB\nSReclaimable:     30000 kB\n"
                              "SUnreclaim:       20000 kB\nKernelStack:       4000 kB\n"
                              "ShadowCallStack:     700 kB\nPageTables:        3000 kB\n"
                              "VmallocUsed:      10000 kB\nPercpu:            1500 kB\n"
                              "Bounce:              100 kB\nWritebackTmp:        50 kB\n";
static const char VMSTAT[] = "nr_free_pages 150000\nnr_isolated_anon 10\nnr_isolated_file 15\n"
                             "nr_zspages 0\n";
static const char ZONEINFO[] = "Node 0, zone Normal\n  pagesets\n    cpu: 0\n      count: 1000\n";

/* SLUB caches: 20000 kB of SUnreclaim, 30000 kB of SReclaimable in 4 KiB pages. */
static const char SLABINFO[] =
    "slabinfo - version: 2.1\n"
    "# name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
    "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
    "dentry 100 100 192 21 1 : tunables 0 0 0 : slabdata 7500 7500 0\n"
    "thread_stack 10 10 16384 2 8 : tunables 0 0 0 : slabdata 500 500 0\n"
    "anon_vma_chain 64 64 64 64 1 : tunables 0 0 0 : slabdata 100 100 0\n"
    "kmalloc-cg-64 64 64 64 64 1 : tunables 0 0 0 : slabdata 50 50 0\n";

static void make_node_tree(char *dir)
{
    strcpy(dir, "/tmp/kmem-test-detail.XXXXXX");
    assert_non_null(mkdtemp(dir));
    put_file(dir, "proc/meminfo", MEMINFO);
    put_file(dir, "proc/vmstat", VMSTAT);
    put_file(dir, "proc/zoneinfo", ZONEINFO);
    put_file(dir, "proc/slabinfo", SLABINFO);
    put_file(dir, "proc/sys/kernel/osrelease", "5.10.0-arm64\n");
    put_file(dir, "proc/vmallocinfo", VMALLOCINFO);
    put_file(dir, "proc/iomem", IOMEM);
    put_file(dir, "proc/net/sockstat",
             "sockets: used 3\nTCP: inuse 1 orphan 0 tw 0 alloc 1 "
             "mem 2\nUDP: inuse 0 mem 1\nFRAG: inuse 1 memory 1536\n");
    put_file(dir, "proc/net/sockstat6",
             "TCP6: inuse 2\nUDP6: inuse 1\nUDPLITE6: inuse 0\nRAW6: inuse 0\n"
             "FRAG6: inuse 1 memory 768\n");
    put_file(dir, "sys/devices/system/cpu/possible", "0-1\n");
    put_file(dir, "sys/block/zram0/mm_stat", "4096 1024 8192 0 8192 0 0 0\n");
    /* zram10 after zram2 (by number, not by name), each with its own fields */
    put_file(dir, "sys/block/zram10/mm_stat", "40960 10240 12288 0 12288 0 0 0\n");
    put_file(dir, "sys/block/zram2/mm_stat", "20480 5120 16384 0 16384 0 0 0 0\n");
    put_file(dir, "dev/kmsg", LOG_X86);
    /* sys/kernel/slab: dentry unmerged; anon_vma_chain merged with fs_cache; thread_stack */
    put_file(dir, "sys/kernel/slab/dentry/reclaim_account", "1\n");
    put_file(dir, "sys/kernel/slab/dentry/order", "0\n");
    put_file(dir, "sys/kernel/slab/dentry/aliases", "0\n");
    put_file(dir, "sys/kernel/slab/thread_stack/reclaim_account", "0\n");
    put_file(dir, "sys/kernel/slab/thread_stack/order", "3\n");
    put_file(dir, "sys/kernel/slab/thread_stack/aliases", "0\n");
    put_file(dir, "sys/kernel/slab/:A-0000064/reclaim_account", "0\n");
    put_file(dir, "sys/kernel/slab/:A-0000064/order", "0\n");
    put_file(dir, "sys/kernel/slab/:A-0000064/aliases", "1\n");
    put_link(dir, "sys/kernel/slab/anon_vma_chain", ":A-0000064");
    put_link(dir, "sys/kernel/slab/fs_cache", ":A-0000064");
    put_file(dir, "sys/kernel/slab/kmalloc-cg-64/reclaim_account", "0\n");
    put_file(dir, "sys/kernel/slab/kmalloc-cg-64/order", "0\n");
    put_file(dir, "sys/kernel/slab/kmalloc-cg-64/aliases", "0\n");
}

static const struct kmem_snapshot *collect(struct kmem_ctx *ctx)
{
    int rc = kmem_collect(ctx, KMEM_COLLECT_ALL &
                                   ~(unsigned)(KMEM_COLLECT_CGROUPS | KMEM_COLLECT_OWNERS));

    if (rc)
        fail_msg("collect: %s", kmem_strerror(ctx));
    return kmem_current(ctx);
}

static void test_tree(void **state)
{
    const struct kmem_snapshot *s;
    const struct kmem_node *n;
    const struct kmem_detail *d;
    struct kmem_ctx *ctx;
    char dir[64], err[256];
    uint64_t ps = kmem_page_size();

    (void)state;
    make_node_tree(dir);
    assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
    s = collect(ctx);
    n = &s->node;
    d = &s->detail;

    /*
     * Thread stacks from the thread_stack cache; shadow call stacks of a
     * 5.10 kernel (5.8-5.13) from scs_cache too, decided from the release:
     * both out of SUnreclaim.
     */
    assert_true(n->stack_in_slab);
    assert_int_equal(n->stack_slab_source, KMEM_VMAP_STACK_SLABINFO);
    assert_false(n->vmap_stack);
    assert_true(n->scs_in_slab);
    assert_int_equal(n->scs_source, KMEM_VMAP_STACK_RELEASE);
    assert_int_equal(n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE], (20000 - 4000 - 700) * KB);
    assert_int_equal(n->kind[KMEM_NODE_VMALLOC], 10000 * KB);
    /* Bounce, WritebackTmp, isolated pages */
    assert_int_equal(n->kind[KMEM_NODE_BOUNCE], 100 * KB);
    assert_int_equal(n->kind[KMEM_NODE_WRITEBACK_TMP], 50 * KB);
    assert_int_equal(n->isolated_bytes, 25 * ps);
    /* the kernel log: hash tables (futex 32768 bytes on 1 node included), first chunk 53 pages x 2
     * CPUs */
    assert_int_equal(n->boot.err, 0);
    assert_int_equal(n->kind[KMEM_NODE_HASH_TABLES], (524288 + 32768 + 4096 + 2097152));
    assert_int_equal(n->boot.possible_cpus, 2);
    assert_int_equal(n->percpu_first_chunk_bytes, 53 * ps * 2);
    assert_int_equal(n->kind[KMEM_NODE_PERCPU], 1500 * KB - 53 * ps * 2);
    /* slab gap: Slab 50000 kB against the caches */
    assert_true(n->slab_gap_known);
    assert_int_equal(n->slabinfo_bytes, (7500 + 500 * 8 + 100 + 50) * ps);
    assert_int_equal(n->slab_gap, (int64_t)(50000 * KB) - (int64_t)n->slabinfo_bytes);
    assert_true(n->slab_split_known);
    assert_int_equal(n->slabinfo_reclaimable_bytes, 7500 * ps);
    /* sockets, zram */
    assert_true(n->sock.present);
    /* TCP + UDP pages, and both fragment queues' bytes */
    assert_int_equal(n->sock.mem_bytes, 3 * ps + 1536 + 768);
    assert_int_equal(n->zram.n_total, 3);
    assert_int_equal(n->zram.n, 3);
    assert_int_equal(n->zram.mem_used_total, 8192 + 16384 + 12288);
    {
        static const struct {
            const char *name;
            uint64_t orig, compr, used;
        } want[] = {{"zram0", 4096, 1024, 8192},
                    {"zram2", 20480, 5120, 16384},
                    {"zram10", 40960, 10240, 12288}};

        for (int i = 0; i < 3; i++) {
            assert_string_equal(n->zram.dev[i].name, want[i].name);
            assert_int_equal(n->zram.dev[i].orig_data, want[i].orig);
            assert_int_equal(n->zram.dev[i].compr_data, want[i].compr);
            assert_int_equal(n->zram.dev[i].mem_used, want[i].used);
        }
    }

    /* slab attributes */
    {
        const struct kmem_slabinfo *si = &s->slab;
        long i = kmem_slabinfo_find(si, "anon_vma_chain", 0);

        assert_true(si->attrs_ok);
        assert_int_equal(si->attrs_known, 4);
        assert_true(i >= 0);
        assert_true(si->v[i].attr.merged);
        assert_int_equal(si->v[i].attr.accounted, 1);
        assert_string_equal(si->v[i].attr.unique_id, ":A-0000064");
        assert_int_equal(si->v[i].attr.aliases, 1);
        assert_string_equal(kmem_arena_at(&si->attr_names, si->v[i].attr.names), "fs_cache");
        i = kmem_slabinfo_find(si, "dentry", 0);
        assert_true(si->v[i].attr.reclaimable);
        assert_false(si->v[i].attr.merged);
        assert_int_equal(si->v[i].attr.accounted, -1);
        i = kmem_slabinfo_find(si, "kmalloc-cg-64", 0);
        assert_int_equal(si->v[i].attr.accounted, 1);
        i = kmem_slabinfo_find(si, "thread_stack", 0);
        assert_int_equal(si->v[i].attr.order, 3);
    }

    /* detail: vmalloc callers, iomem, no allocinfo, outside */
    assert_int_equal(s->status[KMEM_PART_DETAIL].err, 0);
    assert_false(d->reused);
    assert_int_equal(d->vmalloc.bytes, (4 + 4 + 1026 + 2 + 3) * ps);
    assert_int_equal(d->vmalloc.other_pages, 256 * ps); /* the vmap with pages= is apart */
    assert_false(d->alloc.present);
    assert_true(d->outside.known);
    assert_int_equal(d->outside.memtotal, 1000000 * KB);

    /* a second collection: detail copied (interval 60 s), attributes copied */
    put_file(dir, "proc/vmallocinfo", "garbage\n");
    s = collect(ctx);
    assert_true(s->detail.reused);
    assert_int_equal(s->detail.vmalloc.bytes, (4 + 4 + 1026 + 2 + 3) * ps);
    assert_true(s->slab.attrs_reused);
    assert_true(s->slab.attrs_ok);
    /* with interval 0 the broken file is read again, and its error named */
    kmem_ctx_set_detail_interval(ctx, 0);
    assert_true(kmem_collect(ctx, KMEM_COLLECT_DETAIL) < 0);
    s = kmem_current(ctx);
    assert_false(s->detail.reused);
    assert_non_null(strstr(s->status[KMEM_PART_DETAIL].msg, "proc/vmallocinfo:1: "));
    kmem_ctx_free(ctx);
    rm_tree(dir);
}

/* A capture of the tree replays to the same figures (links of merged caches, kmsg lines). */
static void test_capture_replay(void **state)
{
    struct kmem_ctx *ctx, *rep;
    char dir[64], cap[128], err[256], path[256];
    const struct kmem_snapshot *a, *b;
    char *kmsg;

    (void)state;
    make_node_tree(dir);
    snprintf(cap, sizeof(cap), "%s-capture", dir);
    assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
    assert_int_equal(kmem_ctx_set_capture(ctx, cap), 0);
    a = collect(ctx);
    assert_int_equal(kmem_capture_status(ctx), 0);
    snprintf(path, sizeof(path), "%s/sys/kernel/slab/fs_cache", cap);
    {
        char target[64];
        ssize_t l = readlink(path, target, sizeof(target) - 1);

        assert_true(l > 0);
        target[l] = '\0';
        assert_string_equal(target, ":A-0000064");
    }
    snprintf(path, sizeof(path), "%s/dev/kmsg", cap);
    kmsg = read_whole(path);
    assert_non_null(kmsg);
    assert_null(strstr(kmsg, "Freeing initrd")); /* only the lines used */
    assert_non_null(strstr(kmsg, "Dentry cache hash table entries"));
    free(kmsg);

    assert_int_equal(kmem_ctx_new(&rep, cap, err, sizeof(err)), 0);
    b = collect(rep);
    assert_memory_equal(a->node.kind, b->node.kind, sizeof(a->node.kind));
    assert_int_equal(a->node.percpu_first_chunk_bytes, b->node.percpu_first_chunk_bytes);
    assert_memory_equal(a->detail.outside.part, b->detail.outside.part,
                        sizeof(a->detail.outside.part));
    for (size_t i = 0; i < a->slab.n; i++) {
        assert_int_equal(a->slab.v[i].attr.merged, b->slab.v[i].attr.merged);
        assert_int_equal(a->slab.v[i].attr.accounted, b->slab.v[i].attr.accounted);
        assert_string_equal(kmem_arena_at(&a->slab.attr_names, a->slab.v[i].attr.names),
                            kmem_arena_at(&b->slab.attr_names, b->slab.v[i].attr.names));
    }
    kmem_ctx_free(rep);
    kmem_ctx_free(ctx);
    rm_tree(cap);
    rm_tree(dir);
}

/* A tree without the detail files, the log or sys/kernel/slab: figures left out, no failure. */
static void test_tree_missing(void **state)
{
    const struct kmem_snapshot *s;
    struct kmem_ctx *ctx;
    char dir[64], err[256], path[128];
    static const char *const gone[] = {"proc/vmallocinfo", "proc/iomem", "dev/kmsg",
                                       "sys/devices/system/cpu/possible"};

    (void)state;
    make_node_tree(dir);
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, gone[i]);
        assert_int_equal(unlink(path), 0);
    }
    snprintf(path, sizeof(path), "%s/sys/kernel/slab", dir);
    rm_tree(path);
    assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
    s = collect(ctx);
    assert_int_equal(s->status[KMEM_PART_DETAIL].err, 0);
    assert_int_equal(s->detail.vmalloc.err, -ENOENT);
    assert_false(s->detail.outside.known);
    assert_int_equal(s->node.boot.err, -ENOENT);
    assert_int_equal(s->node.kind[KMEM_NODE_HASH_TABLES], 0);
    assert_int_equal(s->node.percpu_first_chunk_bytes, 0);
    assert_false(s->slab.attrs_ok);
    assert_false(s->node.slab_split_known);
    assert_true(s->node.slab_gap_known);
    kmem_ctx_free(ctx);
    rm_tree(dir);
}

/* Shadow call stacks: scs_cache in slabinfo, a merged scs_cache in sysfs, scs_alloc in vmallocinfo.
 */
static void test_scs(void **state)
{
    static const struct {
        const char *name, *slab_line, *sysfs, *vmalloc_line, *release;
        bool in_slab;
        enum kmem_vmap_stack_source src;
    } cases[] = {
        {"scs_cache in slabinfo", "scs_cache 10 10 1024 4 1 : tunables 0 0 0 : slabdata 3 3 0\n",
         NULL, NULL, "5.10.0\n", true, KMEM_VMAP_STACK_SLABINFO},
        {"scs_cache merged (sysfs link)", NULL, "scs_cache", NULL, "5.10.0\n", true,
         KMEM_VMAP_STACK_SYSFS},
        {"scs_alloc in vmallocinfo", NULL, NULL, "0x1-0x2 8192 scs_alloc+0x1/0x2 pages=1 vmalloc\n",
         "6.1.0\n", false, KMEM_VMAP_STACK_VMALLOCINFO},
        {"release 5.13", NULL, NULL, "", "5.13.19\n", true, KMEM_VMAP_STACK_RELEASE},
        {"release 6.1", NULL, NULL, "", "6.1.0\n", false, KMEM_VMAP_STACK_RELEASE},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct kmem_node *n;
        struct kmem_ctx *ctx;
        char dir[64], err[256], text[8192];

        print_message("scs: %s\n", cases[i].name);
        make_node_tree(dir);
        snprintf(text, sizeof(text), "%s%s", SLABINFO,
                 cases[i].slab_line ? cases[i].slab_line : "");
        put_file(dir, "proc/slabinfo", text);
        if (cases[i].sysfs) {
            snprintf(text, sizeof(text), "sys/kernel/slab/%s", cases[i].sysfs);
            put_link(dir, text, ":A-0000064");
        }
        snprintf(text, sizeof(text), "%s%s", VMALLOCINFO,
                 cases[i].vmalloc_line ? cases[i].vmalloc_line : "");
        put_file(dir, "proc/vmallocinfo", text);
        put_file(dir, "proc/sys/kernel/osrelease", cases[i].release);
        assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
        n = &collect(ctx)->node;
        assert_int_equal(n->scs_in_slab, cases[i].in_slab);
        assert_int_equal(n->scs_source, cases[i].src);
        /* ShadowCallStack 700 kB and KernelStack 4000 kB (thread_stack) out of SUnreclaim */
        assert_int_equal(n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE],
                         (20000 - 4000 - (cases[i].in_slab ? 700 : 0)) * KB);
        assert_int_equal(n->kind[KMEM_NODE_VMALLOC], (10000 - (cases[i].in_slab ? 0 : 700)) * KB);
        assert_int_equal(n->kind[KMEM_NODE_KERNEL_STACK], 4700 * KB);
        kmem_ctx_free(ctx);
        rm_tree(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootlog_parse),
        cmocka_unit_test(test_bootlog_names),
        cmocka_unit_test(test_cpulist),
        cmocka_unit_test(test_sockstat),
        cmocka_unit_test(test_zram_mm_stat),
        cmocka_unit_test(test_vmallocinfo),
        cmocka_unit_test(test_vmalloc_plain_names),
        cmocka_unit_test(test_iomem),
        cmocka_unit_test(test_allocinfo),
        cmocka_unit_test(test_outside),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_capture_replay),
        cmocka_unit_test(test_tree_missing),
        cmocka_unit_test(test_scs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
