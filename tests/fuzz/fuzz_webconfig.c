/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the exporter-toolkit web configuration parser of
 * kmem_exporter (src/exporter/webconfig.c), fed from memory.
 *
 * The fuzz and replay builds link only libkmem and libm, so this file
 * compiles webconfig.c in and reaches libyaml through dlopen(): the five
 * libyaml functions the parser calls are defined here as forwarders.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *libyaml(void)
{
    static void *h;
    if (!h) {
        h = dlopen("libyaml-0.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "fuzz_webconfig: %s\n", dlerror());
            abort();
        }
    }
    return h;
}

static void *sym(const char *name)
{
    void *p = dlsym(libyaml(), name);
    if (!p) {
        fprintf(stderr, "fuzz_webconfig: %s not found\n", name);
        abort();
    }
    return p;
}

int yaml_parser_initialize(yaml_parser_t *parser)
{
    static int (*fn)(yaml_parser_t *);
    if (!fn)
        *(void **)&fn = sym("yaml_parser_initialize");
    return fn(parser);
}

void yaml_parser_delete(yaml_parser_t *parser)
{
    static void (*fn)(yaml_parser_t *);
    if (!fn)
        *(void **)&fn = sym("yaml_parser_delete");
    fn(parser);
}

void yaml_parser_set_input_string(yaml_parser_t *parser, const unsigned char *input, size_t size)
{
    static void (*fn)(yaml_parser_t *, const unsigned char *, size_t);
    if (!fn)
        *(void **)&fn = sym("yaml_parser_set_input_string");
    fn(parser, input, size);
}

int yaml_parser_parse(yaml_parser_t *parser, yaml_event_t *event)
{
    static int (*fn)(yaml_parser_t *, yaml_event_t *);
    if (!fn)
        *(void **)&fn = sym("yaml_parser_parse");
    return fn(parser, event);
}

void yaml_event_delete(yaml_event_t *event)
{
    static void (*fn)(yaml_event_t *);
    if (!fn)
        *(void **)&fn = sym("yaml_event_delete");
    fn(event);
}

#include "../../src/exporter/webconfig.c"

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
