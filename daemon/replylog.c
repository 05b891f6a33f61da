/* SPDX-License-Identifier: MIT */
/* replylog.c: test-only record of every reply sent, for the interface checker. */
#include "replylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "log.h"

/* Open $CGCTLD_TEST_REPLY_LOG for appending. */
int replylog_open(void)
{
	const char *path = getenv(REPLYLOG_ENV);
	int fd;

	if (!path || !*path)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		log_warn_errno(-errno, "%s: cannot open the reply log (%s)", path, REPLYLOG_ENV);
		return -1;
	}
	log_notice("recording every reply in %s (%s; for tests)", path, REPLYLOG_ENV);
	return fd;
}

/* Append one record in one write. */
void replylog_write(int fd, const char *method, bool more, const char *reply, size_t len)
{
	json_object *m;
	char *line = NULL;
	int head;

	if (fd < 0)
		return;
	if (len > 0 && reply[len - 1] == '\0')
		len--;
	/* The method is the client's string: json-c escapes it. */
	m = json_object_new_string(method ? method : "");
	head = m ? asprintf(&line, "{\"method\":%s,\"more\":%s,\"reply\":",
			    json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN), more ? "true" : "false")
		 : -1;
	json_object_put(m);
	if (head < 0)
		return;
	_cleanup_free_ char *buf = realloc(line, (size_t)head + len + 2);
	if (!buf) {
		free(line);
		return;
	}
	memcpy(buf + head, reply, len);
	memcpy(buf + head + len, "}\n", 2);
	(void)!write(fd, buf, (size_t)head + len + 2);
}
