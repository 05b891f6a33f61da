/* SPDX-License-Identifier: MIT */
/* server.c: the Varlink transport's listening socket, accepted connections and limits. */
#include "server.h"
#include "conn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "cleanup.h"
#include "log.h"
#include "replylog.h"

/* The transport's state: opaque outside this file (server.h's functions). */
struct server {
	struct event_base *base;
	const struct server_ops *ops;
	void *app;            /* the application's, for ops */
	struct limits limits;
	server_dir_check_fn dir_check; /* NULL: any existing directory will do */
	int listen_fd;
	bool activated;       /* socket came from systemd */
	char *socket_path;    /* NULL when activated and unknown */
	bool unlink_on_exit;
	dev_t socket_dev;     /* the socket file we bound, so that exit removes that one only */
	ino_t socket_ino;
	struct event *accept_ev;
	uid_t allow_uids[UID_ALLOW_MAX];
	size_t n_allow_uids;
	TAILQ_HEAD(, conn) conns;
	unsigned n_conns;
	struct peer_uid *peers; /* one per uid with a connection (conn_internal.h) */
	uint64_t next_conn_id;
	int reserve_fd;       /* kept open to shed a connection when out of fds */
	unsigned idle_timeout_ms; /* exit when idle this long (socket activation only; 0: never) */
	struct event *idle_ev;
	int reply_log_fd;     /* test-only record of every reply (replylog.h), -1 when off */
};

void server_limits_default(struct limits *l)
{
	l->message_max = VL_MESSAGE_MAX_DEFAULT;
	l->out_max = 16u * 1024 * 1024;
	l->reply_mem_max = SERVER_REPLY_MEM_DEFAULT;
	l->reply_mem_per_tenant = 0;
	l->conns_max = 512;
	l->conns_per_uid = 256;
	l->conns_per_tenant = l->conns_per_uid;
	l->triggers_per_uid = SERVER_TRIGGERS_PER_UID_DEFAULT;
	l->partial_timeout_ms = 10000;
	l->budget_log_usec = CONN_BUDGET_LOG_USEC;
}

struct server *server_new(void)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->listen_fd = s->reserve_fd = s->reply_log_fd = -1;
	TAILQ_INIT(&s->conns);
	server_limits_default(&s->limits);
	return s;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	server_stop(s);
	free(s);
}

struct limits *server_limits(struct server *s)
{
	return &s->limits;
}

int server_allow_uid(struct server *s, uid_t uid)
{
	if (s->n_allow_uids >= UID_ALLOW_MAX)
		return -E2BIG;
	s->allow_uids[s->n_allow_uids++] = uid;
	return 0;
}

const uid_t *server_allowed_uids(const struct server *s, size_t *ret_n)
{
	*ret_n = s->n_allow_uids;
	return s->allow_uids;
}

void server_set_idle_timeout(struct server *s, unsigned ms)
{
	s->idle_timeout_ms = ms;
}

void server_set_dir_check(struct server *s, server_dir_check_fn check)
{
	s->dir_check = check;
}

const char *server_socket_path(const struct server *s)
{
	return s->socket_path;
}

struct event_base *server_base(const struct server *s)
{
	return s->base;
}

uint64_t server_conn_add(struct server *s, struct conn *c)
{
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->n_conns++;
	return ++s->next_conn_id;
}

void server_dispatch(struct server *s, struct call *call)
{
	s->ops->dispatch(s->app, call);
}

int server_reply_log_fd(const struct server *s)
{
	return s->reply_log_fd;
}

/* Log why the socket's directory was refused; r. */
static int server_dir_refused(const char *why, int r)
{
	log_msg(LOG_ERR, "%s; refusing to put our socket there", why);
	return r;
}

/*
 * Create the socket's directory (0700; 0755 with tenants, who must reach the
 * socket). A private one (our default), new or not, must pass dir_check (ours,
 * and its parents safe) as opened without following a link: a link in its
 * place could name anybody's directory, which we would chmod and put our
 * socket in. Its mode is set through that fd.
 */
static int server_make_dir(const struct server *s, const char *path, bool private_dir)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	mode_t want = s->n_allow_uids ? 0755 : 0700;
	char why[512];
	struct stat st;
	char *slash;
	int r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, want) < 0 && errno != EEXIST)
		return -errno;
	if (!private_dir)
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;

		if (s->dir_check && lstat(dir, &st) == 0 && (r = s->dir_check(&st, dir, why, sizeof(why))) < 0)
			return server_dir_refused(why, r);
		return e;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	r = s->dir_check ? s->dir_check(&st, dir, why, sizeof(why)) : 0;
	if (r < 0)
		return server_dir_refused(why, r);
	if ((st.st_mode & 0077) != (want & 0077) && fchmod(fd, want) < 0)
		return -errno;
	return 0;
}

/* Is somebody answering on path? */
static bool server_socket_live(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	return connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
}

/* Remove a dead socket left at path; anything but a socket is somebody's file: refused, never removed. */
static int server_unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : log_error_errno(-errno, "%s", path);
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERR, "%s exists and is not a socket; refusing to remove it to listen there", path);
		return -EEXIST;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return log_error_errno(-errno, "%s: cannot remove the dead socket", path);
	return 0;
}

/* Bind and listen on path. */
static int server_bind(struct server *s, const char *path, bool private_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = server_make_dir(s, path, private_dir);
	if (r < 0)
		return log_error_errno(r, "%s: cannot create socket directory", path);
	if (server_socket_live(&sa)) {
		log_msg(LOG_ERR, "%s: another daemon is answering there", path);
		return -EADDRINUSE;
	}
	r = server_unlink_stale(path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "socket");
	/* Tenants must be able to connect: SO_PEERCRED decides who is served. */
	old = umask(s->n_allow_uids ? 0111 : 0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return log_error_errno(-errno, "%s: bind", path);
	if (lstat(path, &st) < 0)
		return log_error_errno(-errno, "%s: stat after bind", path);
	if (listen(fd, SOMAXCONN) < 0)
		return log_error_errno(-errno, "%s: listen", path);
	s->listen_fd = TAKE_FD(fd);
	s->unlink_on_exit = true;
	s->socket_dev = st.st_dev;
	s->socket_ino = st.st_ino;
	return 0;
}

/* Listen on the socket systemd passed, else bind path. */
int server_listen(struct server *s, const char *path, bool private_dir)
{
	int n = sd_listen_fds(1);

	s->listen_fd = -1;
	s->reply_log_fd = replylog_open();
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (n > 1)
		log_warnx("systemd passed %d sockets, using the first", n);
	if (n >= 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
			return log_error_errno(-EINVAL, "passed fd is not a listening Unix stream socket");
		s->listen_fd = SD_LISTEN_FDS_START;
		s->activated = true;
		fcntl(s->listen_fd, F_SETFD, FD_CLOEXEC);
		fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK);
		return 0;
	}
	if (n < 0)
		log_warn_errno(n, "sd_listen_fds");
	s->socket_path = strdup(path);
	if (!s->socket_path)
		return -ENOMEM;
	return server_bind(s, path, private_dir);
}

/* The record of uid's connections, NULL when it has none. */
static struct peer_uid *server_peer_find(const struct server *s, uid_t uid)
{
	struct peer_uid *p;

	for (p = s->peers; p && p->uid != uid; p = p->next)
		;
	return p;
}

/* Count the connections of uid. */
static unsigned server_conns_of(const struct server *s, uid_t uid)
{
	const struct peer_uid *p = server_peer_find(s, uid);

	return p ? p->conns : 0;
}

/* The record of uid, made with its first connection. */
struct peer_uid *server_peer_ref(struct server *s, uid_t uid)
{
	struct peer_uid *p = server_peer_find(s, uid);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->uid = uid;
		p->tenant = s->ops && s->ops->tenant && s->ops->tenant(s->app, uid);
		p->next = s->peers;
		s->peers = p;
	}
	p->conns++;
	return p;
}

/* One connection of p's fewer; the last one frees p. */
void server_peer_unref(struct server *s, struct peer_uid *p)
{
	if (--p->conns > 0)
		return;
	for (struct peer_uid **pp = &s->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

/* A tenant's share, else an administrator's whole budget. */
size_t server_reply_budget(const struct server *s, const struct peer_uid *p)
{
	if (p->tenant && s->limits.reply_mem_per_tenant)
		return s->limits.reply_mem_per_tenant;
	return s->limits.reply_mem_max;
}

/* Serve p's connections again: each looks at what it has on the next loop turn. */
void server_peer_resume(struct server *s, const struct peer_uid *p)
{
	struct conn *c;

	TAILQ_FOREACH(c, &s->conns, entry)
		if (c->peer == p && !c->dead && !c->current)
			event_active(c->pev, 0, 0);
}

/* How many connections uid may hold: a tenant (as the application says) its share. */
static unsigned server_conns_cap(const struct server *s, uid_t uid)
{
	if (s->ops->tenant && s->ops->tenant(s->app, uid))
		return s->limits.conns_per_tenant;
	return s->limits.conns_per_uid;
}

/* May this uid talk to us? Our own uid, root, and --allow-uid ones. */
static bool server_uid_allowed(const struct server *s, uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (size_t i = 0; i < s->n_allow_uids; i++)
		if (s->allow_uids[i] == uid)
			return true;
	return false;
}

/* Accept with the fd reserve: when out of fds, shed the newcomer rather than spin. */
static int server_accept_fd(struct server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0 || (errno != EMFILE && errno != ENFILE))
		return fd < 0 ? -errno : fd;
	if (s->reserve_fd >= 0) {
		close(s->reserve_fd);
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	log_warnx("out of file descriptors: refused a connection");
	return -EMFILE;
}

/* A client knocks: check who it is before reading a byte. */
static void server_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = server_accept_fd(s);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn_errno(-errno, "SO_PEERCRED");
		close(fd);
		return;
	}
	if (!server_uid_allowed(s, cred.uid)) {
		log_notice("refused connection from uid %u pid %d: not our uid, not root",
			   (unsigned)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	if (s->n_conns >= s->limits.conns_max || server_conns_of(s, cred.uid) >= server_conns_cap(s, cred.uid)) {
		log_notice("refused connection from uid %u pid %d: connection limit reached",
			   (unsigned)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	server_adopt(s, fd, cred.uid, cred.pid);
}

/* Serve a connected socket: the connection lists itself; the idle timer stops. */
struct conn *server_adopt(struct server *s, int fd, uid_t uid, pid_t pid)
{
	struct conn *c = conn_new(s, fd, uid, pid);

	if (c && s->idle_ev)
		evtimer_del(s->idle_ev);
	return c;
}

/* Idle long enough: with nothing to watch, exit; systemd starts us again on demand. */
static void server_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (s->n_conns > 0)
		return;
	if (s->ops->busy && s->ops->busy(s->app)) {
		server_idle_arm(s);
		return;
	}
	log_info("idle for %u ms with nothing to watch: exiting (socket activation restarts us)",
		 s->idle_timeout_ms);
	event_base_loopexit(s->base, NULL);
}

/* (Re)start the idle timer when idle exit applies. */
void server_idle_arm(struct server *s)
{
	struct timeval tv = { s->idle_timeout_ms / 1000, (s->idle_timeout_ms % 1000) * 1000 };

	if (!s->idle_ev || !s->activated || !s->idle_timeout_ms || s->n_conns > 0)
		return;
	evtimer_add(s->idle_ev, &tv);
}

/* Called by conn.c on the loop turn after a connection closed: unlist it, tell the application. */
void server_conn_gone(struct server *s, struct conn *c)
{
	TAILQ_REMOVE(&s->conns, c, entry);
	s->n_conns--;
	server_peer_unref(s, c->peer);
	c->peer = NULL;
	if (s->ops->disconnect)
		s->ops->disconnect(s->app, c);
	server_idle_arm(s);
}

void *server_app(const struct server *s)
{
	return s->app;
}

unsigned server_conn_count(const struct server *s)
{
	return s->n_conns;
}

unsigned server_conn_count_of(const struct server *s, uid_t uid)
{
	return server_conns_of(s, uid);
}

/* What uid's connections hold of their reply budget. */
void server_reply_use(const struct server *s, uid_t uid, struct server_reply_use *ret)
{
	const struct peer_uid *p = server_peer_find(s, uid);

	*ret = (struct server_reply_use){ 0 };
	if (!p)
		return;
	ret->unread = p->reply_bytes;
	ret->budget = server_reply_budget(s, p);
	ret->over = p->over;
}

/* Raise the soft descriptor limit, and lower conns_max until what clients may hold fits it. */
static void server_fit_nofile(struct server *s, unsigned uids)
{
	struct rlimit rl;
	uint64_t triggers = (uint64_t)uids * s->limits.triggers_per_uid * 2, room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return;
	}
	room = rl.rlim_cur > SERVER_FDS_RESERVE + triggers ? rl.rlim_cur - SERVER_FDS_RESERVE - triggers : 0;
	if ((uint64_t)s->limits.conns_max * SERVER_FDS_PER_CONN <= room)
		return;
	s->limits.conns_max = room / SERVER_FDS_PER_CONN ? (unsigned)(room / SERVER_FDS_PER_CONN) : 1;
	log_notice("only %llu file descriptors (RLIMIT_NOFILE): at most %u connections, each of which may "
		   "hold %u (raise LimitNOFILE= to allow more)",
		   (unsigned long long)rl.rlim_cur, s->limits.conns_max, SERVER_FDS_PER_CONN);
}

/* The tenants' share of the connections: never all of them, whatever --max-connections-per-uid says. */
void server_limits_resolve(struct server *s, unsigned tenants)
{
	unsigned share;

	/* Triggers are per uid: the tenants, root and our own uid. */
	server_fit_nofile(s, tenants + 2);
	share = s->limits.conns_max / (tenants + 1);

	s->limits.conns_per_tenant = share < s->limits.conns_per_uid ? share : s->limits.conns_per_uid;
	if (!s->limits.conns_per_tenant)
		s->limits.conns_per_tenant = 1;
	/* Unread replies likewise: a tenant's budget is a share of an administrator's unless set (never above it). */
	if (!s->limits.reply_mem_per_tenant)
		s->limits.reply_mem_per_tenant = s->limits.reply_mem_max / (tenants + 1);
	if (s->limits.reply_mem_per_tenant > s->limits.reply_mem_max)
		s->limits.reply_mem_per_tenant = s->limits.reply_mem_max;
	if (!s->limits.reply_mem_per_tenant)
		s->limits.reply_mem_per_tenant = 1;
}

/* Start accepting on base, serving app through ops. */
int server_start(struct server *s, struct event_base *base, const struct server_ops *ops, void *app)
{
	s->base = base;
	s->ops = ops;
	s->app = app;
	s->idle_ev = evtimer_new(base, server_idle_cb, s);
	if (!s->idle_ev)
		return -ENOMEM;
	if (s->listen_fd < 0)
		return 0;
	s->accept_ev = event_new(base, s->listen_fd, EV_READ | EV_PERSIST, server_accept_cb, s);
	if (!s->accept_ev)
		return -ENOMEM;
	if (s->idle_timeout_ms && !s->activated)
		log_notice("--idle-timeout applies only when systemd passes the socket; ignored");
	return event_add(s->accept_ev, NULL) < 0 ? -EIO : 0;
}

/* Remove our socket file, unless another daemon has put its own at the path since. */
static void server_unlink_own(const struct server *s)
{
	struct stat st;

	if (lstat(s->socket_path, &st) < 0)
		return;
	if (st.st_dev != s->socket_dev || st.st_ino != s->socket_ino) {
		log_notice("%s: no longer our socket (replaced since we bound it); left in place", s->socket_path);
		return;
	}
	unlink(s->socket_path);
}

/* Close every connection and the listener. */
void server_stop(struct server *s)
{
	struct conn *c;

	/* No loop turn follows: each close is finished here. */
	while ((c = TAILQ_FIRST(&s->conns))) {
		conn_close(c, "daemon stopping");
		conn_reap(c);
	}
	if (s->accept_ev)
		event_free(s->accept_ev);
	if (s->idle_ev)
		event_free(s->idle_ev);
	s->accept_ev = s->idle_ev = NULL;
	if (s->listen_fd >= 0 && !s->activated)
		close(s->listen_fd);
	s->listen_fd = -1;
	if (s->unlink_on_exit && s->socket_path)
		server_unlink_own(s);
	free(s->socket_path);
	s->socket_path = NULL;
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	s->reserve_fd = -1;
	if (s->reply_log_fd >= 0)
		close(s->reply_log_fd);
	s->reply_log_fd = -1;
}
