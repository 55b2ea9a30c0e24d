/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * blksnap: point-in-time snapshots and change-block tracking for block
 * devices.  User-space interface.
 *
 * Two doors lead into the module:
 *  - the "blksnap" block device filter, reached with BLKFILTER_CTL on an
 *    open block device (see <linux/blk-filter.h>): change-block tracking
 *    and adding the device to a snapshot;
 *  - the misc device /dev/blksnap-control, ioctl type 'V': version and the
 *    life cycle of snapshots.
 *
 * Every number and layout here is that of the upstream blksnap interface,
 * byte for byte, so existing user space works with this module.
 */
#ifndef _UAPI_LINUX_BLKSNAP_H
#define _UAPI_LINUX_BLKSNAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define BLKSNAP_FILTER_NAME	"blksnap"
#define BLKSNAP_CTL		"blksnap-control"
#define BLKSNAP_IOCTL_MAGIC	'V'
/* The magic's name in the latest upstream patches. */
#define BLKSNAP			BLKSNAP_IOCTL_MAGIC
/*
 * Prefix of the image disks' names, as upstream; the full name is what
 * SNAPSHOTINFO returns in @image (here "blksnap-MAJOR-MINOR").
 */
#define BLKSNAP_IMAGE_NAME	"blksnap"

/**
 * struct blksnap_uuid - 128-bit identifier of a snapshot or a CBT generation
 * @b:	the bytes, random (version 4 layout not required)
 */
struct blksnap_uuid {
	__u8 b[16];
};

/* Commands of BLKFILTER_CTL for the "blksnap" filter. */
enum blkfilter_ctl_blksnap {
	blkfilter_ctl_blksnap_cbtinfo,		/* out: struct blksnap_cbtinfo */
	blkfilter_ctl_blksnap_cbtmap,		/* in: struct blksnap_cbtmap */
	blkfilter_ctl_blksnap_cbtdirty,		/* in: struct blksnap_cbtdirty */
	blkfilter_ctl_blksnap_snapshotadd,	/* in: struct blksnap_snapshotadd */
	blkfilter_ctl_blksnap_snapshotinfo,	/* out: struct blksnap_snapshotinfo */
	/* The same numbers as spelled by the latest upstream patches. */
	BLKFILTER_CTL_BLKSNAP_CBTINFO = blkfilter_ctl_blksnap_cbtinfo,
	BLKFILTER_CTL_BLKSNAP_CBTMAP = blkfilter_ctl_blksnap_cbtmap,
	BLKFILTER_CTL_BLKSNAP_CBTDIRTY = blkfilter_ctl_blksnap_cbtdirty,
	BLKFILTER_CTL_BLKSNAP_SNAPSHOTADD = blkfilter_ctl_blksnap_snapshotadd,
	BLKFILTER_CTL_BLKSNAP_SNAPSHOTINFO = blkfilter_ctl_blksnap_snapshotinfo,
};

/**
 * struct blksnap_cbtinfo - state of the change-block tracker of a device
 * @device_capacity:	size of the device in bytes
 * @block_size:		bytes covered by one byte of the CBT map
 * @block_count:	number of bytes in the CBT map
 * @generation_id:	changes whenever the map stops being comparable with
 *			earlier ones; a new value means a full backup is due
 * @changes_number:	number stamped on blocks changed before the last take
 */
struct blksnap_cbtinfo {
	__u64 device_capacity;
	__u32 block_size;
	__u32 block_count;
	struct blksnap_uuid generation_id;
	__u8 changes_number;
};

/**
 * struct blksnap_cbtmap - read a window of the CBT map
 * @offset:	first map byte wanted
 * @length:	number of map bytes wanted; the buffer holds at least as many
 * @buffer:	user pointer that receives the map bytes
 *
 * The ioctl copies the whole window and returns 0, or fails with ENODATA,
 * copying nothing, when @offset + @length passes the end of the map
 * (struct blksnap_cbtinfo.block_count bytes).
 */
struct blksnap_cbtmap {
	__u32 offset;
	__u32 length;
	__u64 buffer;
};

/**
 * struct blksnap_sectors - a range of 512-byte sectors
 * @offset:	first sector
 * @count:	number of sectors
 */
struct blksnap_sectors {
	__u64 offset;
	__u64 count;
};

/**
 * struct blksnap_cbtdirty - mark ranges of a device as changed
 * @count:		number of elements at @dirty_sectors
 * @dirty_sectors:	user pointer to an array of struct blksnap_sectors
 */
struct blksnap_cbtdirty {
	__u32 count;
	__u64 dirty_sectors;
};

/**
 * struct blksnap_snapshotadd - add the device to a snapshot
 * @id:	the snapshot, as returned by IOCTL_BLKSNAP_SNAPSHOT_CREATE
 */
struct blksnap_snapshotadd {
	struct blksnap_uuid id;
};

#define IMAGE_DISK_NAME_LEN	32

/**
 * struct blksnap_snapshotinfo - snapshot state of a device
 * @error_code:	0, or the negative errno that broke the snapshot
 * @image:	NUL-terminated name of the snapshot image block device, empty
 *		until the snapshot is taken
 */
struct blksnap_snapshotinfo {
	__s32 error_code;
	__u8 image[IMAGE_DISK_NAME_LEN];
};

/* Numbers of the ioctls of /dev/blksnap-control. */
enum blksnap_ioctl {
	blksnap_ioctl_version,
	blksnap_ioctl_snapshot_create,
	blksnap_ioctl_snapshot_destroy,
	blksnap_ioctl_snapshot_take,
	blksnap_ioctl_snapshot_collect,
	blksnap_ioctl_snapshot_wait_event,
	/* The same numbers as spelled by the latest upstream patches. */
	BLKSNAP_IOCTL_VERSION = blksnap_ioctl_version,
	BLKSNAP_IOCTL_SNAPSHOT_CREATE = blksnap_ioctl_snapshot_create,
	BLKSNAP_IOCTL_SNAPSHOT_DESTROY = blksnap_ioctl_snapshot_destroy,
	BLKSNAP_IOCTL_SNAPSHOT_TAKE = blksnap_ioctl_snapshot_take,
	BLKSNAP_IOCTL_SNAPSHOT_COLLECT = blksnap_ioctl_snapshot_collect,
	BLKSNAP_IOCTL_SNAPSHOT_WAIT_EVENT = blksnap_ioctl_snapshot_wait_event,
};

/**
 * struct blksnap_version - version of the module
 * @major:	changes when the interface changes incompatibly
 * @minor:	changes when the interface grows
 * @revision:	changes with fixes
 * @build:	build number, 0 for a local build
 */
struct blksnap_version {
	__u16 major;
	__u16 minor;
	__u16 revision;
	__u16 build;
};

#define IOCTL_BLKSNAP_VERSION						\
	_IOR(BLKSNAP_IOCTL_MAGIC, blksnap_ioctl_version,		\
	     struct blksnap_version)

/**
 * struct blksnap_snapshot_create - create a snapshot
 * @diff_storage_limit_sect:	most sectors the difference storage may grow to
 * @diff_storage_filename:	user pointer to a NUL-terminated path: a
 *				regular file, a directory (an unnamed file is
 *				made in it) or a block device
 * @id:				out: identifier of the new snapshot
 */
struct blksnap_snapshot_create {
	__u64 diff_storage_limit_sect;
	__u64 diff_storage_filename;
	struct blksnap_uuid id;
};

#define IOCTL_BLKSNAP_SNAPSHOT_CREATE					\
	_IOWR(BLKSNAP_IOCTL_MAGIC, blksnap_ioctl_snapshot_create,	\
	      struct blksnap_snapshot_create)

#define IOCTL_BLKSNAP_SNAPSHOT_DESTROY					\
	_IOW(BLKSNAP_IOCTL_MAGIC, blksnap_ioctl_snapshot_destroy,	\
	     struct blksnap_uuid)

#define IOCTL_BLKSNAP_SNAPSHOT_TAKE					\
	_IOW(BLKSNAP_IOCTL_MAGIC, blksnap_ioctl_snapshot_take,		\
	     struct blksnap_uuid)

/**
 * struct blksnap_snapshot_collect - list the snapshots
 * @count:	in: room at @ids; out: number of snapshots
 * @ids:	user pointer to an array of struct blksnap_uuid
 *
 * With too little room nothing is copied, @count says how much is needed
 * and the call fails with ENODATA; call with @count 0 to ask.
 */
struct blksnap_snapshot_collect {
	__u32 count;
	__u64 ids;
};

#define IOCTL_BLKSNAP_SNAPSHOT_COLLECT					\
	_IOR(BLKSNAP_IOCTL_MAGIC, blksnap_ioctl_snapshot_collect,	\
	     struct blksnap_snapshot_collect)

/* What a struct blksnap_snapshot_event reports. */
enum blksnap_event_codes {
	blksnap_event_code_corrupted,	/* data: struct blksnap_event_corrupted */
	blksnap_event_code_no_space,	/* data: struct blksnap_event_no_space */
};

/**
 * struct blksnap_snapshot_event - wait for the next event of a snapshot
 * @id:		the snapshot
 * @timeout_ms:	how long to wait
 * @code:	out: enum blksnap_event_codes
 * @time_label:	out: when the event happened, ktime in nanoseconds
 * @data:	out: event-specific payload
 */
struct blksnap_snapshot_event {
	struct blksnap_uuid id;
	__u32 timeout_ms;
	__u32 code;
	__s64 time_label;
	__u8 data[4096 - 32];
};

#define IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT				\
	_IOR(BLKSNAP_IOCTL_MAGIC, blksnap_ioctl_snapshot_wait_event,	\
	     struct blksnap_snapshot_event)

/**
 * struct blksnap_event_corrupted - payload of blksnap_event_code_corrupted
 * @dev_id_mj:	major number of the original device
 * @dev_id_mn:	minor number of the original device
 * @err_code:	negative errno of the failure
 */
struct blksnap_event_corrupted {
	__u32 dev_id_mj;
	__u32 dev_id_mn;
	__s32 err_code;
};

/**
 * struct blksnap_event_no_space - payload of blksnap_event_code_no_space
 * @requested_nr_sect:	sectors the difference storage wanted to grow by
 */
struct blksnap_event_no_space {
	__u64 requested_nr_sect;
};

#endif /* _UAPI_LINUX_BLKSNAP_H */
