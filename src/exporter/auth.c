// SPDX-License-Identifier: MIT
/* Basic authentication: bcrypt via crypt_rn(3), with a cache of good logins. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <crypt.h>

#include "auth.h"

/* Checked against when the user is unknown, so that the answer takes as long
 * as for a known user (no user enumeration by timing). Cost 10, like the
 * hashes htpasswd -B makes. */
static const char dummy_hash[] = "$2y$10$kt9qYM/Efhzsk/6mIVgrkOrs1j0Nh8qRTTu0SdFOvCn8niTVGVb1O";

struct auth_user {
    char *name, *hash;
    char *cached; /* SHA-256-crypt of the last good password, or NULL */
};

struct kx_auth {
    pthread_mutex_t lock;
    size_t n;
    struct auth_user *u;
    char cache_setting[64]; /* "$5$rounds=1000$<salt>$" */
};

static bool ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    size_t n = la < lb ? la : lb;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* crypt_rn into a heap crypt_data (it is ~32 KiB: too big for MHD's stacks). */
static char *crypt_dup(const char *pass, const char *setting)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return NULL;
    char *out = NULL;
    const char *h = crypt_rn(pass, setting, cd, (int)sizeof(*cd));
    if (h && h[0] != '*')
        out = strdup(h);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return out;
}

bool kx_crypt_verify(const char *pass, const char *hash)
{
    char *h = crypt_dup(pass, hash);
    bool ok = h && ct_equal(h, hash);
    free(h);
    return ok;
}

int kx_auth_new(struct kx_auth **out, const struct kx_webconfig *cfg)
{
    struct kx_auth *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    if (!cfg || cfg->nusers == 0)
        return 0;
    a->u = calloc(cfg->nusers, sizeof(*a->u));
    if (!a->u)
        goto out_nomem;
    for (size_t i = 0; i < cfg->nusers; i++) {
        a->u[i].name = strdup(cfg->users[i].name);
        a->u[i].hash = strdup(cfg->users[i].hash);
        a->n = i + 1;
        if (!a->u[i].name || !a->u[i].hash)
            goto out_nomem;
    }
    /* A random salt per process: the cache is useless to anyone reading memory
     * of another run, and equal passwords of two users do not look equal. */
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        goto out_nomem;
    static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char salt[17];
    for (int i = 0; i < 16; i++)
        salt[i] = b64[rnd[i] & 63];
    salt[16] = '\0';
    snprintf(a->cache_setting, sizeof(a->cache_setting), "$5$rounds=1000$%s$", salt);
    return 0;
out_nomem:
    kx_auth_free(a);
    *out = NULL;
    return -ENOMEM;
}

void kx_auth_free(struct kx_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->u[i].name);
        free(a->u[i].hash);
        free(a->u[i].cached);
    }
    free(a->u);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

bool kx_auth_enabled(const struct kx_auth *a)
{
    return a && a->n > 0;
}

bool kx_auth_check(struct kx_auth *a, const char *user, const char *pass)
{
    if (!kx_auth_enabled(a))
        return true;
    if (!user || !pass)
        return false;
    struct auth_user *u = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->u[i].name, user))
            u = &a->u[i];
    if (!u) {
        kx_crypt_verify(pass, dummy_hash);
        return false;
    }

    char *quick = crypt_dup(pass, a->cache_setting);
    bool ok = false;
    pthread_mutex_lock(&a->lock);
    if (quick && u->cached && ct_equal(quick, u->cached))
        ok = true;
    pthread_mutex_unlock(&a->lock);
    if (!ok && kx_crypt_verify(pass, u->hash)) {
        ok = true;
        pthread_mutex_lock(&a->lock);
        free(u->cached);
        u->cached = quick;
        quick = NULL;
        pthread_mutex_unlock(&a->lock);
    }
    free(quick);
    return ok;
}
