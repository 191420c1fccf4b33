// The auxiliary FCN head on C4 (mmseg's FCNHead with one conv, no concat): 3x3 ConvModule,
// then the base head's dropout and classifier. Used for the 0.4-weighted training loss.
#ifndef ANN_MODEL_FCN_HEAD_H_
#define ANN_MODEL_FCN_HEAD_H_

#include <vector>

#include "ann/model/decode_head.h"
#include "ann/model/model_config.h"
#include "torch/torch.h"

namespace ann {

// mmseg's FCNHead, the auxiliary head on C4.
class FCNHeadImpl : public DecodeHeadImpl {
 public:
  explicit FCNHeadImpl(const ModelConfig& config);
  // `inputs` are C2..C5; uses C4.
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs);

  torch::nn::Sequential convs{nullptr};
};
TORCH_MODULE(FCNHead);

}  // namespace ann

#endif  // ANN_MODEL_FCN_HEAD_H_
