// The training loop of `ann_train`: data from the background loader, forward in training mode
// (BN batch statistics, dropout), the recipe's loss, backward, SGD with the poly schedule; what
// happens around an iteration (log, validation with the best checkpoint and early stopping,
// checkpoints) is in ann/train/hooks. Stops cleanly on SIGINT / SIGTERM (saving a checkpoint)
// and on a non-finite loss (saving nothing).
#ifndef ANN_TRAIN_TRAINER_H_
#define ANN_TRAIN_TRAINER_H_

#include <string>

#include "absl/status/status.h"
#include "ann/data/data_config.h"
#include "ann/eval/test_config.h"
#include "ann/model/model_config.h"
#include "ann/train/distributed.h"
#include "ann/train/train_config.h"

namespace ann {

// What a run does besides its config: where it writes and how it starts.
struct TrainOptions {
  std::string work_dir;
  bool resume = false;      // Continue from the newest loadable checkpoint in work_dir.
  std::string resume_from;  // Continue from this training checkpoint.
  // Initialise all weights, start at iteration 0; classifiers of another class count are
  // initialised anew (fine-tuning to one's own classes), any other mismatch is an error.
  std::string load_from;
  std::string backbone_init;           // ImageNet backbone (non-strict), start at iteration 0.
  std::string config_text;             // Recorded in checkpoints and the log.
  Distributed* distributed = nullptr;  // Multi-process data parallel (null: one process).
};

// Trains `model` on `data` with `train`, validating (when train.eval_interval > 0) in the `test`
// mode. Returns CancelledError after a stop signal (a checkpoint was saved), an error naming the
// last good checkpoint on a non-finite loss.
absl::Status Train(const ModelConfig& model, const DataConfig& data, const TrainConfig& train,
                   const TestConfig& test, const TrainOptions& options);

}  // namespace ann

#endif  // ANN_TRAIN_TRAINER_H_
