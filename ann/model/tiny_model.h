// For tests: the smallest real ANN (R-18 backbone, narrow heads), quick to build and to run.
#ifndef ANN_MODEL_TINY_MODEL_H_
#define ANN_MODEL_TINY_MODEL_H_

#include <cstdint>

#include "ann/model/segmentor.h"

namespace ann {

// mmseg's variant at depth 18 with `num_classes` classes, 16 head channels, 8 in the attention.
ModelConfig TinyModelConfig(int64_t num_classes = 5);

// That model with mmseg's initialisation drawn after torch::manual_seed(seed), in training mode.
EncoderDecoder TinyModel(int seed, int64_t num_classes = 5);

}  // namespace ann

#endif  // ANN_MODEL_TINY_MODEL_H_
