/*
 * pagelab's differential helper: replays a sequential operation stream on a real file and prints
 * each operation's result (bytes or -errno, and the bytes a read returned) and the file's final
 * contents, for src/fsx/differential.test.ts to compare with the model. The test builds it with
 * the machine's gcc into a temporary directory: gcc -O2 -Wall -o replay replay.c
 *
 *   replay probe DIR      what the filesystem of DIR supports, one "key value" per line
 *   replay run FILE       reads ops from stdin, one per line, and runs them on FILE (created empty)
 *
 * Ops (numbers in decimal; "direct" 1 = through an O_DIRECT descriptor of the same file):
 *   W off len direct bufoff salt     pwrite of pattern bytes from a buffer bufoff past a page
 *   R off len direct bufoff          pread
 *   MW off len salt                  mmap(MAP_SHARED) of [off & ~(page-1), off+len), stores in
 *                                    ascending order, msync(MS_SYNC), munmap; SIGBUS = -EFAULT
 *   MR off len                       mmap, loads in ascending order, munmap; SIGBUS = -EFAULT
 *   T size                           ftruncate
 *   F mode off len                   fallocate(mode): the FALLOC_FL_* bits
 *   S                                fsync
 *   C src len dst direct             copy_file_range within the file (the whole length, once)
 * Output: one line per op, "ret size" or, for a read that returned bytes, "ret size hexbytes" (size:
 * the file's size after the op, from fstat); then "size N hexbytes", the whole file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_IO (1 << 20)

static sigjmp_buf bus_jmp;
static long page;

static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* The bytes every writer of the stream writes: the same function as pattern() in differential.ts. */
static unsigned char pattern(unsigned salt, unsigned long pos)
{
	return (unsigned char)(salt * 151u + pos * 7u + (pos >> 8) * 3u + 1u);
}

static void hex(const unsigned char *p, long n)
{
	static const char digits[] = "0123456789abcdef";
	for (long i = 0; i < n; i++) {
		putchar(digits[p[i] >> 4]);
		putchar(digits[p[i] & 15]);
	}
}

static long result(long ret)
{
	return ret < 0 ? -errno : ret;
}

/* What one op returned: bytes or -errno, and the bytes a read brought back (data, n). */
struct outcome {
	long ret;
	const unsigned char *data;
	long n;
};

static struct outcome plain(long ret)
{
	struct outcome o = { ret, NULL, 0 };
	return o;
}

static struct outcome op_write(int fd, unsigned char *buf, long off, long len, long bufoff, unsigned salt)
{
	for (long i = 0; i < len; i++)
		buf[bufoff + i] = pattern(salt, off + i);
	return plain(result(pwrite(fd, buf + bufoff, len, off)));
}

static struct outcome op_read(int fd, unsigned char *buf, long off, long len, long bufoff)
{
	struct outcome o = plain(result(pread(fd, buf + bufoff, len, off)));

	if (o.ret > 0) {
		o.data = buf + bufoff;
		o.n = o.ret;
	}
	return o;
}

static struct outcome op_map(int fd, int write, long off, long len_, unsigned salt, unsigned char *out_)
{
	/* Read again after a SIGBUS's siglongjmp: volatile, as setjmp requires. */
	volatile long len = len_;
	unsigned char *volatile out = out_;
	long base = off & ~(page - 1);
	volatile unsigned char *p = mmap(NULL, off + len - base, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	volatile long ret = 0;
	struct outcome o;

	if (p == MAP_FAILED)
		return plain(-errno);
	if (sigsetjmp(bus_jmp, 1) == 0) {
		for (long i = 0; i < len; i++) {
			if (write)
				p[off - base + i] = pattern(salt, off + i);
			else
				out[i] = p[off - base + i];
		}
		if (write && msync((void *)p, off + len - base, MS_SYNC))
			ret = -errno;
	} else {
		ret = -EFAULT;
	}
	munmap((void *)p, off + len - base);
	o = plain(ret);
	if (!write && ret == 0) {
		o.data = out;
		o.n = len;
	}
	return o;
}

static struct outcome op_copy(int fd, long src, long len, long dst)
{
	loff_t in = src, out = dst;
	return plain(result(copy_file_range(fd, &in, fd, &out, len, 0)));
}

static int run(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int dfd = open(path, O_RDWR | O_DIRECT);
	unsigned char *buf, *mapbuf;
	char line[256];
	struct stat st;

	/* A filesystem without O_DIRECT (EINVAL) still runs the streams the probe let through. */
	if (fd < 0 || (dfd < 0 && errno != EINVAL) || posix_memalign((void **)&buf, page, MAX_IO + page) ||
	    !(mapbuf = malloc(MAX_IO))) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		long a = 0, b = 0, c = 0, d = 0, e = 0;
		char op[4] = "";
		struct outcome o;

		if (sscanf(line, "%3s %ld %ld %ld %ld %ld", op, &a, &b, &c, &d, &e) < 1)
			continue;
		if ((!strcmp(op, "W") || !strcmp(op, "R")) && (b < 0 || b > MAX_IO || d < 0 || d >= page)) {
			fprintf(stderr, "replay: %s length or buffer offset out of range\n", op);
			return 2;
		}
		if ((!strcmp(op, "W") || !strcmp(op, "R") || !strcmp(op, "C")) && (op[0] == 'C' ? d : c) && dfd < 0) {
			fprintf(stderr, "replay: %s through O_DIRECT, which the file does not open with\n", op);
			return 2;
		}
		if ((!strcmp(op, "MW") || !strcmp(op, "MR")) && (b < 0 || b > MAX_IO)) {
			fprintf(stderr, "replay: %s length out of range\n", op);
			return 2;
		}
		if (!strcmp(op, "W"))
			o = op_write(c ? dfd : fd, buf, a, b, d, (unsigned)e);
		else if (!strcmp(op, "R"))
			o = op_read(c ? dfd : fd, buf, a, b, d);
		else if (!strcmp(op, "MW"))
			o = op_map(fd, 1, a, b, (unsigned)c, mapbuf);
		else if (!strcmp(op, "MR"))
			o = op_map(fd, 0, a, b, 0, mapbuf);
		else if (!strcmp(op, "T"))
			o = plain(result(ftruncate(fd, a)));
		else if (!strcmp(op, "F"))
			o = plain(result(fallocate(fd, (int)a, b, c)));
		else if (!strcmp(op, "S"))
			o = plain(result(fsync(fd)));
		else if (!strcmp(op, "C"))
			o = op_copy(d ? dfd : fd, a, b, c);
		else {
			fprintf(stderr, "replay: unknown op '%s'\n", op);
			return 2;
		}
		if (fstat(fd, &st)) {
			perror("fstat");
			return 1;
		}
		printf("%ld %ld", o.ret, (long)st.st_size);
		if (o.n) {
			putchar(' ');
			hex(o.data, o.n);
		}
		putchar('\n');
	}
	if (fstat(fd, &st) || st.st_size > MAX_IO || pread(fd, buf, st.st_size, 0) != st.st_size) {
		perror("final read");
		return 1;
	}
	printf("size %ld ", (long)st.st_size);
	hex(buf, st.st_size);
	putchar('\n');
	return 0;
}

/* A fallocate mode works if it does not fail with EOPNOTSUPP/ENOSYS on an 8-block file. */
static int falloc_ok(const char *path, long bs, int mode)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int ok;

	if (fd < 0 || ftruncate(fd, 8 * bs))
		return 0;
	ok = fallocate(fd, mode, bs, bs) == 0 || (errno != EOPNOTSUPP && errno != ENOSYS);
	close(fd);
	return ok;
}

static int probe(const char *dir)
{
	char path[4096];
	struct statfs sfs;
	struct stat st;
	unsigned char *buf;
	int fd, dfd;

	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fstat(fd, &st) || fstatfs(fd, &sfs) || posix_memalign((void **)&buf, page, 2 * page)) {
		perror(path);
		return 1;
	}
	printf("fstype 0x%lx\npage %ld\nblock %ld\n", (long)sfs.f_type, page, (long)st.st_blksize);
	dfd = open(path, O_RDWR | O_DIRECT);
	printf("direct %d\n", dfd >= 0);
	if (dfd >= 0) {
		long sector = 0;
		/* The smallest power of two an O_DIRECT write is accepted at (offset, length, buffer). */
		for (long s = 1; s <= page && !sector; s *= 2)
			if (pwrite(dfd, buf + s, s, s) == s)
				sector = s;
		printf("sector %ld\n", sector);
		close(dfd);
	}
	printf("alloc %d\n", falloc_ok(path, st.st_blksize, 0));
	printf("keep_size %d\n", falloc_ok(path, st.st_blksize, FALLOC_FL_KEEP_SIZE));
	printf("punch %d\n", falloc_ok(path, st.st_blksize, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE));
	printf("zero %d\n", falloc_ok(path, st.st_blksize, FALLOC_FL_ZERO_RANGE));
	printf("collapse %d\n", falloc_ok(path, st.st_blksize, FALLOC_FL_COLLAPSE_RANGE));
	printf("insert %d\n", falloc_ok(path, st.st_blksize, FALLOC_FL_INSERT_RANGE));
	{
		loff_t in = 0, out = 2 * st.st_blksize;
		int cfd = open(path, O_RDWR);
		long r = copy_file_range(cfd, &in, cfd, &out, 1, 0);
		printf("copy %d\n", r >= 0 || (errno != EOPNOTSUPP && errno != ENOSYS && errno != EXDEV));
		close(cfd);
	}
	close(fd);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	page = sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, NULL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	if (argc == 3 && !strcmp(argv[1], "probe"))
		return probe(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "run"))
		return run(argv[2]);
	fprintf(stderr, "usage: replay probe DIR | replay run FILE < ops\n");
	return 2;
}
