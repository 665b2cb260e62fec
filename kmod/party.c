// SPDX-License-Identifier: GPL-2.0
/*
 * Parties: the processes that joined an open file (a barrier's parties,
 * a queue's senders), and the moment each stops holding it.
 *
 * A file is shared by every process that inherited it or received it, and
 * is released only when the last of them closes it, so release cannot say
 * that one party died while its siblings keep the file.  flush can: it runs
 * at every close of an fd, by the closing task, also when the task closes
 * its fds at exit or exec.  So a file keeps a list of the processes that
 * joined it (kf->parties, under obj->lock), and flush tells the type when
 * one of them no longer holds it.  The list holds one entry per process
 * that joined and still holds the file: its length is bounded by the
 * processes that share one open file.  Each entry carries a tag for the
 * type (the queue's claim token), 0 until the type sets it.
 *
 * "Holds the file" is a question about the process, not the closing
 * thread: a thread may have a fd table of its own (unshare(CLONE_FILES))
 * that it closes when it exits, or in which it closes its copy of the fd,
 * while its siblings keep theirs.  So when the closing thread's table no
 * longer has the file, the other threads' tables are looked at too
 * (party_holds()).
 */
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "ksync.h"

struct ksync_party {
	struct hlist_node node;
	struct pid *tgid;
	u32 tag;
};

static struct ksync_party *party_of(struct ksync_file *kf, struct pid *tgid)
{
	struct ksync_party *p;

	lockdep_assert_held(&kf->obj->lock);
	hlist_for_each_entry(p, &kf->parties, node)
		if (p->tgid == tgid)
			return p;
	return NULL;
}

static void party_free(struct ksync_party *p)
{
	put_pid(p->tgid);
	kfree(p);
}

/* Take tgid's entry off the file's list: it is the caller's to free. */
static struct ksync_party *party_take(struct ksync_file *kf, struct pid *tgid)
{
	struct ksync_party *p;

	spin_lock(&kf->obj->lock);
	p = party_of(kf, tgid);
	if (p) {
		hlist_del(&p->node);
		kf->obj->parties--;
	}
	spin_unlock(&kf->obj->lock);
	return p;
}

static int same_file(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/* Tables party_holds() remembers having scanned, and scans at most. */
#define PARTY_SEEN	8
#define PARTY_SCANS	64

/*
 * Does the calling process hold file in an fd table?  mine is the calling
 * thread's table (NULL once it has closed it at exit), looked at first;
 * then those of the other threads, which may have tables of their own.
 * Threads made with CLONE_FILES (pthread_create) share their creator's,
 * so the last PARTY_SEEN tables scanned are not scanned again.
 *
 * Bounded: at most PARTY_SCANS tables, each as long as RLIMIT_NOFILE
 * lets it be.  A process with more tables than that counts as holding
 * the file: wrongly counting it as gone would end a queue's input and
 * free its claim token under it, while counting it as present only
 * delays its departure to the exit or close of the tables that remain.
 *
 * Locks: RCU for the thread list; task_lock(t) pins t->files (exit_files()
 * and unshare() swap it under that lock), and iterate_fd() takes the
 * table's file_lock inside it, the order fs/proc/fd.c uses.  No ksync lock
 * is held.
 *
 * A thread that unshares its table at the very moment another closes the
 * process's last fd of the file may be missed: its copy is not yet on
 * the thread (unshare() copies first, then swaps), and the process counts
 * as gone though the copy keeps the file.  Its next wait or send fails
 * the way a departed party's does.
 */
static bool party_holds(struct file *file, struct files_struct *mine)
{
	struct files_struct *seen[PARTY_SEEN] = { mine }, *files;
	unsigned int n = 1, scans = 0, known, i;
	struct task_struct *t;
	bool found = false;

	if (mine && iterate_fd(mine, 0, same_file, file))
		return true;
	rcu_read_lock();
	for_each_thread(current, t) {
		if (t == current)
			continue;
		task_lock(t);
		files = t->files;
		known = min_t(unsigned int, n, PARTY_SEEN);
		for (i = 0; i < known && files != seen[i]; i++)
			;
		if (files && i == known) {
			if (++scans > PARTY_SCANS)
				found = true;
			else
				found = iterate_fd(files, 0, same_file, file);
			seen[n++ % PARTY_SEEN] = files;
		}
		task_unlock(t);
		if (found)
			break;
	}
	rcu_read_unlock();
	return found;
}

/*
 * The calling process joins the file (once; again is a no-op).  Returns 1
 * if it joined now, 0 if it had, and sets *tag (if asked) to its tag; or
 * -EBADF if another thread closed the process's last fd of the file while
 * it joined (it is then no party: see below).
 */
int ksync_party_join(struct ksync_file *kf, u32 *tag)
{
	struct pid *me = task_tgid(current);
	struct ksync_party *p, *known;
	struct files_struct *files;

	spin_lock(&kf->obj->lock);
	known = party_of(kf, me);
	if (known && tag)
		*tag = known->tag;
	spin_unlock(&kf->obj->lock);
	if (known)
		return 0;
	p = kmalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->tgid = get_pid(me);
	p->tag = 0;
	spin_lock(&kf->obj->lock);
	known = party_of(kf, me);
	if (!known) {
		hlist_add_head(&p->node, &kf->parties);
		kf->obj->parties++;
	}
	if (tag)
		*tag = known ? known->tag : 0;
	spin_unlock(&kf->obj->lock);
	if (known) {
		party_free(p);
		return 0;
	}
	/*
	 * A flush that ran before we were on the list did not see us, and
	 * none will come if that was the process's last fd: look at its fd
	 * tables now that we are on it, as flush does.  On -EBADF the caller
	 * treats the process as gone (if the flush saw us after all, it did
	 * too: a departure can be told twice).  Our ioctl came through an fd
	 * in our table, and only a task that shares that table can close it
	 * meanwhile: while the table is ours alone, the process holds the
	 * file and needs no scan.
	 */
	files = current->files;
	if (files && atomic_read(&files->count) > 1 &&
	    !party_holds(kf->file, files)) {
		known = party_take(kf, me);
		if (known)
			party_free(known);
		return -EBADF;
	}
	return 1;
}

/*
 * Give the calling process's entry a tag, if it has none yet.  Returns 0,
 * or -EBUSY if it has one (or -ESRCH: it has let go meanwhile), in which
 * case the caller keeps what it meant to give.
 */
int ksync_party_set_tag(struct ksync_file *kf, u32 tag)
{
	struct ksync_party *p;
	int ret = -ESRCH;

	spin_lock(&kf->obj->lock);
	p = party_of(kf, task_tgid(current));
	if (p) {
		ret = p->tag ? -EBUSY : 0;
		if (!ret)
			p->tag = tag;
	}
	spin_unlock(&kf->obj->lock);
	return ret;
}

/*
 * From the file's flush: has the calling process, a party, just let go of
 * the file?  Returns KSYNC_PARTY_LEFT, or KSYNC_PARTY_KILLED if it let go
 * because a signal killed it (and sets *tag, if asked, to its tag), or 0
 * (not a party, or it still holds the file through another fd).
 */
int ksync_party_flush(struct ksync_file *kf, struct file *file, u32 *tag)
{
	struct pid *me = task_tgid(current);
	struct ksync_party *p;

	spin_lock(&kf->obj->lock);
	p = party_of(kf, me);
	spin_unlock(&kf->obj->lock);
	if (!p)
		return 0;
	/*
	 * Still a party through another fd of the same file: a dup, or a
	 * copy in another thread's table?  Only a file with references
	 * besides the one being closed can have one, so the scans (each
	 * table's length bounded by RLIMIT_NOFILE) run only for files shared
	 * by dup, fork, unshare or SCM_RIGHTS.  At exit current->files is
	 * already gone, and the table being closed is ours alone.
	 */
	if (file_count(file) > 1 && party_holds(file, current->files))
		return 0;
	p = party_take(kf, me);
	if (!p)
		return 0;
	if (tag)
		*tag = p->tag;
	party_free(p);
	if (current->flags & PF_EXITING && current->exit_code & 0x7f)
		return KSYNC_PARTY_KILLED;
	return KSYNC_PARTY_LEFT;
}

/*
 * From the file's release: how many processes still counted as parties?
 * Each one's tag goes to gone(), if given, without any lock held.
 */
int ksync_party_release(struct ksync_file *kf,
			void (*gone)(struct ksync_file *kf, u32 tag))
{
	struct ksync_party *p;
	struct hlist_node *n;
	HLIST_HEAD(list);
	int count = 0;

	spin_lock(&kf->obj->lock);
	hlist_move_list(&kf->parties, &list);
	hlist_for_each_entry(p, &list, node)
		kf->obj->parties--;
	spin_unlock(&kf->obj->lock);
	hlist_for_each_entry_safe(p, n, &list, node) {
		if (gone)
			gone(kf, p->tag);
		party_free(p);
		count++;
	}
	return count;
}
