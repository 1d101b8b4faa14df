/* SPDX-License-Identifier: MIT */
/*
 * kmem_exporter's HTTP server (src/exporter/http.c) on a loopback port:
 * /-/ready follows the caller's ready() (503 before the first collection,
 * 200 after; 200 with none), /-/healthy is 200 whatever ready() says, the
 * telemetry path serves the body provider's bytes, another path is 404 and
 * another method 405. The exporter itself serves before its first
 * collection for milliseconds only, too short for an integration test.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/exporter/http.h"

#define BODY "kmem_test_metric 42\n"

static atomic_bool is_ready;
static atomic_int bodies;

static bool ready_fn(void *cls)
{
    (void)cls;
    return atomic_load(&is_ready);
}

static int body_fn(void *cls, bool gzip, struct kx_body *out, char *err, size_t errlen)
{
    (void)cls;
    (void)gzip;
    (void)err;
    (void)errlen;
    atomic_fetch_add(&bodies, 1);
    *out = (struct kx_body){.data = BODY, .len = strlen(BODY)};
    return 0;
}

/* One request on a new connection (HTTP/1.0: the server closes after the
 * answer); returns the status code and copies the body into @body. */
static int request(int port, const char *method, const char *path, char *body, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 30};
    char buf[8192], req[512];
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;
    const char *end;

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &status), 1);
    end = strstr(buf, "\r\n\r\n");
    snprintf(body, len, "%s", end ? end + 4 : "");
    return status;
}

static struct kx_http *serve(bool (*ready)(void *), int *port)
{
    char err[256] = "";
    int fd = kx_http_listen("127.0.0.1:0", err, sizeof(err));
    struct kx_http *h = NULL;

    assert_true(fd >= 0);
    *port = kx_http_port(fd);
    assert_true(*port > 0);
    struct kx_http_opts o = {
        .listen_fd = fd,
        .telemetry_path = "/metrics",
        .conn_limit = 16,
        .per_ip_limit = 16,
        .timeout_s = 10,
        .header_timeout_ms = 5000,
        .conn_memory_limit = 36 * 1024,
        .threads = 2,
        .metrics = body_fn,
        .ready = ready,
    };
    if (kx_http_start(&h, &o, err, sizeof(err)))
        fail_msg("kx_http_start: %s", err);
    return h;
}

static void test_ready_follows_collection(void **state)
{
    char body[4096];
    int port;
    struct kx_http *h;

    (void)state;
    atomic_store(&is_ready, false);
    h = serve(ready_fn, &port);
    assert_int_equal(request(port, "GET", "/-/ready", body, sizeof(body)), 503);
    assert_string_equal(body, "kmem_exporter is Not Ready: no collection yet.\n");
    assert_int_equal(request(port, "GET", "/-/healthy", body, sizeof(body)), 200);
    assert_string_equal(body, "kmem_exporter is Healthy.\n");
    atomic_store(&is_ready, true);
    assert_int_equal(request(port, "GET", "/-/ready", body, sizeof(body)), 200);
    assert_string_equal(body, "kmem_exporter is Ready.\n");
    assert_int_equal(request(port, "HEAD", "/-/ready", body, sizeof(body)), 200);
    assert_string_equal(body, "");
    kx_http_stop(h);
}

static void test_no_ready_callback(void **state)
{
    char body[4096];
    int port, before = atomic_load(&bodies);
    struct kx_http *h = serve(NULL, &port);

    (void)state;
    assert_int_equal(request(port, "GET", "/-/ready", body, sizeof(body)), 200);
    assert_int_equal(request(port, "GET", "/-/healthy", body, sizeof(body)), 200);
    /* neither probe asks for a collection */
    assert_int_equal(atomic_load(&bodies), before);
    assert_int_equal(request(port, "GET", "/metrics", body, sizeof(body)), 200);
    assert_string_equal(body, BODY);
    assert_int_equal(atomic_load(&bodies), before + 1);
    assert_int_equal(request(port, "GET", "/nothing-here", body, sizeof(body)), 404);
    assert_int_equal(request(port, "POST", "/metrics", body, sizeof(body)), 405);
    assert_int_equal(atomic_load(&bodies), before + 1);
    kx_http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_follows_collection),
        cmocka_unit_test(test_no_ready_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
