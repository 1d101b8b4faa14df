/* SPDX-License-Identifier: MIT */
/*
 * What every kmemtop renderer shares (screen views, -o, --report, --json):
 * human sizes and percentages, names made safe for a terminal, cgroup
 * display names, and the cgroup tree order. One copy of each, so that the
 * views cannot drift apart.
 */
#ifndef KMEMTOP_COMMON_H
#define KMEMTOP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kmem.h"
#include "utf8.h"

/* True when part @p of @snap was asked for and read without error. */
static inline bool kt_part_ok(const struct kmem_snapshot *snap, enum kmem_part p)
{
    return (snap->flags & (1u << p)) && !snap->status[p].err;
}

/* ---- numbers ---- */

/* 100 * part / whole, 0 when whole is 0. */
double kt_pct(uint64_t part, uint64_t whole);
/* "12.3M", "512K", "4.0G": human size with 1024 units, in @buf. */
const char *kt_human(char *buf, size_t len, double bytes);
/* "+12.3M" / "-4.0K" / "0": signed change. */
const char *kt_human_delta(char *buf, size_t len, double bytes);

/* ---- text ---- */

/* How kt_printable() writes what a terminal must not see. */
enum kt_esc {
    KT_ESC_QMARK, /* one '?' per byte: screens, where columns are counted */
    KT_ESC_HEX,   /* "\xNN": --report, where the bytes must stay recoverable */
};

/*
 * Copy @s into @out (always NUL-terminated; truncated at a character
 * boundary) neutralising everything that could drive a terminal: C0
 * controls, DEL, C1 controls (U+0080..U+009F, e.g. U+009B, a CSI; as raw
 * bytes or UTF-8 encoded) and every byte that is not valid UTF-8. Returns
 * the number of characters written (the columns they take, for the names
 * kmem shows).
 */
size_t kt_printable(char *out, size_t len, const char *s, enum kt_esc how);

/* kt_printable(KT_ESC_HEX) of @s to @f, of any length. */
void kt_put_printable(FILE *f, const char *s);

/* A filter: true when @needle ("" or NULL: anything) is in @hay, case ignored. */
bool kt_match(const char *hay, const char *needle);

/* Number of characters (code points) of valid UTF-8 @s: its width on screen. */
size_t kt_text_width(const char *s);
/* @s quoted for a POSIX shell into @out ('...', a ' as '\''), cut to fit @len; returns @out. */
const char *kt_shq(char *out, size_t len, const char *s);

/*
 * Keep the last @cols characters of @s behind "..." when it is wider
 * (paths differ at their end); @s itself when it fits. Result in @out.
 */
const char *kt_fit_tail(char *out, size_t len, const char *s, int cols);

/* ---- cgroups ---- */

/*
 * Display name of a cgroup, made printable: NAMESPACE/POD/CONTAINER when
 * the names are known (NAMESPACE/POD/<12-digit id> for a container without
 * a name, NAMESPACE/POD (conmon) for CRI-O's conmon), else "pod UID" and
 * the short container id, else the cgroup path.
 */
const char *kt_cg_name(char *buf, size_t len, const struct kmem_cgroup *cg, enum kt_esc how);

/*
 * The name of one node of the cgroup tree, made printable: the container's
 * name, the pod as NAMESPACE/POD (instead of its scope or slice id), else
 * the last component of the path ("/" for the root).
 */
const char *kt_cg_node_name(char *buf, size_t len, const struct kmem_cgroup *cg);

/* True when @anc is a proper ancestor of @path ("/" of every other path). */
bool kt_cg_is_ancestor(const char *anc, const char *path);

/*
 * Fill @idx with 0..n-1 in tree order: by path with '/' before every other
 * byte, so that the root comes first and every cgroup is followed by its
 * descendants (the same for a live tree and a copy of it, whatever order
 * readdir() gave). Ties keep snapshot order.
 */
void kt_cg_tree_order(const struct kmem_cgroup *v, size_t n, size_t *idx);

#endif
