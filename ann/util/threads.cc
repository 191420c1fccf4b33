#include "ann/util/threads.h"

#include <thread>

#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(threads, 0, "Intra-op threads for LibTorch; 0 = all cores.");
DEFINE_validator(threads, [](const char*, int32_t value) { return value >= 0; });

namespace ann {

int SetNumThreads(int threads) {
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
  }
  torch::set_num_threads(threads);
  return torch::get_num_threads();
}

int SetNumThreadsFromFlags() { return SetNumThreads(FLAGS_threads); }

}  // namespace ann
