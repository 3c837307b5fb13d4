/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the dm-jobmirror kselftests: device-mapper requests
 * through libdevmapper and reading what the kernel logged.
 *
 * The tests run as root inside a test guest (tests/vm) where the runner
 * loaded dm-mod, brd (/dev/ram0../dev/ram7, 256 MiB each) and
 * dm-jobmirror.
 */
#ifndef JMTEST_H
#define JMTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Create device @name with one target line; 0 or -errno. */
int jm_create(const char *name, uint64_t start, uint64_t len,
	      const char *type, const char *params);
/* Create with a table given as several "start len type params" lines. */
int jm_create_table(const char *name, const char *const *lines, int n);
int jm_remove(const char *name);
bool jm_exists(const char *name);
/* The params of the first target of DM_DEVICE_TABLE or _STATUS. */
int jm_get_params(const char *name, bool status, char *buf, size_t sz);

/* Start collecting kernel log lines; returns an fd for jm_kmsg_find(). */
int jm_kmsg_open(void);
/* Whether a log line since jm_kmsg_open() contains @needle. */
bool jm_kmsg_find(int fd, const char *needle, char *line, size_t sz);

/* Run a shell command; its exit status or -1. */
int jm_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A 64-bit FNV-1a hash of a buffer, for comparing data. */
uint64_t jm_hash(const void *buf, size_t len);

#endif
