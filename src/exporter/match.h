/* SPDX-License-Identifier: MIT */
/*
 * Regular expressions for --collector.slabinfo.include/exclude, matched in
 * time linear in the subject and the size of the compiled expression, never
 * worse: a Thompson NFA run as a state set (the RE2 / Go regexp approach),
 * with no backtracking. The syntax is the part of RE2's (what Prometheus and
 * node_exporter use) that such an automaton can run:
 *
 *   literals, .  [abc] [^a-z] [[:alpha:]]  \d \D \s \S \w \W  \. \\ \t \n \xHH
 *   ( ) (?: ) (?P<name> ) (?i) (?i: )  |  * + ? {n} {n,} {n,m} (and lazy *? ...)
 *   ^ $ \A \z
 *
 * An expression matches a whole subject (Prometheus anchors as ^(?:re)$): the
 * anchoring is part of the automaton, so "a)|(b" is a syntax error, not a
 * way around it. Matching is byte-wise. What cannot be bounded or is not
 * supported is refused when compiling, with a message saying why: back
 * references (\1), repetition counts above KX_RE_MAX_REPEAT, a repetition of
 * a repetition (a**, a{2}{3}; write (a{2}){3}), more than KX_RE_MAX_INST
 * automaton states in all (.{0,255}){0,255}), nesting deeper than
 * KX_RE_MAX_DEPTH, \b, \pN, \Q...\E, octal escapes.
 */
#ifndef KX_MATCH_H
#define KX_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#define KX_RE_MAX_REPEAT 1000 /* as RE2 and Go */
#define KX_RE_MAX_INST   4000
#define KX_RE_MAX_DEPTH  1000
#define KX_RE_MAX_SOURCE 65536

struct kx_re;

/* Compile @src. 0; -EINVAL with a message in @err ("invalid nested
 * repetition operator: `**`"); -ENOMEM. */
int kx_re_compile(struct kx_re **out, const char *src, char *err, size_t errlen);
void kx_re_free(struct kx_re *re);

/* True if the whole of @s (@len bytes) matches. Safe from several threads.
 * Results are remembered per subject (up to 4096 subjects of up to 256
 * bytes), since the same cache names come back on every scrape. */
bool kx_re_match(struct kx_re *re, const char *s, size_t len);

/* Number of automaton states (for tests and the fuzz target). */
size_t kx_re_size(const struct kx_re *re);

#endif
