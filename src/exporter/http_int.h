/* SPDX-License-Identifier: MIT */
/*
 * Private to the HTTP server: http.c (socket, requests, deadlines, setup)
 * and http_auth.c (password checks off the server threads).
 */
#ifndef KX_HTTP_INT_H
#define KX_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "http.h"

/* Connections MHD accepts beyond the limit, each closing an older one that
 * is still reading a request (http.c watchdog_main). */
#define KX_HTTP_LIMIT_SLACK 32
/* ... once they have been reading a request this long (ms) */
#define KX_HTTP_SLOW_MS 250
/* How often the watchdog looks again at a connection whose bytes wait
 * unread: the server, not the client, is slow (ms). */
#define KX_HTTP_STARVED_POLL_MS 50

/* One client connection (MHD's socket context). */
struct conn {
    int fd;
    struct sockaddr_storage addr; /* the client's, for the per-address queue limit */
    socklen_t addrlen;
    struct timespec since;       /* the current request started being read */
    struct timespec deadline;    /* for reading it */
    struct timespec last_chance; /* the deadline waits for a starved server until then */
    struct conn *prev, *next;    /* in kx_http.reading while a request is being read */
    bool reading;                /* in that list */
    enum { AUTH_NONE, AUTH_PENDING, AUTH_DONE } auth;
    bool auth_ok;
    /* A scrape collected on the scraper thread, not on a server thread (so
     * that probes and other connections on this thread answer meanwhile). */
    enum { SCRAPE_NONE, SCRAPE_PENDING, SCRAPE_DONE } scrape;
    bool scrape_gzip, scrape_suspended;
    struct MHD_Connection *scrape_mc;
    struct conn *scrape_next; /* in kx_http.scrapes while pending */
    int scrape_r;             /* the body provider's result */
    struct kx_body *scrape_body;
    char *scrape_err;  /* its message when it failed (or NULL) */
    bool evicted;      /* shut down to make room at the connection limit */
    bool auth_evicted; /* AUTH_DONE without a check: its queue slot went to a
                          fresher address (answered 429) */
};

/* A password check waiting for the verifier thread. */
struct auth_job {
    struct conn *c;
    struct MHD_Connection *mc;
    bool suspended; /* MHD_suspend_connection() returned: it may be resumed */
    struct kx_auth_job job;
};

struct kx_http {
    struct MHD_Daemon *d;
    pthread_mutex_t lock; /* the lists below, the queue, the counters */
    pthread_cond_t wake_watchdog, wake_verifier, wake_scraper;
    bool lock_ready, threads_started, stopping;
    pthread_t watchdog, verifier, scraper;
    struct conn *scrapes;     /* waiting for the scraper, oldest first */
    struct conn *head, *tail; /* reading a request, in deadline order */
    struct auth_job queue[KX_HTTP_AUTH_QUEUE];
    unsigned nqueue;         /* jobs in queue[0..nqueue) */
    struct auth_job running; /* the job being verified (c NULL when none) */
    /* Addresses whose last password check failed, most recent kept: their
     * checks wait behind those of other addresses, so that a flood from a
     * few addresses delays a new login by one check at most. */
    struct conn failed[256];
    unsigned nfailed_next;
    unsigned long expired, auth_refused;
    unsigned nconns;       /* open connections (MHD may accept a few over o.conn_limit) */
    unsigned evicting;     /* of which shut down to make room, not closed yet */
    unsigned long dropped; /* connections shut down to make room (at the limit) */
    struct kx_http_opts o;
    char *path;
    char *landing;
    char *priorities;
    const char *trust; /* PEM given to MHD as the client trust list, or NULL */
    bool starting;     /* MHD's messages are printed only while starting */
    /* GnuTLS functions for client certificates, found in the process
     * (libmicrohttpd links GnuTLS) so that kmem_exporter need not. */
    const void *(*get_peers)(void *session, unsigned *n);
    int (*verify_peers)(void *session, unsigned *status);
};

/* ---- password checks (http_auth.c) ---- */

enum auth_outcome { AUTH_OUT_OK, AUTH_OUT_DENIED, AUTH_OUT_SUSPENDED, AUTH_OUT_BUSY };

/* Check the request's basic auth: at once when no hash must be verified,
 * else queued for the verifier thread with the connection suspended. */
enum auth_outcome kx_http_check_auth(struct kx_http *h, struct conn *c, struct MHD_Connection *mc);
/* The verifier thread (h->verifier). */
void *kx_http_verifier_main(void *arg);

/* ---- scrapes off the server threads (http_scrape.c) ---- */

/* Queue a scrape of @c for the scraper thread and suspend the connection:
 * 0, or -errno (then serve it here). */
int kx_http_queue_scrape(struct kx_http *h, struct conn *c, struct MHD_Connection *mc, bool gzip);
/* Free what a finished scrape left on @c (a body never sent). */
void kx_http_scrape_reset(struct conn *c);
/* The scraper thread (h->scraper). */
void *kx_http_scraper_main(void *arg);

#endif
