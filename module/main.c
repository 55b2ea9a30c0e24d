// SPDX-License-Identifier: GPL-2.0
/*
 * blksnap: change-block tracking and point-in-time snapshots of block
 * devices, on a stock kernel, behind the upstream blksnap interface.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/init.h>
#include <linux/module.h>
#include "ctrl.h"
#include "debugfs.h"
#include "filter.h"
#include "params.h"
#include "snapshot.h"
#include "version.h"

static int __init blksnap_init(void)
{
	int ret;

	ret = blksnap_params_check();
	if (ret)
		return ret;
	ret = blksnap_snapshot_init();
	if (ret)
		return ret;
	ret = blksnap_filter_init();
	if (ret)
		goto fail_snapshot;
	ret = blksnap_ctrl_init();
	if (ret) {
		blksnap_filter_unhook();
		blksnap_filter_detach_all();
		goto fail_snapshot;
	}
	blksnap_debugfs_init();
	pr_info("version %s loaded\n", BLKSNAP_VERSION_STR);
	return 0;

fail_snapshot:
	blksnap_snapshot_done();
	return ret;
}

/*
 * The kernel calls this only when nothing holds the module: no control
 * device or image is open.  Filters do not hold it (as upstream), so the
 * hooks go first: after blksnap_filter_unhook() no attach, ioctl, bio or device
 * removal enters the module, and what they would have reached can be torn
 * down in order, the snapshots before the filters they use, the workers
 * last.
 */
static void __exit blksnap_exit(void)
{
	blksnap_debugfs_done();
	blksnap_ctrl_done();
	blksnap_filter_unhook();
	blksnap_snapshot_destroy_all();
	blksnap_filter_detach_all();
	blksnap_snapshot_done();
	pr_info("unloaded\n");
}

module_init(blksnap_init);
module_exit(blksnap_exit);

MODULE_DESCRIPTION("Block device snapshots and change-block tracking");
MODULE_VERSION(BLKSNAP_VERSION_STR);
MODULE_LICENSE("GPL");
