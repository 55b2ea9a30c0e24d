/**
 * A read-only NBD server (the Network Block Device protocol, newstyle fixed
 * negotiation) for blksnap snapshot images and backups.
 *
 * <p>Implemented: NBD_OPT_EXPORT_NAME, ABORT, LIST, INFO, GO,
 * STRUCTURED_REPLY, LIST_META_CONTEXT, SET_META_CONTEXT; NBD_CMD_READ,
 * FLUSH, DISC, BLOCK_STATUS (contexts {@code base:allocation} and
 * {@code blksnap:changed:<N>}, see {@link org.blksnap.nbd.ChangedBlocks});
 * WRITE, TRIM and WRITE_ZEROES answered EPERM; anything else EINVAL.
 * Not implemented: TLS (NBD_OPT_STARTTLS answers NBD_REP_ERR_UNSUP),
 * extended headers, NBD_CMD_CACHE, writable exports, oldstyle negotiation.
 *
 * <p>Exports: {@link org.blksnap.nbd.FileExport} (a file or device, a live
 * snapshot's image) and {@link org.blksnap.nbd.RepositoryExport} (a device of
 * a backup, read from its repository). {@link org.blksnap.nbd.KernelClient}
 * attaches an export to the kernel's {@code /dev/nbdN} without nbd-client.
 */
package org.blksnap.nbd;
