/* SPDX-License-Identifier: MIT */
/*
 * The exporter's log: every message it prints after its flags are parsed
 * goes through here (--log.level, --log.format), one line per message on
 * stderr, in the shape of Prometheus' and node_exporter's slog output:
 *
 *   logfmt: time=2025-01-02T03:04:05.678Z level=INFO msg="..." key=value
 *   json:   {"time":"2025-01-02T03:04:05.678Z","level":"INFO","msg":"...","key":"value"}
 *
 * A line is built whole and written with one write(2), so lines from
 * several threads never interleave. Usage errors and --help are not log
 * messages (they come before the flags that shape the log).
 */
#ifndef KX_LOG_H
#define KX_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum kx_log_level { KX_LOG_DEBUG, KX_LOG_INFO, KX_LOG_WARN, KX_LOG_ERROR };
enum kx_log_format { KX_LOG_LOGFMT, KX_LOG_JSON };

/* "debug", "info", "warn", "error" / "logfmt", "json". 0 or -EINVAL. */
int kx_log_parse_level(const char *s, enum kx_log_level *out);
int kx_log_parse_format(const char *s, enum kx_log_format *out);

/* Defaults: info, logfmt, stderr. @fd is where lines go (tests). */
void kx_log_setup(enum kx_log_level level, enum kx_log_format format, int fd);
bool kx_log_enabled(enum kx_log_level level);

/*
 * One message with key/value pairs: kx_log(KX_LOG_INFO, "Listening", "address",
 * ":10465", NULL). Keys are plain words; values any text (quoted and escaped
 * as the format needs, invalid UTF-8 replaced). A NULL value is written "".
 */
void kx_log(enum kx_log_level level, const char *msg, ...) __attribute__((sentinel));

/* Render one line (with its newline) into @buf, truncated to fit (no I/O;
 * for tests). Returns its length. */
size_t kx_log_format_line(char *buf, size_t len, enum kx_log_format format, long long unix_ms,
                          enum kx_log_level level, const char *msg, va_list kv);

#endif
