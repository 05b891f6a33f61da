// SPDX-License-Identifier: MIT
/* ledger_journal.c: appending records to the journal: one write(2) each, deferred ones batched. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger_internal.h"

/* Append buf (nrec whole records) with one write loop; on failure roll the file back. */
static int journal_write(struct ledger *l, const char *buf, size_t len, uint64_t nrec)
{
	int r;

	if (l->journal_torn) {
		if (ftruncate(l->journalfd, (off_t)l->journal_bytes) < 0)
			return -EIO;
		l->journal_torn = false;
	}
	r = ledger_write_all(l->journalfd, buf, len);
	if (r < 0) {
		/* A torn line left behind would swallow every later record at the next load. */
		if (ftruncate(l->journalfd, (off_t)l->journal_bytes) < 0)
			l->journal_torn = true;
		return r;
	}
	l->journal_bytes += len;
	l->journal_records += nrec;
	l->dirty = true;
	return 0;
}

/* Add line to the deferred records. 0 or -ENOMEM. */
static int pend_add(struct ledger *l, const char *line, size_t len)
{
	if (len > l->pend_cap - l->pend_len) {
		size_t cap = l->pend_cap ? l->pend_cap : 4096;
		char *p;

		while (cap - l->pend_len < len) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		p = realloc(l->pend, cap);
		if (!p)
			return -ENOMEM;
		l->pend = p;
		l->pend_cap = cap;
	}
	memcpy(l->pend + l->pend_len, line, len);
	l->pend_len += len;
	return 0;
}

/* Write the deferred records. */
int ledger_journal_flush(struct ledger *l)
{
	int r;

	if (l->pend_len == 0)
		return 0;
	r = journal_write(l, l->pend, l->pend_len, l->pend_records);
	if (r < 0)
		return r;
	l->pend_len = 0;
	l->pend_records = 0;
	return 0;
}

/* Append one record line now (after the deferred ones, in the same write) or deferred. */
int ledger_journal_append(struct ledger *l, const char *line, size_t len, bool defer)
{
	size_t before = l->pend_len;
	int r;

	if (defer && pend_add(l, line, len) >= 0) {
		l->pend_records++;
		return 0;
	}
	if (l->pend_len == 0)
		return journal_write(l, line, len, 1);
	if (pend_add(l, line, len) < 0) {
		/* No memory to join them: two writes, in order. */
		r = ledger_journal_flush(l);
		return r < 0 ? r : journal_write(l, line, len, 1);
	}
	r = journal_write(l, l->pend, l->pend_len, l->pend_records + 1);
	if (r < 0) {
		l->pend_len = before; /* this record was refused; the deferred ones stay */
		return r;
	}
	l->pend_len = 0;
	l->pend_records = 0;
	return 0;
}
