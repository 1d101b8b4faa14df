/* SPDX-License-Identifier: MIT */
/* 64-bit arithmetic that saturates at UINT64_MAX instead of wrapping. */
#ifndef KMEM_SAT_H
#define KMEM_SAT_H

#include <stdint.h>

static inline uint64_t kmem_add_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t kmem_mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* a - b as a signed value, clamped to [-INT64_MAX, INT64_MAX]. */
static inline int64_t kmem_sub_signed(uint64_t a, uint64_t b)
{
    if (a >= b)
        return a - b > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(a - b);
    return b - a > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)(b - a);
}

#endif
