// Process set-up for LibTorch that every binary does before any tensor work:
//  - threads: LibTorch as packaged by Debian runs on one thread unless told, and at one thread
//    oneDNN falls back to BLAS for 1x1 convolutions;
//  - memory: glibc hands every block over 32 MB (and, past its dynamic threshold, smaller ones)
//    back to the kernel on free and maps fresh zeroed pages on the next allocation. A network
//    allocates and frees the same feature maps every forward and backward, so each step pays
//    page faults for its whole working set again: measured on this machine's VM, 15-30% of a
//    training step and a third of an fp32 forward in system time. Keeping freed memory inside
//    the process makes later steps reuse pages already mapped; the price is that the resident
//    size stays at its peak;
//  - kernels: Debian's LibTorch dispatches its own (elementwise) kernels at AVX2 unless
//    ATEN_CPU_CAPABILITY says otherwise, although its AVX-512 kernels are built in. Linking this
//    library chooses AVX-512 on a CPU that has it (AVX512 F, BW, DQ, VL), before main and so
//    before the first tensor operation (LibTorch reads the variable once); a value the user set
//    wins. The results do not change (tests/ann_test_e2e_test.sh stays bit-identical to
//    Python's torch on AVX2).
#ifndef ANN_UTIL_RUNTIME_H_
#define ANN_UTIL_RUNTIME_H_

#include "gflags/gflags_declare.h"

DECLARE_int32(threads);
DECLARE_bool(keep_freed_memory);

namespace ann {

// Sets LibTorch's intra-op thread count (and OpenMP's). `threads` <= 0 means every core.
// Returns the count in effect.
int SetNumThreads(int threads);

// The glibc malloc settings KeepFreedMemory() applies, spelt as a GLIBC_TUNABLES value, so
// that a peer process (the PyTorch benchmarks) can run under the same ones.
extern const char kKeepFreedMemoryTunables[];

// Tells glibc malloc never to serve blocks with mmap and not to trim the heap below 2 GB of
// free space, and installs a LibTorch CPU allocator whose freed blocks fit the next tensor of
// the same size, so freed tensors' pages are reused. Does nothing and returns false when the user
// set malloc tunables of their own in GLIBC_TUNABLES (theirs win); returns true once applied.
bool KeepFreedMemory();

// The ATEN_CPU_CAPABILITY this process runs with ("avx512" when chosen here, the user's, or ""
// for LibTorch's default).
const char* CpuCapability();

// Applies --threads and --keep_freed_memory. Returns the thread count in effect.
int SetUpRuntimeFromFlags();

}  // namespace ann

#endif  // ANN_UTIL_RUNTIME_H_
