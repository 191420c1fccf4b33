#include "ann/train/train_checkpoint.h"

#include <filesystem>
#include <fstream>

#include "ann/model/tiny_model.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/train_checkpoint_test_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Everything --resume needs comes back: weights, momentum buffers, the generator (dropout) and
// the bookkeeping; latest.pth points at the newest.
TEST(TrainCheckpointTest, SavedStateLoadsBackWhole) {
  const std::string dir = FreshDir("roundtrip");
  EncoderDecoder model = TinyModel(4, /*num_classes=*/4);
  Sgd sgd(UniqueParameters(*model), 0.9, 5e-4);
  for (const torch::Tensor& p : sgd.params()) p.mutable_grad() = torch::randn_like(p);
  sgd.Step(0.01);  // momentum buffers exist
  TrainingState state;
  state.iter = 12;
  state.max_iters = 40;
  state.seed = 77;
  state.lr = 0.0071;
  state.config = "--lr=0.01\n";
  state.class_names = {"a", "b", "c", "d"};
  state.palette = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
  state.class_weight = {1.0f, 0.5f, 2.0f, 1.5f};
  state.best_score = 0.25;
  state.best_iter = 8;
  state.best_checkpoint = dir + "/best_mIoU_iter_8.pth";
  state.evals_without_improvement = 1;
  const torch::Tensor rng_before = at::detail::getDefaultCPUGenerator().get_state();
  absl::StatusOr<std::string> path = SaveTrainingCheckpoint(dir, state, model, sgd);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, TrainingCheckpointPath(dir, 12));
  EXPECT_EQ(std::filesystem::read_symlink(dir + "/latest.pth").filename(), "iter_12.pth");
  torch::randn({100});  // moves the generator on

  EncoderDecoder loaded(TinyModelConfig(4));
  Sgd loaded_sgd(UniqueParameters(*loaded), 0.9, 5e-4);
  absl::StatusOr<TrainingState> back = LoadTrainingCheckpoint(*path, loaded, loaded_sgd);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->iter, 12);
  EXPECT_EQ(back->max_iters, 40);
  EXPECT_EQ(back->seed, 77u);
  EXPECT_DOUBLE_EQ(back->lr, 0.0071);
  // The config text and class weights are for the record: a resumed run takes the flags given.
  EXPECT_DOUBLE_EQ(back->best_score, 0.25);
  EXPECT_EQ(back->best_iter, 8);
  EXPECT_EQ(back->best_checkpoint, state.best_checkpoint);
  EXPECT_EQ(back->evals_without_improvement, 1);
  EXPECT_TRUE(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), rng_before));
  for (size_t i = 0; i < sgd.params().size(); ++i) {
    ASSERT_TRUE(torch::equal(loaded_sgd.params()[i], sgd.params()[i])) << i;
    ASSERT_TRUE(torch::equal(loaded_sgd.buffers()[i], sgd.buffers()[i])) << i;
  }
  std::filesystem::remove_all(dir);
}

TEST(TrainCheckpointTest, ListsNewestFirstAndRemovesOnlyOurTemporaries) {
  const std::string dir = FreshDir("list");
  for (const char* name : {"iter_8.pth", "iter_12.pth", "iter_100.pth", "best_mIoU_iter_8.pth",
                           ".iter_16.tmp4242.pth", "latest.pth.tmp4242", "notes.tmp1.txt"}) {
    std::ofstream(dir + "/" + name) << "x";
  }
  EXPECT_EQ(
      ListTrainingCheckpoints(dir),
      (std::vector<std::string>{TrainingCheckpointPath(dir, 100), TrainingCheckpointPath(dir, 12),
                                TrainingCheckpointPath(dir, 8)}));
  EXPECT_EQ(RemoveStaleTemporaries(dir), 2);
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.tmp1.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/.iter_16.tmp4242.pth"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ann
