/* SPDX-License-Identifier: MIT */
/* sweep.c: remove the scratch directories that crashed fuzzing runs left behind. */
#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Remove one entry (nftw callback, depth first). */
static int sweep_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	remove(path); /* best effort */
	return 0;
}

/* Remove what crashed runs left behind: PREFIX.PID directories of dead processes in tmp. */
void sweep_stale(const char *tmp, const char *prefix)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	size_t n = strlen(prefix);

	while (d && (de = readdir(d))) {
		char path[512], *end;
		long pid;

		if (strncmp(de->d_name, prefix, n) != 0 || de->d_name[n] != '.')
			continue;
		pid = strtol(de->d_name + n + 1, &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
		nftw(path, sweep_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (d)
		closedir(d);
}
