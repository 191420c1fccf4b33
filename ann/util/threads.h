// Thread-count control. LibTorch as packaged by Debian runs on one thread unless told, and at
// one thread oneDNN falls back to BLAS for 1x1 convolutions; every binary calls
// SetNumThreads() from --threads before any tensor work.
#ifndef ANN_UTIL_THREADS_H_
#define ANN_UTIL_THREADS_H_

#include "gflags/gflags_declare.h"

DECLARE_int32(threads);

namespace ann {

// Sets LibTorch's intra-op thread count (and OpenMP's). `threads` <= 0 means every core.
// Returns the count in effect.
int SetNumThreads(int threads);

// Applies --threads.
int SetNumThreadsFromFlags();

}  // namespace ann

#endif  // ANN_UTIL_THREADS_H_
