/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-jobmirror: internal definitions shared by the target's source files.
 */
#ifndef DM_JOBMIRROR_INTERNAL_H
#define DM_JOBMIRROR_INTERNAL_H

#include <linux/device-mapper.h>
#include <linux/dm-ioctl.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/dm-jobmirror.h>

#define DM_MSG_PREFIX "jobmirror"

/* Open modes: fmode_t before 6.5, blk_mode_t after. */
#ifdef BLK_OPEN_WRITE
#define JM_OPEN_READ	BLK_OPEN_READ
#define JM_OPEN_WRITE	BLK_OPEN_WRITE
#else
#define JM_OPEN_READ	FMODE_READ
#define JM_OPEN_WRITE	FMODE_WRITE
#endif
#define JM_OPEN_RW	(JM_OPEN_READ | JM_OPEN_WRITE)

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

/* Most copies in flight, and how much one copy moves at most. */
#define JM_MAX_COPIES		16
#define JM_COPY_MAX_SECTORS	2048	/* 1 MiB */
#define JM_COPY_PAGES		(JM_COPY_MAX_SECTORS >> (PAGE_SHIFT - SECTOR_SHIFT))
#define JM_WRITER_BUCKETS	256
/* The region bitmap is one allocation: keep it under 256 MiB. */
#define JM_MAX_REGIONS		BIT(31)

/* How the user I/O of a mirror device is routed right now. */
enum jm_route {
	JM_ROUTE_BACKGROUND,	/* writes to source, dirty on completion */
	JM_ROUTE_SYNC,		/* writes to source and dest */
	JM_ROUTE_HOLD,		/* new writes wait: complete/cancel drains the rest */
	JM_ROUTE_SOURCE,	/* the job is over: all I/O to source only */
	JM_ROUTE_DEST,		/* pivoted: all I/O to dest only */
	JM_ROUTE_STREAM,	/* stream: by region, see dm-jobmirror-stream.c */
};

/* What a copy slot is doing. */
enum jm_copy_state {
	JM_COPY_FREE,
	JM_COPY_WAIT,		/* waiting for user writes to its regions to finish */
	JM_COPY_READ,
	JM_COPY_WRITE,
};

struct jobmirror;

/**
 * struct jm_copy - one copy of a run of regions, source to dest.
 * @jm: the target.
 * @state: see enum jm_copy_state.
 * @region: first region of the run.
 * @nr_regions: regions in the run.
 * @sector: next sector to copy.
 * @end: sector after the run.
 * @chunk: sectors of the chunk in flight.
 * @urgent: a stream copy that user writes wait for: it runs to its end in
 *	any job state and is not rate limited.
 * @deferred: user writes to the run, held until the copy ends.
 * @work: runs the next step in process context.
 * @status: the status of the last bio.
 * @bio: the bio for reads and writes (uses @bvec).
 * @bvec: its vector.
 * @pages: the buffer, JM_COPY_PAGES pages.
 */
struct jm_copy {
	struct jobmirror *jm;
	enum jm_copy_state state;
	unsigned long region;
	unsigned long nr_regions;
	sector_t sector;
	sector_t end;
	sector_t chunk;
	bool urgent;
	struct bio_list deferred;
	struct work_struct work;
	blk_status_t status;
	struct bio bio;
	struct bio_vec bvec[JM_COPY_PAGES];
	struct page *pages[JM_COPY_PAGES];
};

/* What end_io does with a held bio completed by the target itself. */
enum jm_finish {
	JM_FINISH_NONE,		/* a real completion: see jm_end_io() */
	JM_FINISH_DONE,		/* complete it with bi_status */
	JM_FINISH_REQUEUE,	/* give it back to dm (noflush suspend) */
};

/**
 * struct jm_bio - per-bio data of a user bio (dm's per_io_data).
 * @jm: the target.
 * @node: in jobmirror.writers while a synchronous write is in flight.
 * @first: first region the bio touches.
 * @last: last region the bio touches.
 * @route: how the bio was routed.
 * @tracked: whether it is counted in bg_writes or writers.
 * @both: a write sent to both devices, not yet done: the bio went to the
 *	source, @clone to the dest.
 * @pending: halves of @both still in flight.
 * @src_status: status of the source half.
 * @dst_status: status of the dest half.
 * @finish: how end_io completes the bio when it was held (enum jm_finish).
 * @committed: stream: a flush or FUA write that waited for a metadata
 *	commit, which covers it.
 * @hang_retry: the bio failed and is being sent again (hang or continue).
 * @in_hang: the bio is in the I/O hang: hung, or its retry in flight.
 * @hang_status: its last error while hung.
 * @iter: the bio's iterator when mapped (target-relative sector), to
 *	send it again after an error.
 * @bi_opf: its op and flags when mapped (a lower layer may drop
 *	REQ_FUA/REQ_PREFLUSH), likewise.
 * @bi_flags: its BIO_* flags when mapped, likewise.
 * @clone: the dest half of a write sent to both devices.
 */
struct jm_bio {
	struct jobmirror *jm;
	struct hlist_node node;
	unsigned long first;
	unsigned long last;
	enum jm_route route;
	bool tracked;
	bool both;
	bool committed;
	u8 finish;
	bool hang_retry;
	bool in_hang;
	bool flush_copy;	/* a flush's copy for the dest, the source in use */
	bool pre_pivot;		/* a read or flush sent to the source before a pivot */
	bool intent;		/* counted in meta_inflight[epoch] */
	u8 epoch;
	blk_status_t hang_status;
	atomic_t pending;
	blk_status_t src_status;
	blk_status_t dst_status;
	struct bvec_iter iter;
	blk_opf_t bi_opf;
	unsigned short bi_flags;
	struct bio clone;	/* last: struct bio ends in a flexible array */
};

/**
 * struct jm_ev - an event waiting to be sent.
 * @type: enum dm_jobmirror_event.
 * @op: for errors: enum dm_jobmirror_op.
 * @action: for errors: the policy applied (report, ignore, stop).
 * @err: for errors: the negative errno.
 * @sector: for errors: the first sector of the failed I/O.
 * @seq: event_seq when raised.
 * @suppressed: events of this type dropped since the last one sent.
 */
struct jm_ev {
	u8 type;
	u8 op;
	u8 action;
	int err;
	sector_t sector;
	u64 seq;
	u32 suppressed;
};

/* Write intent, see dm-jobmirror-intent.c: epochs, and the commit period. */
#define JM_EPOCHS		3
#define JM_INTENT_PERIOD	(HZ)

#define JM_EV_RING		64
/* At most this many events of one type are sent per JM_EV_WINDOW. */
#define JM_EV_BURST		5
#define JM_EV_WINDOW		HZ
/* Variables of one uevent, and the room for each. */
#define JM_ENV_VARS		20
#define JM_ENV_LEN		(DM_NAME_LEN + 64)

/**
 * struct jobmirror - one jobmirror target instance.
 *
 * jobmirror.lock protects everything below it.
 */
struct jobmirror {
	struct dm_target *ti;
	struct jm_config cfg;
	struct dm_dev *source;
	struct dm_dev *dest;
	struct dm_dev *meta;
	struct list_head meta_user;	/* on the list of jm_meta_claim() */
	unsigned long nr_regions;
	unsigned int region_shift;
	unsigned int max_copies;

	struct workqueue_struct *wq;
	struct work_struct work;
	struct delayed_work delayed;
	struct work_struct event_work;
	struct work_struct flush_work;

	/*
	 * The metadata device, see dm-jobmirror-meta.c.  A mirror's marks
	 * (jm_meta_mark(), commits that only add bits for waiting writes)
	 * take meta_lock alone, and go on while a commit waits for its
	 * flushes.
	 */
	struct mutex commit_lock;	/* serialises jm_meta_commit() */
	struct mutex meta_lock;		/* serialises metadata writes */
	/*
	 * Its bios: not from fs_bio_set, which the user bios that wait for
	 * these writes may have drained.
	 */
	struct bio_set meta_bs;
	void *meta_buf;		/* the two header blocks */
	void *meta_pack;	/* a bitmap as the device holds it (scratch) */
	void *meta_held[2];	/* what each area's bitmap blocks hold ... */
	bool meta_held_ok[2];	/* ... if known (then commits write what changed) */
	unsigned long *meta_snap;	/* the bitmap to write (meta_lock) */
	unsigned long *meta_clear;	/* a mirror's clearing commit's (commit_lock) */
	unsigned int meta_blocks;
	unsigned int meta_area;
	u64 meta_seq;
	bool meta_loaded;
	bool meta_failed;	/* the last metadata write or stream flush failed */
	bool meta_write_failed;	/* the last metadata write failed (meta_lock) */
	struct work_struct commit_work;
	struct delayed_work commit_dwork;
	/*
	 * A mirror with a metadata device marks regions on it before writing
	 * to them (write intent), see dm-jobmirror-intent.c.  The pointers
	 * are set at table load; the bits are under jobmirror.lock.
	 */
	bool intent;
	unsigned long *meta_ok;			/* set in every header that may be newest */
	unsigned long *meta_disk;		/* the newest good header's (meta_lock) */
	unsigned long *meta_busy[JM_EPOCHS];	/* written in each epoch */

	spinlock_t lock;	/* protects all that follows */
	enum dm_jobmirror_state state;
	enum jm_route route;
	enum dm_jobmirror_iostatus iostatus;
	unsigned long *dirty;
	unsigned long nr_dirty;
	unsigned long cursor;
	bool pass_progress;
	sector_t copied;
	sector_t work_total;
	unsigned int copies_active;
	struct jm_copy *copies;
	struct hlist_head writers[JM_WRITER_BUCKETS];
	struct hlist_head wide_writers;
	unsigned long sync_writes;
	unsigned long bg_writes;
	struct bio_list retry;
	struct bio_list hold;
	/* The flag in doubt (jm_flag_in_doubt()): writes waiting for one they overlap. */
	struct bio_list after_writer;
	/* Stream: writes waiting for an urgent copy, flushes for a commit. */
	struct bio_list hydrate;
	struct bio_list commit_bios;
	u64 meta_gen;		/* bumped when there is something to commit */
	u64 meta_committed;	/* meta_gen of the last commit */
	u64 meta_redirty;	/* bumped when a copy leaves regions dirty */
	bool meta_completed;	/* the job is (being) committed as completed */
	bool meta_paused;	/* the loaded header has the paused flag */
	bool meta_says_completed;	/* the newest header on the device may, too */
	bool pivot_durable;	/* mirror: that commit is done */
	bool pivot_committing;	/* mirror: jm_commit_pivot() runs */
	unsigned int meta_epoch;	/* intent: writes now count in this epoch */
	unsigned long meta_inflight[JM_EPOCHS];	/* intent: writes in flight */
	bool meta_busy_any[JM_EPOCHS];	/* intent: meta_busy[e] has bits */
	struct bio_list meta_wait;	/* intent: writes waiting for a commit */

	bool want_drain;
	bool suspended;
	bool pause_requested;
	bool cancel_requested;
	bool complete_requested;
	bool flushing;
	bool flush_clean;
	bool flushed;
	struct bio flush_bio;

	u64 speed;
	u64 rl_slice_end;
	u64 rl_dispatched;

	u64 src_errors;
	u64 dst_errors;
	u64 io_errors;
	u64 event_seq;
	int job_error_op;
	int job_errno;
	sector_t job_error_sector;
	int last_error_op;
	int last_errno;
	sector_t last_error_sector;

	/* User I/O, see dm-jobmirror-uio.c. */
	enum dm_jobmirror_io io_state;
	struct bio_list held;		/* failed, held by the stop policy */
	unsigned int nr_held;
	struct bio_list hung;		/* failed, waiting for the next retry */
	unsigned int nr_hung;
	unsigned int nr_retrying;	/* failed, being sent again */
	unsigned int nr_in_hang;	/* hung, or their retries in flight */
	struct bio_list waiting;	/* mapped while io was not running */
	unsigned int nr_waiting;
	struct bio_list resubmit;	/* released, to be sent by the worker */
	bool gate;			/* running, but new bios still wait */
	int stop_op;
	int stop_errno;
	bool suspend_flush;
	unsigned long hang_start;
	int hang_op;			/* the hang's first failure */
	int hang_errno;
	sector_t hang_sector;
	bool hang_expired;		/* gave up: path errors do not hang */
	bool hang_unrecovered;		/* the hang ends without RECOVERED */
	struct delayed_work hang_work;

	/* Events raised but not yet sent, oldest first. */
	struct jm_ev ev_ring[JM_EV_RING];
	unsigned int ev_head;
	unsigned int ev_count;
	bool ev_wake;
	unsigned long ev_window_start[DM_JOBMIRROR_NR_EVENTS];
	unsigned int ev_window_sent[DM_JOBMIRROR_NR_EVENTS];
	u32 ev_suppressed[DM_JOBMIRROR_NR_EVENTS];
	char (*ev_env)[JM_ENV_LEN];	/* the uevent's variables, for the work */
	wait_queue_head_t drain_wait;
};

/* dm-jobmirror-args.c */
int jm_parse_table(struct dm_target *ti, unsigned int argc, char **argv,
		   struct jm_config *cfg);
void jm_free_config(struct jm_config *cfg);
void jm_emit_table(const struct jm_config *cfg, const char *source,
		   const char *dest, const char *meta, char *result,
		   unsigned int maxlen, unsigned int *sz);
int jm_parse_u64(const char *word, u64 max, u64 *out);
__printf(3, 4) int jm_ctr_error(struct dm_target *ti, int err, const char *fmt, ...);

/* dm-jobmirror-region.c */
int jm_regions_init(struct jobmirror *jm);
void jm_regions_exit(struct jobmirror *jm);
sector_t jm_region_start(struct jobmirror *jm, unsigned long region);
sector_t jm_region_sectors(struct jobmirror *jm, unsigned long region);
unsigned long jm_sector_to_region(struct jobmirror *jm, sector_t sector);
unsigned long jm_mark_dirty(struct jobmirror *jm, unsigned long first, unsigned long last);
void jm_mark_clean(struct jobmirror *jm, unsigned long first, unsigned long last);
bool jm_has_writers(struct jobmirror *jm, unsigned long first, unsigned long last);
bool jm_has_overlapping_writer(struct jobmirror *jm, struct jm_bio *jb);
void jm_add_writer(struct jobmirror *jm, struct jm_bio *jb);
void jm_del_writer(struct jobmirror *jm, struct jm_bio *jb);
struct jm_copy *jm_copy_covering(struct jobmirror *jm, unsigned long first,
				 unsigned long last);

/* dm-jobmirror-job.c */
int jm_job_init(struct jobmirror *jm);
void jm_job_exit(struct jobmirror *jm);
void jm_job_kick(struct jobmirror *jm);
void jm_dest_flush_failed(struct jobmirror *jm);
bool jm_job_flag_taken_back(struct jobmirror *jm);
void jm_job_presuspend(struct jobmirror *jm);
void jm_job_postsuspend(struct jobmirror *jm);
void jm_job_resume(struct jobmirror *jm);
int jm_job_message(struct jobmirror *jm, enum dm_jobmirror_msg msg, u64 arg,
		   const char **why);
void jm_job_error(struct jobmirror *jm, int op, int err, sector_t sector);

/* dm-jobmirror-io.c */
int jm_map_bio(struct jobmirror *jm, struct bio *bio);
int jm_route_bio(struct jobmirror *jm, struct bio *bio);
int jm_end_io(struct jobmirror *jm, struct bio *bio, blk_status_t *error);
void jm_dispatch_write(struct jobmirror *jm, struct bio *bio);

/* dm-jobmirror-stream.c */
bool jm_stream_whole_write(struct jobmirror *jm, struct bio *bio);
int jm_stream_route(struct jobmirror *jm, struct bio *bio);
void jm_stream_untrack(struct jobmirror *jm, struct jm_bio *jb, blk_status_t error);
unsigned long jm_stream_hydrate(struct jobmirror *jm,
				struct jm_copy *(*claim)(struct jobmirror *jm, unsigned long r));
void jm_stream_commit_work(struct work_struct *work);
void jm_stream_commit_timer(struct work_struct *work);

/* dm-jobmirror-intent.c */
bool jm_intent_gate(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb);
void jm_intent_done(struct jobmirror *jm, struct jm_bio *jb);
void jm_intent_commit_work(struct work_struct *work);
void jm_intent_commit_timer(struct work_struct *work);
void jm_intent_add_waiting(struct jobmirror *jm, unsigned long *map);
bool jm_intent_may_clear(struct jobmirror *jm);

/* dm-jobmirror-meta.c */
int jm_meta_claim(struct jobmirror *jm);
void jm_meta_unclaim(struct jobmirror *jm);
int jm_meta_open(struct jobmirror *jm);
int jm_meta_load(struct jobmirror *jm);
int jm_meta_commit(struct jobmirror *jm, bool force, bool *report);
int jm_meta_mark(struct jobmirror *jm, bool *report);
void jm_meta_exit(struct jobmirror *jm);

/* dm-jobmirror-uio.c */
enum { JM_HOLD_NO, JM_HOLD_HELD, JM_HOLD_REQUEUE };
void jm_uio_init(struct jobmirror *jm);
int jm_uio_hold_new(struct jobmirror *jm, struct bio *bio);
int jm_uio_end_io(struct jobmirror *jm, struct bio *bio, blk_status_t *error);
void jm_uio_release(struct jobmirror *jm);
int jm_uio_continue(struct jobmirror *jm);
unsigned int jm_uio_held(struct jobmirror *jm);
void jm_uio_presuspend(struct jobmirror *jm);
void jm_uio_postsuspend(struct jobmirror *jm);
void jm_uio_resume(struct jobmirror *jm);

/* dm-jobmirror-events.c */
void jm_event(struct jobmirror *jm, enum dm_jobmirror_event event);
void jm_event_error(struct jobmirror *jm, enum dm_jobmirror_event event, int op,
		    enum dm_jobmirror_policy action, int err, sector_t sector);
void jm_events_work(struct work_struct *work);
const char *jm_errno_name(int err);
void jm_log_name(struct jobmirror *jm, char name[DM_NAME_LEN]);

extern const char *const jm_mode_names[DM_JOBMIRROR_NR_MODES];
extern const char *const jm_state_names[DM_JOBMIRROR_NR_STATES];
extern const char *const jm_policy_names[DM_JOBMIRROR_NR_POLICIES];
extern const char *const jm_iostatus_names[DM_JOBMIRROR_NR_IOSTATUSES];
extern const char *const jm_io_names[DM_JOBMIRROR_NR_IO_STATES];
extern const char *const jm_copy_mode_names[DM_JOBMIRROR_NR_COPY_MODES];
extern const char *const jm_op_names[DM_JOBMIRROR_NR_OPS];
extern const char *const jm_event_names[DM_JOBMIRROR_NR_EVENTS];
extern const char *const jm_msg_names[DM_JOBMIRROR_NR_MSGS];
extern const unsigned int jm_msg_nargs[DM_JOBMIRROR_NR_MSGS];

/*
 * Whether the newest header on a mirror's metadata device may hold the
 * completed flag of a pivot that did not happen (its commit failed, and
 * so did the one taking the flag back): a crash now would map the device
 * to the dest.  Caller holds jm->lock.
 */
static inline bool jm_flag_in_doubt(struct jobmirror *jm)
{
	return READ_ONCE(jm->meta_says_completed) && !jm->pivot_durable;
}

/* Whether two user writes' sectors (jm_bio.iter, kept at map) overlap. */
static inline bool jm_writes_overlap(const struct jm_bio *a, const struct jm_bio *b)
{
	return a->iter.bi_sector < bvec_iter_end_sector(b->iter) &&
	       b->iter.bi_sector < bvec_iter_end_sector(a->iter);
}

/*
 * Take every bio of @from, a list under jobmirror.lock, to send them
 * outside the lock.
 */
static inline struct bio_list jm_take_bios(struct jobmirror *jm, struct bio_list *from)
{
	struct bio_list list;

	spin_lock_irq(&jm->lock);
	list = *from;
	bio_list_init(from);
	spin_unlock_irq(&jm->lock);
	return list;
}

#endif /* DM_JOBMIRROR_INTERNAL_H */
