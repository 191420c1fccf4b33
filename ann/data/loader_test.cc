#include "ann/data/loader.h"

#include <fstream>
#include <set>

#include "ann/data/sampler.h"
#include "ann/io/image.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace ann {
namespace {

TEST(SamplerTest, EpochsArePermutationsAndRanksDisjoint) {
  TrainSampler sampler(10, /*world_size=*/2, /*batch_per_rank=*/2, /*seed=*/7);
  // Iterations 0..4 of 2 ranks x 2 slots consume 20 positions = 2 epochs.
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> perm = sampler.Permutation(epoch);
    EXPECT_EQ(std::set<int64_t>(perm.begin(), perm.end()).size(), 10u);
  }
  std::multiset<int64_t> first_epoch;
  for (int64_t p = 0; p < 10; ++p) {
    const int64_t it = p / 4, rank = (p / 2) % 2, slot = p % 2;
    first_epoch.insert(sampler.SampleIndex(it, static_cast<int>(rank), static_cast<int>(slot)));
  }
  EXPECT_EQ(std::set<int64_t>(first_epoch.begin(), first_epoch.end()).size(), 10u);
  EXPECT_NE(sampler.Permutation(0), sampler.Permutation(1));
  // Same numbers, same answers, from a fresh sampler.
  TrainSampler again(10, 2, 2, 7);
  for (int it = 0; it < 12; ++it) {
    EXPECT_EQ(sampler.SampleIndex(it, 1, 1), again.SampleIndex(it, 1, 1));
    EXPECT_EQ(sampler.AugmentSeed(it, 1, 1), again.AugmentSeed(it, 1, 1));
  }
  EXPECT_NE(sampler.AugmentSeed(3, 0, 0), sampler.AugmentSeed(3, 1, 0));
  EXPECT_NE(TrainSampler(10, 2, 2, 8).Permutation(0), sampler.Permutation(0));
}

TEST(SamplerTest, RanksSplitTheGlobalBatchInRankOrder) {
  // 3 ranks x 2 images see, and augment with, what 1 process of 6 images does, rank by rank.
  TrainSampler split(7, /*world_size=*/3, /*batch_per_rank=*/2, /*seed=*/5);
  TrainSampler whole(7, /*world_size=*/1, /*batch_per_rank=*/6, /*seed=*/5);
  for (int it = 0; it < 5; ++it) {
    for (int rank = 0; rank < 3; ++rank) {
      for (int slot = 0; slot < 2; ++slot) {
        EXPECT_EQ(split.SampleIndex(it, rank, slot), whole.SampleIndex(it, 0, rank * 2 + slot));
        EXPECT_EQ(split.AugmentSeed(it, rank, slot), whole.AugmentSeed(it, 0, rank * 2 + slot));
      }
    }
  }
  EXPECT_NE(split.AugmentSeed(1, 0, 0), split.AugmentSeed(1, 0, 1));
  EXPECT_NE(split.AugmentSeed(1, 0, 0), split.AugmentSeed(2, 0, 0));
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("loader");
    for (int i = 0; i < 5; ++i) {
      cv::Mat image(40 + i, 80, CV_8UC3);
      cv::randu(image, 0, 256);
      cv::Mat label(40 + i, 80, CV_8UC1, cv::Scalar(i % 3));
      label.colRange(0, 20).setTo(255);
      label.colRange(40, 60).setTo(5);
      const std::string stem = dir_ + "/s" + std::to_string(i);
      ASSERT_TRUE(WriteImage(stem + ".png", image).ok());
      ASSERT_TRUE(WriteImage(stem + "_label.png", label).ok());
      samples_.push_back({"s" + std::to_string(i), stem + ".png", stem + "_label.png", ""});
    }
    pipeline_.scale = {80, 40};
    pipeline_.crop = {32, 24};
  }

  std::vector<Batch> Run(int workers, int64_t start, int count, int batch = 2, int rank = 0,
                         int world_size = 1) {
    LoaderOptions options;
    options.workers = workers;
    options.batch_size = batch;
    options.rank = rank;
    options.world_size = world_size;
    options.seed = 11;
    TrainLoader loader(samples_, GetDatasetInfo(DatasetKind::kCityscapes), pipeline_,
                       NormalizeParams(), options, start);
    std::vector<Batch> batches;
    for (int i = 0; i < count; ++i) {
      auto batch = loader.Next();
      EXPECT_TRUE(batch.ok()) << batch.status();
      batches.push_back(*batch);
    }
    return batches;
  }

  std::string dir_;
  std::vector<Sample> samples_;
  TrainPipelineConfig pipeline_;
};

TEST_F(LoaderTest, BatchesDependOnlyOnIterationNotOnWorkersOrStart) {
  std::vector<Batch> one = Run(1, 0, 6);
  std::vector<Batch> three = Run(3, 0, 6);
  std::vector<Batch> resumed = Run(2, 3, 3);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(one[i].iteration, i);
    ASSERT_EQ(one[i].images.sizes(), (std::vector<int64_t>{2, 3, 24, 32}));
    ASSERT_EQ(one[i].labels.sizes(), (std::vector<int64_t>{2, 24, 32}));
    EXPECT_TRUE(one[i].images.equal(three[i].images)) << i;
    EXPECT_TRUE(one[i].labels.equal(three[i].labels)) << i;
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(resumed[i].iteration, 3 + i);
    EXPECT_TRUE(resumed[i].images.equal(one[3 + i].images));
    EXPECT_TRUE(resumed[i].labels.equal(one[3 + i].labels));
  }
  EXPECT_FALSE(one[0].images.equal(one[1].images));
  // Labels hold source values or 255 only.
  for (const Batch& b : one) {
    auto values = std::get<0>(at::_unique(b.labels));
    for (int64_t i = 0; i < values.numel(); ++i) {
      const int64_t v = values[i].item<int64_t>();
      EXPECT_TRUE(v == 0 || v == 1 || v == 2 || v == 5 || v == 255) << v;
    }
  }
}

TEST_F(LoaderTest, RanksConcatenatedAreTheSingleProcessBatch) {
  // Images of different sizes, random resize, crop, flip and photometric distortion: every
  // image is augmented by its slot in the global batch, not by the process that loads it.
  pipeline_.ratio_lo = 0.5;
  pipeline_.ratio_hi = 2.0;
  const std::vector<Batch> whole = Run(2, 0, 4, /*batch=*/4);
  const std::vector<Batch> rank0 = Run(1, 0, 4, 2, /*rank=*/0, /*world_size=*/2);
  const std::vector<Batch> rank1 = Run(2, 0, 4, 2, /*rank=*/1, /*world_size=*/2);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(torch::cat({rank0[i].images, rank1[i].images}).equal(whole[i].images)) << i;
    EXPECT_TRUE(torch::cat({rank0[i].labels, rank1[i].labels}).equal(whole[i].labels)) << i;
  }
  EXPECT_FALSE(rank0[0].images.equal(rank1[0].images));
}

TEST_F(LoaderTest, NormalisationMatchesTheFormula) {
  cv::Mat image(1, 2, CV_8UC3);
  image.at<cv::Vec3b>(0, 0) = {10, 20, 30};  // B, G, R
  image.at<cv::Vec3b>(0, 1) = {200, 100, 0};
  float out[6];
  NormalizeInto(image, NormalizeParams(), out);
  EXPECT_FLOAT_EQ(out[0], (30 - 123.675f) / 58.395f);  // R plane first (to_rgb)
  EXPECT_FLOAT_EQ(out[1], (0 - 123.675f) / 58.395f);
  EXPECT_FLOAT_EQ(out[2], (20 - 116.28f) / 57.12f);
  EXPECT_FLOAT_EQ(out[5], (200 - 103.53f) / 57.375f);
}

TEST_F(LoaderTest, ABrokenFileIsReportedByName) {
  std::ofstream(samples_[2].label, std::ios::trunc) << "not a png";
  LoaderOptions options;
  options.batch_size = 5;  // Every batch holds every sample.
  TrainLoader loader(samples_, GetDatasetInfo(DatasetKind::kCityscapes), pipeline_,
                     NormalizeParams(), options, 0);
  auto batch = loader.Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(std::string(batch.status().message()).find("s2_label.png"), std::string::npos);
}

}  // namespace
}  // namespace ann
