// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of dmtool's parsers: the target's status and table
 * lines, numbers and sizes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "jmstatus.h"

TEST(status_line_parses)
{
	struct jm_status st;

	ASSERT_EQ(0, jm_parse_status("mirror ready 4096/8192 3/1024 nospace hung 7 1048576 "
				     "1/2/3 42 write:enospc read:eio", &st));
	EXPECT_EQ(DM_JOBMIRROR_MODE_MIRROR, st.mode);
	EXPECT_EQ(DM_JOBMIRROR_STATE_READY, st.state);
	EXPECT_EQ(4096, st.offset);
	EXPECT_EQ(8192, st.len);
	EXPECT_EQ(3, st.dirty);
	EXPECT_EQ(1024, st.regions);
	EXPECT_EQ(DM_JOBMIRROR_IOSTATUS_NOSPACE, st.iostatus);
	EXPECT_EQ(DM_JOBMIRROR_IO_HUNG, st.io);
	EXPECT_EQ(7, st.held);
	EXPECT_EQ(1048576, st.speed);
	EXPECT_EQ(1, st.src_errors);
	EXPECT_EQ(2, st.dst_errors);
	EXPECT_EQ(3, st.io_errors);
	EXPECT_EQ(42, st.event_seq);
	EXPECT_STREQ("write:enospc", st.stop_reason);
	EXPECT_STREQ("read:eio", st.job_error);
	EXPECT_EQ(50.0, jm_progress(&st));
}

TEST(status_line_every_state_and_io_name)
{
	static const char *const states[] = {
		"running", "paused", "ready", "standby", "completed", "cancelled", "failed"
	};
	static const char *const ios[] = { "running", "hung", "stopped" };
	struct jm_status st;
	char line[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(states); i++) {
		snprintf(line, sizeof(line), "stream %s 0/0 0/1 ok %s 0 0 0/0/0 0 - -",
			 states[i], ios[i % 3]);
		ASSERT_EQ(0, jm_parse_status(line, &st));
		EXPECT_STREQ(states[i], jm_state_names[st.state]);
		EXPECT_STREQ(ios[i % 3], jm_io_names[st.io]);
		EXPECT_EQ(DM_JOBMIRROR_MODE_STREAM, st.mode);
	}
}

TEST(status_line_rejects_malformed)
{
	static const char *const bad[] = {
		"",
		"mirror running 0/8 1/1 ok running 0 0 0/0/0 0 -",		/* 11 words */
		"mirror running 0/8 1/1 ok running 0 0 0/0/0 0 - - x",	/* 13 words */
		"mirror bogus 0/8 1/1 ok running 0 0 0/0/0 0 - -",
		"copy running 0/8 1/1 ok running 0 0 0/0/0 0 - -",
		"mirror running 0-8 1/1 ok running 0 0 0/0/0 0 - -",
		"mirror running 0/8 1/1 fine running 0 0 0/0/0 0 - -",
		"mirror running 0/8 1/1 ok walking 0 0 0/0/0 0 - -",
		"mirror running 0/8 1/1 ok running x 0 0/0/0 0 - -",
		"mirror running 0/8 1/1 ok running 0 0 0/0 0 - -",
		"mirror running 0/8 1/1 ok running 0 0 0/0/0 -1 - -",
		"mirror running 0/99999999999999999999 1/1 ok running 0 0 0/0/0 0 - -",
	};
	struct jm_status st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, jm_parse_status(bad[i], &st)) {
			TH_LOG("accepted: \"%s\"", bad[i]);
		}
}

TEST(table_line_parses_normalised_and_short)
{
	struct jm_table tb;

	ASSERT_EQ(0, jm_parse_table("mirror 1:0 1:1 - 128 17 on_source_error stop "
				    "on_target_error enospc rerror ignore werror stop "
				    "io_hang_timeout 30 io_hang_interval 250 speed 1000 "
				    "copy_mode write_blocking start_paused", &tb));
	EXPECT_STREQ("1:0", tb.source);
	EXPECT_STREQ("1:1", tb.dest);
	EXPECT_STREQ("-", tb.metadata);
	EXPECT_EQ(128, tb.region_sectors);
	EXPECT_EQ(DM_JOBMIRROR_POLICY_STOP, tb.policy[0]);
	EXPECT_EQ(DM_JOBMIRROR_POLICY_ENOSPC, tb.policy[1]);
	EXPECT_EQ(DM_JOBMIRROR_POLICY_IGNORE, tb.policy[2]);
	EXPECT_EQ(DM_JOBMIRROR_POLICY_STOP, tb.policy[3]);
	EXPECT_EQ(30, tb.io_hang_timeout);
	EXPECT_EQ(250, tb.io_hang_interval);
	EXPECT_EQ(1000, tb.speed);
	EXPECT_EQ(DM_JOBMIRROR_COPY_WRITE_BLOCKING, tb.copy_mode);
	EXPECT_TRUE(tb.start_paused);

	ASSERT_EQ(0, jm_parse_table("stream 8:0 8:16 8:32 8", &tb));
	EXPECT_EQ(DM_JOBMIRROR_POLICY_ENOSPC, tb.policy[3]);
	EXPECT_EQ(1000, tb.io_hang_interval);
	EXPECT_FALSE(tb.start_paused);

	EXPECT_EQ(-EINVAL, jm_parse_table("mirror 1:0 1:1 - 128 2 speed", &tb));
	EXPECT_EQ(-EINVAL, jm_parse_table("mirror 1:0 1:1 - 128 2 rerror maybe", &tb));
	EXPECT_EQ(-EINVAL, jm_parse_table("mirror 1:0 1:1 -", &tb));
}

TEST(numbers)
{
	uint64_t v;

	EXPECT_EQ(0, jm_parse_uint("0", 10, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, jm_parse_uint("18446744073709551615", UINT64_MAX, &v));
	EXPECT_EQ(UINT64_MAX, v);
	EXPECT_EQ(-ERANGE, jm_parse_uint("18446744073709551616", UINT64_MAX, &v));
	EXPECT_EQ(-ERANGE, jm_parse_uint("11", 10, &v));
	EXPECT_EQ(-EINVAL, jm_parse_uint("-1", 10, &v));
	EXPECT_EQ(-EINVAL, jm_parse_uint(" 1", 10, &v));
	EXPECT_EQ(-EINVAL, jm_parse_uint("1x", 10, &v));
	EXPECT_EQ(-EINVAL, jm_parse_uint("", 10, &v));
}

TEST(sizes)
{
	uint64_t v;

	EXPECT_EQ(0, jm_parse_size("64K", 1, &v));
	EXPECT_EQ(65536, v);
	EXPECT_EQ(0, jm_parse_size("64KiB", 1, &v));
	EXPECT_EQ(65536, v);
	EXPECT_EQ(0, jm_parse_size("1m", 1, &v));
	EXPECT_EQ(1048576, v);
	EXPECT_EQ(0, jm_parse_size("2G", 1, &v));
	EXPECT_EQ(2147483648ULL, v);
	EXPECT_EQ(0, jm_parse_size("3TB", 1, &v));
	EXPECT_EQ(3ULL << 40, v);
	EXPECT_EQ(0, jm_parse_size("100", 512, &v));
	EXPECT_EQ(51200, v);
	EXPECT_EQ(0, jm_parse_size("0", 1, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(-ERANGE, jm_parse_size("16E", 1, &v));
	EXPECT_EQ(-ERANGE, jm_parse_size("99999999999999999999", 1, &v));
	EXPECT_EQ(-EINVAL, jm_parse_size("12X", 1, &v));
	EXPECT_EQ(-EINVAL, jm_parse_size("K", 1, &v));
	EXPECT_EQ(-EINVAL, jm_parse_size("1KiBs", 1, &v));
	EXPECT_EQ(-EINVAL, jm_parse_size("-1K", 1, &v));
}

TEST(names_come_from_the_uapi_lists)
{
	EXPECT_EQ(DM_JOBMIRROR_NR_STATES, ARRAY_SIZE(jm_state_names));
	EXPECT_EQ(0, jm_lookup("mirror", jm_mode_names, DM_JOBMIRROR_NR_MODES));
	EXPECT_EQ(-1, jm_lookup("Mirror", jm_mode_names, DM_JOBMIRROR_NR_MODES));
	EXPECT_STREQ("enospc", jm_policy_names[DM_JOBMIRROR_DEFAULT_WERROR]);
	EXPECT_STREQ("start_paused", jm_opt_names[DM_JOBMIRROR_OPT_START_PAUSED]);
}

TEST_HARNESS_MAIN
