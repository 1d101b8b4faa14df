// SPDX-License-Identifier: MIT
/* libbpf's messages during a load: see bpflog.h. */
#ifdef KMEM_HAVE_BPF
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpflog.h"

/*
 * libbpf's last warning, for the message of a failed load. libbpf's print
 * callback is global and takes no user data: loads are serialised by
 * load_lock, which also guards this buffer, so two tracers opened at once
 * (threads) neither mix their messages nor reset each other's callback.
 */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static char libbpf_last[256];
/*
 * The verifier's reason, from libbpf's "prog 'X': -- BEGIN PROG LOAD LOG --
 * ... -- END PROG LOAD LOG --" message: the program and the last line of
 * the log before the instruction count (the error). Guarded by load_lock.
 */
static char libbpf_verifier[384];

static void keep_verifier_reason(const char *msg)
{
    const char *b = strstr(msg, "-- BEGIN PROG LOAD LOG --"), *e, *p, *q;
    const char *name = strstr(msg, "prog '");
    char prog[64] = "";

    if (!b)
        return;
    if (name && name < b) {
        name += 6;
        q = strchr(name, '\'');
        if (q && q - name < (long)sizeof(prog))
            snprintf(prog, sizeof(prog), "%.*s", (int)(q - name), name);
    }
    e = strstr(b, "-- END PROG LOAD LOG --");
    if (!e)
        e = b + strlen(b);
    /* The last line that is not the count of processed instructions. */
    for (p = e; p > b;) {
        const char *end = p;

        while (end > b && (end[-1] == '\n' || end[-1] == ' '))
            end--;
        q = end;
        while (q > b && q[-1] != '\n')
            q--;
        if (end > q && strncmp(q, "processed ", 10) != 0 && strncmp(q, "verification time", 17) &&
            strncmp(q, "stack depth", 11) && strncmp(q, "-- BEGIN", 8)) {
            snprintf(libbpf_verifier, sizeof(libbpf_verifier), "verifier, program %s: %.*s",
                     prog[0] ? prog : "?", (int)(end - q), q);
            return;
        }
        p = q;
        if (p > b)
            p--;
    }
}

__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level level,
                                                              const char *fmt, va_list ap)
{
    static char msg[16384];
    char line[256];
    size_t n;

    if (level == LIBBPF_DEBUG)
        return 0;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    keep_verifier_reason(msg);
    n = strnlen(msg, sizeof(line) - 1);
    memcpy(line, msg, n);
    line[n] = '\0';
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (n)
        memcpy(libbpf_last, line, n + 1);
    return 0;
}

void kmem_bpf_log_clear(void)
{
    libbpf_last[0] = '\0';
    libbpf_verifier[0] = '\0';
}

void kmem_bpf_log_begin(void)
{
    pthread_mutex_lock(&load_lock);
    kmem_bpf_log_clear();
    libbpf_set_print(libbpf_print);
}

void kmem_bpf_log_end(void)
{
    libbpf_set_print(NULL);
    pthread_mutex_unlock(&load_lock);
}

const char *kmem_bpf_log_last(void)
{
    return libbpf_verifier[0] ? libbpf_verifier : libbpf_last;
}

const char *kmem_bpf_log_verifier(void)
{
    return libbpf_verifier;
}
#endif
