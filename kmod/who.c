// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_IOC_WHO: who holds and who waits, for `ksync info`.
 *
 * Each type's snapshot tells how many holders and sleepers it has (it
 * counts them anyway), and walks its lists under its own lock, reporting through
 * ksync_who_add() until the caller's room is full: the walk is bounded by
 * KSYNC_WHO_MAX, not by how many files or tasks a user piles up, and a
 * call that only counts walks nothing.  Nothing may sleep or allocate
 * under those locks, so the buffer is allocated first.  A pid is shown
 * only to a caller who could see the process under hidepid: its uids and
 * gids all the caller's euid and egid, or CAP_SYS_PTRACE over the task's
 * user namespace (not one the caller made for itself); else 0, as for a
 * process outside the caller's pid namespace.  Unlike ptrace_may_access(),
 * dumpability is not considered.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "ksync.h"

static bool ksync_who_may_see(struct ksync_who *w, struct task_struct *task)
{
	const struct cred *tcred;
	bool ok;

	rcu_read_lock();
	tcred = __task_cred(task);
	/* __ptrace_may_access()'s test: the gids too (a setgid program) */
	ok = (uid_eq(tcred->euid, w->euid) && uid_eq(tcred->uid, w->euid) &&
	      uid_eq(tcred->suid, w->euid) && gid_eq(tcred->egid, w->egid) &&
	      gid_eq(tcred->gid, w->egid) && gid_eq(tcred->sgid, w->egid)) ||
	     ns_capable_noaudit(tcred->user_ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
	return ok;
}

/*
 * A task asleep since 'since' (ktime_get_ns()), or, with since 0, a holder.
 * False once the caller's room is full: the type stops walking.
 */
bool ksync_who_add(struct ksync_who *w, struct task_struct *task, u32 what,
		   u64 count, u64 since)
{
	struct ksync_who_entry *e;

	if (w->n >= w->room)
		return false;
	e = &w->e[w->n++];
	e->what = what;
	e->count = min_t(u64, count, U32_MAX);
	if (since)
		e->waited_ns = w->now > since ? w->now - since : 0;
	if (task && ksync_who_may_see(w, task)) {
		e->pid = task_tgid_vnr(task);
		if (since)
			e->tid = task_pid_vnr(task);
	}
	return true;
}

/* A holder known by its process: the task that leads it, if still there. */
bool ksync_who_add_pid(struct ksync_who *w, struct pid *tgid, u32 what, u64 count)
{
	struct task_struct *task;
	bool more;

	rcu_read_lock();
	task = tgid ? pid_task(tgid, PIDTYPE_TGID) : NULL;
	more = ksync_who_add(w, task, what, count, 0);
	rcu_read_unlock();
	return more;
}

/* The oldest entry a caller may pass: entries grow at their end only. */
#define KSYNC_WHO_ENTRY_SIZE_VER0	24

long ksync_who(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_who w = {};
	struct ksync_snap s;
	struct ksync_who_args args;
	long ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags || args.count > KSYNC_WHO_MAX ||
	    (args.count && (args.entry_size < KSYNC_WHO_ENTRY_SIZE_VER0 ||
			    args.entry_size > PAGE_SIZE)))
		return -EINVAL;
	w.room = args.count;
	if (w.room) {
		w.e = kvcalloc(w.room, sizeof(*w.e), GFP_KERNEL_ACCOUNT);
		if (!w.e)
			return -ENOMEM;
	}
	w.euid = current_euid();
	w.egid = current_egid();
	w.now = ktime_get_ns();
	ksync_snapshot(kf->obj, kf, &s, &w);

	ret = ksync_copy_entries(u64_to_user_ptr(args.entries), w.e, w.n, sizeof(*w.e),
				 args.entry_size);
	if (!ret)
		ret = min_t(u32, s.who, INT_MAX);
	kvfree(w.e);
	return ret;
}
