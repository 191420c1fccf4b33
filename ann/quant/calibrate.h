// The int8 calibration driver (ann_test --calibrate=FILE): an inference graph's float forward run
// over real images, the range of every tensor the int8 forward quantizes recorded
// (Int8Executor::Observe), and the calibration written once with the checkpoint file's SHA-256.
// How an image becomes passes (the test mode: each slide window, scale and flip) is the
// caller's: ann/eval/backend.h runs them through a Predictor. Images are taken in the order
// given: the same images give the same file.
#ifndef ANN_QUANT_CALIBRATE_H_
#define ANN_QUANT_CALIBRATE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/quant/int8_executor.h"

namespace ann {

// Runs `observe_image(path)` (every pass of one image through `executor.Observe`) for each of
// `images`, with progress, then writes what `executor` observed to `out_path` (whole or not at
// all), stamped with the SHA-256 of `checkpoint_path` and the image count.
absl::Status CalibrateExecutor(Int8Executor& executor, const std::vector<std::string>& images,
                               const std::function<absl::Status(const std::string&)>& observe_image,
                               const std::string& checkpoint_path, const std::string& out_path);

}  // namespace ann

#endif  // ANN_QUANT_CALIBRATE_H_
