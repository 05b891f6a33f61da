/* SPDX-License-Identifier: MIT */
/* attach.c: move processes into a cgroup: cgroup.procs, pidfds, systemd fallback. */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "log.h"
#include "manager.h"

/* Pid behind a pidfd. */
int attach_pidfd_to_pid(int pidfd, pid_t *ret)
{
	_cleanup_close_ int fd = -1;
	char path[64], buf[4096];
	char *line;
	ssize_t n;
	long pid;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	line = strstr(buf, "\nPid:");
	if (!line)
		return -EBADF; /* not a pidfd */
	pid = strtol(line + 5, NULL, 10);
	if (pid == -1)
		return -ESRCH;
	if (pid <= 0)
		return -EBADF;
	*ret = (pid_t)pid;
	return 0;
}

/* Our unit's cgroup is where we started (systemd's Delegate=yes unit). */
static int attach_subcgroup(struct manager *m, const char *relpath, char **ret)
{
	size_t n = strlen(m->disc.own_path);

	if (strncmp(m->root_path, m->disc.own_path, n) != 0 || (m->root_path[n] && m->root_path[n] != '/'))
		return -EXDEV;
	return asprintf(ret, "%s/%s", m->root_path[n] ? m->root_path + n : "", relpath) < 0 ? -ENOMEM : 0;
}

/*
 * Our user manager's private socket, as systemctl --user uses it (no D-Bus
 * session bus needed); the session bus when that is missing.
 */
static int attach_open_manager(sd_bus **ret)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *addr = NULL;
	sd_bus *bus = NULL;
	int r;

	if (rt && rt[0] == '/' && asprintf(&addr, "unix:path=%s/systemd/private", rt) >= 0 &&
	    sd_bus_new(&bus) >= 0) {
		if (sd_bus_set_address(bus, addr) >= 0 && sd_bus_start(bus) >= 0) {
			*ret = bus;
			return 0;
		}
		sd_bus_unref(bus);
		bus = NULL;
	}
	r = sd_bus_open_user(&bus);
	if (r < 0)
		return r;
	*ret = bus;
	return 0;
}

/* AttachProcessesToUnit("", subcgroup, [pid]) on our systemd user manager. */
static int attach_via_systemd(struct manager *m, const char *relpath, pid_t pid)
{
	_cleanup_free_ char *sub = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r;

	r = attach_subcgroup(m, relpath, &sub);
	if (r < 0)
		return r;
	r = attach_open_manager(&bus);
	if (r < 0)
		return r;
	sd_bus_set_method_call_timeout(bus, 5 * 1000000ULL);
	/* The private socket is peer-to-peer: no destination name there. */
	r = sd_bus_call_method(bus, sd_bus_is_bus_client(bus) > 0 ? "org.freedesktop.systemd1" : NULL,
			       "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", "AttachProcessesToUnit", &err, NULL,
			       "ssau", "", sub, 1, (uint32_t)pid);
	if (r < 0)
		log_notice("systemd could not attach pid %d to %s: %s", (int)pid, sub,
			   err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_flush_close_unref(bus);
	return r;
}

/* Write pid into relpath's cgroup.procs, with the systemd fallback. */
int attach_pid(struct manager *m, const char *relpath, pid_t pid, const char **ret_how)
{
	_cleanup_free_ char *procs = NULL;
	char buf[32];
	int r;

	if (asprintf(&procs, "%s/cgroup.procs", relpath) < 0)
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	r = cgfs_write(m->rootfd, procs, buf);
	*ret_how = "kernel";
	if (r != -EACCES && r != -EPERM)
		return r;
	/* Common-ancestor rule: only systemd (or root) can move it from there. */
	*ret_how = "systemd";
	return attach_via_systemd(m, relpath, pid);
}
