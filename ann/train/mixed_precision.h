// The forward pass of a training step in the recipe's arithmetic. bf16 is mixed precision as
// torch.autocast('cpu', dtype=torch.bfloat16) does it: the weights (master copies), gradients
// and optimizer stay float32; convolutions and matrix products run in bfloat16 on this CPU's
// AVX-512 bf16 units, the ops autocast keeps in float32 stay there, and the heads' logits come
// back as float32 for the loss. Backward runs outside autocast, as PyTorch recommends.
#ifndef ANN_TRAIN_MIXED_PRECISION_H_
#define ANN_TRAIN_MIXED_PRECISION_H_

#include "ann/model/segmentor.h"
#include "ann/train/train_config.h"
#include "torch/torch.h"

namespace ann {

// model->forward(images) in `precision`: fp32 as is; fp64 with the images cast to float64 (the
// model must have been converted); bf16 under autocast.
SegmentorOutputs TrainingForward(EncoderDecoder& model, const torch::Tensor& images,
                                 Precision precision);

}  // namespace ann

#endif  // ANN_TRAIN_MIXED_PRECISION_H_
