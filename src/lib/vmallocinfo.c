/* SPDX-License-Identifier: MIT */
/*
 * /proc/vmallocinfo grouped by caller (mm/vmalloc.c vmalloc_info_show()):
 *
 *   0x...-0x...   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4
 *   0x...-0x...    8192 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x...a0000 ioremap
 *   0x...-0x...   12288 xfs_buf_alloc+0x50/0x80 [xfs] pages=2 vmalloc
 *   0x...-0x...   20480 unpurged vm_area
 *   0x...-0x...   16384 vm_map_ram
 *
 * SIZE is the address space (with the guard page); pages=N is the RAM behind
 * an area. Only areas flagged "vmalloc" (VM_ALLOC) count toward VmallocUsed
 * (vmalloc_info_show() prints pages= for any area with pages: vmap() with
 * VM_MAP_PUT_PAGES, e.g. i915, has them too, flagged "vmap"): the others'
 * pages are summed apart (other_pages). Callers are summed by function
 * (the "+off/len" dropped), the top ones kept, and well-known callers given a
 * plain name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detail.h"
#include "buf.h"
#include "hindex.h"
#include "parse.h"
#include "sat.h"
#include "sort.h"

/* ---- plain names ---------------------------------------------------------- */

static const struct {
    const char *sym, *plain;
} plain_names[] = {
    /* kernel/fork.c thread stacks and the functions it is inlined into */
    {"alloc_thread_stack_node", "thread stacks"},
    {"dup_task_struct", "thread stacks"},
    {"copy_process", "thread stacks"},
    {"kernel_clone", "thread stacks"},
    {"_do_fork", "thread stacks"},
    {"do_fork", "thread stacks"},
    {"fork_idle", "thread stacks"},
    {"create_io_thread", "thread stacks"},
    {"kernel_thread", "thread stacks"},
    {"user_mode_thread", "thread stacks"},
    {"scs_alloc", "shadow call stacks"},
    {"irq_init_percpu_irqstack", "IRQ stacks (per-CPU pages mapped again)"},
    /* kernel/bpf */
    {"bpf_prog_alloc", "BPF programs"},
    {"bpf_prog_alloc_no_stats", "BPF programs"},
    {"bpf_prog_realloc", "BPF programs"},
    {"bpf_prog_pack_alloc", "BPF programs"},
    {"alloc_new_pack", "BPF programs"},
    {"bpf_jit_alloc_exec", "BPF programs"},
    {"bpf_jit_binary_alloc", "BPF programs"},
    {"bpf_jit_binary_pack_alloc", "BPF programs"},
    {"bpf_ringbuf_area_alloc", "BPF maps"},
    {"prealloc_init", "BPF maps"},
    {"pcpu_freelist_init", "BPF maps"},
    /*
     * mm/percpu: the chunks' address space (pcpu_get_vm_areas: no pages= of
     * its own, the pages are mapped into it apart) and their maps and bitmaps
     * (pcpu_mem_zalloc): the per-CPU memory itself is in Percpu
     */
    {"pcpu_get_vm_areas", "per-CPU allocator bookkeeping"},
    {"pcpu_create_chunk", "per-CPU allocator bookkeeping"},
    {"pcpu_mem_zalloc", "per-CPU allocator bookkeeping"},
    /* modules */
    {"module_alloc", "module code and data"},
    {"execmem_alloc", "module code and data"},
    {"execmem_vmalloc", "module code and data"},
    {"execmem_cache_alloc", "module code and data"},
    {"module_memory_alloc", "module code and data"},
    {"move_module", "module code and data"},
    {"load_module", "module code and data"},
    {"alloc_insn_page", "kprobes and ftrace trampolines"},
    {"arch_ftrace_update_trampoline", "kprobes and ftrace trampolines"},
    {"create_trampoline", "kprobes and ftrace trampolines"},
    /* boot hash tables (hashdist: NUMA machines) */
    {"alloc_large_system_hash", "boot hash tables"},
    {"n_tty_open", "TTY buffers"},
    {"xt_alloc_table_info", "netfilter tables"},
    {"xt_alloc_entry_offsets", "netfilter tables"},
    {"swap_cgroup_swapon", "swap maps"},
    {"__do_sys_swapon", "swap maps"},
    {"zram_meta_alloc", "zram tables"},
};

static bool has_prefix(const char *s, size_t len, const char *p)
{
    size_t pl = strlen(p);

    return len >= pl && memcmp(s, p, pl) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *x)
{
    size_t xl = strlen(x);

    return len >= xl && memcmp(s + len - xl, x, xl) == 0;
}

const char *kmem_vmalloc_plain_name(const char *sym, size_t len)
{
    for (size_t i = 0; i < sizeof(plain_names) / sizeof(plain_names[0]); i++)
        if (kmem_tok_eq(sym, len, plain_names[i].sym))
            return plain_names[i].plain;
    /* kernel/bpf: bpf_map_area_alloc(), and map types' own allocators (inlined into them) */
    if (has_prefix(sym, len, "bpf_map") || has_prefix(sym, len, "__bpf_map") ||
        has_suffix(sym, len, "_map_alloc"))
        return "BPF maps";
    if (has_prefix(sym, len, "bpf_prog") || has_prefix(sym, len, "bpf_jit"))
        return "BPF programs";
    return NULL;
}

/* ---- the parser ------------------------------------------------------------ */

struct acc {
    struct kmem_vmalloc_caller *v;
    size_t n, cap;
    struct kmem_hindex ix;
};

static struct kmem_vmalloc_caller *find_or_add(struct acc *a, const char *name, size_t len,
                                               int *err)
{
    uint64_t h = kmem_hash_mem(name, len);
    size_t it;

    for (long i = kmem_hindex_first(&a->ix, h, &it); i >= 0; i = kmem_hindex_next(&a->ix, &it))
        if (kmem_tok_eq(name, len, a->v[i].caller))
            return &a->v[i];
    if (a->n == a->cap) {
        /* grow the array and rebuild the index for twice the size */
        KMEM_GROW(*err, a->v, &a->cap, a->n + 1);
        if (*err)
            return NULL;
        *err = kmem_hindex_reset(&a->ix, a->cap);
        if (*err)
            return NULL;
        for (size_t i = 0; i < a->n; i++)
            kmem_hindex_add(&a->ix, kmem_hash_str(a->v[i].caller), i);
    }
    memset(&a->v[a->n], 0, sizeof(a->v[0]));
    memcpy(a->v[a->n].caller, name, len);
    a->v[a->n].caller[len] = '\0';
    kmem_hindex_add(&a->ix, h, a->n);
    return &a->v[a->n++];
}

static int cmp_caller(const void *pa, const void *pb)
{
    const struct kmem_vmalloc_caller *a = pa, *b = pb;

    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->vsize != b->vsize)
        return a->vsize > b->vsize ? -1 : 1;
    return strcmp(a->caller, b->caller);
}

static int cmp_group(const void *pa, const void *pb)
{
    const struct kmem_vmalloc_group *a = pa, *b = pb;

    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->name, b->name);
}

static bool is_hex_range(const char *tok, size_t len)
{
    const char *dash = memchr(tok, '-', len);

    return len > 2 && tok[0] == '0' && tok[1] == 'x' && dash && dash > tok + 2 &&
           dash + 1 < tok + len;
}

/* One line into @a. 0, or a static message. */
static const char *line_into(struct acc *a, const char *p, const char *eol, uint64_t page_size,
                             struct kmem_vmallocinfo *out, int *err)
{
    const char *tok;
    size_t tl;
    uint64_t size, pages = 0;
    char name[sizeof(a->v[0].caller)];
    size_t nl = 0;
    bool ioremap = false, vmalloc = false, have_caller = false;
    struct kmem_vmalloc_caller *c;

    if (!kmem_next_token(&p, eol, &tok, &tl) || !is_hex_range(tok, tl))
        return "expected \"0xSTART-0xEND SIZE CALLER ...\"";
    if (kmem_parse_u64(&p, eol, &size))
        return "expected the area's size after its address range";
    while (kmem_next_token(&p, eol, &tok, &tl)) {
        if (has_prefix(tok, tl, "pages=")) {
            const char *q = tok + 6;

            if (kmem_parse_u64(&q, tok + tl, &pages) || q != tok + tl)
                return "expected \"pages=N\"";
        } else if (kmem_tok_eq(tok, tl, "ioremap")) {
            ioremap = true;
        } else if (have_caller && kmem_tok_eq(tok, tl, "vmalloc")) {
            vmalloc = true;
        } else if (!have_caller && nl == 0 && !memchr(tok, '=', tl)) {
            /* The caller ("func+0x1/0x2"), "unpurged", "vm_map_ram". */
            size_t sl = tl;
            const char *plus = memchr(tok, '+', tl);

            if (plus)
                sl = (size_t)(plus - tok);
            if (sl >= sizeof(name))
                sl = sizeof(name) - 1;
            memcpy(name, tok, sl);
            nl = sl;
            have_caller = true;
        } else if (have_caller && tl > 2 && tok[0] == '[' && tok[tl - 1] == ']' &&
                   nl + 1 + tl < sizeof(name)) {
            name[nl++] = ' '; /* the module: "xfs_buf_alloc [xfs]" */
            memcpy(name + nl, tok, tl);
            nl += tl;
        }
    }
    if (!have_caller) {
        memcpy(name, "(no caller)", 11);
        nl = 11;
    }
    for (size_t i = 0; i < nl; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            name[i] = '?';
    c = find_or_add(a, name, nl, err);
    if (!c)
        return "out of memory";
    pages = kmem_mul_sat(pages, page_size);
    if (!vmalloc) { /* vmap, vm_map_ram, ioremap: pages not in VmallocUsed */
        out->other_pages = kmem_add_sat(out->other_pages, pages);
        pages = 0;
    }
    c->bytes = kmem_add_sat(c->bytes, pages);
    c->vsize = kmem_add_sat(c->vsize, size);
    c->areas++;
    out->areas++;
    out->bytes = kmem_add_sat(out->bytes, pages);
    out->vsize = kmem_add_sat(out->vsize, size);
    if (ioremap)
        out->ioremap_vsize = kmem_add_sat(out->ioremap_vsize, size);
    return NULL;
}

static void summarise(struct acc *a, struct kmem_vmallocinfo *out)
{
    kmem_sort(a->v, a->n, sizeof(a->v[0]), cmp_caller);
    out->callers = a->n;
    for (size_t i = 0; i < a->n; i++) {
        struct kmem_vmalloc_caller *c = &a->v[i];
        const char *sym_end = strchr(c->caller, ' ');
        const char *group;
        unsigned g;

        c->plain = kmem_vmalloc_plain_name(c->caller, sym_end ? (size_t)(sym_end - c->caller)
                                                              : strlen(c->caller));
        if (i < KMEM_VMALLOC_TOP)
            out->top[out->n_top++] = *c;
        else
            out->rest_bytes = kmem_add_sat(out->rest_bytes, c->bytes);
        group = c->plain ? c->plain : "other";
        for (g = 0; g < out->n_groups; g++)
            if (!strcmp(out->groups[g].name, group))
                break;
        if (g == out->n_groups) {
            if (g == KMEM_VMALLOC_GROUPS) /* more plain names than slots: not reached */
                g = KMEM_VMALLOC_GROUPS - 1;
            else
                out->groups[out->n_groups++].name = group;
        }
        out->groups[g].bytes = kmem_add_sat(out->groups[g].bytes, c->bytes);
        out->groups[g].areas += c->areas;
    }
    kmem_sort(out->groups, out->n_groups, sizeof(out->groups[0]), cmp_group);
}

int kmem_vmallocinfo_parse(const char *buf, size_t len, uint64_t page_size,
                           struct kmem_vmallocinfo *out, struct kmem_parse_error *perr)
{
    const char *p = buf, *end = buf + len;
    struct acc a = {0};
    unsigned line = 0;
    int err = 0;

    memset(out, 0, sizeof(*out));
    kmem_parse_ok(perr);
    while (p < end && !err) {
        const char *next, *eol = kmem_line_end(p, end, &next), *what;

        line++;
        if (kmem_skip_blanks(p, eol) == eol) {
            p = next;
            continue;
        }
        what = line_into(&a, p, eol, page_size, out, &err);
        if (what && !err) {
            err = kmem_parse_fail(perr, line, what);
            break;
        }
        p = next;
    }
    if (!err)
        summarise(&a, out);
    free(a.v);
    kmem_hindex_free(&a.ix);
    if (err)
        out->err = err;
    return err;
}
