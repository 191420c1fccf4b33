// The training recipe of a config: augmentation pipeline, batch, schedule, loss and bookkeeping
// (mmseg's train pipeline, optimizer, lr_config, runner and hooks). Set by the flags defined
// here (configs/_base_/schedules/*.flags and the rows), read by the library only as TrainConfig.
#ifndef ANN_TRAIN_TRAIN_CONFIG_H_
#define ANN_TRAIN_TRAIN_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/transforms.h"
#include "ann/model/model_config.h"
#include "ann/util/precision.h"

namespace ann {

// The training part of a config.
struct TrainConfig {
  // Augmentation and batch.
  TrainPipelineConfig pipeline;
  int batch_size = 8;  // Per process.
  // Schedule (SGD + poly, per iteration).
  int64_t max_iters = 40000;
  double lr = 0.01;
  double min_lr = 1e-4;
  double power = 0.9;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  // Loss.
  enum class Loss { kCrossEntropy, kOhem } loss = Loss::kCrossEntropy;
  std::vector<float> class_weight;  // Empty: unweighted.
  bool class_weight_auto = false;   // Median frequency balancing over train (ann/data/label_stats).
  double ohem_thresh = 0.7;
  int64_t ohem_min_kept = 100000;
  double aux_weight = 0.4;
  // Losses per image, averaged over images (the authors' per-GPU loss balancing) instead of
  // over the batch's pixels.
  bool loss_per_image = false;
  // Data parallel: BatchNorm statistics over the batches of all processes (mmseg's SyncBN, the
  // authors' encsync_batchnorm), so N processes of batch b train like one of batch N * b. No
  // effect in a single process.
  bool sync_bn = true;
  // Arithmetic: float32; bf16 mixed precision (autocast: bfloat16 convolutions and matrix
  // products, float32 weights, gradients and optimizer; ann/train/mixed_precision); or float64
  // (slow; for checking numerics, e.g. that N processes equal one big batch beyond float32's
  // rounding noise). int8 is not a training precision.
  Precision precision = Precision::kFp32;
  // Bookkeeping.
  int64_t checkpoint_interval = 4000;
  int64_t eval_interval = 0;  // 0: no validation during training.
  int64_t log_interval = 50;
  std::string save_best;            // "mIoU", "mAcc", "aAcc" or empty: best_<metric>_iter_N.pth.
  int64_t early_stop_patience = 0;  // Validations without improvement before stopping; 0: never.
  uint64_t seed = 0;
};

// Reads the training flags (--crop_size --img_scale --ratio_range --cat_max_ratio --flip_prob
// --photometric --batch_size --max_iters --lr --min_lr --power --momentum --weight_decay --loss
// --class_weight --ohem_thresh --ohem_min_kept --aux_weight --loss_per_image --sync_bn
// --train_precision --checkpoint_interval --eval_interval --log_interval --save_best
// --early_stop_patience --seed); the pipeline
// variant and the class count follow the model. Every bad value is an error naming its flag.
absl::StatusOr<TrainConfig> TrainConfigFromFlags(const ModelConfig& model);

}  // namespace ann

#endif  // ANN_TRAIN_TRAIN_CONFIG_H_
