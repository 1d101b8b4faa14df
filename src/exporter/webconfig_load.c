// SPDX-License-Identifier: MIT
/* exporter-toolkit web configuration: reading the file and the PEM files it names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "webconfig.h"

/* ---- loading files ---- */

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a file";
}

/*
 * Read a regular file whole. Opened with O_NONBLOCK so that a FIFO cannot
 * hang the start (open(2) of a FIFO waits for a writer), then refused unless
 * it is a regular file; the reading is libkmem's one whole-file reader. On
 * error -errno and, in @why, a reason for humans.
 */
static int read_file(const char *path, char **out, size_t *outlen, struct stat *st, char *why,
                     size_t whylen)
{
    struct kmem_buf b = {0};
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(why, whylen, "%s", strerror(e));
        return -e;
    }
    if (fstat(fd, st) < 0) {
        int e = errno;
        snprintf(why, whylen, "%s", strerror(e));
        close(fd);
        return -e;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(why, whylen, "%s, not a regular file", file_kind(st->st_mode));
        close(fd);
        return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
    }
    int r = kmem_buf_read_fd(&b, fd, KX_WEBCONFIG_MAX_FILE);
    close(fd);
    if (r) {
        free(b.data);
        if (r == -EFBIG)
            snprintf(why, whylen, "larger than %u bytes", KX_WEBCONFIG_MAX_FILE);
        else
            snprintf(why, whylen, "%s", strerror(-r));
        return r;
    }
    *out = b.data;
    if (outlen)
        *outlen = b.len;
    return 0;
}

/* True if @pem has a "-----BEGIN <label>-----" line (@label may be a suffix,
 * as "PRIVATE KEY" for "EC PRIVATE KEY") followed by its END line. */
static bool pem_has(const char *pem, const char *label)
{
    size_t ll = strlen(label);
    for (const char *p = strstr(pem, "-----BEGIN "); p; p = strstr(p + 1, "-----BEGIN ")) {
        const char *name = p + 11, *close = strstr(name, "-----");
        if (!close || (size_t)(close - name) < ll || memchr(name, '\n', (size_t)(close - name)))
            continue;
        if (memcmp(close - ll, label, ll) || (close - ll != name && close[-ll - 1] != ' '))
            continue;
        char end[96];
        snprintf(end, sizeof(end), "-----END %.*s-----", (int)(close - name), name);
        if (strstr(close, end))
            return true;
    }
    return false;
}

/* Read the PEM file @rel (relative to @dir unless absolute) into *pem. */
static int load_pem(struct kx_webconfig *c, const char *cfgpath, const char *dir, const char *key,
                    const char *rel, char **pem, char *err, size_t errlen)
{
    char path[4096], why[256];
    struct stat st;
    if (rel[0] == '/' || !dir)
        snprintf(path, sizeof(path), "%s", rel);
    else
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
    char *data = NULL;
    int r = read_file(path, &data, NULL, &st, why, sizeof(why));
    if (r) {
        snprintf(err, errlen, "%s: cannot read %s %s: %s", cfgpath, key, path, why);
        return r;
    }
    if (st.st_mode & S_IWOTH)
        kx_webconfig_warn(c, "%s %s is writable by other users (chmod o-w)", key, path);
    if (!strcmp(key, "key_file") && (st.st_mode & S_IROTH))
        kx_webconfig_warn(
            c, "%s %s is readable by other users: the private key is exposed (chmod o-r)", key,
            path);
    free(*pem);
    *pem = data;
    return 0;
}

/* The PEM contents (from files or inline) hold what they are for. */
static int check_pems(const struct kx_webconfig *c, const char *cfgpath, const char *dir, char *err,
                      size_t errlen)
{
    const struct {
        const char *pem, *file, *key, *label, *what;
    } want[] = {
        {c->cert, c->cert_file, "cert", "CERTIFICATE", "certificate"},
        {c->key, c->key_file, "key", "PRIVATE KEY", "private key"},
        {c->client_ca, c->client_ca_file, "client_ca", "CERTIFICATE", "certificate"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!want[i].pem || pem_has(want[i].pem, want[i].label))
            continue;
        if (want[i].file)
            snprintf(err, errlen,
                     "%s: %s_file %s%s%s holds no %s (a PEM \"-----BEGIN %s-----\" block)", cfgpath,
                     want[i].key, want[i].file[0] == '/' || !dir ? "" : dir,
                     want[i].file[0] == '/' || !dir ? "" : "/", want[i].file, want[i].what,
                     want[i].label);
        else
            snprintf(err, errlen, "%s: %s holds no %s (a PEM \"-----BEGIN %s-----\" block)",
                     cfgpath, want[i].key, want[i].what, want[i].label);
        return -EINVAL;
    }
    return 0;
}

int kx_webconfig_load(const char *path, struct kx_webconfig *c, char *err, size_t errlen)
{
    char *buf = NULL, why[256];
    size_t len = 0;
    struct stat st;
    kx_webconfig_init(c);
    int r = read_file(path, &buf, &len, &st, why, sizeof(why));
    if (r) {
        snprintf(err, errlen, "%s: cannot read the web configuration: %s", path, why);
        return r;
    }
    r = kx_webconfig_parse(buf, len, path, c, err, errlen);
    free(buf);
    if (r)
        return r;
    if (st.st_mode & S_IWOTH)
        kx_webconfig_warn(c,
                          "%s is writable by other users: anyone can change the TLS and password "
                          "settings (chmod o-w)",
                          path);

    /* exporter-toolkit resolves relative paths from the config file's directory. */
    char *dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    const char *base = slash ? dir : NULL;
    if (!r && c->cert_file)
        r = load_pem(c, path, base, "cert_file", c->cert_file, &c->cert, err, errlen);
    if (!r && c->key_file)
        r = load_pem(c, path, base, "key_file", c->key_file, &c->key, err, errlen);
    if (!r && c->client_ca_file)
        r = load_pem(c, path, base, "client_ca_file", c->client_ca_file, &c->client_ca, err,
                     errlen);
    if (!r)
        r = check_pems(c, path, base, err, errlen);
    free(dir);
    return r;
}
