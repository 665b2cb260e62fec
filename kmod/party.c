// SPDX-License-Identifier: GPL-2.0
/*
 * Parties: the processes that joined an open file (a barrier's parties;
 * soon a queue's senders), and the moment each stops holding it.
 *
 * A file is shared by every process that inherited it or received it, and
 * is released only when the last of them closes it, so release cannot say
 * that one party died while its siblings keep the file.  flush can: it runs
 * at every close of an fd, by the closing task, also when the task closes
 * its fds at exit or exec.  So a file keeps a list of the processes that
 * joined it (kf->parties, under obj->lock), and flush tells the type when
 * one of them no longer holds it.  The list holds one entry per process
 * that joined and still holds the file: its length is bounded by the
 * processes that share one open file.
 */
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ksync.h"

struct ksync_party {
	struct hlist_node node;
	struct pid *tgid;
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

/* The calling process joins the file (once; again is a no-op). */
int ksync_party_join(struct ksync_file *kf)
{
	struct pid *me = task_tgid(current);
	struct ksync_party *p;
	bool known;

	spin_lock(&kf->obj->lock);
	known = party_of(kf, me);
	spin_unlock(&kf->obj->lock);
	if (known)
		return 0;
	p = kmalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->tgid = get_pid(me);
	spin_lock(&kf->obj->lock);
	known = party_of(kf, me);
	if (!known)
		hlist_add_head(&p->node, &kf->parties);
	spin_unlock(&kf->obj->lock);
	if (known)
		party_free(p);
	return 0;
}

static int same_file(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/*
 * From the file's flush: has the calling process, a party, just let go of
 * the file?  Returns KSYNC_PARTY_LEFT, or KSYNC_PARTY_KILLED if it let go
 * because a signal killed it, or 0 (not a party, or it still holds the
 * file through another fd).
 */
int ksync_party_flush(struct ksync_file *kf, struct file *file)
{
	struct pid *me = task_tgid(current);
	struct ksync_party *p;

	spin_lock(&kf->obj->lock);
	p = party_of(kf, me);
	spin_unlock(&kf->obj->lock);
	if (!p)
		return 0;
	/*
	 * Still a party through another fd of the same file (a dup)?  Only a
	 * file with references besides the one being closed can have one,
	 * so the scan of the fd table (its length bounded by RLIMIT_NOFILE)
	 * runs only for files shared by dup, fork or SCM_RIGHTS.  At exit
	 * current->files is already gone.
	 */
	if (current->files && file_count(file) > 1 &&
	    iterate_fd(current->files, 0, same_file, file))
		return 0;
	spin_lock(&kf->obj->lock);
	p = party_of(kf, me);
	if (p)
		hlist_del(&p->node);
	spin_unlock(&kf->obj->lock);
	if (!p)
		return 0;
	party_free(p);
	if (current->flags & PF_EXITING && current->exit_code & 0x7f)
		return KSYNC_PARTY_KILLED;
	return KSYNC_PARTY_LEFT;
}

/* From the file's release: did any process still count as a party? */
bool ksync_party_release(struct ksync_file *kf)
{
	struct ksync_party *p;
	struct hlist_node *n;
	HLIST_HEAD(gone);

	spin_lock(&kf->obj->lock);
	hlist_move_list(&kf->parties, &gone);
	spin_unlock(&kf->obj->lock);
	hlist_for_each_entry_safe(p, n, &gone, node)
		party_free(p);
	return !hlist_empty(&gone);
}
