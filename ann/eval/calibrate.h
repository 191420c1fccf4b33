// int8 calibration (ann_test --calibrate=FILE): the float inference graph of a checkpoint run
// over real images in the configured test mode (every pass: each slide window, each scale and
// flip), the range of every tensor the int8 forward quantizes recorded
// (ann/quant/int8_executor.h), and written once with the checkpoint file's SHA-256. Images are
// taken in the order given (ListImages sorts them): the same images give the same file.
#ifndef ANN_EVAL_CALIBRATE_H_
#define ANN_EVAL_CALIBRATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/eval/test_config.h"
#include "ann/model/segmentor.h"

namespace ann {

// Calibrates `model` (loaded from `checkpoint_path`; turned into its inference form) on
// `images` and writes the calibration to `out_path` (whole or not at all).
absl::Status CalibrateImages(EncoderDecoder model, TestConfig test,
                             const std::vector<std::string>& images,
                             const std::string& checkpoint_path, const std::string& out_path);

}  // namespace ann

#endif  // ANN_EVAL_CALIBRATE_H_
