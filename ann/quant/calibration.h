// Post-training static quantization's calibration: the range of every activation the int8
// forward quantizes, observed over real images by a float pass of the model (ann_test
// --calibrate), written once as JSON and bound to the checkpoint it was made for by the
// checkpoint file's SHA-256: any other checkpoint is refused. Two observers are kept per tensor
// (min/max, and the 0.01% / 99.99% quantiles averaged over images), and one is chosen at run
// time (--int8_observer; the default was chosen by measured mIoU, see the README).
#ifndef ANN_QUANT_CALIBRATION_H_
#define ANN_QUANT_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace ann {

// How an activation's quantization range is chosen from what calibration saw.
enum class Observer { kMinMax, kPercentile };

// "minmax" or "percentile"; errors name --int8_observer.
absl::StatusOr<Observer> ParseObserverFlag(const std::string& text);

// What calibration saw of one tensor.
struct TensorRange {
  double min = 0, max = 0;   // over all images
  double low = 0, high = 0;  // the 0.01% and 99.99% quantiles, averaged over images
  int64_t images = 0;
};

// The ranges of every quantized tensor, by name (ann/quant/int8_executor names them:
// CalibrationName).
struct Calibration {
  std::string checkpoint_sha256;  // of the checkpoint file the ranges were observed with
  int64_t images = 0;
  std::map<std::string, TensorRange> ranges;
};

// Folds `x` (float) into `range` (one image's worth).
void Observe(const torch::Tensor& x, TensorRange& range);

// uint8 activation parameters (scale, zero point) for `range` under `observer`: the range is
// widened to hold 0, scale = (high - low) / 255, zero point = round(-low / scale).
std::pair<double, int64_t> ActivationQParams(const TensorRange& range, Observer observer);

// int8 weights per output channel, symmetric: scale_c = max |w_c| / max_code, zero point 0
// (codes in -max_code..max_code; Int8Conv takes 63 where the CPU has no int8 dot product).
torch::Tensor QuantizeWeightPerChannel(const torch::Tensor& weight, int64_t max_code = 127);

// The SHA-256 of a file, as 64 hex digits. Errors name the file.
absl::StatusOr<std::string> FileSha256(const std::string& path);

// Writes `calibration` as JSON (deterministic: same ranges, same bytes).
absl::Status WriteCalibration(const std::string& path, const Calibration& calibration);
absl::StatusOr<Calibration> ReadCalibration(const std::string& path);

// OK when `calibration` (read from `calibration_path`) was made for the checkpoint at
// `checkpoint_path`; else one line naming both and their hashes.
absl::Status CheckCalibrationFor(const Calibration& calibration,
                                 const std::string& calibration_path,
                                 const std::string& checkpoint_path);

}  // namespace ann

#endif  // ANN_QUANT_CALIBRATION_H_
