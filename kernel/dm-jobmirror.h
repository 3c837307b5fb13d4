/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-jobmirror: internal definitions shared by the target's source files.
 */
#ifndef DM_JOBMIRROR_INTERNAL_H
#define DM_JOBMIRROR_INTERNAL_H

#include <linux/device-mapper.h>
#include <linux/types.h>
#include <uapi/linux/dm-jobmirror.h>

#define DM_MSG_PREFIX "jobmirror"

/**
 * struct jm_config - everything the table line says, validated.
 * @mode: mirror or stream.
 * @source_path: the source word as given (freed with the config).
 * @dest_path: the dest word as given.
 * @meta_path: the metadata word as given, or NULL for "-".
 * @region_sectors: region size in sectors, a power of two.
 * @policy: on_source_error, on_target_error, rerror, werror.
 * @io_hang_timeout: seconds, 0 = off.
 * @io_hang_interval: milliseconds between retries.
 * @speed: copy rate limit in bytes per second, 0 = unlimited.
 * @copy_mode: background or write_blocking.
 * @start_paused: the job starts paused.
 */
struct jm_config {
	enum dm_jobmirror_mode mode;
	char *source_path;
	char *dest_path;
	char *meta_path;
	sector_t region_sectors;
	enum dm_jobmirror_policy policy[4];
	unsigned int io_hang_timeout;
	unsigned int io_hang_interval;
	u64 speed;
	enum dm_jobmirror_copy_mode copy_mode;
	bool start_paused;
};

/* Indexes of jm_config.policy, in table order. */
enum jm_policy_slot {
	JM_ON_SOURCE_ERROR,
	JM_ON_TARGET_ERROR,
	JM_RERROR,
	JM_WERROR,
};

int jm_parse_table(struct dm_target *ti, unsigned int argc, char **argv,
		   struct jm_config *cfg);
void jm_free_config(struct jm_config *cfg);
void jm_emit_table(const struct jm_config *cfg, const char *source,
		   const char *dest, const char *meta, char *result,
		   unsigned int maxlen, unsigned int *sz);
int jm_parse_u64(const char *word, u64 max, u64 *out);

extern const char *const jm_mode_names[DM_JOBMIRROR_NR_MODES];
extern const char *const jm_state_names[DM_JOBMIRROR_NR_STATES];
extern const char *const jm_policy_names[DM_JOBMIRROR_NR_POLICIES];
extern const char *const jm_iostatus_names[DM_JOBMIRROR_NR_IOSTATUSES];
extern const char *const jm_io_names[DM_JOBMIRROR_NR_IO_STATES];
extern const char *const jm_copy_mode_names[DM_JOBMIRROR_NR_COPY_MODES];

#endif /* DM_JOBMIRROR_INTERNAL_H */
