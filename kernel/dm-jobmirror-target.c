// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: device-mapper target glue.
 *
 * This file holds the constructor and destructor, the status and message
 * callbacks and the suspend hooks; the user I/O path is in
 * dm-jobmirror-io.c, the job engine in dm-jobmirror-job.c.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/dm-ioctl.h>

#include "dm-jobmirror.h"

const char *const jm_msg_names[DM_JOBMIRROR_NR_MSGS] = {
	DM_JOBMIRROR_MESSAGES(DM_JOBMIRROR_NAME_OF3)
};

#define JM_MSG_NARGS(id, name, n)	n,
const unsigned int jm_msg_nargs[DM_JOBMIRROR_NR_MSGS] = {
	DM_JOBMIRROR_MESSAGES(JM_MSG_NARGS)
};

static void jm_put_devices(struct jobmirror *jm)
{
	if (jm->meta) {
		jm_meta_unclaim(jm);
		dm_put_device(jm->ti, jm->meta);
	}
	if (jm->dest)
		dm_put_device(jm->ti, jm->dest);
	if (jm->source)
		dm_put_device(jm->ti, jm->source);
	jm->meta = NULL;
	jm->dest = NULL;
	jm->source = NULL;
}

/* How a device is opened: see jm_get_device(). */
enum jm_open {
	JM_WRITTEN,	/* read-write, and not read-only: the job writes it */
	JM_MAY_READ,	/* read-write, or read-only if the device refuses writers */
	JM_USER,	/* read-write: the user's writes go there */
};

/*
 * Open a device read-write, whatever the table's mode: the job writes the
 * dest and the metadata device on its own, and a table whose devices are
 * all opened with one mode never has one of its handles replaced under it
 * (dm core upgrades a handle another open asks more of, and frees the old
 * one: a stream's source opened read-only, named again as its dest,
 * would leave jobmirror.source pointing at freed memory).  A device that
 * refuses to be opened for writing (a write-protected SCSI disk or SD
 * card: EROFS) is opened read-only where that is enough (@how
 * JM_MAY_READ); no other open can then upgrade it either.  A device the
 * job writes must not be read-only (blockdev --setro): the kernel would
 * only warn.
 */
static int jm_get_device(struct jobmirror *jm, const char *what, const char *path,
			 enum jm_open how, struct dm_dev **dev)
{
	struct dm_target *ti = jm->ti;
	int r;

	r = dm_get_device(ti, path, JM_OPEN_RW, dev);
	if ((r == -EROFS || r == -EACCES || r == -EPERM) && how == JM_MAY_READ)
		r = dm_get_device(ti, path, JM_OPEN_READ, dev);
	if (r)
		return jm_ctr_error(ti, r, "cannot open the %s device '%.100s'", what, path);
	if (how == JM_WRITTEN && bdev_read_only((*dev)->bdev))
		return jm_ctr_error(ti, -EACCES, "the %s device '%.100s' is read-only",
				    what, path);
	return 0;
}

/* Fail unless @dev holds the whole target. */
static int jm_check_size(struct jobmirror *jm, const char *what, const char *path,
			 struct dm_dev *dev)
{
	sector_t size = bdev_nr_sectors(dev->bdev);

	if (size >= jm->ti->len)
		return 0;
	return jm_ctr_error(jm->ti, -EINVAL,
			    "the %s device '%.100s' is smaller than the target: %llu < %llu sectors",
			    what, path, (unsigned long long)size,
			    (unsigned long long)jm->ti->len);
}

static int jm_open_devices(struct jobmirror *jm)
{
	struct dm_target *ti = jm->ti;
	int r;

	/*
	 * A mirror's source takes the user's writes only: its read-only flag
	 * is the table's business, as for dm-linear, and in a read-only table
	 * it need not take writes at all.  A stream's source is its read-only
	 * backing device.
	 */
	r = jm_get_device(jm, "source", jm->cfg.source_path,
			  jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM ||
			  !(dm_table_get_mode(ti->table) & JM_OPEN_WRITE) ? JM_MAY_READ : JM_USER,
			  &jm->source);
	if (r)
		return r;
	r = jm_get_device(jm, "dest", jm->cfg.dest_path, JM_WRITTEN, &jm->dest);
	if (r)
		return r;
	if (jm->cfg.meta_path) {
		r = jm_get_device(jm, "metadata", jm->cfg.meta_path, JM_WRITTEN, &jm->meta);
		if (r)
			return r;
	}

	if (jm->source->bdev->bd_dev == jm->dest->bdev->bd_dev)
		return jm_ctr_error(ti, -EINVAL,
				    "source '%.100s' and dest '%.100s' are the same device",
				    jm->cfg.source_path, jm->cfg.dest_path);
	if (jm->meta && (jm->meta->bdev->bd_dev == jm->source->bdev->bd_dev ||
			 jm->meta->bdev->bd_dev == jm->dest->bdev->bd_dev))
		return jm_ctr_error(ti, -EINVAL,
				    "the metadata device '%.100s' must differ from source and dest",
				    jm->cfg.meta_path);
	r = jm_check_size(jm, "source", jm->cfg.source_path, jm->source);
	if (r)
		return r;
	r = jm_check_size(jm, "dest", jm->cfg.dest_path, jm->dest);
	if (r || !jm->meta)
		return r;
	return jm_meta_claim(jm);
}

/*
 * Construct a jobmirror target:
 * <mode> <source> <dest> <metadata> <region_size> [<#opt_args> <opt_args>...]
 */
static int jm_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct jobmirror *jm;
	sector_t nr_regions;
	int r;

	jm = kzalloc(sizeof(*jm), GFP_KERNEL);
	if (!jm) {
		ti->error = "out of memory";
		return -ENOMEM;
	}
	jm->ti = ti;
	INIT_LIST_HEAD(&jm->meta_user);

	r = jm_parse_table(ti, argc, argv, &jm->cfg);
	if (r)
		goto bad_free;

	r = jm_open_devices(jm);
	if (r)
		goto bad_devices;

	jm->region_shift = ilog2(jm->cfg.region_sectors);
	nr_regions = DIV_ROUND_UP_SECTOR_T(ti->len, jm->cfg.region_sectors);
	if (nr_regions > JM_MAX_REGIONS) {
		r = jm_ctr_error(ti, -EINVAL,
				 "too many regions: %llu of %llu sectors, at most %lu; use a larger region_size",
				 (unsigned long long)nr_regions,
				 (unsigned long long)jm->cfg.region_sectors,
				 JM_MAX_REGIONS);
		goto bad_devices;
	}
	jm->nr_regions = nr_regions;

	r = dm_set_target_max_io_len(ti, jm->cfg.region_sectors);
	if (r) {
		ti->error = "cannot split I/O at region boundaries";
		goto bad_devices;
	}
	r = jm_regions_init(jm);
	if (r) {
		ti->error = "cannot allocate the region bitmap";
		goto bad_devices;
	}
	/* Before the job: jm_job_exit() cancels the hang work. */
	jm_uio_init(jm);
	r = jm_job_init(jm);
	if (r) {
		ti->error = "cannot allocate the copy buffers";
		goto bad_regions;
	}
	if (jm->meta) {
		r = jm_meta_open(jm);
		if (r)
			goto bad_job;
	}

	spin_lock_init(&jm->lock);
	bio_list_init(&jm->retry);
	bio_list_init(&jm->hold);
	bio_list_init(&jm->after_writer);
	bio_list_init(&jm->meta_wait);
	jm->state = jm->cfg.start_paused ? DM_JOBMIRROR_STATE_PAUSED : DM_JOBMIRROR_STATE_RUNNING;
	if (jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM)
		jm->route = JM_ROUTE_STREAM;
	else if (jm->cfg.copy_mode == DM_JOBMIRROR_COPY_WRITE_BLOCKING)
		jm->route = JM_ROUTE_SYNC;
	else
		jm->route = JM_ROUTE_BACKGROUND;
	jm->iostatus = DM_JOBMIRROR_IOSTATUS_OK;
	jm->speed = jm->cfg.speed;
	/* The job starts on the first resume. */
	jm->suspended = true;

	ti->per_io_data_size = sizeof(struct jm_bio);
	if (jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM) {
		/*
		 * No write-zeroes: dm does not split it at max_io_len, and the
		 * stream path needs one region per bio.  The block layer then
		 * writes zero pages, which are split like any write.
		 */
		/* The source is never written: the dest alone needs flushing. */
		ti->num_flush_bios = 1;
		/*
		 * Flushes commit the metadata: they must reach the target even
		 * when no device underneath has a volatile write cache.
		 */
		ti->flush_supported = true;
	} else {
		/* One empty flush for each device: see jm_route_bio(). */
		ti->num_flush_bios = 2;
		ti->num_discard_bios = 1;
		ti->num_write_zeroes_bios = 1;
	}
	ti->private = jm;
	return 0;

bad_job:
	jm_job_exit(jm);
bad_regions:
	jm_regions_exit(jm);
bad_devices:
	jm_put_devices(jm);
	jm_free_config(&jm->cfg);
bad_free:
	kfree(jm);
	return r;
}

static void jm_dtr(struct dm_target *ti)
{
	struct jobmirror *jm = ti->private;

	jm_job_exit(jm);
	bio_uninit(&jm->flush_bio);
	jm_meta_exit(jm);
	jm_regions_exit(jm);
	jm_put_devices(jm);
	jm_free_config(&jm->cfg);
	kfree(jm);
}

static int jm_map(struct dm_target *ti, struct bio *bio)
{
	return jm_map_bio(ti->private, bio);
}

static int jm_endio(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	return jm_end_io(ti->private, bio, error);
}

static void jm_presuspend(struct dm_target *ti)
{
	jm_job_presuspend(ti->private);
}

/* The metadata is loaded on the first resume: see jm_meta_load(). */
static int jm_preresume(struct dm_target *ti)
{
	struct jobmirror *jm = ti->private;
	int r;

	if (!jm->meta || jm->meta_loaded)
		return 0;
	r = jm_meta_load(jm);
	if (r)
		return r;
	jm->meta_loaded = true;
	spin_lock_irq(&jm->lock);
	if (jm->meta_completed) {
		/* A stream populated everything, or a mirror pivoted. */
		jm->state = DM_JOBMIRROR_STATE_COMPLETED;
		jm->route = JM_ROUTE_DEST;
		jm->pivot_durable = true;
		bitmap_zero(jm->dirty, jm->nr_regions);
		jm->nr_dirty = 0;
		jm->copied = jm->ti->len;
		jm->work_total = jm->ti->len;
	} else if (jm->meta_paused && jm->state == DM_JOBMIRROR_STATE_RUNNING) {
		/* A job paused by its user stays paused, after a crash too. */
		jm->state = DM_JOBMIRROR_STATE_PAUSED;
	} else if (!jm->meta_paused && jm->state == DM_JOBMIRROR_STATE_PAUSED) {
		/* start_paused: committed on resume, see jm_job_resume(). */
		jm->meta_gen++;
	}
	spin_unlock_irq(&jm->lock);
	return 0;
}

static void jm_postsuspend(struct dm_target *ti)
{
	jm_job_postsuspend(ti->private);
}

static void jm_resume(struct dm_target *ti)
{
	jm_job_resume(ti->private);
}

/* A suspend that was interrupted: as if resumed. */
static void jm_presuspend_undo(struct dm_target *ti)
{
	jm_job_resume(ti->private);
}

/* Regions still to copy: dirty ones and those being copied. */
static unsigned long jm_regions_to_copy(struct jobmirror *jm)
{
	unsigned long n = jm->nr_dirty;
	unsigned int i;

	for (i = 0; i < jm->max_copies; i++)
		if (jm->copies[i].state != JM_COPY_FREE)
			n += jm->copies[i].nr_regions;
	return n;
}

static void jm_emit_error(char *result, unsigned int maxlen, unsigned int *sz,
			  bool set, int op, int err)
{
	if (set)
		*sz += scnprintf(result + *sz, maxlen - *sz, " %s:%s", jm_op_names[op],
				 jm_errno_name(err));
	else
		*sz += scnprintf(result + *sz, maxlen - *sz, " -");
}

static void jm_status(struct dm_target *ti, status_type_t type,
		      unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct jobmirror *jm = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		/* Field order: DM_JOBMIRROR_STATUS_FIELDS. */
		spin_lock_irq(&jm->lock);
		DMEMIT("%s %s %llu/%llu %lu/%lu %s %s %u %llu %llu/%llu/%llu %llu",
		       jm_mode_names[jm->cfg.mode], jm_state_names[jm->state],
		       (unsigned long long)jm->copied, (unsigned long long)jm->work_total,
		       jm_regions_to_copy(jm), jm->nr_regions,
		       jm_iostatus_names[jm->iostatus],
		       jm_io_names[jm->io_state], jm_uio_held(jm),
		       jm->speed, jm->src_errors, jm->dst_errors, jm->io_errors,
		       jm->event_seq);
		jm_emit_error(result, maxlen, &sz, jm->io_state != DM_JOBMIRROR_IO_RUNNING,
			      jm->stop_op, jm->stop_errno);
		jm_emit_error(result, maxlen, &sz, jm->state == DM_JOBMIRROR_STATE_FAILED,
			      jm->job_error_op, jm->job_errno);
		spin_unlock_irq(&jm->lock);
		break;
	case STATUSTYPE_TABLE:
		jm_emit_table(&jm->cfg, jm->source->name, jm->dest->name,
			      jm->meta ? jm->meta->name : NULL, result, maxlen, &sz);
		break;
	case STATUSTYPE_IMA:
		DMEMIT("target_name=%s,target_version=%u.%u.%u,mode=%s,source=%s,dest=%s;",
		       DM_JOBMIRROR_TARGET_NAME, DM_JOBMIRROR_VERSION_MAJOR,
		       DM_JOBMIRROR_VERSION_MINOR, DM_JOBMIRROR_VERSION_PATCH,
		       jm_mode_names[jm->cfg.mode], jm->source->name, jm->dest->name);
		break;
	}
}

static int jm_message(struct dm_target *ti, unsigned int argc, char **argv,
		      char *result, unsigned int maxlen)
{
	struct jobmirror *jm = ti->private;
	char name[DM_NAME_LEN];
	const char *why;
	unsigned int msg;
	u64 speed = 0;
	int r;

	for (msg = 0; msg < DM_JOBMIRROR_NR_MSGS; msg++)
		if (!strcmp(argv[0], jm_msg_names[msg]))
			break;
	if (msg == DM_JOBMIRROR_NR_MSGS) {
		jm_log_name(jm, name);
		DMWARN_LIMIT("%s: unknown message '%s'", name, argv[0]);
		return -EINVAL;
	}
	if (argc - 1 != jm_msg_nargs[msg]) {
		jm_log_name(jm, name);
		DMWARN_LIMIT("%s: message '%s' takes %u argument(s), not %u",
			     name, argv[0], jm_msg_nargs[msg], argc - 1);
		return -EINVAL;
	}
	if (msg == DM_JOBMIRROR_MSG_SET_SPEED && jm_parse_u64(argv[1], U64_MAX, &speed)) {
		jm_log_name(jm, name);
		DMWARN_LIMIT("%s: set_speed '%s' is not a number of bytes/s", name, argv[1]);
		return -EINVAL;
	}

	if (msg == DM_JOBMIRROR_MSG_CONTINUE) {
		r = jm_uio_continue(jm);
		why = "valid when io is stopped";
	} else {
		r = jm_job_message(jm, msg, speed, &why);
	}
	if (r == -EBUSY) {
		jm_log_name(jm, name);
		DMWARN_LIMIT("%s: message '%s' is not valid in state %s, io %s: %s", name,
			     argv[0], jm_state_names[READ_ONCE(jm->state)],
			     jm_io_names[READ_ONCE(jm->io_state)], why);
	}
	return r;
}

static int jm_iterate_devices(struct dm_target *ti,
			      iterate_devices_callout_fn fn, void *data)
{
	struct jobmirror *jm = ti->private;
	int r;

	r = fn(ti, jm->source, 0, ti->len, data);
	if (!r)
		r = fn(ti, jm->dest, 0, ti->len, data);
	return r;
}

static struct target_type jm_target = {
	.name = DM_JOBMIRROR_TARGET_NAME,
	.version = { DM_JOBMIRROR_VERSION_MAJOR, DM_JOBMIRROR_VERSION_MINOR,
		     DM_JOBMIRROR_VERSION_PATCH },
	.module = THIS_MODULE,
	.ctr = jm_ctr,
	.dtr = jm_dtr,
	.map = jm_map,
	.end_io = jm_endio,
	.presuspend = jm_presuspend,
	.presuspend_undo = jm_presuspend_undo,
	.postsuspend = jm_postsuspend,
	.preresume = jm_preresume,
	.resume = jm_resume,
	.status = jm_status,
	.message = jm_message,
	.iterate_devices = jm_iterate_devices,
};

static int __init dm_jobmirror_init(void)
{
	return dm_register_target(&jm_target);
}

static void __exit dm_jobmirror_exit(void)
{
	dm_unregister_target(&jm_target);
}

module_init(dm_jobmirror_init);
module_exit(dm_jobmirror_exit);

MODULE_DESCRIPTION(DM_NAME " target that mirrors or streams a live block device");
MODULE_LICENSE("GPL");
