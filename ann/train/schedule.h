// mmcv's PolyLrUpdaterHook, by iteration: lr = (base - min) * (1 - iter / max)^power + min.
#ifndef ANN_TRAIN_SCHEDULE_H_
#define ANN_TRAIN_SCHEDULE_H_

#include <cstdint>

namespace ann {

// mmcv's poly schedule per iteration: (base - min) * (1 - iter / max_iters)^power + min.
double PolyLr(double base_lr, double min_lr, double power, int64_t iter, int64_t max_iters);

}  // namespace ann

#endif  // ANN_TRAIN_SCHEDULE_H_
