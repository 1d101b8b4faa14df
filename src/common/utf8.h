/* SPDX-License-Identifier: MIT */
/*
 * The one UTF-8 validator of kmem (RFC 3629): every writer that escapes or
 * replaces bytes (kmemtop's screens, --report and --json, the exporter's
 * exposition and JSON log) asks it, so that they agree on what is valid.
 * Rejected: continuation bytes as leads, 0xC0/0xC1 and other overlongs,
 * surrogates (U+D800..U+DFFF), leads 0xF5..0xFF (above U+10FFFF), and
 * truncated sequences.
 */
#ifndef KMEM_UTF8_H
#define KMEM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at @s (1..4; @left >= 1 bytes remain), or 0 if invalid. */
size_t kmem_utf8_seq(const unsigned char *s, size_t left);

/* True for a C1 control (U+0080..U+009F) encoded as UTF-8 in the @n bytes at @s. */
static inline bool kmem_utf8_is_c1(const unsigned char *s, size_t n)
{
    return n == 2 && s[0] == 0xC2 && s[1] <= 0x9F;
}

/* True when all @len bytes at @s are valid UTF-8. */
bool kmem_utf8_valid(const char *s, size_t len);

#endif
