/* log.c - levelled, subsystem-tagged log lines on stderr. */
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;
static bool log_json;

static const char *const level_names[LOG_LEVEL_MAX] = {
	"debug", "info", "warn", "error"
};

void log_set_level(enum log_level level)
{
	if (level < LOG_LEVEL_MAX)
		log_threshold = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < LOG_LEVEL_MAX; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_json(bool on)
{
	log_json = on;
}

/* Appends `s` to `out` as the inside of a JSON string; returns bytes used. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void log_vmsg(enum log_level level, const char *subsys, const char *fmt,
	      va_list ap)
{
	char msg[4096], line[8192 + 128], ts[40];
	struct timespec now;
	struct tm tm;
	int saved = errno;
	size_t n;

	if (level >= LOG_LEVEL_MAX)
		level = LOG_ERR;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

	if (log_json) {
		char esc[sizeof(msg) * 2];
		json_escape(esc, sizeof(esc), msg);
		n = (size_t)snprintf(line, sizeof(line),
				     "{\"time\":\"%s\",\"level\":\"%s\","
				     "\"subsys\":\"%s\",\"msg\":\"%s\"}\n",
				     ts, level_names[level], subsys, esc);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "%s %-5s %s: %s\n",
				     ts, level_names[level], subsys, msg);
	}
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write per line: lines from threads never interleave. */
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
	errno = saved;
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, subsys, fmt, ap);
	va_end(ap);
}
