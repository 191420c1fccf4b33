#include "ann/train/loss.h"

#include <cmath>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

// Two pixels of a 1x2 image, 3 classes. logits pixel 0 = (0, 0, 0) → p = 1/3 each;
// pixel 1 = (ln 2, 0, 0) → p = (1/2, 1/4, 1/4).
torch::Tensor Logits() {
  return torch::tensor({0.0, std::log(2.0), 0.0, 0.0, 0.0, 0.0}, torch::kFloat64)
      .reshape({1, 3, 1, 2});
}

TEST(LossTest, MmsegCrossEntropyAveragesOverAllPixelsIncludingIgnored) {
  torch::Tensor labels = torch::tensor({0, 255}, torch::kLong).reshape({1, 1, 2});
  // Only pixel 0 counts: -ln(1/3); mean over 2 pixels.
  EXPECT_NEAR(MmsegCrossEntropy(Logits(), labels, {}).item<double>(), std::log(3.0) / 2, 1e-12);
  torch::Tensor both = torch::tensor({0, 1}, torch::kLong).reshape({1, 1, 2});
  EXPECT_NEAR(MmsegCrossEntropy(Logits(), both, {}).item<double>(),
              (std::log(3.0) + std::log(4.0)) / 2, 1e-12);
  // Class weights multiply each pixel's loss; mmseg still divides by the pixel count.
  torch::Tensor w = torch::tensor({2.0, 0.5, 1.0}, torch::kFloat64);
  EXPECT_NEAR(MmsegCrossEntropy(Logits(), both, w).item<double>(),
              (2 * std::log(3.0) + 0.5 * std::log(4.0)) / 2, 1e-12);
  // PyTorch's weighted mean divides by the weights' sum instead.
  EXPECT_NEAR(WeightedMeanCrossEntropy(Logits(), both, w).item<double>(),
              (2 * std::log(3.0) + 0.5 * std::log(4.0)) / 2.5, 1e-12);
}

TEST(LossTest, OhemKeepsHardPixels) {
  // True-class probabilities: pixel 0 (class 1) 1/3, pixel 1 (class 0) 1/2.
  torch::Tensor labels = torch::tensor({1, 0}, torch::kLong).reshape({1, 1, 2});
  // thresh 0.4, min_kept 0 → threshold = max(p[0] = 1/3, 0.4) = 0.4: only pixel 0 (1/3) kept.
  EXPECT_NEAR(OhemCrossEntropy(Logits(), labels, {}, 0.4, 0).item<double>(), std::log(3.0), 1e-12);
  // thresh 0.7: both below → mean of both.
  EXPECT_NEAR(OhemCrossEntropy(Logits(), labels, {}, 0.7, 0).item<double>(),
              (std::log(3.0) + std::log(2.0)) / 2, 1e-12);
  // min_kept 1 → the threshold is the 2nd smallest probability (1/2), strictly below: 1 pixel.
  EXPECT_NEAR(OhemCrossEntropy(Logits(), labels, {}, 0.1, 1).item<double>(), std::log(3.0), 1e-12);
  // min_kept beyond the count clamps to the largest: threshold 1/2 → only pixel 0 again.
  EXPECT_NEAR(OhemCrossEntropy(Logits(), labels, {}, 0.1, 100000).item<double>(), std::log(3.0),
              1e-12);
  // Ignored pixels never count.
  torch::Tensor ignored = torch::tensor({255, 0}, torch::kLong).reshape({1, 1, 2});
  EXPECT_NEAR(OhemCrossEntropy(Logits(), ignored, {}, 0.7, 0).item<double>(), std::log(2.0), 1e-12);
}

TEST(LossTest, AuxWeighting) {
  SegmentorOutputs outputs{Logits(), Logits() * 0};  // aux: uniform → -ln(1/3) per pixel.
  torch::Tensor labels = torch::tensor({0, 1}, torch::kLong).reshape({1, 1, 2});
  TrainConfig config;
  config.aux_weight = 0.4;
  LossTerms terms = SegmentationLoss(outputs, labels, config, false);
  EXPECT_NEAR(terms.decode, (std::log(3.0) + std::log(4.0)) / 2, 1e-12);
  EXPECT_NEAR(terms.aux, std::log(3.0), 1e-12);
  EXPECT_NEAR(terms.total.item<double>(), terms.decode + 0.4 * std::log(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(terms.decode_acc, 50.0);  // Pixel 0 argmax is 0 (ties → first), pixel 1 is 0.
}

// Two 1x4 images, two classes; every pixel's logits are (ln p0, ln p1), so softmax gives exactly
// the probabilities below. True-class probabilities: image A (easy) 0.9 0.8 0.95 0.6, image B
// (hard) 0.1 0.2 0.3 0.5.
struct TwoImages {
  torch::Tensor logits, labels;
};

TwoImages MakeTwoImages() {
  const double p_true[2][4] = {{0.9, 0.8, 0.95, 0.6}, {0.1, 0.2, 0.3, 0.5}};
  const int64_t label[2][4] = {{0, 0, 1, 1}, {1, 1, 1, 0}};
  TwoImages t{torch::zeros({2, 2, 1, 4}, torch::kFloat64), torch::zeros({2, 1, 4}, torch::kLong)};
  for (int b = 0; b < 2; ++b) {
    for (int x = 0; x < 4; ++x) {
      const int64_t y = label[b][x];
      t.labels[b][0][x] = y;
      t.logits[b][y][0][x] = std::log(p_true[b][x]);
      t.logits[b][1 - y][0][x] = std::log(1 - p_true[b][x]);
    }
  }
  return t;
}

double Nll(double p) { return -std::log(p); }

TEST(LossTest, OhemPerImageKeepsMinKeptPixelsOfEveryImage) {
  const TwoImages t = MakeTwoImages();
  TrainConfig config;
  config.loss = TrainConfig::Loss::kOhem;
  config.ohem_thresh = 0.7;
  config.ohem_min_kept = 2;
  config.aux_weight = 0;
  // Over the batch: sorted 0.1 0.2 0.3 0.5 0.6 0.8 0.9 0.95, the 3rd smallest (index 2) is 0.3,
  // threshold max(0.3, 0.7) = 0.7: the five pixels below 0.7 are kept.
  const double batch = (Nll(0.1) + Nll(0.2) + Nll(0.3) + Nll(0.5) + Nll(0.6)) / 5;
  // Per image: A sorted 0.6 0.8 0.9 0.95 → threshold max(0.9, 0.7) = 0.9 keeps 0.6 and 0.8;
  // B sorted 0.1 0.2 0.3 0.5 → threshold 0.7 keeps all four; then the mean of the two images.
  const double image_a = (Nll(0.6) + Nll(0.8)) / 2;
  const double image_b = (Nll(0.1) + Nll(0.2) + Nll(0.3) + Nll(0.5)) / 4;
  SegmentorOutputs outputs{t.logits, torch::Tensor()};
  EXPECT_NEAR(SegmentationLoss(outputs, t.labels, config, false).decode, batch, 1e-12);
  config.loss_per_image = true;
  LossTerms terms = SegmentationLoss(outputs, t.labels, config, false);
  EXPECT_NEAR(terms.decode, (image_a + image_b) / 2, 1e-12);
  EXPECT_NEAR(terms.total.item<double>(), (image_a + image_b) / 2, 1e-12);
  EXPECT_GT(std::abs(batch - (image_a + image_b) / 2), 0.3);  // the two really differ
}

TEST(LossTest, WeightedAuxCrossEntropyPerImage) {
  const TwoImages t = MakeTwoImages();
  TrainConfig config;
  config.loss = TrainConfig::Loss::kOhem;
  config.class_weight = {1.0f, 3.0f};
  config.aux_weight = 0.4;
  config.loss_per_image = true;
  // Aux head: PyTorch's weighted mean per image, sum(w[y] l) / sum(w[y]), then averaged.
  // Labels A: 0 0 1 1 (weights 1 1 3 3), B: 1 1 1 0 (weights 3 3 3 1).
  const double aux_a = (Nll(0.9) + Nll(0.8) + 3 * Nll(0.95) + 3 * Nll(0.6)) / 8;
  const double aux_b = (3 * Nll(0.1) + 3 * Nll(0.2) + 3 * Nll(0.3) + Nll(0.5)) / 10;
  const double aux_batch = (Nll(0.9) + Nll(0.8) + 3 * Nll(0.95) + 3 * Nll(0.6) + 3 * Nll(0.1) +
                            3 * Nll(0.2) + 3 * Nll(0.3) + Nll(0.5)) /
                           18;
  SegmentorOutputs outputs{t.logits, t.logits};
  LossTerms terms = SegmentationLoss(outputs, t.labels, config, false);
  EXPECT_NEAR(terms.aux, (aux_a + aux_b) / 2, 1e-12);
  EXPECT_NEAR(terms.total.item<double>(), terms.decode + 0.4 * (aux_a + aux_b) / 2, 1e-12);
  config.loss_per_image = false;
  EXPECT_NEAR(SegmentationLoss(outputs, t.labels, config, false).aux, aux_batch, 1e-12);
}

TEST(LossTest, PixelAccuracyCountsTheFirstOfTiedMaxima) {
  // 3 classes over a 2 x 3 x 5 batch (odd sizes), hand-made: pixel (0, 0, 0) ties classes 0 and
  // 2 at 1.0 (argmax, like mmseg's topk, takes 0, the first); (1, 2, 4) ties 1 and 2 (takes 1);
  // one pixel ignored.
  torch::Tensor logits = torch::zeros({2, 3, 3, 5});
  torch::Tensor labels = torch::zeros({2, 3, 5}, torch::kLong);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t y = 0; y < 3; ++y) {
      for (int64_t x = 0; x < 5; ++x) {
        const int64_t c = (b + 2 * y + x) % 3;
        logits[b][c][y][x] = 1.0 + 0.1 * x;
        labels[b][y][x] = (x == 3) ? (c + 1) % 3 : c;  // column 3 is wrong: 6 of 30 pixels
      }
    }
  }
  logits[0][0][0][0] = 1.0;
  logits[0][2][0][0] = 1.0;
  labels[0][0][0] = 0;  // the tie resolves to 0: right
  logits[1][1][2][4] = 2.0;
  logits[1][2][2][4] = 2.0;
  labels[1][2][4] = 1;    // resolves to 1: right (the last of the tied, 2, would be wrong)
  labels[1][0][0] = 255;  // ignored (it was right)
  // 29 labelled pixels; wrong: the 6 of column 3 (ties to the last class would add 2).
  EXPECT_DOUBLE_EQ(PixelAccuracy(logits, labels), 100.0 * 23 / 29);
  EXPECT_DOUBLE_EQ(PixelAccuracy(logits, torch::full({2, 3, 5}, 255, torch::kLong)), 0.0);
}

}  // namespace
}  // namespace ann
