/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_FILTER_H
#define __BLKSNAP_FILTER_H

#include <linux/types.h>

struct bio;
struct tracker;

/*
 * The blkfilter emulation: which devices have the blksnap filter, the bio
 * path and BLKFILTER_* ioctls that reach it, and automatic detach when a
 * device goes away.
 */
int blksnap_filter_init(void);
void blksnap_filter_unhook(void);
void blksnap_filter_detach_all(void);

/* Calls @fn for every attached tracker, with the filter table locked. */
void blksnap_filter_for_each(void (*fn)(struct tracker *tracker, void *data),
			     void *data);

/* Copy-on-write holding a marked bio, see struct filter_io in filter.c. */
void blksnap_filter_hold(struct bio *bio);
void blksnap_filter_refuse(struct bio *bio);
void blksnap_filter_release(struct bio *bio);

/* The tracker attached to device @dev with a reference, or NULL. */
struct tracker *blksnap_filter_find(dev_t dev);

#endif /* __BLKSNAP_FILTER_H */
