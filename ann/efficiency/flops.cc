#include "ann/efficiency/flops.h"

#include "ann/model/ann_head.h"
#include "ann/model/conv_module.h"
#include "ann/model/data_parallel.h"
#include "ann/model/fcn_head.h"
#include "ann/model/resnet.h"

namespace ann {

int64_t Numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t ConvFlops(int64_t n, int64_t cin, int64_t cout, int64_t groups, int64_t kh, int64_t kw,
                  int64_t hout, int64_t wout) {
  return n * cout * (cin / groups) * kh * kw * hout * wout;
}

int64_t MatmulFlops(const Shape& a, int64_t b_last) { return Numel(a) * b_last; }
int64_t BatchNormFlops(int64_t numel) { return 2 * numel; }
int64_t AdaptivePoolFlops(int64_t input_numel) { return input_numel; }
int64_t BilinearFlops(int64_t output_numel) { return 4 * output_numel; }

void FlopCounter::Add(const std::string& module, OpKind kind, int64_t flops) {
  by_kind_[static_cast<int>(kind)] += flops;
  for (auto& [name, total] : entries_) {
    if (name == module) {
      total += flops;
      return;
    }
  }
  entries_.emplace_back(module, flops);
}

int64_t FlopCounter::total() const {
  int64_t t = 0;
  for (const auto& e : entries_) t += e.second;
  return t;
}

int64_t FlopCounter::Sum(const std::string& prefix) const {
  int64_t t = 0;
  for (const auto& [name, flops] : entries_) {
    if (name.compare(0, prefix.size(), prefix) == 0) t += flops;
  }
  return t;
}

namespace {

std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

Shape CountBatchNorm(const Shape& in, const std::string& name, FlopCounter& counter) {
  counter.Add(name, OpKind::kBatchNorm, BatchNormFlops(Numel(in)));
  return in;
}

Shape CountConvModule(const ConvModuleImpl& m, const Shape& in, const std::string& name,
                      FlopCounter& counter) {
  Shape out = CountConv2d(*m.conv, in, Join(name, "conv"), counter);
  if (m.bn) CountBatchNorm(out, Join(name, "bn"), counter);
  return out;
}

Shape CountModule(const torch::nn::Module& module, const Shape& in, const std::string& name,
                  FlopCounter& counter);

Shape CountSequential(const torch::nn::SequentialImpl& seq, const Shape& in,
                      const std::string& name, FlopCounter& counter) {
  Shape x = in;
  for (const auto& child : seq.named_children()) {
    x = CountModule(*child.value(), x, Join(name, child.key()), counter);
  }
  return x;
}

Shape CountModule(const torch::nn::Module& module, const Shape& in, const std::string& name,
                  FlopCounter& counter) {
  if (auto* conv = module.as<torch::nn::Conv2dImpl>()) return CountConv2d(*conv, in, name, counter);
  if (module.as<SyncBatchNormImpl>()) return CountBatchNorm(in, name, counter);
  if (module.as<torch::nn::ReLUImpl>() || module.as<torch::nn::Dropout2dImpl>()) return in;
  if (auto* m = module.as<ConvModuleImpl>()) return CountConvModule(*m, in, name, counter);
  if (auto* seq = module.as<torch::nn::SequentialImpl>()) {
    return CountSequential(*seq, in, name, counter);
  }
  if (auto* b = module.as<BottleneckImpl>()) {
    Shape x = CountConv2d(*b->conv1, in, Join(name, "conv1"), counter);
    CountBatchNorm(x, Join(name, "bn1"), counter);
    x = CountConv2d(*b->conv2, x, Join(name, "conv2"), counter);
    CountBatchNorm(x, Join(name, "bn2"), counter);
    x = CountConv2d(*b->conv3, x, Join(name, "conv3"), counter);
    CountBatchNorm(x, Join(name, "bn3"), counter);
    if (b->downsample) CountSequential(*b->downsample, in, Join(name, "downsample"), counter);
    return x;
  }
  if (auto* b = module.as<BasicBlockImpl>()) {
    Shape x = CountConv2d(*b->conv1, in, Join(name, "conv1"), counter);
    CountBatchNorm(x, Join(name, "bn1"), counter);
    x = CountConv2d(*b->conv2, x, Join(name, "conv2"), counter);
    CountBatchNorm(x, Join(name, "bn2"), counter);
    if (b->downsample) CountSequential(*b->downsample, in, Join(name, "downsample"), counter);
    return x;
  }
  TORCH_CHECK(false, "FLOP counting: unsupported module ", module.name(), " at ", name);
}

Shape CountPyramid(const Shape& in, const std::vector<int64_t>& scales, const std::string& name,
                   FlopCounter& counter) {
  int64_t anchors = 0;
  for (int64_t s : scales) {
    counter.Add(name, OpKind::kPool, AdaptivePoolFlops(Numel(in)));
    anchors += s * s;
  }
  return {in[0], in[1], anchors};
}

}  // namespace

Shape CountConv2d(const torch::nn::Conv2dImpl& conv, const Shape& in, const std::string& name,
                  FlopCounter& counter) {
  const auto& o = conv.options;
  const int64_t kh = (*o.kernel_size())[0], kw = (*o.kernel_size())[1];
  const int64_t sh = (*o.stride())[0], sw = (*o.stride())[1];
  const int64_t dh = (*o.dilation())[0], dw = (*o.dilation())[1];
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  TORCH_CHECK(padding, "FLOP counting supports explicit conv padding only (", name, ")");
  const int64_t ph = (**padding)[0], pw = (**padding)[1];
  TORCH_CHECK(in.size() == 4 && in[1] == o.in_channels(), name, ": expected ", o.in_channels(),
              " input channels");
  const int64_t hout = (in[2] + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  const int64_t wout = (in[3] + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  counter.Add(name, OpKind::kConv,
              ConvFlops(in[0], o.in_channels(), o.out_channels(), o.groups(), kh, kw, hout, wout));
  return {in[0], o.out_channels(), hout, wout};
}

Shape CountSelfAttention(const SelfAttentionBlockImpl& block, const Shape& query, const Shape& key,
                         bool same_input, const std::string& name, FlopCounter& counter) {
  const SelfAttentionOptions& o = block.options();
  const Shape key_map =
      CountConvModule(*block.key_project, key, Join(name, "key_project"), counter);
  if (!(o.share_key_query() && same_input)) {
    CountConvModule(*block.query_project, query, Join(name, "query_project"), counter);
  }
  const Shape pooled_key = CountPyramid(key_map, o.pool_scales(), Join(name, "key_pool"), counter);
  const Shape value = CountConv2d(*block.value_project, key, Join(name, "value_project"), counter);
  CountPyramid(value, o.pool_scales(), Join(name, "value_pool"), counter);
  const int64_t n = query[2] * query[3], s = pooled_key[2], c = o.channels();
  counter.Add(Join(name, "matmul"), OpKind::kMatmul,
              MatmulFlops({query[0], n, c}, s));  // query · key
  counter.Add(Join(name, "matmul"), OpKind::kMatmul,
              MatmulFlops({query[0], n, s}, c));  // sim · value
  return CountConv2d(*block.out_project, {query[0], c, query[2], query[3]},
                     Join(name, "out_project"), counter);
}

Shape CountNonLocal(const NonLocalBlockImpl& block, const Shape& in, const std::string& name,
                    FlopCounter& counter) {
  const Shape key = CountConvModule(*block.key_project, in, Join(name, "key_project"), counter);
  CountConv2d(*block.value_project, in, Join(name, "value_project"), counter);
  const int64_t n = in[2] * in[3], c = block.channels();
  counter.Add(Join(name, "matmul"), OpKind::kMatmul,
              MatmulFlops({in[0], n, c}, n));  // query · key: N x N
  counter.Add(Join(name, "matmul"), OpKind::kMatmul, MatmulFlops({in[0], n, n}, c));  // sim · value
  return CountConv2d(*block.out_project, key, Join(name, "out_project"), counter);
}

std::vector<Shape> CountResNet(const ResNetV1cImpl& resnet, const Shape& in,
                               const std::string& name, FlopCounter& counter) {
  Shape x = CountSequential(*resnet.stem, in, Join(name, "stem"), counter);
  // Max pooling 3x3 / 2, padding 1 (not counted).
  auto pooled = [&](int64_t d) {
    return resnet.stem_ceil_mode() ? (d + 2 - 3 + 1) / 2 + 1 : (d + 2 - 3) / 2 + 1;
  };
  x = {x[0], x[1], pooled(x[2]), pooled(x[3])};
  std::vector<Shape> outs;
  const torch::nn::Sequential* layers[4] = {&resnet.layer1, &resnet.layer2, &resnet.layer3,
                                            &resnet.layer4};
  for (int i = 0; i < 4; ++i) {
    x = CountSequential(**layers[i], x, Join(name, "layer" + std::to_string(i + 1)), counter);
    outs.push_back(x);
  }
  return outs;
}

Shape CountSegmentor(const EncoderDecoderImpl& model, const Shape& in, bool auxiliary,
                     FlopCounter& counter) {
  const std::vector<Shape> c = CountResNet(*model.backbone, in, "backbone", counter);
  const ANNHeadImpl& head = *model.decode_head;
  // AFNB: attention of C5 queries over pyramid-sampled C4, then concat + 1x1 bottleneck.
  const auto& afnb = *head.fusion;
  Shape x;
  for (size_t i = 0; i < afnb.stages->size(); ++i) {
    x = CountSelfAttention(*afnb.stages->ptr(i)->as<SelfAttentionBlockImpl>(), c[3], c[2], false,
                           "decode_head.fusion.stages." + std::to_string(i), counter);
  }
  x = CountConvModule(*afnb.bottleneck, {x[0], x[1] + c[3][1], x[2], x[3]},
                      "decode_head.fusion.bottleneck", counter);
  x = CountConvModule(*head.bottleneck, x, "decode_head.bottleneck", counter);
  const auto& apnb = *head.context;
  Shape y;
  for (size_t i = 0; i < apnb.stages->size(); ++i) {
    y = CountSelfAttention(*apnb.stages->ptr(i)->as<SelfAttentionBlockImpl>(), x, x, true,
                           "decode_head.context.stages." + std::to_string(i), counter);
  }
  x = CountConvModule(*apnb.bottleneck, {x[0], x[1] + y[1], x[2], x[3]},
                      "decode_head.context.bottleneck", counter);
  x = CountConv2d(*head.conv_seg, x, "decode_head.conv_seg", counter);
  if (auxiliary && model.auxiliary_head) {
    Shape a = CountSequential(*model.auxiliary_head->convs, c[2], "auxiliary_head.convs", counter);
    CountConv2d(*model.auxiliary_head->conv_seg, a, "auxiliary_head.conv_seg", counter);
  }
  const Shape out = {in[0], x[1], in[2], in[3]};
  if (x[2] != in[2] || x[3] != in[3])
    counter.Add("resize", OpKind::kUpsample, BilinearFlops(Numel(out)));
  return out;
}

}  // namespace ann
