/* SPDX-License-Identifier: MIT */
/* replylog.c: test-only record of every reply sent, for the interface checker. */
#include "replylog.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "log.h"

/*
 * Replies already recorded, by a hash of method, more and reply bytes: a flood
 * of identical replies (the hostile tests pipeline thousands) is checked once,
 * and recording it does not slow the loop it measures. Test-only, so a table
 * that fills up simply records everything after.
 */
#define REPLYLOG_SEEN_MAX (1u << 16)
static uint64_t *replylog_seen;

/* FNV-1a over len bytes of p, continuing from h. */
static uint64_t replylog_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* true when this exact reply was recorded before (and remember it otherwise). */
static bool replylog_seen_before(const char *method, bool more, const char *reply, size_t len)
{
	uint64_t h = replylog_hash(0xcbf29ce484222325ull, method ? method : "", method ? strlen(method) + 1 : 1);

	h = replylog_hash(h, &more, sizeof(more));
	h = replylog_hash(h, reply, len) | 1; /* 0 marks a free slot */
	if (!replylog_seen && !(replylog_seen = calloc(REPLYLOG_SEEN_MAX, sizeof(*replylog_seen))))
		return false;
	for (size_t i = h % REPLYLOG_SEEN_MAX, n = 0; n < 64; i = (i + 1) % REPLYLOG_SEEN_MAX, n++) {
		if (replylog_seen[i] == h)
			return true;
		if (replylog_seen[i] == 0) {
			replylog_seen[i] = h;
			return false;
		}
	}
	return false;
}

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

void replylog_write(int fd, const char *method, bool more, const char *reply, size_t len)
{
	json_object *m;
	char *line = NULL;
	int head;

	if (fd < 0)
		return;
	if (len > 0 && reply[len - 1] == '\0')
		len--;
	if (replylog_seen_before(method, more, reply, len))
		return;
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
