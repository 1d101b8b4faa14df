// SPDX-License-Identifier: MIT
/* exporter-toolkit web configuration, parsed from memory with libyaml events. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "buf.h"
#include "webconfig.h"

const char *const kx_client_auth_name[KX_CLIENT_AUTH_COUNT] = {
    [KX_NO_CLIENT_CERT] = "NoClientCert",
    [KX_REQUEST_CLIENT_CERT] = "RequestClientCert",
    [KX_REQUIRE_ANY_CLIENT_CERT] = "RequireAnyClientCert",
    [KX_VERIFY_CLIENT_CERT_IF_GIVEN] = "VerifyClientCertIfGiven",
    [KX_REQUIRE_AND_VERIFY_CLIENT_CERT] = "RequireAndVerifyClientCert",
};

/* The security headers exporter-toolkit lets a config set. */
static const char *const allowed_header[] = {
    "Content-Security-Policy", "X-Frame-Options",           "X-Content-Type-Options",
    "X-XSS-Protection",        "Strict-Transport-Security",
};

void kx_webconfig_init(struct kx_webconfig *c)
{
    memset(c, 0, sizeof(*c));
    c->client_auth = KX_NO_CLIENT_CERT;
    c->min_version = KX_TLS_MIN_DEFAULT;
    c->max_version = KX_TLS_MAX_DEFAULT;
    c->prefer_server_cipher_suites = true;
    c->http2 = true;
}

void kx_webconfig_free(struct kx_webconfig *c)
{
    free(c->cert_file);
    free(c->key_file);
    free(c->client_ca_file);
    free(c->cert);
    free(c->key);
    free(c->client_ca);
    for (size_t i = 0; i < c->nusers; i++) {
        free(c->users[i].name);
        free(c->users[i].hash);
    }
    free(c->users);
    for (size_t i = 0; i < c->nheaders; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
    }
    free(c->headers);
    free(c->warnings);
    kx_webconfig_init(c);
}

/* Add a line to c->warnings (dropped if memory runs out: only a warning). */
void kx_webconfig_warn(struct kx_webconfig *c, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t old = c->warnings ? strlen(c->warnings) : 0;
    char *w = realloc(c->warnings, old + strlen(line) + 2);
    if (!w)
        return;
    if (old)
        w[old++] = '\n';
    strcpy(w + old, line);
    c->warnings = w;
}

/* ---- event cursor ---- */

struct wp {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    const char *name;
    char *err;
    size_t errlen;
    struct kx_webconfig *c;
};

static int fail(struct wp *w, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct wp *w, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (m)
        snprintf(w->err, w->errlen, "%s:%zu: %s", w->name, m->line + 1, msg);
    else
        snprintf(w->err, w->errlen, "%s: %s", w->name, msg);
    return -EINVAL;
}

static int next(struct wp *w)
{
    if (w->have_ev) {
        yaml_event_delete(&w->ev);
        w->have_ev = false;
    }
    if (!yaml_parser_parse(&w->parser, &w->ev)) {
        const yaml_parser_t *p = &w->parser;
        if (p->error == YAML_MEMORY_ERROR) {
            snprintf(w->err, w->errlen, "%s: out of memory", w->name);
            return -ENOMEM;
        }
        const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
        return fail(w, m, "invalid YAML: %s%s%s", p->problem ? p->problem : "syntax error",
                    p->context ? " " : "", p->context ? p->context : "");
    }
    w->have_ev = true;
    if (w->ev.type == YAML_ALIAS_EVENT)
        return fail(w, &w->ev.start_mark, "YAML aliases are not supported");
    return 0;
}

static const char *scalar(const struct wp *w)
{
    return (const char *)w->ev.data.scalar.value;
}

/* A plain scalar that YAML reads as null. */
static bool is_null(const struct wp *w)
{
    if (w->ev.type != YAML_SCALAR_EVENT || w->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(w);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int expect_scalar(struct wp *w, const char *what)
{
    if (w->ev.type != YAML_SCALAR_EVENT)
        return fail(w, &w->ev.start_mark, "%s must be a string", what);
    if (strlen(scalar(w)) != w->ev.data.scalar.length)
        return fail(w, &w->ev.start_mark, "%s contains a NUL byte", what);
    return 0;
}

/* Value of @key as a string; null leaves *dst NULL. */
static int read_string(struct wp *w, const char *key, char **dst)
{
    int r = next(w);
    if (r)
        return r;
    r = expect_scalar(w, key);
    if (r)
        return r;
    free(*dst);
    *dst = NULL;
    if (is_null(w))
        return 0;
    *dst = strdup(scalar(w));
    return *dst ? 0 : -ENOMEM;
}

static int read_bool(struct wp *w, const char *key, bool *dst)
{
    int r = next(w);
    if (r)
        return r;
    r = expect_scalar(w, key);
    if (r)
        return r;
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (!strcasecmp(scalar(w), yes[i])) {
            *dst = true;
            return 0;
        }
        if (!strcasecmp(scalar(w), no[i])) {
            *dst = false;
            return 0;
        }
    }
    return fail(w, &w->ev.start_mark, "%s: \"%s\" is not a boolean (true or false)", key,
                scalar(w));
}

static int parse_tls_version(struct wp *w, const char *key, int *dst)
{
    char *v = NULL;
    int r = read_string(w, key, &v);
    if (r || !v)
        return r;
    static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(v, names[i])) {
            *dst = 10 + i;
            free(v);
            return 0;
        }
    }
    r = fail(w, &w->ev.start_mark, "%s: unknown TLS version \"%s\" (TLS10, TLS11, TLS12, TLS13)",
             key, v);
    free(v);
    return r;
}

/*
 * Start of a mapping value: MAPPING_START, or a null scalar (an empty
 * section). Returns 1 if a mapping follows, 0 if empty, or -errno.
 */
static int begin_map(struct wp *w, const char *what)
{
    int r = next(w);
    if (r)
        return r;
    if (w->ev.type == YAML_MAPPING_START_EVENT)
        return 1;
    if (is_null(w))
        return 0;
    return fail(w, &w->ev.start_mark, "%s must be a mapping", what);
}

/* Next key of a mapping: 1 with the key in w->ev, 0 at the end, or -errno. */
static int next_key(struct wp *w, const char *what)
{
    int r = next(w);
    if (r)
        return r;
    if (w->ev.type == YAML_MAPPING_END_EVENT)
        return 0;
    r = expect_scalar(w, "a key");
    if (r)
        return fail(w, &w->ev.start_mark, "keys of %s must be strings", what);
    return 1;
}

/* Reject a key seen twice in one mapping (libyaml does not). */
static int once(struct wp *w, unsigned *seen, unsigned bit, const char *key)
{
    if (*seen & (1u << bit))
        return fail(w, &w->ev.start_mark, "duplicate key \"%s\"", key);
    *seen |= 1u << bit;
    return 0;
}

enum tls_key {
    TK_CERT_FILE,
    TK_KEY_FILE,
    TK_CLIENT_CA_FILE,
    TK_CERT,
    TK_KEY,
    TK_CLIENT_CA,
    TK_CLIENT_AUTH_TYPE,
    TK_MIN_VERSION,
    TK_MAX_VERSION,
    TK_PREFER_SERVER,
    TK_CIPHER_SUITES,
    TK_CURVES,
    TK_ALLOWED_SANS,
    TK_COUNT
};

static const char *const tls_key_name[TK_COUNT] = {
    [TK_CERT_FILE] = "cert_file",
    [TK_KEY_FILE] = "key_file",
    [TK_CLIENT_CA_FILE] = "client_ca_file",
    [TK_CERT] = "cert",
    [TK_KEY] = "key",
    [TK_CLIENT_CA] = "client_ca",
    [TK_CLIENT_AUTH_TYPE] = "client_auth_type",
    [TK_MIN_VERSION] = "min_version",
    [TK_MAX_VERSION] = "max_version",
    [TK_PREFER_SERVER] = "prefer_server_cipher_suites",
    [TK_CIPHER_SUITES] = "cipher_suites",
    [TK_CURVES] = "curve_preferences",
    [TK_ALLOWED_SANS] = "client_allowed_sans",
};

static int parse_tls(struct wp *w)
{
    struct kx_webconfig *c = w->c;
    unsigned seen = 0;
    int r = begin_map(w, "tls_server_config");
    if (r <= 0)
        return r;
    while ((r = next_key(w, "tls_server_config")) == 1) {
        int k;
        for (k = 0; k < TK_COUNT; k++)
            if (!strcmp(scalar(w), tls_key_name[k]))
                break;
        if (k == TK_COUNT)
            return fail(w, &w->ev.start_mark, "unknown key \"%s\" in tls_server_config", scalar(w));
        r = once(w, &seen, (unsigned)k, tls_key_name[k]);
        if (r)
            return r;
        const char *key = tls_key_name[k];
        switch ((enum tls_key)k) {
        case TK_CERT_FILE:
            r = read_string(w, key, &c->cert_file);
            break;
        case TK_KEY_FILE:
            r = read_string(w, key, &c->key_file);
            break;
        case TK_CLIENT_CA_FILE:
            r = read_string(w, key, &c->client_ca_file);
            break;
        case TK_CERT:
            r = read_string(w, key, &c->cert);
            break;
        case TK_KEY:
            r = read_string(w, key, &c->key);
            break;
        case TK_CLIENT_CA:
            r = read_string(w, key, &c->client_ca);
            break;
        case TK_CLIENT_AUTH_TYPE: {
            char *v = NULL;
            r = read_string(w, key, &v);
            if (r || !v)
                break;
            int a;
            for (a = 0; a < KX_CLIENT_AUTH_COUNT; a++)
                if (!strcmp(v, kx_client_auth_name[a]))
                    break;
            if (a == KX_CLIENT_AUTH_COUNT)
                r = fail(w, &w->ev.start_mark,
                         "client_auth_type: unknown value \"%s\" (NoClientCert, "
                         "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, "
                         "RequireAndVerifyClientCert)",
                         v);
            else
                c->client_auth = (enum kx_client_auth)a;
            free(v);
            break;
        }
        case TK_MIN_VERSION:
            r = parse_tls_version(w, key, &c->min_version);
            break;
        case TK_MAX_VERSION:
            r = parse_tls_version(w, key, &c->max_version);
            break;
        case TK_PREFER_SERVER:
            r = read_bool(w, key, &c->prefer_server_cipher_suites);
            break;
        case TK_CIPHER_SUITES:
        case TK_CURVES:
        case TK_ALLOWED_SANS:
            return fail(w, &w->ev.start_mark,
                        "%s is not supported by kmem_exporter (GnuTLS picks safe defaults); "
                        "remove it",
                        key);
        case TK_COUNT:
            break;
        }
        if (r)
            return r;
    }
    return r;
}

static int parse_headers(struct wp *w)
{
    struct kx_webconfig *c = w->c;
    unsigned seen = 0;
    int r = begin_map(w, "headers");
    if (r <= 0)
        return r;
    while ((r = next_key(w, "headers")) == 1) {
        size_t h;
        for (h = 0; h < sizeof(allowed_header) / sizeof(allowed_header[0]); h++)
            if (!strcasecmp(scalar(w), allowed_header[h]))
                break;
        if (h == sizeof(allowed_header) / sizeof(allowed_header[0]))
            return fail(w, &w->ev.start_mark, "HTTP header \"%s\" can not be configured",
                        scalar(w));
        r = once(w, &seen, (unsigned)h, allowed_header[h]);
        if (r)
            return r;
        char *v = NULL;
        r = read_string(w, allowed_header[h], &v);
        if (r)
            return r;
        if (!v || !*v) { /* blank: unset */
            free(v);
            continue;
        }
        for (const unsigned char *ch = (const unsigned char *)v; *ch; ch++) {
            /* RFC 9110 field values: visible characters, space, tab. */
            if ((*ch < 0x20 && *ch != '\t') || *ch == 0x7f) {
                r = fail(w, &w->ev.start_mark,
                         "header %s: the value holds a control character (byte 0x%02x)",
                         allowed_header[h], *ch);
                free(v);
                return r;
            }
        }
        if ((!strcmp(allowed_header[h], "X-Frame-Options") && strcasecmp(v, "deny") &&
             strcasecmp(v, "sameorigin")) ||
            (!strcmp(allowed_header[h], "X-Content-Type-Options") && strcasecmp(v, "nosniff"))) {
            r = fail(w, &w->ev.start_mark, "header %s: invalid value \"%s\"", allowed_header[h], v);
            free(v);
            return r;
        }
        struct kx_header *nh = realloc(c->headers, (c->nheaders + 1) * sizeof(*nh));
        char *name = strdup(allowed_header[h]);
        if (!nh || !name) {
            if (nh)
                c->headers = nh;
            free(name);
            free(v);
            return -ENOMEM;
        }
        c->headers = nh;
        nh[c->nheaders].name = name;
        nh[c->nheaders].value = v;
        c->nheaders++;
    }
    return r;
}

static int parse_http(struct wp *w)
{
    unsigned seen = 0;
    int r = begin_map(w, "http_server_config");
    if (r <= 0)
        return r;
    while ((r = next_key(w, "http_server_config")) == 1) {
        if (!strcmp(scalar(w), "http2")) {
            r = once(w, &seen, 0, "http2");
            if (!r)
                r = read_bool(w, "http2", &w->c->http2);
        } else if (!strcmp(scalar(w), "headers")) {
            r = once(w, &seen, 1, "headers");
            if (!r)
                r = parse_headers(w);
        } else {
            return fail(w, &w->ev.start_mark, "unknown key \"%s\" in http_server_config",
                        scalar(w));
        }
        if (r)
            return r;
    }
    return r;
}

static int bcrypt_cost(const char *h)
{
    return (h[4] - '0') * 10 + (h[5] - '0');
}

/* $2a$, $2b$ or $2y$, two-digit cost, 53 characters of bcrypt base64. */
static bool is_bcrypt(const char *h)
{
    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
        h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
        return false;
    int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (int i = 7; i < 60; i++) {
        char ch = h[i];
        if (!(ch == '.' || ch == '/' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

static int parse_users(struct wp *w)
{
    struct kx_webconfig *c = w->c;
    int r = begin_map(w, "basic_auth_users");
    if (r <= 0)
        return r;
    while ((r = next_key(w, "basic_auth_users")) == 1) {
        yaml_mark_t m = w->ev.start_mark;
        if (!*scalar(w))
            return fail(w, &m, "basic_auth_users: empty user name");
        if (strchr(scalar(w), ':'))
            return fail(w, &m, "basic_auth_users: user name \"%s\" contains ':'", scalar(w));
        for (size_t i = 0; i < c->nusers; i++)
            if (!strcmp(c->users[i].name, scalar(w)))
                return fail(w, &m, "basic_auth_users: duplicate user \"%s\"", scalar(w));
        char *name = strdup(scalar(w));
        char *hash = NULL;
        if (!name)
            return -ENOMEM;
        r = read_string(w, "a password hash", &hash);
        if (!r && (!hash || !is_bcrypt(hash)))
            r = fail(w, &w->ev.start_mark,
                     "basic_auth_users: the password of \"%s\" is not a bcrypt hash "
                     "(make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')",
                     name);
        else if (!r && bcrypt_cost(hash) > KX_BCRYPT_MAX_COST)
            r = fail(w, &w->ev.start_mark,
                     "basic_auth_users: the hash of \"%s\" has bcrypt cost %d, above the "
                     "maximum of %d (each failed login would hold a CPU for ~%d s; make one "
                     "with: htpasswd -nBC 10 \"\" | tr -d ':\\n')",
                     name, bcrypt_cost(hash), KX_BCRYPT_MAX_COST,
                     1 << (bcrypt_cost(hash) - KX_BCRYPT_MAX_COST));
        struct kx_user *nu = r ? NULL : realloc(c->users, (c->nusers + 1) * sizeof(*nu));
        if (!nu) {
            free(name);
            free(hash);
            return r ? r : -ENOMEM;
        }
        c->users = nu;
        nu[c->nusers].name = name;
        nu[c->nusers].hash = hash;
        c->nusers++;
    }
    return r;
}

/* Checks across fields, once the whole file is read. */
static int validate(struct wp *w, const yaml_mark_t *tls_mark)
{
    struct kx_webconfig *c = w->c;
    const yaml_mark_t *m = tls_mark;

    if (c->cert && c->cert_file)
        return fail(w, m, "tls_server_config: cert and cert_file are mutually exclusive");
    if (c->key && c->key_file)
        return fail(w, m, "tls_server_config: key and key_file are mutually exclusive");
    if (c->client_ca && c->client_ca_file)
        return fail(w, m,
                    "tls_server_config: client_ca and client_ca_file are mutually "
                    "exclusive");
    bool have_cert = c->cert || c->cert_file, have_key = c->key || c->key_file;
    bool have_ca = c->client_ca || c->client_ca_file;
    c->tls = have_cert || have_key;
    if (c->tls && !have_cert)
        return fail(w, m, "tls_server_config: missing cert_file");
    if (c->tls && !have_key)
        return fail(w, m, "tls_server_config: missing key_file");
    if (!c->tls && (have_ca || c->client_auth != KX_NO_CLIENT_CERT))
        return fail(w, m,
                    "tls_server_config: client certificates need TLS: set cert_file and "
                    "key_file");
    if (have_ca && c->client_auth == KX_NO_CLIENT_CERT)
        return fail(w, m,
                    "tls_server_config: a client CA is configured without a client "
                    "authentication policy (set client_auth_type)");
    if (!have_ca && (c->client_auth == KX_VERIFY_CLIENT_CERT_IF_GIVEN ||
                     c->client_auth == KX_REQUIRE_AND_VERIFY_CLIENT_CERT))
        return fail(w, m, "tls_server_config: client_auth_type %s needs client_ca_file",
                    kx_client_auth_name[c->client_auth]);
    if (c->min_version > c->max_version)
        return fail(w, m, "tls_server_config: min_version is above max_version");
    for (size_t i = 1; i < c->nusers; i++) {
        if (bcrypt_cost(c->users[i].hash) != bcrypt_cost(c->users[0].hash)) {
            kx_webconfig_warn(
                c,
                "%s: basic_auth_users have different bcrypt costs (%d for \"%s\", %d for "
                "\"%s\"): a wrong password is answered faster for some users, which tells "
                "that those names exist; give every user the same cost",
                w->name, bcrypt_cost(c->users[0].hash), c->users[0].name,
                bcrypt_cost(c->users[i].hash), c->users[i].name);
            break;
        }
    }
    return 0;
}

enum top_key { TOP_TLS, TOP_HTTP, TOP_USERS, TOP_COUNT };
static const char *const top_key_name[TOP_COUNT] = {
    [TOP_TLS] = "tls_server_config",
    [TOP_HTTP] = "http_server_config",
    [TOP_USERS] = "basic_auth_users",
};

static int parse_document(struct wp *w)
{
    yaml_mark_t tls_mark = {0};
    bool tls_seen = false;
    unsigned seen = 0;
    int r = next(w);
    if (r)
        return r;
    if (w->ev.type != YAML_STREAM_START_EVENT)
        return fail(w, &w->ev.start_mark, "invalid YAML stream");
    r = next(w);
    if (r)
        return r;
    if (w->ev.type == YAML_STREAM_END_EVENT) /* empty file: plain HTTP, no auth */
        return 0;
    r = begin_map(w, "the web configuration");
    if (r < 0)
        return r;
    while (r == 1 && (r = next_key(w, "the web configuration")) == 1) {
        int k;
        for (k = 0; k < TOP_COUNT; k++)
            if (!strcmp(scalar(w), top_key_name[k]))
                break;
        if (k == TOP_COUNT)
            return fail(w, &w->ev.start_mark,
                        "unknown key \"%s\" (expected tls_server_config, http_server_config or "
                        "basic_auth_users)",
                        scalar(w));
        r = once(w, &seen, (unsigned)k, top_key_name[k]);
        if (r)
            return r;
        switch ((enum top_key)k) {
        case TOP_TLS:
            tls_mark = w->ev.start_mark;
            tls_seen = true;
            r = parse_tls(w);
            break;
        case TOP_HTTP:
            r = parse_http(w);
            break;
        case TOP_USERS:
            r = parse_users(w);
            break;
        case TOP_COUNT:
            break;
        }
        if (r < 0)
            return r;
        r = 1;
    }
    if (r < 0)
        return r;
    /* DOCUMENT_END, then nothing but the end of the stream. */
    r = next(w);
    if (r)
        return r;
    r = next(w);
    if (r)
        return r;
    if (w->ev.type != YAML_STREAM_END_EVENT)
        return fail(w, &w->ev.start_mark, "only one YAML document is allowed");
    return validate(w, tls_seen ? &tls_mark : NULL);
}

int kx_webconfig_parse(const char *buf, size_t len, const char *name, struct kx_webconfig *c,
                       char *err, size_t errlen)
{
    struct wp w = {.name = name ? name : "web config", .err = err, .errlen = errlen, .c = c};
    if (errlen)
        err[0] = '\0';
    kx_webconfig_init(c);
    if (!yaml_parser_initialize(&w.parser)) {
        snprintf(err, errlen, "%s: out of memory", w.name);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&w.parser, (const unsigned char *)buf, len);
    int r = parse_document(&w);
    if (w.have_ev)
        yaml_event_delete(&w.ev);
    yaml_parser_delete(&w.parser);
    if (r == -ENOMEM && !err[0])
        snprintf(err, errlen, "%s: out of memory", w.name);
    return r;
}
