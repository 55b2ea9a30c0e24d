/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_DEBUGFS_H
#define __BLKSNAP_DEBUGFS_H

void blksnap_debugfs_init(void);
void blksnap_debugfs_done(void);

#endif /* __BLKSNAP_DEBUGFS_H */
