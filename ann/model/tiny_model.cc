#include "ann/model/tiny_model.h"

#include "torch/torch.h"

namespace ann {

ModelConfig TinyModelConfig(int64_t num_classes) {
  ModelConfig config;
  config.depth = 18;
  config.num_classes = num_classes;
  config.channels = 16;
  config.project_channels = 8;
  return config;
}

EncoderDecoder TinyModel(int seed, int64_t num_classes) {
  torch::manual_seed(seed);
  EncoderDecoder model(TinyModelConfig(num_classes));
  model->InitWeights();
  return model;
}

}  // namespace ann
