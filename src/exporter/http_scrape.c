// SPDX-License-Identifier: MIT
/* HTTP server: collections off the server threads. A scrape suspends its
 * connection and one scraper thread asks the body provider (which may
 * collect for a long time on a big tree); meanwhile the server threads go on
 * answering probes and other connections. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "http_int.h"

void kx_http_scrape_reset(struct conn *c)
{
    if (c->scrape_body) {
        if (c->scrape_body->release)
            c->scrape_body->release(c->scrape_body->ref);
        free(c->scrape_body);
    }
    free(c->scrape_err);
    c->scrape_body = NULL;
    c->scrape_err = NULL;
    c->scrape = SCRAPE_NONE;
}

int kx_http_queue_scrape(struct kx_http *h, struct conn *c, struct MHD_Connection *mc, bool gzip)
{
    pthread_mutex_lock(&h->lock);
    if (h->stopping || !h->threads_started) {
        pthread_mutex_unlock(&h->lock);
        return -ESHUTDOWN;
    }
    c->scrape = SCRAPE_PENDING;
    c->scrape_gzip = gzip;
    c->scrape_suspended = false;
    c->scrape_mc = mc;
    c->scrape_next = NULL;
    struct conn **tail = &h->scrapes;
    while (*tail)
        tail = &(*tail)->scrape_next;
    *tail = c;
    pthread_mutex_unlock(&h->lock);

    /* Resuming a connection that is not suspended yet is undefined: the
     * scraper takes the job only once this is done. */
    MHD_suspend_connection(mc);
    pthread_mutex_lock(&h->lock);
    c->scrape_suspended = true;
    pthread_cond_signal(&h->wake_scraper);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

void *kx_http_scraper_main(void *arg)
{
    struct kx_http *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        struct conn **pp = &h->scrapes;
        while (*pp && !(*pp)->scrape_suspended)
            pp = &(*pp)->scrape_next;
        if (!*pp) {
            if (h->stopping && !h->scrapes)
                break;
            pthread_cond_wait(&h->wake_scraper, &h->lock);
            continue;
        }
        struct conn *c = *pp;
        *pp = c->scrape_next;
        c->scrape_next = NULL;
        bool stopping = h->stopping, gzip = c->scrape_gzip;
        struct MHD_Connection *mc = c->scrape_mc;
        pthread_mutex_unlock(&h->lock);

        char err[512] = "";
        struct kx_body *b = calloc(1, sizeof(*b));
        int r = !b         ? -ENOMEM
                : stopping ? -ESHUTDOWN
                           : h->o.metrics(h->o.metrics_cls, gzip, b, err, sizeof(err));
        if (r) {
            free(b);
            b = NULL;
        }
        char *msg = r && err[0] ? strdup(err) : NULL;

        pthread_mutex_lock(&h->lock);
        c->scrape_r = r;
        c->scrape_body = b;
        c->scrape_err = msg;
        c->scrape = SCRAPE_DONE;
        pthread_mutex_unlock(&h->lock);
        MHD_resume_connection(mc);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}
