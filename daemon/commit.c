/* SPDX-License-Identifier: MIT */
/* commit.c: pipelined group commit of the ledger for durable replies. */
#include "commit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>
#include <event2/event.h>

#include "ledger.h"
#include "log.h"

/* One "call me back after a sync" request. */
struct waiter {
	TAILQ_ENTRY(waiter) entry;
	commit_fn fn;
	void *userdata;
};

TAILQ_HEAD(waiter_list, waiter);

/*
 * Waiters move from queue (records written, no sync started since) to inflight
 * (the running sync covers them) to their callback. Only the loop thread touches
 * the ledger and the lists; the sync thread sees nothing but job_fd.
 */
struct commit {
	struct ledger *ledger;
	struct event *turn_ev; /* end of a loop turn: start a sync unless one runs */
	struct event *done_ev; /* efd readable: the sync thread finished */
	int efd;
	bool running;          /* the sync thread holds a job */
	bool wanted;           /* commit_later() asked for a sync with no call waiting */
	unsigned last_batch;   /* waiters the last sync served (counted up to 2) */
	struct waiter_list queue;
	struct waiter_list inflight;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int job_fd;            /* to fdatasync; -1: no job (under lock) */
	int job_result;        /* 0 or -errno of the last job (under lock) */
	bool stop;             /* the thread should exit (under lock) */
};

/* The sync thread: fdatasync each job, then wake the loop through efd. */
static void *commit_thread(void *arg)
{
	struct commit *c = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		int fd, r;

		while (c->job_fd < 0 && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->job_fd < 0)
			break;
		fd = c->job_fd;
		pthread_mutex_unlock(&c->lock);
		r = fdatasync(fd) < 0 ? -errno : 0;
		pthread_mutex_lock(&c->lock);
		c->job_result = r;
		c->job_fd = -1;
		/* A full eventfd counter cannot happen: one job at a time. */
		(void)!write(c->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Call back every waiter on list with the sync's result r, in order. */
static void commit_answer(struct waiter_list *list, int r)
{
	struct waiter *w;

	while ((w = TAILQ_FIRST(list))) {
		TAILQ_REMOVE(list, w, entry);
		w->fn(w->userdata, r);
		free(w);
	}
}

/* Fold the journal into a new snapshot when due; only while no sync runs. */
static void commit_compact(struct commit *c)
{
	int r;

	if (!ledger_compact_due(c->ledger))
		return;
	r = ledger_compact(c->ledger);
	if (r < 0)
		log_error_errno(r, "ledger compaction failed (the journal keeps growing)");
}

static void commit_start(struct commit *c);

/* A sync covering list ended with r: record it, answer list, go on with what queued meanwhile. */
static void commit_synced(struct commit *c, struct waiter_list *list, int r)
{
	r = ledger_sync_end(c->ledger, r);
	if (r < 0)
		log_error_errno(r, "ledger sync failed");
	commit_answer(list, r);
	if (c->wanted || !TAILQ_EMPTY(&c->queue))
		commit_start(c);
}

/* Number of waiters on list, counting no further than 2. */
static unsigned commit_count(const struct waiter_list *list)
{
	unsigned n = 0;

	for (struct waiter *w = TAILQ_FIRST(list); w && n < 2; w = TAILQ_NEXT(w, entry))
		n++;
	return n;
}

/* Hand the queued waiters to a new sync, or answer them at once when nothing is pending. */
static void commit_start(struct commit *c)
{
	unsigned n;
	int fd, r;

	if (c->running)
		return;
	c->wanted = false;
	commit_compact(c);
	fd = ledger_sync_begin(c->ledger);
	n = commit_count(&c->queue);
	/* This batch is fixed now: whatever queues while it is answered waits for the next. */
	TAILQ_CONCAT(&c->inflight, &c->queue, entry);
	if (fd < 0) {
		/* Their records are durable already (synced, or in the fsynced snapshot). */
		commit_answer(&c->inflight, 0);
		return;
	}
	if (n <= 1 && c->last_batch <= 1) {
		/*
		 * A lone waiter after a lone one: nobody else is waiting, so handing
		 * the sync to the thread would only add two wake-ups to its latency.
		 */
		r = fdatasync(fd) < 0 ? -errno : 0;
		c->last_batch = n;
		commit_synced(c, &c->inflight, r);
		return;
	}
	c->last_batch = n;
	c->running = true;
	pthread_mutex_lock(&c->lock);
	c->job_fd = fd;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* End of a loop turn with something to commit. */
static void commit_turn_cb(evutil_socket_t fd, short what, void *arg)
{
	commit_start(arg);
}

/* The sync thread is done: answer its batch, then start the next one. */
static void commit_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct commit *c = arg;
	uint64_t n;
	int r;

	if (read(c->efd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&c->lock);
	r = c->job_result;
	pthread_mutex_unlock(&c->lock);
	c->running = false;
	commit_synced(c, &c->inflight, r);
}

/* Make a committer with its sync thread. */
int commit_new(struct event_base *base, int priority, struct ledger *l, struct commit **ret)
{
	struct commit *c = calloc(1, sizeof(*c));
	sigset_t all, old;
	int r;

	if (!c)
		return -ENOMEM;
	c->ledger = l;
	c->job_fd = -1;
	TAILQ_INIT(&c->queue);
	TAILQ_INIT(&c->inflight);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0) {
		r = -errno;
		goto fail;
	}
	c->turn_ev = event_new(base, -1, 0, commit_turn_cb, c);
	c->done_ev = event_new(base, c->efd, EV_READ | EV_PERSIST, commit_done_cb, c);
	if (!c->turn_ev || !c->done_ev) {
		r = -ENOMEM;
		goto fail;
	}
	/* Commits run after everything else ready in the same turn (the caller's lowest priority). */
	if (priority >= 0 && event_priority_set(c->turn_ev, priority) < 0) {
		r = -EINVAL;
		goto fail;
	}
	if (event_add(c->done_ev, NULL) < 0) {
		r = -EIO;
		goto fail;
	}
	/* Signals stay with the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&c->thread, NULL, commit_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	c->thread_started = true;
	*ret = c;
	return 0;
fail:
	commit_free(c);
	return r;
}

/* Queue fn(userdata, r) for the next sync that begins. */
int commit_after_sync(struct commit *c, commit_fn fn, void *userdata)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->userdata = userdata;
	TAILQ_INSERT_TAIL(&c->queue, w, entry);
	commit_later(c);
	return 0;
}

/* Commit at the end of this turn. */
void commit_later(struct commit *c)
{
	c->wanted = true;
	event_active(c->turn_ev, 0, 0);
}

/* A sync runs or waiters wait for one. */
bool commit_busy(const struct commit *c)
{
	return c->running || !TAILQ_EMPTY(&c->queue);
}

/* Wait for the thread's job, stop it, and call everyone back after a final sync here. */
struct commit *commit_free(struct commit *c)
{
	int r;

	if (!c)
		return NULL;
	if (c->thread_started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	if (c->running) {
		c->running = false;
		ledger_sync_end(c->ledger, c->job_result);
	}
	/* One synchronous sync covers the in-flight batch (again) and the queue. */
	TAILQ_CONCAT(&c->inflight, &c->queue, entry);
	if (!TAILQ_EMPTY(&c->inflight)) {
		r = ledger_sync(c->ledger);
		if (r < 0)
			log_error_errno(r, "ledger sync failed");
		commit_answer(&c->inflight, r);
	}
	if (c->turn_ev)
		event_free(c->turn_ev);
	if (c->done_ev)
		event_free(c->done_ev);
	if (c->efd >= 0)
		close(c->efd);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
	return NULL;
}
