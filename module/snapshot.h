/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_SNAPSHOT_H
#define __BLKSNAP_SNAPSHOT_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/uuid.h>
#include "chunk.h"
#include "event_queue.h"

struct diff_storage;
struct seq_file;
struct tracker;
struct workqueue_struct;

/**
 * struct snapshot - a point in time of one or more devices
 * @link:	position in the list of snapshots
 * @kref:	held by the list and by every diff area
 * @id:		what user space calls it
 * @taken:	no device may be added any more
 * @active:	copy-on-write runs, on all devices at once: one store makes
 *		the take a single point in time even for writes that bypass
 *		filesystems and so are not stopped by the freeze
 * @devices:	struct snapshot_device, in the order they were added
 * @storage:	the difference storage, shared by all devices
 * @events:	what went wrong, for IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT
 * @pool:	bounds the memory of chunks of all its devices not yet stored
 */
struct snapshot {
	struct list_head link;
	struct kref kref;
	uuid_t id;
	bool taken;
	bool active;
	struct list_head devices;
	struct diff_storage *storage;
	struct event_queue events;
	struct chunk_pool pool;
};

/* Workers of copy-on-write, images and releases; may do I/O in reclaim. */
extern struct workqueue_struct *blksnap_snapshot_wq;
/* Finishes reads of copy-on-write; never waits for the storage. */
extern struct workqueue_struct *blksnap_cow_wq;

int blksnap_snapshot_init(void);
void blksnap_snapshot_destroy_all(void);
void blksnap_snapshot_done(void);

void blksnap_snapshot_get(struct snapshot *snapshot);
void blksnap_snapshot_put(struct snapshot *snapshot);

/* IOCTL_BLKSNAP_SNAPSHOT_* of the control device; @arg is the user's. */
long blksnap_snapshot_ioctl_create(void __user *arg);
long blksnap_snapshot_ioctl_destroy(void __user *arg);
long blksnap_snapshot_ioctl_take(void __user *arg);
long blksnap_snapshot_ioctl_collect(void __user *arg);
long blksnap_snapshot_ioctl_wait_event(void __user *arg);

/* BLKFILTER_CTL commands SNAPSHOTADD and SNAPSHOTINFO of a tracker. */
long blksnap_snapshot_ctl_add(struct tracker *tracker, void __user *opt,
			      u32 optlen);
long blksnap_snapshot_ctl_info(struct tracker *tracker, void __user *opt,
			       u32 optlen);

void blksnap_snapshot_show(struct seq_file *m);

#endif /* __BLKSNAP_SNAPSHOT_H */
