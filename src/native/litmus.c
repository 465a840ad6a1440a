/*
 * pagelab's native litmus runner: runs one scenario, already scaled to the host's page by
 * src/native/program.ts, on real files in a directory, with one pthread per task, N times, and
 * prints what every iteration did. litmus7's idea for file I/O: the tasks start together behind a
 * barrier, each after a random spin (seeded per iteration and task), to vary the interleaving.
 * Built with the machine's gcc on first use (src/native/build.ts): gcc -O2 -Wall -pthread.
 *
 *   litmus DIR < program
 *
 * Program (stdin, one statement per line, numbers in decimal, native bytes):
 *   run ITERATIONS SEED DELAY_SPINS_MAX TIMEOUT_MS INIT_UNIT
 *   file SIZE INIT                 INIT: 0 written, 1 unwritten, 2 hole, 3 cached, 4 dirty
 *   map FILE OFF LEN SHARED        a mapping (regions are numbered maps first, then bufs)
 *   buf SIZE                       anonymous memory, zeroed before every iteration
 *   task                           the ops that follow belong to a new task
 *   op KIND A B C D E F G          see struct op
 *   end
 * Bytes that name their writer: an op with tag T writes the byte T (3..127); the initial contents
 * of a file are 128 + (pos / INIT_UNIT) % 128; zeroes are holes or unwritten blocks.
 *
 * Output, per iteration: "I n", one "O ret t0 t1 data" line per op in program order (ret: bytes,
 * 0, or -errno; t0/t1: CLOCK_MONOTONIC ns around the call, from the iteration's start; data: what
 * a read or load returned, run-length "byte*count" joined by '.', or '-'), then one "C ..." line
 * per file with its three quiescent views (buffered read, mmap read, O_DIRECT read) or "C same",
 * then one "F size fsync_err data" line per file: the settled file (fsync, POSIX_FADV_DONTNEED,
 * O_DIRECT read-back) and what that fsync returned; then "E". An iteration that does not finish in
 * TIMEOUT_MS prints "H n" and the helper exits with status 3. Bad input: a line on stderr, status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 16
#define MAX_REGIONS 32
#define MAX_TASKS 16
#define MAX_OPS 512

enum kind { PREAD, PWRITE, LOAD, STORE, FALLOC, TRUNCATE, FSYNC, FDATASYNC, WRITEBACK, MSYNC, EVICT };

/*
 * One op. pread/pwrite: a file, off, len, direct, region (-1: a private buffer), buffer offset, tag.
 * load/store: b region, off, len, tag. fallocate: a file, b mode bits, off, len. truncate: a file,
 * b size. fsync, fdatasync, writeback: a file. msync: a region, off, len. evict: a file, off, len.
 */
struct op {
	int kind;
	long a, b, c, d, e, f, g;
	unsigned char *priv; /* the private buffer of a pread/pwrite without buf= */
	/* Results of the current iteration. */
	long ret;
	long long t0, t1;
	unsigned char *data;
	long n;
};

struct file {
	long size;
	int init;
	int fd, dfd;
	char path[4096];
};

struct region {
	int file; /* -1: anonymous */
	long off, len;
	int shared;
	unsigned char *addr;
};

struct task {
	int first, count;
	pthread_t thread;
	int index;
};

static struct file files[MAX_FILES];
static struct region regions[MAX_REGIONS];
static struct task tasks[MAX_TASKS];
static struct op ops[MAX_OPS];
static int nfiles, nmaps, nregions, ntasks, nops;
static long iterations, timeout_ms, init_unit, page;
static unsigned long seed, delay_max;
static const char *dir;

static pthread_barrier_t start_barrier;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done_count, quit;
static long iteration;
static struct timespec base;

static __thread sigjmp_buf bus_jmp;
static __thread volatile int bus_armed;

static void die(const char *what)
{
	fprintf(stderr, "litmus: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void bad(const char *what)
{
	fprintf(stderr, "litmus: bad program: %s\n", what);
	exit(2);
}

static void on_bus(int sig)
{
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	siglongjmp(bus_jmp, 1);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)(ts.tv_sec - base.tv_sec) * 1000000000LL + (ts.tv_nsec - base.tv_nsec);
}

static long result(long ret)
{
	return ret < 0 ? -errno : ret;
}

/* splitmix64: the delay of task t in iteration i depends on (seed, i, t) only. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void spin(unsigned long n)
{
	for (volatile unsigned long i = 0; i < n; i++)
		__asm__ __volatile__("" ::: "memory");
}

static unsigned char *user_addr(long region, long off, const struct op *o)
{
	return region < 0 ? o->priv + off : regions[region].addr + off;
}

/* A load or store through memory that may SIGBUS: -EFAULT then, as the model reports it. */
static long access_user(unsigned char *addr, unsigned char *out, long len, int store, int tag)
{
	volatile long ret = 0;

	if (sigsetjmp(bus_jmp, 1) == 0) {
		bus_armed = 1;
		if (store)
			memset(addr, tag, len);
		else
			memcpy(out, addr, len);
	} else {
		ret = -EFAULT;
	}
	bus_armed = 0;
	return ret;
}

static void run_op(struct op *o)
{
	struct file *f = (o->kind == LOAD || o->kind == STORE || o->kind == MSYNC) ? NULL : &files[o->a];
	unsigned char *ubuf;

	o->n = 0;
	o->t0 = now_ns();
	switch (o->kind) {
	case PREAD:
		ubuf = user_addr(o->e, o->f, o);
		o->ret = result(pread(o->d ? f->dfd : f->fd, ubuf, o->c, o->b));
		o->t1 = now_ns();
		if (o->ret > 0 && access_user(ubuf, o->data, o->ret, 0, 0) == 0)
			o->n = o->ret;
		return;
	case PWRITE:
		ubuf = user_addr(o->e, o->f, o);
		o->ret = result(pwrite(o->d ? f->dfd : f->fd, ubuf, o->c, o->b));
		break;
	case LOAD:
		o->ret = access_user(regions[o->a].addr + o->b, o->data, o->c, 0, 0);
		o->t1 = now_ns();
		if (o->ret == 0)
			o->n = o->c;
		return;
	case STORE:
		o->ret = access_user(regions[o->a].addr + o->b, NULL, o->c, 1, (int)o->d);
		break;
	case FALLOC:
		o->ret = result(fallocate(f->fd, (int)o->b, o->c, o->d));
		break;
	case TRUNCATE:
		o->ret = result(ftruncate(f->fd, o->b));
		break;
	case FSYNC:
		o->ret = result(fsync(f->fd));
		break;
	case FDATASYNC:
		o->ret = result(fdatasync(f->fd));
		break;
	case WRITEBACK:
		o->ret = result(sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE));
		break;
	case MSYNC: {
		unsigned char *p = regions[o->a].addr + o->b;
		unsigned char *start = (unsigned char *)((uintptr_t)p & ~(uintptr_t)(page - 1));
		o->ret = result(msync(start, p + o->c - start, MS_SYNC));
		break;
	}
	case EVICT:
		o->ret = -posix_fadvise(f->fd, o->b, o->c, POSIX_FADV_DONTNEED);
		break;
	}
	o->t1 = now_ns();
}

static void *task_main(void *arg)
{
	struct task *t = arg;

	for (;;) {
		pthread_barrier_wait(&start_barrier);
		if (quit)
			return NULL;
		if (delay_max)
			spin(mix(seed ^ mix((uint64_t)iteration * MAX_TASKS + t->index)) % delay_max);
		for (int i = t->first; i < t->first + t->count; i++)
			run_op(&ops[i]);
		pthread_mutex_lock(&done_lock);
		done_count++;
		pthread_cond_signal(&done_cond);
		pthread_mutex_unlock(&done_lock);
	}
}

static unsigned char init_byte(long pos)
{
	return (unsigned char)(128 + (pos / init_unit) % 128);
}

static void write_all(int fd, const unsigned char *p, long len)
{
	if (pwrite(fd, p, len, 0) != len)
		die("setup write");
}

/* The file in its initial state: see FileInit in src/litmus/ast.ts. */
static void setup_file(struct file *f, int index, unsigned char *scratch)
{
	snprintf(f->path, sizeof(f->path), "%s/pagelab-native-%d-%d", dir, (int)getpid(), index);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (f->fd < 0)
		die(f->path);
	f->dfd = open(f->path, O_RDWR | O_DIRECT);
	for (long p = 0; p < f->size; p++)
		scratch[p] = init_byte(p);
	switch (f->init) {
	case 0: /* written */
	case 3: /* cached */
		write_all(f->fd, scratch, f->size);
		if (fsync(f->fd) || posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED))
			die("setup fsync");
		if (f->init == 3 && pread(f->fd, scratch, f->size, 0) != f->size)
			die("setup read");
		break;
	case 1: /* unwritten */
		if (f->size && fallocate(f->fd, 0, 0, f->size))
			die("setup fallocate");
		break;
	case 2: /* hole */
		if (ftruncate(f->fd, f->size))
			die("setup truncate");
		break;
	case 4: /* dirty: allocated blocks, newer pages in the cache */
		if (f->size && fallocate(f->fd, 0, 0, f->size))
			die("setup fallocate");
		write_all(f->fd, scratch, f->size);
		break;
	}
}

static void setup_iteration(unsigned char *scratch)
{
	for (int i = 0; i < nfiles; i++)
		setup_file(&files[i], i, scratch);
	for (int r = 0; r < nregions; r++) {
		struct region *g = &regions[r];
		if (g->file < 0) {
			memset(g->addr, 0, g->len);
			continue;
		}
		g->addr = mmap(NULL, g->len, PROT_READ | PROT_WRITE, g->shared ? MAP_SHARED : MAP_PRIVATE,
			       files[g->file].fd, g->off);
		if (g->addr == MAP_FAILED)
			die("mmap");
	}
	for (int i = 0; i < nops; i++) {
		struct op *o = &ops[i];
		if (o->priv)
			memset(o->priv, o->kind == PWRITE ? (int)o->g : 0, o->c);
	}
}

static void print_data(const unsigned char *p, long n)
{
	if (n <= 0) {
		fputs(" -", stdout);
		return;
	}
	putchar(' ');
	for (long i = 0; i < n;) {
		long j = i;
		while (j < n && p[j] == p[i])
			j++;
		printf("%s%u*%ld", i ? "." : "", p[i], j - i);
		i = j;
	}
}

/* Reads the whole file into buf through fd (O_DIRECT: whole pages into an aligned buffer). */
static long read_file(int fd, unsigned char *buf, long size)
{
	long want = (size + page - 1) / page * page;
	long got = pread(fd, buf, want ? want : page, 0);
	return got < 0 ? -errno : got;
}

/* The three quiescent views of a file, with nothing in flight (the "incoherent" oracle). */
static void print_views(struct file *f, unsigned char *a, unsigned char *b, unsigned char *c)
{
	struct stat st;
	long size, ra, rc;
	unsigned char *m;

	if (fstat(f->fd, &st))
		die("fstat");
	size = st.st_size;
	m = size ? mmap(NULL, size, PROT_READ, MAP_SHARED, f->fd, 0) : NULL;
	if (m == MAP_FAILED)
		die("mmap view");
	if (size && access_user(m, b, size, 0, 0))
		memset(b, 0, size);
	if (m)
		munmap(m, size);
	ra = read_file(f->fd, a, size);
	rc = f->dfd >= 0 ? read_file(f->dfd, c, size) : ra;
	if (f->dfd < 0)
		memcpy(c, a, size);
	if (ra < size || rc < size) {
		printf("C error %ld %ld\n", ra, rc);
		return;
	}
	if (!memcmp(a, b, size) && !memcmp(a, c, size)) {
		puts("C same");
		return;
	}
	putchar('C');
	print_data(a, size);
	print_data(b, size);
	print_data(c, size);
	putchar('\n');
}

/* Settled: fsync, drop the clean cache, read back with O_DIRECT (src/litmus/world.ts fileViews). */
static void print_settled(struct file *f, unsigned char *buf)
{
	struct stat st;
	long err = fsync(f->fd) ? -errno : 0;
	long got;

	if (posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED) || fstat(f->fd, &st))
		die("settle");
	got = read_file(f->dfd >= 0 ? f->dfd : f->fd, buf, st.st_size);
	if (got < st.st_size)
		die("settle read");
	printf("F %ld %ld", (long)st.st_size, err);
	print_data(buf, st.st_size);
	putchar('\n');
}

static void finish_iteration(unsigned char *a, unsigned char *b, unsigned char *c)
{
	for (int i = 0; i < nops; i++) {
		struct op *o = &ops[i];
		printf("O %ld %lld %lld", o->ret, o->t0, o->t1);
		print_data(o->data, o->n);
		putchar('\n');
	}
	for (int r = 0; r < nregions; r++)
		if (regions[r].file >= 0)
			munmap(regions[r].addr, regions[r].len);
	for (int i = 0; i < nfiles; i++)
		print_views(&files[i], a, b, c);
	for (int i = 0; i < nfiles; i++) {
		print_settled(&files[i], a);
		close(files[i].fd);
		if (files[i].dfd >= 0)
			close(files[i].dfd);
		unlink(files[i].path);
	}
	puts("E");
	fflush(stdout);
}

/* Waits for every task to finish this iteration; 0 if the watchdog fired first. */
static int wait_done(void)
{
	struct timespec deadline;
	int ok = 1;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&done_lock);
	while (done_count < ntasks && ok)
		if (pthread_cond_timedwait(&done_cond, &done_lock, &deadline) == ETIMEDOUT)
			ok = done_count >= ntasks;
	done_count = 0;
	pthread_mutex_unlock(&done_lock);
	return ok;
}

static void *xalloc(long len)
{
	void *p;
	if (posix_memalign(&p, page, (len + page - 1) / page * page + page))
		die("alloc");
	memset(p, 0, len);
	return p;
}

static void parse_op(const char *line)
{
	struct op *o;
	if (nops == MAX_OPS || ntasks == 0)
		bad("too many ops, or an op before any task");
	o = &ops[nops++];
	if (sscanf(line, "op %d %ld %ld %ld %ld %ld %ld %ld", &o->kind, &o->a, &o->b, &o->c, &o->d, &o->e,
		   &o->f, &o->g) != 8 ||
	    o->kind < PREAD || o->kind > EVICT)
		bad(line);
	tasks[ntasks - 1].count++;
	if ((o->kind == PREAD || o->kind == PWRITE) && o->e < 0)
		o->priv = xalloc(o->c);
	if (o->kind == PREAD || o->kind == LOAD)
		o->data = xalloc(o->c);
}

static void parse(void)
{
	char line[512];
	while (fgets(line, sizeof(line), stdin)) {
		struct file *f = &files[nfiles];
		struct region *g = &regions[nregions];
		if (!strncmp(line, "run ", 4)) {
			if (sscanf(line, "run %ld %lu %lu %ld %ld", &iterations, &seed, &delay_max, &timeout_ms,
				   &init_unit) != 5 || init_unit < 1)
				bad(line);
		} else if (!strncmp(line, "file ", 5)) {
			if (nfiles == MAX_FILES || sscanf(line, "file %ld %d", &f->size, &f->init) != 2)
				bad(line);
			nfiles++;
		} else if (!strncmp(line, "map ", 4)) {
			if (nregions == MAX_REGIONS || nregions != nmaps ||
			    sscanf(line, "map %d %ld %ld %d", &g->file, &g->off, &g->len, &g->shared) != 4 ||
			    g->file < 0 || g->file >= nfiles)
				bad(line);
			nregions++;
			nmaps++;
		} else if (!strncmp(line, "buf ", 4)) {
			if (nregions == MAX_REGIONS || sscanf(line, "buf %ld", &g->len) != 1)
				bad(line);
			g->file = -1;
			g->addr = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (g->addr == MAP_FAILED)
				die("mmap buf");
			nregions++;
		} else if (!strncmp(line, "task", 4)) {
			if (ntasks == MAX_TASKS)
				bad("too many tasks");
			tasks[ntasks].first = nops;
			tasks[ntasks].index = ntasks;
			ntasks++;
		} else if (!strncmp(line, "op ", 3)) {
			parse_op(line);
		} else if (!strncmp(line, "end", 3)) {
			return;
		} else if (line[0] != '\n') {
			bad(line);
		}
	}
	bad("no 'end'");
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	long biggest = 1;
	unsigned char *a, *b, *c;

	if (argc != 2) {
		fprintf(stderr, "usage: litmus DIR < program\n");
		return 2;
	}
	dir = argv[1];
	page = sysconf(_SC_PAGESIZE);
	parse();
	if (ntasks == 0 || iterations < 1 || timeout_ms < 1)
		bad("no task, no iteration or no timeout");
	for (int i = 0; i < nfiles; i++)
		if (files[i].size > biggest)
			biggest = files[i].size;
	/*
	 * Room for what the ops may grow a file to: an upper bound, whatever the order (a write or a
	 * truncate ends below its offset + length; an insert adds its length to the size).
	 */
	for (int i = 0; i < nops; i++)
		if (ops[i].kind != LOAD && ops[i].kind != STORE && ops[i].kind != MSYNC)
			biggest += ops[i].b + ops[i].c + ops[i].d;
	a = xalloc(biggest + page);
	b = xalloc(biggest + page);
	c = xalloc(biggest + page);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, NULL);
	pthread_barrier_init(&start_barrier, NULL, ntasks + 1);
	for (int t = 0; t < ntasks; t++)
		if (pthread_create(&tasks[t].thread, NULL, task_main, &tasks[t]))
			die("pthread_create");
	for (iteration = 0; iteration < iterations; iteration++) {
		setup_iteration(a);
		printf("I %ld\n", iteration);
		clock_gettime(CLOCK_MONOTONIC, &base);
		pthread_barrier_wait(&start_barrier);
		if (!wait_done()) {
			printf("H %ld\n", iteration);
			fflush(stdout);
			for (int i = 0; i < nfiles; i++)
				unlink(files[i].path);
			_exit(3);
		}
		finish_iteration(a, b, c);
	}
	quit = 1;
	pthread_barrier_wait(&start_barrier);
	for (int t = 0; t < ntasks; t++)
		pthread_join(tasks[t].thread, NULL);
	return 0;
}
