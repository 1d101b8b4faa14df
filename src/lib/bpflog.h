/* SPDX-License-Identifier: MIT */
/*
 * libbpf's messages during a load, for the message of a failed load.
 * libbpf's print callback is process-global and takes no user data, so
 * every BPF loader of libkmem (the allocation tracer, the owner walker)
 * brackets its loads with kmem_bpf_log_begin()/_end(): loads are serialised
 * (two threads of the exporter neither mix their messages nor reset each
 * other's callback), and what libbpf said stays readable until _end().
 */
#ifndef KMEM_BPFLOG_H
#define KMEM_BPFLOG_H

/* Take the load lock, forget earlier messages, listen to libbpf. */
void kmem_bpf_log_begin(void);
/* Stop listening and release the lock. */
void kmem_bpf_log_end(void);
/* Forget the messages so far (between two tries of one load). */
void kmem_bpf_log_clear(void);
/* The verifier's reason if libbpf printed a load log, else libbpf's last warning; "" if none. */
const char *kmem_bpf_log_last(void);
/* The verifier's reason only ("verifier, program P: ..."), or "". */
const char *kmem_bpf_log_verifier(void);

#endif
