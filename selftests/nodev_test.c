// SPDX-License-Identifier: GPL-2.0
/*
 * "The module is not loaded" is -ENODEV from every call that needs it,
 * and differs from "no such name" (-ENOENT): a program can tell them
 * apart.  The module is loaded here, so each case hides /dev/ksync in a
 * mount namespace of its own: a /dev without it (what a machine without
 * the module has), and a node whose driver is not there.
 */
#include <sched.h>
#include <sys/sysmacros.h>

#include "common.h"
#include "kselftest_harness.h"

/* Every entry point that opens the device: its answer, or 0 if all said err. */
static int all_say(int err)
{
	struct ksync_limits lim = { .size = sizeof(lim) };
	struct ksync_object o = { .size = sizeof(o) };
	ksync_barrier_t *b;
	ksync_queue_t *q;
	ksync_list_t *l;
	ksync_sem_t *s;

	if (ksync_sem_open(&s, "/kst-nodev", 0, 0, 0) != err)
		return 20;
	if (ksync_sem_open_max(&s, NULL, 0, 0600, 0, 1) != err)
		return 21;
	if (ksync_barrier_open(&b, "/kst-nodev", KSYNC_CREATE, 0600, 1) != err)
		return 22;
	if (ksync_queue_open(&q, NULL, 0, 0600, 1, 1) != err)
		return 23;
	if (ksync_unlink("/kst-nodev") != err)
		return 24;
	if (ksync_list_open(&l) != err)
		return 25;
	if (ksync_lookup("/kst-nodev", &o) != err)
		return 26;
	if (ksync_limits(KSYNC_SELF, &lim) != err)
		return 27;
	if (ksync_usage(NULL, 0) != err)
		return 28;
	return 0;
}

/* In a mount namespace of our own, a fresh tmpfs on /dev; fn decides what is in it. */
static int with_own_dev(int (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(2);
		if (mount("none", "/dev", "tmpfs", 0, "mode=0755"))
			_exit(3);
		_exit(fn());
	}
	return wait_child(pid, 20000);
}

static int no_node(void)
{
	return all_say(-ENODEV);
}

/*
 * A node of a char device no driver serves (major 60: local and
 * experimental use, never given out dynamically): open says ENXIO.
 */
static int node_without_driver(void)
{
	if (mknod("/dev/ksync", S_IFCHR | 0666, makedev(60, 0)))
		return 4;
	return all_say(-ENODEV);
}

FIXTURE(nodev){};

FIXTURE_SETUP(nodev)
{
	if (geteuid() != 0)
		SKIP(return, "needs root for a mount namespace");
}

FIXTURE_TEARDOWN(nodev)
{
}

TEST_F(nodev, missing_device_is_enodev)
{
	ASSERT_EQ(0, with_own_dev(no_node));
}

TEST_F(nodev, device_without_driver_is_enodev)
{
	ASSERT_EQ(0, with_own_dev(node_without_driver));
}

/* With the module there, a missing name is still -ENOENT. */
TEST(missing_name_is_enoent)
{
	struct ksync_object o = { .size = sizeof(o) };
	const char *name = test_name("none");
	ksync_sem_t *s;

	ASSERT_EQ(-ENOENT, ksync_sem_open(&s, name, 0, 0, 0));
	ASSERT_EQ(-ENOENT, ksync_unlink(name));
	ASSERT_EQ(-ENOENT, ksync_lookup(name, &o));
}

TEST_HARNESS_MAIN
