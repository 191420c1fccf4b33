// For the inference tests: models whose BatchNorms look trained (statistics and affine
// parameters away from 0 and 1), so that folding, fusion and the residual sums change numbers.
#ifndef ANN_INFERENCE_TEST_MODELS_H_
#define ANN_INFERENCE_TEST_MODELS_H_

#include "ann/model/segmentor.h"

namespace ann {

// The model of `config` with weights drawn after torch::manual_seed(seed), BatchNorm means in
// [-0.3, 0.3], variances in [0.4, 1.6], scales in [0.5, 1.5], shifts in [-0.2, 0.2]; eval mode.
// The same arguments give the same weights.
EncoderDecoder TrainedLookingModel(const ModelConfig& config, int seed);

// The executor tests' models: a variant at a depth with 7 classes and the head widths given.
struct ModelCase {
  Variant variant;
  int depth;
  int64_t channels, project_channels;
};

// TrainedLookingModel of `c`'s config (the variant's defaults otherwise).
EncoderDecoder TrainedLookingModel(const ModelCase& c, int seed);

}  // namespace ann

#endif  // ANN_INFERENCE_TEST_MODELS_H_
