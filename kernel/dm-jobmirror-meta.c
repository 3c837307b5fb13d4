// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the metadata device (a job's bitmap, state and pivot).
 *
 * The device holds two areas, each a header block and a copy of the
 * region bitmap (bit set: the region is not in the dest yet, or for a
 * mirror, may differ between source and dest).  A commit writes the area
 * the newest header does not describe: first the dest is flushed (and a
 * mirror's source), so that every region the bitmap calls clean really is
 * in the dest, then the bitmap blocks, then the header with a flush
 * before it and FUA.  A mirror marks regions before writing to them, see
 * dm-jobmirror-intent.c.  A crash at any point leaves the older area intact, and its
 * header is the newest valid one.  Layout, in 4 KiB blocks:
 *
 *   0: header of area 0        1: header of area 1
 *   2 .. 2+N-1: bitmap of area 0
 *   2+N .. 2+2N-1: bitmap of area 1
 *
 * where N is the bitmap's size in blocks.  Every field is little endian.
 * A device whose first block is all zero is formatted on the first resume
 * (not at table load: a live table may still commit to it).
 * Once the target knows what an area's bitmap blocks hold (it wrote or
 * read them), a commit to that area writes only the blocks that changed:
 * the area's header is not the newest while they are written, so a crash
 * then finds the other area as before.
 */
#include <linux/bio.h>
#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/crc32c.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dm-jobmirror.h"

#define JM_META_MAGIC		0x444d4d4aU	/* "JMMD" */
#define JM_META_VERSION		2
/*
 * Version 1 (target 0.2) differed only in that a mirror's bitmap did not
 * cover its writes: such a mirror copies everything again.  A stream's
 * is the same in both, and streams still write 1, which 0.2 can read.
 */
#define JM_META_VERSION_NO_INTENT	1
#define JM_META_BLOCK		4096
#define JM_META_BLOCK_SECTORS	(JM_META_BLOCK >> SECTOR_SHIFT)
#define JM_META_BITS_PER_BLOCK	(JM_META_BLOCK * 8)
#define JM_META_CRC_SEED	0xffffffffU
/* Longs of the bitmap copied per hold of jobmirror.lock (8 KiB). */
#define JM_META_SNAP_LONGS	1024
/* Unchanged bitmap blocks written anyway to join two runs of changed ones. */
#define JM_META_GAP_BLOCKS	4
/* Bitmap blocks packed, summed or compared between two cond_resched(). */
#define JM_META_SLICE_BLOCKS	64
/*
 * Bios the metadata's bio_set keeps for when memory is short: a batch
 * sends its bios one after the other, each freed when it completes.
 */
#define JM_META_POOL		4

/* The job finished: every region is in the dest. */
#define JM_META_F_COMPLETED	BIT(0)
/*
 * The job was paused (paused, standby, or a pause pending): a table loaded
 * on it starts paused.  Since target 0.4, which commits on pause and
 * resume; the state field of older headers may be stale.
 */
#define JM_META_F_PAUSED	BIT(1)

/*
 * struct jm_meta_header - block 0 or 1 of the metadata device.
 * @magic: JM_META_MAGIC.
 * @crc: crc32c of the whole block with this field zero.
 * @version: JM_META_VERSION.
 * @flags: JM_META_F_*.
 * @seq: commit number; the valid header with the highest one wins.
 * @area: which area this header starts (0 or 1).
 * @mode: enum dm_jobmirror_mode.
 * @target_sectors: length of the target.
 * @region_sectors: region size.
 * @nr_regions: regions, i.e. bits in the bitmap.
 * @nr_dirty: bits set.
 * @bitmap_blocks: N, the bitmap's blocks in each area.
 * @bitmap_crc: crc32c of the area's N bitmap blocks.
 * @state: enum dm_jobmirror_state at the commit (for the record).
 */
struct jm_meta_header {
	__le32 magic;
	__le32 crc;
	__le32 version;
	__le32 flags;
	__le64 seq;
	__le32 area;
	__le32 mode;
	__le64 target_sectors;
	__le64 region_sectors;
	__le64 nr_regions;
	__le64 nr_dirty;
	__le32 bitmap_blocks;
	__le32 bitmap_crc;
	__le32 state;
	__le32 reserved;
} __packed;

static sector_t jm_meta_header_sector(unsigned int area)
{
	return (sector_t)area * JM_META_BLOCK_SECTORS;
}

static sector_t jm_meta_bitmap_sector(struct jobmirror *jm, unsigned int area)
{
	return (2 + (sector_t)area * jm->meta_blocks) * JM_META_BLOCK_SECTORS;
}

/* Bios of the metadata device in flight together, and their first error. */
struct jm_meta_batch {
	atomic_t pending;
	blk_status_t status;
	struct completion done;
};

static void jm_meta_batch_init(struct jm_meta_batch *b)
{
	atomic_set(&b->pending, 1);
	b->status = BLK_STS_OK;
	init_completion(&b->done);
}

static void jm_meta_end_io(struct bio *bio)
{
	struct jm_meta_batch *b = bio->bi_private;

	/* Any error will do: keep one. */
	if (bio->bi_status)
		WRITE_ONCE(b->status, bio->bi_status);
	bio_put(bio);
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
}

/* Wait for every bio of @b; returns the first error. */
static int jm_meta_batch_wait(struct jm_meta_batch *b)
{
	if (!atomic_dec_and_test(&b->pending))
		wait_for_completion_io(&b->done);
	return blk_status_to_errno(READ_ONCE(b->status));
}

/* Send bios for @len bytes of @buf (vmalloc'ed) at @sector, as part of @b. */
static void jm_meta_submit(struct jobmirror *jm, struct jm_meta_batch *b, blk_opf_t opf,
			   sector_t sector, void *buf, size_t len)
{
	struct block_device *bdev = jm->meta->bdev;
	size_t done = 0, chunk;
	struct bio *bio;
	unsigned int i;

	if (op_is_write(opf))
		flush_kernel_vmap_range(buf, len);
	while (done < len) {
		bio = bio_alloc_bioset(bdev, bio_max_segs(DIV_ROUND_UP(len - done, PAGE_SIZE) + 1),
				       opf, GFP_NOIO, &jm->meta_bs);
		bio->bi_iter.bi_sector = sector + (done >> SECTOR_SHIFT);
		bio->bi_end_io = jm_meta_end_io;
		bio->bi_private = b;
		for (i = 0; i < bio->bi_max_vecs && done < len; i++, done += chunk) {
			chunk = min_t(size_t, len - done, PAGE_SIZE - offset_in_page(buf + done));
			__bio_add_page(bio, vmalloc_to_page(buf + done), chunk,
				       offset_in_page(buf + done));
		}
		atomic_inc(&b->pending);
		submit_bio(bio);
		/* The flush is needed before the first bio only; FUA stays. */
		opf &= ~REQ_PREFLUSH;
	}
}

/* Read or write @len bytes of @buf (vmalloc'ed) at @sector, synchronously. */
static int jm_meta_io(struct jobmirror *jm, blk_opf_t opf, sector_t sector,
		      void *buf, size_t len)
{
	struct jm_meta_batch b;
	int r;

	jm_meta_batch_init(&b);
	jm_meta_submit(jm, &b, opf, sector, buf, len);
	r = jm_meta_batch_wait(&b);
	if (!op_is_write(opf))
		invalidate_kernel_vmap_range(buf, len);
	return r;
}

static u32 jm_meta_header_crc(struct jm_meta_header *h)
{
	__le32 saved = h->crc;
	u32 crc;

	h->crc = 0;
	crc = crc32c(JM_META_CRC_SEED, h, JM_META_BLOCK);
	h->crc = saved;
	return crc;
}

/* Whether block @h is a header with a good checksum (any version). */
static bool jm_meta_header_ok(struct jm_meta_header *h)
{
	return le32_to_cpu(h->magic) == JM_META_MAGIC &&
	       le32_to_cpu(h->crc) == jm_meta_header_crc(h);
}

#define JM_OTHER_JOB "the metadata device holds a job of another mode, length or region size: "

/*
 * Whether header @h is of this table's job; if not, ti->error names the
 * first field that differs, with both values.
 */
static bool jm_meta_same_job(struct jobmirror *jm, const struct jm_meta_header *h)
{
	struct dm_target *ti = jm->ti;
	u32 mode = le32_to_cpu(h->mode);

	if (mode != jm->cfg.mode) {
		jm_ctr_error(ti, 0, JM_OTHER_JOB "mode %s there, %s here",
			     mode < DM_JOBMIRROR_NR_MODES ? jm_mode_names[mode] : "unknown",
			     jm_mode_names[jm->cfg.mode]);
		return false;
	}
	if (le64_to_cpu(h->target_sectors) != ti->len) {
		jm_ctr_error(ti, 0, JM_OTHER_JOB "length %llu sectors there, %llu here",
			     le64_to_cpu(h->target_sectors), (unsigned long long)ti->len);
		return false;
	}
	if (le64_to_cpu(h->region_sectors) != jm->cfg.region_sectors) {
		jm_ctr_error(ti, 0, JM_OTHER_JOB "region_size %llu there, %llu here",
			     le64_to_cpu(h->region_sectors),
			     (unsigned long long)jm->cfg.region_sectors);
		return false;
	}
	if (le64_to_cpu(h->nr_regions) != jm->nr_regions ||
	    le32_to_cpu(h->bitmap_blocks) != jm->meta_blocks) {
		jm_ctr_error(ti, 0, JM_OTHER_JOB "%llu regions in %u bitmap blocks there",
			     le64_to_cpu(h->nr_regions), le32_to_cpu(h->bitmap_blocks));
		return false;
	}
	return true;
}

/*
 * Read both headers into jm->meta_buf (blocks 0 and 1) and pick the newest
 * valid one.  Returns its area, -ENODATA if the first block is all zero,
 * or an error with ti->error set.
 */
static int jm_meta_pick(struct jobmirror *jm)
{
	struct jm_meta_header *h[2] = { jm->meta_buf, jm->meta_buf + JM_META_BLOCK };
	struct dm_target *ti = jm->ti;
	int area = -1, r;
	unsigned int i;

	r = jm_meta_io(jm, REQ_OP_READ, 0, jm->meta_buf, 2 * JM_META_BLOCK);
	if (r)
		return jm_ctr_error(ti, r, "cannot read the metadata device: %s", jm_errno_name(r));
	if (!memchr_inv(jm->meta_buf, 0, JM_META_BLOCK))
		return -ENODATA;
	for (i = 0; i < 2; i++) {
		if (!jm_meta_header_ok(h[i]) || le32_to_cpu(h[i]->area) != i)
			continue;
		if (area < 0 || le64_to_cpu(h[i]->seq) > le64_to_cpu(h[area]->seq))
			area = i;
	}
	if (area < 0) {
		ti->error = "the metadata device has no valid header (bad magic or checksum)";
		return -EINVAL;
	}
	if (le32_to_cpu(h[area]->version) != JM_META_VERSION &&
	    le32_to_cpu(h[area]->version) != JM_META_VERSION_NO_INTENT)
		return jm_ctr_error(ti, -EINVAL,
				    "the metadata device has an unknown format version: %u",
				    le32_to_cpu(h[area]->version));
	return jm_meta_same_job(jm, h[area]) ? area : -EINVAL;
}

/* The crc32c of a bitmap, a slice at a time: bitmaps can be large. */
static u32 jm_meta_crc(const void *buf, size_t bytes)
{
	const size_t slice = JM_META_SLICE_BLOCKS * JM_META_BLOCK;
	u32 crc = JM_META_CRC_SEED;
	size_t off, n;

	for (off = 0; off < bytes; off += n) {
		n = min(bytes - off, slice);
		crc = crc32c(crc, buf + off, n);
		cond_resched();
	}
	return crc;
}

/* Fill jm->meta_pack from @bits; returns the bitmap's crc. */
static u32 jm_meta_pack(struct jobmirror *jm, const unsigned long *bits)
{
	const size_t slice = JM_META_SLICE_BLOCKS * JM_META_BLOCK / sizeof(u32);
	size_t i, end, n = BITS_TO_U32(jm->nr_regions);
	__le32 *words = jm->meta_pack;
	unsigned int tail = jm->nr_regions % 32;
	u32 w;

	memset(words + n, 0, (size_t)jm->meta_blocks * JM_META_BLOCK - n * sizeof(u32));
	/* Word i holds bits 32i..32i+31, a slice at a time. */
	for (i = 0; i < n; i = end) {
		end = min(n, i + slice);
		for (; i < end; i++) {
			w = bits[BIT_WORD(i * 32)] >> (i * 32 % BITS_PER_LONG);
			if (i == n - 1 && tail)
				w &= GENMASK(tail - 1, 0);
			words[i] = cpu_to_le32(w);
		}
		cond_resched();
	}
	return jm_meta_crc(words, (size_t)jm->meta_blocks * JM_META_BLOCK);
}

/* Whether bitmap block @i of jm->meta_pack differs from what @area holds. */
static bool jm_meta_block_changed(struct jobmirror *jm, unsigned int area, unsigned int i)
{
	size_t off = (size_t)i * JM_META_BLOCK;

	if (!(i % JM_META_SLICE_BLOCKS))
		cond_resched();
	return !jm->meta_held_ok[area] ||
	       memcmp(jm->meta_pack + off, jm->meta_held[area] + off, JM_META_BLOCK);
}

/*
 * Write the bitmap blocks of jm->meta_pack that differ from what @area
 * holds (all of them if that is not known), all at once.  Afterwards
 * meta_held[@area] is jm->meta_pack, if the writes succeeded.
 */
static int jm_meta_write_bitmap(struct jobmirror *jm, unsigned int area)
{
	sector_t base = jm_meta_bitmap_sector(jm, area);
	unsigned int i = 0, start, end, gap;
	struct jm_meta_batch b;
	struct blk_plug plug;
	int r;

	jm_meta_batch_init(&b);
	blk_start_plug(&plug);
	while (i < jm->meta_blocks) {
		if (!jm_meta_block_changed(jm, area, i++))
			continue;
		start = i - 1;
		end = i;
		/* Join runs with a few unchanged blocks between them. */
		for (gap = 0; i < jm->meta_blocks && gap <= JM_META_GAP_BLOCKS; i++) {
			if (jm_meta_block_changed(jm, area, i)) {
				end = i + 1;
				gap = 0;
			} else {
				gap++;
			}
		}
		i = end;
		jm_meta_submit(jm, &b, REQ_OP_WRITE, base + (sector_t)start * JM_META_BLOCK_SECTORS,
			       jm->meta_pack + (size_t)start * JM_META_BLOCK,
			       (size_t)(end - start) * JM_META_BLOCK);
	}
	blk_finish_plug(&plug);
	r = jm_meta_batch_wait(&b);
	/* Until the header is written too, nothing is known of the area. */
	jm->meta_held_ok[area] = false;
	if (!r)
		swap(jm->meta_pack, jm->meta_held[area]);
	return r;
}

/*
 * Write @bits as area @area, with @seq and @flags: the bitmap blocks that
 * changed first, then the header, flushed and FUA.
 */
static int jm_meta_write_area(struct jobmirror *jm, unsigned int area, u64 seq,
			      u32 flags, const unsigned long *bits, unsigned long nr_dirty,
			      enum dm_jobmirror_state state)
{
	struct jm_meta_header *h = jm->meta_buf;
	u32 crc = jm_meta_pack(jm, bits);
	int r;

	r = jm_meta_write_bitmap(jm, area);
	if (r)
		return r;
	memset(h, 0, JM_META_BLOCK);
	h->magic = cpu_to_le32(JM_META_MAGIC);
	h->version = cpu_to_le32(jm->intent ? JM_META_VERSION : JM_META_VERSION_NO_INTENT);
	h->flags = cpu_to_le32(flags);
	h->seq = cpu_to_le64(seq);
	h->area = cpu_to_le32(area);
	h->mode = cpu_to_le32(jm->cfg.mode);
	h->target_sectors = cpu_to_le64(jm->ti->len);
	h->region_sectors = cpu_to_le64(jm->cfg.region_sectors);
	h->nr_regions = cpu_to_le64(jm->nr_regions);
	h->nr_dirty = cpu_to_le64(nr_dirty);
	h->bitmap_blocks = cpu_to_le32(jm->meta_blocks);
	h->bitmap_crc = cpu_to_le32(crc);
	h->state = cpu_to_le32(state);
	h->crc = cpu_to_le32(jm_meta_header_crc(h));
	r = jm_meta_io(jm, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA,
		       jm_meta_header_sector(area), h, JM_META_BLOCK);
	/* A failed flush may have lost the bitmap blocks: write them all next. */
	jm->meta_held_ok[area] = !r;
	return r;
}

/*
 * Make the header of @area invalid without making it all zero (that would
 * mean "format me"): after a failed commit its header may be valid
 * although its bitmap is not what the next commit is about to write.
 */
static int jm_meta_invalidate(struct jobmirror *jm, unsigned int area)
{
	struct jm_meta_header *h = jm->meta_buf;

	memset(h, 0, JM_META_BLOCK);
	h->magic = cpu_to_le32(JM_META_MAGIC);
	h->crc = cpu_to_le32(~jm_meta_header_crc(h));
	return jm_meta_io(jm, REQ_OP_WRITE | REQ_FUA, jm_meta_header_sector(area), h,
			  JM_META_BLOCK);
}

/* Format: area 0 with every region still to copy, area 1 invalid. */
static int jm_meta_format(struct jobmirror *jm)
{
	bool paused = jm->cfg.start_paused;
	int r;

	memset(jm->meta_buf, 0, JM_META_BLOCK);
	r = jm_meta_io(jm, REQ_OP_WRITE, jm_meta_header_sector(1), jm->meta_buf,
		       JM_META_BLOCK);
	/* A job that starts paused is paused for a table loaded later too. */
	if (!r)
		r = jm_meta_write_area(jm, 0, 1, paused ? JM_META_F_PAUSED : 0, jm->dirty,
				       jm->nr_regions, paused ? DM_JOBMIRROR_STATE_PAUSED :
								DM_JOBMIRROR_STATE_RUNNING);
	if (r)
		return r;
	jm->meta_seq = 1;
	jm->meta_area = 0;
	jm->meta_paused = paused;
	if (jm->intent) {
		bitmap_fill(jm->meta_ok, jm->nr_regions);
		bitmap_fill(jm->meta_disk, jm->nr_regions);
	}
	return 0;
}

/* A zeroed bitmap of one bit per region (large ones are vmalloc'ed). */
static unsigned long *jm_meta_bitmap(struct jobmirror *jm)
{
	return kvcalloc(BITS_TO_LONGS(jm->nr_regions), sizeof(long), GFP_KERNEL);
}

/* Metadata devices in use, each by the tables of one mapped device. */
static DEFINE_MUTEX(jm_meta_users_lock);
static LIST_HEAD(jm_meta_users);

/**
 * jm_meta_claim() - make the metadata device this mapped device's alone.
 * @jm: the target, its metadata device open.
 *
 * Two devices (or two targets of one table) committing to one metadata
 * device would each load the other's bitmap on their next table load and
 * skip regions that differ.  The tables of one device share it: a reload
 * builds the new table while the old one is live.  (No name lookup here:
 * dm may destroy a table, and so call jm_meta_unclaim(), under its own
 * lock of the names.)
 *
 * Return: 0, or -EBUSY with ti->error set if another device uses it.
 */
int jm_meta_claim(struct jobmirror *jm)
{
	struct mapped_device *md = dm_table_get_md(jm->ti->table);
	dev_t dev = jm->meta->bdev->bd_dev;
	struct jobmirror *other;
	int r = 0;

	mutex_lock(&jm_meta_users_lock);
	list_for_each_entry(other, &jm_meta_users, meta_user) {
		if (other->meta->bdev->bd_dev == dev &&
		    (dm_table_get_md(other->ti->table) != md ||
		     other->ti->table == jm->ti->table)) {
			r = jm_ctr_error(jm->ti, -EBUSY,
					 "the metadata device '%.100s' is in use by another jobmirror %s",
					 jm->cfg.meta_path,
					 other->ti->table == jm->ti->table ? "target" : "device");
			break;
		}
	}
	if (!r)
		list_add(&jm->meta_user, &jm_meta_users);
	mutex_unlock(&jm_meta_users_lock);
	return r;
}

/**
 * jm_meta_unclaim() - undo jm_meta_claim(), if it succeeded.
 * @jm: the target.
 */
void jm_meta_unclaim(struct jobmirror *jm)
{
	mutex_lock(&jm_meta_users_lock);
	list_del_init(&jm->meta_user);
	mutex_unlock(&jm_meta_users_lock);
}

/**
 * jm_meta_open() - check the metadata device (table load).
 * @jm: the target, with its devices open and its bitmap allocated.
 *
 * A device whose first 4 KiB are zero, or one that holds a job of the
 * same mode and geometry, is accepted: it is formatted or read on the
 * first resume, see jm_meta_load().  Anything else is refused and left as
 * it is.
 *
 * Return: 0, or an error with ti->error set.
 */
int jm_meta_open(struct jobmirror *jm)
{
	struct dm_target *ti = jm->ti;
	unsigned int e;
	sector_t need;
	int r;

	jm->meta_blocks = DIV_ROUND_UP(jm->nr_regions, JM_META_BITS_PER_BLOCK);
	need = (2 + 2 * (sector_t)jm->meta_blocks) * JM_META_BLOCK_SECTORS;
	if (bdev_nr_sectors(jm->meta->bdev) < need)
		return jm_ctr_error(ti, -EINVAL,
				    "the metadata device is too small for this many regions: %llu sectors, %llu needed for %lu regions",
				    (unsigned long long)bdev_nr_sectors(jm->meta->bdev),
				    (unsigned long long)need, jm->nr_regions);
	if (bdev_logical_block_size(jm->meta->bdev) > JM_META_BLOCK) {
		ti->error = "the metadata device's block size is above 4 KiB";
		return -EINVAL;
	}
	/* The two headers; the bitmap as written, and as each area holds it. */
	jm->meta_buf = vzalloc(2 * JM_META_BLOCK);
	jm->meta_pack = vzalloc((size_t)jm->meta_blocks * JM_META_BLOCK);
	jm->meta_held[0] = vzalloc((size_t)jm->meta_blocks * JM_META_BLOCK);
	jm->meta_held[1] = vzalloc((size_t)jm->meta_blocks * JM_META_BLOCK);
	if (!jm->meta_buf || !jm->meta_pack || !jm->meta_held[0] || !jm->meta_held[1] ||
	    bioset_init(&jm->meta_bs, JM_META_POOL, 0, BIOSET_NEED_BVECS)) {
		jm_meta_exit(jm);
		ti->error = "cannot allocate the metadata buffer";
		return -ENOMEM;
	}
	jm->meta_snap = jm_meta_bitmap(jm);
	jm->intent = jm->cfg.mode == DM_JOBMIRROR_MODE_MIRROR;
	for (e = 0; jm->intent && e < JM_EPOCHS; e++)
		jm->meta_busy[e] = jm_meta_bitmap(jm);
	if (jm->intent) {
		jm->meta_clear = jm_meta_bitmap(jm);
		jm->meta_ok = jm_meta_bitmap(jm);
		jm->meta_disk = jm_meta_bitmap(jm);
	}
	if (!jm->meta_snap || (jm->intent && (!jm->meta_clear || !jm->meta_ok || !jm->meta_disk ||
					      !jm->meta_busy[0] || !jm->meta_busy[1] ||
					      !jm->meta_busy[2]))) {
		jm_meta_exit(jm);
		ti->error = "cannot allocate the metadata buffer";
		return -ENOMEM;
	}
	mutex_init(&jm->commit_lock);
	mutex_init(&jm->meta_lock);
	r = jm_meta_pick(jm);
	if (r == -ENODATA)
		r = 0;
	if (r < 0) {
		jm_meta_exit(jm);
		return r;
	}
	return 0;
}

/**
 * jm_meta_load() - read the newest committed state into the bitmap.
 * @jm: the target, not yet resumed for the first time.
 *
 * Done on the first resume, not at table load: when a table replaces a
 * live one on the same metadata device, the old one commits last in its
 * postsuspend, which comes after the new table's constructor.  A device
 * whose first block is zero is formatted here, for the same reason.
 *
 * Return: 0 or an error (logged).
 */
int jm_meta_load(struct jobmirror *jm)
{
	size_t bytes = (size_t)jm->meta_blocks * JM_META_BLOCK;
	size_t i, n = BITS_TO_U32(jm->nr_regions);
	u32 *words = jm->meta_pack;
	const __le32 *disk;
	const char *why = NULL;
	struct jm_meta_header *h;
	char name[DM_NAME_LEN];
	u32 flags, crc, version;
	int area, r;

	mutex_lock(&jm->meta_lock);
	/* Nothing is known of what the areas hold until they are read. */
	jm->meta_held_ok[0] = false;
	jm->meta_held_ok[1] = false;
	area = jm_meta_pick(jm);
	if (area == -ENODATA) {
		r = jm_meta_format(jm);
		if (r)
			why = "cannot format it (write error)";
		goto out;
	}
	if (area < 0) {
		r = area;
		why = jm->ti->error;
		goto out;
	}
	h = jm->meta_buf + area * JM_META_BLOCK;
	jm->meta_seq = le64_to_cpu(h->seq);
	jm->meta_area = area;
	flags = le32_to_cpu(h->flags);
	crc = le32_to_cpu(h->bitmap_crc);
	version = le32_to_cpu(h->version);
	disk = jm->meta_held[area];
	r = jm_meta_io(jm, REQ_OP_READ, jm_meta_bitmap_sector(jm, area), jm->meta_held[area],
		       bytes);
	if (r) {
		why = "cannot read the bitmap";
		goto out;
	}
	if (jm_meta_crc(disk, bytes) != crc) {
		r = -EILSEQ;
		why = "bitmap checksum mismatch";
		goto out;
	}
	jm->meta_held_ok[area] = true;
	for (i = 0; i < n; i++)
		words[i] = le32_to_cpu(disk[i]);
	spin_lock_irq(&jm->lock);
	if (jm->intent && version == JM_META_VERSION_NO_INTENT)
		bitmap_fill(jm->dirty, jm->nr_regions);
	else
		bitmap_from_arr32(jm->dirty, words, jm->nr_regions);
	jm->nr_dirty = bitmap_weight(jm->dirty, jm->nr_regions);
	jm->copied = (sector_t)(jm->nr_regions - jm->nr_dirty) << jm->region_shift;
	/* The last region may be short. */
	if (!test_bit(jm->nr_regions - 1, jm->dirty))
		jm->copied -= jm->cfg.region_sectors - jm_region_sectors(jm, jm->nr_regions - 1);
	/* What the device holds is marked; writes elsewhere wait for a commit. */
	if (jm->intent) {
		bitmap_from_arr32(jm->meta_ok, words, jm->nr_regions);
		bitmap_copy(jm->meta_disk, jm->meta_ok, jm->nr_regions);
	}
	jm->meta_completed = flags & JM_META_F_COMPLETED;
	jm->meta_says_completed = jm->meta_completed;
	jm->meta_paused = flags & JM_META_F_PAUSED;
	spin_unlock_irq(&jm->lock);
out:
	mutex_unlock(&jm->meta_lock);
	if (why) {
		jm_log_name(jm, name);
		DMERR("%s: metadata device not loaded: %s", name, why);
	}
	return r;
}

/* Copy @src to @dst, holding jm->lock for a slice at a time. */
static void jm_meta_slices(struct jobmirror *jm, unsigned long *dst, const unsigned long *src)
{
	size_t i, n, longs = BITS_TO_LONGS(jm->nr_regions);

	for (i = 0; i < longs; i += JM_META_SNAP_LONGS) {
		n = min_t(size_t, longs - i, JM_META_SNAP_LONGS);
		spin_lock_irq(&jm->lock);
		memcpy(dst + i, src + i, n * sizeof(long));
		spin_unlock_irq(&jm->lock);
		cond_resched();
	}
}

/* Regions being copied (counted as not copied); caller holds jm->lock. */
static void jm_meta_add_copies(struct jobmirror *jm, unsigned long *map)
{
	struct jm_copy *c;
	unsigned int i;

	for (i = 0; i < jm->max_copies; i++) {
		c = &jm->copies[i];
		if (c->state != JM_COPY_FREE)
			bitmap_set(map, c->region, c->nr_regions);
	}
}

/*
 * Copy what a commit records into @snap, before its flushes: regions still
 * to copy, those being copied and, for a mirror, those written in the
 * epochs @busy1 and @busy2 and those of the writes waiting for a commit.
 * The bitmap is copied in slices, the lock dropped in between, so that a
 * large one does not keep interrupts off.  A bit cleared meanwhile is a
 * region whose copy or write completed, which the flushes before the
 * bitmap write cover; copies in flight are added at the end.  Only a
 * region dirtied again by a copy (it failed or stopped) could be missed:
 * then the copy is made again in one go.  A mirror's writes that go out
 * after this are added by jm_meta_snapshot_finish().
 */
static void jm_meta_snapshot(struct jobmirror *jm, unsigned long *snap, u64 redirty,
			     const unsigned long *busy1, const unsigned long *busy2)
{
	size_t i, j, n, longs = BITS_TO_LONGS(jm->nr_regions);

	for (i = 0; i < longs; i += JM_META_SNAP_LONGS) {
		n = min_t(size_t, longs - i, JM_META_SNAP_LONGS);
		spin_lock_irq(&jm->lock);
		for (j = i; j < i + n; j++) {
			snap[j] = jm->dirty[j];
			if (jm->intent)
				snap[j] |= busy1[j] | busy2[j];
		}
		spin_unlock_irq(&jm->lock);
		cond_resched();
	}
	spin_lock_irq(&jm->lock);
	if (jm->meta_redirty != redirty) {
		bitmap_copy(snap, jm->dirty, jm->nr_regions);
		if (jm->intent) {
			bitmap_or(snap, snap, busy1, jm->nr_regions);
			bitmap_or(snap, snap, busy2, jm->nr_regions);
		}
	}
	jm_meta_add_copies(jm, snap);
	if (jm->intent)
		jm_intent_add_waiting(jm, snap);
	spin_unlock_irq(&jm->lock);
}

/*
 * The snapshot of a mirror's commit that only adds bits: what the newest
 * good header holds (meta_disk: a commit whose flush failed may have taken
 * bits out of meta_ok), what is dirty, written in any epoch, being copied
 * or waited for.  It clears nothing, so no data flush is needed.
 */
static void jm_meta_snapshot_add(struct jobmirror *jm)
{
	size_t i, j, n, longs = BITS_TO_LONGS(jm->nr_regions);
	unsigned long *snap = jm->meta_snap;
	unsigned int e;

	for (i = 0; i < longs; i += JM_META_SNAP_LONGS) {
		n = min_t(size_t, longs - i, JM_META_SNAP_LONGS);
		spin_lock_irq(&jm->lock);
		for (j = i; j < i + n; j++) {
			snap[j] = jm->meta_disk[j] | jm->dirty[j];
			for (e = 0; e < JM_EPOCHS; e++)
				snap[j] |= jm->meta_busy[e][j];
		}
		spin_unlock_irq(&jm->lock);
		cond_resched();
	}
	spin_lock_irq(&jm->lock);
	jm_meta_add_copies(jm, snap);
	jm_intent_add_waiting(jm, snap);
	spin_unlock_irq(&jm->lock);
}

/*
 * Finish the snapshot of a mirror's commit that clears bits, its flushes
 * done, just before it is written (meta_lock held): add the regions of the
 * writes that went out since the snapshot was taken, which count in the
 * current epoch and which the flushes may not cover, and keep in meta_ok
 * only the bits it writes, so that from now on a write elsewhere waits for
 * the next commit that adds bits.  Writes stop going out unmarked here too
 * (a commit that only adds bits may have failed meanwhile): those that did
 * are in the epoch's bits.  Slice by slice: a write that passes the gate
 * before its slice is done is added, one after it finds meta_ok cleared.
 */
static void jm_meta_snapshot_finish(struct jobmirror *jm, unsigned long *snap)
{
	size_t i, j, n, longs = BITS_TO_LONGS(jm->nr_regions);
	const unsigned long *busy;

	for (i = 0; i < longs; i += JM_META_SNAP_LONGS) {
		n = min_t(size_t, longs - i, JM_META_SNAP_LONGS);
		spin_lock_irq(&jm->lock);
		jm->meta_failed = false;
		busy = jm->meta_busy[jm->meta_epoch];
		for (j = i; j < i + n; j++) {
			snap[j] |= busy[j];
			jm->meta_ok[j] &= snap[j];
		}
		spin_unlock_irq(&jm->lock);
		cond_resched();
	}
}

/*
 * Write @snap and the job's state to the older area (after invalidating
 * its header if the last metadata write failed), with the completed flag
 * if it is set and @may_complete.  Returns 0 or the errno of the metadata
 * write; sets meta_failed, meta_write_failed and, for a mirror, meta_ok
 * and meta_disk accordingly, and @first_failure if a mirror's write failed
 * and the one before it did not (decided here, under meta_lock: commits
 * interleave).  Called with meta_lock held.
 */
static int jm_meta_write_snap(struct jobmirror *jm, const unsigned long *snap,
			      bool may_complete, bool *first_failure)
{
	unsigned long weight = bitmap_weight(snap, jm->nr_regions);
	enum dm_jobmirror_state state;
	bool completed, paused, taken_back;
	char name[DM_NAME_LEN];
	int r = 0;

	spin_lock_irq(&jm->lock);
	state = jm->state;
	completed = jm->meta_completed;
	/* A pause asked for and not yet reached is a pause too. */
	paused = state == DM_JOBMIRROR_STATE_PAUSED || state == DM_JOBMIRROR_STATE_STANDBY ||
		 (jm->pause_requested && (state == DM_JOBMIRROR_STATE_RUNNING ||
					  state == DM_JOBMIRROR_STATE_READY));
	/*
	 * A mirror's pivot not yet committed needs the dest flushed (a commit
	 * whose flush failed, or any commit once a dest flush failed, leaves
	 * the flag out) and the job still ready (a commit that overlapped
	 * the pivot may have failed it: then writes go to the source alone);
	 * once committed, every later header keeps it.
	 */
	if (completed && jm->intent && !jm->pivot_durable &&
	    (!may_complete || !jm->flushed || state != DM_JOBMIRROR_STATE_READY))
		completed = false;
	/*
	 * A stream's flag needs a snapshot with every region populated: then
	 * this commit's dest flush, sent after the snapshot, covers them all.
	 * A commit that took its snapshot before the last copies ended, and
	 * gets here after jm_stream_done() set the flag, leaves it to the
	 * next commit.
	 */
	if (completed && !jm->intent && weight)
		completed = false;
	spin_unlock_irq(&jm->lock);
	lockdep_assert_held(&jm->meta_lock);
	/* A write that fails may still have put the flag on the device. */
	if (completed)
		WRITE_ONCE(jm->meta_says_completed, true);
	if (jm->meta_write_failed)
		r = jm_meta_invalidate(jm, !jm->meta_area);
	if (!r)
		r = jm_meta_write_area(jm, !jm->meta_area, jm->meta_seq + 1,
				       (completed ? JM_META_F_COMPLETED : 0) |
				       (paused ? JM_META_F_PAUSED : 0), snap, weight, state);
	/* An outage of the metadata device begins with a failed write. */
	*first_failure = r && jm->intent && !jm->meta_write_failed;
	jm->meta_write_failed = r != 0;
	/* The area written to stays the older one until a commit succeeds. */
	if (!r) {
		jm->meta_seq++;
		jm->meta_area = !jm->meta_area;
		WRITE_ONCE(jm->meta_says_completed, completed);
	}
	spin_lock_irq(&jm->lock);
	jm->meta_failed = r != 0;
	taken_back = !r && !completed && jm->intent && jm_job_flag_taken_back(jm);
	spin_unlock_irq(&jm->lock);
	if (taken_back) {
		jm_log_name(jm, name);
		DMWARN("%s: metadata no longer says completed: writes go to the source alone",
		       name);
	}
	/* Bits are only added to meta_ok here: slices will do. */
	if (!r && jm->intent) {
		bitmap_copy(jm->meta_disk, snap, jm->nr_regions);
		jm_meta_slices(jm, jm->meta_ok, snap);
	}
	return r;
}

/*
 * Start a commit: returns false if there is nothing to do.  Clears
 * meta_failed (writes wait for a commit that adds their bits again: what
 * meta_ok holds is in every header that may be newest, whatever happens).
 */
static bool jm_meta_begin(struct jobmirror *jm, bool force, u64 *gen, u64 *redirty)
{
	lockdep_assert_held(&jm->lock);
	*gen = jm->meta_gen;
	*redirty = jm->meta_redirty;
	if (*gen == jm->meta_committed && !force && !jm->meta_failed)
		return false;
	jm->meta_failed = false;
	return true;
}

/**
 * jm_meta_mark() - commit the regions of the writes waiting (mirror).
 * @jm: the target; process context.
 * @report: set if the job error of a failure is to be raised (the first
 *	failure of an outage of the metadata device).
 *
 * A commit that only adds bits, see dm-jobmirror-intent.c.  It takes
 * meta_lock alone: a commit waiting for its flushes does not hold it up.
 *
 * Return: 0 or the errno of the metadata write.
 */
int jm_meta_mark(struct jobmirror *jm, bool *report)
{
	int r;

	mutex_lock(&jm->meta_lock);
	/* Writes wait for this commit, see jm_meta_begin(). */
	spin_lock_irq(&jm->lock);
	jm->meta_failed = false;
	spin_unlock_irq(&jm->lock);
	jm_meta_snapshot_add(jm);
	r = jm_meta_write_snap(jm, jm->meta_snap, true, report);
	mutex_unlock(&jm->meta_lock);
	return r;
}

/*
 * A failed flush of the source in a mirror's commit is the source's
 * error (on_source_error); the commit is tried again within a second.
 * The worker carries out a stop (on resume, if suspended).
 */
static void jm_meta_source_error(struct jobmirror *jm, int err)
{
	spin_lock_irq(&jm->lock);
	jm_job_error(jm, DM_JOBMIRROR_OP_READ, err, 0);
	if (!jm->suspended) {
		queue_delayed_work(jm->wq, &jm->commit_dwork, JM_INTENT_PERIOD);
		jm_job_kick(jm);
	}
	spin_unlock_irq(&jm->lock);
}

/**
 * jm_meta_commit() - make the job's progress and state durable.
 * @jm: the target; process context.
 * @force: commit even if nothing changed since the last commit.
 * @report: if not NULL, set if the job error of a failure is to be raised:
 *	a failed dest flush each time, a failed metadata write only as the
 *	first failure of an outage.
 *
 * A stream flushes the dest, then writes its bitmap and state.  A mirror
 * whose job goes on starts a new write epoch, waits for the writes of the
 * epoch before the last (see dm-jobmirror-intent.c), flushes the source
 * and the dest and writes a bitmap without the regions that are the same
 * on both now; commits that only add bits (jm_meta_mark()) go on
 * meanwhile, so a write to a region not yet marked does not wait for these
 * flushes.  If a flush fails, or once the job is over, it writes a bitmap
 * that only adds bits.  A mirror's pivot flushes only the dest, which is
 * all it needs: the source is left behind.  A failed flush of the source
 * is a job error raised here.
 *
 * Return: 0 or the errno of the dest flush or metadata write that failed.
 */
int jm_meta_commit(struct jobmirror *jm, bool force, bool *report)
{
	unsigned int prev = 0, next = 0, older = 0;
	bool clear = true, pivot = false, marks_go_on, first_failure = false;
	int r = 0, src_err = 0, dest_err = 0;
	unsigned long *snap = jm->meta_snap;
	u64 gen, redirty;

	mutex_lock(&jm->commit_lock);
	spin_lock_irq(&jm->lock);
	if (!jm_meta_begin(jm, force, &gen, &redirty)) {
		spin_unlock_irq(&jm->lock);
		mutex_unlock(&jm->commit_lock);
		return 0;
	}
	if (jm->intent) {
		pivot = jm->meta_completed && !jm->pivot_durable;
		/*
		 * While a pivot is being committed or called off, writes are
		 * held: no flush of the source or wait for old writes then.
		 */
		clear = !pivot && !jm->pivot_committing && jm_intent_may_clear(jm);
		prev = jm->meta_epoch;
		next = (prev + 1) % JM_EPOCHS;
		older = (prev + 2) % JM_EPOCHS;
		if (clear)
			jm->meta_epoch = next;
	}
	spin_unlock_irq(&jm->lock);
	/* The pivot and a stream's commits keep meta_lock from the start. */
	marks_go_on = jm->intent && clear;
	if (!marks_go_on)
		mutex_lock(&jm->meta_lock);

	if (clear) {
		/* Writes begun two epochs ago end within the devices' timeouts. */
		if (jm->intent) {
			wait_event(jm->drain_wait, !READ_ONCE(jm->meta_inflight[older]));
			snap = jm->meta_clear;
		}
		/* Then the flushes: they cover every copy and write the bitmap calls done. */
		jm_meta_snapshot(jm, snap, redirty, jm->meta_busy[prev], jm->meta_busy[next]);
		if (jm->intent)
			src_err = blkdev_issue_flush(jm->source->bdev);
	}
	if (clear || pivot)
		dest_err = blkdev_issue_flush(jm->dest->bdev);
	if (marks_go_on)
		mutex_lock(&jm->meta_lock);
	if (dest_err && !jm->intent) {
		r = dest_err;
		goto out;
	}
	if (dest_err) {
		spin_lock_irq(&jm->lock);
		jm_dest_flush_failed(jm);
		spin_unlock_irq(&jm->lock);
	}
	if (src_err)
		jm_meta_source_error(jm, src_err);
	/* Nothing is known to be the same on both unless both flushes succeeded. */
	if (jm->intent && clear && !src_err && !dest_err) {
		/* Written in the epoch before last, and not since: clean. */
		bitmap_zero(jm->meta_busy[older], jm->nr_regions);
		spin_lock_irq(&jm->lock);
		jm->meta_busy_any[older] = false;
		/* The bits of the epoch that just ended go next time. */
		if (jm->meta_busy_any[prev] && !jm->suspended) {
			jm->meta_gen++;
			queue_delayed_work(jm->wq, &jm->commit_dwork, JM_INTENT_PERIOD);
		}
		spin_unlock_irq(&jm->lock);
		jm_meta_snapshot_finish(jm, snap);
	} else if (jm->intent) {
		jm_meta_snapshot_add(jm);
		snap = jm->meta_snap;
	}
	/*
	 * A pivot needs its dest flush: without that it is not committed.
	 * Nor by a commit that overlapped it and failed to flush the source.
	 */
	r = jm_meta_write_snap(jm, snap, !dest_err && !src_err, &first_failure);
out:
	spin_lock_irq(&jm->lock);
	if (!r && !dest_err && !src_err)
		jm->meta_committed = gen;
	else if (!jm->intent)
		jm->meta_failed = true;
	spin_unlock_irq(&jm->lock);
	mutex_unlock(&jm->meta_lock);
	mutex_unlock(&jm->commit_lock);
	if (report)
		*report = r ? first_failure : dest_err != 0;
	return r ?: dest_err;
}

/**
 * jm_meta_exit() - free what jm_meta_open() took.
 * @jm: the target.
 */
void jm_meta_exit(struct jobmirror *jm)
{
	unsigned int e;

	/* (Also on a bio_set left zeroed.) */
	bioset_exit(&jm->meta_bs);
	vfree(jm->meta_buf);
	jm->meta_buf = NULL;
	vfree(jm->meta_pack);
	jm->meta_pack = NULL;
	vfree(jm->meta_held[0]);
	jm->meta_held[0] = NULL;
	vfree(jm->meta_held[1]);
	jm->meta_held[1] = NULL;
	kvfree(jm->meta_snap);
	jm->meta_snap = NULL;
	kvfree(jm->meta_clear);
	jm->meta_clear = NULL;
	kvfree(jm->meta_ok);
	jm->meta_ok = NULL;
	kvfree(jm->meta_disk);
	jm->meta_disk = NULL;
	for (e = 0; e < JM_EPOCHS; e++) {
		kvfree(jm->meta_busy[e]);
		jm->meta_busy[e] = NULL;
	}
}
