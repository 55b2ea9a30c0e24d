/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_STACK_H
#define __BLKSNAP_STACK_H

#include <linux/types.h>

/* Devices one device's I/O may reach, itself included; bounded. */
#define BLKSNAP_STACK_MAX	32

/**
 * struct blksnap_stack - a device and every device below it
 * @count:	entries used
 * @dev:	the devices, the top one first
 * @whole:	for each, its whole disk (the device itself if it is one)
 */
struct blksnap_stack {
	unsigned int count;
	dev_t dev[BLKSNAP_STACK_MAX];
	dev_t whole[BLKSNAP_STACK_MAX];
};

void blksnap_stack_build(struct blksnap_stack *stack, dev_t top);
bool blksnap_stack_reaches(const struct blksnap_stack *stack,
			   unsigned int from, dev_t dev, dev_t whole);

#endif /* __BLKSNAP_STACK_H */
