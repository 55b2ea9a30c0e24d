/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_COMPAT_H
#define __BLKSNAP_COMPAT_H

/*
 * What the module needs from the kernel, tested as features rather than
 * version numbers.  Built and tested on Debian's 6.1; a port to another
 * kernel starts here.
 *
 * Not testable by the preprocessor, so stated: blkdev_ioctl() has the
 * signature of a file operation, long (struct file *, unsigned int,
 * unsigned long), as since Linux 5.15; filter.c redirects it.
 */
#include <linux/ftrace.h>

#if !defined(CONFIG_DYNAMIC_FTRACE_WITH_REGS) || !defined(CONFIG_KPROBES)
#error "blksnap needs CONFIG_DYNAMIC_FTRACE_WITH_REGS and CONFIG_KPROBES"
#endif

/* struct ftrace_regs and a way to set the resume address (5.11+). */
#ifndef ftrace_instruction_pointer_set
#error "blksnap needs ftrace_instruction_pointer_set()"
#endif

/*
 * FTRACE_OPS_FL_RECURSION asks ftrace to guard the callback against
 * recursion (the meaning since 5.11; before, the flag was inverted).
 */
#define BLKSNAP_FTRACE_OPS_FLAGS \
	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | \
	 FTRACE_OPS_FL_RECURSION)

#endif /* __BLKSNAP_COMPAT_H */
