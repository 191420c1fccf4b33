// Wall-clock latency of a forward: `warmup` untimed runs, then `runs` timed ones; min, median
// and mean in milliseconds, each minus the same statistic of a pass-through baseline (a call
// that returns its input), so framework overhead is not charged to the block.
#ifndef ANN_EFFICIENCY_LATENCY_H_
#define ANN_EFFICIENCY_LATENCY_H_

#include <functional>
#include <vector>

namespace ann {

// Timings of repeated runs, in milliseconds.
struct Latency {
  double min_ms = 0, median_ms = 0, mean_ms = 0;
  std::vector<double> samples_ms;
};

// Runs `fn` `warmup` times untimed, then `runs` times timed.
Latency TimeRuns(const std::function<void()>& fn, int warmup, int runs);
// `measured` less the baseline's min / median / mean.
Latency MinusBaseline(const Latency& measured, const Latency& baseline);

}  // namespace ann

#endif  // ANN_EFFICIENCY_LATENCY_H_
