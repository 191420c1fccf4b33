#include "ann/eval/calibrate.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "ann/eval/predictor.h"
#include "ann/inference/inference_form.h"
#include "ann/io/image.h"
#include "ann/quant/calibration.h"
#include "ann/quant/int8_executor.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"

namespace ann {

absl::Status CalibrateImages(EncoderDecoder model, TestConfig test,
                             const std::vector<std::string>& images,
                             const std::string& checkpoint_path, const std::string& out_path) {
  if (images.empty()) return absl::InvalidArgumentError("--images: no images to calibrate on");
  ANN_ASSIGN_OR_RETURN(const std::string sha256, FileSha256(checkpoint_path));
  auto engine = std::make_shared<Int8Executor>(InferenceGraph(*model));
  // The engine's float forward on the graph the int8 forward quantizes, in every pass of the
  // configured test mode.
  test.arithmetic = TestConfig::Arithmetic::kExact;
  Predictor predictor(model, test);
  predictor.SetForward([engine](const torch::Tensor& x) { return engine->Observe(x); });
  Progress progress("calibrate", static_cast<int64_t>(images.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(images.size()) / 10));
  for (const std::string& path : images) {
    ANN_ASSIGN_OR_RETURN(const cv::Mat image, ReadColorImage(path));
    ANN_RETURN_IF_ERROR(predictor.CheckImage(path, image.size()));
    predictor.Logits(image);
    progress.Advance(1, FileStem(path));
  }
  progress.Finish();
  Calibration calibration = engine->calibration();
  calibration.checkpoint_sha256 = sha256;
  calibration.images = static_cast<int64_t>(images.size());
  return WriteCalibration(out_path, calibration);
}

}  // namespace ann
