// Timing shared by the benchmarks: min and median of repeated runs, after a warm-up.
#ifndef BENCHMARKS_TIMING_H_
#define BENCHMARKS_TIMING_H_

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace ann::bench {

struct Timing {
  double min_ms = -1, median_ms = -1;  // -1: not measured
};

// Min and median of `ms`.
inline Timing Summarise(std::vector<double> ms) {
  if (ms.empty()) return {};
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2]};
}

// Runs `fn` once untimed, then `runs` times timed.
inline Timing Time(const std::function<void()>& fn, int runs) {
  fn();
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, runs); ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  return Summarise(ms);
}

}  // namespace ann::bench

#endif  // BENCHMARKS_TIMING_H_
