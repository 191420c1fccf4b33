// The training loop of `ann_train`: data from the background loader, forward in training mode
// (BN batch statistics, dropout), the recipe's loss, backward, SGD with the poly schedule;
// checkpoints, json-lines log, progress, optional validation, curves. Stops cleanly on
// SIGINT / SIGTERM (saving a checkpoint) and on a non-finite loss (saving nothing).
#ifndef ANN_TRAIN_TRAINER_H_
#define ANN_TRAIN_TRAINER_H_

#include <string>

#include "absl/status/status.h"
#include "ann/eval/predictor.h"
#include "ann/model/model_config.h"
#include "ann/train/distributed.h"
#include "ann/train/train_config.h"

namespace ann {

struct TrainOptions {
  std::string work_dir;
  bool resume = false;        // Continue from the newest loadable checkpoint in work_dir.
  std::string load_from;      // Initialise all weights (strict), start at iteration 0.
  std::string backbone_init;  // ImageNet backbone (non-strict), start at iteration 0.
  std::string config_text;    // Recorded in checkpoints and the log.
  InferenceConfig inference;  // How validation predicts (the config's test mode).
  Distributed* distributed = nullptr;  // Multi-process data parallel (null: one process).
};

absl::Status Train(const ModelConfig& model_config, const TrainConfig& config,
                   const TrainOptions& options);

// Installs SIGINT / SIGTERM handlers that ask a running Train() to save and stop.
void InstallStopSignalHandlers();

}  // namespace ann

#endif  // ANN_TRAIN_TRAINER_H_
