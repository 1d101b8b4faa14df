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
#include <gnutls/crypto.h>

#include "auth.h"

struct auth_user {
    char *name, *hash;
    bool has_cached;
    uint8_t cached[KX_AUTH_QUICK_LEN]; /* HMAC of the last good password */
};

struct kx_auth {
    pthread_mutex_t lock;
    size_t n;
    struct auth_user *u;
    uint8_t key[32]; /* HMAC key for the cache, random per process */
    /* Checked against when the user is unknown, so that the answer takes as
     * long as for a known user (no user enumeration by timing): a bcrypt
     * hash of a random salt at the highest cost among the users. */
    char dummy[CRYPT_GENSALT_OUTPUT_SIZE];
};

static bool ct_equal_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

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

static int bcrypt_cost(const char *h)
{
    return (h[4] - '0') * 10 + (h[5] - '0');
}

/* "$2y$NN$" + 22 salt characters from crypt_gensalt, + 31 filler characters:
 * crypt(3) uses the setting part, and the result never equals it. */
static int make_dummy(struct kx_auth *a)
{
    int cost = 4;
    for (size_t i = 0; i < a->n; i++)
        if (bcrypt_cost(a->u[i].hash) > cost)
            cost = bcrypt_cost(a->u[i].hash);
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2y$", (unsigned long)cost, NULL, 0, setting, (int)sizeof(setting)) ||
        strlen(setting) != 29)
        return -EIO;
    snprintf(a->dummy, sizeof(a->dummy), "%s%s", setting, "...............................");
    return 0;
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
    /* A random key per process: the cache is useless to anyone reading memory
     * of another run, and equal passwords of two users do not look equal. */
    if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key))
        goto out_nomem;
    if (make_dummy(a))
        goto out_nomem;
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
    }
    free(a->u);
    explicit_bzero(a->key, sizeof(a->key));
    pthread_mutex_destroy(&a->lock);
    free(a);
}

bool kx_auth_enabled(const struct kx_auth *a)
{
    return a && a->n > 0;
}

enum kx_auth_verdict kx_auth_begin(struct kx_auth *a, const char *user, const char *pass,
                                   struct kx_auth_job *job)
{
    memset(job, 0, sizeof(*job));
    job->user = -1;
    if (!kx_auth_enabled(a))
        return KX_AUTH_PASS;
    if (!user || !pass || strlen(pass) > KX_AUTH_PASS_MAX)
        return KX_AUTH_FAIL;          /* what crypt(3) refuses, at once for any name */
    for (size_t i = 0; i < a->n; i++) /* every name compared: no early exit */
        if (!strcmp(a->u[i].name, user))
            job->user = (int)i;
    /* bcrypt reads 72 bytes; the cache hash reads the same ones. */
    snprintf(job->pass, sizeof(job->pass), "%s", pass);

    /* The same work for an unknown name: the hash, then one comparison. */
    job->quick_ok = gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->key, sizeof(a->key), job->pass,
                                     strlen(job->pass), job->quick) == 0;
    static const uint8_t none[KX_AUTH_QUICK_LEN];
    pthread_mutex_lock(&a->lock);
    const struct auth_user *u = job->user >= 0 ? &a->u[job->user] : NULL;
    bool same = ct_equal_bytes(job->quick, u ? u->cached : none, KX_AUTH_QUICK_LEN);
    bool hit = job->quick_ok && u && u->has_cached && same;
    pthread_mutex_unlock(&a->lock);
    if (hit) {
        explicit_bzero(job, sizeof(*job));
        job->user = -1;
        return KX_AUTH_PASS;
    }
    return KX_AUTH_VERIFY;
}

bool kx_auth_verify(struct kx_auth *a, struct kx_auth_job *job)
{
    const char *hash = job->user >= 0 ? a->u[job->user].hash : a->dummy;
    bool ok = kx_crypt_verify(job->pass, hash) && job->user >= 0;
    if (ok && job->quick_ok) {
        pthread_mutex_lock(&a->lock);
        memcpy(a->u[job->user].cached, job->quick, KX_AUTH_QUICK_LEN);
        a->u[job->user].has_cached = true;
        pthread_mutex_unlock(&a->lock);
    }
    explicit_bzero(job, sizeof(*job));
    job->user = -1;
    return ok;
}

bool kx_auth_check(struct kx_auth *a, const char *user, const char *pass)
{
    struct kx_auth_job job;
    switch (kx_auth_begin(a, user, pass, &job)) {
    case KX_AUTH_PASS:
        return true;
    case KX_AUTH_FAIL:
        return false;
    case KX_AUTH_VERIFY:
        break;
    }
    return kx_auth_verify(a, &job);
}
