/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_PARAMS_H
#define __BLKSNAP_PARAMS_H

/*
 * Module parameters.  All are read-only after load (mode 0444) so that
 * every tracker of one module instance uses the same rules.
 */
extern unsigned int blksnap_tracking_block_minimum_shift;
extern unsigned int blksnap_tracking_block_maximum_shift;
extern unsigned int blksnap_tracking_block_maximum_count;

int blksnap_params_check(void);

#endif /* __BLKSNAP_PARAMS_H */
