#include "ann/inference/test_models.h"

namespace ann {

EncoderDecoder TrainedLookingModel(const ModelConfig& config, int seed) {
  torch::manual_seed(seed);
  EncoderDecoder model(config);
  torch::NoGradGuard no_grad;
  for (const auto& m : model->modules()) {
    if (auto* bn = m->as<SyncBatchNormImpl>()) {
      bn->running_mean.uniform_(-0.3, 0.3);
      bn->running_var.uniform_(0.4, 1.6);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
    }
  }
  model->eval();
  return model;
}

EncoderDecoder TrainedLookingModel(const ModelCase& c, int seed) {
  ModelConfig config = DefaultModelConfig(c.variant);
  config.depth = c.depth;
  config.num_classes = 7;
  config.channels = c.channels;
  config.project_channels = c.project_channels;
  return TrainedLookingModel(config, seed);
}

}  // namespace ann
