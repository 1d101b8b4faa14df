/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --html: one self-contained page. Inline CSS and script, no
 * reference to any other file or host; the boxes are positioned here (in
 * percent of their treemap), so the page is complete with scripts off, and
 * the script only adds the hover card, arrow keys between boxes and the
 * jump from a box to its table row. Every figure comes from the snapshot
 * fields --json prints (htmlmodel.c); sizes are kt_human()'s.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "html.h"
#include "htmlhist.h"
#include "htmlesc.h"
#include "macros.h"
#include "sat.h"
#include "kmemtop.h"
#include "views.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "0.0.0"
#endif

/* Nominal size of each treemap in CSS pixels (the page scales them to its width). */
#define MAP_W        1216.0
#define MEM_MAP_H    200.0
#define KERNEL_MAP_H 440.0
#define CG_MAP_H     560.0
#define CHAR_W       6.5 /* px per character of the 11px labels */
#define TINTS        3

static const struct {
    const char *name; /* the legend's words */
    unsigned rgb;     /* Okabe-Ito where a kind has its own hue */
} palette[KT_HC_COUNT] = {
    [KT_HC_FREE] = {"free", 0xDDDDDD},
    [KT_HC_USER] = {"user space", 0x56B4E9},
    [KT_HC_SLAB_R] = {"slab, reclaimable", 0xE69F00},
    [KT_HC_SLAB_U] = {"slab, unreclaimable", 0xD55E00},
    [KT_HC_STACK] = {"kernel stacks", 0xF0E442},
    [KT_HC_PAGETABLES] = {"page tables", 0x009E73},
    [KT_HC_VMALLOC] = {"vmalloc", 0x0072B2},
    [KT_HC_PERCPU] = {"per-CPU", 0xCC79A7},
    [KT_HC_OTHER] = {"other kernel kinds", 0x666666},
    [KT_HC_UNACCOUNTED] = {"unexplained rest", 0x000000},
    [KT_HC_GROUP] = {"group", 0xBFBFBF},
};
static_assert(ARRAY_SIZE(palette) == KT_HC_COUNT, "palette");

unsigned kt_html_rgb(enum kt_hcol c)
{
    return (unsigned)c < KT_HC_COUNT ? palette[c].rgb : 0x808080;
}

/* ---- colours --------------------------------------------------------------- */

static unsigned tint(unsigned rgb, int t)
{
    static const double f[TINTS] = {0, 0.45, 0.7}; /* toward white */
    unsigned out = 0;

    for (int sh = 16; sh >= 0; sh -= 8) {
        double c = (double)((rgb >> sh) & 0xFF);

        out |= (unsigned)lround(c + (255 - c) * f[t]) << sh;
    }
    return out;
}

/* WCAG 2 relative luminance. */
static double luminance(unsigned rgb)
{
    double l = 0;
    static const double w[3] = {0.2126, 0.7152, 0.0722};

    for (int i = 0; i < 3; i++) {
        double c = (double)((rgb >> (16 - 8 * i)) & 0xFF) / 255.0;

        c = c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
        l += w[i] * c;
    }
    return l;
}

/* Black or white, whichever contrasts more with @bg. */
static unsigned text_on(unsigned bg)
{
    double l = luminance(bg);

    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? 0x000000 : 0xFFFFFF;
}

/* ---- escaping ---------------------------------------------------------------- */

void kt_html_esc(FILE *f, const char *s)
{
    struct kmem_buf b;

    kmem_buf_init(&b, 0);
    if (kmem_buf_add_html(&b, s) == 0)
        fwrite(b.data, 1, b.len, f);
    kmem_buf_free(&b);
}

void kt_html_esc_raw(FILE *f, const char *s)
{
    char buf[4096];

    kt_printable(buf, sizeof(buf), s ? s : "", KT_ESC_HEX);
    kt_html_esc(f, buf);
}

static const char *hum(char *buf, size_t len, uint64_t b)
{
    return kt_human(buf, len, (double)b);
}

/* ---- the page's fixed parts ---------------------------------------------------- */

static void css(FILE *f)
{
    fputs(
        "<style>\n"
        ":root{color-scheme:light}\n"
        "body{margin:0 auto;max-width:1240px;padding:8px 12px 40px;font:14px/1.4 "
        "system-ui,sans-serif;color:#1a1a1a;background:#ffffff}\n"
        "h1{font-size:20px;margin:4px 0}h2{font-size:17px;margin:18px 0 4px}\n"
        "p{margin:4px 0}.sum b{font-variant-numeric:tabular-nums}\n"
        ".muted{color:#595959;background:#ffffff}\n"
        ".legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0;padding:0;"
        "list-style:none;font-size:13px}\n"
        ".legend li{display:flex;align-items:center;gap:5px}\n"
        ".sw{display:inline-block;width:14px;height:14px;border:1px solid #333333}\n"
        ".tm{position:relative;width:100%;border:1px solid #333333;overflow:hidden;"
        "background:#ffffff}\n"
        ".b{position:absolute;box-sizing:border-box;overflow:hidden;border:1px solid "
        "#ffffff;font:11px/13px system-ui,sans-serif;padding:1px 3px;white-space:nowrap;"
        "text-overflow:ellipsis}\n"
        ".b span{display:block;overflow:hidden;text-overflow:ellipsis}\n"
        ".b:focus{outline:3px solid #000000;outline-offset:-3px;z-index:2}\n"
        ".b.hl{outline:3px dashed #000000;outline-offset:-3px}\n"
        "#tip{position:fixed;z-index:9;max-width:420px;padding:6px 8px;font-size:13px;"
        "color:#ffffff;background:#1a1a1a;border-radius:4px;pointer-events:none;"
        "white-space:pre-line}\n"
        "details{margin:8px 0}summary{cursor:pointer;font-weight:600}\n"
        "table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}\n"
        "th,td{padding:1px 8px;text-align:right;border-bottom:1px solid #e6e6e6}\n"
        "th:first-child,td:first-child{text-align:left}\n"
        "tr.hl td{color:#000000;background:#ffe066}\n"
        "h3{font-size:15px;margin:14px 0 4px}\n"
        ".chart{display:block;width:100%;height:auto;border:1px solid #333333}\n"
        ".ax{font:11px system-ui,sans-serif;fill:#1a1a1a}\n"
        ".spark{display:block}\n"
        "table.verdicts td:nth-child(2),table.ooms td:nth-child(2),table.verdicts "
        "th:nth-child(2),table.ooms th:nth-child(2),table.ooms td:nth-child(7),"
        "table.ooms th:nth-child(7){text-align:left}\n"
        ".verdicts td,.ooms td,.verdicts th,.ooms th{white-space:nowrap}\n"
        ".verdicts td:nth-child(2),.ooms td:nth-child(2),.ooms td:nth-child(7){white-space:normal;"
        "overflow-wrap:anywhere;max-width:520px}\n"
        ".oomsw{border:2px dashed #000000;width:10px;height:10px}\n",
        f);
    for (int d = 1; d <= 9; d++)
        fprintf(f, "td.l%d{padding-left:%dem}\n", d, d + 1);
    for (int c = 0; c < KT_HC_COUNT; c++)
        for (int t = 0; t < TINTS; t++) {
            unsigned bg = tint(palette[c].rgb, t);

            fprintf(f, ".c%dt%d{background:#%06x;color:#%06x}\n", c, t, bg, text_on(bg));
        }
    fputs("</style>\n", f);
}

/* Hover card, arrow keys, a box's row in its table; data-ready="ok" when it ran. */
static const char script[] =
    "<script>\n"
    "(function(){\n"
    "'use strict';\n"
    "var errors=0;\n"
    "window.addEventListener('error',function(){errors++;"
    "document.body.setAttribute('data-errors',String(errors));});\n"
    "var tip=document.getElementById('tip');\n"
    "function place(x,y){var w=tip.offsetWidth,h=tip.offsetHeight;"
    "if(x+w+16>window.innerWidth)x=Math.max(0,x-w-16);else x+=12;"
    "if(y+h+16>window.innerHeight)y=Math.max(0,y-h-16);else y+=12;"
    "tip.style.left=x+'px';tip.style.top=y+'px';}\n"
    "function show(b,x,y){tip.textContent=b.getAttribute('data-t');tip.hidden=false;place(x,y);}\n"
    "function hide(){tip.hidden=true;}\n"
    "function row(b){var k=b.getAttribute('data-k'),n=b.getAttribute('data-i'),"
    "s=b.closest('section'),rs=document.querySelectorAll('tr[data-k]');\n"
    " for(var i=0;i<rs.length;i++){rs[i].classList.remove('hl');}\n"
    " for(i=0;i<rs.length;i++){if(n!==null?rs[i].getAttribute('data-i')===n&&"
    "rs[i].closest('section')===s:rs[i].getAttribute('data-k')===k){"
    "rs[i].closest('details').open=true;"
    "rs[i].classList.add('hl');rs[i].scrollIntoView({block:'center'});return;}}}\n"
    "var maps=document.querySelectorAll('.tm');\n"
    "Array.prototype.forEach.call(maps,function(tm){\n"
    " var bs=Array.prototype.slice.call(tm.querySelectorAll('.b'));\n"
    " bs.forEach(function(b){b.setAttribute('data-t',b.title);"
    "b.setAttribute('aria-label',b.title);b.removeAttribute('title');});\n"
    " tm.addEventListener('mousemove',function(e){var b=e.target.closest('.b');"
    "if(b)show(b,e.clientX,e.clientY);else hide();});\n"
    " tm.addEventListener('mouseleave',hide);\n"
    " tm.addEventListener('click',function(e){var b=e.target.closest('.b');if(b)row(b);});\n"
    " tm.addEventListener('focusin',function(e){var b=e.target.closest('.b');if(!b)return;"
    "bs.forEach(function(o){o.tabIndex=-1;});b.tabIndex=0;"
    "var r=b.getBoundingClientRect();show(b,r.left,r.top);});\n"
    " tm.addEventListener('focusout',hide);\n"
    " tm.addEventListener('keydown',function(e){var i=bs.indexOf(document.activeElement),"
    "n=-1;if(i<0)return;\n"
    "  if(e.key==='ArrowRight'||e.key==='ArrowDown')n=Math.min(bs.length-1,i+1);\n"
    "  else if(e.key==='ArrowLeft'||e.key==='ArrowUp')n=Math.max(0,i-1);\n"
    "  else if(e.key==='Home')n=0;else if(e.key==='End')n=bs.length-1;\n"
    "  else if(e.key==='Enter'||e.key===' '){row(bs[i]);e.preventDefault();return;}\n"
    "  else if(e.key==='Escape'){hide();return;}\n"
    "  if(n>=0){bs[n].focus();e.preventDefault();}});\n"
    "});\n"
    "document.body.setAttribute('data-ready','ok');\n"
    "})();\n"
    "</script>\n";

/* ---- treemaps and tables --------------------------------------------------------- */

/* Tint of node @i: lighter than its parent when it has the parent's colour. */
static int node_tint(const struct kt_hmap *m, int i, int *tints)
{
    int p = m->v[i].parent;

    if (p < 0 || m->v[p].colour != m->v[i].colour)
        return 0;
    return tints[p] + 1 < TINTS ? tints[p] + 1 : (m->v[i].colour == KT_HC_GROUP ? 0 : TINTS - 1);
}

/* "name: 12M (12582912 bytes), 3.1% of kernel, 0.2% of MemTotal. Note." */
static void hover_text(FILE *f, const struct kt_hmap *m, int i)
{
    const struct kt_hnode *n = &m->v[i];
    char h[32];

    kt_html_esc(f, n->name);
    fprintf(f, ": %s (%" PRIu64 " bytes)", hum(h, sizeof(h), n->bytes), n->bytes);
    if (n->parent >= 0 && m->v[n->parent].bytes) {
        fprintf(f, ", %.1f%% of ", kt_pct(n->bytes, m->v[n->parent].bytes));
        kt_html_esc(f, m->v[n->parent].name);
    }
    if (n->parent > 0 && m->v[0].bytes) {
        fprintf(f, ", %.1f%% of ", kt_pct(n->bytes, m->v[0].bytes));
        kt_html_esc(f, m->v[0].name);
    }
    if (n->note) {
        fputs(". ", f);
        kt_html_esc(f, n->note);
    }
}

/*
 * The boxes. @by_index: a box names its table row by index (data-i, in the
 * same section; cgroup keys are long and a node can have thousands of boxes),
 * else by key (data-k: the kernel map, whose rows are in the MemTotal table).
 */
static void boxes(FILE *f, const struct kt_hmap *m, double width, double height, int *tints,
                  bool by_index)
{
    bool first = true;

    for (size_t k = 0; k < m->n; k++) {
        const struct kt_hnode *n = &m->v[k];
        int i = (int)k;
        size_t name_w = kt_text_width(n->name);
        char h[32];

        tints[i] = node_tint(m, i, tints);
        if (!n->drawn)
            continue;
        hum(h, sizeof(h), n->bytes);
        fprintf(f,
                "<div class=\"b c%dt%d\" style=\"left:%.2f%%;top:%.2f%%;width:%.2f%%;"
                "height:%.2f%%\" ",
                n->colour, tints[i], 100 * n->r.x / width, 100 * n->r.y / height,
                100 * n->r.w / width, 100 * n->r.h / height);
        if (by_index) {
            fprintf(f, "data-i=\"%d\"", i);
        } else {
            fputs("data-k=\"", f);
            kt_html_esc(f, n->key);
            fputc('"', f);
        }
        fprintf(f, " data-b=\"%" PRIu64 "\" tabindex=\"%d\" title=\"", n->bytes, first ? 0 : -1);
        hover_text(f, m, i);
        fputs("\">", f);
        first = false;
        if (n->first >= 0 && n->r.h >= 3 * 15.0 && n->r.w >= 40) {
            fputs("<span>", f); /* the label strip above the children */
            kt_html_esc(f, n->name);
            fprintf(f, " %s</span>", h);
        } else if (n->first < 0 && n->r.h >= 28 &&
                   n->r.w >= CHAR_W * (double)(name_w < 5 ? name_w : 5) + 8 &&
                   n->r.w >= CHAR_W * (double)strlen(h) + 8) {
            fputs("<span>", f); /* the name, cut with an ellipsis where it does not fit */
            kt_html_esc(f, n->name);
            fprintf(f, "</span><span>%s</span>", h);
        } else if (n->first < 0 && n->r.h >= 14 &&
                   n->r.w >= CHAR_W * (double)(name_w + 1 + strlen(h)) + 8) {
            fputs("<span>", f);
            kt_html_esc(f, n->name);
            fprintf(f, " %s</span>", h);
        }
        fputs("</div>\n", f);
    }
}

/*
 * A row's key. In the cgroup table, the path of the cgroup above (@cgpath)
 * is left out of its parts' keys ("cgkind:PATH:vmalloc" is written
 * "cgkind::vmalloc", "rest:cg:PATH" "rest:cg:"): a node with hundreds of
 * containers would otherwise repeat every long path ten times. data-p names
 * the parent row, so the full key can be rebuilt.
 */
static void row_key(FILE *f, const char *key, const char *cgpath)
{
    size_t pl = cgpath ? strlen(cgpath) : 0, kl = strlen(key);
    const char *p;

    if (cgpath && strncmp(key, "cg:", 3) != 0) {
        for (p = strchr(key, ':'); p; p = strchr(p + 1, ':'))
            if (strncmp(p + 1, cgpath, pl) == 0 && p[1 + pl] == ':') {
                fprintf(f, "%.*s:", (int)(p - key + 1), key);
                kt_html_esc(f, p + 2 + pl);
                return;
            }
        if (kl > pl && key[kl - pl - 1] == ':' && strcmp(key + kl - pl, cgpath) == 0) {
            fprintf(f, "%.*s", (int)(kl - pl), key);
            return;
        }
    }
    kt_html_esc(f, key);
}

static void table_rows(FILE *f, const struct kt_hmap *m, int i, const char *cgpath, bool cgtable)
{
    for (; i >= 0; i = m->v[i].next) {
        const struct kt_hnode *n = &m->v[i];
        const char *below = cgtable && strncmp(n->key, "cg:", 3) == 0 ? n->key + 3 : cgpath;
        char h[32];

        fprintf(f, "<tr data-i=\"%d\" data-p=\"%d\" data-k=\"", i, n->parent);
        row_key(f, n->key, cgtable ? cgpath : NULL);
        fprintf(f, "\" data-b=\"%" PRIu64 "\"><td class=\"l%d\">", n->bytes,
                n->depth > 9 ? 9 : n->depth);
        kt_html_esc(f, n->name);
        fprintf(f, "</td><td>%s</td><td>%" PRIu64 "</td>", hum(h, sizeof(h), n->bytes), n->bytes);
        if (n->parent >= 0)
            fprintf(f, "<td>%.1f%%</td>", kt_pct(n->bytes, m->v[n->parent].bytes));
        else
            fputs("<td></td>", f);
        fprintf(f, "<td>%.1f%%</td></tr>\n", kt_pct(n->bytes, m->v[0].bytes));
        table_rows(f, m, n->first, below, cgtable);
    }
}

static void legend(FILE *f, const bool *used)
{
    fputs("<ul class=\"legend\" aria-label=\"colours\">", f);
    for (int c = 0; c < KT_HC_COUNT; c++)
        if (used[c])
            fprintf(f, "<li><span class=\"sw c%dt0\"></span>%s</li>", c, palette[c].name);
    fputs("</ul>\n", f);
}

/* One section: heading, legend, the boxes, the table of every node. */
static int treemap(FILE *f, struct kt_hmap *m, const char *id, const char *intro, double height,
                   bool table)
{
    bool used[KT_HC_COUNT] = {false};
    int *tints, err;

    if (m->n == 0)
        return 0;
    err = kt_hmap_layout(m, (struct kt_rect){0, 0, MAP_W, height});
    tints = err ? NULL : calloc(m->n, sizeof(*tints));
    if (!tints)
        return err ? err : -ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        used[m->v[i].colour] |= m->v[i].drawn;
    fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n<p class=\"muted\">%s</p>\n", id, m->title,
            intro);
    legend(f, used);
    fprintf(f,
            "<div class=\"tm\" style=\"aspect-ratio:%.0f/%.0f\" role=\"group\" "
            "aria-label=\"%s treemap: the table below lists every box\">\n",
            MAP_W, height, m->title);
    boxes(f, m, MAP_W, height, tints, table);
    free(tints);
    if (!table) {
        fputs("</div>\n</section>\n", f);
        return 0;
    }
    fprintf(f,
            "</div>\n<details><summary>%s as a table (%zu rows)</summary>\n<table>\n"
            "<thead><tr><th>name</th><th>size</th><th>bytes</th><th>of parent</th>"
            "<th>of %s</th></tr></thead>\n<tbody>\n",
            m->title, m->n, m->v[0].name);
    table_rows(f, m, 0, NULL, strcmp(id, "cgroups") == 0);
    fputs("</tbody></table></details>\n</section>\n", f);
    return 0;
}

/* ---- the page ------------------------------------------------------------------------- */

/* Title, where the snapshot comes from, and the one-line summary. */
static void header(FILE *f, const struct kmem_snapshot *snap, const struct kt_html_info *info)
{
    const struct kmem_capture_meta *cm = info ? info->capture : NULL;
    const struct kmem_node *n = &snap->node;
    char host[256] = "", when[64] = "", kernel[256] = "", h[5][32];

    if (cm) {
        snprintf(host, sizeof(host), "%s", cm->hostname);
        snprintf(when, sizeof(when), "%s", cm->date);
        snprintf(kernel, sizeof(kernel), "%s", cm->kernel);
    } else if (!info || !info->root) {
        struct utsname u;
        time_t now = time(NULL);
        struct tm tm;

        if (gethostname(host, sizeof(host) - 1) != 0)
            host[0] = '\0';
        if (uname(&u) == 0)
            snprintf(kernel, sizeof(kernel), "%s", u.release);
        if (localtime_r(&now, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
          "<title>kmem: where the memory went",
          f);
    if (*host) {
        fputs(" on ", f);
        kt_html_esc_raw(f, host);
    }
    fputs("</title>\n", f);
    css(f);
    fputs("</head>\n<body>\n<header>\n<h1>Where the memory went", f);
    if (*host) {
        fputs(" on ", f);
        kt_html_esc_raw(f, host);
    }
    fputs("</h1>\n<p class=\"muted\">", f);
    if (info && info->sample)
        fputs("the treemaps show ", f), kt_html_esc_raw(f, info->sample);
    else if (cm)
        fputs("capture", f);
    else if (info && info->root)
        fputs("files under ", f), kt_html_esc_raw(f, info->root);
    else
        fputs("live", f);
    if (*kernel)
        fputs(", kernel ", f), kt_html_esc_raw(f, kernel);
    if (*when && !(info && info->sample))
        fputs(", ", f), kt_html_esc_raw(f, when);
    fprintf(f,
            "; kmemtop %s --html. Every box is sized by its bytes; hover (or focus, then "
            "arrow keys) for the exact figure; each treemap's table lists every box.</p>\n",
            KMEM_VERSION);
    if (kt_part_ok(snap, KMEM_PART_NODE)) {
        uint64_t mt = n->mi.v[KMEM_MI_MEMTOTAL];

        fprintf(f,
                "<p class=\"sum\">MemTotal <b>%s</b>: kernel <b>%s</b> (%.1f%%), of which no "
                "counter explains <b>%s</b>; free <b>%s</b>; user space <b>%s</b>.</p>\n",
                hum(h[0], 32, mt), hum(h[1], 32, n->kernel_total), kt_pct(n->kernel_total, mt),
                hum(h[2], 32, n->kind[KMEM_NODE_UNACCOUNTED]),
                hum(h[3], 32, kmem_add_sat(n->mi.v[KMEM_MI_MEMFREE], n->percpu_free_bytes)),
                hum(h[4], 32,
                    kmem_add_sat(kmem_add_sat(n->lru_bytes, n->isolated_bytes), n->hugetlb_bytes)));
    }
    for (int p = 0; p < KMEM_PART_COUNT; p++)
        if ((snap->flags & (1u << p)) && snap->status[p].err &&
            !(p == KMEM_PART_OWNERS && snap->status[p].err == -ENOENT)) /* said below */
        {
            fprintf(f, "<p class=\"muted\">%s not shown: ", kmem_part_name[p]);
            kt_html_esc_raw(f, snap->status[p].msg[0] ? snap->status[p].msg
                                                      : strerror(-snap->status[p].err));
            fputs("</p>\n", f);
        }
    fputs("</header>\n", f);
}

int kt_html(FILE *f, const struct kmem_snapshot *snap, const struct kt_html_info *info)
{
    struct kt_hmap mem = {0}, kern = {0}, cg = {0};
    const struct kmem_owners *own = info ? info->owners : NULL;
    int err, e;

    header(f, snap, info);
    if (info && info->series)
        kt_html_history(f, info->series, info->series_source ? info->series_source : "");
    err = kt_html_mem_tree(&mem, snap, false);
    if (!err)
        err = treemap(f, &mem, "memtotal",
                      "All of MemTotal: free, user space, and the kernel by kind; slab kinds "
                      "split into caches (/proc/slabinfo), vmalloc into callers "
                      "(/proc/vmallocinfo). The numbers are those of kmemtop --json.",
                      MEM_MAP_H, true);
    if (!err)
        err = kt_html_mem_tree(&kern, snap, true);
    if (!err)
        err = treemap(f, &kern, "kernel",
                      "The kernel part of MemTotal on its own, so that small kinds show; "
                      "its rows are in the MemTotal table.",
                      KERNEL_MAP_H, false);
    if (err == -ENODATA)
        err = 0;
    e = kt_html_cg_tree(&cg, snap, own);
    if (!err && e && e != -ENODATA)
        err = e;
    else if (!err && !e)
        err = treemap(f, &cg, "cgroups",
                      own && own->present
                          ? "Kernel memory charged to each cgroup (hierarchical): pods grouped "
                            "by QoS class and namespace; each leaf split into its kernel parts, "
                            "slab parts into caches from the owner snapshot."
                          : "Kernel memory charged to each cgroup (hierarchical): pods grouped "
                            "by QoS class and namespace; each leaf split into its kernel parts. "
                            "No owner snapshot in this input, so slab parts are not split into "
                            "caches.",
                      CG_MAP_H, true);
    fputs("<div id=\"tip\" role=\"tooltip\" hidden></div>\n", f);
    fputs(script, f);
    fputs("</body>\n</html>\n", f);
    kt_hmap_free(&mem);
    kt_hmap_free(&kern);
    kt_hmap_free(&cg);
    if (err)
        return err;
    if (fflush(f) != 0 || ferror(f))
        return -(errno ? errno : EIO);
    return 0;
}

int kt_html_run(struct kmem_ctx *ctx, const struct kt_opts *o)
{
    struct kmem_capture_meta meta;
    struct kt_html_info info = {.root = o->root};
    struct kt_hseries series = {0};
    char sample[4200];
    const struct kmem_snapshot *snap;
    size_t len = strlen(o->html) + 16;
    char *tmp = malloc(len);
    FILE *f = NULL;
    int fd, err;

    if (!tmp) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        return EXIT_FAILURE;
    }
    kmem_collect(ctx, KMEM_COLLECT_ALL); /* parts that fail are said in the page */
    snap = kmem_current(ctx);
    if ((o->capture && kmem_ctx_capture_written(ctx, &meta) == 0) ||
        kmem_ctx_capture_meta(ctx, &meta) == 0)
        info.capture = &meta;
    if (kt_part_ok(snap, KMEM_PART_OWNERS))
        info.owners = &snap->owners.o;
    if (o->replay) {
        /* The treemaps show the sample --replay opened (a capture written out for it). */
        char e[512];

        info.root = NULL;
        snprintf(sample, sizeof(sample), "%s at %s", o->replay,
                 o->at && *o->at ? o->at : "its newest sample");
        info.sample = sample;
        info.series = &series;
        info.series_source = o->replay;
        if (kt_html_series(o->replay, o->at, o->window, &series, e, sizeof(e))) {
            fprintf(stderr, "%s: %s\n", o->prog, e);
            kt_hseries_free(&series);
            free(tmp);
            return EXIT_FAILURE;
        }
        if (series.n) {
            /* The series ends at the sample shown: its own time (the capture's date is when
             * it was recorded, which a recording with a synthetic timeline does not share). */
            time_t t = (time_t)(series.t_ns[series.n - 1] / 1000000000u);
            struct tm tm;
            char w[64] = "";

            if (localtime_r(&t, &tm))
                strftime(w, sizeof(w), "%Y-%m-%d %H:%M:%S", &tm);
            snprintf(sample, sizeof(sample), "%s at %s (the sample of %s)", o->replay,
                     o->at && *o->at ? o->at : "its newest sample", w);
        }
    }
    snprintf(tmp, len, "%s.XXXXXX", o->html);
    fd = mkstemp(tmp);
    if (fd < 0 || fchmod(fd, 0644) != 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", o->prog, fd < 0 ? o->html : tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return EXIT_FAILURE;
    }
    err = kt_html(f, snap, &info);
    kt_hseries_free(&series);
    if (fclose(f) != 0 && !err)
        err = -(errno ? errno : EIO);
    if (!err && rename(tmp, o->html) != 0)
        err = -errno;
    if (err) {
        fprintf(stderr, "%s: %s: %s\n", o->prog, o->html, strerror(-err));
        unlink(tmp);
        free(tmp);
        return EXIT_FAILURE;
    }
    free(tmp);
    return EXIT_SUCCESS;
}
