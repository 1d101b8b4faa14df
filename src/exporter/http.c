// SPDX-License-Identifier: MIT
/* HTTP server on libmicrohttpd: routes, limits, TLS, basic auth, gzip. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "htmlesc.h"
#include "http_int.h"
#include "log.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* ---- listening socket ---- */

int kx_http_listen(const char *address, char *err, size_t errlen)
{
    char host[256], port[32];
    const char *colon;

    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':' || (size_t)(close - address - 1) >= sizeof(host))
            goto out_syntax;
        memcpy(host, address + 1, (size_t)(close - address - 1));
        host[close - address - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon || (size_t)(colon - address) >= sizeof(host))
            goto out_syntax;
        memcpy(host, address, (size_t)(colon - address));
        host[colon - address] = '\0';
    }
    if (!colon[1] || strlen(colon + 1) >= sizeof(port))
        goto out_syntax;
    snprintf(port, sizeof(port), "%s", colon + 1);

    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gr) {
        snprintf(err, errlen, "--web.listen-address %s: %s", address, gai_strerror(gr));
        return -EINVAL;
    }
    int fd = -1, e = EADDRNOTAVAIL;
    /* With no host, prefer one IPv6 socket that also takes IPv4 (dual stack). */
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            bool v6 = ai->ai_family == AF_INET6;
            if (!host[0] && (pass == 0) != v6)
                continue;
            if (host[0] && pass == 1)
                break;
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);
            if (fd < 0) {
                e = errno;
                continue;
            }
            int one = 1, zero = 0;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (v6 && !host[0])
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1024)) {
                e = errno;
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "--web.listen-address %s: cannot listen: %s", address, strerror(e));
        return -e;
    }
    return fd;

out_syntax:
    snprintf(err, errlen, "--web.listen-address '%s': expected HOST:PORT, [IPV6]:PORT or :PORT",
             address);
    return -EINVAL;
}

int kx_http_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len))
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}

/* ---- requests ---- */

static bool q_positive(const char *params, size_t len)
{
    /* ";q=0", ";q=0.0", ... reject; anything else accepts. */
    const char *q = NULL;
    for (size_t i = 0; i + 1 < len; i++) {
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
            q = params + i + 2;
            len -= i + 2;
            break;
        }
    }
    if (!q)
        return true;
    size_t i = 0;
    while (i < len && (q[i] == ' ' || q[i] == '\t'))
        i++;
    for (; i < len && q[i] != ';'; i++)
        if (q[i] != '0' && q[i] != '.' && q[i] != ' ')
            return true;
    return false;
}

bool kx_accepts_gzip(const char *ae)
{
    int gzip = -1, star = -1;
    if (!ae)
        return false;
    while (*ae) {
        while (*ae == ' ' || *ae == '\t' || *ae == ',')
            ae++;
        const char *tok = ae;
        while (*ae && *ae != ',' && *ae != ';' && *ae != ' ' && *ae != '\t')
            ae++;
        size_t tlen = (size_t)(ae - tok);
        const char *params = ae;
        while (*ae && *ae != ',')
            ae++;
        bool pos = q_positive(params, (size_t)(ae - params));
        if ((tlen == 4 && !strncasecmp(tok, "gzip", 4)) ||
            (tlen == 6 && !strncasecmp(tok, "x-gzip", 6)))
            gzip = pos;
        else if (tlen == 1 && tok[0] == '*')
            star = pos;
    }
    return gzip >= 0 ? gzip == 1 : star == 1;
}

static void add_headers(const struct kx_http *h, struct MHD_Response *r)
{
    if (!h->o.web)
        return;
    for (size_t i = 0; i < h->o.web->nheaders; i++)
        MHD_add_response_header(r, h->o.web->headers[i].name, h->o.web->headers[i].value);
}

/* Answer @text as @type with @status, and header @hname: @hvalue where @hname is not NULL. */
static enum MHD_Result reply_hdr(struct kx_http *h, struct MHD_Connection *conn, unsigned status,
                                 const char *type, const char *text, const char *hname,
                                 const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    add_headers(h, r);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply(struct kx_http *h, struct MHD_Connection *conn, unsigned status,
                             const char *type, const char *text)
{
    return reply_hdr(h, conn, status, type, text, NULL, NULL);
}

static void body_release(void *cls)
{
    struct kx_body *b = cls;
    if (b->release)
        b->release(b->ref);
    free(b);
}

/* Answer a scrape with @b (taken), or a 500 with @r and @err. */
static enum MHD_Result answer_metrics(struct kx_http *h, struct MHD_Connection *conn, int r,
                                      struct kx_body *b, const char *err)
{
    if (r) {
        free(b);
        char msg[600];
        snprintf(msg, sizeof(msg), "An error has occurred while serving metrics:\n\n%s\n",
                 err && err[0] ? err : strerror(-r));
        return reply(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", msg);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
        b->len, (void *)b->data, body_release, b);
    if (!resp) {
        body_release(b);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_METRICS);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (b->gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    add_headers(h, resp);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A scrape: collected on the scraper thread, the connection suspended
 * meanwhile (answered when resumed); here only without a socket context. */
static enum MHD_Result serve_metrics(struct kx_http *h, struct MHD_Connection *conn, struct conn *c)
{
    const char *ae =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    bool gzip = kx_accepts_gzip(ae);
    if (c && kx_http_queue_scrape(h, c, conn, gzip) == 0)
        return MHD_YES;
    struct kx_body *b = calloc(1, sizeof(*b));
    char err[512] = "";
    if (!b)
        return MHD_NO;
    int r = h->o.metrics(h->o.metrics_cls, gzip, b, err, sizeof(err));
    return answer_metrics(h, conn, r, b, err);
}

/* The client certificate policy of client_auth_type, checked per request:
 * GnuTLS only requests a certificate when MHD has a trust list. */
static const char *client_cert_problem(struct kx_http *h, struct MHD_Connection *conn)
{
    enum kx_client_auth a = h->o.web ? h->o.web->client_auth : KX_NO_CLIENT_CERT;
    if (a == KX_NO_CLIENT_CERT || a == KX_REQUEST_CLIENT_CERT)
        return NULL;
    if (!h->get_peers || !h->verify_peers)
        return "client certificates cannot be checked (GnuTLS functions not found)";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return "no TLS session";
    unsigned n = 0;
    const void *peers = h->get_peers(ci->tls_session, &n);
    bool given = peers && n > 0;
    if (!given)
        return a == KX_VERIFY_CLIENT_CERT_IF_GIVEN ? NULL : "a client certificate is required";
    if (a == KX_REQUIRE_ANY_CLIENT_CERT)
        return NULL;
    unsigned status = 0;
    if (h->verify_peers(ci->tls_session, &status) < 0 || status != 0)
        return "the client certificate is not signed by the configured client CA";
    return NULL;
}

/* ---- the request deadline ---- */

static void add_ms(struct timespec *t, unsigned ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000;
    if (t->tv_nsec >= 1000000000) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000;
    }
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* With h->lock held. */
static void unlink_reading(struct kx_http *h, struct conn *c)
{
    if (!c->reading)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        h->tail = c->prev;
    c->prev = c->next = NULL;
    c->reading = false;
}

/* With h->lock held: append @c to the reading list. */
static void append_reading(struct kx_http *h, struct conn *c)
{
    c->prev = h->tail;
    c->next = NULL;
    if (h->tail)
        h->tail->next = c;
    else
        h->head = c;
    h->tail = c;
    c->reading = true;
}

/* A request starts being read now: its deadline is now + header_timeout_ms.
 * Every deadline is the same span from a later time, so appending keeps the
 * list in deadline order (but for the few the watchdog put back: their
 * deadline is near, and they are looked at once those before them are). */
static void start_reading(struct kx_http *h, struct conn *c)
{
    pthread_mutex_lock(&h->lock);
    unlink_reading(h, c);
    clock_gettime(CLOCK_MONOTONIC, &c->since);
    c->deadline = c->since;
    add_ms(&c->deadline, h->o.header_timeout_ms);
    c->last_chance = c->deadline;
    add_ms(&c->last_chance, h->o.header_timeout_ms);
    append_reading(h, c);
    if (h->head == c)
        pthread_cond_signal(&h->wake_watchdog);
    pthread_mutex_unlock(&h->lock);
}

static void done_reading(struct kx_http *h, struct conn *c)
{
    pthread_mutex_lock(&h->lock);
    unlink_reading(h, c);
    pthread_mutex_unlock(&h->lock);
}

/* Bytes that the client sent and the server has not read yet: a request
 * that is slow only because the server is (a starved machine) has some. */
static bool unread(const struct conn *c)
{
    int n = 0;
    return c->fd >= 0 && ioctl(c->fd, FIONREAD, &n) == 0 && n > 0;
}

/* With h->lock held: the oldest connection that has been reading a request
 * for KX_HTTP_SLOW_MS (@now) although the server has read all it sent, or
 * NULL; *@next is when to look again when none is. */
static struct conn *slow_reader(struct kx_http *h, const struct timespec *now,
                                struct timespec *next)
{
    for (struct conn *c = h->head; c; c = c->next) {
        struct timespec slow = c->since;
        add_ms(&slow, KX_HTTP_SLOW_MS);
        if (before(now, &slow)) { /* the list is in order of since */
            *next = slow;
            return NULL;
        }
        if (!unread(c))
            return c;
    }
    /* Every old one has bytes waiting: look again once the server read them. */
    *next = *now;
    add_ms(next, KX_HTTP_STARVED_POLL_MS);
    return NULL;
}

/*
 * Shut down the socket of each connection past its deadline. MHD then reads
 * end-of-file and closes it. The fd is still open here: MHD calls
 * on_connection(CLOSED), which takes h->lock, before it closes the socket.
 *
 * Over the connection limit (MHD accepts KX_HTTP_LIMIT_SLACK more), the
 * oldest connection still reading a request is shut down too once it has
 * been reading for KX_HTTP_SLOW_MS, so that slow clients from many
 * addresses never keep a scrape out until their deadlines (issue 24); a
 * burst of clients that send their requests at once is not cut. Neither is
 * a connection whose bytes wait unread in its socket: then the server is
 * the slow one (a starved machine, issue 21), not the client; its deadline
 * waits for the server too, up to twice the request timeout.
 */
static void *watchdog_main(void *arg)
{
    struct kx_http *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        struct conn *c = h->head;
        if (!c) {
            pthread_cond_wait(&h->wake_watchdog, &h->lock);
            continue;
        }
        struct timespec now, until = c->deadline;
        clock_gettime(CLOCK_MONOTONIC, &now);
        bool evict = false;
        if (!before(&now, &c->deadline) && before(&now, &c->last_chance) && unread(c)) {
            /* The server has not read what came in time: look again soon,
             * after those behind it. */
            unlink_reading(h, c);
            c->deadline = now;
            add_ms(&c->deadline, KX_HTTP_STARVED_POLL_MS);
            if (before(&c->last_chance, &c->deadline))
                c->deadline = c->last_chance;
            append_reading(h, c);
            continue;
        }
        if (before(&now, &c->deadline) && h->nconns - h->evicting > h->o.conn_limit) {
            struct timespec next;
            struct conn *x = slow_reader(h, &now, &next);
            if (x) {
                c = x;
                evict = true;
            } else if (before(&next, &until)) {
                until = next;
            }
        }
        if (!evict && before(&now, &c->deadline)) {
            pthread_cond_timedwait(&h->wake_watchdog, &h->lock, &until);
            continue;
        }
        unlink_reading(h, c);
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR);
        if (evict) {
            c->evicted = true;
            h->evicting++;
            h->dropped++;
        } else {
            h->expired++;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct kx_http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *c = calloc(1, sizeof(*c));
        if (!c)
            return; /* no deadline for this one: the idle timeout still holds */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            c->addrlen = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                : sizeof(struct sockaddr_in);
            memcpy(&c->addr, ci->client_addr, c->addrlen);
        }
        *socket_context = c;
        start_reading(h, c);
        pthread_mutex_lock(&h->lock);
        h->nconns++;
        if (h->nconns - h->evicting > h->o.conn_limit)
            pthread_cond_signal(&h->wake_watchdog);
        pthread_mutex_unlock(&h->lock);
        return;
    }
    struct conn *c = *socket_context;
    if (!c)
        return;
    done_reading(h, c);
    pthread_mutex_lock(&h->lock);
    h->nconns--;
    if (c->evicted)
        h->evicting--;
    pthread_mutex_unlock(&h->lock);
    kx_http_scrape_reset(c);
    free(c);
    *socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* A response was sent (or the request dropped): the next request's deadline
 * counts from now. */
static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct kx_http *h = cls;
    (void)req_cls;
    (void)toe;
    struct conn *c = conn_of(mc);
    if (!c)
        return;
    c->auth = AUTH_NONE;
    kx_http_scrape_reset(c);
    start_reading(h, c);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct kx_http *h = cls;
    (void)version;
    (void)upload_data;
    static int marker;

    /* First call: headers only. Answer once the (discarded) body is read,
     * so that the connection can be kept alive. */
    if (*req_cls == NULL) {
        *req_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct conn *c = conn_of(conn);
    if (c)
        done_reading(h, c);              /* the whole request is in: its deadline is met */
    if (c && c->scrape == SCRAPE_DONE) { /* resumed by the scraper */
        struct kx_body *b = c->scrape_body;
        c->scrape_body = NULL;
        enum MHD_Result ret = answer_metrics(h, conn, c->scrape_r, b, c->scrape_err);
        kx_http_scrape_reset(c);
        return ret;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return reply_hdr(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                         "Method Not Allowed\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    /* Probes (a kubelet has neither the password nor a client certificate):
     * they tell only that the process is up, which the open port tells too. */
    if (!strcmp(url, KX_HTTP_HEALTHY_PATH))
        return reply(h, conn, MHD_HTTP_OK, "text/plain; charset=utf-8",
                     "kmem_exporter is Healthy.\n");
    if (!strcmp(url, KX_HTTP_READY_PATH)) {
        if (!h->o.ready || h->o.ready(h->o.metrics_cls))
            return reply(h, conn, MHD_HTTP_OK, "text/plain; charset=utf-8",
                         "kmem_exporter is Ready.\n");
        return reply(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                     "kmem_exporter is Not Ready: no collection yet.\n");
    }
    if (h->o.web && h->o.web->tls) {
        const char *why = client_cert_problem(h, conn);
        if (why) {
            char msg[200];
            snprintf(msg, sizeof(msg), "Forbidden: %s\n", why);
            return reply(h, conn, MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8", msg);
        }
    }
    enum auth_outcome auth = kx_http_check_auth(h, c, conn);
    if (auth == AUTH_OUT_SUSPENDED)
        return MHD_YES; /* called again when the verifier resumes it */
    if (auth == AUTH_OUT_BUSY)
        return reply_hdr(h, conn, MHD_HTTP_TOO_MANY_REQUESTS, "text/plain; charset=utf-8",
                         "Too many password checks in progress; try again\n",
                         MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (auth == AUTH_OUT_DENIED) {
        static const char text[] = "Unauthorized\n";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        add_headers(h, r);
        enum MHD_Result ret = MHD_queue_basic_auth_fail_response(conn, "kmem_exporter", r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, h->path))
        return serve_metrics(h, conn, c);
    if (!strcmp(url, "/"))
        return reply(h, conn, MHD_HTTP_OK, "text/html; charset=utf-8", h->landing);
    return reply(h, conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "404 page not found\n");
}

/* ---- setup ---- */

static void logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's messages (MHD_OPTION_EXTERNAL_LOGGER). */
static void logger(void *cls, const char *fmt, va_list ap)
{
    const struct kx_http *h = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    /* After start, peers' misbehaviour is worth a line only at debug level. */
    kx_log(h->starting ? KX_LOG_ERROR : KX_LOG_DEBUG, "HTTP server", "err", msg, NULL);
}

static int make_landing(struct kx_http *h)
{
    struct kmem_buf esc;
    kmem_buf_init(&esc, 0);
    kmem_buf_add_html(&esc, h->path);
    char *p = kmem_buf_take(&esc, NULL);
    if (!p)
        return -ENOMEM;
    int n = asprintf(&h->landing,
                     "<!DOCTYPE html>\n<html>\n<head><title>kmem_exporter</title></head>\n"
                     "<body>\n<h1>kmem_exporter</h1>\n"
                     "<p>Kernel memory of this machine: slab caches, node kinds and memory "
                     "cgroups.</p>\n<p><a href=\"%s\">Metrics</a></p>\n</body>\n</html>\n",
                     p);
    free(p);
    if (n < 0) {
        h->landing = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int make_priorities(struct kx_http *h)
{
    /* GnuTLS priority string limited to [min_version, max_version]. */
    char buf[160] = "NORMAL:-VERS-ALL";
    for (int v = h->o.web->max_version; v >= h->o.web->min_version; v--) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof(buf) - l, ":+VERS-TLS1.%d", v - 10);
    }
    h->priorities = strdup(buf);
    return h->priorities ? 0 : -ENOMEM;
}

/* Enough descriptors for every connection, the listening socket, epoll,
 * the collector's files and some slack. */
static int fit_fd_limit(unsigned conns, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)conns + KX_HTTP_LIMIT_SLACK + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        snprintf(err, errlen,
                 "--web.max-connections %u needs %lu open files, but the hard limit is %lu "
                 "(ulimit -Hn; systemd: LimitNOFILE=)",
                 conns, (unsigned long)need, (unsigned long)rl.rlim_max);
        return -EMFILE;
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl)) {
        snprintf(err, errlen, "--web.max-connections %u: cannot raise RLIMIT_NOFILE to %lu: %s",
                 conns, (unsigned long)need, strerror(errno));
        return -errno;
    }
    return 0;
}

static int start_threads(struct kx_http *h)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake_watchdog, &ca);
    pthread_cond_init(&h->wake_verifier, NULL);
    pthread_cond_init(&h->wake_scraper, NULL);
    pthread_condattr_destroy(&ca);
    h->lock_ready = true;
    h->threads_started = true;
    if (pthread_create(&h->watchdog, NULL, watchdog_main, h))
        return -EAGAIN;
    bool verifier = !pthread_create(&h->verifier, NULL, kx_http_verifier_main, h);
    if (verifier && !pthread_create(&h->scraper, NULL, kx_http_scraper_main, h))
        return 0;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->wake_watchdog);
    pthread_cond_signal(&h->wake_verifier);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->watchdog, NULL);
    if (verifier)
        pthread_join(h->verifier, NULL);
    h->threads_started = false;
    return -EAGAIN;
}

static void stop_threads(struct kx_http *h)
{
    if (!h->threads_started)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->wake_watchdog);
    pthread_cond_broadcast(&h->wake_verifier);
    pthread_cond_broadcast(&h->wake_scraper);
    pthread_mutex_unlock(&h->lock);
    /* The verifier first: it resumes every suspended connection (answered
     * 401), since MHD may not be stopped with one suspended. */
    pthread_join(h->verifier, NULL);
    pthread_join(h->scraper, NULL);
    pthread_join(h->watchdog, NULL);
    h->threads_started = false;
}

void kx_http_stats(struct kx_http *h, unsigned long *expired, unsigned long *auth_refused)
{
    pthread_mutex_lock(&h->lock);
    *expired = h->expired;
    *auth_refused = h->auth_refused;
    pthread_mutex_unlock(&h->lock);
}

int kx_http_start(struct kx_http **out, const struct kx_http_opts *o, char *err, size_t errlen)
{
    int fr = fit_fd_limit(o->conn_limit, err, errlen);
    if (fr)
        return fr;
    struct kx_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->o = *o;
    if (!h->o.header_timeout_ms)
        h->o.header_timeout_ms = 5000;
    h->path = strdup(o->telemetry_path && o->telemetry_path[0] ? o->telemetry_path : "/metrics");
    if (!h->path || make_landing(h))
        goto out_nomem;
    h->o.telemetry_path = h->path;

    if (start_threads(h)) {
        snprintf(err, errlen, "cannot start the HTTP server's threads");
        goto out_inval;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    struct MHD_OptionItem opt[20];
    int n = 0;
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)(void *)logger, h};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, o->listen_fd, NULL};
    opt[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)(void *)on_connection, h};
    opt[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)(void *)on_completed, h};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                       o->conn_limit + KX_HTTP_LIMIT_SLACK, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_limit, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (intptr_t)o->conn_memory_limit, NULL};
    if (o->threads > 1)
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL};
    if (o->web && o->web->tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "TLS is configured but libmicrohttpd was built without it");
            goto out_inval;
        }
        if (make_priorities(h))
            goto out_nomem;
        flags |= MHD_USE_TLS;
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, o->web->cert};
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, o->web->key};
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, h->priorities};
        /* MHD asks for a client certificate only when it has a trust list;
         * RequireAnyClientCert without a CA uses the server's own. */
        if (o->web->client_ca)
            h->trust = o->web->client_ca;
        else if (o->web->client_auth == KX_REQUIRE_ANY_CLIENT_CERT)
            h->trust = o->web->cert;
        if (h->trust)
            opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)h->trust};
        *(void **)&h->get_peers = dlsym(RTLD_DEFAULT, "gnutls_certificate_get_peers");
        *(void **)&h->verify_peers = dlsym(RTLD_DEFAULT, "gnutls_certificate_verify_peers2");
    }
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    h->starting = true;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_ARRAY, opt, MHD_OPTION_END);
    h->starting = false;
    if (!h->d) {
        snprintf(err, errlen, "cannot start the HTTP server%s",
                 o->web && o->web->tls ? " (check the TLS certificate and key)" : "");
        goto out_inval;
    }
    *out = h;
    return 0;

out_nomem:
    kx_http_stop(h);
    return -ENOMEM;
out_inval:
    kx_http_stop(h);
    return -EINVAL;
}

void kx_http_stop(struct kx_http *h)
{
    if (!h)
        return;
    stop_threads(h);
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->lock_ready) {
        pthread_cond_destroy(&h->wake_watchdog);
        pthread_cond_destroy(&h->wake_verifier);
        pthread_cond_destroy(&h->wake_scraper);
        pthread_mutex_destroy(&h->lock);
    }
    free(h->path);
    free(h->landing);
    free(h->priorities);
    free(h);
}
