#include "ann/config/config_flags.h"

namespace ann {

const std::vector<std::string>& AllConfigFlags() {
  static const auto* names = new std::vector<std::string>{
      // ann/model/model_config.cc
      "depth", "num_classes", "variant", "pool_scales", "align_corners", "aux_head", "channels",
      "project_channels",
      // ann/data/data_config.cc
      "dataset", "dataset_file", "data_root", "train_split", "val_split", "workers", "mean", "std",
      "to_rgb",
      // ann/train/train_config.cc
      "crop_size", "img_scale", "ratio_range", "cat_max_ratio", "flip_prob", "photometric",
      "batch_size", "max_iters", "lr", "min_lr", "power", "momentum", "weight_decay", "loss",
      "class_weight", "ohem_thresh", "ohem_min_kept", "aux_weight", "loss_per_image", "sync_bn",
      "train_precision", "checkpoint_interval", "eval_interval", "log_interval", "save_best",
      "early_stop_patience", "seed",
      // ann/eval/test_config.cc
      "test_mode", "test_scale", "test_crop", "test_stride", "scales", "flip", "aug_test",
      "aug_style", "precision", "calibration", "int8_observer"};
  return *names;
}

}  // namespace ann
