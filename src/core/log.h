/* log.h - the daemon log: levelled, subsystem-tagged lines on stderr.
 *
 * Each .c file may `#define LOG_SUBSYS "wg"` before including this header;
 * lines are tagged with it. The log is for operators; the audit trail is a
 * separate, structured thing (src/audit). Never log secrets. */
#ifndef POSTERN_CORE_LOG_H
#define POSTERN_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "core/compiler.h"

enum log_level {
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_WARN,
	LOG_ERR,
	LOG_LEVEL_MAX
};

#ifndef LOG_SUBSYS
#define LOG_SUBSYS "postern"
#endif

/* Current threshold; lines below it are dropped before formatting. */
extern enum log_level log_threshold;

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
/* When on, each line is one JSON object (for journald/log shippers). */
void log_set_json(bool on);

/* Formats one line and writes it with a single write(2), so lines from
 * several threads never interleave. Lines longer than 4 KiB are cut. */
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
void log_vmsg(enum log_level level, const char *subsys, const char *fmt,
	      va_list ap) PRINTF_LIKE(3, 0);

#define log_at(lvl, ...)                                   \
	do {                                               \
		if ((lvl) >= log_threshold)                \
			log_msg((lvl), LOG_SUBSYS, __VA_ARGS__); \
	} while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_err(...) log_at(LOG_ERR, __VA_ARGS__)

#endif
