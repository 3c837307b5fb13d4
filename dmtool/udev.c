// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool udev-event: run by udev/12-dm-jobmirror.rules for each event of
 * a jobmirror device, with the uevent's variables in its environment.  It
 * logs the event to syslog (and to stderr, which udev keeps in its debug
 * log) and runs the hooks: the executables in the hooks directory, in
 * name order, one at a time, each with the same environment, the event
 * and the device name as arguments, and a time limit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <time.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dmtool.h"

#define JM_HOOKS_DIR "/etc/dm-jobmirror/hooks.d"
#define JM_HOOK_TIMEOUT 30
/*
 * All the hooks of an event together, in seconds: udev kills what it runs
 * after 180 s by default (event_timeout), and only dmtool, not the hooks.
 */
#define JM_HOOKS_BUDGET 150

static const char *env_prop(void *ctx, const char *name)
{
	const char *v = getenv(name);

	(void)ctx;
	return v ? v : "";
}

/*
 * Hooks are named like run-parts(8) wants them: letters, digits, '_' and
 * '-' only, so editor backups, *.sample, *.dpkg-old and dot files are
 * left alone.
 */
static int hook_name_ok(const struct dirent *d)
{
	const char *c;

	if (!d->d_name[0])
		return 0;
	for (c = d->d_name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '_' && *c != '-')
			return 0;
	return 1;
}

/* Wait for the hook @pid, killing its process group after @timeout s. */
static int wait_hook(const char *path, pid_t pid, unsigned int timeout)
{
	struct pollfd pfd = { .events = POLLIN };
	int status, err = 0, r = -1;

	pfd.fd = pidfd_open(pid, 0);
	if (pfd.fd >= 0) {
		do {
			r = poll(&pfd, 1, (int)timeout * 1000);
		} while (r < 0 && errno == EINTR);
		err = errno;
		close(pfd.fd);
	} else {
		err = errno;
	}
	if (r <= 0) {
		if (r)
			syslog(LOG_ERR, "hook %s: cannot wait for it (%s), killed", path,
			       strerror(err));
		else
			syslog(LOG_ERR, "hook %s: still running after %u s, killed", path,
			       timeout);
		kill(-pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (r <= 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status)) {
		syslog(LOG_ERR, "hook %s: exit status %d", path, WEXITSTATUS(status));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		syslog(LOG_ERR, "hook %s: killed by signal %d", path, WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* Run one hook; 0 if it succeeded or is not an executable file. */
static int run_hook(const char *path, const char *event, const char *name,
		    unsigned int timeout)
{
	pid_t pid, parent = getpid();
	struct stat st;
	int fd;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || access(path, X_OK))
		return 0;
	pid = fork();
	if (pid < 0) {
		syslog(LOG_ERR, "hook %s: cannot start it: %m", path);
		return -1;
	}
	if (!pid) {
		/* Its own process group, so a time-out kills its children too. */
		setpgid(0, 0);
		/* And it dies with dmtool, should udev kill dmtool. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		execl(path, path, event, name, (char *)NULL);
		syslog(LOG_ERR, "hook %s: cannot run it: %m", path);
		_exit(127);
	}
	setpgid(pid, pid);
	return wait_hook(path, pid, timeout);
}

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * Run every hook in @dir in name order, each for at most @timeout s and
 * all within JM_HOOKS_BUDGET s; 0 if all succeeded.
 */
static int run_hooks(const char *dir, const char *event, const char *name,
		     unsigned int timeout)
{
	time_t end = now() + JM_HOOKS_BUDGET, left;
	struct dirent **list;
	char *path;
	int i, n, r = 0;

	n = scandir(dir, &list, hook_name_ok, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		syslog(LOG_ERR, "cannot read the hooks directory %s: %m", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		left = end - now();
		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0) {
			syslog(LOG_ERR, "cannot run the hooks: out of memory");
			r = -1;
		} else if (left <= 0) {
			syslog(LOG_ERR, "hook %s: not run, the hooks before it took %d s",
			       path, JM_HOOKS_BUDGET);
			r = -1;
			free(path);
		} else {
			if (run_hook(path, event, name,
				     left < timeout ? (unsigned int)left : timeout))
				r = -1;
			free(path);
		}
		free(list[i]);
	}
	free(list);
	return r;
}

/**
 * cmd_udev_event() - dmtool udev-event [--hooks-dir DIR] [--hook-timeout SECS].
 * @argc: words, argv[0] being "udev-event".
 * @argv: the words.
 *
 * Return: 0 when every hook succeeded (or there is none), 1 when one
 * failed, was killed or was not run for lack of time, 2 for a usage
 * error, including an environment without a jobmirror event.
 */
int cmd_udev_event(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hooks-dir", required_argument, NULL, 'd' },
		{ "hook-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = JM_HOOKS_DIR, *event, *name, *target;
	unsigned int timeout = JM_HOOK_TIMEOUT;
	uint64_t n;
	char *line;
	int c, r;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			if (jm_parse_uint(optarg, JM_HOOKS_BUDGET, &n) || !n)
				return usage_error("udev-event: --hook-timeout wants 1 to %d seconds, not '%s'",
						   JM_HOOKS_BUDGET, optarg);
			timeout = n;
			break;
		case 'h':
			printf("usage: dmtool udev-event [--hooks-dir DIR] [--hook-timeout SECS]\n");
			return EXIT_OK;
		default:
			return option_error("udev-event", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("udev-event: takes no arguments, the event comes in the environment");
	target = getenv("DM_TARGET");
	event = getenv(DM_JOBMIRROR_UEV_EVENT);
	name = getenv("DM_NAME");
	/* The name is "" if the kernel could not get it: still an event. */
	if (!target || strcmp(target, DM_JOBMIRROR_TARGET_NAME) || !event || !*event || !name)
		return usage_error("udev-event: no jobmirror event in the environment (DM_TARGET, %s, DM_NAME); the udev rule runs this",
				   DM_JOBMIRROR_UEV_EVENT);

	/* udev gives its programs the device's variables and no PATH. */
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	openlog("dmtool", LOG_PID | LOG_PERROR, LOG_DAEMON);
	line = jm_event_line(env_prop, NULL);
	if (line)
		syslog(LOG_INFO, "jobmirror event %s", line);
	free(line);
	r = run_hooks(dir, event, name, timeout);
	closelog();
	return r ? EXIT_FAILED : EXIT_OK;
}
