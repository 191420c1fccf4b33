// Training checkpoints: everything a run needs to continue exactly. mmseg's layout
// ({'meta', 'state_dict', 'optimizer'}), readable by torch.load and by our tools as a model
// checkpoint, plus in 'meta': iter, max_iters, seed, lr, the config text and the CPU generator
// state (dropout). The data position is the iteration: sampling and augmentation are functions
// of (seed, iteration, rank).
#ifndef ANN_TRAIN_TRAIN_CHECKPOINT_H_
#define ANN_TRAIN_TRAIN_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/io/palette.h"
#include "ann/model/segmentor.h"
#include "ann/train/sgd.h"

namespace ann {

// The bookkeeping a training checkpoint carries in `meta`.
struct TrainingState {
  int64_t iter = 0;  // Iterations completed.
  int64_t max_iters = 0;
  uint64_t seed = 0;
  double lr = 0;
  std::string config;                    // The flags in effect, for the record.
  std::vector<std::string> class_names;  // meta.CLASSES and meta.PALETTE, as mmseg writes them
  std::vector<Rgb> palette;
  std::vector<float> class_weight;  // The loss's class weights, computed ones included.
  // --save_best / --early_stop_patience, so that a resumed run keeps them (mmcv's
  // meta.hook_msgs best_score / best_ckpt, plus the best's iteration and the patience count).
  double best_score = -1;  // -1: no validation yet
  int64_t best_iter = 0;
  std::string best_checkpoint;
  int64_t evals_without_improvement = 0;
};

// <work_dir>/iter_<iter>.pth: the one spelling of a training checkpoint's name.
std::string TrainingCheckpointPath(const std::string& work_dir, int64_t iter);

// <work_dir>/best_<metric>_iter_<iter>.pth, mmseg 0.x's name for --save_best's checkpoint.
std::string BestCheckpointPath(const std::string& work_dir, const std::string& metric,
                               int64_t iter);

// Writes a training checkpoint of `state` (everything --resume needs) to `path` atomically.
absl::Status WriteTrainingCheckpoint(const std::string& path, const TrainingState& state,
                                     EncoderDecoder& model, const Sgd& sgd);

// Points <work_dir>/latest.pth at `path` (a file in work_dir), replaced atomically.
absl::Status UpdateLatestLink(const std::string& work_dir, const std::string& path);

// Writes <work_dir>/iter_<iter>.pth atomically and points <work_dir>/latest.pth at it.
absl::StatusOr<std::string> SaveTrainingCheckpoint(const std::string& work_dir,
                                                   const TrainingState& state,
                                                   EncoderDecoder& model, const Sgd& sgd);

// Loads model (strict), optimizer and generator state; returns the saved state. On error
// nothing has been changed.
absl::StatusOr<TrainingState> LoadTrainingCheckpoint(const std::string& path, EncoderDecoder& model,
                                                     Sgd& sgd);

// Removes what killed runs of ours left in `work_dir`: temporaries of checkpoint writes
// (.iter_<N>.tmp<pid>.pth) and of the latest.pth link (latest.pth.tmp<pid>), by their exact
// pattern; returns how many.
int RemoveStaleTemporaries(const std::string& work_dir);

// iter_<N>.pth files of `work_dir`, newest (largest N) first.
std::vector<std::string> ListTrainingCheckpoints(const std::string& work_dir);

}  // namespace ann

#endif  // ANN_TRAIN_TRAIN_CHECKPOINT_H_
