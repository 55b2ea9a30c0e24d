/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Block device filter interface, as seen from user space.
 *
 * A filter is a kernel component that sees every bio submitted to a block
 * device before the device's driver does.  User space attaches a filter to
 * an open block device, talks to it and detaches it with three ioctls on
 * that device's file descriptor.  The numbers and layouts below are those
 * of the upstream blkfilter interface, so programs built for a kernel that
 * carries it work unchanged with the out-of-tree blksnap module.
 */
#ifndef _UAPI_LINUX_BLK_FILTER_H
#define _UAPI_LINUX_BLK_FILTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Size of the name field; a shorter name is padded with NUL bytes. */
#define BLKFILTER_NAME_LENGTH	32

/**
 * struct blkfilter_attach - argument of BLKFILTER_ATTACH
 * @name:	name of the filter to attach, e.g. "blksnap"
 * @opt:	user pointer to filter-specific options, or 0
 * @optlen:	size of the options at @opt, in bytes (blksnap has no options
 *		and ignores both)
 */
struct blkfilter_attach {
	__u8 name[BLKFILTER_NAME_LENGTH];
	__u64 opt;
	__u32 optlen;
};

/**
 * struct blkfilter_detach - argument of BLKFILTER_DETACH
 * @name:	name of the filter to detach
 */
struct blkfilter_detach {
	__u8 name[BLKFILTER_NAME_LENGTH];
};

/**
 * struct blkfilter_ctl - argument of BLKFILTER_CTL
 * @name:	name of the attached filter that shall run the command
 * @cmd:	filter-specific command number
 * @optlen:	size of the buffer at @opt, at least the command's structure;
 *		never written back
 * @opt:	user pointer to the command's in/out buffer
 */
struct blkfilter_ctl {
	__u8 name[BLKFILTER_NAME_LENGTH];
	__u32 cmd;
	__u32 optlen;
	__u64 opt;
};

/* Block layer ioctl type 0x12, numbers 142..144. */
#define BLKFILTER_ATTACH	_IOWR(0x12, 142, struct blkfilter_attach)
#define BLKFILTER_DETACH	_IOWR(0x12, 143, struct blkfilter_detach)
#define BLKFILTER_CTL		_IOWR(0x12, 144, struct blkfilter_ctl)

#endif /* _UAPI_LINUX_BLK_FILTER_H */
