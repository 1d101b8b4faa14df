// SPDX-License-Identifier: MIT
/*
 * The owner snapshot of the live kernel: the walker of ownwalk.h, either
 * opened once and kept (its BPF program stays loaded between walks) and run
 * on demand, or (isolated) opened, run and closed in a child process that
 * sends the rows back through a pipe, so that loading it (libbpf reads the
 * kernel's BTF, ~12 MiB for a moment) never grows the caller's memory.
 * Built without the walker (ownwalk.h absent), every walk says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "readers.h"

#if __has_include("ownwalk.h")
#include "ownwalk.h"
#include "timeutil.h"

static int walk(struct kmem_ownwalk *w, struct kmem_owners *o, char *err, size_t errlen)
{
    struct timespec c0, c1;
    int e;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    e = kmem_ownwalk_run(w, o, err, errlen);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    if (e)
        return e;
    if (!o->taken.tv_sec)
        clock_gettime(CLOCK_REALTIME, &o->taken);
    if (!(o->cpu_seconds > 0))
        o->cpu_seconds = kmem_ts_diff(&c0, &c1);
    return 0;
}

/* ---- isolated: a child process walks -------------------------------------- */

/* What the child sends: this header, then per row the row header and the cache name. */
struct iso_hdr {
    int err;
    char msg[480];
    struct timespec taken;
    double cpu_seconds;
    uint64_t pages, slabs;
    uint64_t nrows;
};

struct iso_row {
    uint64_t cgroup_id, objects, bytes;
    uint32_t cache_len;
};

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;

    while (len) {
        ssize_t n = write(fd, c, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The child: open, walk, send, exit. Never returns. */
static void child(int fd)
{
    struct iso_hdr h = {0};
    struct kmem_ownwalk *w = NULL;
    struct kmem_owners o;
    struct kmem_buf b = {0};

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    kmem_owners_init(&o);
    h.err = kmem_ownwalk_open(&w, h.msg, sizeof(h.msg));
    if (!h.err)
        h.err = walk(w, &o, h.msg, sizeof(h.msg));
    if (!h.err && kmem_owners_finish(&o, NULL, NULL)) {
        h.err = -ENOMEM;
        snprintf(h.msg, sizeof(h.msg), "out of memory");
    }
    if (!h.err) {
        h.taken = o.taken;
        h.cpu_seconds = o.cpu_seconds;
        h.pages = o.pages;
        h.slabs = o.slabs;
        h.nrows = o.nrows;
        /* The rows into one buffer first: one pipe write stream, no partial rows. */
        for (size_t i = 0; i < o.nrows; i++) {
            const struct kmem_owner_row *r = &o.rows[i];
            struct iso_row ir = {r->cgroup_id, r->objects, r->bytes, (uint32_t)strlen(r->cache)};

            if (kmem_buf_add(&b, &ir, sizeof(ir)) || kmem_buf_add(&b, r->cache, ir.cache_len)) {
                h.err = -ENOMEM;
                snprintf(h.msg, sizeof(h.msg), "out of memory");
                h.nrows = 0;
                b.len = 0;
                break;
            }
        }
    }
    if (write_all(fd, &h, sizeof(h)) == 0 && b.len)
        write_all(fd, b.data, b.len);
    _exit(0);
}

static int read_all(int fd, void *p, size_t len)
{
    char *c = p;

    while (len) {
        ssize_t n = read(fd, c, len);

        if (n < 0 && errno == EINTR)
            continue; /* a signal for the caller (its stop flag): the walk finishes first */
        if (n <= 0)
            return -1;
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

int kmem_owners_live_isolated(struct kmem_owners *o, char *err, size_t errlen)
{
    struct iso_hdr h;
    char cache[4096];
    int p[2], status, e = 0;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "owner snapshot: cannot make a pipe: %s", strerror(errno));
        return -errno;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        e = -errno;
        close(p[0]);
        close(p[1]);
        snprintf(err, errlen, "owner snapshot: cannot start the walker process: %s", strerror(-e));
        return e;
    }
    if (pid == 0) {
        close(p[0]);
        child(p[1]);
    }
    close(p[1]);
    if (read_all(p[0], &h, sizeof(h))) {
        e = -EIO;
        snprintf(err, errlen, "owner snapshot: the walker process ended without an answer");
    } else if (h.err) {
        e = h.err < 0 ? h.err : -EIO;
        h.msg[sizeof(h.msg) - 1] = '\0';
        snprintf(err, errlen, "%s", h.msg);
    }
    for (uint64_t i = 0; !e && i < h.nrows; i++) {
        struct iso_row r;

        if (read_all(p[0], &r, sizeof(r)) || r.cache_len >= sizeof(cache) ||
            read_all(p[0], cache, r.cache_len)) {
            e = -EIO;
            snprintf(err, errlen, "owner snapshot: the walker process's answer is cut short");
            break;
        }
        cache[r.cache_len] = '\0';
        if (kmem_owners_add(o, r.cgroup_id, cache, r.objects, r.bytes)) {
            e = -ENOMEM;
            snprintf(err, errlen, "out of memory");
        }
    }
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (e) {
        kmem_owners_free(o);
        return e;
    }
    o->taken = h.taken;
    o->cpu_seconds = h.cpu_seconds;
    o->pages = h.pages;
    o->slabs = h.slabs;
    o->present = true;
    return 0;
}

/* ---- in this process -------------------------------------------------------- */

int kmem_owners_live(void **state, struct kmem_owners *o, char *err, size_t errlen)
{
    struct kmem_ownwalk *w = *state;
    int e;

    if (!w) {
        e = kmem_ownwalk_open(&w, err, errlen);
        if (e)
            return e;
        *state = w;
    }
    e = walk(w, o, err, errlen);
    if (e)
        return e;
    o->present = true;
    return 0;
}

void kmem_owners_live_close(void *state)
{
    if (state)
        kmem_ownwalk_close(state);
}

#else

int kmem_owners_live(void **state, struct kmem_owners *o, char *err, size_t errlen)
{
    (void)state;
    (void)o;
    snprintf(err, errlen, "owner snapshot: this kmem was built without the owner walker");
    return -ENOSYS;
}

int kmem_owners_live_isolated(struct kmem_owners *o, char *err, size_t errlen)
{
    return kmem_owners_live(NULL, o, err, errlen);
}

void kmem_owners_live_close(void *state)
{
    (void)state;
}

#endif
