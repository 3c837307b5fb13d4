// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool: parsing of the jobmirror status and table lines and of numbers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmstatus.h"

#define NAME_OF(id, name)	name,
#define NAME_OF3(id, name, n)	name,

const char *const jm_mode_names[] = { DM_JOBMIRROR_MODES(NAME_OF) };
const char *const jm_state_names[] = { DM_JOBMIRROR_STATES(NAME_OF) };
const char *const jm_policy_names[] = { DM_JOBMIRROR_POLICIES(NAME_OF) };
const char *const jm_iostatus_names[] = { DM_JOBMIRROR_IOSTATUSES(NAME_OF) };
const char *const jm_io_names[] = { DM_JOBMIRROR_IO_STATES(NAME_OF) };
const char *const jm_copy_mode_names[] = { DM_JOBMIRROR_COPY_MODES(NAME_OF) };
const char *const jm_opt_names[] = { DM_JOBMIRROR_OPT_ARGS(NAME_OF3) };

int jm_lookup(const char *word, const char *const *names, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(word, names[i]))
			return i;
	return -1;
}

int jm_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int jm_parse_size(const char *s, uint64_t unit, uint64_t *bytes)
{
	static const char suffixes[] = "KMGTPE";
	unsigned long long v;
	const char *p;
	uint64_t mult = unit;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		p = strchr(suffixes, toupper((unsigned char)*end));
		if (!p)
			return -EINVAL;
		mult = 1ULL << (10 * (p - suffixes + 1));
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (mult && v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

/* Split @params into at most @max words (in place, in @buf). */
static int split(const char *params, char *buf, size_t bufsz, char **w, int max)
{
	int n = 0;
	char *save, *t;

	if (strlen(params) >= bufsz)
		return -1;
	strcpy(buf, params);
	for (t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (n == max)
			return -1;
		w[n++] = t;
	}
	return n;
}

static int word(const char *s, char *dst)
{
	if (strlen(s) >= JM_WORD_MAX)
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

/* "a/b" into two numbers. */
static int pair(const char *s, uint64_t *a, uint64_t *b)
{
	char tmp[JM_WORD_MAX], *slash;

	if (word(s, tmp))
		return -EINVAL;
	slash = strchr(tmp, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (jm_parse_uint(tmp, UINT64_MAX, a) || jm_parse_uint(slash + 1, UINT64_MAX, b))
		return -EINVAL;
	return 0;
}

#define LOOKUP(w, names, out) do {					\
	int _i = jm_lookup(w, names, sizeof(names) / sizeof(names[0]));	\
	if (_i < 0)							\
		return -EINVAL;						\
	out = _i;							\
} while (0)

int jm_parse_status(const char *params, struct jm_status *st)
{
	char buf[1024], *w[16], errs[JM_WORD_MAX], *p;
	int n;

	memset(st, 0, sizeof(*st));
	n = split(params, buf, sizeof(buf), w, 16);
	if (n != DM_JOBMIRROR_NR_FIELDS)
		return -EINVAL;
	LOOKUP(w[0], jm_mode_names, st->mode);
	LOOKUP(w[1], jm_state_names, st->state);
	if (pair(w[2], &st->offset, &st->len) || pair(w[3], &st->dirty, &st->regions))
		return -EINVAL;
	LOOKUP(w[4], jm_iostatus_names, st->iostatus);
	LOOKUP(w[5], jm_io_names, st->io);
	if (jm_parse_uint(w[6], UINT64_MAX, &st->held) ||
	    jm_parse_uint(w[7], UINT64_MAX, &st->speed))
		return -EINVAL;
	/* src/dst/io error counters */
	if (word(w[8], errs))
		return -EINVAL;
	p = strrchr(errs, '/');
	if (!p || jm_parse_uint(p + 1, UINT64_MAX, &st->io_errors))
		return -EINVAL;
	*p = '\0';
	if (pair(errs, &st->src_errors, &st->dst_errors))
		return -EINVAL;
	if (jm_parse_uint(w[9], UINT64_MAX, &st->event_seq) ||
	    word(w[10], st->stop_reason) || word(w[11], st->job_error))
		return -EINVAL;
	return 0;
}

int jm_parse_table(const char *params, struct jm_table *tb)
{
	char buf[1024], *w[32];
	uint64_t nopt;
	int n, i, opt;

	memset(tb, 0, sizeof(*tb));
	n = split(params, buf, sizeof(buf), w, 32);
	if (n < 5)
		return -EINVAL;
	LOOKUP(w[0], jm_mode_names, tb->mode);
	if (word(w[1], tb->source) || word(w[2], tb->dest) || word(w[3], tb->metadata) ||
	    jm_parse_uint(w[4], UINT64_MAX, &tb->region_sectors))
		return -EINVAL;
	tb->policy[0] = DM_JOBMIRROR_DEFAULT_ON_SOURCE_ERROR;
	tb->policy[1] = DM_JOBMIRROR_DEFAULT_ON_TARGET_ERROR;
	tb->policy[2] = DM_JOBMIRROR_DEFAULT_RERROR;
	tb->policy[3] = DM_JOBMIRROR_DEFAULT_WERROR;
	tb->io_hang_timeout = DM_JOBMIRROR_DEFAULT_IO_HANG_TIMEOUT;
	tb->io_hang_interval = DM_JOBMIRROR_DEFAULT_IO_HANG_INTERVAL;
	tb->speed = DM_JOBMIRROR_DEFAULT_SPEED;
	tb->copy_mode = DM_JOBMIRROR_COPY_BACKGROUND;
	if (n == 5)
		return 0;
	if (jm_parse_uint(w[5], 64, &nopt) || (int)nopt != n - 6)
		return -EINVAL;
	for (i = 6; i < n; i++) {
		LOOKUP(w[i], jm_opt_names, opt);
		if (opt == DM_JOBMIRROR_OPT_START_PAUSED) {
			tb->start_paused = true;
			continue;
		}
		if (++i == n)
			return -EINVAL;
		switch (opt) {
		case DM_JOBMIRROR_OPT_ON_SOURCE_ERROR:
		case DM_JOBMIRROR_OPT_ON_TARGET_ERROR:
		case DM_JOBMIRROR_OPT_RERROR:
		case DM_JOBMIRROR_OPT_WERROR:
			LOOKUP(w[i], jm_policy_names, tb->policy[opt - DM_JOBMIRROR_OPT_ON_SOURCE_ERROR]);
			break;
		case DM_JOBMIRROR_OPT_IO_HANG_TIMEOUT:
			if (jm_parse_uint(w[i], UINT64_MAX, &tb->io_hang_timeout))
				return -EINVAL;
			break;
		case DM_JOBMIRROR_OPT_IO_HANG_INTERVAL:
			if (jm_parse_uint(w[i], UINT64_MAX, &tb->io_hang_interval))
				return -EINVAL;
			break;
		case DM_JOBMIRROR_OPT_SPEED:
			if (jm_parse_uint(w[i], UINT64_MAX, &tb->speed))
				return -EINVAL;
			break;
		case DM_JOBMIRROR_OPT_COPY_MODE:
			LOOKUP(w[i], jm_copy_mode_names, tb->copy_mode);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

double jm_progress(const struct jm_status *st)
{
	if (!st->len)
		return 100.0;
	return 100.0 * (double)st->offset / (double)st->len;
}
