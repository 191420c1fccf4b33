#include "ann/train/hooks.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "ann/model/tiny_model.h"
#include "ann/train/schedule.h"
#include "ann/train/sgd.h"
#include "ann/train/train_checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

using ::testing::HasSubstr;

TrainConfig SmallTrainConfig() {
  TrainConfig config;
  config.max_iters = 7;
  config.lr = 0.02;
  config.min_lr = 1e-4;
  config.power = 0.9;
  config.checkpoint_interval = 3;
  return config;
}

TEST(HooksTest, LrScheduleSetsTheIterationsPolyRate) {
  const TrainConfig config = SmallTrainConfig();
  TrainingRun run;
  run.train = &config;
  std::unique_ptr<Hook> hook = MakeLrScheduleHook();
  for (int64_t iter : {1, 4, 7}) {
    IterationStats stats;
    stats.iter = iter;
    ASSERT_TRUE(hook->BeforeTrainIter(run, stats).ok());
    // Iteration `iter` (1-based) steps with the rate of the `iter - 1` iterations done.
    const double done = static_cast<double>(iter - 1) / 7;
    EXPECT_DOUBLE_EQ(stats.lr, (0.02 - 1e-4) * std::pow(1 - done, 0.9) + 1e-4) << iter;
    EXPECT_DOUBLE_EQ(stats.lr, PolyLr(0.02, 1e-4, 0.9, iter - 1, 7));
  }
}

TEST(HooksTest, LossCheckStopsANonFiniteRunNamingTheLastGoodCheckpoint) {
  TrainingRun run;
  run.last_saved = "work/iter_4.pth";
  std::unique_ptr<Hook> hook = MakeLossCheckHook();
  IterationStats stats;
  stats.iter = 6;
  stats.loss = 1.25;
  EXPECT_TRUE(hook->AfterTrainIter(run, stats).ok());
  stats.loss = std::nan("");
  stats.decode = std::nan("");
  stats.aux = 0.5;
  absl::Status nan = hook->AfterTrainIter(run, stats);
  EXPECT_EQ(nan.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(nan.message()), HasSubstr("loss is NaN at iteration 6"));
  EXPECT_THAT(std::string(nan.message()), HasSubstr("aux 0.5"));
  EXPECT_THAT(std::string(nan.message()), HasSubstr("Last good checkpoint: work/iter_4.pth"));
  stats.loss = std::numeric_limits<double>::infinity();
  EXPECT_THAT(std::string(hook->AfterTrainIter(run, stats).message()),
              HasSubstr("loss is infinite"));
}

TEST(HooksTest, FinishEndsAStoppedRunWithCancelled) {
  const TrainConfig config = SmallTrainConfig();
  TrainingRun run;
  run.train = &config;
  run.last_saved = "work/iter_5.pth";
  std::unique_ptr<Hook> hook = MakeFinishHook();
  IterationStats stats;
  stats.iter = 5;
  ASSERT_TRUE(hook->AfterTrainIter(run, stats).ok());
  EXPECT_FALSE(run.finished());
  run.stop_signal = true;  // another rank's signal: this process received none
  ASSERT_TRUE(hook->AfterTrainIter(run, stats).ok());
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.result.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(run.result.message(),
            "stopped by a stop signal to another rank at iteration 5; saved work/iter_5.pth "
            "(continue with --resume)");
}

// Checkpoints every checkpoint_interval iterations and at the last, each a training checkpoint
// of that iteration that loads back.
TEST(HooksTest, CheckpointHookSavesAtTheIntervalAndTheEnd) {
  const std::string dir = ::testing::TempDir() + "/hooks_test_checkpoints";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const ModelConfig model_config = TinyModelConfig(3);
  EncoderDecoder model = TinyModel(2, 3);
  Sgd sgd(UniqueParameters(*model), 0.9, 5e-4);
  const TrainConfig config = SmallTrainConfig();
  TrainingRun run;
  run.train = &config;
  run.model_config = &model_config;
  run.model = &model;
  run.sgd = &sgd;
  run.work_dir = dir;
  run.state.max_iters = config.max_iters;
  std::unique_ptr<Hook> hook = MakeCheckpointHook(run);
  for (int64_t iter = 1; iter <= config.max_iters; ++iter) {
    IterationStats stats;
    stats.iter = iter;
    stats.lr = 0.01 / iter;
    ASSERT_TRUE(hook->AfterTrainIter(run, stats).ok()) << iter;
  }
  std::vector<std::string> saved = ListTrainingCheckpoints(dir);
  std::sort(saved.begin(), saved.end());
  EXPECT_EQ(saved, (std::vector<std::string>{TrainingCheckpointPath(dir, 3),
                                             TrainingCheckpointPath(dir, 6),
                                             TrainingCheckpointPath(dir, 7)}));
  EXPECT_EQ(run.last_saved, TrainingCheckpointPath(dir, 7));
  EncoderDecoder loaded(model_config);
  Sgd loaded_sgd(UniqueParameters(*loaded), 0.9, 5e-4);
  absl::StatusOr<TrainingState> state =
      LoadTrainingCheckpoint(TrainingCheckpointPath(dir, 6), loaded, loaded_sgd);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->iter, 6);
  EXPECT_DOUBLE_EQ(state->lr, 0.01 / 6);
  EXPECT_TRUE(torch::equal(loaded->parameters()[5], model->parameters()[5]));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ann
