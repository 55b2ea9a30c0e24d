// SPDX-License-Identifier: GPL-2.0
/*
 * Events tell user space that a snapshot went wrong while nobody was
 * looking: the difference storage filled up or failed.  They are produced
 * in the I/O paths, which must never block on user space, so an event is
 * only queued here and picked up later by a waiting ioctl.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-event: " fmt

#include <linux/sched.h>
#include <linux/slab.h>
#include "event_queue.h"

void blksnap_event_queue_init(struct event_queue *eq)
{
	INIT_LIST_HEAD(&eq->list);
	spin_lock_init(&eq->lock);
	init_waitqueue_head(&eq->wq);
	eq->closed = false;
}

/* Wakes every waiter for good: the snapshot is going away. */
void blksnap_event_queue_close(struct event_queue *eq)
{
	spin_lock(&eq->lock);
	eq->closed = true;
	spin_unlock(&eq->lock);
	wake_up_all(&eq->wq);
}

void blksnap_event_queue_done(struct event_queue *eq)
{
	struct event *event, *next;

	list_for_each_entry_safe(event, next, &eq->list, link) {
		list_del(&event->link);
		kfree(event);
	}
}

/*
 * Called from the copy-on-write paths, which run while a write to the
 * original device is held: the allocation must not recurse into I/O.
 */
int blksnap_event_gen(struct event_queue *eq, int code, const void *data, int size)
{
	struct event *event;

	event = kzalloc(struct_size(event, data, size), GFP_NOIO);
	if (!event)
		return -ENOMEM;

	event->time = ktime_get();
	event->code = code;
	event->data_size = size;
	memcpy(event->data, data, size);

	spin_lock(&eq->lock);
	list_add_tail(&event->link, &eq->list);
	spin_unlock(&eq->lock);
	wake_up(&eq->wq);
	return 0;
}

/* Takes the oldest event, if any; true when the waiter may stop. */
static bool event_ready(struct event_queue *eq, struct event **event,
			bool *closed)
{
	spin_lock(&eq->lock);
	*event = list_first_entry_or_null(&eq->list, struct event, link);
	if (*event)
		list_del(&(*event)->link);
	*closed = eq->closed;
	spin_unlock(&eq->lock);
	return *event || *closed;
}

/**
 * blksnap_event_wait() - take the oldest event, waiting for one if needed
 * @eq:		the queue
 * @timeout_ms:	longest wait
 *
 * Return: the event, which the caller frees with blksnap_event_free(), or
 * ERR_PTR(-ENOENT) when none came in time, ERR_PTR(-EINTR) on a signal,
 * ERR_PTR(-ESRCH) when the snapshot was destroyed meanwhile.
 */
struct event *blksnap_event_wait(struct event_queue *eq, unsigned long timeout_ms)
{
	struct event *event = NULL;
	bool closed = false;
	long left;

	left = wait_event_interruptible_timeout(eq->wq,
						event_ready(eq, &event, &closed),
						msecs_to_jiffies(timeout_ms));
	if (event)
		return event;
	if (closed)
		return ERR_PTR(-ESRCH);
	if (left < 0)
		return ERR_PTR(-EINTR);
	return ERR_PTR(-ENOENT);
}

void blksnap_event_free(struct event *event)
{
	kfree(event);
}
