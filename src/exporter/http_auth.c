// SPDX-License-Identifier: MIT
/* HTTP server: password checks off the server threads, one at a time, with
 * addresses whose last check failed waiting behind the others. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include <microhttpd.h>

#include "http_int.h"

/* ---- password checks off the server threads ---- */

static bool same_address(const struct conn *a, const struct conn *b)
{
    if (a->addr.ss_family != b->addr.ss_family)
        return false;
    if (a->addr.ss_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)&a->addr)->sin_addr,
                       &((const struct sockaddr_in *)&b->addr)->sin_addr, sizeof(struct in_addr));
    if (a->addr.ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)&a->addr)->sin6_addr,
                       &((const struct sockaddr_in6 *)&b->addr)->sin6_addr,
                       sizeof(struct in6_addr));
    return false;
}

/* With h->lock held. */
static int find_failed(const struct kx_http *h, const struct conn *c)
{
    for (int i = 0; i < (int)(sizeof(h->failed) / sizeof(h->failed[0])); i++)
        if (same_address(&h->failed[i], c))
            return i;
    return -1;
}

static void note_result(struct kx_http *h, const struct conn *c, bool ok)
{
    int i = find_failed(h, c);
    if (ok && i >= 0) {
        memset(&h->failed[i], 0, sizeof(h->failed[i]));
    } else if (!ok && i < 0) {
        struct conn *f = &h->failed[h->nfailed_next++ % (sizeof(h->failed) / sizeof(h->failed[0]))];
        memset(f, 0, sizeof(*f));
        f->addr = c->addr;
        f->addrlen = c->addrlen;
    }
}

/* The next job to verify: the first suspended one from an address without a
 * recent failure, else the first suspended one; or nqueue. */
static unsigned next_job(const struct kx_http *h)
{
    unsigned any = h->nqueue;
    for (unsigned i = 0; i < h->nqueue; i++) {
        if (!h->queue[i].suspended)
            continue;
        if (find_failed(h, h->queue[i].c) < 0)
            return i;
        if (any == h->nqueue)
            any = i;
    }
    return any;
}

void *kx_http_verifier_main(void *arg)
{
    struct kx_http *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        /* Only jobs whose connection is suspended (an instant after they are
         * queued); when stopping, every job is answered "no" at once. */
        unsigned i = next_job(h);
        if (i == h->nqueue) {
            if (h->stopping && h->nqueue == 0)
                break;
            pthread_cond_wait(&h->wake_verifier, &h->lock);
            continue;
        }
        h->running = h->queue[i];
        memmove(&h->queue[i], &h->queue[i + 1], (h->nqueue - i - 1) * sizeof(h->queue[0]));
        h->nqueue--;
        explicit_bzero(&h->queue[h->nqueue], sizeof(h->queue[0]));
        bool stopping = h->stopping;
        pthread_mutex_unlock(&h->lock);
        bool ok = !stopping && kx_auth_verify(h->o.auth, &h->running.job);
        explicit_bzero(&h->running.job, sizeof(h->running.job));
        pthread_mutex_lock(&h->lock);
        struct conn *c = h->running.c;
        struct MHD_Connection *mc = h->running.mc;
        h->running.c = NULL;
        c->auth_ok = ok;
        c->auth = AUTH_DONE;
        if (!stopping)
            note_result(h, c, ok);
        pthread_mutex_unlock(&h->lock);
        MHD_resume_connection(mc);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* With h->lock held and the queue full: make room for @c, an address
 * without a recent failure, by taking the newest suspended job of an address
 * whose last check failed out of the queue (it is answered 429). Returns
 * that job's connection to resume once the lock is released, or NULL when
 * every queued job is from an address without failures (then @c waits its
 * turn: 429). So addresses sending wrong passwords can never keep a fresh
 * login out, however many they are. */
static struct MHD_Connection *evict_failed(struct kx_http *h, const struct conn *c)
{
    if (find_failed(h, c) >= 0)
        return NULL;
    for (unsigned i = h->nqueue; i-- > 0;) {
        struct auth_job *q = &h->queue[i];
        if (!q->suspended || find_failed(h, q->c) < 0)
            continue;
        struct MHD_Connection *mc = q->mc;
        q->c->auth = AUTH_DONE;
        q->c->auth_ok = false;
        q->c->auth_evicted = true;
        explicit_bzero(&q->job, sizeof(q->job));
        memmove(&h->queue[i], &h->queue[i + 1], (h->nqueue - i - 1) * sizeof(h->queue[0]));
        h->nqueue--;
        explicit_bzero(&h->queue[h->nqueue], sizeof(h->queue[0]));
        h->auth_refused++;
        return mc;
    }
    return NULL;
}

/* Queue the slow half of a check and suspend the connection: 0, or -EBUSY
 * when the queue is full (of addresses without failures, or @c has failed
 * recently) or this address already has a check waiting. */
static int queue_check(struct kx_http *h, struct conn *c, struct MHD_Connection *mc,
                       const struct kx_auth_job *job)
{
    struct MHD_Connection *evicted = NULL;
    pthread_mutex_lock(&h->lock);
    bool busy = h->stopping || (h->running.c && same_address(h->running.c, c));
    for (unsigned i = 0; i < h->nqueue && !busy; i++)
        busy = same_address(h->queue[i].c, c);
    if (!busy && h->nqueue == KX_HTTP_AUTH_QUEUE) {
        evicted = evict_failed(h, c);
        busy = !evicted;
    }
    if (busy) {
        h->auth_refused++;
        pthread_mutex_unlock(&h->lock);
        return -EBUSY;
    }
    struct auth_job *q = &h->queue[h->nqueue++];
    q->c = c;
    q->mc = mc;
    q->suspended = false;
    q->job = *job;
    c->auth = AUTH_PENDING;
    pthread_mutex_unlock(&h->lock);

    /* Resuming a connection that is not suspended yet is undefined: the
     * verifier takes the job only once this is done. */
    MHD_suspend_connection(mc);
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < h->nqueue; i++)
        if (h->queue[i].c == c)
            h->queue[i].suspended = true;
    pthread_cond_signal(&h->wake_verifier);
    pthread_mutex_unlock(&h->lock);
    if (evicted)
        MHD_resume_connection(evicted);
    return 0;
}

enum auth_outcome kx_http_check_auth(struct kx_http *h, struct conn *c, struct MHD_Connection *mc)
{
    if (!kx_auth_enabled(h->o.auth))
        return AUTH_OUT_OK;
    if (c && c->auth == AUTH_DONE) { /* resumed after the verifier, or evicted */
        c->auth = AUTH_NONE;
        if (c->auth_evicted) {
            c->auth_evicted = false;
            return AUTH_OUT_BUSY;
        }
        return c->auth_ok ? AUTH_OUT_OK : AUTH_OUT_DENIED;
    }
    char *pass = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    char *user = MHD_basic_auth_get_username_password(mc, &pass);
#pragma GCC diagnostic pop
    struct kx_auth_job job;
    enum kx_auth_verdict v = kx_auth_begin(h->o.auth, user, pass, &job);
    if (pass) {
        explicit_bzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    enum auth_outcome out = v == KX_AUTH_PASS ? AUTH_OUT_OK : AUTH_OUT_DENIED;
    if (v == KX_AUTH_VERIFY) {
        if (!c) /* no socket context (out of memory): check here */
            out = kx_auth_verify(h->o.auth, &job) ? AUTH_OUT_OK : AUTH_OUT_DENIED;
        else
            out = queue_check(h, c, mc, &job) == 0 ? AUTH_OUT_SUSPENDED : AUTH_OUT_BUSY;
    }
    explicit_bzero(&job, sizeof(job));
    return out;
}
