/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder (docs/recorder.md): record samples of everything a
 * capture holds into a directory, and read them back.
 *
 * Writing: kmem_recorder_open() locks DIR (one recorder per directory),
 * kmem_recorder_sample() collects with a context and appends one record.
 * Reading: kmem_recording_open(), kmem_recording_scan() lists the samples,
 * kmem_recording_materialize() writes one sample as a capture directory
 * that a context opened with that root reads exactly as the capture of
 * that moment. Never prints, never exits; errors in kmem_rec*_strerror().
 */
#ifndef KMEM_KMEMREC_H
#define KMEM_KMEMREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmem.h"
#include "recfmt.h"

/* ---- writing ------------------------------------------------------------ */

struct kmem_recorder;

struct kmem_recorder_opts {
    const char *dir;
    uint64_t retain_seconds;  /* remove segments whose newest sample is older (0: keep) */
    uint64_t max_bytes;       /* remove the oldest segments beyond this total (0: no limit) */
    uint64_t segment_seconds; /* start a new segment file after this long (default 3600) */
    unsigned keyframe_every;  /* a keyframe at least every N samples (default 360) */
    int level;                /* zstd level (default 3) */
    unsigned chain_every;     /* a sample not chained to the one before at least every N
                                 (default KMEM_REC_DEFAULT_CHAIN) */
    bool no_sync;             /* do not fdatasync after each record (tests, benchmarks) */
    const char *command;      /* the command line, in each sample's kmem-capture.txt */
};

/* The owner snapshot (a BPF walk of every slab page) is taken at most this often
 * while recording, and carried into the samples between. */
#define KMEM_REC_OWNERS_INTERVAL 300.0

/* Reading a chained sample decompresses at most this many records after the keyframe. */
#define KMEM_REC_DEFAULT_CHAIN     30
#define KMEM_REC_DEFAULT_RETAIN    (7 * 86400ull)
#define KMEM_REC_DEFAULT_MAX_BYTES (256ull << 20)

struct kmem_recorder_stats {
    uint64_t samples, keyframes, oom_samples;
    uint64_t raw_bytes;  /* sum of the samples' blobs */
    uint64_t disk_bytes; /* sum of the records written (headers included) */
    uint32_t last_raw, last_comp;
    size_t last_files;
    uint64_t removed_segments;
};

/*
 * Open (create, mode 0700) @o->dir and lock it: a second recorder on the
 * same directory gets -EWOULDBLOCK and a message naming the first one's pid.
 * Each run writes into new segment files; earlier ones are never written.
 */
int kmem_recorder_open(struct kmem_recorder **out, const struct kmem_recorder_opts *o, char *errbuf,
                       size_t errlen);
void kmem_recorder_close(struct kmem_recorder *r);

/*
 * Collect everything with @ctx (KMEM_COLLECT_ALL) and append it as one
 * sample, marked KMEM_REC_OOM if @oom. Parts that fail are recorded as a
 * capture would (missing files). Returns 0, or -errno when the sample could
 * not be written: then the recording stops (-ENOSPC: the disk is full) and
 * every earlier record stays intact.
 */
int kmem_recorder_sample(struct kmem_recorder *r, struct kmem_ctx *ctx, bool oom);

/*
 * Read every memory cgroup's OOM-kill counter (v2 memory.events oom_kill,
 * v1 memory.oom_control oom_kill) of the cgroups seen in the last sample:
 * true when one rose since the last sample. Cheap: on the live procfs it
 * reads /proc/vmstat oom_kill (every OOM kill) and the cgroups' files only
 * when that rose; elsewhere one small file per cgroup.
 */
bool kmem_recorder_oom_rose(struct kmem_recorder *r);

/*
 * Take the next samples at time @t_ns instead of the clock (0: the clock):
 * for tests with a known timeline and for synthesizing recordings.
 */
void kmem_recorder_set_time(struct kmem_recorder *r, uint64_t t_ns);

const char *kmem_recorder_strerror(const struct kmem_recorder *r);
const struct kmem_recorder_stats *kmem_recorder_stats(const struct kmem_recorder *r);

/* ---- reading ------------------------------------------------------------ */

struct kmem_recording;

struct kmem_rec_sample {
    uint64_t time_ns; /* CLOCK_REALTIME */
    uint32_t flags;   /* KMEM_REC_* */
    uint32_t raw_len, comp_len;
    unsigned seg; /* index of its segment */
    size_t off;   /* offset of its record in the segment */
    size_t key_off;
    size_t link_off; /* where its chain starts (KMEM_REC_CHAIN): the records from there to
                        it are decompressed in turn; its own offset if not chained */
};

/* Open a recording directory (read only; a recorder may be writing it). */
int kmem_recording_open(struct kmem_recording **out, const char *dir, char *errbuf, size_t errlen);
void kmem_recording_close(struct kmem_recording *r);

/*
 * List the samples of every segment (or, with @t_ns not 0, only of the
 * segment that holds time @t_ns: fast for one moment of a long recording).
 * Torn tails and corrupt records are skipped; each is described in
 * kmem_recording_warnings(). 0 or -errno.
 */
int kmem_recording_scan(struct kmem_recording *r, uint64_t t_ns);
size_t kmem_recording_count(const struct kmem_recording *r);
const struct kmem_rec_sample *kmem_recording_sample(const struct kmem_recording *r, size_t i);
/* Messages about skipped data, one per line ("" if none). */
const char *kmem_recording_warnings(const struct kmem_recording *r);

/* Index of the last sample at or before @t_ns, or -1 (before the first). */
long kmem_recording_find(const struct kmem_recording *r, uint64_t t_ns);

/* Decompress sample @i into @fs. 0 or -errno (message in kmem_recording_strerror). */
int kmem_recording_load(struct kmem_recording *r, size_t i, struct kmem_fileset *fs);

/*
 * Write sample @i as a capture directory: a new private directory (0700,
 * files 0600) made with mkdtemp(@tmpl), e.g. "/tmp/kmem-replay.XXXXXX".
 * kmem_ctx_new(root = @tmpl) then reads it. Remove it with
 * kmem_rec_remove_tree(). 0 or -errno.
 */
int kmem_recording_materialize(struct kmem_recording *r, size_t i, char *tmpl);

/* Write @fs below the directory @dirfd (new files only). 0 or -errno, @what names the file. */
int kmem_fs_write_tree(const struct kmem_fileset *fs, int dirfd, char *what, size_t whatlen);

/*
 * Where samples are written out: $TMPDIR, else /dev/shm (a tmpfs: writing
 * ~1000 small files there takes milliseconds, on a disk up to seconds),
 * else /tmp.
 */
const char *kmem_rec_tmpdir(void);

/* Remove a directory that kmem_recording_materialize() made. 0 or -errno. */
int kmem_rec_remove_tree(const char *dir);

const char *kmem_recording_strerror(const struct kmem_recording *r);

/* True when @dir holds a recording (segment files). */
bool kmem_is_recording(const char *dir);

/*
 * Parse a time as SPEC.md gives it: "YYYY-MM-DD HH:MM[:SS]" (local time),
 * "N{s,m,h,d} ago", or "now", relative to @now_ns. 0 or -EINVAL.
 */
int kmem_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns);
/* "YYYY-MM-DD HH:MM:SS" local time. */
void kmem_format_time(uint64_t t_ns, char *out, size_t len);
/* "7d", "12h", "30m", "45s" (or plain seconds) into seconds. 0 or -EINVAL. */
int kmem_parse_duration(const char *s, uint64_t *out_s);
/* "256MiB", "1GiB", "500M", "100k", plain bytes. 0 or -EINVAL. */
int kmem_parse_size(const char *s, uint64_t *out);

/* ---- leak verdicts over a window (verdict.c) ----------------------------- */

#define KMEM_VERDICT_MAX_POINTS 48 /* samples read back per window, spread evenly */

enum kmem_verdict_kind {
    KMEM_VERDICT_NOISE,               /* grew less than max(1 MiB, 5 %), or shrank, or unsteady */
    KMEM_VERDICT_RECLAIMABLE_WARMING, /* reclaimable (slab) memory that grew: reclaim can free it */
    KMEM_VERDICT_LEAK_SUSPECT,        /* unreclaimable, rising steadily through the window */
    KMEM_VERDICT_DYING_PINNED,        /* removed cgroups held by the kernel, growing */
    KMEM_VERDICT_GREW_NOT_STEADY,     /* not reclaimable, grew beyond noise, but in a step or
                                       * bursts, not steadily: not the shape of a leak */
    KMEM_VERDICT_COUNT
};
extern const char *const kmem_verdict_name[KMEM_VERDICT_COUNT];

enum kmem_verdict_subject {
    KMEM_SUBJECT_NODE,   /* "SUnreclaim", "SReclaimable" */
    KMEM_SUBJECT_CACHE,  /* a slab cache ("name" or "name#dup") */
    KMEM_SUBJECT_CGROUP, /* a cgroup's kernel memory: unreclaimable (kernel - slab_reclaimable),
                          * or its slab_reclaimable (reclaimable) */
    KMEM_SUBJECT_DYING,  /* what the dying memory cgroups pin (estimate) */
};
/* "node", "cache", "cgroup", "dying": as --verdicts and the TUI name them */
extern const char *const kmem_verdict_subject_name[KMEM_SUBJECT_DYING + 1];

struct kmem_verdict {
    enum kmem_verdict_kind verdict;
    enum kmem_verdict_subject subject;
    char name[512];
    bool reclaimable;
    double first, last; /* bytes at the window's first and last point */
    int64_t growth;     /* last - first */
    int64_t growth_first_half, growth_second_half;
    double rate_per_hour; /* least-squares slope, bytes per hour */
    size_t points;
    bool stabilised;          /* warming: the second half grew < 1/4 of the first */
    double reclaimable_bytes; /* warming: what reclaim could free at most (the last value) */
    uint64_t limit;           /* leak: memory.max / limit_in_bytes, or MemTotal */
    double hours_to_limit;    /* leak: at this rate, until the limit; -1 unknown */
    /* cache: reclaim_account, but its objects are freed only when their users
     * close them (kmem_cache_pinned_while_used()): judged as unreclaimable */
    bool pinned;
    char merged[256]; /* cache: the other names merged into it ("UNIX,UNIX-STREAM"), or "" */
    char pod[768];    /* cgroup: "namespace/pod/container", or "" */
    /* cgroup without kernel parts (v1): the series is all of its kernel memory,
     * reclaimable slab included */
    bool whole_kernel;
    /* whole_kernel: the reclaimable slab the owner snapshot at the last point
     * charged to it (-1: no owner snapshot taken in the second half of the
     * window), and its largest reclaimable cache */
    double owned_reclaimable;
    char owned_top[64];
};

/*
 * A cache the kernel counts as reclaimable (reclaim_account) whose objects
 * reclaim cannot free while they are used: sock_inode_cache holds one inode
 * per open socket, freed when the socket is closed.
 */
bool kmem_cache_pinned_while_used(const char *name);

struct kmem_oom_event {
    uint64_t time_ns;
    char cgroup[4096];
    char pod[768]; /* "namespace/pod/container" or "" */
    uint64_t kills;
    uint64_t usage, limit, kernel;
    uint32_t comp_present;
    uint64_t comp[KMEM_CG_KIND_COUNT];
    /* The same at the sample before the kill (the sample marked by the
     * recorder is taken after it, when the killed task's memory is freed). */
    bool before_known;
    uint64_t before_ns, before_usage, before_kernel;
    uint32_t before_comp_present;
    uint64_t before_comp[KMEM_CG_KIND_COUNT];
};

struct kmem_verdicts {
    struct kmem_verdict *v; /* not noise, leak suspects first, then by growth */
    size_t n, n_noise;
    struct kmem_oom_event *oom; /* each OOM kill recorded in the window */
    size_t n_oom, cap_oom;
    uint64_t from_ns, to_ns;
    size_t points, samples;
};

/*
 * Verdicts over the samples of @r (scanned) between @from_ns and @to_ns.
 * 0, -ENOENT (no sample in the window), or -errno.
 */
int kmem_recording_verdicts(struct kmem_recording *r, uint64_t from_ns, uint64_t to_ns,
                            struct kmem_verdicts *out);
void kmem_verdicts_free(struct kmem_verdicts *v);

#endif
