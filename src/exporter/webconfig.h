/* SPDX-License-Identifier: MIT */
/*
 * exporter-toolkit web configuration (--web.config.file), parsed with libyaml:
 *
 *   tls_server_config: cert_file/cert, key_file/key, client_ca_file/client_ca,
 *     client_auth_type, min_version, max_version, prefer_server_cipher_suites
 *   http_server_config: http2, headers (the five security headers)
 *   basic_auth_users: user -> bcrypt hash
 *
 * Unknown keys, wrong types and values are errors naming the file and line.
 * Header values may not hold control characters; bcrypt costs above
 * KX_BCRYPT_MAX_COST are refused. Files are opened without blocking and must
 * be regular files (a FIFO would hang the start); the PEM ones must hold a
 * certificate (cert, client CA) or a private key (key).
 * The parser works from memory (kx_webconfig_parse) so that it can be fuzzed;
 * kx_webconfig_load() reads the file, parses, then loads the PEM files the
 * config names (paths relative to the config file's directory).
 */
#ifndef KX_WEBCONFIG_H
#define KX_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum kx_client_auth {
    KX_NO_CLIENT_CERT,
    KX_REQUEST_CLIENT_CERT,
    KX_REQUIRE_ANY_CLIENT_CERT,
    KX_VERIFY_CLIENT_CERT_IF_GIVEN,
    KX_REQUIRE_AND_VERIFY_CLIENT_CERT,
    KX_CLIENT_AUTH_COUNT
};
extern const char *const kx_client_auth_name[KX_CLIENT_AUTH_COUNT];

/* TLS versions: 10 = TLS 1.0 ... 13 = TLS 1.3. */
#define KX_TLS_MIN_DEFAULT 12
#define KX_TLS_MAX_DEFAULT 13

/* Highest bcrypt cost accepted in basic_auth_users: one check at cost 14
 * takes ~1 s of CPU here (cost 10: ~70 ms), and each cost step doubles it. */
#define KX_BCRYPT_MAX_COST 14

struct kx_user {
    char *name;
    char *hash; /* bcrypt: $2a$, $2b$ or $2y$ */
};

struct kx_header {
    char *name;
    char *value;
};

struct kx_webconfig {
    bool tls; /* a certificate or key was configured */
    /* As written in the file (files) or inline PEM (cert, key, client_ca).
     * After kx_webconfig_load() the PEM fields hold the files' contents. */
    char *cert_file, *key_file, *client_ca_file;
    char *cert, *key, *client_ca;
    enum kx_client_auth client_auth;
    int min_version, max_version;
    bool prefer_server_cipher_suites;
    bool http2;
    size_t nusers;
    struct kx_user *users;
    size_t nheaders;
    struct kx_header *headers;
    /* Lines ("FILE is writable by other users", ...) for the caller to log
     * at start-up, separated by '\n'; NULL if none. */
    char *warnings;
};

void kx_webconfig_init(struct kx_webconfig *c);
/* Parse a YAML document; @name is used in messages ("FILE:LINE: ..."). On
 * error returns -EINVAL (or -ENOMEM) with the message in @err; @c is left
 * initialised (free it either way). */
int kx_webconfig_parse(const char *buf, size_t len, const char *name, struct kx_webconfig *c,
                       char *err, size_t errlen);
/* Read and parse @path, then read the PEM files it names. Files writable
 * by other users (and a key readable by them) are reported in c->warnings. */
int kx_webconfig_load(const char *path, struct kx_webconfig *c, char *err, size_t errlen);
void kx_webconfig_free(struct kx_webconfig *c);

/* Internal to webconfig.c (parsing) and webconfig_load.c (files). */
#define KX_WEBCONFIG_MAX_FILE (1u << 20) /* config and PEM files */
/* Add a line to c->warnings (dropped if memory runs out: only a warning). */
void kx_webconfig_warn(struct kx_webconfig *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
