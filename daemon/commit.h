/* SPDX-License-Identifier: MIT */
/* commit.h: pipelined group commit of the ledger for durable replies. */
#pragma once

#include <stdbool.h>
#include <json-c/json.h>

struct call;
struct event_base;
struct ledger;

struct commit;

/*
 * A committer for ledger l on base: replies queued with commit_enqueue() go
 * out once an fdatasync that started after their records were written has
 * succeeded. The fdatasync runs on a thread of its own, so the loop keeps
 * serving (and queueing the next batch) while the disk syncs; one sync
 * serves every call queued before it started. Compaction runs on the loop
 * between syncs. 0 or -errno.
 */
int commit_new(struct event_base *base, struct ledger *l, struct commit **ret);
/* Answer call with params (consumed) after the next group commit. */
void commit_enqueue(struct commit *c, struct call *call, json_object *params);
/* Ask for a commit at the end of this loop turn, even with no call waiting. */
void commit_later(struct commit *c);
/* True while a sync is running or calls wait for one. */
bool commit_busy(const struct commit *c);
/* Finish the running sync, sync the rest on this thread, answer everyone, stop the thread. NULL is fine. Returns NULL. */
struct commit *commit_free(struct commit *c);
