/* SPDX-License-Identifier: MIT */
/* Small macros every part of kmem shares. */
#ifndef KMEM_MACROS_H
#define KMEM_MACROS_H

/* Number of elements of array @a; a pointer does not compile (gcc and clang). */
#define ARRAY_SIZE(a)                                                                              \
    (sizeof(a) / sizeof((a)[0]) +                                                                  \
     0 * sizeof(struct {                                                                           \
         int not_an_array_ : __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])) ? -1 \
                                                                                              : 1; \
     }))

/* A printf-like function: argument @fmt is the format, @args the first checked argument. */
#define KMEM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#endif
