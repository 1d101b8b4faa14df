/* charge: a static helper for the VM scenarios (tests/vm/). Run inside a
 * memory cgroup, it makes the kernel allocate memory charged to that cgroup,
 * then holds it until killed:
 *
 *   -f DIR:N:BYTES  create N files in DIR with BYTES of data each
 *                   (tmpfs: dentries and inodes; page cache for the data)
 *   -t N            start N threads (kernel stacks)
 *   -p N            fork N processes that sleep (kernel stacks, page tables)
 *   -m MIB          map MIB MiB of anonymous memory, touch one byte per 2 MiB
 *                   (one page-table page per touch)
 *   -s BYTES        a TCP connection over 127.0.0.1 with BYTES written and
 *                   never read (socket buffers: v2 "sock"; sockets in slab)
 *   -u N            N unix socket pairs (socket inodes and sockets in slab)
 *   -r FILE         create FILE once everything is charged
 *   -x              exit after charging instead of holding (a cgroup removed
 *                   afterwards keeps the file charges: a dying cgroup)
 *
 * Exit status 0 (with -x) or killed; 1 with a message on any failure.
 * Built with gcc -static by tests/vm/mkinitramfs.sh; not part of kmem. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define STEP (2UL << 20) /* one page-table page maps 2 MiB on x86-64 */

static void die(const char *what)
{
    fprintf(stderr, "charge: %s: %s\n", what, strerror(errno));
    exit(1);
}

static unsigned long num(const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "charge: bad number '%s'\n", s);
        exit(1);
    }
    return v;
}

static void files(char *spec)
{
    char *n = strchr(spec, ':'), *bytes;
    static char data[65536];
    unsigned long count, size;

    if (!n || !(bytes = strchr(n + 1, ':'))) {
        fprintf(stderr, "charge: -f wants DIR:N:BYTES\n");
        exit(1);
    }
    *n++ = '\0';
    *bytes++ = '\0';
    count = num(n);
    size = num(bytes);
    memset(data, 'k', sizeof(data));
    for (unsigned long i = 0; i < count; i++) {
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/f%lu", spec, i);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            die(path);
        for (unsigned long left = size; left > 0;) {
            size_t w = left < sizeof(data) ? left : sizeof(data);
            ssize_t r = write(fd, data, w);

            if (r <= 0)
                die(path);
            left -= (unsigned long)r;
        }
        close(fd);
    }
}

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void threads(unsigned long n)
{
    pthread_attr_t a;

    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (unsigned long i = 0; i < n; i++) {
        pthread_t t;
        int err = pthread_create(&t, &a, idle, NULL);

        if (err) {
            errno = err;
            die("pthread_create");
        }
    }
    pthread_attr_destroy(&a);
}

static void processes(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        pid_t p = fork();

        if (p < 0)
            die("fork");
        if (p == 0) {
            for (;;)
                pause();
        }
    }
}

static void mappings(unsigned long mib)
{
    size_t len = (size_t)mib << 20;
    char *m =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (m == MAP_FAILED)
        die("mmap");
    madvise(m, len, MADV_NOHUGEPAGE);
    for (size_t off = 0; off < len; off += STEP)
        m[off] = 1;
}

static void tcp(unsigned long bytes)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    static char data[65536];
    int l, c, s;

    l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) < 0)
        die("tcp listen");
    c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("tcp connect");
    s = accept(l, NULL, NULL);
    if (s < 0)
        die("tcp accept");
    if (fcntl(c, F_SETFL, O_NONBLOCK) < 0)
        die("fcntl");
    memset(data, 's', sizeof(data));
    for (unsigned long left = bytes; left > 0;) {
        size_t w = left < sizeof(data) ? left : sizeof(data);
        ssize_t r = write(c, data, w);

        if (r < 0 && errno == EAGAIN)
            break; /* both buffers full: enough */
        if (r <= 0)
            die("tcp write");
        left -= (unsigned long)r;
    }
    /* l, c and s stay open: the data sits in s's receive queue. */
}

static void unix_pairs(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
            die("socketpair");
    }
}

int main(int argc, char **argv)
{
    const char *ready = NULL;
    int opt, hold = 1;

    while ((opt = getopt(argc, argv, "f:t:p:m:s:u:r:x")) != -1) {
        switch (opt) {
        case 'f':
            files(optarg);
            break;
        case 't':
            threads(num(optarg));
            break;
        case 'p':
            processes(num(optarg));
            break;
        case 'm':
            mappings(num(optarg));
            break;
        case 's':
            tcp(num(optarg));
            break;
        case 'u':
            unix_pairs(num(optarg));
            break;
        case 'r':
            ready = optarg;
            break;
        case 'x':
            hold = 0;
            break;
        default:
            fprintf(stderr, "usage: charge [-f DIR:N:BYTES] [-t N] [-p N] [-m MIB] [-s BYTES] "
                            "[-u N] [-r FILE] [-x]\n");
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "charge: unexpected argument '%s'\n", argv[optind]);
        return 1;
    }
    if (ready) {
        int fd = open(ready, O_WRONLY | O_CREAT, 0644);

        if (fd < 0)
            die(ready);
        close(fd);
    }
    if (!hold)
        return 0;
    signal(SIGCHLD, SIG_IGN);
    for (;;)
        pause();
}
