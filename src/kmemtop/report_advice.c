/* SPDX-License-Identifier: MIT */
/* kmemtop --report: the notes and the advice (see report.c). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "needs.h"
#include "report.h"

/* Socket buffers and zram devices: notes, not kinds. */
void kt_rep_notes(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    char h[H];

    if (!r->node_ok || (!n->sock.present && n->zram.n_total == 0))
        return;
    kt_rep_section(r, "Socket buffers and zram");
    if (n->sock.present) {
        char text[768];

        snprintf(text, sizeof(text),
                 "Sockets hold %" PRIu64 " bytes (%s) of buffers: (TCP mem %" PRIu64
                 " + UDP mem %" PRIu64 ") pages x %" PRIu64 " + IP fragments %" PRIu64
                 " bytes (/proc/net/sockstat, sockstat6). This is a note, not a kind: the "
                 "buffers live in slab (skbuff caches) and in pages counted nowhere else "
                 "(inside unaccounted). %" PRIu64 " sockets are in use, %" PRIu64
                 " TCP sockets wait in TIME-WAIT.",
                 n->sock.mem_bytes, kt_rep_hum(h, n->sock.mem_bytes), n->sock.tcp_mem_pages,
                 n->sock.udp_mem_pages, n->page_size, n->sock.frag_bytes + n->sock.frag6_bytes,
                 n->sock.sockets_used, n->sock.tcp_tw);
        kt_rep_wrap(r->f, "  ", 2, text);
    }
    if (n->zram.n_total) {
        fprintf(r->f,
                "\n  zram devices (/sys/block/zram*/mm_stat): %u, using %" PRIu64
                " bytes (the zram kind is %" PRIu64 ").\n",
                n->zram.n_total, n->zram.mem_used_total, n->kind[KMEM_NODE_ZRAM]);
        fprintf(r->f, "  %-8s %15s %15s %15s\n", "device", "data", "compressed", "memory used");
        for (unsigned i = 0; i < n->zram.n; i++)
            fprintf(r->f, "  %-8s %15" PRIu64 " %15" PRIu64 " %15" PRIu64 "\n", n->zram.dev[i].name,
                    n->zram.dev[i].orig_data, n->zram.dev[i].compr_data, n->zram.dev[i].mem_used);
    }
}

/*
 * "What to do": one plain sentence per finding. The thresholds are the
 * table "What the report advises" in docs/node.md; change both together.
 */
#define ADV_SHARE_RECLAIMABLE   20 /* % of kernel memory in reclaimable slab */
#define ADV_SHARE_UNRECL        20 /* % of kernel memory in unreclaimable slab */
#define ADV_SHARE_VMALLOC       20 /* % of kernel memory in vmalloc */
#define ADV_SHARE_PAGETABLES    20 /* % of kernel memory in page tables */
#define ADV_SHARE_UNEXPLAINED   10 /* % of kernel memory no figure explains (inside + outside) */
#define ADV_MIN_UNEXPLAINED     (UINT64_C(1) << 30)  /* ... or at least this much */
#define ADV_SHARE_LARGE_KMALLOC 10                   /* % of Slab in kmalloc() > 2 pages ... */
#define ADV_MIN_LARGE_KMALLOC   (UINT64_C(64) << 20) /* ... and at least this much */
#define ADV_SHARE_SOCK          10                   /* % of kernel memory in socket buffers ... */
#define ADV_MIN_SOCK            (UINT64_C(64) << 20) /* ... and at least this much */

static bool over(uint64_t part, uint64_t whole, unsigned pct_min)
{
    return whole && part * 100.0 >= (double)whole * pct_min;
}

/* What to run for the largest vmalloc purpose. */
static const char *vmalloc_hint(const char *group)
{
    static const struct {
        const char *group, *hint;
    } hints[] = {
        {"BPF maps", "bpftool map show lists the maps and their sizes"},
        {"BPF programs", "bpftool prog show lists the programs"},
        {"module code and data", "lsmod lists the modules and their sizes"},
        {"thread stacks", "each thread has one: ps -eLf | wc -l counts them"},
        {"per-CPU allocator bookkeeping",
         "per-CPU allocations grow with cgroups, BPF maps and network devices"},
    };

    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
        if (!strcmp(group, hints[i].group))
            return hints[i].hint;
    return "the callers are in /proc/vmallocinfo (section below)";
}

/*
 * " The largest is dentry (1.2 GiB, 80% of it: file paths looked up ...)."
 * The largest cache of the kind (reclaim_account from /sys/kernel/slab); of
 * all caches when the attributes are unknown. "" when there is none.
 */
static void largest_cache(const struct rep *r, bool reclaimable, uint64_t kind_bytes, char *out,
                          size_t len)
{
    const struct kmem_slabinfo *si = &r->snap->slab;
    const struct kmem_slab *best = NULL;
    uint64_t best_b = 0, ps = r->snap->node.page_size ? r->snap->node.page_size : kmem_page_size();
    bool by_attr = si->attrs_ok && si->attrs_known;
    const char *means;
    char h[H];
    int n;

    *out = 0;
    if (!r->slab_ok)
        return;
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        uint64_t b = kmem_slab_bytes(s, ps);

        if (by_attr && (!s->attr.known || s->attr.reclaimable != reclaimable))
            continue;
        if (b > best_b)
            best = s, best_b = b;
    }
    if (!best)
        return;
    means = kt_cache_meaning(best->name);
    n = snprintf(out, len, " The largest %s is %s (%s", by_attr ? "such cache" : "slab cache",
                 best->name, kt_rep_hum(h, best_b));
    if (n > 0 && (size_t)n < len && by_attr && kind_bytes)
        n += snprintf(out + n, len - (size_t)n, ", %.0f%% of it", kt_pct(best_b, kind_bytes));
    if (n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "%s%s).", means ? ": " : "", means ? means : "");
}

/*
 * A report of a recorded moment (kmemtop --replay DIR --at TIME --report):
 * its commands show that moment, not the machine now. Shell-quoted.
 */
static char replay_dir[4200], replay_at[64];

void kt_report_set_replay(const char *dir, const char *when)
{
    *replay_dir = *replay_at = 0;
    if (!dir || !*dir)
        return;
    kt_shq(replay_dir, sizeof(replay_dir), dir);
    if (when && *when)
        kt_shq(replay_at, sizeof(replay_at), when);
}

/*
 * Who holds it: the leaf cgroup with the most kernel memory, its share of
 * what is charged to cgroups, and the command that shows its caches.
 */
static void top_cgroup(struct rep *r)
{
    const struct kmem_cgroups *cgs = &r->snap->cgroups;
    const struct kmem_cgroup *cg;
    char text[1536], name[512], pod[800], h[H];

    if (!r->cg_ok || cgs->layout == KMEM_CG_NONE || cgs->n < 2 || !cgs->v[0].kernel ||
        !(cg = kt_rep_top_leaf(cgs)))
        return;
    /* "pod NS/POD (container C)" in Kubernetes, else the cgroup's name. */
    kt_cg_name(name, sizeof(name), cg, KT_ESC_HEX);
    if (cg->pod_name && *cg->pod_name && cg->container_name && *cg->container_name) {
        char *slash = strrchr(name, '/');

        if (slash && !strcmp(slash + 1, cg->container_name)) {
            char c[256];

            snprintf(c, sizeof(c), "%s", slash + 1);
            *slash = '\0';
            snprintf(pod, sizeof(pod), "pod %s (container %s)", name, c);
        } else {
            snprintf(pod, sizeof(pod), "%s", name);
        }
    } else {
        snprintf(pod, sizeof(pod), "cgroup %s", name);
    }
    snprintf(text, sizeof(text),
             "Most kernel memory is held by %s: %s, %.1f%% of the kernel memory charged to "
             "cgroups. 'kmemtop --cgroups --by-cache -o' shows which caches each cgroup is "
             "charged for; 'kmemtop --cgroups -o -d 10 -s G' which cgroups grow.",
             pod, kt_rep_hum(h, cg->kernel), kt_pct(cg->kernel, cgs->v[0].kernel));
    kt_rep_wrap(r->f, "  - ", 4, text);
}

void kt_rep_advice(struct rep *r)
{
    const struct kmem_node *n = &r->snap->node;
    const struct kmem_detail *d = &r->snap->detail;
    bool detail = (r->snap->flags & KMEM_COLLECT_DETAIL) != 0;
    uint64_t total = n->kernel_total;
    unsigned said = 0;
    char text[1280], big[320], h[H], h2[H];

    if (!r->node_ok)
        return;
    kt_rep_section(r, "What to do");
    if (over(n->kind[KMEM_NODE_SLAB_RECLAIMABLE], total, ADV_SHARE_RECLAIMABLE)) {
        largest_cache(r, true, n->kind[KMEM_NODE_SLAB_RECLAIMABLE], big, sizeof(big));
        snprintf(text, sizeof(text),
                 "Reclaimable slab (%s, %.0f%% of kernel memory) is returned on demand when "
                 "memory runs short, so it is not lost; to see how much comes back, compare "
                 "SReclaimable in /proc/meminfo before and after 'echo 2 > "
                 "/proc/sys/vm/drop_caches' (this drops cached file names and inodes, which "
                 "are then read again).%s",
                 kt_rep_hum(h, n->kind[KMEM_NODE_SLAB_RECLAIMABLE]),
                 kt_pct(n->kind[KMEM_NODE_SLAB_RECLAIMABLE], total), big);
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    if (over(n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE], total, ADV_SHARE_UNRECL)) {
        largest_cache(r, false, n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE], big, sizeof(big));
        snprintf(text, sizeof(text),
                 "Unreclaimable slab holds %s (%.0f%% of kernel memory).%s A cache that "
                 "keeps growing is the usual sign of a leak: run 'kmemtop -d 10' and press G "
                 "(sorted by growth since the start) for a few minutes, or 'kmemtop -o -d 60 "
                 "-s G' once.",
                 kt_rep_hum(h, n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE]),
                 kt_pct(n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE], total), big);
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    if (n->slab_split_known && n->large_kmalloc > 0 &&
        (uint64_t)n->large_kmalloc >= ADV_MIN_LARGE_KMALLOC &&
        over((uint64_t)n->large_kmalloc, n->mi.v[KMEM_MI_SLAB], ADV_SHARE_LARGE_KMALLOC)) {
        snprintf(text, sizeof(text),
                 "%s of SUnreclaim is kmalloc() larger than two pages, held by no slab "
                 "cache: /proc/allocinfo (when the kernel has it) or 'kmemtop --alloc' "
                 "name the callers.",
                 kt_rep_hum(h, (uint64_t)n->large_kmalloc));
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    if (over(n->kind[KMEM_NODE_VMALLOC], total, ADV_SHARE_VMALLOC)) {
        if (detail && !d->vmalloc.err && d->vmalloc.n_groups && d->vmalloc.groups[0].bytes)
            snprintf(text, sizeof(text),
                     "vmalloc holds %s (%.0f%% of kernel memory), most of it %s (%s): %s.",
                     kt_rep_hum(h, n->kind[KMEM_NODE_VMALLOC]),
                     kt_pct(n->kind[KMEM_NODE_VMALLOC], total), d->vmalloc.groups[0].name,
                     kt_rep_hum(h2, d->vmalloc.groups[0].bytes),
                     vmalloc_hint(d->vmalloc.groups[0].name));
        else
            snprintf(text, sizeof(text),
                     "vmalloc holds %s (%.0f%% of kernel memory); /proc/vmallocinfo (as root) "
                     "says which callers.",
                     kt_rep_hum(h, n->kind[KMEM_NODE_VMALLOC]),
                     kt_pct(n->kind[KMEM_NODE_VMALLOC], total));
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    if (over(n->kind[KMEM_NODE_PAGETABLES], total, ADV_SHARE_PAGETABLES)) {
        snprintf(text, sizeof(text),
                 "Page tables hold %s (%.0f%% of kernel memory): they grow with the memory "
                 "each process maps; many processes mapping one large area (databases, JVMs) "
                 "use less with huge pages.",
                 kt_rep_hum(h, n->kind[KMEM_NODE_PAGETABLES]),
                 kt_pct(n->kind[KMEM_NODE_PAGETABLES], total));
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    if (n->sock.present && n->sock.mem_bytes >= ADV_MIN_SOCK &&
        over(n->sock.mem_bytes, total, ADV_SHARE_SOCK)) {
        snprintf(text, sizeof(text),
                 "Socket buffers hold %s: 'ss -tmp' shows the sockets with full queues "
                 "(a reader that stopped reading keeps its buffers).",
                 kt_rep_hum(h, n->sock.mem_bytes));
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    {
        uint64_t un = n->kind[KMEM_NODE_UNACCOUNTED];

        if (detail && d->outside.known)
            un += d->outside.part[KMEM_OUT_UNEXPLAINED];
        if (un >= ADV_MIN_UNEXPLAINED || over(un, total, ADV_SHARE_UNEXPLAINED)) {
            snprintf(text, sizeof(text),
                     "%s is explained by no counter: look at the vmalloc callers and "
                     "/proc/allocinfo below (boot with CONFIG_MEM_ALLOC_PROFILING if the "
                     "kernel lacks it), and at drivers that take pages straight from the page "
                     "allocator: GPU (DRM/TTM) and NIC drivers, RDMA, virtio-balloon "
                     "(meminfo Balloon).",
                     kt_rep_hum(h, un));
            kt_rep_wrap(r->f, "  - ", 4, text);
            said++;
        }
    }
    if (detail &&
        (r->snap->status[KMEM_PART_DETAIL].err || d->vmalloc.err || d->iomem.err || n->boot.err)) {
        struct kmem_privs p;
        char why[3][320];
        size_t nw = 0;

        kmem_privs_self(&p);
        if (d->vmalloc.err)
            kmem_need_text(why[nw++], sizeof(why[0]), KMEM_NEED_VMINFO, d->vmalloc.err, &p);
        if (d->iomem.err)
            kmem_need_text(why[nw++], sizeof(why[0]), KMEM_NEED_IOMEM, d->iomem.err, &p);
        if (n->boot.err)
            kmem_need_text(why[nw++], sizeof(why[0]), KMEM_NEED_KLOG, n->boot.err, &p);
        snprintf(text, sizeof(text),
                 "Some figures are missing (the vmalloc callers, the memory outside MemTotal, "
                 "the boot-time allocations)%s%s%s%s%s%s%s",
                 nw ? ": " : ": the detail files were not read.", nw ? why[0] : "",
                 nw > 1 ? "; " : "", nw > 1 ? why[1] : "", nw > 2 ? "; " : "", nw > 2 ? why[2] : "",
                 nw ? "." : "");
        kt_rep_wrap(r->f, "  - ", 4, text);
        said++;
    }
    if (said)
        top_cgroup(r);
    else
        kt_rep_wrap(r->f, "  ", 2,
                    "Nothing stands out: no kind of kernel memory passes the thresholds of "
                    "docs/node.md, and no more than a few percent of it is unexplained.");
    if (*replay_dir && *replay_at) {
        /* a bullet of its own, each command on a line of its own (to paste);
         * tests/integration/recorder.sh leaves it out when it compares a
         * replayed report with a capture's */
        snprintf(text, sizeof(text),
                 "This report is of a recorded moment, %s; the other commands here show the "
                 "machine now. The same moment:",
                 replay_at);
        kt_rep_wrap(r->f, "  - ", 4, text);
        fprintf(r->f,
                "      which caches each cgroup was charged for then (its owner snapshot):\n"
                "        kmemtop --replay %s --at %s --cgroups --by-cache -o\n"
                "      what grew in the hour before:\n"
                "        kmemtop --replay %s --at %s --window 1h\n"
                "      in the TUI:\n"
                "        kmemtop --replay %s --at %s\n",
                replay_dir, replay_at, replay_dir, replay_at, replay_dir, replay_at);
    }
}
