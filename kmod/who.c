// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_IOC_WHO: who holds and who waits, for `ksync info`.
 *
 * Each type walks its own lists under its own lock and reports every
 * holder and sleeper through ksync_who_add().  Nothing may sleep or
 * allocate under those locks, so the buffer is allocated first, and
 * entries past its end are only counted.  How many the lists can hold is
 * bounded by the tasks and files that exist, not by anything the caller
 * passes.  A pid is shown to the caller only if it could see the process
 * under hidepid: same effective uid, or CAP_SYS_PTRACE; else 0, as for a
 * process outside the caller's pid namespace.
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

/* The most entries one call fills; the total is counted past it. */
#define KSYNC_WHO_MAX	4096

static bool ksync_who_may_see(struct ksync_who *w, struct task_struct *task)
{
	bool same;

	if (w->see_all)
		return true;
	rcu_read_lock();
	same = uid_eq(__task_cred(task)->euid, w->euid);
	rcu_read_unlock();
	return same;
}

/* A task asleep since 'since' (ktime_get_ns()), or, with since 0, a holder. */
void ksync_who_add(struct ksync_who *w, struct task_struct *task, u32 what,
		   u64 count, u64 since)
{
	struct ksync_who_entry *e;

	if (w->total++ >= w->room)
		return;
	e = &w->e[w->total - 1];
	e->what = what;
	e->count = min_t(u64, count, U32_MAX);
	if (since)
		e->waited_ns = w->now > since ? w->now - since : 0;
	if (!task || !ksync_who_may_see(w, task))
		return;
	e->pid = task_tgid_vnr(task);
	if (since)
		e->tid = task_pid_vnr(task);
}

/* A holder known by its process: the task that leads it, if still there. */
void ksync_who_add_pid(struct ksync_who *w, struct pid *tgid, u32 what, u64 count)
{
	struct task_struct *task;

	rcu_read_lock();
	task = tgid ? pid_task(tgid, PIDTYPE_TGID) : NULL;
	ksync_who_add(w, task, what, count, 0);
	rcu_read_unlock();
}

long ksync_who(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_who w = {};
	struct ksync_who_args args;
	char __user *out;
	long ret;
	u32 i;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags || (args.count && (args.entry_size < sizeof(*w.e) ||
					  args.entry_size > PAGE_SIZE)))
		return -EINVAL;
	w.room = min_t(u32, args.count, KSYNC_WHO_MAX);
	if (w.room) {
		w.e = kvcalloc(w.room, sizeof(*w.e), GFP_KERNEL_ACCOUNT);
		if (!w.e)
			return -ENOMEM;
	}
	w.euid = current_euid();
	w.see_all = ns_capable_noaudit(current_user_ns(), CAP_SYS_PTRACE);
	w.now = ktime_get_ns();
	kf->obj->ops->who(kf->obj, &w);

	out = u64_to_user_ptr(args.entries);
	for (i = 0; i < min(w.room, w.total); i++, out += args.entry_size) {
		if (copy_to_user(out, &w.e[i], sizeof(*w.e)) ||
		    clear_user(out + sizeof(*w.e), args.entry_size - sizeof(*w.e))) {
			ret = -EFAULT;
			goto out;
		}
	}
	ret = min_t(u32, w.total, INT_MAX);
out:
	kvfree(w.e);
	return ret;
}
