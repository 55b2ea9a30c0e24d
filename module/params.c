// SPDX-License-Identifier: GPL-2.0
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/moduleparam.h>
#include "params.h"

/* A CBT block must cover at least a sector and its size must fit a u32. */
#define TRACKING_SHIFT_LOWEST	9
#define TRACKING_SHIFT_HIGHEST	31

unsigned int blksnap_tracking_block_minimum_shift = 16;
module_param_named(tracking_block_minimum_shift, blksnap_tracking_block_minimum_shift, uint, 0444);
MODULE_PARM_DESC(tracking_block_minimum_shift,
		 "log2 of the smallest CBT block in bytes (default 16: 64 KiB)");

unsigned int blksnap_tracking_block_maximum_count = 2097152;
module_param_named(tracking_block_maximum_count, blksnap_tracking_block_maximum_count, uint, 0444);
MODULE_PARM_DESC(tracking_block_maximum_count,
		 "the CBT block grows until a device needs at most this many blocks (default 2097152)");

unsigned int blksnap_tracking_block_maximum_shift = 26;
module_param_named(tracking_block_maximum_shift, blksnap_tracking_block_maximum_shift, uint, 0444);
MODULE_PARM_DESC(tracking_block_maximum_shift,
		 "log2 of the largest CBT block in bytes (default 26: 64 MiB)");

/* Refuse to load with values the tracker cannot honour, rather than clamp them silently. */
int blksnap_params_check(void)
{
	if (blksnap_tracking_block_minimum_shift < TRACKING_SHIFT_LOWEST ||
	    blksnap_tracking_block_maximum_shift > TRACKING_SHIFT_HIGHEST ||
	    blksnap_tracking_block_minimum_shift > blksnap_tracking_block_maximum_shift) {
		pr_err("tracking block shifts must satisfy %d <= minimum (%u) <= maximum (%u) <= %d\n",
		       TRACKING_SHIFT_LOWEST, blksnap_tracking_block_minimum_shift,
		       blksnap_tracking_block_maximum_shift, TRACKING_SHIFT_HIGHEST);
		return -EINVAL;
	}
	if (!blksnap_tracking_block_maximum_count) {
		pr_err("tracking_block_maximum_count must not be 0\n");
		return -EINVAL;
	}
	return 0;
}
