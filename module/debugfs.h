/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_DEBUGFS_H
#define __BLKSNAP_DEBUGFS_H

#include <linux/types.h>

void blksnap_debugfs_init(void);
void blksnap_debugfs_done(void);
bool blksnap_debugfs_freeze_fails(dev_t dev);

#endif /* __BLKSNAP_DEBUGFS_H */
