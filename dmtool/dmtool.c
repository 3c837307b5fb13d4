// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool: control tool for dm-jobmirror devices.
 *
 * Exit status: 0 success, 1 the operation failed, 2 usage error,
 * 3 no such device or not a jobmirror device, 4 timed out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <libsmartcols/libsmartcols.h>

#include "jmdm.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NODEV = 3,
	EXIT_TIMEOUT = 4,
};

static const char *prog = "dmtool";

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char usage_text[] =
	"Usage: dmtool COMMAND [ARGS]\n"
	"\n"
	"Control dm-jobmirror devices (device-mapper target \"jobmirror\").\n"
	"\n"
	"Commands:\n"
	"  list [--json]               list the jobmirror devices\n"
	"  status [NAME...] [--json]   show the job and I/O state of devices\n"
	"                              (all jobmirror devices if no NAME)\n"
	"\n"
	"Options:\n"
	"  -j, --json     print JSON only (numbers as numbers, sizes in bytes)\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error, 3 no such device or\n"
	"not a jobmirror device, 4 timed out.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'dmtool --help'.\n");
	return EXIT_USAGE;
}

/* Human readable binary size: "64.0 MiB". */
static void human_size(uint64_t bytes, char *buf, size_t sz)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, sz, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, sz, "%.1f %s", v, units[u]);
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

/* The JSON object for one device (keys per the interface contract). */
static struct json_object *device_json(const struct jm_device *d)
{
	const struct jm_status *s = &d->status;
	const struct jm_table *t = &d->table;
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();
	char path[300];
	unsigned int i;

	add_str(o, "name", d->name);
	add_str(o, "uuid", d->uuid);
	add_str(o, "mode", jm_mode_names[s->mode]);
	add_str(o, "state", jm_state_names[s->state]);
	add_u64(o, "offset", s->offset * 512);
	add_u64(o, "len", s->len * 512);
	json_object_object_add(o, "progress", json_object_new_double(jm_progress(s)));
	add_u64(o, "dirty_regions", s->dirty);
	add_u64(o, "regions", s->regions);
	add_u64(o, "region_size", t->region_sectors * 512);
	add_u64(o, "size", d->length * 512);
	add_str(o, "iostatus", jm_iostatus_names[s->iostatus]);
	add_str(o, "io", jm_io_names[s->io]);
	add_u64(o, "held", s->held);
	add_u64(o, "speed", s->speed);
	add_u64(e, "source", s->src_errors);
	add_u64(e, "dest", s->dst_errors);
	add_u64(e, "io", s->io_errors);
	json_object_object_add(o, "errors", e);
	add_u64(o, "event_seq", s->event_seq);
	add_str(o, "stop_reason", s->stop_reason);
	add_str(o, "job_error", s->job_error);
	jm_dm_devpath(t->source, path, sizeof(path));
	add_str(o, "source", path);
	jm_dm_devpath(t->dest, path, sizeof(path));
	add_str(o, "dest", path);
	if (strcmp(t->metadata, DM_JOBMIRROR_NO_METADATA))
		jm_dm_devpath(t->metadata, path, sizeof(path));
	else
		strcpy(path, DM_JOBMIRROR_NO_METADATA);
	add_str(o, "metadata", path);
	for (i = 0; i < 4; i++)
		add_str(o, jm_opt_names[DM_JOBMIRROR_OPT_ON_SOURCE_ERROR + i],
			jm_policy_names[t->policy[i]]);
	add_u64(o, jm_opt_names[DM_JOBMIRROR_OPT_IO_HANG_TIMEOUT], t->io_hang_timeout);
	add_u64(o, jm_opt_names[DM_JOBMIRROR_OPT_IO_HANG_INTERVAL], t->io_hang_interval);
	add_str(o, jm_opt_names[DM_JOBMIRROR_OPT_COPY_MODE], jm_copy_mode_names[t->copy_mode]);
	return o;
}

/* Print {"devices": [...]} and release it. */
static int print_json(struct json_object *array)
{
	struct json_object *top = json_object_new_object();
	int r;

	json_object_object_add(top, "devices", array);
	r = puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
						JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	if (r < 0 || fflush(stdout)) {
		err("cannot write the output: %s", strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* --- list --- */

struct list_ctx {
	struct libscols_table *tb;
	struct json_object *array;
};

static int list_one(const struct jm_device *d, void *arg)
{
	struct list_ctx *c = arg;
	struct libscols_line *ln;
	char buf[300];

	if (c->array) {
		json_object_array_add(c->array, device_json(d));
		return 0;
	}
	ln = scols_table_new_line(c->tb, NULL);
	if (!ln)
		return -1;
	scols_line_set_data(ln, 0, d->name);
	scols_line_set_data(ln, 1, jm_mode_names[d->status.mode]);
	scols_line_set_data(ln, 2, jm_state_names[d->status.state]);
	snprintf(buf, sizeof(buf), "%.1f%%", jm_progress(&d->status));
	scols_line_set_data(ln, 3, buf);
	scols_line_set_data(ln, 4, jm_iostatus_names[d->status.iostatus]);
	scols_line_set_data(ln, 5, jm_io_names[d->status.io]);
	human_size(d->length * 512, buf, sizeof(buf));
	scols_line_set_data(ln, 6, buf);
	jm_dm_devpath(d->table.source, buf, sizeof(buf));
	scols_line_set_data(ln, 7, buf);
	jm_dm_devpath(d->table.dest, buf, sizeof(buf));
	scols_line_set_data(ln, 8, buf);
	return 0;
}

static int cmd_list(int argc, char **argv, int json)
{
	static const char *const cols[] = {
		"NAME", "MODE", "STATE", "PROGRESS", "IOSTATUS", "IO", "SIZE", "SOURCE", "DEST"
	};
	struct list_ctx c = { 0 };
	unsigned int i;
	int r;

	if (argc)
		return usage_error("list: unexpected argument '%s'", argv[0]);
	if (json) {
		c.array = json_object_new_array();
	} else {
		c.tb = scols_new_table();
		if (!c.tb)
			return EXIT_FAILED;
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			scols_table_new_column(c.tb, cols[i], 0, 0);
	}
	r = jm_dm_foreach(list_one, &c);
	if (r) {
		err("list: cannot read the device-mapper devices: %s",
		    *jm_dm_last_error() ? jm_dm_last_error() : strerror(errno));
		if (c.array)
			json_object_put(c.array);
		scols_unref_table(c.tb);
		return EXIT_FAILED;
	}
	if (c.array)
		return print_json(c.array);
	if (scols_table_get_nlines(c.tb))
		scols_print_table(c.tb);
	scols_unref_table(c.tb);
	return EXIT_OK;
}

/* --- status --- */

static void status_row(struct libscols_table *tb, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void status_row(struct libscols_table *tb, const char *key, const char *fmt, ...)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char *val = NULL;
	va_list ap;

	if (!ln)
		return;
	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	scols_line_set_data(ln, 0, key);
	scols_line_refer_data(ln, 1, val);
}

static void print_status(const struct jm_device *d)
{
	const struct jm_status *s = &d->status;
	const struct jm_table *t = &d->table;
	struct libscols_table *tb = scols_new_table();
	char a[64], b[64], src[300], dst[300], meta[300];

	if (!tb)
		return;
	scols_table_enable_noheadings(tb, 1);
	scols_table_new_column(tb, "FIELD", 0, 0);
	scols_table_new_column(tb, "VALUE", 0, 0);

	jm_dm_devpath(t->source, src, sizeof(src));
	jm_dm_devpath(t->dest, dst, sizeof(dst));
	if (strcmp(t->metadata, DM_JOBMIRROR_NO_METADATA))
		jm_dm_devpath(t->metadata, meta, sizeof(meta));
	else
		strcpy(meta, "none");

	printf("%s:\n", d->name);
	status_row(tb, "  mode", "%s", jm_mode_names[s->mode]);
	status_row(tb, "  state", "%s", jm_state_names[s->state]);
	human_size(s->offset * 512, a, sizeof(a));
	human_size(s->len * 512, b, sizeof(b));
	status_row(tb, "  progress", "%.1f%% (%s of %s)", jm_progress(s), a, b);
	human_size(t->region_sectors * 512, a, sizeof(a));
	status_row(tb, "  dirty", "%llu of %llu regions of %s",
		   (unsigned long long)s->dirty, (unsigned long long)s->regions, a);
	status_row(tb, "  iostatus", "%s", jm_iostatus_names[s->iostatus]);
	status_row(tb, "  io", "%s (%llu held)", jm_io_names[s->io],
		   (unsigned long long)s->held);
	if (s->speed) {
		human_size(s->speed, a, sizeof(a));
		status_row(tb, "  speed", "%s/s", a);
	} else {
		status_row(tb, "  speed", "unlimited");
	}
	status_row(tb, "  errors", "source %llu, dest %llu, io %llu",
		   (unsigned long long)s->src_errors, (unsigned long long)s->dst_errors,
		   (unsigned long long)s->io_errors);
	status_row(tb, "  events", "%llu", (unsigned long long)s->event_seq);
	status_row(tb, "  stop_reason", "%s", s->stop_reason);
	status_row(tb, "  job_error", "%s", s->job_error);
	status_row(tb, "  source", "%s", src);
	status_row(tb, "  dest", "%s", dst);
	status_row(tb, "  metadata", "%s", meta);
	status_row(tb, "  policies", "on_source_error %s, on_target_error %s, rerror %s, werror %s",
		   jm_policy_names[t->policy[0]], jm_policy_names[t->policy[1]],
		   jm_policy_names[t->policy[2]], jm_policy_names[t->policy[3]]);
	if (t->io_hang_timeout)
		status_row(tb, "  io_hang", "retry every %llu ms for up to %llu s",
			   (unsigned long long)t->io_hang_interval,
			   (unsigned long long)t->io_hang_timeout);
	else
		status_row(tb, "  io_hang", "off");
	status_row(tb, "  copy_mode", "%s", jm_copy_mode_names[t->copy_mode]);
	scols_print_table(tb);
	scols_unref_table(tb);
}

static int status_one(const struct jm_device *d, void *arg)
{
	struct json_object *array = arg;

	if (array)
		json_object_array_add(array, device_json(d));
	else
		print_status(d);
	return 0;
}

/* Report why jm_dm_get() failed for @name; returns the exit status. */
static int get_failed(const char *cmd, const char *name, enum jm_get_result r)
{
	switch (r) {
	case JM_GET_NO_DEVICE:
		err("%s %s: no such device", cmd, name);
		return EXIT_NODEV;
	case JM_GET_NOT_JOBMIRROR:
		err("%s %s: not a jobmirror device", cmd, name);
		return EXIT_NODEV;
	default:
		err("%s %s: %s", cmd, name,
		    *jm_dm_last_error() ? jm_dm_last_error() : "device-mapper request failed");
		return EXIT_FAILED;
	}
}

static int cmd_status(int argc, char **argv, int json)
{
	struct json_object *array = json ? json_object_new_array() : NULL;
	struct jm_device dev;
	enum jm_get_result g;
	int i, rc = EXIT_OK, r;

	if (!argc) {
		if (jm_dm_foreach(status_one, array)) {
			err("status: cannot read the device-mapper devices: %s",
			    *jm_dm_last_error() ? jm_dm_last_error() : strerror(errno));
			rc = EXIT_FAILED;
		}
	}
	for (i = 0; i < argc; i++) {
		g = jm_dm_get(argv[i], &dev);
		if (g != JM_GET_OK) {
			r = get_failed("status", argv[i], g);
			if (rc == EXIT_OK || r == EXIT_FAILED)
				rc = r;
			continue;
		}
		status_one(&dev, array);
	}
	if (!array)
		return rc;
	if (rc != EXIT_OK) {
		json_object_put(array);
		return rc;
	}
	return print_json(array);
}

/* --- main --- */

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, int json);
};

static const struct command commands[] = {
	{ "list", cmd_list },
	{ "status", cmd_status },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	int c, json = 0;
	unsigned int i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("dmtool %d.%d.%d\n", DM_JOBMIRROR_VERSION_MAJOR,
			       DM_JOBMIRROR_VERSION_MINOR, DM_JOBMIRROR_VERSION_PATCH);
			return EXIT_OK;
		default:
			return usage_error("unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);

	/*
	 * Options may also follow the command and its arguments: parse again
	 * with the command word in the place of the program name (optind 0
	 * makes glibc start afresh).
	 */
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return usage_error("%s: unrecognized option '%s'", cmd->name,
					   argv[optind - 1]);
		}
	}
	jm_dm_init();
	return cmd->fn(argc - optind, argv + optind, json);
}
