// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: user I/O through a mirror device reaches the source.
 * Data written with O_DIRECT (plain, O_DSYNC/FUA, after flushes) reads
 * back identical through the device and from the source; write-zeroes
 * zeroes the source; discards are passed down or refused cleanly; a
 * segment that does not start at sector 0 maps onto the source's start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

#include "kselftest_harness.h"
#include "jmtest.h"

#define DEV	"jmt-io"
#define DEVPATH	"/dev/mapper/" DEV
#define SRC	"/dev/ram4"
#define DST	"/dev/ram5"
#define LEN	131072ULL	/* sectors: 64 MiB */
#define MAXIO	(1 << 20)

static void fill_random(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	srandom(seed);
	for (i = 0; i < len; i++)
		p[i] = random() & 0xff;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n == (ssize_t)len ? 0 : -1;
}

FIXTURE(mirror_io) {
	int fd;		/* the jobmirror device, O_DIRECT */
	int src;	/* the source, O_DIRECT */
	void *wbuf, *rbuf;
};

FIXTURE_SETUP(mirror_io)
{
	ASSERT_EQ(0, jm_sh("dd if=/dev/zero of=" SRC " bs=1M count=64 oflag=direct status=none"));
	if (jm_exists(DEV))
		jm_remove(DEV);
	ASSERT_EQ(0, jm_create(DEV, 0, LEN, "jobmirror", "mirror " SRC " " DST " - 128"));
	self->fd = open(DEVPATH, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd);
	self->src = open(SRC, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, self->src);
	ASSERT_EQ(0, posix_memalign(&self->wbuf, 4096, MAXIO));
	ASSERT_EQ(0, posix_memalign(&self->rbuf, 4096, MAXIO));
}

FIXTURE_TEARDOWN(mirror_io)
{
	close(self->fd);
	close(self->src);
	free(self->wbuf);
	free(self->rbuf);
	jm_remove(DEV);
}

/* Offsets and sizes in bytes: aligned, odd sizes, region-crossing, last block. */
static const struct { off_t off; size_t len; } ios[] = {
	{ 0, 4096 },
	{ 4096, 512 },
	{ 65536 - 512, 1024 },		/* crosses a 64 KiB region boundary */
	{ 1 << 20, MAXIO },
	{ 3 * 65536 + 4096, 3 * 65536 },
	{ LEN * 512 - 8192, 8192 },	/* the last 8 KiB */
};

TEST_F(mirror_io, direct_writes_reach_source)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ios); i++) {
		fill_random(self->wbuf, ios[i].len, i + 1);
		ASSERT_EQ((ssize_t)ios[i].len,
			  pwrite(self->fd, self->wbuf, ios[i].len, ios[i].off));
	}
	for (i = 0; i < ARRAY_SIZE(ios); i++) {
		fill_random(self->wbuf, ios[i].len, i + 1);
		ASSERT_EQ(0, pread_all(self->fd, self->rbuf, ios[i].len, ios[i].off));
		EXPECT_EQ(0, memcmp(self->wbuf, self->rbuf, ios[i].len)) {
			TH_LOG("device data differs at offset %lld", (long long)ios[i].off);
		}
		ASSERT_EQ(0, pread_all(self->src, self->rbuf, ios[i].len, ios[i].off));
		EXPECT_EQ(0, memcmp(self->wbuf, self->rbuf, ios[i].len)) {
			TH_LOG("source data differs at offset %lld", (long long)ios[i].off);
		}
	}
}

TEST_F(mirror_io, fua_and_flush)
{
	int fd = open(DEVPATH, O_RDWR | O_DIRECT | O_DSYNC);

	ASSERT_LE(0, fd);
	fill_random(self->wbuf, 65536, 42);
	/* O_DIRECT|O_DSYNC writes are sent with REQ_FUA. */
	ASSERT_EQ(65536, pwrite(fd, self->wbuf, 65536, 8 << 20));
	/* An empty flush goes through the target to the devices. */
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fdatasync(self->fd));
	close(fd);
	ASSERT_EQ(0, pread_all(self->src, self->rbuf, 65536, 8 << 20));
	EXPECT_EQ(jm_hash(self->wbuf, 65536), jm_hash(self->rbuf, 65536));
}

TEST_F(mirror_io, write_zeroes_reach_source)
{
	uint64_t range[2] = { 2 << 20, 1 << 20 };
	unsigned int i;

	fill_random(self->wbuf, MAXIO, 7);
	ASSERT_EQ(MAXIO, pwrite(self->fd, self->wbuf, MAXIO, range[0]));
	ASSERT_EQ(0, ioctl(self->fd, BLKZEROOUT, range));
	ASSERT_EQ(0, pread_all(self->src, self->rbuf, MAXIO, range[0]));
	for (i = 0; i < MAXIO; i++)
		if (((unsigned char *)self->rbuf)[i])
			break;
	EXPECT_EQ((unsigned int)MAXIO, i) {
		TH_LOG("source byte %u is not zero after BLKZEROOUT", i);
	}
}

TEST_F(mirror_io, discard_passed_or_refused)
{
	uint64_t range[2] = { 4 << 20, 1 << 20 };
	int r = ioctl(self->fd, BLKDISCARD, range);

	/* Either the source takes it, or the device says it cannot. */
	if (r)
		EXPECT_EQ(EOPNOTSUPP, errno);
	/* The device still works afterwards. */
	fill_random(self->wbuf, 4096, 9);
	ASSERT_EQ(4096, pwrite(self->fd, self->wbuf, 4096, range[0]));
	ASSERT_EQ(0, pread_all(self->src, self->rbuf, 4096, range[0]));
	EXPECT_EQ(0, memcmp(self->wbuf, self->rbuf, 4096));
}

TEST_F(mirror_io, io_past_the_end_fails)
{
	ASSERT_EQ(0, pread(self->fd, self->rbuf, 4096, LEN * 512));
	EXPECT_EQ(-1, pwrite(self->fd, self->wbuf, 4096, LEN * 512));
}

/* A jobmirror segment after another one maps its first sector to the source's first. */
TEST(offset_segment)
{
	static const char *const table[] = {
		"0 2048 zero",
		"2048 131072 jobmirror mirror " SRC " " DST " - 128",
	};
	void *wbuf, *rbuf;
	int fd, src;

	ASSERT_EQ(0, posix_memalign(&wbuf, 4096, 65536));
	ASSERT_EQ(0, posix_memalign(&rbuf, 4096, 65536));
	if (jm_exists(DEV))
		jm_remove(DEV);
	ASSERT_EQ(0, jm_create_table(DEV, table, 2));
	fd = open(DEVPATH, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	src = open(SRC, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, src);
	fill_random(wbuf, 65536, 3);
	ASSERT_EQ(65536, pwrite(fd, wbuf, 65536, 2048 * 512));
	ASSERT_EQ(0, pread_all(src, rbuf, 65536, 0));
	EXPECT_EQ(0, memcmp(wbuf, rbuf, 65536));
	close(fd);
	close(src);
	jm_remove(DEV);
	free(wbuf);
	free(rbuf);
}

TEST_HARNESS_MAIN
