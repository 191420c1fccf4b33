#include "ann/quant/calibration.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/testing.h"

namespace ann {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(QuantizeWeightPerChannelTest, DequantizedEqualsClosedForm) {
  for (const int64_t max_code : {127, 63}) {  // 8-bit, and 7-bit for CPUs without VNNI
    // Output channels of very different magnitudes, one of them all zeros; odd shape.
    torch::manual_seed(3);
    torch::Tensor w = torch::randn({5, 3, 3, 2}, torch::kFloat);
    const float magnitude[5] = {1e-3f, 0.5f, 7.f, 0.f, 40.f};
    for (int c = 0; c < 5; ++c) w[c] *= magnitude[c];
    const torch::Tensor q = QuantizeWeightPerChannel(w, max_code);
    ASSERT_EQ(q.scalar_type(), torch::kQInt8);
    ASSERT_EQ(q.qscheme(), torch::kPerChannelAffine);
    const torch::Tensor ints = q.int_repr().to(torch::kLong);
    const torch::Tensor deq = q.dequantize();
    auto wa = w.accessor<float, 4>();
    auto ia = ints.accessor<int64_t, 4>();
    auto da = deq.accessor<float, 4>();
    for (int c = 0; c < 5; ++c) {
      // The closed form: s_c = max |w_c| / max_code (1 for a zero channel), q = round(w / s_c),
      // zero point 0, dequantized q * s_c.
      double max_abs = 0;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          for (int k = 0; k < 2; ++k)
            max_abs = std::max(max_abs, std::fabs((double)wa[c][i][j][k]));
      const double s =
          max_abs > 0 ? static_cast<float>(max_abs / static_cast<double>(max_code)) : 1.0;
      EXPECT_NEAR(q.q_per_channel_scales()[c].item<double>(), s, s * 1e-6) << "channel " << c;
      EXPECT_EQ(q.q_per_channel_zero_points()[c].item<int64_t>(), 0);
      int64_t largest = 0;
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
          for (int k = 0; k < 2; ++k) {
            const int64_t expected = std::llround(std::nearbyint(wa[c][i][j][k] / s));
            EXPECT_EQ(ia[c][i][j][k], expected) << c << " " << i << " " << j << " " << k;
            EXPECT_NEAR(da[c][i][j][k], expected * s, s * 1e-5);
            EXPECT_LE(std::fabs(da[c][i][j][k] - wa[c][i][j][k]), s / 2 * (1 + 1e-5));
            largest = std::max(largest, std::abs(ia[c][i][j][k]));
          }
        }
      }
      EXPECT_EQ(largest, max_abs > 0 ? max_code : 0) << "channel " << c;  // symmetric, full range
    }
  }
}

TEST(ActivationQParamsTest, ClosedForm) {
  TensorRange r;
  r.min = -0.5, r.max = 2.0, r.low = -0.25, r.high = 1.5;
  auto [scale, zero_point] = ActivationQParams(r, Observer::kMinMax);
  EXPECT_DOUBLE_EQ(scale, 2.5 / 255);
  EXPECT_EQ(zero_point, 51);  // round(0.5 / (2.5 / 255)) = round(51.0)
  std::tie(scale, zero_point) = ActivationQParams(r, Observer::kPercentile);
  EXPECT_DOUBLE_EQ(scale, 1.75 / 255);
  EXPECT_EQ(zero_point, 36);  // round(0.25 * 255 / 1.75) = round(36.43)
  // A range that excludes 0 is widened to hold it (ReLU outputs: zero point 0).
  r.min = 0.3, r.max = 6.0;
  std::tie(scale, zero_point) = ActivationQParams(r, Observer::kMinMax);
  EXPECT_DOUBLE_EQ(scale, 6.0 / 255);
  EXPECT_EQ(zero_point, 0);
  r.min = -4.0, r.max = -1.0;
  std::tie(scale, zero_point) = ActivationQParams(r, Observer::kMinMax);
  EXPECT_DOUBLE_EQ(scale, 4.0 / 255);
  EXPECT_EQ(zero_point, 255);
  r.min = r.max = 0;  // nothing seen but zeros
  std::tie(scale, zero_point) = ActivationQParams(r, Observer::kMinMax);
  EXPECT_DOUBLE_EQ(scale, 1.0);
  EXPECT_EQ(zero_point, 0);
}

TEST(ObserveTest, MinMaxOverImagesQuantilesAveraged) {
  TensorRange r;
  // 0..10000: the 0.01% quantile is 1, the 99.99% one 9999 (linear interpolation).
  Observe(torch::arange(10001, torch::kFloat).reshape({1, 1, 73, 137}), r);
  EXPECT_EQ(r.images, 1);
  EXPECT_DOUBLE_EQ(r.min, 0);
  EXPECT_DOUBLE_EQ(r.max, 10000);
  EXPECT_NEAR(r.low, 1, 1e-3);
  EXPECT_NEAR(r.high, 9999, 1e-3);
  // 2 * (0..10000) - 5000: -5000..15000, quantiles -4998 and 14998.
  Observe((torch::arange(10001, torch::kFloat) * 2 - 5000).flip(0), r);
  EXPECT_EQ(r.images, 2);
  EXPECT_DOUBLE_EQ(r.min, -5000);
  EXPECT_DOUBLE_EQ(r.max, 15000);
  EXPECT_NEAR(r.low, (1 - 4998) / 2.0, 2e-3);
  EXPECT_NEAR(r.high, (9999 + 14998) / 2.0, 2e-3);
}

TEST(ParseObserverFlagTest, NamesTheFlag) {
  EXPECT_EQ(*ParseObserverFlag("minmax"), Observer::kMinMax);
  EXPECT_EQ(*ParseObserverFlag("percentile"), Observer::kPercentile);
  const auto bad = ParseObserverFlag("entropy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--int8_observer"), std::string::npos)
      << bad.status().message();
}

TEST(CalibrationFileTest, RoundTripsExactlyAndDeterministically) {
  const std::string dir = testing::MakeTempDir("calibration");
  Calibration c;
  c.checkpoint_sha256 = std::string(64, 'a');
  c.images = 3;
  c.ranges["backbone.layer1.0.conv1"] = {-1.0 / 3, 2.0 / 7, -0.1, 0.2, 3};
  c.ranges["input"] = {-2.1179039301310043, 2.6399999999999997, -2.0, 2.5, 3};
  ASSERT_TRUE(WriteCalibration(dir + "/a.json", c).ok());
  ASSERT_TRUE(WriteCalibration(dir + "/b.json", c).ok());
  EXPECT_EQ(ReadAll(dir + "/a.json"), ReadAll(dir + "/b.json"));
  const auto read = ReadCalibration(dir + "/a.json");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->checkpoint_sha256, c.checkpoint_sha256);
  EXPECT_EQ(read->images, 3);
  ASSERT_EQ(read->ranges.size(), 2u);
  for (const auto& [name, r] : c.ranges) {
    const TensorRange& got = read->ranges.at(name);
    EXPECT_EQ(got.min, r.min) << name;  // bit for bit
    EXPECT_EQ(got.max, r.max) << name;
    EXPECT_EQ(got.low, r.low) << name;
    EXPECT_EQ(got.high, r.high) << name;
  }
}

TEST(CalibrationFileTest, RefusesWhatIsNotOne) {
  const std::string dir = testing::MakeTempDir("calibration_bad");
  WriteAll(dir + "/text.json", "hello");
  WriteAll(dir + "/other.json", R"({"format": "something else"})");
  WriteAll(dir + "/no_ranges.json",
           R"({"format": "ann int8 calibration 1", "checkpoint_sha256": ")" + std::string(64, 'b') +
               R"(", "images": 1, "ranges": {}})");
  WriteAll(dir + "/reversed.json",
           R"({"format": "ann int8 calibration 1", "checkpoint_sha256": ")" + std::string(64, 'b') +
               R"(", "images": 1, "ranges": {"x": {"min": 2, "max": 1, "low": 0, "high": 0}}})");
  for (const char* name :
       {"text.json", "other.json", "no_ranges.json", "reversed.json", "missing.json"}) {
    const auto read = ReadCalibration(dir + "/" + name);
    ASSERT_FALSE(read.ok()) << name;
    EXPECT_EQ(read.status().message().find(dir + "/" + name), 0u) << read.status().message();
    EXPECT_EQ(read.status().message().find('\n'), std::string::npos);
  }
}

TEST(CalibrationFileTest, BoundToTheCheckpointByContent) {
  const std::string dir = testing::MakeTempDir("calibration_sha");
  WriteAll(dir + "/abc.pth", "abc");
  WriteAll(dir + "/copy.pth", "abc");
  WriteAll(dir + "/abd.pth", "abd");
  const auto sha = FileSha256(dir + "/abc.pth");
  ASSERT_TRUE(sha.ok());
  // FIPS 180-2's example.
  EXPECT_EQ(*sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Calibration c;
  c.checkpoint_sha256 = *sha;
  EXPECT_TRUE(CheckCalibrationFor(c, "cal.json", dir + "/abc.pth").ok());
  EXPECT_TRUE(CheckCalibrationFor(c, "cal.json", dir + "/copy.pth").ok());  // content, not name
  const absl::Status other = CheckCalibrationFor(c, "cal.json", dir + "/abd.pth");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.message().find("cal.json: made for another checkpoint"), 0u) << other.message();
  EXPECT_NE(other.message().find(dir + "/abd.pth"), std::string::npos);
  EXPECT_FALSE(CheckCalibrationFor(c, "cal.json", dir + "/missing.pth").ok());
}

}  // namespace
}  // namespace ann
