/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server (libmicrohttpd): routing, limits, TLS, basic auth, gzip
 * negotiation. It holds no metric logic: the exposition comes from a body
 * provider that the caller supplies.
 *
 * Against clients that hold connections or CPU (issue 14):
 *  - a deadline for reading each request (headers and body), counted from
 *    the connection or the previous response, whatever the client sends
 *    meanwhile: a watchdog thread shuts down the sockets that miss it;
 *  - connection limits in all and per address (the caller's);
 *  - bcrypt off the server threads: a password that is not the cached good
 *    one is checked on one verifier thread, the connection suspended
 *    meanwhile; at most KX_HTTP_AUTH_QUEUE checks wait, one per client
 *    address, and beyond that the answer is 429 at once, except for an
 *    address without a recent failure, which takes the slot of a queued
 *    check from an address whose last check failed (issue 24);
 *  - collections off the server threads: a scrape suspends its connection
 *    and one scraper thread calls the body provider, so that probes and
 *    other connections never wait behind a collection.
 */
#ifndef KX_HTTP_H
#define KX_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "webconfig.h"

/* Bytes to send, and how to release them once sent (may be called from any
 * server thread). */
struct kx_body {
    const char *data;
    size_t len;
    bool gzip; /* data is gzip-encoded */
    void (*release)(void *ref);
    void *ref;
};

/* Fill @out with the exposition (gzip-encoded if @gzip and possible).
 * 0, or -errno with a message in @err for a 500 answer. */
typedef int (*kx_body_fn)(void *cls, bool gzip, struct kx_body *out, char *err, size_t errlen);

struct kx_http_opts {
    int listen_fd; /* bound and listening; the server takes it over */
    const char *telemetry_path;
    const struct kx_webconfig *web; /* TLS and headers; NULL for plain HTTP */
    struct kx_auth *auth;           /* NULL: no authentication */
    unsigned conn_limit;            /* all connections */
    unsigned per_ip_limit;          /* connections from one address */
    unsigned timeout_s;             /* idle connection timeout */
    unsigned header_timeout_ms;     /* a request must be read within this of the
                                     * connection or the previous response */
    size_t conn_memory_limit;       /* per connection (caps the request header size) */
    unsigned threads;               /* worker threads */
    kx_body_fn metrics;
    void *metrics_cls;
    /* /-/ready answers 200 when this returns true (called with metrics_cls),
     * else 503; NULL: always ready. /-/healthy always answers 200. Neither
     * collects, and neither asks for a password or a client certificate. */
    bool (*ready)(void *cls);
};

struct kx_http;

#define KX_HTTP_HEALTHY_PATH "/-/healthy"
#define KX_HTTP_READY_PATH   "/-/ready"

#define KX_HTTP_AUTH_QUEUE 16 /* password checks waiting for the verifier */

/*
 * Bind and listen on "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses,
 * IPv6 dual stack when available). Returns the fd or -errno with a message.
 */
int kx_http_listen(const char *address, char *err, size_t errlen);
/* Port the socket is bound to (for ":0"). */
int kx_http_port(int fd);

/* Start serving. Raises RLIMIT_NOFILE to fit conn_limit if it can, or
 * fails saying so. */
int kx_http_start(struct kx_http **out, const struct kx_http_opts *o, char *err, size_t errlen);
void kx_http_stop(struct kx_http *h);

/* Sockets shut down for missing the request deadline, password checks
 * refused with 429 (for tests and logs). */
void kx_http_stats(struct kx_http *h, unsigned long *expired, unsigned long *auth_refused);

/* True if an Accept-Encoding header value accepts gzip (q > 0). */
bool kx_accepts_gzip(const char *accept_encoding);

#endif
