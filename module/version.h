/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_VERSION_H
#define __BLKSNAP_VERSION_H

/*
 * Reported by IOCTL_BLKSNAP_VERSION and, as a string, by MODULE_VERSION in
 * /sys/module/blksnap/version.  Keep both in step: user space compares them.
 */
#define BLKSNAP_VERSION_MAJOR		1
#define BLKSNAP_VERSION_MINOR		0
#define BLKSNAP_VERSION_REVISION	0
#define BLKSNAP_VERSION_BUILD		0

#define BLKSNAP_VERSION_STR		"1.0.0.0"

#endif /* __BLKSNAP_VERSION_H */
