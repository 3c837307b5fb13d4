/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmtool: parsing of the jobmirror target's status and table lines, and
 * of the numbers and sizes dmtool accepts.  Pure functions, no I/O.
 */
#ifndef DMTOOL_JMSTATUS_H
#define DMTOOL_JMSTATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/dm-jobmirror.h>

#define JM_WORD_MAX 64

/* The INFO status line, field by field (DM_JOBMIRROR_STATUS_FIELDS). */
struct jm_status {
	enum dm_jobmirror_mode mode;
	enum dm_jobmirror_state state;
	uint64_t offset;		/* sectors */
	uint64_t len;			/* sectors */
	uint64_t dirty;			/* regions */
	uint64_t regions;
	enum dm_jobmirror_iostatus iostatus;
	enum dm_jobmirror_io io;
	uint64_t held;
	uint64_t speed;			/* bytes/s */
	uint64_t src_errors;
	uint64_t dst_errors;
	uint64_t io_errors;
	uint64_t event_seq;
	char stop_reason[JM_WORD_MAX];	/* "-" or op:errno */
	char job_error[JM_WORD_MAX];
};

/* The TABLE line, normalised by the target. */
struct jm_table {
	enum dm_jobmirror_mode mode;
	char source[JM_WORD_MAX];	/* major:minor */
	char dest[JM_WORD_MAX];
	char metadata[JM_WORD_MAX];	/* major:minor or "-" */
	uint64_t region_sectors;
	enum dm_jobmirror_policy policy[4];	/* in option order */
	uint64_t io_hang_timeout;	/* seconds */
	uint64_t io_hang_interval;	/* ms */
	uint64_t speed;			/* bytes/s */
	enum dm_jobmirror_copy_mode copy_mode;
	bool start_paused;
};

extern const char *const jm_mode_names[DM_JOBMIRROR_NR_MODES];
extern const char *const jm_state_names[DM_JOBMIRROR_NR_STATES];
extern const char *const jm_policy_names[DM_JOBMIRROR_NR_POLICIES];
extern const char *const jm_iostatus_names[DM_JOBMIRROR_NR_IOSTATUSES];
extern const char *const jm_io_names[DM_JOBMIRROR_NR_IO_STATES];
extern const char *const jm_copy_mode_names[DM_JOBMIRROR_NR_COPY_MODES];
extern const char *const jm_opt_names[DM_JOBMIRROR_NR_OPTS];

/* Index of @word in @names[0..n), or -1. */
int jm_lookup(const char *word, const char *const *names, unsigned int n);

/* Parse the target's status/table params; 0 or -EINVAL. */
int jm_parse_status(const char *params, struct jm_status *st);
int jm_parse_table(const char *params, struct jm_table *tb);

/* Progress of the job in percent, 0..100. */
double jm_progress(const struct jm_status *st);

/* A plain decimal number: 0 or -EINVAL / -ERANGE. */
int jm_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * A size: a decimal number with an optional binary suffix K, M, G, T
 * (KiB, MiB, ...; "k", "KiB" and "KB" mean the same), multiplied by
 * @unit when it has no suffix.  0 or -EINVAL / -ERANGE.
 */
int jm_parse_size(const char *s, uint64_t unit, uint64_t *bytes);

#endif /* DMTOOL_JMSTATUS_H */
