/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* ---- numbers ------------------------------------------------------------ */

double kt_pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

const char *kt_human(char *buf, size_t len, double bytes)
{
    static const char unit[] = "BKMGTPE";
    int u = 0;

    /* Thresholds are where the printed value rounds up: 1048575 bytes is
     * "1.0M", not "1024K"; 10239 bytes is "10K", not "10.0K". */
    while (fabs(bytes) >= 1023.5 && u < 6) {
        bytes /= 1024;
        u++;
    }
    if (u == 0 || fabs(bytes) >= 9.95)
        snprintf(buf, len, "%.0f%c", bytes, unit[u]);
    else
        snprintf(buf, len, "%.1f%c", bytes, unit[u]);
    return buf;
}

const char *kt_human_delta(char *buf, size_t len, double bytes)
{
    char tmp[32];

    if (bytes == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    kt_human(tmp, sizeof(tmp), fabs(bytes));
    snprintf(buf, len, "%c%s", bytes < 0 ? '-' : '+', tmp);
    return buf;
}

/* ---- text --------------------------------------------------------------- */

/*
 * The next piece of @s: *n bytes that are either one safe character (copy
 * them) or, when the result is true, bytes to neutralise one by one.
 */
static bool next_unsafe(const unsigned char *s, size_t left, size_t *n)
{
    if (*s < 0x20 || *s == 0x7f) {
        *n = 1;
        return true;
    }
    *n = kmem_utf8_seq(s, left);
    if (*n == 0) {
        *n = 1; /* a stray byte, raw C1 controls among them */
        return true;
    }
    return kmem_utf8_is_c1(s, *n);
}

size_t kt_printable(char *out, size_t len, const char *str, enum kt_esc how)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t left = strlen((const char *)s), o = 0, chars = 0;

    if (len == 0)
        return 0;
    while (left) {
        size_t n;

        if (next_unsafe(s, left, &n)) {
            for (size_t i = 0; i < n; i++) {
                size_t need = how == KT_ESC_HEX ? 4 : 1;

                if (o + need >= len)
                    goto out;
                if (how == KT_ESC_HEX)
                    snprintf(out + o, len - o, "\\x%02x", s[i]);
                else
                    out[o] = '?';
                o += need;
                chars += need;
            }
        } else {
            if (o + n >= len)
                goto out;
            memcpy(out + o, s, n);
            o += n;
            chars++;
        }
        s += n;
        left -= n;
    }
out:
    out[o] = '\0';
    return chars;
}

void kt_put_printable(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t left = strlen((const char *)s);

    while (left) {
        size_t n;

        if (next_unsafe(s, left, &n))
            for (size_t i = 0; i < n; i++)
                fprintf(f, "\\x%02x", s[i]);
        else
            fwrite(s, 1, n, f);
        s += n;
        left -= n;
    }
}

bool kt_match(const char *hay, const char *needle)
{
    return !needle || !*needle || (hay && strcasestr(hay, needle));
}

size_t kt_text_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

const char *kt_fit_tail(char *out, size_t len, const char *s, int cols)
{
    size_t w = kt_text_width(s);
    const char *p = s;

    if (cols <= 3 || w <= (size_t)cols)
        return s;
    /* Skip the first w - (cols - 3) characters. */
    for (size_t skip = w - (size_t)(cols - 3); *p; p++)
        if (((unsigned char)*p & 0xC0) != 0x80) {
            if (skip == 0)
                break;
            skip--;
        }
    snprintf(out, len, "...%s", p);
    return out;
}

/* ---- cgroups ------------------------------------------------------------ */

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

const char *kt_cg_name(char *buf, size_t len, const struct kmem_cgroup *cg, enum kt_esc how)
{
    const char *ns = str_or_empty(cg->namespace_name), *cid = str_or_empty(cg->container_id);
    char raw[4096];

    if (cg->pod_name && *cg->pod_name) {
        if (cg->container_name && *cg->container_name)
            snprintf(raw, sizeof(raw), "%s/%s/%s", ns, cg->pod_name, cg->container_name);
        else if (*cid)
            snprintf(raw, sizeof(raw), "%s/%s/%.12s", ns, cg->pod_name, cid);
        else
            snprintf(raw, sizeof(raw), "%s/%s%s", ns, cg->pod_name,
                     cg->kube_conmon ? " (conmon)" : "");
    } else if (cg->pod_uid && *cg->pod_uid) {
        if (*cid)
            snprintf(raw, sizeof(raw), "pod %s/%.12s", cg->pod_uid, cid);
        else
            snprintf(raw, sizeof(raw), "pod %s%s", cg->pod_uid, cg->kube_conmon ? " (conmon)" : "");
    } else {
        snprintf(raw, sizeof(raw), "%s", cg->path ? cg->path : "?");
    }
    kt_printable(buf, len, raw, how);
    return buf;
}

const char *kt_cg_node_name(char *buf, size_t len, const struct kmem_cgroup *cg)
{
    const char *path = cg->path ? cg->path : "?", *last = strrchr(path, '/');
    const char *cid = str_or_empty(cg->container_id);
    char raw[4096];

    if (cg->container_name && *cg->container_name)
        snprintf(raw, sizeof(raw), "%s", cg->container_name);
    else if (*cid)
        snprintf(raw, sizeof(raw), "container %.12s", cid);
    else if (cg->pod_name && *cg->pod_name)
        snprintf(raw, sizeof(raw), "%s/%s%s", str_or_empty(cg->namespace_name), cg->pod_name,
                 cg->kube_conmon ? " (conmon)" : "");
    else if (cg->pod_uid && *cg->pod_uid)
        snprintf(raw, sizeof(raw), "pod %s%s", cg->pod_uid, cg->kube_conmon ? " (conmon)" : "");
    else
        snprintf(raw, sizeof(raw), "%s", last && last[1] ? last + 1 : path);
    kt_printable(buf, len, raw, KT_ESC_QMARK);
    return buf;
}

bool kt_cg_is_ancestor(const char *anc, const char *path)
{
    size_t l = strlen(anc);

    if (strcmp(anc, "/") == 0)
        return strcmp(path, "/") != 0;
    return strncmp(path, anc, l) == 0 && path[l] == '/';
}

static int tree_rank(unsigned char c)
{
    return c == '/' ? 1 : c ? c + 1 : 0;
}

static int cmp_tree(const void *pa, const void *pb, void *arg)
{
    const struct kmem_cgroup *v = arg;
    size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
    const unsigned char *a = (const unsigned char *)str_or_empty(v[ia].path);
    const unsigned char *b = (const unsigned char *)str_or_empty(v[ib].path);

    for (;; a++, b++) {
        int ra = tree_rank(*a), rb = tree_rank(*b);

        if (ra != rb)
            return ra - rb;
        if (!ra)
            break;
    }
    return ia < ib ? -1 : ia > ib;
}

void kt_cg_tree_order(const struct kmem_cgroup *v, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof(*idx), cmp_tree, (void *)v);
}

const char *kt_shq(char *out, size_t len, const char *s)
{
    size_t n = 0;

    if (len < 3)
        return "''";
    out[n++] = '\'';
    for (; *s && n + 6 < len; s++) {
        if (*s == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *s;
        }
    }
    out[n++] = '\'';
    out[n] = 0;
    return out;
}
