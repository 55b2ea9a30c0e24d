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

	ret = params_check();
	if (ret)
		return ret;
	ret = snapshot_init();
	if (ret)
		return ret;
	ret = filter_init();
	if (ret)
		goto fail_snapshot;
	ret = ctrl_init();
	if (ret) {
		filter_done();
		goto fail_snapshot;
	}
	blksnap_debugfs_init();
	pr_info("version %s loaded\n", BLKSNAP_VERSION_STR);
	return 0;

fail_snapshot:
	snapshot_done();
	return ret;
}

static void __exit blksnap_exit(void)
{
	blksnap_debugfs_done();
	ctrl_done();
	snapshot_done();
	filter_done();
	pr_info("unloaded\n");
}

module_init(blksnap_init);
module_exit(blksnap_exit);

MODULE_DESCRIPTION("Block device snapshots and change-block tracking");
MODULE_VERSION(BLKSNAP_VERSION_STR);
MODULE_LICENSE("GPL");
