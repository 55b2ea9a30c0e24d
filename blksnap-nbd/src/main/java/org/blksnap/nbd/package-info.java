/**
 * A read-only NBD server (the Network Block Device protocol, newstyle fixed
 * negotiation) for blksnap snapshot images and backups.
 *
 * <p>Implemented: NBD_OPT_EXPORT_NAME, ABORT, LIST, INFO, GO,
 * STRUCTURED_REPLY, LIST_META_CONTEXT, SET_META_CONTEXT, STARTTLS;
 * NBD_CMD_READ, FLUSH, DISC, BLOCK_STATUS (contexts {@code base:allocation} and
 * {@code blksnap:changed:<N>}, see {@link org.blksnap.nbd.ChangedBlocks});
 * WRITE, TRIM and WRITE_ZEROES answered EPERM; anything else EINVAL.
 * Not implemented: client certificates and TLS-PSK, extended headers,
 * NBD_CMD_CACHE, writable exports, oldstyle negotiation.
 *
 * <p>TLS: a server started with {@link org.blksnap.nbd.TlsCredentials}
 * (server-cert.pem and server-key.pem of a certificates directory) is in
 * the protocol's FORCEDTLS mode: NBD_OPT_STARTTLS is acknowledged and the
 * same connection continues as TLS 1.3 or 1.2 (the JDK's SSLEngine, wrapped
 * as a ByteChannel by tls-channel), every other option before it is answered
 * NBD_REP_ERR_TLS_REQD, NBD_OPT_EXPORT_NAME before it drops the connection
 * and a second STARTTLS is NBD_REP_ERR_INVALID. Without credentials STARTTLS
 * is NBD_REP_ERR_UNSUP.
 *
 * <p>Transmission: the connection's thread reads requests; READ and
 * BLOCK_STATUS run on up to eight virtual threads per connection and are
 * answered as they finish, each reply (or structured chunk) written whole;
 * FLUSH and DISC wait for the requests before them. Exports are therefore
 * read concurrently from one connection as well as from several.
 *
 * <p>Exports: {@link org.blksnap.nbd.FileExport} (a file or device, a live
 * snapshot's image) and {@link org.blksnap.nbd.RepositoryExport} (a device of
 * a backup, read from its repository). {@link org.blksnap.nbd.KernelClient}
 * attaches an export to the kernel's {@code /dev/nbdN} without nbd-client.
 */
package org.blksnap.nbd;
