/* SPDX-License-Identifier: MIT */
/* cgctl-oci-hook-log.c: the OCI hook's messages: stderr, syslog and its log file; the daemon's errors said in them. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cgctl.h"
#include "cleanup.h"
#include "oci.h"
#include "cgctl-oci-hook.h"

#define HOOK_LOG_MAX (1u << 20)       /* the default log is moved to .old beyond this */

/* The --log file, else the default one (moved to .old when it grew too big), opened to append; -1. */
static int hook_log_open(const struct hook *h)
{
	_cleanup_free_ char *old = NULL;
	struct stat st;
	int fd;

	if (h->log_path)
		return open(h->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (!h->auto_log)
		return -1;
	fd = open(h->auto_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < HOOK_LOG_MAX || asprintf(&old, "%s.old", h->auto_log) < 0)
		return fd;
	close(fd);
	(void)rename(h->auto_log, old);
	return open(h->auto_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
}

/* One line on stderr, to syslog, and in the log file with a timestamp. */
__attribute__((format(printf, 3, 0)))
static void hook_vlog(const struct hook *h, const char *level, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	char stamp[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	for (char *p = msg; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "cgctl-oci-hook: %s%s%s: %s\n", h->st.id ? h->st.id : "", h->st.id ? ": " : "", level,
		msg ? msg : fmt);
	/* runc shows a successful hook's stderr to nobody: the journal (syslog) and a file do. */
	syslog(level[0] == 'e' ? LOG_ERR : LOG_WARNING, "%s%s%s: %s", h->st.id ? h->st.id : "",
	       h->st.id ? ": " : "", level, msg ? msg : fmt);
	fd = hook_log_open(h);
	if (fd < 0)
		return;
	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
	dprintf(fd, "%s cgctl-oci-hook[%d]: %s%s%s: %s\n", stamp, (int)getpid(), h->st.id ? h->st.id : "",
		h->st.id ? ": " : "", level, msg ? msg : fmt);
	close(fd);
}

__attribute__((format(printf, 2, 3)))
void hook_warn(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hook_vlog(h, "warning", fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
int hook_error(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hook_vlog(h, "error", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

__attribute__((format(printf, 2, 3)))
int hook_soft(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hook_vlog(h, h->strict ? "error" : "warning", fmt, ap);
	va_end(ap);
	return h->strict ? EXIT_FAIL : EXIT_OK;
}

const char *hook_without(const struct hook *h)
{
	if (h->stage != STAGE_CREATE)
		return "nothing to remove now; cgctld removes the container's cgroup once it is empty, the next "
		       "cgctl-oci-hook --gc or createRuntime kills what is left in it";
	return h->strict ? "--strict: the container is not started"
			 : "the container runs without a cgroup of its own";
}

__attribute__((format(printf, 3, 0)))
void hook_log_cb(void *userdata, const char *level, const char *fmt, va_list ap)
{
	hook_vlog(userdata, level, fmt, ap);
}

const char *hook_why(const struct hook *h, int r, char *buf, size_t size)
{
	const char *name = h->c ? cgctl_error_name(h->c) : NULL;
	const char *msg = h->c ? cgctl_error_message(h->c) : NULL;
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (!name)
		return cgctl_strerror(r);
	snprintf(buf, size, "%s: %s", dot ? dot + 1 : name, msg ? msg : cgctl_strerror(r));
	return buf;
}

const char *hook_errmsg(const struct hook *h)
{
	const char *m = h->c ? cgctl_error_message(h->c) : NULL;

	return m ? m : "no reason given";
}

int hook_call_failed(const struct hook *h, const char *what, int r)
{
	char buf[1024];

	return hook_error(h, "%s: %s", what, hook_why(h, r, buf, sizeof(buf)));
}
