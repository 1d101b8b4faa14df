// SPDX-License-Identifier: MIT
/* HTTP server on libmicrohttpd: routes, limits, TLS, basic auth, gzip. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct kx_http {
    struct MHD_Daemon *d;
    struct kx_http_opts o;
    char *path;
    char *landing;
    size_t landing_len;
    char *priorities;
    const char *trust; /* PEM given to MHD as the client trust list, or NULL */
    bool starting;     /* MHD's messages are printed only while starting */
    /* GnuTLS functions for client certificates, found in the process
     * (libmicrohttpd links GnuTLS) so that kmem_exporter need not. */
    const void *(*get_peers)(void *session, unsigned *n);
    int (*verify_peers)(void *session, unsigned *status);
};

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
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
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

static enum MHD_Result reply(struct kx_http *h, struct MHD_Connection *conn, unsigned status,
                             const char *type, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    add_headers(h, r);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void body_release(void *cls)
{
    struct kx_body *b = cls;
    if (b->release)
        b->release(b->ref);
    free(b);
}

static enum MHD_Result serve_metrics(struct kx_http *h, struct MHD_Connection *conn)
{
    const char *ae =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    struct kx_body *b = calloc(1, sizeof(*b));
    char err[512] = "";
    if (!b)
        return MHD_NO;
    int r = h->o.metrics(h->o.metrics_cls, kx_accepts_gzip(ae), b, err, sizeof(err));
    if (r) {
        free(b);
        char msg[600];
        snprintf(msg, sizeof(msg), "An error has occurred while serving metrics:\n\n%s\n",
                 err[0] ? err : strerror(-r));
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

static bool check_auth(struct kx_http *h, struct MHD_Connection *conn)
{
    if (!kx_auth_enabled(h->o.auth))
        return true;
    char *pass = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
#pragma GCC diagnostic pop
    bool ok = user && pass && kx_auth_check(h->o.auth, user, pass);
    if (pass) {
        explicit_bzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
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
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        struct MHD_Response *r = MHD_create_response_from_buffer(19, (void *)"Method Not Allowed\n",
                                                                 MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        add_headers(h, r);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (h->o.web && h->o.web->tls) {
        const char *why = client_cert_problem(h, conn);
        if (why) {
            char msg[200];
            snprintf(msg, sizeof(msg), "Forbidden: %s\n", why);
            return reply(h, conn, MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8", msg);
        }
    }
    if (!check_auth(h, conn)) {
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
        return serve_metrics(h, conn);
    if (!strcmp(url, "/")) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(h->landing_len, h->landing, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
        add_headers(h, r);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    return reply(h, conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "404 page not found\n");
}

/* ---- setup ---- */

static void logger(void *cls, const char *fmt, va_list ap)
{
    const struct kx_http *h = cls;
    if (!h->starting)
        return; /* after start, peers' misbehaviour is not worth a log line each */
    fputs("kmem_exporter: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

static char *html_escape(const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += (*p == '<' || *p == '>' || *p == '&' || *p == '"') ? 6 : 1;
    char *out = malloc(n), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        const char *rep = *s == '<'   ? "&lt;"
                          : *s == '>' ? "&gt;"
                          : *s == '&' ? "&amp;"
                          : *s == '"' ? "&quot;"
                                      : NULL;
        if (rep) {
            strcpy(o, rep);
            o += strlen(rep);
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static int make_landing(struct kx_http *h)
{
    char *p = html_escape(h->path);
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
    h->landing_len = (size_t)n;
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

int kx_http_start(struct kx_http **out, const struct kx_http_opts *o, char *err, size_t errlen)
{
    struct kx_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->o = *o;
    h->path = strdup(o->telemetry_path && o->telemetry_path[0] ? o->telemetry_path : "/metrics");
    if (!h->path || make_landing(h))
        goto out_nomem;
    h->o.telemetry_path = h->path;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    struct MHD_OptionItem opt[16];
    int n = 0;
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)(void *)logger, h};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, o->listen_fd, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, o->conn_limit, NULL};
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
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h->path);
    free(h->landing);
    free(h->priorities);
    free(h);
}
