// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: region tracking.
 *
 * The dirty bitmap says which regions still have to be copied.  While
 * user writes go to both devices, the writers hash says which regions have
 * such a write in flight, so that a copy never overlaps one, and the copy
 * slots say which regions are being copied, so that a write waits for the
 * copy.  All of it is protected by jobmirror.lock.
 */
#include <linux/bitmap.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "dm-jobmirror.h"

/**
 * jm_regions_init() - allocate the bitmap with every region dirty.
 * @jm: the target, with nr_regions and region_shift set.
 *
 * Return: 0 or -ENOMEM.
 */
int jm_regions_init(struct jobmirror *jm)
{
	unsigned int i;

	jm->dirty = kvmalloc_array(BITS_TO_LONGS(jm->nr_regions), sizeof(long),
				   GFP_KERNEL);
	if (!jm->dirty)
		return -ENOMEM;
	bitmap_fill(jm->dirty, jm->nr_regions);
	jm->nr_dirty = jm->nr_regions;
	jm->work_total = jm->ti->len;
	for (i = 0; i < JM_WRITER_BUCKETS; i++)
		INIT_HLIST_HEAD(&jm->writers[i]);
	INIT_HLIST_HEAD(&jm->wide_writers);
	return 0;
}

/**
 * jm_regions_exit() - free the bitmap.
 * @jm: the target.
 */
void jm_regions_exit(struct jobmirror *jm)
{
	kvfree(jm->dirty);
	jm->dirty = NULL;
}

/**
 * jm_region_start() - first sector of a region, target relative.
 * @jm: the target.
 * @region: the region.
 *
 * Return: the sector.
 */
sector_t jm_region_start(struct jobmirror *jm, unsigned long region)
{
	return (sector_t)region << jm->region_shift;
}

/**
 * jm_region_sectors() - length of a region; the last one may be short.
 * @jm: the target.
 * @region: the region.
 *
 * Return: the length in sectors.
 */
sector_t jm_region_sectors(struct jobmirror *jm, unsigned long region)
{
	sector_t start = jm_region_start(jm, region);

	return min_t(sector_t, jm->cfg.region_sectors, jm->ti->len - start);
}

/**
 * jm_sector_to_region() - the region holding a target-relative sector.
 * @jm: the target.
 * @sector: the sector.
 *
 * Return: the region.
 */
unsigned long jm_sector_to_region(struct jobmirror *jm, sector_t sector)
{
	return sector >> jm->region_shift;
}

/* Set bits of @map in first..last, word by word. */
static unsigned long jm_weight(const unsigned long *map, unsigned long first,
			       unsigned long last)
{
	unsigned long i = first, n = 0;

	while (i <= last && i % BITS_PER_LONG)
		n += test_bit(i++, map);
	for (; i + BITS_PER_LONG - 1 <= last; i += BITS_PER_LONG)
		n += hweight_long(map[i / BITS_PER_LONG]);
	while (i <= last)
		n += test_bit(i++, map);
	return n;
}

/**
 * jm_mark_dirty() - regions first..last must be copied (again).
 * @jm: the target; caller holds jm->lock.
 * @first: first region.
 * @last: last region.
 *
 * A region that goes from clean to dirty adds its length to the work
 * total, so the status's len grows as the contract says, and makes a
 * flush of the dest done before it stale.  Word at a time: a discard of
 * a whole large device marks millions of regions from bio completion.
 *
 * Return: how many regions went from clean to dirty.
 */
unsigned long jm_mark_dirty(struct jobmirror *jm, unsigned long first, unsigned long last)
{
	unsigned long n, end = jm->nr_regions - 1;
	sector_t sectors;

	lockdep_assert_held(&jm->lock);
	last = min(last, end);
	if (first > last)
		return 0;
	n = last - first + 1 - jm_weight(jm->dirty, first, last);
	if (!n)
		return 0;
	sectors = (sector_t)n << jm->region_shift;
	/* The last region may be short. */
	if (last == end && !test_bit(end, jm->dirty))
		sectors -= jm->cfg.region_sectors - jm_region_sectors(jm, end);
	bitmap_set(jm->dirty, first, last - first + 1);
	jm->nr_dirty += n;
	jm->work_total += sectors;
	jm->flushed = false;
	jm->flush_clean = false;
	return n;
}

/**
 * jm_mark_clean() - regions first..last are being copied.
 * @jm: the target; caller holds jm->lock.
 * @first: first region.
 * @last: last region.
 */
void jm_mark_clean(struct jobmirror *jm, unsigned long first, unsigned long last)
{
	unsigned long r;

	lockdep_assert_held(&jm->lock);
	for (r = first; r <= last; r++)
		if (__test_and_clear_bit(r, jm->dirty))
			jm->nr_dirty--;
}

static struct hlist_head *jm_bucket(struct jobmirror *jm, unsigned long region)
{
	return &jm->writers[hash_long(region, ilog2(JM_WRITER_BUCKETS))];
}

/**
 * jm_has_writers() - whether a synchronous user write to first..last is
 * in flight.
 * @jm: the target; caller holds jm->lock.
 * @first: first region.
 * @last: last region.
 *
 * Return: true if there is one.
 */
bool jm_has_writers(struct jobmirror *jm, unsigned long first, unsigned long last)
{
	struct jm_bio *jb;
	unsigned long r;

	lockdep_assert_held(&jm->lock);
	if (!jm->sync_writes)
		return false;
	for (r = first; r <= last; r++)
		hlist_for_each_entry(jb, jm_bucket(jm, r), node)
			if (jb->first == r)
				return true;
	hlist_for_each_entry(jb, &jm->wide_writers, node)
		if (jb->first <= last && first <= jb->last)
			return true;
	return false;
}

/**
 * jm_has_overlapping_writer() - whether a tracked write in flight
 * overlaps the sectors of @jb.
 * @jm: the target; caller holds jm->lock.
 * @jb: a write not yet added, with first, last and iter set.
 *
 * Two overlapping writes sent to both devices may land in different
 * orders on each: the second one goes to the source alone instead, or
 * waits for the first (see jm_route_write()).  @jb may span regions (a
 * discard or write-zeroes): then the buckets of all its regions are
 * looked in, every bucket at most.
 *
 * Return: true if there is one.
 */
bool jm_has_overlapping_writer(struct jobmirror *jm, struct jm_bio *jb)
{
	bool all = jb->last - jb->first >= JM_WRITER_BUCKETS - 1;
	unsigned long i, n = all ? JM_WRITER_BUCKETS : jb->last - jb->first + 1;
	struct jm_bio *w;

	lockdep_assert_held(&jm->lock);
	if (!jm->sync_writes)
		return false;
	for (i = 0; i < n; i++)
		hlist_for_each_entry(w, all ? &jm->writers[i] : jm_bucket(jm, jb->first + i), node)
			if (jm_writes_overlap(w, jb))
				return true;
	hlist_for_each_entry(w, &jm->wide_writers, node)
		if (w->first <= jb->last && jb->first <= w->last)
			return true;
	return false;
}

/**
 * jm_add_writer() - a synchronous write is going out.
 * @jm: the target; caller holds jm->lock.
 * @jb: the write's per-bio data, with first and last set.
 *
 * Writes within one region (all of them but large discards and
 * write-zeroes, as max_io_len splits bios at region boundaries) are
 * hashed by region; wider ones go on a list of their own.
 */
void jm_add_writer(struct jobmirror *jm, struct jm_bio *jb)
{
	lockdep_assert_held(&jm->lock);
	if (jb->first == jb->last)
		hlist_add_head(&jb->node, jm_bucket(jm, jb->first));
	else
		hlist_add_head(&jb->node, &jm->wide_writers);
	jm->sync_writes++;
}

/**
 * jm_del_writer() - a synchronous write finished.
 * @jm: the target; caller holds jm->lock.
 * @jb: the write's per-bio data.
 */
void jm_del_writer(struct jobmirror *jm, struct jm_bio *jb)
{
	lockdep_assert_held(&jm->lock);
	hlist_del(&jb->node);
	jm->sync_writes--;
}

/**
 * jm_copy_covering() - the copy slot whose run overlaps first..last.
 * @jm: the target; caller holds jm->lock.
 * @first: first region.
 * @last: last region.
 *
 * Return: the slot, or NULL.
 */
struct jm_copy *jm_copy_covering(struct jobmirror *jm, unsigned long first,
				 unsigned long last)
{
	struct jm_copy *c;
	unsigned int i;

	lockdep_assert_held(&jm->lock);
	if (!jm->copies_active)
		return NULL;
	for (i = 0; i < jm->max_copies; i++) {
		c = &jm->copies[i];
		if (c->state != JM_COPY_FREE && c->region <= last &&
		    first < c->region + c->nr_regions)
			return c;
	}
	return NULL;
}
