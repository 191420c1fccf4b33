// ResNetV1c with dilation ("D8"): the deep-stem ResNet that mmseg's ANN configs use, output
// stride 8, returning C2..C5. Module names equal mmseg's (`stem.N`, `layerL.i.convK`, `bnK`,
// `downsample.{0,1}`), so a `backbone.` prefix maps checkpoints 1:1.
//
//   ResNetV1c backbone(ResNetV1cOptions(50));
//   std::vector<torch::Tensor> c = backbone->forward(images);  // c[2] = C4, c[3] = C5
#ifndef ANN_MODEL_RESNET_H_
#define ANN_MODEL_RESNET_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ann/model/data_parallel.h"
#include "torch/torch.h"

namespace ann {

// Depth, stem widths and dilations of a ResNetV1c.
struct ResNetV1cOptions {
  explicit ResNetV1cOptions(int depth) : depth_(depth) {}
  TORCH_ARG(int, depth);
  // Width of the last stem conv (the first two are half): 64 for mmseg, 128 for the authors'.
  TORCH_ARG(int64_t, stem_channels) = 64;
  TORCH_ARG(bool, stem_ceil_mode) = false;
  TORCH_ARG(std::vector<int64_t>, strides) = std::vector<int64_t>({1, 2, 1, 1});
  TORCH_ARG(std::vector<int64_t>, dilations) = std::vector<int64_t>({1, 1, 2, 4});
  // The first block of a dilated stage uses half the dilation (mmseg's contract_dilation).
  TORCH_ARG(bool, contract_dilation) = true;
};

// One residual block; `expansion` is 4 for Bottleneck, 1 for BasicBlock.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 torch::nn::Sequential downsample);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  SyncBatchNorm bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

// The two-conv residual block of ResNet-18/34.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 torch::nn::Sequential downsample);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  SyncBatchNorm bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

// mmcv's ResNetV1c with a deep stem, dilated to output stride 8; returns C2..C5.
class ResNetV1cImpl : public torch::nn::Module {
 public:
  explicit ResNetV1cImpl(const ResNetV1cOptions& options);
  // Returns {C2, C3, C4, C5}.
  std::vector<torch::Tensor> forward(torch::Tensor x);
  // Output channels of C2..C5.
  const std::vector<int64_t>& out_channels() const { return out_channels_; }
  bool stem_ceil_mode() const { return ceil_mode_; }

  torch::nn::Sequential stem{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};

 private:
  torch::nn::Sequential MakeLayer(int64_t& inplanes, int64_t planes, int blocks, int64_t stride,
                                  int64_t dilation);
  bool bottleneck_;
  bool contract_dilation_;
  bool ceil_mode_;
  std::vector<int64_t> out_channels_;
};
TORCH_MODULE(ResNetV1c);

// Blocks per stage for a supported depth (18, 34, 50, 101); CHECK-fails otherwise.
std::vector<int> ResNetStageBlocks(int depth);

}  // namespace ann

#endif  // ANN_MODEL_RESNET_H_
