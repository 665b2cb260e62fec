/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the selftests share.  Every wait here has a deadline: a test
 * that would hang fails instead (and the harness kills it after its
 * timeout as a last resort).
 */
#ifndef KSYNC_SELFTEST_COMMON_H
#define KSYNC_SELFTEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ksync.h>
#include <ksync.h>

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* A name no other test (or earlier run) uses. */
static inline const char *test_name(const char *tag)
{
	static char buf[64];
	static int seq;

	snprintf(buf, sizeof(buf), "/kst-%s-%d-%d", tag, (int)getpid(), seq++);
	return buf;
}

/* Short pause for polling loops that watch a condition under a deadline. */
static inline void pause_us(long us)
{
	/* (nanosleep refuses a tv_nsec of a second or more) */
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
}

static inline int sem_waiters(ksync_sem_t *s)
{
	struct ksync_sem_info info;

	if (ioctl(ksync_sem_fd(s), KSYNC_IOC_SEM_INFO, &info))
		return -errno;
	return (int)info.waiters;
}

/* Wait until n tasks sleep on s; false if that does not happen in ms. */
static inline int wait_waiters(ksync_sem_t *s, int n, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	while (sem_waiters(s) != n) {
		if (now_ns() > end)
			return 0;
		pause_us(200);
	}
	return 1;
}

/* Run the caller on cpu alone (to hold a task off it with a real-time one); 0 or -errno. */
static inline int pin_to_cpu(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

/* An event's counters, or all ones if they cannot be read. */
static inline struct ksync_event_stats ev_stats(ksync_event_t *e)
{
	struct ksync_event_stats st;

	memset(&st, 0xff, sizeof(st));
	ksync_event_stats(e, &st);
	return st;
}

/* Wait until n tasks sleep on e; false if that does not happen in ms. */
static inline int wait_ev_waiters(ksync_event_t *e, unsigned int n, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	while (ev_stats(e).waiters != n) {
		if (now_ns() > end)
			return 0;
		pause_us(200);
	}
	return 1;
}

/* Wait until task tid is asleep (state S in /proc); false after ms. */
static inline int wait_sleeping(pid_t tid, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	while (now_ns() < end) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 1;
		}
		pause_us(200);
	}
	return 0;
}

/*
 * Wait for a child to exit, at most ms; kill it if it does not.  Returns
 * its exit code, 128 + signal if it was killed, or -1 on a timeout.
 */
static inline int wait_child(pid_t pid, int ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = now_ns() + ms * 1000000LL;
	int status, ret = -1;

	/* (a handled signal must not cost the child its life) */
	while (fd >= 0) {
		int64_t left = end - now_ns();

		ret = poll(&p, 1, left > 0 ? (int)(left / 1000000) : 0);
		if (ret >= 0 || errno != EINTR)
			break;
	}
	if (ret != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	while ((ret = (int)waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (ret != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Wait for pid to stop (WUNTRACED) or continue (WCONTINUED). */
static inline int wait_stopped(pid_t pid, int options)
{
	int status;

	if (waitpid(pid, &status, options) != pid)
		return 0;
	return WIFSTOPPED(status) || WIFCONTINUED(status);
}

/* The number of ksync objects alive, from the module's parameter. */
static inline int ksync_objects(void)
{
	FILE *f = fopen("/sys/module/ksync/parameters/objects", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * Walk the listing (the library's), calling fn on every object whose name
 * starts with prefix.  Returns how many matched, or -errno.
 */
static inline long list_names(const char *prefix,
			      void (*fn)(const struct ksync_object *o, void *arg), void *arg)
{
	struct ksync_object o = { .size = sizeof(o) };
	ksync_list_t *l;
	long found = 0;
	int ret;

	ret = ksync_list_open(&l);
	if (ret)
		return ret;
	while ((ret = ksync_list_next(l, &o)) == 1) {
		if (strncmp(o.name, prefix, strlen(prefix)))
			continue;
		found++;
		if (fn)
			fn(&o, arg);
	}
	ksync_list_close(l);
	return ret ? ret : found;
}

/* Whether name is one that test_name() gave this process. */
static inline int own_test_name(const char *name)
{
	const char *seq = strrchr(name, '-');
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "-%d", (int)getpid());

	if (strncmp(name, "/kst-", 5) || !seq || !seq[1] ||
	    strspn(seq + 1, "0123456789") != strlen(seq + 1))
		return 0;
	return seq - name >= 4 + n && !strncmp(seq - n, pid, (size_t)n);
}

struct own_names {
	int n;
	char name[64][sizeof(((struct ksync_object *)0)->name)];
};

static inline void collect_own_name(const struct ksync_object *e, void *arg)
{
	struct own_names *o = arg;

	if (o->n < 64 && own_test_name(e->name))
		snprintf(o->name[o->n++], sizeof(o->name[0]), "%s", e->name);
}

/*
 * Unlink every name of this process's test_name() that still exists, as
 * a fixture's teardown: the harness runs it after a failed assertion too,
 * so that a test that fails half-way leaves nothing for later tests to
 * trip over (the fuzzer unlinks what it finds, the quotas count it).
 */
static inline void unlink_own_names(void)
{
	static struct own_names o;

	/* (64 at a time, and each round unlinks what it found: bounded) */
	for (int round = 0; round < 64; round++) {
		o.n = 0;
		if (list_names("/kst-", collect_own_name, &o) <= 0 || !o.n)
			return;
		for (int i = 0; i < o.n; i++)
			ksync_unlink(o.name[i]);
	}
}

/* list_names() callback: keep the (last) object found in *arg. */
static inline void keep_entry(const struct ksync_object *e, void *arg)
{
	*(struct ksync_object *)arg = *e;
}

/* fd's /proc/self/fdinfo text, NUL-terminated, in buf; its length or -1. */
static inline ssize_t read_fdinfo(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, len - 1);
	close(f);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* Drop to these ids, for good (no supplementary groups); 0 or -1. */
static inline int become(uid_t uid, gid_t gid)
{
	return setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid) ? -1 : 0;
}

/* Run fn(arg) in a child with these ids; its exit code, or -1. */
static inline int as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (become(uid, gid))
			_exit(99);
		_exit(fn(arg));
	}
	return wait_child(pid, 60000);
}

/* Write a value to a file such as a module parameter; 0 or -errno. */
static inline int write_text(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static inline long read_number(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Pass an fd over a Unix socket (SCM_RIGHTS); recv_fd returns it or -1. */
static inline int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static inline int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The cgroup v2 freezer, on a cgroup2 mount of our own. */
static inline int read_frozen(const char *events)
{
	char buf[256];
	int fd = open(events, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strstr(buf, "frozen 1") != NULL;
}

static inline int wait_frozen(const char *events, int want, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	while (read_frozen(events) != want)
		if (now_ns() > end)
			return 0;
		else
			pause_us(1000);
	return 1;
}

/*
 * Move pid into a new cgroup, freeze it, wait until it is frozen, thaw it.
 * 0 when done, 1 where cgroup2 cannot be mounted (the debug kernel has no
 * cgroups), -1 on failure.
 */
static inline int freeze_and_thaw(pid_t pid)
{
	char dir[64], path[96], pidbuf[16];
	int ret = -1;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	snprintf(dir, sizeof(dir), "/tmp/kst-cg-%d", (int)getpid());
	if (mkdir(dir, 0700) || mount("none", dir, "cgroup2", 0, NULL)) {
		rmdir(dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/kst", dir);
	if (mkdir(path, 0700))
		goto out;
	snprintf(path, sizeof(path), "%s/kst/cgroup.procs", dir);
	if (write_text(path, pidbuf))
		goto out;
	snprintf(path, sizeof(path), "%s/kst/cgroup.freeze", dir);
	if (write_text(path, "1"))
		goto out;
	snprintf(path, sizeof(path), "%s/kst/cgroup.events", dir);
	if (!wait_frozen(path, 1, 10000))
		goto out;
	snprintf(path, sizeof(path), "%s/kst/cgroup.freeze", dir);
	if (write_text(path, "0"))
		goto out;
	snprintf(path, sizeof(path), "%s/kst/cgroup.events", dir);
	if (wait_frozen(path, 0, 10000))
		ret = 0;
out:
	/* back to the root cgroup, so that ours can go */
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	write_text(path, pidbuf);
	snprintf(path, sizeof(path), "%s/kst", dir);
	if (rmdir(path))
		ret = -1;
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	return ret;
}

/* A number from the environment (decimal, 0x... or 0...), or def. */
static inline long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

#define KSYNC_PARAM(p) "/sys/module/ksync/parameters/" p

#endif
