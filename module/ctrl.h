/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_CTRL_H
#define __BLKSNAP_CTRL_H

/* The misc device /dev/blksnap-control and its 'V' ioctls. */
int blksnap_ctrl_init(void);
void blksnap_ctrl_done(void);

#endif /* __BLKSNAP_CTRL_H */
