// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the table line, parsed, validated and printed back.
 *
 *   <mode> <source> <dest> <metadata> <region_size> [<#opt_args> <opt_args>...]
 *
 * Device words are only checked for form here; opening the devices and
 * comparing them is the constructor's job (dm-jobmirror-target.c).
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/log2.h>
#include <linux/atomic.h>

#include "dm-jobmirror.h"

const char *const jm_mode_names[DM_JOBMIRROR_NR_MODES] = {
	DM_JOBMIRROR_MODES(DM_JOBMIRROR_NAME_OF)
};

const char *const jm_state_names[DM_JOBMIRROR_NR_STATES] = {
	DM_JOBMIRROR_STATES(DM_JOBMIRROR_NAME_OF)
};

const char *const jm_policy_names[DM_JOBMIRROR_NR_POLICIES] = {
	DM_JOBMIRROR_POLICIES(DM_JOBMIRROR_NAME_OF)
};

const char *const jm_iostatus_names[DM_JOBMIRROR_NR_IOSTATUSES] = {
	DM_JOBMIRROR_IOSTATUSES(DM_JOBMIRROR_NAME_OF)
};

const char *const jm_io_names[DM_JOBMIRROR_NR_IO_STATES] = {
	DM_JOBMIRROR_IO_STATES(DM_JOBMIRROR_NAME_OF)
};

const char *const jm_copy_mode_names[DM_JOBMIRROR_NR_COPY_MODES] = {
	DM_JOBMIRROR_COPY_MODES(DM_JOBMIRROR_NAME_OF)
};

static const char *const jm_opt_names[DM_JOBMIRROR_NR_OPTS] = {
	DM_JOBMIRROR_OPT_ARGS(DM_JOBMIRROR_NAME_OF3)
};

#define JM_OPT_NVALS(id, name, n)	n,
static const unsigned int jm_opt_nvals[DM_JOBMIRROR_NR_OPTS] = {
	DM_JOBMIRROR_OPT_ARGS(JM_OPT_NVALS)
};

/* Every key with its values, plus nothing else: the most words there can be. */
#define JM_MAX_OPT_WORDS	(2 * DM_JOBMIRROR_NR_OPTS)

/*
 * ti->error must stay valid after the constructor returns, because
 * dm-table prints it then; but our messages name the offending word, so
 * they cannot be string literals.  They are formatted into a small ring of
 * static buffers.  A slot is reused only after JM_ERR_SLOTS later failed
 * constructors, far more than can be between one constructor's return and
 * dm-table's print of its message.
 */
#define JM_ERR_SLOTS	32
#define JM_ERR_LEN	256
static char jm_err_ring[JM_ERR_SLOTS][JM_ERR_LEN];
static atomic_t jm_err_next = ATOMIC_INIT(0);

/**
 * jm_ctr_error() - set a constructor's one-line reason, naming what was wrong.
 * @ti: the target being constructed.
 * @err: the negative errno to return.
 * @fmt: printf format of the reason.
 *
 * Return: @err.
 */
int jm_ctr_error(struct dm_target *ti, int err, const char *fmt, ...)
{
	unsigned int slot = (unsigned int)atomic_inc_return(&jm_err_next) % JM_ERR_SLOTS;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(jm_err_ring[slot], JM_ERR_LEN, fmt, ap);
	va_end(ap);
	ti->error = jm_err_ring[slot];
	return err;
}

/* A bad word in the table line. */
#define jm_fail(ti, ...)	jm_ctr_error(ti, -EINVAL, __VA_ARGS__)

/* Index of @word in @names, or -1. */
static int jm_lookup(const char *word, const char *const *names, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(word, names[i]))
			return i;
	return -1;
}

/**
 * jm_parse_u64() - parse a decimal number that must not exceed @max.
 * @word: the word to parse; only the digits 0-9, no sign, no suffix.
 * @max: the largest value allowed.
 * @out: where the value goes on success.
 *
 * Return: 0, -EINVAL if @word is not a number, -ERANGE if it overflows
 * u64 or exceeds @max.
 */
int jm_parse_u64(const char *word, u64 max, u64 *out)
{
	u64 v;
	int r;

	if (!*word || word[0] == '+' || word[0] == '-')
		return -EINVAL;
	r = kstrtou64(word, 10, &v);
	if (r)
		return r;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int jm_number(struct dm_target *ti, const char *key, const char *word,
		     u64 min, u64 max, const char *unit, u64 *out)
{
	int r = jm_parse_u64(word, max, out);

	if (r == -ERANGE || (!r && *out < min))
		return jm_fail(ti, "%s '%s' is out of range: %llu to %llu %s",
			       key, word, min, max, unit);
	if (r)
		return jm_fail(ti, "%s '%s' is not a number of %s", key, word, unit);
	return 0;
}

static int jm_policy(struct dm_target *ti, const char *key, const char *word,
		     enum dm_jobmirror_policy *out)
{
	int i = jm_lookup(word, jm_policy_names, DM_JOBMIRROR_NR_POLICIES);

	if (i < 0)
		return jm_fail(ti, "%s '%s' is not a policy: use report, ignore, stop or enospc",
			       key, word);
	*out = i;
	return 0;
}

static int jm_parse_opt(struct dm_target *ti, enum dm_jobmirror_opt opt,
			const char *key, const char *val, struct jm_config *cfg)
{
	u64 v;
	int r, i;

	switch (opt) {
	case DM_JOBMIRROR_OPT_ON_SOURCE_ERROR:
		return jm_policy(ti, key, val, &cfg->policy[JM_ON_SOURCE_ERROR]);
	case DM_JOBMIRROR_OPT_ON_TARGET_ERROR:
		return jm_policy(ti, key, val, &cfg->policy[JM_ON_TARGET_ERROR]);
	case DM_JOBMIRROR_OPT_RERROR:
		return jm_policy(ti, key, val, &cfg->policy[JM_RERROR]);
	case DM_JOBMIRROR_OPT_WERROR:
		return jm_policy(ti, key, val, &cfg->policy[JM_WERROR]);
	case DM_JOBMIRROR_OPT_IO_HANG_TIMEOUT:
		r = jm_number(ti, key, val, 0, DM_JOBMIRROR_MAX_IO_HANG_TIMEOUT,
			      "seconds", &v);
		cfg->io_hang_timeout = v;
		return r;
	case DM_JOBMIRROR_OPT_IO_HANG_INTERVAL:
		r = jm_number(ti, key, val, DM_JOBMIRROR_MIN_IO_HANG_INTERVAL,
			      DM_JOBMIRROR_MAX_IO_HANG_INTERVAL, "milliseconds", &v);
		cfg->io_hang_interval = v;
		return r;
	case DM_JOBMIRROR_OPT_SPEED:
		return jm_number(ti, key, val, 0, U64_MAX, "bytes/s", &cfg->speed);
	case DM_JOBMIRROR_OPT_COPY_MODE:
		i = jm_lookup(val, jm_copy_mode_names, DM_JOBMIRROR_NR_COPY_MODES);
		if (i < 0)
			return jm_fail(ti, "copy_mode '%s' is not background or write_blocking",
				       val);
		cfg->copy_mode = i;
		return 0;
	case DM_JOBMIRROR_OPT_START_PAUSED:
		cfg->start_paused = true;
		return 0;
	default:
		return jm_fail(ti, "internal error: option %d has no parser", opt);
	}
}

static int jm_parse_opts(struct dm_target *ti, struct dm_arg_set *as,
			 struct jm_config *cfg)
{
	unsigned long seen = 0;
	const char *key, *val;
	unsigned int nwords;
	int opt, r;
	u64 n;

	if (!as->argc)
		return 0;
	if (jm_parse_u64(as->argv[0], UINT_MAX, &n))
		return jm_fail(ti, "#opt_args '%s' is not a number of words", as->argv[0]);
	nwords = n;
	dm_consume_args(as, 1);
	if (nwords > as->argc)
		return jm_fail(ti, "#opt_args says %u words but only %u follow",
			       nwords, as->argc);
	if (nwords < as->argc)
		return jm_fail(ti, "extra word '%s' after the %u optional argument words",
			       as->argv[nwords], nwords);
	if (nwords > JM_MAX_OPT_WORDS)
		return jm_fail(ti, "#opt_args %u is more than the %u words all options take",
			       nwords, JM_MAX_OPT_WORDS);

	while (as->argc) {
		key = dm_shift_arg(as);
		opt = jm_lookup(key, jm_opt_names, DM_JOBMIRROR_NR_OPTS);
		if (opt < 0)
			return jm_fail(ti, "unknown optional argument '%s'", key);
		if (seen & BIT(opt))
			return jm_fail(ti, "optional argument '%s' is given twice", key);
		seen |= BIT(opt);
		val = NULL;
		if (jm_opt_nvals[opt]) {
			if (!as->argc)
				return jm_fail(ti, "optional argument '%s' needs a value", key);
			val = dm_shift_arg(as);
		}
		r = jm_parse_opt(ti, opt, key, val, cfg);
		if (r)
			return r;
	}
	return 0;
}

/**
 * jm_parse_table() - parse and validate a jobmirror table line.
 * @ti: the target; ti->len is the length the devices must hold and
 *      ti->error receives a one-line reason on failure.
 * @argc: number of words.
 * @argv: the words after the target name.
 * @cfg: filled on success; release with jm_free_config().
 *
 * Checks everything that can be checked without opening a device.
 *
 * Return: 0, or a negative errno with ti->error set and @cfg holding
 * nothing that needs freeing.
 */
int jm_parse_table(struct dm_target *ti, unsigned int argc, char **argv,
		   struct jm_config *cfg)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	const char *mode, *meta, *size;
	u64 region;
	int i, r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->policy[JM_ON_SOURCE_ERROR] = DM_JOBMIRROR_DEFAULT_ON_SOURCE_ERROR;
	cfg->policy[JM_ON_TARGET_ERROR] = DM_JOBMIRROR_DEFAULT_ON_TARGET_ERROR;
	cfg->policy[JM_RERROR] = DM_JOBMIRROR_DEFAULT_RERROR;
	cfg->policy[JM_WERROR] = DM_JOBMIRROR_DEFAULT_WERROR;
	cfg->io_hang_timeout = DM_JOBMIRROR_DEFAULT_IO_HANG_TIMEOUT;
	cfg->io_hang_interval = DM_JOBMIRROR_DEFAULT_IO_HANG_INTERVAL;
	cfg->speed = DM_JOBMIRROR_DEFAULT_SPEED;
	cfg->copy_mode = DM_JOBMIRROR_COPY_BACKGROUND;

	if (argc < 5)
		return jm_fail(ti, "%u of 5 required words: mode source dest metadata region_size",
			       argc);

	mode = dm_shift_arg(&as);
	i = jm_lookup(mode, jm_mode_names, DM_JOBMIRROR_NR_MODES);
	if (i < 0)
		return jm_fail(ti, "unknown mode '%s': use mirror or stream", mode);
	cfg->mode = i;

	cfg->source_path = kstrdup(dm_shift_arg(&as), GFP_KERNEL);
	cfg->dest_path = kstrdup(dm_shift_arg(&as), GFP_KERNEL);
	meta = dm_shift_arg(&as);
	if (strcmp(meta, DM_JOBMIRROR_NO_METADATA))
		cfg->meta_path = kstrdup(meta, GFP_KERNEL);
	else
		meta = NULL;
	if (!cfg->source_path || !cfg->dest_path || (meta && !cfg->meta_path)) {
		jm_free_config(cfg);
		ti->error = "out of memory";
		return -ENOMEM;
	}

	size = dm_shift_arg(&as);
	r = jm_parse_u64(size, DM_JOBMIRROR_MAX_REGION_SECTORS, &region);
	if (r == -ERANGE)
		r = jm_fail(ti, "region_size '%s' is larger than %u sectors",
			    size, DM_JOBMIRROR_MAX_REGION_SECTORS);
	else if (r)
		r = jm_fail(ti, "region_size '%s' is not a number of sectors", size);
	else if (region < DM_JOBMIRROR_MIN_REGION_SECTORS || !is_power_of_2(region))
		r = jm_fail(ti, "region_size '%s' must be a power of two of at least %u sectors",
			    size, DM_JOBMIRROR_MIN_REGION_SECTORS);
	if (r)
		goto bad;
	cfg->region_sectors = region;

	r = jm_parse_opts(ti, &as, cfg);
	if (r)
		goto bad;

	if (cfg->mode == DM_JOBMIRROR_MODE_STREAM && !cfg->meta_path) {
		r = jm_fail(ti, "stream mode needs a metadata device, not '-'");
		goto bad;
	}
	if (cfg->mode == DM_JOBMIRROR_MODE_STREAM &&
	    cfg->copy_mode == DM_JOBMIRROR_COPY_WRITE_BLOCKING) {
		r = jm_fail(ti, "copy_mode write_blocking is only valid in mirror mode");
		goto bad;
	}
	return 0;
bad:
	jm_free_config(cfg);
	return r;
}

/**
 * jm_free_config() - free what jm_parse_table() allocated.
 * @cfg: the config; may be partly filled, and is left empty.
 */
void jm_free_config(struct jm_config *cfg)
{
	kfree(cfg->source_path);
	kfree(cfg->dest_path);
	kfree(cfg->meta_path);
	cfg->source_path = NULL;
	cfg->dest_path = NULL;
	cfg->meta_path = NULL;
}

/**
 * jm_emit_table() - print the table line back with every option spelled out.
 * @cfg: the parsed table.
 * @source: name of the opened source device (major:minor).
 * @dest: name of the opened dest device.
 * @meta: name of the metadata device, or NULL for none.
 * @result: the status buffer.
 * @maxlen: its size.
 * @sz: bytes used so far, updated (DMEMIT convention).
 */
void jm_emit_table(const struct jm_config *cfg, const char *source,
		   const char *dest, const char *meta, char *result,
		   unsigned int maxlen, unsigned int *sz)
{
	unsigned int nwords = 2 * (DM_JOBMIRROR_NR_OPTS - 1) + cfg->start_paused;
	unsigned int i;

	/* The policy options come first and in jm_policy_slot order. */
	BUILD_BUG_ON(DM_JOBMIRROR_OPT_ON_SOURCE_ERROR + JM_WERROR != DM_JOBMIRROR_OPT_WERROR);

	*sz += scnprintf(result + *sz, maxlen - *sz,
			 "%s %s %s %s %llu %u", jm_mode_names[cfg->mode],
			 source, dest, meta ? meta : DM_JOBMIRROR_NO_METADATA,
			 (unsigned long long)cfg->region_sectors, nwords);
	for (i = 0; i < ARRAY_SIZE(cfg->policy); i++)
		*sz += scnprintf(result + *sz, maxlen - *sz, " %s %s",
				 jm_opt_names[DM_JOBMIRROR_OPT_ON_SOURCE_ERROR + i],
				 jm_policy_names[cfg->policy[i]]);
	*sz += scnprintf(result + *sz, maxlen - *sz,
			 " %s %u %s %u %s %llu %s %s",
			 jm_opt_names[DM_JOBMIRROR_OPT_IO_HANG_TIMEOUT], cfg->io_hang_timeout,
			 jm_opt_names[DM_JOBMIRROR_OPT_IO_HANG_INTERVAL], cfg->io_hang_interval,
			 jm_opt_names[DM_JOBMIRROR_OPT_SPEED], cfg->speed,
			 jm_opt_names[DM_JOBMIRROR_OPT_COPY_MODE],
			 jm_copy_mode_names[cfg->copy_mode]);
	if (cfg->start_paused)
		*sz += scnprintf(result + *sz, maxlen - *sz, " %s",
				 jm_opt_names[DM_JOBMIRROR_OPT_START_PAUSED]);
}
