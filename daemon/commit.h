/* SPDX-License-Identifier: MIT */
/* commit.h: pipelined group commit of the ledger: "call me back once what is written is durable". */
#pragma once

#include <stdbool.h>

struct event_base;
struct ledger;

struct commit;

/* Called once per commit_after_sync(): r 0 (durable) or the sync's -errno. */
typedef void (*commit_fn)(void *userdata, int r);

/*
 * A committer for ledger l on base: a callback queued with
 * commit_after_sync() runs once an fdatasync that began after it was queued
 * (so after every record written before) has ended. The fdatasync runs on a
 * thread of its own, so the loop keeps serving (and queueing the next batch)
 * while the disk syncs; one sync serves every callback queued before it
 * began. Compaction runs on the loop between syncs. The end-of-turn event
 * that starts a sync gets priority (the loop's lowest, so it runs after
 * everything else ready; -1: the default). 0 or -errno.
 */
int commit_new(struct event_base *base, int priority, struct ledger *l, struct commit **ret);
/*
 * Call fn(userdata, r) after the next sync that begins from now, in the order
 * queued; never from inside this call. 0, or -ENOMEM (fn will not be called).
 */
int commit_after_sync(struct commit *c, commit_fn fn, void *userdata);
/* Ask for a commit at the end of this loop turn, even with no callback waiting. */
void commit_later(struct commit *c);
/* True while a sync is running or callbacks wait for one. */
bool commit_busy(const struct commit *c);
/* Finish the running sync, sync the rest on this thread, call everyone back, stop the thread. NULL is fine. Returns NULL. */
struct commit *commit_free(struct commit *c);
