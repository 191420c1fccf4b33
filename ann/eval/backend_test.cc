#include "ann/eval/backend.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "ann/inference/inference_form.h"
#include "ann/inference/test_models.h"
#include "ann/io/checkpoint.h"
#include "ann/model/tiny_model.h"
#include "ann/quant/int8_executor.h"
#include "ann/util/cpu.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

ModelConfig SmallConfig() {
  ModelConfig config = TinyModelConfig(7);
  config.pool_scales = {1, 3};
  return config;
}

double RelativeError(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

// One loaded model serves every precision in any order: a backend never changes the model's
// float32 weights (bf16 or int8 first, fp32 after gives fp32's numbers bit for bit).
TEST(BackendTest, EveryPrecisionFromOneModelInAnyOrder) {
  EncoderDecoder model = TrainedLookingModel(SmallConfig(), 11);
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({1, 3, 53, 75});
  const std::vector<torch::Tensor> weights_before = [&] {
    std::vector<torch::Tensor> copies;
    for (const auto& item : model->named_parameters()) copies.push_back(item.value().clone());
    return copies;
  }();
  TestConfig test;
  const torch::Tensor exact = MakeForward(model, test)(x);
  test.precision = Precision::kFp32;
  const torch::Tensor fp32 = MakeForward(model, test)(x);
  EXPECT_LT(RelativeError(fp32, exact), 1e-4);
  if (CpuHasBf16()) {
    test.precision = Precision::kBf16;
    EXPECT_LT(RelativeError(MakeForward(model, test)(x), exact), 0.05);
  }
  Int8Executor observer(InferenceGraph(*model));
  observer.Observe(x);
  test.precision = Precision::kInt8;
  test.calibration = std::make_shared<const Calibration>(observer.calibration());
  const torch::Tensor int8 = MakeForward(model, test)(x);
  EXPECT_LT(RelativeError(int8, exact), 0.15);
  EXPECT_GT(RelativeError(int8, exact), 0);  // int8 really ran
  test.precision = Precision::kFp32;
  EXPECT_TRUE(torch::equal(MakeForward(model, test)(x), fp32));
  test.precision.reset();
  EXPECT_TRUE(torch::equal(MakeForward(model, test)(x), exact));
  int i = 0;
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), weights_before[i++])) << item.key();
  }
}

TEST(BackendTest, LoadPredictorLoadsStrictlyAndRefusesAnotherCheckpointsCalibration) {
  const std::string dir = ::testing::TempDir() + "/backend_test";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/model odd name.pth";
  EncoderDecoder model = TrainedLookingModel(SmallConfig(), 12);
  ASSERT_TRUE(SaveCheckpoint(path, *model, nullptr).ok());
  LoadReport report;
  absl::StatusOr<Predictor> predictor =
      LoadPredictor(SmallConfig(), NormalizeParams(), TestConfig(), path, &report);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  EXPECT_TRUE(report.clean());
  EXPECT_FALSE(report.loaded.empty());
  cv::Mat image(41, 67, CV_8UC3);
  cv::randu(image, 0, 256);
  // The loaded weights, not fresh ones: the saved model's own logits.
  const torch::Tensor want =
      Predictor(SmallConfig(), NormalizeParams(), TestConfig(), ExactForward(model)).Logits(image);
  EXPECT_TRUE(torch::equal(predictor->Logits(image), want));

  ModelConfig other = SmallConfig();
  other.num_classes = 9;
  EXPECT_FALSE(LoadPredictor(other, NormalizeParams(), TestConfig(), path).ok());
  TestConfig int8;
  int8.precision = Precision::kInt8;
  auto calibration = std::make_shared<Calibration>();
  calibration->checkpoint_sha256 = std::string(64, '0');
  int8.calibration = calibration;
  int8.calibration_path = "calibration.json";
  const absl::Status refused = LoadPredictor(SmallConfig(), NormalizeParams(), int8, path).status();
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("calibration.json"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ann
