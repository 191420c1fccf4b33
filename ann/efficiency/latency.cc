#include "ann/efficiency/latency.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace ann {

Latency TimeRuns(const std::function<void()>& fn, int warmup, int runs) {
  for (int i = 0; i < warmup; ++i) fn();
  Latency l;
  for (int i = 0; i < std::max(1, runs); ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    l.samples_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::vector<double> sorted = l.samples_ms;
  std::sort(sorted.begin(), sorted.end());
  l.min_ms = sorted.front();
  l.median_ms = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                  : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  l.mean_ms = std::accumulate(sorted.begin(), sorted.end(), 0.0) / sorted.size();
  return l;
}

Latency MinusBaseline(const Latency& m, const Latency& b) {
  Latency out = m;
  out.min_ms = std::max(0.0, m.min_ms - b.min_ms);
  out.median_ms = std::max(0.0, m.median_ms - b.median_ms);
  out.mean_ms = std::max(0.0, m.mean_ms - b.mean_ms);
  return out;
}

}  // namespace ann
