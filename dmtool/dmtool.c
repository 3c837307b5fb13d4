// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool: control tool for dm-jobmirror devices.
 *
 * Exit status: 0 success, 1 the operation failed, 2 usage error,
 * 3 no such device or not a jobmirror device, 4 timed out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <linux/fs.h>
#include <json-c/json.h>
#include <libsmartcols/libsmartcols.h>


#include "dmtool.h"

static const char *prog = "dmtool";

void err(const char *fmt, ...)
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
	"  create NAME --mode mirror|stream --source DEV --dest DEV [--metadata DEV]\n"
	"         [--region-size SIZE] [--speed RATE] [--on-source-error P]\n"
	"         [--on-target-error P] [--rerror P] [--werror P]\n"
	"         [--io-hang-timeout SECS] [--io-hang-interval MS]\n"
	"         [--copy-mode background|write_blocking] [--paused]\n"
	"                              create a device; its size is the source's\n"
	"  list [--json]               list the jobmirror devices\n"
	"  status [NAME...] [--json]   show the job and I/O state of devices\n"
	"                              (all jobmirror devices if no NAME)\n"
	"  pause|resume|cancel|continue NAME\n"
	"                              send that message to the job\n"
	"  complete NAME               complete, wait, then reload NAME as linear\n"
	"                              on the dest\n"
	"  set-speed NAME RATE         copy rate limit, K/M/G suffixes, 0 = none\n"
	"  wait NAME [--for ready|done] [--progress] [--timeout SECS]\n"
	"                              wait until the job is ready or done\n"
	"  remove NAME                 remove the device\n"
	"  watch [NAME] [--json]       print events as they happen (until SIGINT)\n"
	"  udev-event [--hooks-dir DIR] [--hook-timeout SECS]\n"
	"                              run by the udev rule: log the event in the\n"
	"                              environment and run the hooks (default\n"
	"                              /etc/dm-jobmirror/hooks.d, 30 s each)\n"
	"\n"
	"P is a policy: report, ignore, stop or enospc.  SIZE and RATE take\n"
	"K, M, G suffixes (powers of 1024); RATE is per second.\n"
	"\n"
	"Options:\n"
	"  -j, --json     print JSON only (numbers as numbers, sizes in bytes)\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error, 3 no such device or\n"
	"not a jobmirror device, 4 timed out.\n";

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

/* Print {"devices": [...]} and release it (main() checks the write). */
static void print_json(struct json_object *array)
{
	struct json_object *top = json_object_new_object();

	json_object_object_add(top, "devices", array);
	puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
}

/* --- list --- */

struct list_ctx {
	const char *cmd;
	struct libscols_table *tb;
	struct json_object *array;
	bool unreadable;	/* a jobmirror device could not be read */
};

/* A jobmirror device whose tables jm_dm_foreach() could not read or parse. */
static void unreadable(struct list_ctx *c, const char *name)
{
	err("%s %s: %s", c->cmd, name,
	    *jm_dm_last_error() ? jm_dm_last_error() : "cannot read its tables");
	c->unreadable = true;
}

static int list_one(const char *name, const struct jm_device *d, void *arg)
{
	struct list_ctx *c = arg;
	struct libscols_line *ln;
	char buf[300];

	if (!d) {
		unreadable(c, name);
		return 0;
	}
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
	struct list_ctx c = { .cmd = "list" };
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
	/*
	 * A device that could not be read fails the command: the others are
	 * shown, but not as JSON (JSON only on success, as the contract says).
	 */
	if (c.array && c.unreadable) {
		json_object_put(c.array);
	} else if (c.array) {
		print_json(c.array);
	} else {
		if (scols_table_get_nlines(c.tb))
			scols_print_table(c.tb);
		scols_unref_table(c.tb);
	}
	return c.unreadable ? EXIT_FAILED : EXIT_OK;
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

static int status_one(const char *name, const struct jm_device *d, void *arg)
{
	struct list_ctx *c = arg;

	if (!d)
		unreadable(c, name);
	else if (c->array)
		json_object_array_add(c->array, device_json(d));
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
	struct list_ctx c = { .cmd = "status", .array = json ? json_object_new_array() : NULL };
	struct json_object *array = c.array;
	struct jm_device dev;
	enum jm_get_result g;
	int i, rc = EXIT_OK, r;

	if (!argc) {
		if (jm_dm_foreach(status_one, &c)) {
			err("status: cannot read the device-mapper devices: %s",
			    *jm_dm_last_error() ? jm_dm_last_error() : strerror(errno));
			if (array)
				json_object_put(array);
			return EXIT_FAILED;
		}
		/* As list: an unreadable device fails the command. */
		if (c.unreadable) {
			if (array)
				json_object_put(array);
			return EXIT_FAILED;
		}
		if (array)
			print_json(array);
		return EXIT_OK;
	}
	for (i = 0; i < argc; i++) {
		g = jm_dm_get(argv[i], &dev);
		if (g != JM_GET_OK) {
			r = get_failed("status", argv[i], g);
			if (rc == EXIT_OK || r == EXIT_FAILED)
				rc = r;
			continue;
		}
		status_one(argv[i], &dev, &c);
	}
	if (!array)
		return rc;
	if (rc != EXIT_OK) {
		json_object_put(array);
		return rc;
	}
	print_json(array);
	return EXIT_OK;
}

/* --- option parsing shared by the commands --- */

static const struct option json_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/**
 * option_error() - the usage error for what getopt_long() returned.
 * @cmd: the command's name.
 * @c: ':' for an option without its value (optstrings start with ':'),
 *	'?' for one not known.
 * @argv: the command's words.
 *
 * Return: EXIT_USAGE.
 */
int option_error(const char *cmd, int c, char **argv)
{
	const char *word = argv[optind - 1], *cur = argv[optind];

	/*
	 * getopt_long() leaves optind on a group of short options (-zp) until
	 * it is done with it, so an unknown short option is named by optopt;
	 * the word before optind is an unknown long option (optopt 0), or
	 * one given a value it does not take (optopt its letter), or a short
	 * one that ended its group.  An option without its value is always
	 * the word before optind.
	 */
	if (c == '?' && optopt &&
	    ((cur && cur[0] == '-' && cur[1] != '-' && strchr(cur + 1, optopt)) ||
	     strncmp(word, "--", 2)))
		return usage_error("%s: unrecognized option '-%c'", cmd, optopt);
	if (c == '?')
		return usage_error("%s: unrecognized option '%s'", cmd, word);
	if (strncmp(word, "--", 2))
		return usage_error("%s: option '-%c' needs a value", cmd, optopt);
	return usage_error("%s: option '%s' needs a value", cmd, word);
}

/*
 * Parse a command that takes only --json and --help.  Returns -1 to go on
 * (with *json set and optind at the first operand), or an exit status.
 */
int parse_json_only(int argc, char **argv, int *json)
{
	int c;

	*json = 0;
	while ((c = getopt_long(argc, argv, ":jh", json_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return option_error(argv[0], c, argv);
		}
	}
	return -1;
}

static int parse_no_options(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, ":h", json_opts + 1, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		return option_error(argv[0], c, argv);
	}
	return -1;
}

/* Look up a jobmirror device; returns -1 when found or an exit status. */
int get_device(const char *cmd, const char *name, struct jm_device *dev)
{
	enum jm_get_result g = jm_dm_get(name, dev);

	return g == JM_GET_OK ? -1 : get_failed(cmd, name, g);
}

/* --- pause, resume, cancel, continue, set-speed --- */

static int send_message(const char *cmd, const struct jm_device *dev, const char *msg)
{
	struct jm_device now;
	int r = jm_dm_message(dev, msg);

	if (!r)
		return EXIT_OK;
	if (r == -ENXIO)
		return get_failed(cmd, dev->name, JM_GET_NO_DEVICE);
	if (r == -EBUSY && jm_dm_get(dev->name, &now) == JM_GET_OK)
		err("%s %s: not possible now: the job is %s, io is %s", cmd, dev->name,
		    jm_state_names[now.status.state], jm_io_names[now.status.io]);
	else
		err("%s %s: %s", cmd, dev->name, strerror(-r));
	return EXIT_FAILED;
}

static int cmd_simple_message(int argc, char **argv)
{
	struct jm_device dev;
	int r = parse_no_options(argc, argv);

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("%s: expected one device NAME", argv[0]);
	r = get_device(argv[0], argv[optind], &dev);
	if (r >= 0)
		return r;
	return send_message(argv[0], &dev, argv[0]);
}

static int cmd_set_speed(int argc, char **argv)
{
	struct jm_device dev;
	char msg[64];
	uint64_t rate;
	int r = parse_no_options(argc, argv);

	if (r >= 0)
		return r;
	if (argc - optind != 2)
		return usage_error("set-speed: expected NAME RATE");
	if (jm_parse_size(argv[optind + 1], 1, &rate))
		return usage_error("set-speed: '%s' is not a rate (bytes/s, K/M/G suffixes)",
				   argv[optind + 1]);
	r = get_device("set-speed", argv[optind], &dev);
	if (r >= 0)
		return r;
	snprintf(msg, sizeof(msg), "set_speed %llu", (unsigned long long)rate);
	return send_message("set-speed", &dev, msg);
}

static int cmd_remove(int argc, char **argv)
{
	struct jm_device dev;
	int r = parse_no_options(argc, argv);

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("remove: expected one device NAME");
	r = get_device("remove", argv[optind], &dev);
	if (r >= 0)
		return r;
	r = jm_dm_remove(dev.name);
	if (r == -ENXIO)
		return get_failed("remove", dev.name, JM_GET_NO_DEVICE);
	if (r) {
		err("remove %s: %s", dev.name, strerror(-r));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* --- create --- */

/* Whether @s can be one word of a table line: not empty, no blanks. */
static bool is_table_word(const char *s)
{
	return *s && !strpbrk(s, " \t\n\v\f\r");
}

enum create_opt {
	OPT_MODE = 256, OPT_SOURCE, OPT_DEST, OPT_METADATA, OPT_REGION_SIZE, OPT_SPEED,
	OPT_ON_SOURCE_ERROR, OPT_ON_TARGET_ERROR, OPT_RERROR, OPT_WERROR,
	OPT_IO_HANG_TIMEOUT, OPT_IO_HANG_INTERVAL, OPT_COPY_MODE, OPT_PAUSED,
};

/* Append " key value" to the optional words of a table line. */
static void add_opt(char *buf, size_t sz, unsigned int *nwords, const char *key,
		    const char *val)
{
	size_t len = strlen(buf);

	if (val) {
		snprintf(buf + len, sz - len, " %s %s", key, val);
		*nwords += 2;
	} else {
		snprintf(buf + len, sz - len, " %s", key);
		*nwords += 1;
	}
}

/* Add "key value" for a number, in the plain digits the kernel reads. */
static void add_num_opt(char *buf, size_t sz, unsigned int *nwords, const char *key,
			uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	add_opt(buf, sz, nwords, key, num);
}

static int device_sectors(const char *path, uint64_t *sectors)
{
	uint64_t bytes;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, &bytes))
		r = -errno;
	else
		*sectors = bytes >> 9;
	close(fd);
	return r;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "dest", required_argument, NULL, OPT_DEST },
		{ "metadata", required_argument, NULL, OPT_METADATA },
		{ "region-size", required_argument, NULL, OPT_REGION_SIZE },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "on-source-error", required_argument, NULL, OPT_ON_SOURCE_ERROR },
		{ "on-target-error", required_argument, NULL, OPT_ON_TARGET_ERROR },
		{ "rerror", required_argument, NULL, OPT_RERROR },
		{ "werror", required_argument, NULL, OPT_WERROR },
		{ "io-hang-timeout", required_argument, NULL, OPT_IO_HANG_TIMEOUT },
		{ "io-hang-interval", required_argument, NULL, OPT_IO_HANG_INTERVAL },
		{ "copy-mode", required_argument, NULL, OPT_COPY_MODE },
		{ "paused", no_argument, NULL, OPT_PAUSED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode = NULL, *source = NULL, *dest = NULL, *meta = DM_JOBMIRROR_NO_METADATA;
	const char *copy_mode = NULL;
	char optwords[512] = "", reason[256], *params;
	uint64_t region = 64 * 1024, v, sectors = 0;
	unsigned int nwords = 0, seen = 0;
	struct jm_device dev;
	bool paused = false;
	const char *key, *name;
	int c, r, kmsg;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		key = NULL;
		/* An option given twice would put its key twice in the table line. */
		if (c >= OPT_MODE && c <= OPT_PAUSED) {
			if (seen & (1U << (c - OPT_MODE)))
				return usage_error("create: --%s given twice", opts[c - OPT_MODE].name);
			seen |= 1U << (c - OPT_MODE);
		}
		switch (c) {
		case OPT_MODE:
			if (jm_lookup(optarg, jm_mode_names, DM_JOBMIRROR_NR_MODES) < 0)
				return usage_error("create: --mode '%s': use mirror or stream", optarg);
			mode = optarg;
			break;
		case OPT_SOURCE:
			source = optarg;
			break;
		case OPT_DEST:
			dest = optarg;
			break;
		case OPT_METADATA:
			meta = optarg;
			break;
		case OPT_REGION_SIZE:
			if (jm_parse_size(optarg, 1, &region) || region < 4096 ||
			    region > (1ULL << 30) || (region & (region - 1)))
				return usage_error("create: --region-size '%s': a power of two from 4K to 1G",
						   optarg);
			break;
		case OPT_SPEED:
			if (jm_parse_size(optarg, 1, &v))
				return usage_error("create: --speed '%s' is not a rate (bytes/s, K/M/G suffixes)",
						   optarg);
			add_num_opt(optwords, sizeof(optwords), &nwords,
				    jm_opt_names[DM_JOBMIRROR_OPT_SPEED], v);
			break;
		case OPT_ON_SOURCE_ERROR:
		case OPT_ON_TARGET_ERROR:
		case OPT_RERROR:
		case OPT_WERROR:
			key = jm_opt_names[DM_JOBMIRROR_OPT_ON_SOURCE_ERROR + c - OPT_ON_SOURCE_ERROR];
			if (jm_lookup(optarg, jm_policy_names, DM_JOBMIRROR_NR_POLICIES) < 0)
				return usage_error("create: --%s '%s': use report, ignore, stop or enospc",
						   opts[c - OPT_MODE].name, optarg);
			add_opt(optwords, sizeof(optwords), &nwords, key, optarg);
			break;
		case OPT_IO_HANG_TIMEOUT:
			if (jm_parse_uint(optarg, DM_JOBMIRROR_MAX_IO_HANG_TIMEOUT, &v))
				return usage_error("create: --io-hang-timeout '%s': seconds, 0 to %u",
						   optarg, DM_JOBMIRROR_MAX_IO_HANG_TIMEOUT);
			add_num_opt(optwords, sizeof(optwords), &nwords,
				    jm_opt_names[DM_JOBMIRROR_OPT_IO_HANG_TIMEOUT], v);
			break;
		case OPT_IO_HANG_INTERVAL:
			if (jm_parse_uint(optarg, DM_JOBMIRROR_MAX_IO_HANG_INTERVAL, &v) ||
			    v < DM_JOBMIRROR_MIN_IO_HANG_INTERVAL)
				return usage_error("create: --io-hang-interval '%s': milliseconds, %u to %u",
						   optarg, DM_JOBMIRROR_MIN_IO_HANG_INTERVAL,
						   DM_JOBMIRROR_MAX_IO_HANG_INTERVAL);
			add_num_opt(optwords, sizeof(optwords), &nwords,
				    jm_opt_names[DM_JOBMIRROR_OPT_IO_HANG_INTERVAL], v);
			break;
		case OPT_COPY_MODE:
			if (jm_lookup(optarg, jm_copy_mode_names, DM_JOBMIRROR_NR_COPY_MODES) < 0)
				return usage_error("create: --copy-mode '%s': use background or write_blocking",
						   optarg);
			copy_mode = optarg;
			add_opt(optwords, sizeof(optwords), &nwords,
				jm_opt_names[DM_JOBMIRROR_OPT_COPY_MODE], optarg);
			break;
		case OPT_PAUSED:
			add_opt(optwords, sizeof(optwords), &nwords,
				jm_opt_names[DM_JOBMIRROR_OPT_START_PAUSED], NULL);
			paused = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return option_error("create", c, argv);
		}
	}
	if (argc - optind != 1)
		return usage_error("create: expected one device NAME");
	name = argv[optind];
	if (!*name || strchr(name, '/') || strlen(name) >= JM_NAME_MAX ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return usage_error("create: '%s' is not a device name (1 to %d characters, no '/')",
				   name, JM_NAME_MAX - 1);
	if (!mode || !source || !dest)
		return usage_error("create: --mode, --source and --dest are required");
	/* A device is one word of the table line. */
	if (!is_table_word(source))
		return usage_error("create: --source '%s' is not a device path", source);
	if (!is_table_word(dest))
		return usage_error("create: --dest '%s' is not a device path", dest);
	if (!is_table_word(meta))
		return usage_error("create: --metadata '%s' is not a device path", meta);
	if (!strcmp(mode, jm_mode_names[DM_JOBMIRROR_MODE_STREAM]) &&
	    !strcmp(meta, DM_JOBMIRROR_NO_METADATA))
		return usage_error("create: --mode stream needs --metadata");
	if (!strcmp(mode, jm_mode_names[DM_JOBMIRROR_MODE_STREAM]) && copy_mode &&
	    !strcmp(copy_mode, jm_copy_mode_names[DM_JOBMIRROR_COPY_WRITE_BLOCKING]))
		return usage_error("create: --copy-mode write_blocking is for --mode mirror only");

	r = device_sectors(source, &sectors);
	if (r) {
		err("create %s: cannot read the size of %s: %s", argv[optind], source, strerror(-r));
		return EXIT_FAILED;
	}
	if (!sectors) {
		err("create %s: the source %s is empty", argv[optind], source);
		return EXIT_FAILED;
	}
	/* Paths may be long: the line is as long as it needs to be. */
	if (nwords)
		r = asprintf(&params, "%s %s %s %s %llu %u%s", mode, source, dest, meta,
			     (unsigned long long)(region >> 9), nwords, optwords);
	else
		r = asprintf(&params, "%s %s %s %s %llu", mode, source, dest, meta,
			     (unsigned long long)(region >> 9));
	if (r < 0) {
		err("create %s: out of memory", argv[optind]);
		return EXIT_FAILED;
	}

	kmsg = jm_kmsg_mark();
	r = jm_dm_create(argv[optind], sectors, DM_JOBMIRROR_TARGET_NAME, params);
	free(params);
	if (r) {
		jm_kmsg_reason(kmsg, reason, sizeof(reason));
		if (!*reason)
			snprintf(reason, sizeof(reason), "%s",
				 *jm_dm_last_error() ? jm_dm_last_error() : strerror(-r));
		err("create %s: %s", argv[optind], reason);
		return EXIT_FAILED;
	}
	if (kmsg >= 0)
		close(kmsg);
	/*
	 * A metadata device may hold a completed or paused job: say so (a
	 * small mirror may be ready already, which its metadata did not do).
	 */
	if (jm_dm_get(argv[optind], &dev) == JM_GET_OK &&
	    (dev.status.state == DM_JOBMIRROR_STATE_COMPLETED ||
	     (dev.status.state == DM_JOBMIRROR_STATE_PAUSED && !paused)))
		err("create %s: the job is %s, as its metadata device recorded%s", argv[optind],
		    jm_state_names[dev.status.state],
		    dev.status.state == DM_JOBMIRROR_STATE_PAUSED ? "; dmtool resume goes on" : "");
	return EXIT_OK;
}

/* --- wait and complete --- */

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static void sigalrm_mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(how, &set, NULL);
}

/*
 * Start a 1 s ticker whose signal interrupts the event wait.  It is
 * blocked everywhere else (see wait_event()): a write to a slow stdout
 * must not fail with EINTR.
 */
static void start_ticker(void)
{
	struct sigaction sa = { .sa_handler = on_tick };
	struct itimerval it = { { 1, 0 }, { 1, 0 } };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the wait ioctl returns EINTR */
	sigalrm_mask(SIG_BLOCK);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void stop_ticker(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
	/* A tick still pending only counts. */
	sigalrm_mask(SIG_UNBLOCK);
}

/*
 * Wait for an event after @nr, the ticker (if @ticking) unblocked for the
 * wait only.  A tick pending from before is taken at the unblock and ends
 * the wait at once; one that comes between that check and the ioctl
 * delays the next look by a second at most.  0, -EINTR or -errno.
 */
static int wait_event(const char *name, uint32_t nr, bool ticking)
{
	sig_atomic_t before = ticks;
	int r;

	if (!ticking)
		return jm_dm_wait_event(name, nr);
	sigalrm_mask(SIG_UNBLOCK);
	r = ticks != before ? -EINTR : jm_dm_wait_event(name, nr);
	sigalrm_mask(SIG_BLOCK);
	return r;
}


static void print_progress(const struct jm_device *d, bool tty, uint64_t rate)
{
	const struct jm_status *s = &d->status;
	char a[32], b[32], r[32];
	double pct = jm_progress(s);
	int i, bar = (int)(pct * 30 / 100);

	human_size(s->offset * 512, a, sizeof(a));
	human_size(s->len * 512, b, sizeof(b));
	human_size(rate, r, sizeof(r));
	if (tty) {
		printf("\r%s [", d->name);
		for (i = 0; i < 30; i++)
			putchar(i < bar ? '#' : '.');
		printf("] %5.1f%% %s of %s, %s/s, %s   ", pct, a, b, r, jm_state_names[s->state]);
	} else {
		printf("%s: %s %.1f%% (%s of %s, %s/s), %llu of %llu regions to copy\n",
		       d->name, jm_state_names[s->state], pct, a, b, r,
		       (unsigned long long)s->dirty, (unsigned long long)s->regions);
	}
	fflush(stdout);
}

enum wait_for { WAIT_READY, WAIT_DONE };

/* Whether a job in state @s ends a wait for @want. */
static bool wait_over(enum dm_jobmirror_state s, enum wait_for want)
{
	switch (s) {
	case DM_JOBMIRROR_STATE_COMPLETED:
	case DM_JOBMIRROR_STATE_CANCELLED:
	case DM_JOBMIRROR_STATE_FAILED:
		return true;
	case DM_JOBMIRROR_STATE_READY:
	case DM_JOBMIRROR_STATE_STANDBY:
		return want == WAIT_READY;
	default:
		return false;
	}
}

/* Whether @now is still the jobmirror segment of @was, on the same devices. */
static bool same_job(const struct jm_device *was, const struct jm_device *now)
{
	return was->start == now->start && was->length == now->length &&
	       was->table.mode == now->table.mode &&
	       !strcmp(was->table.source, now->table.source) &&
	       !strcmp(was->table.dest, now->table.dest);
}

/* Which job a wait follows. */
enum wait_scope {
	WAIT_ANY_JOB,		/* whatever job the device holds */
	WAIT_ONE_JOB,		/* the caller's; a table of another job ends the wait */
	WAIT_COMPLETING,	/* WAIT_ONE_JOB, a mirror sent complete: see complete_again() */
};

/*
 * While complete waits, a table reload with the same devices may start
 * the job again: the new job never got the complete, and would stay
 * ready for ever.  Within one job the state never goes back before
 * ready, and event_seq, offset and len never go back; every event of
 * the job adds to event_seq, and only events wake the wait.  So a job
 * started again shows as one of those going back, or as a wake-up with
 * event_seq unchanged (@first: @was is from before the wait, no wake-up
 * yet).  Once that job is ready, complete is sent to it as well.
 * Returns -1 to go on waiting, or an exit status.
 */
static int complete_again(const char *cmd, const struct jm_device *was,
			  const struct jm_device *now, bool first, bool *restarted)
{
	const struct jm_status *a = &was->status, *b = &now->status;
	int r;

	if (b->state == DM_JOBMIRROR_STATE_RUNNING || b->state == DM_JOBMIRROR_STATE_PAUSED ||
	    b->event_seq < a->event_seq || b->offset < a->offset || b->len < a->len ||
	    (!first && b->event_seq == a->event_seq))
		*restarted = true;
	if (!*restarted || b->state != DM_JOBMIRROR_STATE_READY)
		return -1;
	*restarted = false;
	r = jm_dm_message(now, "complete");
	if (r == -ENXIO)
		return get_failed(cmd, now->name, JM_GET_NO_DEVICE);
	/* Not ready any more, or it had the complete after all. */
	if (r == -EBUSY)
		return -1;
	if (r) {
		err("%s %s: %s", cmd, now->name, strerror(-r));
		return EXIT_FAILED;
	}
	printf("%s: the job was started again by a table reload: complete sent again\n",
	       now->name);
	fflush(stdout);
	return -1;
}

/*
 * Wait until the job of @name is ready (or past it) or done.  Sleeps in
 * the dm event wait, woken by the target's events and, for --progress or
 * --timeout, by a 1 s ticker.  With @scope past WAIT_ANY_JOB, a table
 * replaced meanwhile by one of another job (other devices) ends the wait
 * with exit 1.  Returns an exit status; *dev is the last state seen.
 */
static int wait_job(const char *cmd, const char *name, enum wait_for want, bool progress,
		    uint64_t timeout, enum wait_scope scope, struct jm_device *dev)
{
	bool one_job = scope != WAIT_ANY_JOB, restarted = false;
	bool tty = progress && isatty(STDOUT_FILENO);
	uint64_t last_offset = 0, rate = 0;
	int last_tick = 0;
	enum dm_jobmirror_state st, last_st = DM_JOBMIRROR_NR_STATES;
	char dm_name[JM_NAME_MAX];
	bool first = true;
	enum jm_get_result g;
	struct jm_device last;
	uint32_t nr;
	int r, rc;

	/* A /dev/mapper path is looked up once: its node goes before the device. */
	/* With @one_job, the job is the one the caller read into *dev. */
	if (one_job)
		last = *dev;
	r = get_device(cmd, name, dev);
	if (r >= 0)
		return r;
	if (!one_job)
		last = *dev;
	snprintf(dm_name, sizeof(dm_name), "%s", dev->name);
	if (progress || timeout)
		start_ticker();
	for (;;) {
		rc = -1;
		r = jm_dm_event_nr(dm_name, &nr);
		if (r == -ENXIO) {
			rc = get_failed(cmd, name, JM_GET_NO_DEVICE);
			break;
		} else if (r) {
			err("%s %s: %s", cmd, name,
			    *jm_dm_last_error() ? jm_dm_last_error() : strerror(-r));
			rc = EXIT_FAILED;
			break;
		}
		g = jm_dm_get(dm_name, dev);
		/* (last holds the device as it was a round ago, or at the start.) */
		if (g == JM_GET_NOT_JOBMIRROR && jm_dm_is_pivoted(&last)) {
			/* Another dmtool complete was quicker: completed, and reloaded. */
			*dev = last;
			dev->status.state = DM_JOBMIRROR_STATE_COMPLETED;
			if (progress)
				print_progress(dev, tty, rate);
			rc = EXIT_OK;
			break;
		}
		if (g != JM_GET_OK) {
			rc = get_failed(cmd, dm_name, g);
			break;
		}
		if (one_job && !same_job(&last, dev)) {
			err("%s %s: its table was replaced meanwhile; nothing changed", cmd, name);
			rc = EXIT_FAILED;
			break;
		}
		if (scope == WAIT_COMPLETING) {
			rc = complete_again(cmd, &last, dev, first, &restarted);
			if (rc >= 0)
				break;
		}
		last = *dev;
		st = dev->status.state;
		if (progress && (first || ticks != last_tick || wait_over(st, want))) {
			/* The offset goes back when a reload starts the copy again. */
			if (!first && ticks != last_tick)
				rate = dev->status.offset < last_offset ? 0 :
				       (dev->status.offset - last_offset) * 512 /
				       (ticks - last_tick);
			last_offset = dev->status.offset;
			last_tick = ticks;
			print_progress(dev, tty, rate);
		}
		/* Each time the job stops (pause, or an error policy's stop). */
		if (st != last_st && !wait_over(st, want) &&
		    (st == DM_JOBMIRROR_STATE_PAUSED || st == DM_JOBMIRROR_STATE_STANDBY)) {
			if (tty)
				putchar('\n');
			if (dev->status.iostatus != DM_JOBMIRROR_IOSTATUS_OK)
				err("%s %s: the job is %s (iostatus %s): waiting for dmtool resume %s",
				    cmd, name, jm_state_names[st],
				    jm_iostatus_names[dev->status.iostatus], name);
			else
				err("%s %s: the job is %s: waiting for dmtool resume %s", cmd, name,
				    jm_state_names[st], name);
		}
		last_st = st;
		first = false;
		if (wait_over(st, want)) {
			rc = st == DM_JOBMIRROR_STATE_CANCELLED || st == DM_JOBMIRROR_STATE_FAILED ?
			     EXIT_FAILED : EXIT_OK;
			break;
		}
		if (timeout && (uint64_t)ticks >= timeout) {
			rc = EXIT_TIMEOUT;
			break;
		}
		r = wait_event(dm_name, nr, progress || timeout);
		if (r && r != -EINTR) {
			rc = r == -ENXIO ? get_failed(cmd, name, JM_GET_NO_DEVICE) : EXIT_FAILED;
			if (rc == EXIT_FAILED)
				err("%s %s: waiting for an event: %s", cmd, name, strerror(-r));
			break;
		}
	}
	stop_ticker();
	if (tty)
		putchar('\n');
	if (rc == EXIT_TIMEOUT)
		err("%s %s: timed out after %llu s; the job is %s", cmd, name,
		    (unsigned long long)timeout, jm_state_names[dev->status.state]);
	else if (rc == EXIT_FAILED && dev->status.state == DM_JOBMIRROR_STATE_FAILED)
		err("%s %s: the job failed: %s", cmd, name, dev->status.job_error);
	else if (rc == EXIT_FAILED && dev->status.state == DM_JOBMIRROR_STATE_CANCELLED)
		err("%s %s: the job was cancelled", cmd, name);
	return rc;
}

static int cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "progress", no_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum wait_for want = WAIT_DONE;
	struct jm_device dev;
	uint64_t timeout = 0;
	bool progress = false, have_for = false, have_timeout = false;
	int c;

	while ((c = getopt_long(argc, argv, ":f:pt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (have_for)
				return usage_error("wait: --for given twice");
			have_for = true;
			if (!strcmp(optarg, "ready"))
				want = WAIT_READY;
			else if (!strcmp(optarg, "done"))
				want = WAIT_DONE;
			else
				return usage_error("wait: --for '%s': use ready or done", optarg);
			break;
		case 'p':
			progress = true;
			break;
		case 't':
			if (have_timeout)
				return usage_error("wait: --timeout given twice");
			have_timeout = true;
			if (jm_parse_uint(optarg, 100000000, &timeout) || !timeout)
				return usage_error("wait: --timeout '%s' is not a number of seconds",
						   optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return option_error("wait", c, argv);
		}
	}
	if (argc - optind != 1)
		return usage_error("wait: expected one device NAME");
	return wait_job("wait", argv[optind], want, progress, timeout, WAIT_ANY_JOB, &dev);
}

/* The last step of complete: @dev becomes linear on its dest (@dest, a path). */
static int reload_linear(const struct jm_device *dev, const char *dest)
{
	enum jm_reload_step step;
	int cleared, r;

	r = jm_dm_reload_linear(dev, dev->table.dest, &step, &cleared);
	if (!r) {
		printf("%s: reloaded as linear on %s; the source is no longer used\n",
		       dev->name, dest);
		return EXIT_OK;
	}
	switch (step) {
	case JM_RELOAD_LOAD:
		if (r == -ESTALE)
			err("complete %s: its table was replaced meanwhile; nothing changed",
			    dev->name);
		else
			err("complete %s: cannot load a linear table on %s: %s; nothing changed",
			    dev->name, dest, strerror(-r));
		break;
	case JM_RELOAD_SUSPEND:
		if (cleared)
			err("complete %s: cannot suspend to switch to linear: %s; the linear table was dropped, nothing changed",
			    dev->name, strerror(-r));
		else
			err("complete %s: cannot suspend to switch to linear: %s; the linear table is still loaded: run dmsetup clear %s",
			    dev->name, strerror(-r), dev->name);
		break;
	case JM_RELOAD_RESUME:
		err("complete %s: cannot resume with the linear table: %s; %s is left suspended: run dmsetup resume %s",
		    dev->name, strerror(-r), dev->name, dev->name);
		break;
	}
	return EXIT_FAILED;
}

static int cmd_complete(int argc, char **argv)
{
	struct jm_device dev, now;
	enum jm_get_result g;
	char dest[300];
	int r = parse_no_options(argc, argv);

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error("complete: expected one device NAME");
	r = get_device("complete", argv[optind], &dev);
	if (r >= 0)
		return r;
	jm_dm_devpath(dev.table.dest, dest, sizeof(dest));
	if (dev.status.mode == DM_JOBMIRROR_MODE_STREAM &&
	    dev.status.state != DM_JOBMIRROR_STATE_COMPLETED) {
		/* A stream completes by itself once every region is in the dest. */
		printf("%s: waiting for the stream to populate %s\n", dev.name, dest);
		fflush(stdout);
		r = wait_job("complete", argv[optind], WAIT_DONE, false, 0, WAIT_ONE_JOB, &dev);
		if (r)
			return r;
	} else if (dev.status.state != DM_JOBMIRROR_STATE_COMPLETED) {
		r = send_message("complete", &dev, "complete");
		if (r)
			return r;
		printf("%s: complete sent: copying what is dirty and flushing %s\n", dev.name, dest);
		fflush(stdout);
		/* wait_job() refills dev: pass it the name from argv. */
		r = wait_job("complete", argv[optind], WAIT_DONE, false, 0, WAIT_COMPLETING, &dev);
		if (r)
			return r;
	}
	/* The job waited for may be one a reload put there meanwhile. */
	jm_dm_devpath(dev.table.dest, dest, sizeof(dest));
	printf("%s: completed: all I/O goes to %s\n", dev.name, dest);
	fflush(stdout);
	/* The device as it is now: another dmtool or dmsetup may have been at it. */
	g = jm_dm_get(dev.name, &now);
	if (g == JM_GET_NOT_JOBMIRROR && jm_dm_is_pivoted(&dev)) {
		printf("%s: already reloaded as linear on %s\n", dev.name, dest);
		return EXIT_OK;
	}
	if (g != JM_GET_OK)
		return get_failed("complete", dev.name, g);
	if (!same_job(&dev, &now) || now.status.state != DM_JOBMIRROR_STATE_COMPLETED) {
		err("complete %s: its table was replaced meanwhile (the job is %s); nothing changed",
		    dev.name, jm_state_names[now.status.state]);
		return EXIT_FAILED;
	}
	/*
	 * The reload's suspend flushes: it would fail the bios that a stop
	 * policy or the I/O hang holds (a dest that failed after the pivot).
	 */
	if (now.status.io != DM_JOBMIRROR_IO_RUNNING || now.status.held) {
		err("complete %s: user I/O is %s with %llu bios held; the reload would fail them: "
		    "fix %s (and run dmtool continue %s if io is stopped), then run dmtool complete %s again",
		    dev.name, jm_io_names[now.status.io], (unsigned long long)now.status.held,
		    dest, dev.name, dev.name);
		return EXIT_FAILED;
	}
	return reload_linear(&now, dest);
}

/* --- main --- */

static int cmd_list_main(int argc, char **argv)
{
	int json, r = parse_json_only(argc, argv, &json);

	return r >= 0 ? r : cmd_list(argc - optind, argv + optind, json);
}

static int cmd_status_main(int argc, char **argv)
{
	int json, r = parse_json_only(argc, argv, &json);

	return r >= 0 ? r : cmd_status(argc - optind, argv + optind, json);
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "create", cmd_create },
	{ "list", cmd_list_main },
	{ "status", cmd_status_main },
	{ "pause", cmd_simple_message },
	{ "resume", cmd_simple_message },
	{ "cancel", cmd_simple_message },
	{ "continue", cmd_simple_message },
	{ "complete", cmd_complete },
	{ "set-speed", cmd_set_speed },
	{ "wait", cmd_wait },
	{ "remove", cmd_remove },
	{ "watch", cmd_watch },
	{ "udev-event", cmd_udev_event },
};

/*
 * Text goes out through stdio: a full disk or a closed pipe shows when it
 * is flushed.  Returns @r, or EXIT_FAILED if the output was lost.
 */
static int flush_output(const char *what, int r)
{
	if (fflush(stdout) || ferror(stdout)) {
		err("%s: cannot write the output: %s", what, strerror(errno));
		if (r == EXIT_OK)
			r = EXIT_FAILED;
	}
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	unsigned int i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return flush_output("help", EXIT_OK);
		case 'V':
			printf("dmtool %d.%d.%d\n", DM_JOBMIRROR_VERSION_MAJOR,
			       DM_JOBMIRROR_VERSION_MINOR, DM_JOBMIRROR_VERSION_PATCH);
			return flush_output("version", EXIT_OK);
		default:
			if (optopt)
				return usage_error("unrecognized option '-%c'", optopt);
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

	/* The command parses its own options, with its name as argv[0]. */
	argc -= optind;
	argv += optind;
	optind = 0;
	jm_dm_init();
	return flush_output(cmd->name, cmd->fn(argc, argv));
}
