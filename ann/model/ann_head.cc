#include "ann/model/ann_head.h"

#include <algorithm>

namespace ann {
namespace {

torch::Tensor SumStages(torch::nn::ModuleList& stages, const torch::Tensor& query,
                        const torch::Tensor& key) {
  torch::Tensor context;
  for (const auto& stage : *stages) {
    torch::Tensor prior = stage->as<SelfAttentionBlockImpl>()->forward(query, key);
    context = context.defined() ? context + prior : prior;
  }
  return context;
}

// [W_c W_o,1 | ... | W_f] and W_c sum_i b_o,i + b of `stages` and `conv`.
ConvWeights FuseWeights(torch::nn::ModuleList& stages, torch::nn::Conv2dImpl& conv,
                        torch::ScalarType dtype) {
  std::vector<torch::Tensor> out_weights, out_biases;
  for (const auto& stage : *stages) {
    const torch::nn::Conv2dImpl& out = *stage->as<SelfAttentionBlockImpl>()->out_project;
    out_weights.push_back(out.weight);
    out_biases.push_back(out.bias);
  }
  return FuseBottleneckWeights(out_weights, out_biases, conv.weight, conv.bias, dtype);
}

}  // namespace

ConvWeights FuseBottleneckWeights(const std::vector<torch::Tensor>& out_weights,
                                  const std::vector<torch::Tensor>& out_biases,
                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                  torch::ScalarType dtype) {
  // Under bf16 autocast the products stay in the weights' precision; the convolution that
  // uses them is autocast.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  const torch::Tensor w = weight.to(dtype).flatten(1);  // [out, context + feats]
  const int64_t context = out_weights[0].size(0);
  const torch::Tensor w_c = w.narrow(1, 0, context);
  std::vector<torch::Tensor> columns;
  torch::Tensor out_bias;
  for (size_t i = 0; i < out_weights.size(); ++i) {
    columns.push_back(w_c.mm(out_weights[i].to(dtype).flatten(1)));
    if (out_biases[i].defined()) {
      out_bias = out_bias.defined() ? out_bias + out_biases[i].to(dtype) : out_biases[i].to(dtype);
    }
  }
  columns.push_back(w.narrow(1, context, w.size(1) - context));
  ConvWeights fused{torch::cat(columns, 1).view({w.size(0), -1, 1, 1}), {}};
  if (out_bias.defined()) fused.bias = w_c.mv(out_bias);
  if (bias.defined()) fused.bias = fused.bias.defined() ? fused.bias + bias.to(dtype) : bias.to(dtype);
  return fused;
}

bool FusedBottleneck::Pays(torch::nn::ModuleList& stages) {
  int64_t attention = 0, context = 0;
  for (const auto& stage : *stages) {
    const auto* block = stage->as<SelfAttentionBlockImpl>();
    attention += block->options().channels();
    context = block->options().out_channels();
  }
  return attention < context;
}

void FusedBottleneck::Prepare(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                              torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  const ConvWeights fused = FuseWeights(stages, *bottleneck.conv, torch::kDouble);
  weight_ = fused.weight.to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
  bias_ = fused.bias.defined() ? fused.bias.to(dtype) : torch::Tensor();
}

std::vector<torch::Tensor> FusedBottleneck::Inputs(torch::nn::ModuleList& stages,
                                                   const torch::Tensor& query,
                                                   const torch::Tensor& key,
                                                   const torch::Tensor& feats) {
  const bool channels_last =
      !feats.is_contiguous() && feats.is_contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> inputs;
  for (const auto& stage : *stages) {
    inputs.push_back(stage->as<SelfAttentionBlockImpl>()->Attend(query, key, channels_last));
  }
  inputs.push_back(feats);
  return inputs;
}

torch::Tensor FusedBottleneck::Forward(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                                       const torch::Tensor& query, const torch::Tensor& key,
                                       const torch::Tensor& feats, bool live_weights) {
  const torch::Tensor x = torch::cat(Inputs(stages, query, key, feats), 1);
  if (prepared() && !live_weights) {
    if (dnnl_ && x.scalar_type() == dnnl_->dtype()) return dnnl_->Forward(x, bottleneck.has_relu());
    return bottleneck.NormAndActivate(torch::conv2d(x, weight_, bias_));
  }
  const ConvWeights fused =
      FuseWeights(stages, *bottleneck.conv, bottleneck.conv->weight.scalar_type());
  return bottleneck.NormAndActivate(torch::conv2d(x, fused.weight, fused.bias));
}

AFNBImpl::AFNBImpl(int64_t low_in_channels, int64_t high_in_channels, int64_t channels,
                   int64_t out_channels, const std::vector<int64_t>& pool_scales, bool conv_bias,
                   double dropout_ratio) {
  stages = register_module("stages", torch::nn::ModuleList());
  stages->push_back(SelfAttentionBlock(
      SelfAttentionOptions(low_in_channels, high_in_channels, channels, out_channels)
          .pool_scales(pool_scales)
          .key_query_bias(conv_bias)));
  bottleneck = register_module(
      "bottleneck", ConvModule(ConvModuleOptions(out_channels + high_in_channels, out_channels, 1)
                                   .bias(conv_bias)
                                   .relu(false)));
  if (dropout_ratio > 0) dropout = register_module("dropout", BatchDropout2d(dropout_ratio));
}

torch::Tensor AFNBImpl::forward(const torch::Tensor& low_feats, const torch::Tensor& high_feats) {
  torch::Tensor out;
  if ((is_training() || fused_.prepared()) && FusedBottleneck::Pays(stages)) {
    out = fused_.Forward(stages, *bottleneck, /*query=*/high_feats, /*key=*/low_feats, high_feats,
                         /*live_weights=*/is_training());
  } else {
    torch::Tensor context = SumStages(stages, /*query=*/high_feats, /*key=*/low_feats);
    out = bottleneck->forward(torch::cat({context, high_feats}, 1));
  }
  return dropout ? dropout->forward(out) : out;
}

void AFNBImpl::PrepareFused(torch::ScalarType dtype) {
  if (FusedBottleneck::Pays(stages)) fused_.Prepare(stages, *bottleneck, dtype);
}

void FusedBottleneck::UseDnnl() {
  TORCH_CHECK(prepared(), "FusedBottleneck::UseDnnl before Prepare");
  dnnl_ = std::make_shared<DnnlConv>(weight_, bias_, std::array<int64_t, 2>{1, 1},
                                     std::array<int64_t, 2>{0, 0}, std::array<int64_t, 2>{1, 1},
                                     weight_.scalar_type(), weight_.scalar_type());
}

namespace {

// The attention's projections, and with `bottleneck` the (fused) bottleneck, through oneDNN.
void UseDnnlIn(torch::nn::ModuleList& stages, FusedBottleneck& fused, ConvModuleImpl& bottleneck,
               torch::ScalarType dtype, bool with_bottleneck) {
  for (const auto& stage : *stages) stage->as<SelfAttentionBlockImpl>()->UseDnnl(dtype);
  if (!with_bottleneck) return;
  if (fused.prepared()) {
    fused.UseDnnl();
  } else {
    bottleneck.UseDnnl(dtype);
  }
}

}  // namespace

void AFNBImpl::UseDnnl(torch::ScalarType dtype, bool with_bottleneck) {
  UseDnnlIn(stages, fused_, *bottleneck, dtype, with_bottleneck);
}

std::vector<torch::Tensor> AFNBImpl::FusedInputs(const torch::Tensor& low_feats,
                                                 const torch::Tensor& high_feats) {
  return FusedBottleneck::Inputs(stages, /*query=*/high_feats, /*key=*/low_feats, high_feats);
}

APNBImpl::APNBImpl(int64_t in_channels, int64_t channels, int64_t out_channels,
                   const std::vector<int64_t>& pool_scales, bool conv_bias, double dropout_ratio) {
  stages = register_module("stages", torch::nn::ModuleList());
  stages->push_back(
      SelfAttentionBlock(SelfAttentionOptions(in_channels, in_channels, channels, in_channels)
                             .share_key_query(true)
                             .pool_scales(pool_scales)
                             .key_query_bias(conv_bias)));
  bottleneck = register_module(
      "bottleneck",
      ConvModule(ConvModuleOptions(2 * in_channels, out_channels, 1).bias(conv_bias)));
  if (dropout_ratio > 0) dropout = register_module("dropout", BatchDropout2d(dropout_ratio));
}

torch::Tensor APNBImpl::forward(const torch::Tensor& feats) {
  torch::Tensor out;
  if ((is_training() || fused_.prepared()) && FusedBottleneck::Pays(stages)) {
    out = fused_.Forward(stages, *bottleneck, feats, feats, feats,
                         /*live_weights=*/is_training());
  } else {
    torch::Tensor context = SumStages(stages, feats, feats);
    out = bottleneck->forward(torch::cat({context, feats}, 1));
  }
  return dropout ? dropout->forward(out) : out;
}

void APNBImpl::PrepareFused(torch::ScalarType dtype) {
  if (FusedBottleneck::Pays(stages)) fused_.Prepare(stages, *bottleneck, dtype);
}

namespace {

constexpr int64_t kComposedChunk = 512;  // channels of feats per convolution

// The `n` rows (or columns) of a map on `small` ones mapped to the `n` of the image: the first
// and last `pad` are the border's own, every other one is the interior's (`pad`).
torch::Tensor SmallIndex(int64_t n, int64_t small, int64_t pad) {
  std::vector<int64_t> index(n);
  for (int64_t i = 0; i < n; ++i) index[i] = i < pad ? i : (i >= n - pad ? small - (n - i) : pad);
  return torch::tensor(index, torch::kLong);
}

}  // namespace

bool ComposedBottleneck::Pays(AFNBImpl& fusion, const torch::nn::Conv2dImpl& conv) {
  if (!fusion.fused().prepared() || fusion.bottleneck->has_relu()) return false;
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr || o.groups() != 1) return false;
  for (int i = 0; i < 2; ++i) {
    if ((*o.stride())[i] != 1 ||
        ((*o.kernel_size())[i] - 1) * (*o.dilation())[i] != 2 * (**padding)[i]) {
      return false;
    }
  }
  const int64_t in = fusion.fused().weight().size(1), mid = fusion.fused().weight().size(0);
  const int64_t taps = (*o.kernel_size())[0] * (*o.kernel_size())[1], out = o.out_channels();
  return in * taps * out < in * mid + mid * taps * out;
}

torch::Tensor ComposedBottleneck::Compose(AFNBImpl& fusion, ConvModuleImpl& bottleneck) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(!fusion.bottleneck->bn && !bottleneck.bn, "ComposedBottleneck: fold the BNs first");
  const torch::nn::Conv2dImpl& conv = *bottleneck.conv;
  const ConvWeights fused = FuseWeights(fusion.stages, *fusion.bottleneck->conv, torch::kDouble);
  const torch::Tensor f = fused.weight.flatten(1);         // [mid, in]
  const torch::Tensor w = conv.weight.to(torch::kDouble);  // [out, mid, kh, kw]
  const int64_t out = w.size(0), mid = w.size(1), kh = w.size(2), kw = w.size(3);
  // [out, kh, kw, mid] x [mid, in] -> [out, in, kh, kw]
  const torch::Tensor composed = w.permute({0, 2, 3, 1})
                                     .reshape({-1, mid})
                                     .mm(f)
                                     .view({out, kh, kw, -1})
                                     .permute({0, 3, 1, 2});
  taps_ = fused.bias.defined() ? (w * fused.bias.view({1, -1, 1, 1})).sum(1, /*keepdim=*/true)
                               : torch::zeros({out, 1, kh, kw}, torch::kDouble);
  bias64_ =
      conv.bias.defined() ? conv.bias.to(torch::kDouble) : torch::zeros({out}, torch::kDouble);
  const auto& padding = c10::get<torch::ExpandingArray<2>>(conv.options.padding());
  for (int i = 0; i < 2; ++i) {
    padding_[i] = (*padding)[i];
    dilation_[i] = (*conv.options.dilation())[i];
  }
  relu_ = bottleneck.has_relu();
  // The map on a (2 ph + 1) x (2 pw + 1) image: its centre is the interior value.
  const torch::Tensor small = BiasMap(2 * padding_[0] + 1, 2 * padding_[1] + 1);
  interior64_ = small.select(0, 0).select(1, padding_[0]).select(1, padding_[1]).clone();
  border_ = (small - interior64_.view({1, -1, 1, 1})).to(torch::kFloat);
  return composed;
}

void ComposedBottleneck::PrepareWeights(AFNBImpl& fusion, ConvModuleImpl& bottleneck) {
  torch::NoGradGuard no_grad;
  MakeChunks(fusion, Compose(fusion, bottleneck), /*run=*/false, torch::kFloat);
}

void ComposedBottleneck::Prepare(AFNBImpl& fusion, ConvModuleImpl& bottleneck,
                                 torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  MakeChunks(fusion, Compose(fusion, bottleneck), /*run=*/true, dtype);
}

void ComposedBottleneck::MakeChunks(AFNBImpl& fusion, const torch::Tensor& composed, bool run,
                                    torch::ScalarType dtype) {
  chunks_.clear();
  int64_t offset = 0;
  size_t input = 0;
  auto add_chunks = [&](int64_t channels, int64_t chunk) {
    for (int64_t start = 0; start < channels; start += chunk) {
      const int64_t length = std::min(chunk, channels - start);
      const torch::Tensor weight = composed.narrow(1, offset + start, length);
      const torch::Tensor bias = chunks_.empty() ? interior64_ : torch::Tensor();
      Chunk c{input, start, length, nullptr, {}, {}};
      if (run) {
        c.conv = std::make_shared<DnnlConv>(weight, bias, std::array<int64_t, 2>{1, 1},
                                            std::array<int64_t, 2>{padding_[0], padding_[1]},
                                            std::array<int64_t, 2>{dilation_[0], dilation_[1]},
                                            dtype, torch::kFloat);
      } else {
        c.weight = weight.to(torch::kFloat).contiguous();
        if (bias.defined()) c.bias = bias.to(torch::kFloat);
      }
      chunks_.push_back(std::move(c));
    }
    offset += channels;
    ++input;
  };
  for (const auto& stage : *fusion.stages) {
    const int64_t channels = stage->as<SelfAttentionBlockImpl>()->options().channels();
    add_chunks(channels, channels);
  }
  add_chunks(composed.size(1) - offset, kComposedChunk);
}

torch::Tensor ComposedBottleneck::BiasMap(int64_t height, int64_t width) const {
  return torch::conv2d(torch::ones({1, 1, height, width}, torch::kDouble), taps_, bias64_, 1,
                       {padding_[0], padding_[1]}, {dilation_[0], dilation_[1]});
}

torch::Tensor ComposedBottleneck::Border(int64_t height, int64_t width) const {
  return (BiasMap(height, width) - interior64_.view({1, -1, 1, 1})).to(torch::kFloat);
}

void ComposedBottleneck::AddBorderBias(torch::Tensor& sum) const {
  const int64_t height = sum.size(2), width = sum.size(3), ph = padding_[0], pw = padding_[1];
  if (height < 2 * ph + 1 || width < 2 * pw + 1) {
    // Smaller than the border itself: the whole map (tiny inputs only).
    const int64_t h = std::min(height, 2 * ph + 1), w = std::min(width, 2 * pw + 1);
    sum.add_(Border(h, w)
                 .index_select(2, SmallIndex(height, h, ph))
                 .index_select(3, SmallIndex(width, w, pw)));
    return;
  }
  const int64_t h = border_.size(2), w = border_.size(3);
  const torch::Tensor columns = SmallIndex(width, w, pw);
  sum.narrow(2, 0, ph).add_(border_.narrow(2, 0, ph).index_select(3, columns));
  sum.narrow(2, height - ph, ph).add_(border_.narrow(2, h - ph, ph).index_select(3, columns));
  torch::Tensor middle = sum.narrow(2, ph, height - 2 * ph);
  const torch::Tensor interior_row = border_.narrow(2, ph, 1);
  middle.narrow(3, 0, pw).add_(interior_row.narrow(3, 0, pw));
  middle.narrow(3, width - pw, pw).add_(interior_row.narrow(3, w - pw, pw));
}

torch::Tensor ComposedBottleneck::Forward(const std::vector<torch::Tensor>& inputs) const {
  const torch::Tensor& feats = inputs.back();
  const auto format =
      feats.is_contiguous() ? torch::MemoryFormat::Contiguous : torch::MemoryFormat::ChannelsLast;
  torch::Tensor sum;
  for (const Chunk& chunk : chunks_) {
    torch::Tensor x = inputs[chunk.input];
    if (chunk.length != x.size(1)) x = x.narrow(1, chunk.start, chunk.length).contiguous(format);
    sum = chunk.conv->Forward(x, /*relu=*/false, sum);  // the first one starts the sum
  }
  AddBorderBias(sum);
  torch::Tensor out = sum.to(feats.scalar_type());
  return relu_ ? out.relu_() : out;
}

void APNBImpl::UseDnnl(torch::ScalarType dtype) {
  UseDnnlIn(stages, fused_, *bottleneck, dtype, /*with_bottleneck=*/true);
}

void ANNHeadImpl::UseDnnl(torch::ScalarType dtype) {
  fusion->UseDnnl(dtype, /*with_bottleneck=*/!composed());
  if (!composed()) bottleneck->UseDnnl(dtype);
  context->UseDnnl(dtype);
}

void ANNHeadImpl::PrepareComposed(Precision precision) {
  if (!ComposedBottleneck::Pays(*fusion, *bottleneck->conv)) return;
  if (precision == Precision::kInt8) {
    composed_.PrepareWeights(*fusion, *bottleneck);
  } else {
    composed_.Prepare(*fusion, *bottleneck,
                      precision == Precision::kBf16 ? torch::kBFloat16 : torch::kFloat);
  }
}

ANNHeadImpl::ANNHeadImpl(const ModelConfig& config)
    : DecodeHeadImpl(config.channels, config.num_classes, config.decode_dropout()) {
  const int64_t low = config.c4_channels();
  const int64_t high = config.c5_channels();
  fusion =
      register_module("fusion", AFNB(low, high, config.project_channels, high, config.pool_scales,
                                     config.head_conv_bias(), config.block_dropout()));
  bottleneck = register_module(
      "bottleneck",
      ConvModule(
          ConvModuleOptions(high, config.channels, 3).padding(1).bias(config.head_conv_bias())));
  context = register_module(
      "context", APNB(config.channels, config.project_channels, config.channels, config.pool_scales,
                      config.head_conv_bias(), config.block_dropout()));
}

torch::Tensor ANNHeadImpl::forward(const std::vector<torch::Tensor>& inputs) {
  TORCH_CHECK(inputs.size() == 4, "ANNHead expects C2..C5, got ", inputs.size(), " maps");
  torch::Tensor out;
  if (composed_.prepared() && !is_training()) {
    out = composed_.Forward(fusion->FusedInputs(/*low_feats=*/inputs[2], /*high_feats=*/inputs[3]));
  } else {
    out = fusion->forward(/*low_feats=*/inputs[2], /*high_feats=*/inputs[3]);
    if (dropout) out = dropout->forward(out);
    out = bottleneck->forward(out);
  }
  out = context->forward(out);
  return ClassifySegments(out);
}

}  // namespace ann
