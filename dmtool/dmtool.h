/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmtool: what the command files share.
 */
#ifndef DMTOOL_DMTOOL_H
#define DMTOOL_DMTOOL_H

#include <getopt.h>

#include "jmdm.h"

/* Exit status, as the interface contract gives them. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NODEV = 3,
	EXIT_TIMEOUT = 4,
};

/* "dmtool: <what failed>: <why>" on stderr. */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: one line on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The usage error for getopt_long()'s ':' or '?'; returns EXIT_USAGE. */
int option_error(const char *cmd, int c, char **argv);
/* Options of a command that takes only --json and --help; -1 to go on. */
int parse_json_only(int argc, char **argv, int *json);
/* Look up a jobmirror device; -1 when found, or an exit status. */
int get_device(const char *cmd, const char *name, struct jm_device *dev);

/* A variable of an event by name, "" when absent. */
typedef const char *(*jm_prop_fn)(void *ctx, const char *name);
char *jm_event_line(jm_prop_fn get, void *ctx);

int cmd_watch(int argc, char **argv);
int cmd_udev_event(int argc, char **argv);

#endif /* DMTOOL_DMTOOL_H */
