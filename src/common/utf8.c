/* SPDX-License-Identifier: MIT */
#include "utf8.h"

size_t kmem_utf8_seq(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0; /* 0x80..0xC1 (continuation, overlong) and 0xF5..0xFF */
    if (left < n)
        return 0;
    /* Tighter bounds for the second byte: no overlongs, surrogates, > U+10FFFF. */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

bool kmem_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;

    while (len) {
        size_t n = kmem_utf8_seq(s, len);

        if (!n)
            return false;
        s += n;
        len -= n;
    }
    return true;
}
