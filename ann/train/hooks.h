// What happens around a training iteration, as mmcv's / mmengine's runner hooks: the loop
// (ann/train/trainer) only iterates and runs the step (data, forward, loss, backward, all-reduce,
// SGD), calling each hook before and after every iteration; the learning-rate schedule, the
// non-finite loss check, the logging windows, validation with the best checkpoint and early
// stopping, checkpoints, the communication statistics and the stop on a signal each live in their
// own hook. Adding a feature adds a hook, not a branch in the loop.
//
// DefaultHooks' order after an iteration: the loss check (before anything logs or saves a
// non-finite run), log (train line, progress), evaluation (validation line, best checkpoint,
// early stop), checkpoint (iter_N.pth), communication statistics, stop. Evaluation comes before
// the checkpoint of the same iteration, so that iter_N.pth holds the best score and patience that
// validation N produced (mmcv's order loses them on resume).
#ifndef ANN_TRAIN_HOOKS_H_
#define ANN_TRAIN_HOOKS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/data/data_config.h"
#include "ann/data/dataset.h"
#include "ann/eval/test_config.h"
#include "ann/model/segmentor.h"
#include "ann/train/distributed.h"
#include "ann/train/sgd.h"
#include "ann/train/train_checkpoint.h"
#include "ann/train/train_config.h"

namespace ann {

class TrainLog;

// The state of a run the hooks share.
struct TrainingRun {
  const ModelConfig* model_config = nullptr;
  const DataConfig* data = nullptr;
  const TrainConfig* train = nullptr;  // --class_weight=auto filled in
  const TestConfig* test = nullptr;    // validation
  const DatasetInfo* info = nullptr;
  std::string work_dir;
  EncoderDecoder* model = nullptr;
  Sgd* sgd = nullptr;
  Distributed* dist = nullptr;         // null: one process
  GradientReducer* reducer = nullptr;  // with dist
  int rank = 0;
  bool main_rank() const { return rank == 0; }
  // What checkpoints record (iteration, lr, config, classes, best score and patience).
  TrainingState state;
  // Rank 0's work dir (absolute; on another host for other ranks) and its newest checkpoint.
  std::string checkpoint_dir;
  std::string last_saved = "none";
  // A checkpoint already written for the current iteration (the best one), to link rather than
  // write again.
  std::string written_this_iter;
  TrainLog* log = nullptr;  // rank 0 only
  // Set for the current iteration: a stop signal reached a rank (every rank sees it).
  bool stop_signal = false;
  // Set by a hook to end the run after the current iteration, saying why.
  std::string finish_reason;
  // Set by a hook to end the run after the current iteration with this status (a stop signal:
  // CancelledError); what Train returns.
  absl::Status result;
  bool finished() const { return !finish_reason.empty() || !result.ok(); }

  // `status` (an error) with "; last good checkpoint: ... (continue with --resume)".
  absl::Status WithLastGood(const absl::Status& status) const;
};

// What one iteration did (mean over ranks).
struct IterationStats {
  int64_t iter = 0;  // iterations completed, this one included
  double lr = 0;
  double loss = 0, decode = 0, aux = 0, decode_acc = 0, aux_acc = 0;
  double seconds = 0, data_seconds = 0;
};

// A hook: called before the first iteration, before and after each, and after the last.
class Hook {
 public:
  virtual ~Hook() = default;
  virtual absl::Status BeforeRun(TrainingRun& run) { return absl::OkStatus(); }
  // `stats` holds the iteration number; a hook may set what the step uses (the lr).
  virtual absl::Status BeforeTrainIter(TrainingRun& run, IterationStats& stats) {
    return absl::OkStatus();
  }
  virtual absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& stats) {
    return absl::OkStatus();
  }
  virtual absl::Status AfterRun(TrainingRun& run) { return absl::OkStatus(); }
};

// The poly learning rate of the iteration (mmseg's PolyLrUpdaterHook, ann/train/schedule.h).
std::unique_ptr<Hook> MakeLrScheduleHook();

// A NaN or infinite loss ends the run with an error naming the iteration, the loss terms and the
// last good checkpoint, before anything is logged or saved (mmcv's CheckInvalidLossHook).
std::unique_ptr<Hook> MakeLossCheckHook();

// train.log.json (mmcv's TextLoggerHook layout), the progress line, and the loss / lr / mIoU
// curves at the end (and on a stop).
std::unique_ptr<Hook> MakeLoggerHook(TrainingRun& run, int64_t start_iter);

// Validation every eval_interval iterations and at the end (rank 0, in the config's test mode,
// exact arithmetic), with --save_best (best_<metric>_iter_N.pth, the previous one removed) and
// --early_stop_patience (every rank stops together).
std::unique_ptr<Hook> MakeEvalHook(TrainingRun& run, std::vector<Sample> val_samples);

// iter_N.pth every checkpoint_interval iterations, at the end, on a stop signal and on an early
// stop (rank 0 writes; every rank first checks that the weights agree).
std::unique_ptr<Hook> MakeCheckpointHook(TrainingRun& run);

// With several processes: the time of one gradient all-reduce alone (before the run) and how
// much of it backward hides (after it, on rank 0).
std::unique_ptr<Hook> MakeCommunicationHook();

// A stop signal seen by any rank (TrainingRun::stop_signal, after the checkpoint hook saved)
// ends the run with CancelledError naming the checkpoint; a run that ends otherwise prints its
// last line (iterations or why it finished, and the final checkpoint) on rank 0.
std::unique_ptr<Hook> MakeFinishHook();

// Every hook of a run, in the order above.
std::vector<std::unique_ptr<Hook>> DefaultHooks(TrainingRun& run, int64_t start_iter,
                                                std::vector<Sample> val_samples);

}  // namespace ann

#endif  // ANN_TRAIN_HOOKS_H_
