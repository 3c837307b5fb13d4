// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the table line.  Every class of bad line is rejected with
 * its one-line reason in the kernel log and leaves no device behind; good
 * lines are printed back by "dmsetup table" with every option spelled out.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "jmtest.h"

#define DEV	"jmt-table"
#define SMALL	"jmt-small"
#define LEN	131072ULL	/* 64 MiB; the ram disks hold 256 MiB */

/* Normalised option words for the defaults. */
#define DEFAULT_OPTS "16 on_source_error report on_target_error report rerror report " \
	"werror enospc io_hang_timeout 0 io_hang_interval 1000 speed 0 copy_mode background"

FIXTURE(bad_line) {
	int kmsg;
	int kmsg_all;	/* every line, for what must not be logged */
};

FIXTURE_VARIANT(bad_line) {
	const char *params;
	const char *reason;	/* must appear in the kernel's log line */
	unsigned long long len;	/* 0: LEN */
	const char *read_only;	/* a device set read-only for the test */
	bool zero;		/* source and dest are dm-zero devices of len */
};

#define ZERO0	"jmt-zero0"
#define ZERO1	"jmt-zero1"

FIXTURE_SETUP(bad_line)
{
	ASSERT_EQ(0, jm_sh("[ -b /dev/ram3 ] && [ -b /dev/ram0 ]"));
	if (!jm_exists(SMALL))
		ASSERT_EQ(0, jm_create(SMALL, 0, 2048, "linear", "/dev/ram3 0"));
	ASSERT_FALSE(jm_exists(DEV));
	self->kmsg = jm_kmsg_open();
	ASSERT_LE(0, self->kmsg);
	self->kmsg_all = jm_kmsg_open();
	ASSERT_LE(0, self->kmsg_all);
	if (variant->read_only)
		ASSERT_EQ(0, jm_sh("blockdev --setro %s", variant->read_only));
	if (variant->zero) {
		ASSERT_EQ(0, jm_create(ZERO0, 0, variant->len, "zero", ""));
		ASSERT_EQ(0, jm_create(ZERO1, 0, variant->len, "zero", ""));
	}
}

FIXTURE_TEARDOWN(bad_line)
{
	if (variant->read_only)
		jm_sh("blockdev --setrw %s", variant->read_only);
	if (variant->zero) {
		jm_remove(ZERO0);
		jm_remove(ZERO1);
	}
	close(self->kmsg);
	close(self->kmsg_all);
	if (jm_exists(DEV))
		jm_remove(DEV);
	jm_remove(SMALL);
}

#define BAD(id, p, r) \
	FIXTURE_VARIANT_ADD(bad_line, id) { .params = p, .reason = r }

BAD(too_few_words, "mirror /dev/ram0 /dev/ram1 -",
    "jobmirror: 4 of 5 required words");
BAD(no_words, "", "jobmirror: 0 of 5 required words");
BAD(unknown_mode, "copy /dev/ram0 /dev/ram1 - 128",
    "jobmirror: unknown mode 'copy': use mirror or stream");
BAD(region_not_power_of_two, "mirror /dev/ram0 /dev/ram1 - 100",
    "jobmirror: region_size '100' must be a power of two of at least 8 sectors");
BAD(region_too_small, "mirror /dev/ram0 /dev/ram1 - 4",
    "jobmirror: region_size '4' must be a power of two of at least 8 sectors");
BAD(region_zero, "mirror /dev/ram0 /dev/ram1 - 0",
    "jobmirror: region_size '0' must be a power of two");
BAD(region_not_a_number, "mirror /dev/ram0 /dev/ram1 - 64k",
    "jobmirror: region_size '64k' is not a number of sectors");
BAD(region_negative, "mirror /dev/ram0 /dev/ram1 - -128",
    "jobmirror: region_size '-128' is not a number of sectors");
BAD(region_too_large, "mirror /dev/ram0 /dev/ram1 - 4194304",
    "jobmirror: region_size '4194304' is larger than 2097152 sectors");
BAD(region_overflow, "mirror /dev/ram0 /dev/ram1 - 18446744073709551616",
    "jobmirror: region_size '18446744073709551616' is larger than");
BAD(source_is_dest, "mirror /dev/ram0 /dev/ram0 - 128",
    "jobmirror: source '/dev/ram0' and dest '/dev/ram0' are the same device");
BAD(meta_is_source, "mirror /dev/ram0 /dev/ram1 /dev/ram0 128",
    "jobmirror: the metadata device '/dev/ram0' must differ from source and dest");
BAD(meta_is_dest, "stream /dev/ram0 /dev/ram1 /dev/ram1 128",
    "jobmirror: the metadata device '/dev/ram1' must differ from source and dest");
/* A stream opens its source too: named again, it must be refused cleanly. */
BAD(stream_source_is_dest, "stream /dev/ram0 /dev/ram0 /dev/ram2 128",
    "jobmirror: source '/dev/ram0' and dest '/dev/ram0' are the same device");
BAD(stream_meta_is_source, "stream /dev/ram0 /dev/ram1 /dev/ram0 128",
    "jobmirror: the metadata device '/dev/ram0' must differ from source and dest");
FIXTURE_VARIANT_ADD(bad_line, dest_read_only) {
	.params = "mirror /dev/ram0 /dev/ram4 - 128",
	.reason = "jobmirror: the dest device '/dev/ram4' is read-only",
	.read_only = "/dev/ram4",
};
FIXTURE_VARIANT_ADD(bad_line, meta_read_only) {
	.params = "stream /dev/ram0 /dev/ram1 /dev/ram4 128",
	.reason = "jobmirror: the metadata device '/dev/ram4' is read-only",
	.read_only = "/dev/ram4",
};
FIXTURE_VARIANT_ADD(bad_line, too_many_regions) {
	.params = "mirror /dev/mapper/" ZERO0 " /dev/mapper/" ZERO1 " - 8",
	.reason = "jobmirror: too many regions: 4294967296 of 8 sectors, at most 2147483648; use a larger region_size",
	.len = 1ULL << 35,	/* 16 TiB */
	.zero = true,
};
BAD(no_such_source, "mirror /dev/nonexistent /dev/ram1 - 128",
    "jobmirror: cannot open the source device '/dev/nonexistent'");
BAD(no_such_dest, "mirror /dev/ram0 /dev/nonexistent - 128",
    "jobmirror: cannot open the dest device '/dev/nonexistent'");
BAD(no_such_meta, "mirror /dev/ram0 /dev/ram1 /dev/nonexistent 128",
    "jobmirror: cannot open the metadata device '/dev/nonexistent'");
BAD(dest_too_small, "mirror /dev/ram0 /dev/mapper/" SMALL " - 128",
    "jobmirror: the dest device '/dev/mapper/" SMALL "' is smaller than the target: 2048 < 131072 sectors");
BAD(source_too_small, "mirror /dev/mapper/" SMALL " /dev/ram1 - 128",
    "jobmirror: the source device '/dev/mapper/" SMALL "' is smaller than the target: 2048 < 131072 sectors");
BAD(stream_without_metadata, "stream /dev/ram0 /dev/ram1 - 128",
    "jobmirror: stream mode needs a metadata device, not '-'");
BAD(stream_write_blocking, "stream /dev/ram0 /dev/ram1 /dev/ram2 128 2 copy_mode write_blocking",
    "jobmirror: copy_mode write_blocking is only valid in mirror mode");
BAD(opt_count_not_a_number, "mirror /dev/ram0 /dev/ram1 - 128 two speed 1",
    "jobmirror: #opt_args 'two' is not a number of words");
BAD(opt_count_overflow, "mirror /dev/ram0 /dev/ram1 - 128 4294967296 speed 1",
    "jobmirror: #opt_args '4294967296' is not a number of words");
BAD(opt_count_too_big, "mirror /dev/ram0 /dev/ram1 - 128 4 speed 1",
    "jobmirror: #opt_args says 4 words but only 2 follow");
BAD(opt_extra_word, "mirror /dev/ram0 /dev/ram1 - 128 2 speed 1 extra",
    "jobmirror: extra word 'extra' after the 2 optional argument words");
BAD(extra_word_no_count, "mirror /dev/ram0 /dev/ram1 - 128 speed",
    "jobmirror: #opt_args 'speed' is not a number of words");
BAD(opt_unknown, "mirror /dev/ram0 /dev/ram1 - 128 2 frobnicate 1",
    "jobmirror: unknown optional argument 'frobnicate'");
BAD(opt_missing_value, "mirror /dev/ram0 /dev/ram1 - 128 1 speed",
    "jobmirror: optional argument 'speed' needs a value");
BAD(opt_twice, "mirror /dev/ram0 /dev/ram1 - 128 4 speed 1 speed 2",
    "jobmirror: optional argument 'speed' is given twice");
BAD(policy_unknown, "mirror /dev/ram0 /dev/ram1 - 128 2 rerror retry",
    "jobmirror: rerror 'retry' is not a policy: use report, ignore, stop or enospc");
BAD(policy_source_unknown, "mirror /dev/ram0 /dev/ram1 - 128 2 on_source_error Report",
    "jobmirror: on_source_error 'Report' is not a policy");
BAD(policy_target_unknown, "mirror /dev/ram0 /dev/ram1 - 128 2 on_target_error 1",
    "jobmirror: on_target_error '1' is not a policy");
BAD(policy_werror_unknown, "mirror /dev/ram0 /dev/ram1 - 128 2 werror -",
    "jobmirror: werror '-' is not a policy");
BAD(speed_overflow, "mirror /dev/ram0 /dev/ram1 - 128 2 speed 18446744073709551616",
    "jobmirror: speed '18446744073709551616' is out of range: 0 to 18446744073709551615 bytes/s");
BAD(speed_suffix, "mirror /dev/ram0 /dev/ram1 - 128 2 speed 10M",
    "jobmirror: speed '10M' is not a number of bytes/s");
BAD(speed_negative, "mirror /dev/ram0 /dev/ram1 - 128 2 speed -1",
    "jobmirror: speed '-1' is not a number of bytes/s");
BAD(hang_timeout_too_big, "mirror /dev/ram0 /dev/ram1 - 128 2 io_hang_timeout 86401",
    "jobmirror: io_hang_timeout '86401' is out of range: 0 to 86400 seconds");
BAD(hang_timeout_overflow, "mirror /dev/ram0 /dev/ram1 - 128 2 io_hang_timeout 99999999999999999999",
    "jobmirror: io_hang_timeout '99999999999999999999' is out of range");
BAD(hang_interval_zero, "mirror /dev/ram0 /dev/ram1 - 128 2 io_hang_interval 0",
    "jobmirror: io_hang_interval '0' is out of range: 1 to 3600000 milliseconds");
BAD(hang_interval_word, "mirror /dev/ram0 /dev/ram1 - 128 2 io_hang_interval 1s",
    "jobmirror: io_hang_interval '1s' is not a number of milliseconds");
BAD(copy_mode_unknown, "mirror /dev/ram0 /dev/ram1 - 128 2 copy_mode sync",
    "jobmirror: copy_mode 'sync' is not background or write_blocking");
BAD(start_paused_with_value, "mirror /dev/ram0 /dev/ram1 - 128 2 start_paused yes",
    "jobmirror: unknown optional argument 'yes'");
FIXTURE_VARIANT_ADD(bad_line, longer_than_devices) {
	.params = "mirror /dev/ram0 /dev/ram1 - 128",
	.reason = "jobmirror: the source device '/dev/ram0' is smaller than the target: 524288 < 1048576 sectors",
	.len = 1048576,	/* 512 MiB */
};

TEST_F(bad_line, rejected)
{
	unsigned long long len = variant->len ? variant->len : LEN;
	char line[512];
	int r;

	r = jm_create(DEV, 0, len, "jobmirror", variant->params);
	EXPECT_NE(0, r);
	EXPECT_FALSE(jm_exists(DEV)) {
		TH_LOG("a failed create left %s behind", DEV);
	}
	EXPECT_TRUE(jm_kmsg_find(self->kmsg, variant->reason, line, sizeof(line))) {
		TH_LOG("no kernel log line with \"%s\"", variant->reason);
	}
	if (jm_kmsg_find(self->kmsg, "jobmirror:", line, sizeof(line)))
		TH_LOG("second message: %s", line);
	/* Every device handle the target took was given back as taken. */
	EXPECT_FALSE(jm_kmsg_find(self->kmsg_all, "not in table devices list", line,
				  sizeof(line))) {
		TH_LOG("%s", line);
	}
}

/* Good lines and how the target prints them back. */
FIXTURE(good_line) {
};

FIXTURE_VARIANT(good_line) {
	const char *params;
	const char *table;
};

FIXTURE_SETUP(good_line)
{
	ASSERT_FALSE(jm_exists(DEV));
}

FIXTURE_TEARDOWN(good_line)
{
	if (jm_exists(DEV))
		jm_remove(DEV);
}

FIXTURE_VARIANT_ADD(good_line, minimal) {
	.params = "mirror /dev/ram0 /dev/ram1 - 128",
	.table = "mirror 1:0 1:1 - 128 " DEFAULT_OPTS,
};
FIXTURE_VARIANT_ADD(good_line, major_minor_and_metadata) {
	.params = "mirror 1:0 1:1 1:2 8",
	.table = "mirror 1:0 1:1 1:2 8 " DEFAULT_OPTS,
};
FIXTURE_VARIANT_ADD(good_line, empty_opt_group) {
	.params = "mirror /dev/ram0 /dev/ram1 - 2097152 0",
	.table = "mirror 1:0 1:1 - 2097152 " DEFAULT_OPTS,
};
FIXTURE_VARIANT_ADD(good_line, every_option_any_order) {
	.params = "mirror /dev/ram1 /dev/ram0 - 1024 17 start_paused copy_mode write_blocking "
		  "speed 18446744073709551615 werror stop rerror ignore io_hang_interval 250 "
		  "io_hang_timeout 86400 on_target_error enospc on_source_error stop",
	.table = "mirror 1:1 1:0 - 1024 17 on_source_error stop on_target_error enospc "
		 "rerror ignore werror stop io_hang_timeout 86400 io_hang_interval 250 "
		 "speed 18446744073709551615 copy_mode write_blocking start_paused",
};

TEST_F(good_line, printed_back)
{
	char buf[1024];

	ASSERT_EQ(0, jm_create(DEV, 0, LEN, "jobmirror", variant->params));
	ASSERT_EQ(0, jm_get_params(DEV, false, buf, sizeof(buf)));
	EXPECT_STREQ(variant->table, buf);
	/* The printed line is itself a valid table line. */
	ASSERT_EQ(0, jm_remove(DEV));
	ASSERT_EQ(0, jm_create(DEV, 0, LEN, "jobmirror", buf));
	ASSERT_EQ(0, jm_get_params(DEV, false, buf, sizeof(buf)));
	EXPECT_STREQ(variant->table, buf);
}

TEST_HARNESS_MAIN
