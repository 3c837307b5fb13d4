// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool watch: print the jobmirror events as they happen, from the
 * uevents the target sends, read with libudev.  Without udevd the
 * kernel's own netlink source is used; with udevd the "udev" one, so that
 * an event is seen after udev's rules have run for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include <libudev.h>

#include "dmtool.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A uevent variable of an event, "" if absent. */
static const char *prop(struct udev_device *d, const char *name)
{
	const char *v = udev_device_get_property_value(d, name);

	return v ? v : "";
}

static const char *udev_prop(void *d, const char *name)
{
	return prop(d, name);
}

/**
 * jm_event_line() - the one-line text form of a jobmirror event.
 * @get: returns the event's variable of a name, "" when absent.
 * @ctx: passed to @get.
 *
 * "SEQ NAME EVENT state=.. iostatus=.. offset=.. len=..", then for an
 * error "operation=.. [action=..] reason=.. sector=..", and
 * "suppressed=N" when events were dropped.
 *
 * Return: the line (no newline), to be freed; NULL without memory.
 */
char *jm_event_line(jm_prop_fn get, void *ctx)
{
	const char *op = get(ctx, DM_JOBMIRROR_UEV_OPERATION);
	/* A hang and its recovery apply no policy: no action. */
	const char *action = get(ctx, DM_JOBMIRROR_UEV_ACTION);
	const char *sup = get(ctx, DM_JOBMIRROR_UEV_SUPPRESSED);
	char *line = NULL;
	size_t size;
	FILE *f = open_memstream(&line, &size);

	if (!f)
		return NULL;
	fprintf(f, "%s %s %s state=%s iostatus=%s offset=%s len=%s",
		get(ctx, DM_JOBMIRROR_UEV_SEQ), get(ctx, "DM_NAME"),
		get(ctx, DM_JOBMIRROR_UEV_EVENT), get(ctx, DM_JOBMIRROR_UEV_STATE),
		get(ctx, DM_JOBMIRROR_UEV_IOSTATUS), get(ctx, DM_JOBMIRROR_UEV_OFFSET),
		get(ctx, DM_JOBMIRROR_UEV_LEN));
	if (*op) {
		fprintf(f, " operation=%s", op);
		if (*action)
			fprintf(f, " action=%s", action);
		fprintf(f, " reason=%s sector=%s", get(ctx, DM_JOBMIRROR_UEV_REASON),
			get(ctx, DM_JOBMIRROR_UEV_SECTOR));
	}
	if (*sup && strcmp(sup, "0"))
		fprintf(f, " suppressed=%s", sup);
	if (fclose(f)) {
		free(line);
		return NULL;
	}
	return line;
}

static void add_string(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void add_number(struct json_object *o, const char *key, const char *v, uint64_t mult)
{
	uint64_t n;

	if (!jm_parse_uint(v, UINT64_MAX / mult, &n))
		json_object_object_add(o, key, json_object_new_uint64(n * mult));
}

static void print_event(struct udev_device *d, bool json)
{
	const char *op = prop(d, DM_JOBMIRROR_UEV_OPERATION);
	const char *action = prop(d, DM_JOBMIRROR_UEV_ACTION);
	struct json_object *o;
	char *line;

	if (!json) {
		line = jm_event_line(udev_prop, d);
		if (line)
			puts(line);
		free(line);
	} else {
		o = json_object_new_object();
		add_string(o, "name", prop(d, "DM_NAME"));
		add_string(o, "event", prop(d, DM_JOBMIRROR_UEV_EVENT));
		add_number(o, "seq", prop(d, DM_JOBMIRROR_UEV_SEQ), 1);
		add_string(o, "state", prop(d, DM_JOBMIRROR_UEV_STATE));
		add_string(o, "iostatus", prop(d, DM_JOBMIRROR_UEV_IOSTATUS));
		add_number(o, "offset", prop(d, DM_JOBMIRROR_UEV_OFFSET), 512);
		add_number(o, "len", prop(d, DM_JOBMIRROR_UEV_LEN), 512);
		if (*op) {
			add_string(o, "operation", op);
			if (*action)
				add_string(o, "action", action);
			add_string(o, "reason", prop(d, DM_JOBMIRROR_UEV_REASON));
			add_number(o, "sector", prop(d, DM_JOBMIRROR_UEV_SECTOR), 1);
		}
		add_number(o, "suppressed", prop(d, DM_JOBMIRROR_UEV_SUPPRESSED), 1);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	fflush(stdout);
}

/**
 * cmd_watch() - dmtool watch [NAME] [--json].
 * @argc: words, argv[0] being "watch".
 * @argv: the words.
 *
 * Return: an exit status; 0 when stopped by SIGINT or SIGTERM, 1 when
 * the output cannot be written.
 */
int cmd_watch(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct jm_device dev;
	struct udev_monitor *mon = NULL;
	struct udev_device *d;
	struct udev *udev;
	const char *name = NULL, *source, *v;
	sigset_t block, waitmask;
	struct pollfd pfd;
	int json, r;

	r = parse_json_only(argc, argv, &json);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return usage_error("watch: expected at most one device NAME");
	if (argc - optind == 1) {
		name = argv[optind];
		r = get_device("watch", name, &dev);
		if (r >= 0)
			return r;
		/* Events carry the device's own name, not a /dev/mapper path. */
		name = dev.name;
	}

	udev = udev_new();
	if (!udev) {
		err("watch: cannot use libudev: %s", strerror(errno));
		return EXIT_FAILED;
	}
	source = access("/run/udev/control", F_OK) ? "kernel" : "udev";
	mon = udev_monitor_new_from_netlink(udev, source);
	if (!mon || udev_monitor_filter_add_match_subsystem_devtype(mon, "block", "disk") ||
	    udev_monitor_enable_receiving(mon)) {
		err("watch: cannot listen to %s uevents: %s", source, strerror(errno));
		r = EXIT_FAILED;
		goto out;
	}

	/*
	 * SIGINT and SIGTERM are blocked but while ppoll() sleeps, so that
	 * one arriving just before it cannot go unnoticed until the next uevent.
	 */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	pfd.fd = udev_monitor_get_fd(mon);
	pfd.events = POLLIN;
	r = EXIT_OK;
	while (!stop) {
		if (ppoll(&pfd, 1, NULL, &waitmask) < 0) {
			if (errno == EINTR)
				continue;
			err("watch: %s", strerror(errno));
			r = EXIT_FAILED;
			break;
		}
		d = udev_monitor_receive_device(mon);
		if (!d)
			continue;
		v = udev_device_get_property_value(d, "DM_TARGET");
		if (v && !strcmp(v, DM_JOBMIRROR_TARGET_NAME) &&
		    udev_device_get_property_value(d, DM_JOBMIRROR_UEV_EVENT)) {
			v = udev_device_get_property_value(d, "DM_NAME");
			if (!name || (v && !strcmp(v, name)))
				print_event(d, json);
		}
		udev_device_unref(d);
		/* A reader that went away, a full disk: main() says why. */
		if (ferror(stdout)) {
			r = EXIT_FAILED;
			break;
		}
	}
out:
	udev_monitor_unref(mon);
	udev_unref(udev);
	return r;
}
