/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dm-jobmirror: names shared by the kernel target and its userspace tools.
 *
 * Every word that crosses the kernel/user boundary (table line keys,
 * modes, states, policies, event names, uevent variables and the order of
 * the status fields) is defined here once.  Each list is an "X macro": the
 * user passes a macro X(ID, "word") and gets one expansion per entry, so
 * an enum and its name table are always generated from the same list.
 */
#ifndef _UAPI_LINUX_DM_JOBMIRROR_H
#define _UAPI_LINUX_DM_JOBMIRROR_H

#define DM_JOBMIRROR_TARGET_NAME	"jobmirror"
#define DM_JOBMIRROR_VERSION_MAJOR	0
#define DM_JOBMIRROR_VERSION_MINOR	4
#define DM_JOBMIRROR_VERSION_PATCH	0

/* Job modes (table word 1). */
#define DM_JOBMIRROR_MODES(X)		\
	X(MIRROR, "mirror")		\
	X(STREAM, "stream")

/* Job states. */
#define DM_JOBMIRROR_STATES(X)		\
	X(RUNNING, "running")		\
	X(PAUSED, "paused")		\
	X(READY, "ready")		\
	X(STANDBY, "standby")		\
	X(COMPLETED, "completed")	\
	X(CANCELLED, "cancelled")	\
	X(FAILED, "failed")

/* Error policies, for jobs (on_*_error) and user I/O (rerror, werror). */
#define DM_JOBMIRROR_POLICIES(X)	\
	X(REPORT, "report")		\
	X(IGNORE, "ignore")		\
	X(STOP, "stop")			\
	X(ENOSPC, "enospc")

/* The job's iostatus. */
#define DM_JOBMIRROR_IOSTATUSES(X)	\
	X(OK, "ok")			\
	X(FAILED, "failed")		\
	X(NOSPACE, "nospace")

/* The state of user I/O. */
#define DM_JOBMIRROR_IO_STATES(X)	\
	X(RUNNING, "running")		\
	X(HUNG, "hung")			\
	X(STOPPED, "stopped")

/* Copy modes (mirror only). */
#define DM_JOBMIRROR_COPY_MODES(X)	\
	X(BACKGROUND, "background")	\
	X(WRITE_BLOCKING, "write_blocking")

/* Operations named in events, stop_reason and job_error. */
#define DM_JOBMIRROR_OPS(X)		\
	X(READ, "read")			\
	X(WRITE, "write")

/* Values of DM_JOBMIRROR_EVENT. */
#define DM_JOBMIRROR_EVENTS(X)				\
	X(JOB_READY, "JOB_READY")			\
	X(JOB_COMPLETED, "JOB_COMPLETED")		\
	X(JOB_CANCELLED, "JOB_CANCELLED")		\
	X(JOB_FAILED, "JOB_FAILED")			\
	X(JOB_ERROR, "JOB_ERROR")			\
	X(JOB_PAUSED, "JOB_PAUSED")			\
	X(JOB_RESUMED, "JOB_RESUMED")			\
	X(IO_ERROR, "IO_ERROR")				\
	X(IO_HANG, "IO_HANG")				\
	X(IO_HANG_RECOVERED, "IO_HANG_RECOVERED")	\
	X(IO_HANG_TIMEOUT, "IO_HANG_TIMEOUT")		\
	X(IO_CONTINUED, "IO_CONTINUED")

/*
 * Optional table arguments: key, number of value words that follow it.
 * The table line printed back by the target lists them in this order.
 */
#define DM_JOBMIRROR_OPT_ARGS(X)				\
	X(ON_SOURCE_ERROR, "on_source_error", 1)		\
	X(ON_TARGET_ERROR, "on_target_error", 1)		\
	X(RERROR, "rerror", 1)					\
	X(WERROR, "werror", 1)					\
	X(IO_HANG_TIMEOUT, "io_hang_timeout", 1)		\
	X(IO_HANG_INTERVAL, "io_hang_interval", 1)		\
	X(SPEED, "speed", 1)					\
	X(COPY_MODE, "copy_mode", 1)				\
	X(START_PAUSED, "start_paused", 0)

/* Messages accepted by "dmsetup message <dev> 0 <message>". */
#define DM_JOBMIRROR_MESSAGES(X)	\
	X(PAUSE, "pause", 0)		\
	X(RESUME, "resume", 0)		\
	X(CANCEL, "cancel", 0)		\
	X(COMPLETE, "complete", 0)	\
	X(SET_SPEED, "set_speed", 1)	\
	X(CONTINUE, "continue", 0)

/*
 * Fields of the INFO status line, in order.  offset/len, dirty/regions
 * and the three error counters are each one space separated word.
 */
#define DM_JOBMIRROR_STATUS_FIELDS(X)		\
	X(MODE, "mode")				\
	X(STATE, "state")			\
	X(PROGRESS, "offset/len")		\
	X(DIRTY, "dirty/regions")		\
	X(IOSTATUS, "iostatus")			\
	X(IO, "io")				\
	X(HELD, "held")				\
	X(SPEED, "speed")			\
	X(ERRORS, "src_errors/dst_errors/io_errors") \
	X(EVENT_SEQ, "event_seq")		\
	X(STOP_REASON, "stop_reason")		\
	X(JOB_ERROR, "job_error")

/* Defaults of the optional arguments. */
#define DM_JOBMIRROR_DEFAULT_ON_SOURCE_ERROR	DM_JOBMIRROR_POLICY_REPORT
#define DM_JOBMIRROR_DEFAULT_ON_TARGET_ERROR	DM_JOBMIRROR_POLICY_REPORT
#define DM_JOBMIRROR_DEFAULT_RERROR		DM_JOBMIRROR_POLICY_REPORT
#define DM_JOBMIRROR_DEFAULT_WERROR		DM_JOBMIRROR_POLICY_ENOSPC
#define DM_JOBMIRROR_DEFAULT_IO_HANG_TIMEOUT	0	/* seconds, 0 = off */
#define DM_JOBMIRROR_DEFAULT_IO_HANG_INTERVAL	1000	/* milliseconds */
#define DM_JOBMIRROR_DEFAULT_SPEED		0	/* bytes/s, 0 = unlimited */

/* Limits of the table line. */
#define DM_JOBMIRROR_MIN_REGION_SECTORS		8		/* 4 KiB */
#define DM_JOBMIRROR_MAX_REGION_SECTORS		(1U << 21)	/* 1 GiB */
#define DM_JOBMIRROR_MAX_IO_HANG_TIMEOUT	86400		/* seconds */
#define DM_JOBMIRROR_MIN_IO_HANG_INTERVAL	1		/* ms */
#define DM_JOBMIRROR_MAX_IO_HANG_INTERVAL	3600000		/* ms */

/* The metadata word that means "no metadata device". */
#define DM_JOBMIRROR_NO_METADATA		"-"

/* uevent variables (besides DM_TARGET, DM_NAME and DM_UUID). */
#define DM_JOBMIRROR_UEV_EVENT			"DM_JOBMIRROR_EVENT"
#define DM_JOBMIRROR_UEV_SEQ			"DM_JOBMIRROR_SEQ"
#define DM_JOBMIRROR_UEV_STATE			"DM_JOBMIRROR_STATE"
#define DM_JOBMIRROR_UEV_IOSTATUS		"DM_JOBMIRROR_IOSTATUS"
#define DM_JOBMIRROR_UEV_OFFSET			"DM_JOBMIRROR_OFFSET"
#define DM_JOBMIRROR_UEV_LEN			"DM_JOBMIRROR_LEN"
#define DM_JOBMIRROR_UEV_OPERATION		"DM_JOBMIRROR_OPERATION"
#define DM_JOBMIRROR_UEV_ACTION			"DM_JOBMIRROR_ACTION"
#define DM_JOBMIRROR_UEV_REASON			"DM_JOBMIRROR_REASON"
#define DM_JOBMIRROR_UEV_SECTOR			"DM_JOBMIRROR_SECTOR"
#define DM_JOBMIRROR_UEV_SUPPRESSED		"DM_JOBMIRROR_SUPPRESSED"

/* Enums generated from the lists above. */
#define __DM_JM_MODE(id, name)		DM_JOBMIRROR_MODE_##id,
#define __DM_JM_STATE(id, name)		DM_JOBMIRROR_STATE_##id,
#define __DM_JM_POLICY(id, name)	DM_JOBMIRROR_POLICY_##id,
#define __DM_JM_IOSTATUS(id, name)	DM_JOBMIRROR_IOSTATUS_##id,
#define __DM_JM_IO(id, name)		DM_JOBMIRROR_IO_##id,
#define __DM_JM_COPY(id, name)		DM_JOBMIRROR_COPY_##id,
#define __DM_JM_OP(id, name)		DM_JOBMIRROR_OP_##id,
#define __DM_JM_EVENT(id, name)		DM_JOBMIRROR_EVENT_##id,
#define __DM_JM_OPT(id, name, n)	DM_JOBMIRROR_OPT_##id,
#define __DM_JM_MSG(id, name, n)	DM_JOBMIRROR_MSG_##id,
#define __DM_JM_FIELD(id, name)		DM_JOBMIRROR_FIELD_##id,

enum dm_jobmirror_mode {
	DM_JOBMIRROR_MODES(__DM_JM_MODE) DM_JOBMIRROR_NR_MODES
};

enum dm_jobmirror_state {
	DM_JOBMIRROR_STATES(__DM_JM_STATE) DM_JOBMIRROR_NR_STATES
};

enum dm_jobmirror_policy {
	DM_JOBMIRROR_POLICIES(__DM_JM_POLICY) DM_JOBMIRROR_NR_POLICIES
};

enum dm_jobmirror_iostatus {
	DM_JOBMIRROR_IOSTATUSES(__DM_JM_IOSTATUS) DM_JOBMIRROR_NR_IOSTATUSES
};

enum dm_jobmirror_io {
	DM_JOBMIRROR_IO_STATES(__DM_JM_IO) DM_JOBMIRROR_NR_IO_STATES
};

enum dm_jobmirror_copy_mode {
	DM_JOBMIRROR_COPY_MODES(__DM_JM_COPY) DM_JOBMIRROR_NR_COPY_MODES
};

enum dm_jobmirror_op {
	DM_JOBMIRROR_OPS(__DM_JM_OP) DM_JOBMIRROR_NR_OPS
};

enum dm_jobmirror_event {
	DM_JOBMIRROR_EVENTS(__DM_JM_EVENT) DM_JOBMIRROR_NR_EVENTS
};

enum dm_jobmirror_opt {
	DM_JOBMIRROR_OPT_ARGS(__DM_JM_OPT) DM_JOBMIRROR_NR_OPTS
};

enum dm_jobmirror_msg {
	DM_JOBMIRROR_MESSAGES(__DM_JM_MSG) DM_JOBMIRROR_NR_MSGS
};

enum dm_jobmirror_field {
	DM_JOBMIRROR_STATUS_FIELDS(__DM_JM_FIELD) DM_JOBMIRROR_NR_FIELDS
};

/* Helpers to build name tables: static const char *const t[] = {...}. */
#define DM_JOBMIRROR_NAME_OF(id, name)		name,
#define DM_JOBMIRROR_NAME_OF3(id, name, n)	name,

#endif /* _UAPI_LINUX_DM_JOBMIRROR_H */
