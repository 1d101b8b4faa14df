/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the exporter-toolkit web configuration parser of
 * kmem_exporter (src/exporter/webconfig.c), fed from memory.
 * Linked with the exporter's objects (build/libkx.a) and libyaml.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kx_webconfig c;
    char err[512];

    int r = kx_webconfig_parse((const char *)data, size, "fuzz.yml", &c, err, sizeof(err));
    if (r == 0) {
        /* What a parsed config promises to the server. */
        if (c.tls && !(c.cert || c.cert_file))
            abort();
        if (c.tls && !(c.key || c.key_file))
            abort();
        if (c.min_version > c.max_version || c.min_version < 10 || c.max_version > 13)
            abort();
        if ((unsigned)c.client_auth >= KX_CLIENT_AUTH_COUNT)
            abort();
        for (size_t i = 0; i < c.nusers; i++)
            if (!c.users[i].name || !c.users[i].hash || strlen(c.users[i].hash) != 60)
                abort();
        for (size_t i = 0; i < c.nheaders; i++) {
            if (!c.headers[i].value[0])
                abort();
            for (const unsigned char *ch = (const unsigned char *)c.headers[i].value; *ch; ch++)
                if ((*ch < 0x20 && *ch != '\t') || *ch == 0x7f)
                    abort(); /* no control characters reach a response */
        }
        for (size_t i = 0; i < c.nusers; i++)
            if ((c.users[i].hash[4] - '0') * 10 + (c.users[i].hash[5] - '0') > KX_BCRYPT_MAX_COST)
                abort();
    } else if (r != -EINVAL && r != -ENOMEM) {
        abort();
    } else if (!err[0]) {
        abort(); /* every failure says why */
    }
    kx_webconfig_free(&c);
    return 0;
}
