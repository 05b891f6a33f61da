/* SPDX-License-Identifier: MIT */
/* log.c: the daemon's logging to stderr, with journald priority prefixes. */
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

static int log_max_prio = LOG_INFO;
static bool log_journal;
static FILE *log_out; /* NULL: stderr */

/* Is stderr the journal stream systemd gave us ($JOURNAL_STREAM = dev:ino)? */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(int verbose)
{
	log_max_prio = verbose ? LOG_DEBUG : LOG_INFO;
	log_journal = stderr_is_journal();
}

void log_set_output(FILE *out, int max_prio)
{
	log_out = out;
	log_max_prio = max_prio;
}

/*
 * Copy text into out (size bytes), each control byte as \xNN: a name a tenant
 * made (a cgroup inside its delegated entry) may hold \r or an escape sequence,
 * which must neither forge a line nor drive the reader's terminal. A text that
 * does not fit is cut, visibly ("..."), rather than dropped.
 */
static void log_escape(const char *text, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t o = 0;

	/* Room is kept for an escape and for the "..." of a cut line. */
	for (; *p && o + 8 < size; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	memcpy(out + o, *p ? "..." : "", *p ? 4 : 1);
}

/* Format one line: "<prio>text" for journald, "cgctld: text" otherwise. */
static void log_vmsg(int prio, const char *suffix, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void log_vmsg(int prio, const char *suffix, const char *fmt, va_list ap)
{
	char buf[2048], line[2048];
	int n;

	if (prio > log_max_prio)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	/* An over-long message (n >= sizeof(buf)) is longer than line holds: cut there. */
	log_escape(buf, line, sizeof(line));
	if (log_journal)
		fprintf(log_out ? log_out : stderr, "<%d>%s%s\n", prio, line, suffix ? suffix : "");
	else
		fprintf(log_out ? log_out : stderr, "cgctld: %s%s\n", line, suffix ? suffix : "");
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(int prio, int r, const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(r < 0 ? -r : r));
	va_start(ap, fmt);
	log_vmsg(prio, suffix, fmt, ap);
	va_end(ap);
	return r;
}

void log_op(int prio, const char *op, const char *name, const char *fmt, ...)
{
	char buf[2048], line[2048];
	va_list ap;

	if (prio > log_max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_escape(buf, line, sizeof(line));
	if (!log_journal || sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio,
					    "SYSLOG_IDENTIFIER=cgctld", "CGCTL_CGROUP=%s", name,
					    "CGCTL_OPERATION=%s", op, NULL) < 0)
		log_msg(prio, "%s", buf);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}
