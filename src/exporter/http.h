/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server (libmicrohttpd): routing, limits, TLS, basic auth, gzip
 * negotiation. It holds no metric logic: the exposition comes from a body
 * provider that the caller supplies.
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
    size_t conn_memory_limit;       /* per connection (caps the request header size) */
    unsigned threads;               /* worker threads */
    kx_body_fn metrics;
    void *metrics_cls;
};

struct kx_http;

/*
 * Bind and listen on "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses,
 * IPv6 dual stack when available). Returns the fd or -errno with a message.
 */
int kx_http_listen(const char *address, char *err, size_t errlen);
/* Port the socket is bound to (for ":0"). */
int kx_http_port(int fd);

int kx_http_start(struct kx_http **out, const struct kx_http_opts *o, char *err, size_t errlen);
void kx_http_stop(struct kx_http *h);

/* True if an Accept-Encoding header value accepts gzip (q > 0). */
bool kx_accepts_gzip(const char *accept_encoding);

#endif
