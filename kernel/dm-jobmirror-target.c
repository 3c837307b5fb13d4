// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: device-mapper target glue.
 *
 * This file holds the constructor and destructor, the map function and
 * the status and message callbacks.  In this version the target has no
 * job engine yet: a mirror device passes all I/O through to its source,
 * reports its job state as "none" and copies nothing.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/dm-ioctl.h>

#include "dm-jobmirror.h"

/**
 * struct jobmirror - one jobmirror target instance.
 * @ti: the dm target.
 * @cfg: the table line, parsed.
 * @source: the source device (mirror) or backing device (stream).
 * @dest: the destination device.
 * @meta: the metadata device, or NULL.
 * @nr_regions: number of regions covering the target.
 * @state: the job state.
 * @speed: the live copy rate limit (bytes/s), changed by set_speed.
 * @event_seq: number of events raised.
 */
struct jobmirror {
	struct dm_target *ti;
	struct jm_config cfg;
	struct dm_dev *source;
	struct dm_dev *dest;
	struct dm_dev *meta;
	sector_t nr_regions;
	enum dm_jobmirror_state state;
	u64 speed;
	u64 event_seq;
};

static const char *const jm_msg_names[DM_JOBMIRROR_NR_MSGS] = {
	DM_JOBMIRROR_MESSAGES(DM_JOBMIRROR_NAME_OF3)
};

#define JM_MSG_NARGS(id, name, n)	n,
static const unsigned int jm_msg_nargs[DM_JOBMIRROR_NR_MSGS] = {
	DM_JOBMIRROR_MESSAGES(JM_MSG_NARGS)
};

/* The device's name (as "dmsetup ls" shows it), for log lines. */
static const char *jm_name(struct jobmirror *jm, char name[DM_NAME_LEN])
{
	if (dm_copy_name_and_uuid(dm_table_get_md(jm->ti->table), name, NULL))
		return dm_device_name(dm_table_get_md(jm->ti->table));
	return name;
}

static void jm_put_devices(struct jobmirror *jm)
{
	if (jm->meta)
		dm_put_device(jm->ti, jm->meta);
	if (jm->dest)
		dm_put_device(jm->ti, jm->dest);
	if (jm->source)
		dm_put_device(jm->ti, jm->source);
	jm->meta = NULL;
	jm->dest = NULL;
	jm->source = NULL;
}

static int jm_get_device(struct jobmirror *jm, char *what,
			 const char *path, struct dm_dev **dev)
{
	struct dm_target *ti = jm->ti;
	int r;

	r = dm_get_device(ti, path, dm_table_get_mode(ti->table), dev);
	if (r) {
		ti->error = what;
		return r;
	}
	return 0;
}

/* Check that @dev holds the whole target. */
static bool jm_device_too_small(struct jobmirror *jm, struct dm_dev *dev)
{
	return bdev_nr_sectors(dev->bdev) < jm->ti->len;
}

static int jm_open_devices(struct jobmirror *jm)
{
	struct dm_target *ti = jm->ti;
	int r;

	r = jm_get_device(jm, "cannot open the source device", jm->cfg.source_path,
			  &jm->source);
	if (r)
		return r;
	r = jm_get_device(jm, "cannot open the dest device", jm->cfg.dest_path,
			  &jm->dest);
	if (r)
		return r;
	if (jm->cfg.meta_path) {
		r = jm_get_device(jm, "cannot open the metadata device",
				  jm->cfg.meta_path, &jm->meta);
		if (r)
			return r;
	}

	if (jm->source->bdev->bd_dev == jm->dest->bdev->bd_dev) {
		ti->error = "source and dest are the same device";
		return -EINVAL;
	}
	if (jm->meta && (jm->meta->bdev->bd_dev == jm->source->bdev->bd_dev ||
			 jm->meta->bdev->bd_dev == jm->dest->bdev->bd_dev)) {
		ti->error = "the metadata device must differ from source and dest";
		return -EINVAL;
	}
	if (jm_device_too_small(jm, jm->source)) {
		ti->error = "the source device is smaller than the target";
		return -EINVAL;
	}
	if (jm_device_too_small(jm, jm->dest)) {
		ti->error = "the dest device is smaller than the target";
		return -EINVAL;
	}
	return 0;
}

/*
 * Construct a jobmirror target:
 * <mode> <source> <dest> <metadata> <region_size> [<#opt_args> <opt_args>...]
 */
static int jm_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct jobmirror *jm;
	int r;

	jm = kzalloc(sizeof(*jm), GFP_KERNEL);
	if (!jm) {
		ti->error = "out of memory";
		return -ENOMEM;
	}
	jm->ti = ti;

	r = jm_parse_table(ti, argc, argv, &jm->cfg);
	if (r)
		goto bad_free;

	r = jm_open_devices(jm);
	if (r)
		goto bad_devices;

	if (jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM) {
		ti->error = "stream mode is not available in this version";
		r = -EOPNOTSUPP;
		goto bad_devices;
	}

	jm->nr_regions = DIV_ROUND_UP_SECTOR_T(ti->len, jm->cfg.region_sectors);
	jm->state = DM_JOBMIRROR_STATE_NONE;
	jm->speed = jm->cfg.speed;

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = jm;
	return 0;

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

	jm_put_devices(jm);
	jm_free_config(&jm->cfg);
	kfree(jm);
}

static int jm_map(struct dm_target *ti, struct bio *bio)
{
	struct jobmirror *jm = ti->private;

	bio_set_dev(bio, jm->source->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void jm_status(struct dm_target *ti, status_type_t type,
		      unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct jobmirror *jm = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		/* Field order: DM_JOBMIRROR_STATUS_FIELDS. No job: nothing copied. */
		DMEMIT("%s %s %llu/%llu %llu/%llu %s %s %u %llu %llu/%llu/%llu %llu %s %s",
		       jm_mode_names[jm->cfg.mode], jm_state_names[jm->state],
		       0ULL, (unsigned long long)ti->len,
		       (unsigned long long)jm->nr_regions,
		       (unsigned long long)jm->nr_regions,
		       jm_iostatus_names[DM_JOBMIRROR_IOSTATUS_OK],
		       jm_io_names[DM_JOBMIRROR_IO_RUNNING], 0U,
		       READ_ONCE(jm->speed), 0ULL, 0ULL, 0ULL,
		       jm->event_seq, "-", "-");
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
	unsigned int msg;
	u64 speed;

	for (msg = 0; msg < DM_JOBMIRROR_NR_MSGS; msg++)
		if (!strcmp(argv[0], jm_msg_names[msg]))
			break;
	if (msg == DM_JOBMIRROR_NR_MSGS) {
		DMWARN_LIMIT("%s: unknown message '%s'", jm_name(jm, name), argv[0]);
		return -EINVAL;
	}
	if (argc - 1 != jm_msg_nargs[msg]) {
		DMWARN_LIMIT("%s: message '%s' takes %u argument(s), not %u",
			     jm_name(jm, name), argv[0], jm_msg_nargs[msg], argc - 1);
		return -EINVAL;
	}

	switch (msg) {
	case DM_JOBMIRROR_MSG_SET_SPEED:
		if (jm_parse_u64(argv[1], U64_MAX, &speed)) {
			DMWARN_LIMIT("%s: set_speed '%s' is not a number of bytes/s",
				     jm_name(jm, name), argv[1]);
			return -EINVAL;
		}
		WRITE_ONCE(jm->speed, speed);
		return 0;
	default:
		DMWARN_LIMIT("%s: message '%s' is not valid in state %s",
			     jm_name(jm, name), argv[0], jm_state_names[jm->state]);
		return -EBUSY;
	}
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
