/* SPDX-License-Identifier: MIT */
/*
 * The metadata of a capture: KMEM_CAPTURE_META at its root, "key: value"
 * lines saying when, where and how it was taken, so that a report read back
 * with --root says which machine it describes. Not a kernel file: written
 * by kmem itself, read from the root only, never captured again.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capmeta.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "0.0.0"
#endif

/* The file's keys, bound once to the fields of struct kmem_capture_meta. */
enum meta_key { M_DATE, M_HOSTNAME, M_KERNEL, M_KMEM, M_COMMAND, M_COUNT };
static const char *const meta_name[M_COUNT] = {
    [M_DATE] = "date", [M_HOSTNAME] = "hostname", [M_KERNEL] = "kernel",
    [M_KMEM] = "kmem", [M_COMMAND] = "command",
};
static_assert(sizeof(meta_name) / sizeof(meta_name[0]) == M_COUNT, "meta_name table");

static char *meta_field(struct kmem_capture_meta *m, enum meta_key k, size_t *len)
{
    switch (k) {
    case M_DATE:
        *len = sizeof(m->date);
        return m->date;
    case M_HOSTNAME:
        *len = sizeof(m->hostname);
        return m->hostname;
    case M_KERNEL:
        *len = sizeof(m->kernel);
        return m->kernel;
    case M_KMEM:
        *len = sizeof(m->version);
        return m->version;
    case M_COMMAND:
    default:
        *len = sizeof(m->command);
        return m->command;
    }
}

/* One line of a kernel file under proc (hostname, osrelease), or "unknown". */
static void proc_line(struct kmem_io *io, const char *rel, char *out, size_t len)
{
    struct kmem_buf b = {0};

    snprintf(out, len, "unknown");
    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), rel, &b) == 0 && b.len > 0)
        snprintf(out, len, "%.*s", (int)strcspn(b.data, "\n"), b.data);
    free(b.data);
}

/* @s on one line: every control byte becomes a space. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

void kmem_capmeta_write(struct kmem_io *io, const char *command)
{
    struct kmem_capture_meta m = {0};
    time_t now = time(NULL);
    struct tm tm;
    char text[sizeof(m) + 256];
    int n = 0;

    if (!kmem_capturing(io))
        return;
    if (localtime_r(&now, &tm))
        strftime(m.date, sizeof(m.date), "%Y-%m-%dT%H:%M:%S%z", &tm);
    proc_line(io, "sys/kernel/hostname", m.hostname, sizeof(m.hostname));
    proc_line(io, "sys/kernel/osrelease", m.kernel, sizeof(m.kernel));
    snprintf(m.version, sizeof(m.version), "%s", KMEM_VERSION);
    snprintf(m.command, sizeof(m.command), "%s", command ? command : "");
    n = snprintf(text, sizeof(text), "# kmem capture: read it back with kmemtop --root DIR\n");
    for (int k = 0; k < M_COUNT; k++) {
        size_t len;
        char *v = meta_field(&m, (enum meta_key)k, &len);

        one_line(v);
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s: %s\n", meta_name[k], v);
    }
    kmem_capture_put(io, KMEM_CAPTURE_META, text, (size_t)n);
}

int kmem_capmeta_read(struct kmem_io *io, struct kmem_capture_meta *m)
{
    struct kmem_buf b = {0};
    const char *p;
    int err;

    memset(m, 0, sizeof(*m));
    /* Read directly, not through kmem_read_at: it is no kernel file to capture. */
    err = kmem_buf_read_file(&b, kmem_io_dir(io, KMEM_DIR_ROOT), KMEM_CAPTURE_META, 64 << 10);
    if (err) {
        free(b.data);
        return err;
    }
    for (p = b.data; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t ll = e ? (size_t)(e - p) : strlen(p);

        for (int k = 0; k < M_COUNT; k++) {
            size_t kl = strlen(meta_name[k]), len;
            char *v;

            if (ll < kl + 1 || memcmp(p, meta_name[k], kl) != 0 || p[kl] != ':')
                continue;
            v = meta_field(m, (enum meta_key)k, &len);
            snprintf(v, len, "%.*s", (int)(ll - kl - 1 - (p[kl + 1] == ' ')),
                     p + kl + 1 + (p[kl + 1] == ' '));
            one_line(v);
        }
        p = e ? e + 1 : NULL;
    }
    free(b.data);
    return 0;
}
