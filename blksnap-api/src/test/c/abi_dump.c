// SPDX-License-Identifier: GPL-2.0
/*
 * Prints what the C compiler makes of the blksnap UAPI headers: every
 * structure's size, every member's offset and size, every ioctl number and
 * constant. AbiHeaderTest compares this with the Java layouts.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/blk-filter.h>
#include <linux/blksnap.h>

#define STRUCT(s)	printf("struct %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f)	printf("field %s %s %zu %zu\n", #s, #f, \
			       offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define IOCTL(n)	printf("ioctl %s %lu\n", #n, (unsigned long)(n))
#define CONST(n)	printf("const %s %ld\n", #n, (long)(n))

int main(void)
{
	STRUCT(blkfilter_attach);
	FIELD(blkfilter_attach, name);
	FIELD(blkfilter_attach, opt);
	FIELD(blkfilter_attach, optlen);

	STRUCT(blkfilter_detach);
	FIELD(blkfilter_detach, name);

	STRUCT(blkfilter_ctl);
	FIELD(blkfilter_ctl, name);
	FIELD(blkfilter_ctl, cmd);
	FIELD(blkfilter_ctl, optlen);
	FIELD(blkfilter_ctl, opt);

	STRUCT(blksnap_uuid);
	FIELD(blksnap_uuid, b);

	STRUCT(blksnap_cbtinfo);
	FIELD(blksnap_cbtinfo, device_capacity);
	FIELD(blksnap_cbtinfo, block_size);
	FIELD(blksnap_cbtinfo, block_count);
	FIELD(blksnap_cbtinfo, generation_id);
	FIELD(blksnap_cbtinfo, changes_number);

	STRUCT(blksnap_cbtmap);
	FIELD(blksnap_cbtmap, offset);
	FIELD(blksnap_cbtmap, length);
	FIELD(blksnap_cbtmap, buffer);

	STRUCT(blksnap_sectors);
	FIELD(blksnap_sectors, offset);
	FIELD(blksnap_sectors, count);

	STRUCT(blksnap_cbtdirty);
	FIELD(blksnap_cbtdirty, count);
	FIELD(blksnap_cbtdirty, dirty_sectors);

	STRUCT(blksnap_snapshotadd);
	FIELD(blksnap_snapshotadd, id);

	STRUCT(blksnap_snapshotinfo);
	FIELD(blksnap_snapshotinfo, error_code);
	FIELD(blksnap_snapshotinfo, image);

	STRUCT(blksnap_version);
	FIELD(blksnap_version, major);
	FIELD(blksnap_version, minor);
	FIELD(blksnap_version, revision);
	FIELD(blksnap_version, build);

	STRUCT(blksnap_snapshot_create);
	FIELD(blksnap_snapshot_create, diff_storage_limit_sect);
	FIELD(blksnap_snapshot_create, diff_storage_filename);
	FIELD(blksnap_snapshot_create, id);

	STRUCT(blksnap_snapshot_collect);
	FIELD(blksnap_snapshot_collect, count);
	FIELD(blksnap_snapshot_collect, ids);

	STRUCT(blksnap_snapshot_event);
	FIELD(blksnap_snapshot_event, id);
	FIELD(blksnap_snapshot_event, timeout_ms);
	FIELD(blksnap_snapshot_event, code);
	FIELD(blksnap_snapshot_event, time_label);
	FIELD(blksnap_snapshot_event, data);

	STRUCT(blksnap_event_corrupted);
	FIELD(blksnap_event_corrupted, dev_id_mj);
	FIELD(blksnap_event_corrupted, dev_id_mn);
	FIELD(blksnap_event_corrupted, err_code);

	STRUCT(blksnap_event_no_space);
	FIELD(blksnap_event_no_space, requested_nr_sect);

	IOCTL(BLKFILTER_ATTACH);
	IOCTL(BLKFILTER_DETACH);
	IOCTL(BLKFILTER_CTL);
	IOCTL(IOCTL_BLKSNAP_VERSION);
	IOCTL(IOCTL_BLKSNAP_SNAPSHOT_CREATE);
	IOCTL(IOCTL_BLKSNAP_SNAPSHOT_DESTROY);
	IOCTL(IOCTL_BLKSNAP_SNAPSHOT_TAKE);
	IOCTL(IOCTL_BLKSNAP_SNAPSHOT_COLLECT);
	IOCTL(IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT);

	CONST(BLKFILTER_NAME_LENGTH);
	CONST(IMAGE_DISK_NAME_LEN);
	CONST(blkfilter_ctl_blksnap_cbtinfo);
	CONST(blkfilter_ctl_blksnap_cbtmap);
	CONST(blkfilter_ctl_blksnap_cbtdirty);
	CONST(blkfilter_ctl_blksnap_snapshotadd);
	CONST(blkfilter_ctl_blksnap_snapshotinfo);
	CONST(blksnap_event_code_corrupted);
	CONST(blksnap_event_code_no_space);
	CONST(BLKSNAP_IOCTL_MAGIC);
	/* Upstream's current spellings of the same numbers. */
	CONST(BLKSNAP);
	CONST(BLKFILTER_CTL_BLKSNAP_CBTINFO);
	CONST(BLKFILTER_CTL_BLKSNAP_CBTMAP);
	CONST(BLKFILTER_CTL_BLKSNAP_CBTDIRTY);
	CONST(BLKFILTER_CTL_BLKSNAP_SNAPSHOTADD);
	CONST(BLKFILTER_CTL_BLKSNAP_SNAPSHOTINFO);
	CONST(BLKSNAP_IOCTL_VERSION);
	CONST(BLKSNAP_IOCTL_SNAPSHOT_CREATE);
	CONST(BLKSNAP_IOCTL_SNAPSHOT_DESTROY);
	CONST(BLKSNAP_IOCTL_SNAPSHOT_TAKE);
	CONST(BLKSNAP_IOCTL_SNAPSHOT_COLLECT);
	CONST(BLKSNAP_IOCTL_SNAPSHOT_WAIT_EVENT);
	printf("string BLKSNAP_FILTER_NAME %s\n", BLKSNAP_FILTER_NAME);
	printf("string BLKSNAP_CTL %s\n", BLKSNAP_CTL);
	printf("string BLKSNAP_IMAGE_NAME %s\n", BLKSNAP_IMAGE_NAME);
	return 0;
}
