#include "ann/model/resnet.h"

#include <string>

namespace ann {
namespace {

namespace nn = torch::nn;

nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0,
                int64_t dilation = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                        .stride(stride)
                        .padding(padding)
                        .dilation(dilation)
                        .bias(false));
}

}  // namespace

std::vector<int> ResNetStageBlocks(int depth) {
  switch (depth) {
    case 18:
      return {2, 2, 2, 2};
    case 34:
    case 50:
      return {3, 4, 6, 3};
    case 101:
      return {3, 4, 23, 3};
  }
  TORCH_CHECK(false, "unsupported ResNet depth ", depth);
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                               nn::Sequential downsample_module) {
  // "pytorch" style: the stride sits on the 3x3 conv.
  conv1 = register_module("conv1", Conv(inplanes, planes, 1));
  bn1 = register_module("bn1", SyncBatchNorm(planes));
  conv2 = register_module("conv2", Conv(planes, planes, 3, stride, dilation, dilation));
  bn2 = register_module("bn2", SyncBatchNorm(planes));
  conv3 = register_module("conv3", Conv(planes, planes * 4, 1));
  bn3 = register_module("bn3", SyncBatchNorm(planes * 4));
  if (downsample_module) downsample = register_module("downsample", downsample_module);
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  torch::Tensor out = bn1->forward(conv1->forward(x)).relu_();
  out = bn2->forward(conv2->forward(out)).relu_();
  out = bn3->forward(conv3->forward(out));
  return out.add_(identity).relu_();
}

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                               nn::Sequential downsample_module) {
  conv1 = register_module("conv1", Conv(inplanes, planes, 3, stride, dilation, dilation));
  bn1 = register_module("bn1", SyncBatchNorm(planes));
  // mmseg's BasicBlock leaves conv2 undilated.
  conv2 = register_module("conv2", Conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", SyncBatchNorm(planes));
  if (downsample_module) downsample = register_module("downsample", downsample_module);
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  torch::Tensor out = bn1->forward(conv1->forward(x)).relu_();
  out = bn2->forward(conv2->forward(out));
  return out.add_(identity).relu_();
}

ResNetV1cImpl::ResNetV1cImpl(const ResNetV1cOptions& options)
    : bottleneck_(options.depth() >= 50),
      contract_dilation_(options.contract_dilation()),
      ceil_mode_(options.stem_ceil_mode()) {
  const std::vector<int> blocks = ResNetStageBlocks(options.depth());
  TORCH_CHECK(options.strides().size() == 4 && options.dilations().size() == 4,
              "ResNetV1c needs 4 strides and 4 dilations");
  const int64_t width = options.stem_channels();
  stem = register_module(
      "stem",
      nn::Sequential(Conv(3, width / 2, 3, 2, 1), SyncBatchNorm(width / 2), nn::ReLU(),
                     Conv(width / 2, width / 2, 3, 1, 1), SyncBatchNorm(width / 2), nn::ReLU(),
                     Conv(width / 2, width, 3, 1, 1), SyncBatchNorm(width), nn::ReLU()));
  int64_t inplanes = width;
  const int64_t planes[4] = {64, 128, 256, 512};
  nn::Sequential* layers[4] = {&layer1, &layer2, &layer3, &layer4};
  for (int i = 0; i < 4; ++i) {
    *layers[i] = register_module(
        "layer" + std::to_string(i + 1),
        MakeLayer(inplanes, planes[i], blocks[i], options.strides()[i], options.dilations()[i]));
    out_channels_.push_back(inplanes);
  }
}

nn::Sequential ResNetV1cImpl::MakeLayer(int64_t& inplanes, int64_t planes, int blocks,
                                        int64_t stride, int64_t dilation) {
  const int64_t expansion = bottleneck_ ? 4 : 1;
  nn::Sequential downsample{nullptr};
  if (stride != 1 || inplanes != planes * expansion) {
    downsample = nn::Sequential(Conv(inplanes, planes * expansion, 1, stride),
                                SyncBatchNorm(planes * expansion));
  }
  const int64_t first_dilation = (contract_dilation_ && dilation > 1) ? dilation / 2 : dilation;
  nn::Sequential layer;
  for (int b = 0; b < blocks; ++b) {
    const int64_t s = b == 0 ? stride : 1;
    const int64_t d = b == 0 ? first_dilation : dilation;
    const nn::Sequential ds = b == 0 ? downsample : nn::Sequential(nullptr);
    if (bottleneck_) {
      layer->push_back(Bottleneck(inplanes, planes, s, d, ds));
    } else {
      layer->push_back(BasicBlock(inplanes, planes, s, d, ds));
    }
    inplanes = planes * expansion;
  }
  return layer;
}

std::vector<torch::Tensor> ResNetV1cImpl::forward(torch::Tensor x) {
  x = stem->forward(x);
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1, /*dilation=*/1,
                        ceil_mode_);
  torch::Tensor c2 = layer1->forward(x);
  torch::Tensor c3 = layer2->forward(c2);
  torch::Tensor c4 = layer3->forward(c3);
  torch::Tensor c5 = layer4->forward(c4);
  return {c2, c3, c4, c5};
}

}  // namespace ann
