/* SPDX-License-Identifier: MIT */
/*
 * HTTP basic authentication against bcrypt hashes (basic_auth_users), checked
 * with crypt(3) from libxcrypt ($2a$, $2b$, $2y$). A successful check is
 * cached as an HMAC-SHA256 of the password under a random per-process key
 * (GnuTLS), so that a scraper does not pay bcrypt's cost (~70 ms at cost 10)
 * on every request, and a wrong password costs the server thread
 * microseconds before bcrypt runs elsewhere.
 *
 * A check is two halves, so that the server can run bcrypt off its own
 * threads: kx_auth_begin() is cheap (the cache) and kx_auth_verify() is
 * bcrypt. Both take the same time for a user name that does not exist as
 * for one that does: the unknown name also computes the cache hash, then
 * bcrypt against a dummy hash of the configured users' cost.
 */
#ifndef KX_AUTH_H
#define KX_AUTH_H

#include <stdbool.h>

#include "webconfig.h"

/* bcrypt reads at most 72 bytes of a password; crypt(3) takes at most 512
 * (longer ones fail at once, whoever the user). */
#define KX_AUTH_PASS_USED 72
#define KX_AUTH_PASS_MAX  512
#define KX_AUTH_QUICK_LEN 32 /* HMAC-SHA256 */

struct kx_auth;

/* The pending slow half of one check (bcrypt). */
struct kx_auth_job {
    int user; /* index in the configured users, -1 for an unknown name */
    char pass[KX_AUTH_PASS_USED + 1];
    bool quick_ok;
    unsigned char quick[KX_AUTH_QUICK_LEN]; /* the password's cache hash, kept if bcrypt agrees */
};

enum kx_auth_verdict {
    KX_AUTH_PASS,   /* the password matched the cached good one */
    KX_AUTH_FAIL,   /* no credentials, or a password crypt(3) refuses */
    KX_AUTH_VERIFY, /* run kx_auth_verify(@job) for the answer */
};

/* NULL users (nusers == 0) means no authentication. 0 or -ENOMEM. */
int kx_auth_new(struct kx_auth **out, const struct kx_webconfig *cfg);
void kx_auth_free(struct kx_auth *a);
bool kx_auth_enabled(const struct kx_auth *a);

/* The cheap half: a cached good password passes; else @job is filled for
 * kx_auth_verify(). Safe from any thread. */
enum kx_auth_verdict kx_auth_begin(struct kx_auth *a, const char *user, const char *pass,
                                   struct kx_auth_job *job);
/* The slow half (bcrypt at the configured cost); remembers a good password
 * and wipes @job. Safe from any thread. */
bool kx_auth_verify(struct kx_auth *a, struct kx_auth_job *job);

/* Both halves on the calling thread: true if @user / @pass match. */
bool kx_auth_check(struct kx_auth *a, const char *user, const char *pass);

/* True if @pass matches the crypt(3) hash @hash (constant-time compare). */
bool kx_crypt_verify(const char *pass, const char *hash);

#endif
