#include "ann/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace ann {

double PolyLr(double base_lr, double min_lr, double power, int64_t iter, int64_t max_iters) {
  const double progress = std::min(1.0, static_cast<double>(iter) / max_iters);
  return (base_lr - min_lr) * std::pow(1.0 - progress, power) + min_lr;
}

}  // namespace ann
