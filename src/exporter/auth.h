/* SPDX-License-Identifier: MIT */
/*
 * HTTP basic authentication against bcrypt hashes (basic_auth_users), checked
 * with crypt(3) from libxcrypt ($2a$, $2b$, $2y$). A successful check is
 * cached as a salted SHA-256-crypt of the password, so that a scraper does
 * not pay bcrypt's cost (~70 ms at cost 10) on every request.
 */
#ifndef KX_AUTH_H
#define KX_AUTH_H

#include <stdbool.h>

#include "webconfig.h"

struct kx_auth;

/* NULL users (nusers == 0) means no authentication. 0 or -ENOMEM. */
int kx_auth_new(struct kx_auth **out, const struct kx_webconfig *cfg);
void kx_auth_free(struct kx_auth *a);
bool kx_auth_enabled(const struct kx_auth *a);
/* True if @user / @pass match. Safe from any thread. */
bool kx_auth_check(struct kx_auth *a, const char *user, const char *pass);

/* True if @pass matches the crypt(3) hash @hash (constant-time compare). */
bool kx_crypt_verify(const char *pass, const char *hash);

#endif
