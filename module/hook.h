/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_HOOK_H
#define __BLKSNAP_HOOK_H

#include <linux/ftrace.h>

/**
 * struct hook - redirection of one kernel function to a module function
 * @name:	symbol of the kernel function
 * @replacement: module function with the same signature
 * @address:	resolved address of @name; a replacement that needs the
 *		original of an unexported function calls it through this
 * @ops:	the ftrace registration
 *
 * A call from module text to the hooked function is never redirected, so
 * a replacement reaches the original simply by calling it, and bios the
 * module submits itself with submit_bio_noacct() bypass the filter.
 */
struct hook {
	const char *name;
	void *replacement;
	unsigned long address;
	struct ftrace_ops ops;
};

#define HOOK(_name, _replacement) \
	{ .name = (_name), .replacement = (_replacement) }

int blksnap_hook_install(struct hook *hooks, unsigned int count);
void blksnap_hook_remove(struct hook *hooks, unsigned int count);

/*
 * Every replacement brackets its work with blksnap_hook_enter()/blksnap_hook_leave(); when
 * blksnap_hook_enter() fails the hooks are being removed and the replacement must
 * only call the original.  blksnap_hook_remove() returns once no task can still
 * be executing a replacement.
 */
bool blksnap_hook_enter(void);
void blksnap_hook_leave(void);

#endif /* __BLKSNAP_HOOK_H */
