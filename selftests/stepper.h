/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer that wins every race.  A process that rewrites a shared word
 * in a tight loop makes a compare-and-swap loop on it fail only as often
 * as the hardware lets it win; this one always wins: it single-steps a
 * child with ptrace and rewrites the word after each of the child's
 * instructions, so every compare-and-swap the child makes on it fails
 * (the word changed since the child read it).  A loop that relies on
 * the hardware's fairness to end never ends here.  Steps count the
 * child's instructions (a system call is one): a bound on them is a bound
 * on the call's work, with no timing in it.
 */
#ifndef KSYNC_SELFTEST_STEPPER_H
#define KSYNC_SELFTEST_STEPPER_H

#include <sched.h>
#include <sys/ptrace.h>

#include "common.h"

/*
 * Run fn(arg) in a child, calling poke(ctx, n) before its n-th
 * instruction.  Returns fn's result (the child's exit code, 0 to 255)
 * with *steps set, or -1 if the child ran max_steps instructions without
 * finishing (it is killed then) or did not run as expected.  The child
 * first runs fn(warm) without stepping, on an object of warm's own, so
 * that the dynamic linker's work at each function's first call is not
 * stepped through (it was most of the steps, and a step costs
 * milliseconds on a debugging kernel).  fn must not read the clock: the
 * vDSO reads it again whenever the kernel updated the time meanwhile,
 * and with a step taking milliseconds, a tick lands in nearly every read
 * (the count varied threefold, and one run never ended).
 */
static inline int run_stepped(int (*fn)(void *), void *arg, void *warm, void (*poke)(void *, long),
			      void *ctx, long max_steps, long *steps)
{
	cpu_set_t was, one;
	int status, ret = -1;
	pid_t pid;
	long n;

	*steps = 0;
	/*
	 * Tracer and child on one CPU: each step is then two context
	 * switches, not two cross-CPU wake-ups (which made a step cost
	 * milliseconds in an emulated guest).
	 */
	if (sched_getaffinity(0, sizeof(was), &was))
		return -1;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(255);
		fn(warm);
		raise(SIGSTOP); /* the tracer steps us from here... */
		ret = fn(arg);
		raise(SIGSTOP); /* ...to here */
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		goto kill;
	for (n = 0; n < max_steps; n++) {
		poke(ctx, n);
		/* (0: a stop's SIGSTOP is not delivered) */
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
			goto kill;
		if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
			goto kill;
		if (WSTOPSIG(status) == SIGSTOP) {
			*steps = n + 1;
			if (ptrace(PTRACE_CONT, pid, NULL, NULL) ||
			    waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
				goto kill;
			ret = WEXITSTATUS(status);
			goto out;
		}
		if (WSTOPSIG(status) != SIGTRAP)
			goto kill;
	}
	*steps = n;
kill:
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
out:
	sched_setaffinity(0, sizeof(was), &was);
	return ret;
}

#endif
