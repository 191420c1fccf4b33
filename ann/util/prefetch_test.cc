#include "ann/util/prefetch.h"

#include <stdexcept>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(PrefetchTest, ResultsComeInOrderWhateverTheWorkers) {
  for (int workers : {1, 3}) {
    Prefetch<int> squares(20, workers, 4, [](size_t i) { return static_cast<int>(i * i); });
    for (int i = 0; i < 20; ++i) EXPECT_EQ(squares.Next(), i * i);
  }
}

// A worker's exception reaches the consumer (instead of std::terminate on the worker thread).
TEST(PrefetchTest, WorkerExceptionIsRethrownToTheConsumer) {
  Prefetch<int> items(5, 2, 2, [](size_t i) {
    if (i == 2) throw std::runtime_error("cannot decode item 2");
    return static_cast<int>(i);
  });
  EXPECT_EQ(items.Next(), 0);
  EXPECT_EQ(items.Next(), 1);
  try {
    items.Next();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot decode item 2");
  }
  EXPECT_EQ(items.Next(), 3);
}

}  // namespace
}  // namespace ann
