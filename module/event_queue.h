/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_EVENT_QUEUE_H
#define __BLKSNAP_EVENT_QUEUE_H

#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

/**
 * struct event - one thing user space should learn about a snapshot
 * @link:	position in the queue
 * @time:	when it happened
 * @code:	enum blksnap_event_codes
 * @data_size:	bytes used in @data
 * @data:	payload as laid out in the user-space header
 */
struct event {
	struct list_head link;
	ktime_t time;
	int code;
	int data_size;
	char data[];
};

/**
 * struct event_queue - events of one snapshot, waited for by user space
 * @list:	pending events, oldest first
 * @lock:	protects @list and @closed
 * @wq:		IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT callers sleep here
 * @closed:	the snapshot is being destroyed; waiters must leave
 */
struct event_queue {
	struct list_head list;
	spinlock_t lock; /* see above */
	wait_queue_head_t wq;
	bool closed;
};

void blksnap_event_queue_init(struct event_queue *eq);
void blksnap_event_queue_close(struct event_queue *eq);
void blksnap_event_queue_done(struct event_queue *eq);
int blksnap_event_gen(struct event_queue *eq, int code, const void *data, int size);
struct event *blksnap_event_wait(struct event_queue *eq, unsigned long timeout_ms);
void blksnap_event_free(struct event *event);

#endif /* __BLKSNAP_EVENT_QUEUE_H */
