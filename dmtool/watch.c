// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool watch: print the jobmirror events as they happen, from the
 * uevents the target sends, read with libudev.  Without udevd the
 * kernel's own netlink source is used; with udevd the "udev" one, so that
 * an event is seen after udev's rules have run for it.
 */
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

/* The uevent variables of an event, DM_JOBMIRROR_<key>. */
static const char *prop(struct udev_device *d, const char *key)
{
	char name[64];
	const char *v;

	snprintf(name, sizeof(name), "DM_JOBMIRROR_%s", key);
	v = udev_device_get_property_value(d, name);
	return v ? v : "";
}

static void add_number(struct json_object *o, const char *key, const char *v, uint64_t mult)
{
	uint64_t n;

	if (!jm_parse_uint(v, UINT64_MAX / mult, &n))
		json_object_object_add(o, key, json_object_new_uint64(n * mult));
}

static void print_event(struct udev_device *d, bool json)
{
	const char *name = udev_device_get_property_value(d, "DM_NAME");
	bool error = *prop(d, "OPERATION");
	struct json_object *o;

	if (!json) {
		printf("%s %s %s state=%s iostatus=%s offset=%s len=%s", prop(d, "SEQ"),
		       name ? name : "", prop(d, "EVENT"), prop(d, "STATE"), prop(d, "IOSTATUS"),
		       prop(d, "OFFSET"), prop(d, "LEN"));
		if (error)
			printf(" operation=%s action=%s reason=%s sector=%s", prop(d, "OPERATION"),
			       prop(d, "ACTION"), prop(d, "REASON"), prop(d, "SECTOR"));
		if (strcmp(prop(d, "SUPPRESSED"), "0") && *prop(d, "SUPPRESSED"))
			printf(" suppressed=%s", prop(d, "SUPPRESSED"));
		putchar('\n');
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
		json_object_object_add(o, "event", json_object_new_string(prop(d, "EVENT")));
		add_number(o, "seq", prop(d, "SEQ"), 1);
		json_object_object_add(o, "state", json_object_new_string(prop(d, "STATE")));
		json_object_object_add(o, "iostatus", json_object_new_string(prop(d, "IOSTATUS")));
		add_number(o, "offset", prop(d, "OFFSET"), 512);
		add_number(o, "len", prop(d, "LEN"), 512);
		if (error) {
			json_object_object_add(o, "operation",
					       json_object_new_string(prop(d, "OPERATION")));
			json_object_object_add(o, "action",
					       json_object_new_string(prop(d, "ACTION")));
			json_object_object_add(o, "reason",
					       json_object_new_string(prop(d, "REASON")));
			add_number(o, "sector", prop(d, "SECTOR"), 1);
		}
		add_number(o, "suppressed", prop(d, "SUPPRESSED"), 1);
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
 * Return: an exit status; 0 when stopped by SIGINT or SIGTERM.
 */
int cmd_watch(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct jm_device dev;
	struct udev_monitor *mon = NULL;
	struct udev_device *d;
	struct udev *udev;
	const char *name = NULL, *source, *v;
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

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pfd.fd = udev_monitor_get_fd(mon);
	pfd.events = POLLIN;
	r = EXIT_OK;
	while (!stop) {
		if (poll(&pfd, 1, -1) < 0) {
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
		    udev_device_get_property_value(d, "DM_JOBMIRROR_EVENT")) {
			v = udev_device_get_property_value(d, "DM_NAME");
			if (!name || (v && !strcmp(v, name)))
				print_event(d, json);
		}
		udev_device_unref(d);
	}
out:
	udev_monitor_unref(mon);
	udev_unref(udev);
	return r;
}
