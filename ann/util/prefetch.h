// Runs `produce(i)` for i = 0..n-1 on background threads, at most `lookahead` items ahead of
// the consumer, and hands the results out in order: decoding the next images while the model
// works on the current one.
//
//   Prefetch<cv::Mat> images(paths.size(), 2, 4, [&](size_t i) { return Decode(paths[i]); });
//   for (size_t i = 0; i < paths.size(); ++i) { cv::Mat m = images.Next(); ... }
#ifndef ANN_UTIL_PREFETCH_H_
#define ANN_UTIL_PREFETCH_H_

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ann {

template <typename T>
// The project's worker pool (see the file comment).
class Prefetch {
 public:
  Prefetch(size_t count, int workers, size_t lookahead, std::function<T(size_t)> produce)
      : count_(count), lookahead_(std::max<size_t>(1, lookahead)), produce_(std::move(produce)) {
    for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { Work(); });
  }
  ~Prefetch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  Prefetch(const Prefetch&) = delete;
  Prefetch& operator=(const Prefetch&) = delete;

  // The next result in index order (blocks until it is ready). An exception thrown by
  // `produce` on a worker (a failed allocation, a LibTorch or OpenCV error) is rethrown here, on
  // the consumer's thread, where the binary's error boundary turns it into one error line.
  T Next() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ready_.count(next_out_) > 0; });
    auto node = ready_.extract(next_out_++);
    lock.unlock();
    cv_.notify_all();
    if (node.mapped().error) std::rethrow_exception(node.mapped().error);
    return std::move(*node.mapped().value);
  }

 private:
  void Work() {
    while (true) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock,
                 [&] { return stop_ || (next_in_ < count_ && next_in_ < next_out_ + lookahead_); });
        if (stop_) return;
        i = next_in_++;
      }
      Result result;
      try {
        result.value.emplace(produce_(i));
      } catch (...) {
        result.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        ready_.emplace(i, std::move(result));
      }
      cv_.notify_all();
    }
  }

  struct Result {
    std::optional<T> value;
    std::exception_ptr error;
  };

  size_t count_, lookahead_;
  std::function<T(size_t)> produce_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_in_ = 0, next_out_ = 0;
  std::map<size_t, Result> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ann

#endif  // ANN_UTIL_PREFETCH_H_
