#include "ann/eval/backend.h"

#include <memory>

#include "ann/inference/dnnl_executor.h"
#include "ann/inference/inference_form.h"
#include "ann/io/image.h"
#include "ann/quant/calibrate.h"
#include "ann/quant/int8_executor.h"
#include "ann/util/status_macros.h"

namespace ann {

Forward ExactForward(EncoderDecoder model) {
  model->eval();
  return [model](const torch::Tensor& x) mutable { return model->Predict(x); };
}

Forward MakeForward(EncoderDecoder model, const TestConfig& test) {
  if (!test.precision) return ExactForward(std::move(model));
  if (*test.precision == Precision::kInt8) {
    TORCH_CHECK(test.calibration != nullptr, "--precision=int8 without a calibration");
    auto executor = std::make_shared<Int8Executor>(InferenceGraph(*model));
    executor->Quantize(*test.calibration, test.observer);
    return [executor](const torch::Tensor& x) { return executor->Predict(x); };
  }
  auto executor = std::make_shared<DnnlExecutor>(InferenceGraph(*model), *test.precision);
  return [executor](const torch::Tensor& x) { return executor->Predict(x); };
}

absl::StatusOr<EncoderDecoder> LoadEvalModel(const ModelConfig& model_config,
                                             const TestConfig& test,
                                             const std::string& checkpoint_path,
                                             LoadReport* report) {
  ANN_RETURN_IF_ERROR(CheckCalibrationForCheckpoint(test, checkpoint_path));
  EncoderDecoder model(model_config);
  ANN_ASSIGN_OR_RETURN(LoadReport loaded,
                       LoadCheckpoint(checkpoint_path, *model, LoadMode::kStrict));
  if (report != nullptr) *report = std::move(loaded);
  model->eval();
  return model;
}

absl::StatusOr<Predictor> LoadPredictor(const ModelConfig& model_config,
                                        const NormalizeParams& normalize, const TestConfig& test,
                                        const std::string& checkpoint_path, LoadReport* report) {
  ANN_ASSIGN_OR_RETURN(EncoderDecoder model,
                       LoadEvalModel(model_config, test, checkpoint_path, report));
  return Predictor(model_config, normalize, test, MakeForward(model, test));
}

absl::Status CalibrateImages(EncoderDecoder model, const NormalizeParams& normalize,
                             const TestConfig& test, const std::vector<std::string>& images,
                             const std::string& checkpoint_path, const std::string& out_path) {
  auto executor = std::make_shared<Int8Executor>(InferenceGraph(*model));
  // The executor's float forward on the graph the int8 forward quantizes, in every pass of the
  // configured test mode; memory is checked as for exact, the larger estimate.
  TestConfig observing = test;
  observing.precision.reset();
  Predictor predictor(model->config(), normalize, observing,
                      [executor](const torch::Tensor& x) { return executor->Observe(x); });
  return CalibrateExecutor(
      *executor, images,
      [&predictor](const std::string& path) -> absl::Status {
        ANN_ASSIGN_OR_RETURN(const cv::Mat image, ReadColorImage(path));
        ANN_RETURN_IF_ERROR(predictor.CheckImage(path, image.size()));
        predictor.Logits(image);
        return absl::OkStatus();
      },
      checkpoint_path, out_path);
}

}  // namespace ann
