/* bandwidth.h: measured memory read bandwidth, the roofline denominator.
 *
 * kn_read_bandwidth() streams through a buffer much larger than the caches
 * (bytes; 0 picks 512 MiB: with a 32 MB L3, one thread read 128 MiB at
 * 43-47 GB/s and 256 MiB at 41-44, but 512 MiB to 2 GiB at 40-43, the
 * rate a model's weights stream at) with `threads` threads each reading
 * its own slice, `runs` times, and returns the median in GB/s (1e9 bytes/s), or a
 * negative value if memory or threads could not be had. The buffer is in
 * 2 MB pages where the OS allows, as the weights are. It allocates and
 * frees its buffer and takes a second or so: call it from benchmarks only. */
#ifndef WASMLET_KN_BANDWIDTH_H
#define WASMLET_KN_BANDWIDTH_H

#include <stddef.h>

double kn_read_bandwidth(int threads, size_t bytes, int runs);

#endif
