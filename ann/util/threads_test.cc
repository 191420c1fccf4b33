#include "ann/util/threads.h"

#include <thread>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

TEST(ThreadsTest, ZeroMeansAllCores) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(SetNumThreads(0), cores);
  EXPECT_EQ(torch::get_num_threads(), cores);
}

TEST(ThreadsTest, ExplicitCount) {
  EXPECT_EQ(SetNumThreads(1), 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
}

}  // namespace
}  // namespace ann
