/**
 * Low-level access to the blksnap kernel interface.
 *
 * <ul>
 * <li>{@link org.blksnap.api.sys.Linux}: raw {@code open}, {@code close} and
 *     {@code ioctl} through FFM, returning a {@link org.blksnap.api.sys.SysResult}
 *     (value or errno) instead of throwing;</li>
 * <li>{@link org.blksnap.api.sys.Abi}: the {@code MemoryLayout} of every ABI
 *     structure and the ABI's constants;</li>
 * <li>{@link org.blksnap.api.sys.Ioctl}: the request numbers;</li>
 * <li>{@link org.blksnap.api.sys.Errno}: error numbers and their names.</li>
 * </ul>
 *
 * <p>Meant for tests that must send malformed requests (wrong sizes, bad
 * pointers) and for tools that need a call the high-level API
 * ({@link org.blksnap.api}) does not offer. Everything else should use the
 * high-level API.
 */
package org.blksnap.api.sys;
