/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module's files share.
 *
 * The lock order, the one place it is written (outer first; "A -> B": B
 * may be taken while A is held, never A while B is):
 *
 *   ksync_create_lock (mutex, registry.c: one creator of a name at a time)
 *     -> ksync_users_lock (mutex, limits.c: charging the new object)
 *     -> ksync_registry_lock (mutex, registry.c)
 *       -> ksync_users_lock (a last reference dropped under it)
 *   mmap_lock -> ksync_obj.map_lock (mutex, shm.c; it allocates a file,
 *                but takes no other ksync lock)
 *   mmap_lock -> ksync_queue.lock (a mapping's close settles the queue)
 *   ksync_queue.lock (mutex, queue.c: the queue's state, its files'
 *                     kf->q, the ring's indices)
 *     -> the poll wait queue's lock (waking pollers)
 *     -> the scheduler's (waking a sleeper)
 *   ksync_obj.lock (spinlock: the semaphore's, the barrier's and the
 *                   event's state, their files' kf->sem and kf->bar, and
 *                   party.c's lists for every type)
 *     -> the scheduler's (the semaphore wakes its sleepers under it)
 *   rcu_read_lock -> task_lock(t) -> files->file_lock (party.c: is the
 *                    file in a thread's fd table?  The order of
 *                    fs/proc/fd.c; taken with no ksync lock held)
 *
 * The queue has both a mutex and an object lock, and never holds one
 * while taking the other: party.c takes obj->lock before or after
 * q->lock, never inside it (q_join_sender, q_flush, q_release), and
 * ksync_party_release() calls q_gone(), which takes q->lock, with no
 * lock held.  No ksync lock is taken under an object lock, nor held
 * around a type's ->snapshot for a listing, ->opened or ->free: a queue's
 * may take its mutex, walk its ring or free it.  The object lock is never
 * held while sleeping, allocating or touching user memory; q->lock is
 * held across user copies only with page faults disabled, so no fault
 * takes mmap_lock under it.  A party's flush and join look at the fd
 * tables with no ksync lock held; the barrier and the semaphore wake
 * their pollers after dropping the object lock, and the barrier and the
 * event their sleepers just after, with preemption off (wait.c says why).
 */
#ifndef KSYNC_KMOD_H
#define KSYNC_KMOD_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "../include/uapi/linux/ksync.h"

struct ksync_file;
struct ksync_list_entry;
struct ksync_ns;
struct ksync_who;
struct pid;
struct task_struct;
struct user_namespace;
struct ksync_obj;
struct page;
struct poll_table_struct;
struct seq_file;
struct vm_area_struct;

/*
 * One ioctl and its handler.  A command whose struct goes in (_IOC_WRITE)
 * matches whatever its size bits say: the struct starts with its own size
 * (KSYNC_CMD_NOSIZE).  Any other must match exactly: an output struct has
 * one size.
 */
struct ksync_cmd {
	unsigned int cmd;
	long (*fn)(struct ksync_file *kf, void __user *arg);
};

/*
 * A type's state at one moment, taken by its ->snapshot under its lock:
 * all that KSYNC_IOC_*_INFO, the listing, WHO's count and fdinfo report,
 * read once.  data holds the type's own struct (its INFO struct first).
 */
struct ksync_snap {
	u32 who;			/* holders and sleepers, for WHO */
	u64 data[24];
};

/* What each object type supplies; one instance per type, e.g. in sem.c. */
struct ksync_waiter;
struct ksync_wait_one;

struct ksync_type {
	u32 type;			/* KSYNC_TYPE_* */
	const char *name;		/* anon inode name, e.g. "[ksync-sem]" */
	/* open flags it takes beyond CREATE, EXCL and CLOEXEC */
	u32 open_flags;
	/*
	 * Validate the type's parameters before any lookup; create: the call
	 * may create the object (KSYNC_OPEN_CREATE, or no name at all).  The
	 * union's bytes past its first 8 are checked for zeros after it.
	 */
	int (*check)(const struct ksync_open_args *args, bool create);
	/* bytes an object made with args will hold (optional: a page) */
	u64 (*cost)(const struct ksync_open_args *args);
	struct ksync_obj *(*create)(const struct ksync_open_args *args);
	void (*free)(struct ksync_obj *obj);
	const struct ksync_cmd *cmds;	/* its ioctls (object.c dispatches) */
	unsigned int nr_cmds;
	/* want: the events the poller asked for (poll_requested_events) */
	__poll_t (*poll)(struct ksync_file *kf, __poll_t want);
	/*
	 * The pages userspace may map (shm.c), 0 for none: page n for
	 * n < shm_pages + obj->shm_ro_pages; those from shm_pages on are
	 * mapped read-only, for words only the module writes.
	 */
	unsigned int shm_pages;	/* the default for obj->shm_pages */
	struct page *(*page)(struct ksync_obj *obj, pgoff_t n);
	/* a new open file, before its fd exists (optional; cannot fail) */
	void (*opened)(struct ksync_file *kf);
	/* the last reference to an fd is gone: undo what it holds */
	void (*release)(struct ksync_file *kf);
	/* a mapping of the object's pages went away (optional) */
	void (*unmapped)(struct ksync_obj *obj);
	/* current closed an fd of the file (or exited, or exec'd): optional */
	void (*flush)(struct ksync_file *kf, struct file *file);
	/*
	 * Fill s (zeroed) under the object's lock; kf: the file asked about,
	 * or NULL (a listing).  With w (KSYNC_IOC_WHO), also report holders
	 * and sleepers with ksync_who_add(), under the same lock, until it
	 * returns false.
	 */
	void (*snapshot)(struct ksync_obj *obj, struct ksync_file *kf,
			 struct ksync_snap *s, struct ksync_who *w);
	/* bytes of s->data that KSYNC_IOC_*_INFO copies out (its INFO struct) */
	size_t info_size;
	/* from a snapshot: fdinfo's lines, and a listing entry's type part */
	void (*fdinfo)(struct seq_file *m, const struct ksync_snap *s);
	void (*summary)(const struct ksync_snap *s, struct ksync_list_entry *e);
	/*
	 * An operation of a wait on several objects (select.c; optional: a
	 * type without it takes no part): op_size bytes at mem for its
	 * waiter; op_init checks op against kf (an error fails the call
	 * before anything waits), changing nothing, and fills one->e and
	 * one->ops, the entry index of waiter w; op_end, after the wait,
	 * with no lock held.
	 */
	size_t op_size;
	int (*op_init)(struct ksync_file *kf, struct ksync_wait_op *op,
		       struct ksync_wait_op __user *uop, void *mem,
		       struct ksync_waiter *w, u32 index, struct ksync_wait_one *one);
	/*
	 * Optional: once every op was set up, what a plain call does at its
	 * start that changes the object (a queue's send joins the senders).
	 */
	int (*op_start)(struct ksync_file *kf, void *mem);
	void (*op_end)(void *mem);
};

/* The part every object type embeds. */
struct ksync_obj {
	struct kref ref;		/* one per open file, one while named */
	const struct ksync_type *ops;
	spinlock_t lock;		/* see the lock order above */
	wait_queue_head_t poll_wq;	/* poll/epoll sleepers only */
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	unsigned int shm_pages;		/* create sets it, or ops->shm_pages */
	unsigned int shm_ro_pages;	/* after those: read-only; create sets it */
	u64 cost;			/* bytes charged to the owner (limits.c) */
	struct user_namespace *uns;	/* the creator's: limits.c charges its owners */
	u64 ctime;			/* created: CLOCK_REALTIME ns (ipcs -t) */
	u64 serial;			/* KSYNC_IOC_INFO's: never reused */
	struct pid *creator;		/* its thread group, numbered per reader */
	atomic_t files;			/* open file descriptions */
	u32 parties;			/* party.c, all files together; lock */
	/* shm.c: the file every mapping holds, not counted; map_lock */
	struct mutex map_lock;
	struct file *mapf;
	/*
	 * registry.c.  The name is set at creation and freed with the object,
	 * never before: fdinfo reads it without the registry lock.  'linked'
	 * says whether the registry still finds the object by it; the rest
	 * is valid only while it does (registry lock).
	 */
	const char *name;
	bool linked;
	struct rhash_head rnode;	/* in the name table */
	struct ksync_ns *ns;		/* the IPC namespace's names */
	u32 id;				/* in ns: the listing's cursor */
	struct list_head put_link;	/* the name's reference, let go unlocked */
};

/*
 * One per open file description (what fork and SCM_RIGHTS share).  The
 * type's part starts zeroed; it is guarded by the type's lock (obj->lock,
 * the queue's q->lock).
 */
struct ksync_file {
	struct ksync_obj *obj;
	struct file *file;		/* ours: its release frees us */
	u32 flags;			/* KSYNC_FILE_FLAGS */
	struct hlist_head parties;	/* party.c: processes that joined */
	union {
		struct {		/* sem.c, KSYNC_OPEN_UNDO */
			u64 held;		/* permits to give back */
			struct list_head holding;	/* sem->holders, while held */
			struct pid *by;		/* the process that last took some */
		} sem;
		struct {		/* queue.c, under q->lock */
			u32 gen;		/* the ends of input it may see */
			bool sender;		/* holds the input open */
		} q;
		struct {		/* barrier.c */
			struct hlist_node pending;	/* round not yet over */
			struct pid *by;			/* the process that arrived */
			u64 resets;			/* b->resets when it did */
			u32 gen;			/* round last arrived in */
			u8 round;			/* how it went: BAR_* */
			bool told;			/* a call returns how */
		} bar;
	};
};

/*
 * What an open file keeps of its open flags.  KSYNC_FILE_NOMAP: its opener
 * may not both read and write the object (the mode gave it one role), so
 * it may not map the pages, where it could do both.
 */
#define KSYNC_FILE_NOMAP	BIT(31)
#define KSYNC_FILE_FLAGS	(KSYNC_OPEN_UNDO | KSYNC_OPEN_KERNEL | KSYNC_OPEN_SEND | \
				 KSYNC_OPEN_RECV | KSYNC_FILE_NOMAP)

/*
 * The size bits of an ioctl number are ignored: every argument struct
 * starts with its own size, which says which version the caller speaks,
 * so the struct can grow under one number.
 */
#define KSYNC_CMD_NOSIZE(cmd) ((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/* object.c */
struct file *ksync_obj_file(struct ksync_obj *obj, u32 flags);
struct ksync_file *ksync_file_of(struct file *file);
void ksync_obj_opened(struct file *file);
long ksync_info_ioctl(struct ksync_file *kf, void __user *uarg);

static inline void ksync_snapshot(struct ksync_obj *obj, struct ksync_file *kf,
				  struct ksync_snap *s, struct ksync_who *w)
{
	memset(s, 0, sizeof(*s));
	obj->ops->snapshot(obj, kf, s, w);
}

/*
 * wait.c: one waiter record per sleeping task, one sleep loop, one wake
 * rule (docs/design.md, "Waiting").  A waker claims a waiter with a
 * compare-and-swap on 'signaled', under the lock of the object whose list
 * holds the entry; the waiter returns only after the claimer set 'done'.
 */
#define KSYNC_WAIT_PENDING	(-1)	/* signaled: nobody's yet */
#define KSYNC_WAIT_CANCELLED	(-2)	/* signaled: the waiter gave up first */
#define KSYNC_WAIT_QUEUED	INT_MAX	/* a try's result: go to sleep */
/* In a wait on several objects, a try's result, e not linked: */
#define KSYNC_WAIT_LOST		(INT_MAX - 1)	/* another entry was claimed first */
#define KSYNC_WAIT_RETRY	(INT_MAX - 2)	/* e claimed the waiter, then could not complete */

struct ksync_waiter {
	struct task_struct *task;
	ktime_t *expires;		/* absolute, the host's clock; NULL: none */
	u64 since;			/* ktime_get_ns() when it first queued */
	atomic_t signaled;		/* PENDING, CANCELLED, or the claimed entry's index */
	int result;			/* the claimer's word, before 'done' */
	int done;			/* the claimer is done with the record */
	bool many;			/* it waits on several objects */
};

/* Links a waiter to one object it waits on: on the type's list, its lock. */
struct ksync_wait_entry {
	struct list_head node;
	struct ksync_waiter *w;
	struct ksync_obj *obj;
	u32 index;			/* which of the waiter's objects */
};

/* The type's part of a wait (ksync_wait()). */
struct ksync_wait_ops {
	void (*lock)(struct ksync_wait_entry *e);
	void (*unlock)(struct ksync_wait_entry *e);
	/*
	 * Under the lock: do the operation now (its result ends the wait),
	 * or queue e (ksync_wait_link()) and return KSYNC_WAIT_QUEUED.
	 */
	int (*try)(struct ksync_wait_entry *e);
	/*
	 * No lock held: a waker claimed e, with w->result.  Take what it
	 * granted (the result ends the wait), or queue e again
	 * (KSYNC_WAIT_QUEUED).
	 */
	int (*consume)(struct ksync_wait_entry *e);
	/*
	 * No lock held: instead of consume, for a task with a fatal signal
	 * pending: pass the grant on.  NULL: nothing to pass on.
	 */
	void (*give_back)(struct ksync_wait_entry *e);
	/* Under the lock: the wait ends with ret and no grant: unlink e. */
	int (*leave)(struct ksync_wait_entry *e, int ret);
	/*
	 * No lock held, optional: a claimed entry that is still registered
	 * somewhere (a file's wait queues) leaves it, before the waiter is
	 * armed again and could be claimed through it a second time.
	 */
	void (*detach)(struct ksync_wait_entry *e);
	/*
	 * No lock held, optional: try or consume returned -EFAULT, a copy
	 * from or to user memory faulted under the lock; fault it in (0), or
	 * the fault is real (-EFAULT).
	 */
	int (*fault_in)(struct ksync_wait_entry *e);
};

/* One operation of a wait on several objects, as its type set it up. */
struct ksync_wait_one {
	struct ksync_wait_entry *e;
	const struct ksync_wait_ops *ops;
	bool linked;			/* e is on its object's list */
};

ktime_t *ksync_wait_deadline(u32 flags, u64 ns, ktime_t *t);
bool ksync_deadline_passed(const ktime_t *expires);
void ksync_waiter_init(struct ksync_waiter *w, ktime_t *expires);
void ksync_wait_entry_init(struct ksync_wait_entry *e, struct ksync_waiter *w,
			   struct ksync_obj *obj, u32 index);
void ksync_wait_link(struct ksync_wait_entry *e, struct list_head *list,
		     bool front);
bool ksync_wait_pending(const struct ksync_wait_entry *e);
bool ksync_wait_claim(struct ksync_wait_entry *e, int result,
		      struct list_head *wake);
void ksync_wait_wake_list(struct list_head *wake);
bool ksync_wait_grant(struct ksync_wait_entry *e, int result);
bool ksync_wait_claim_self(struct ksync_wait_entry *e);
int ksync_wait_unclaim_self(struct ksync_wait_entry *e);
int ksync_wait_locked(struct ksync_wait_entry *e, const struct ksync_wait_ops *ops);
int ksync_wait(struct ksync_wait_entry *e, const struct ksync_wait_ops *ops);
int ksync_wait_many(struct ksync_wait_one *one, u32 n, struct ksync_waiter *w,
		    u32 *index);

/* select.c */
long ksync_wait_any(void __user *uarg);

/* fdop.c: KSYNC_OP_FD, an operation on any file */
extern const size_t ksync_fd_op_size;
int ksync_fd_op_init(struct file *file, const struct ksync_wait_op *kop,
		     void *mem, struct ksync_waiter *w, u32 index,
		     struct ksync_wait_one *one);

/* lifetime.c */
struct ksync_obj *ksync_obj_new(const struct ksync_type *ops,
				const struct ksync_open_args *args);
void ksync_obj_put(struct ksync_obj *obj);
u32 ksync_obj_cpid(const struct ksync_obj *obj);

/* args.c */
int ksync_copy_args(void *dst, size_t ksize, size_t min, const void __user *src);
int ksync_copy_entries(void __user *dst, const void *buf, u32 n, size_t ksize,
		       size_t usize);

/* shm.c */
int ksync_shm_mmap(struct ksync_file *kf, struct vm_area_struct *vma);

/* word.c */
bool ksync_word_commit(atomic64_t *word, s64 *old, s64 new, bool owned,
		       u64 fence, unsigned int *tries, u64 *fences);

/* party.c */
#define KSYNC_PARTY_LEFT	1
#define KSYNC_PARTY_KILLED	2
int ksync_party_join(struct ksync_file *kf, u32 *tag);
int ksync_party_set_tag(struct ksync_file *kf, u32 tag);
int ksync_party_flush(struct ksync_file *kf, struct file *file, u32 *tag);
int ksync_party_release(struct ksync_file *kf,
			void (*gone)(struct ksync_file *kf, u32 tag));

/* who.c: what KSYNC_IOC_WHO collects, under the type's lock */
struct ksync_who {
	struct ksync_who_entry *e;
	u32 room;			/* entries e holds */
	u32 n;				/* entries filled */
	u64 now;
	kuid_t euid;
	kgid_t egid;
};

bool ksync_who_add(struct ksync_who *w, struct task_struct *task, u32 what,
		   u64 count, u64 since);
bool ksync_who_add_pid(struct ksync_who *w, struct pid *tgid, u32 what, u64 count);
long ksync_who(struct ksync_file *kf, void __user *uarg);

/* limits.c */
int ksync_charge(kuid_t uid, const struct user_namespace *ns, u64 bytes);
void ksync_uncharge(kuid_t uid, const struct user_namespace *ns, u64 bytes);
u64 ksync_max_queue_bytes(void);
long ksync_limits(void __user *uarg);
long ksync_usage(void __user *uarg);
void ksync_limits_exit(void);

/* registry.c */
int ksync_open(const struct ksync_open_args *args, const char *name);
int ksync_unlink(const char *name);
long ksync_list(void __user *uarg);
int ksync_registry_init(void);
void ksync_registry_exit(void);

/* sem.c, barrier.c, queue.c, event.c: registry.c's table lists them */
extern const struct ksync_type ksync_sem_type;
extern const struct ksync_type ksync_barrier_type;
extern const struct ksync_type ksync_queue_type;
extern const struct ksync_type ksync_event_type;

#endif /* KSYNC_KMOD_H */
