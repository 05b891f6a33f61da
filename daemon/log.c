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

/* Format one line: "<prio>text" for journald, "cgctld: text" otherwise. */
static void log_vmsg(int prio, const char *suffix, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void log_vmsg(int prio, const char *suffix, const char *fmt, va_list ap)
{
	char buf[2048];
	int n;

	if (prio > log_max_prio)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	/* An over-long message is cut, visibly, rather than dropped. */
	if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	if (log_journal)
		fprintf(log_out ? log_out : stderr, "<%d>%s%s\n", prio, buf, suffix ? suffix : "");
	else
		fprintf(log_out ? log_out : stderr, "cgctld: %s%s\n", buf, suffix ? suffix : "");
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
	char buf[2048];
	va_list ap;

	if (prio > log_max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!log_journal || sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", prio,
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
