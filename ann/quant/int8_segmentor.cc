#include "ann/quant/int8_segmentor.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "ann/model/self_attention.h"
#include "ann/quant/int8_conv.h"
#include "ann/quant/qops.h"
#include "ann/util/cpu.h"

namespace ann {
namespace {

std::array<int64_t, 2> Pair(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

}  // namespace

struct Int8Segmentor::Int8State {
  std::map<std::string, QParams> qparams;
  std::mutex mutex;  // guards `convs` (forwards may run on several threads)
  std::map<const void*, std::shared_ptr<Int8Conv>> convs;  // per float weight, made on first use
};

// Walks the inference form once per forward, in float (recording ranges) or in int8. Every
// quantized tensor is named by the module that produces it.
class Int8Segmentor::Walker {
 public:
  // In float, recording into `observed`, when `state` is null; else in int8.
  Walker(EncoderDecoderImpl& model, Calibration* observed, Int8State* state)
      : model_(model), int8_(state != nullptr), observed_(observed), state_(state) {}

  torch::Tensor Forward(const torch::Tensor& images) {
    torch::Tensor x = images.to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast);
    x = Point("input", x);  // the image, quantized in int8
    ResNetV1cImpl& backbone = *model_.backbone;
    x = Stem(*backbone.stem, x);
    x = torch::max_pool2d(x, {3, 3}, {2, 2}, {1, 1}, {1, 1}, backbone.stem_ceil_mode());
    std::vector<torch::Tensor> stages;
    const char* names[4] = {"layer1", "layer2", "layer3", "layer4"};
    int layer_index = 0;
    for (torch::nn::Sequential* layer :
         {&backbone.layer1, &backbone.layer2, &backbone.layer3, &backbone.layer4}) {
      for (size_t i = 0; i < (*layer)->size(); ++i) {
        // A block's input is not needed after it, except a stage's output (kept for the head).
        const bool keep_input = i == 0 && layer_index > 0;
        x = Block(absl::StrCat("backbone.", names[layer_index], ".", i), *(*layer)->ptr(i), x,
                  keep_input);
      }
      stages.push_back(x);
      ++layer_index;
    }
    ANNHeadImpl& head = *model_.decode_head;
    auto& fusion = *head.fusion->stages[0]->as<SelfAttentionBlockImpl>();
    torch::Tensor y;
    const ComposedBottleneck& composed = head.composed_bottleneck();
    if (composed.has_weights()) {
      // AFNB's bottleneck composed into the head's (ComposedBottleneck): convolutions of the
      // attention and of the features themselves, no concatenation.
      y = ComposedConv("decode_head.bottleneck", composed,
                       {Attended("decode_head.fusion", fusion, /*query=*/stages[3],
                                 /*key=*/stages[2]),
                        stages[3]});
    } else {
      y = Attention("decode_head.fusion", fusion, /*query=*/stages[3], /*key=*/stages[2],
                    head.fusion->fused(), /*relu=*/false);
      y = ConvModule("decode_head.bottleneck", *head.bottleneck, y);
    }
    y = Attention("decode_head.context", *head.context->stages[0]->as<SelfAttentionBlockImpl>(), y,
                  y, head.context->fused(), /*relu=*/true);
    // The classifier and the resize in float.
    const torch::Tensor features = int8_ ? Dequantize(y) : y;
    const torch::Tensor logits = head.conv_seg->forward(features);
    return ResizeLogits(logits.contiguous(), images.size(2), images.size(3),
                        model_.config().align_corners);
  }

 private:
  // Records (float) or quantizes (int8, a float input) a tensor under `name`.
  torch::Tensor Point(const std::string& name, const torch::Tensor& x) {
    if (!int8_) {
      ann::Observe(x, observed_->ranges[name]);
      return x;
    }
    const QParams q = Params(name);
    return QuantizeUint8(x.contiguous(torch::MemoryFormat::ChannelsLast), q.scale, q.zero_point);
  }

  QParams Params(const std::string& name) const {
    auto it = state_->qparams.find(name);
    TORCH_CHECK(it != state_->qparams.end(), "the int8 calibration has no range for ", name,
                " (made for another model?)");
    return it->second;
  }

  // The int8 convolution of a float `weight`, made on first use.
  std::shared_ptr<Int8Conv> Quantized(const torch::Tensor& weight, const torch::Tensor& bias,
                                      std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                                      std::array<int64_t, 2> dilation) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::shared_ptr<Int8Conv>& slot = state_->convs[weight.unsafeGetTensorImpl()];
    if (!slot) slot = std::make_shared<Int8Conv>(weight, bias, stride, padding, dilation);
    return slot;
  }

  // A convolution with `weight` / `bias` (BN folded), plus `residual` when defined, then an
  // optional ReLU; its output `name`. In int8 the sum runs in the convolution, into the
  // residual's memory.
  torch::Tensor Conv(const std::string& name, const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias, const torch::nn::detail::ConvNdOptions<2>& o,
                     bool relu, const torch::Tensor& residual = torch::Tensor()) {
    const auto& padding = c10::get<torch::ExpandingArray<2>>(o.padding());
    if (!int8_) {
      torch::Tensor y = torch::conv2d(x, weight, bias, *o.stride(), *padding, *o.dilation());
      if (residual.defined()) y.add_(residual);
      if (relu) y.relu_();
      return Point(name, y);
    }
    return Quantized(weight, bias, Pair(o.stride()), Pair(padding), Pair(o.dilation()))
        ->Forward(x, relu, Params(name), residual);
  }

  torch::Tensor Conv(const std::string& name, torch::nn::Conv2dImpl& conv, const torch::Tensor& x,
                     bool relu, const torch::Tensor& residual = torch::Tensor()) {
    return Conv(name, x, conv.weight, conv.bias, conv.options, relu, residual);
  }

  // A convolution whose output is only used in float (no range, no requantization).
  torch::Tensor FloatConv(torch::nn::Conv2dImpl& conv, const torch::Tensor& x, bool relu) {
    const auto& o = conv.options;
    const auto& padding = c10::get<torch::ExpandingArray<2>>(o.padding());
    if (!int8_) {
      torch::Tensor y =
          torch::conv2d(x, conv.weight, conv.bias, *o.stride(), *padding, *o.dilation());
      return relu ? y.relu_() : y;
    }
    return Quantized(conv.weight, conv.bias, Pair(o.stride()), Pair(padding), Pair(o.dilation()))
        ->ForwardFloat(x, relu, torch::Tensor(),
                       attention_bf16_ ? torch::kBFloat16 : torch::kFloat);
  }

  torch::Tensor ConvModule(const std::string& name, ConvModuleImpl& m, const torch::Tensor& x) {
    return Conv(name, *m.conv, x, m.has_relu());
  }

  torch::Tensor Stem(torch::nn::SequentialImpl& stem, torch::Tensor x) {
    for (size_t i = 0; i < stem.size(); ++i) {
      auto* conv = stem.ptr(i)->as<torch::nn::Conv2dImpl>();
      TORCH_CHECK(conv != nullptr, "int8: the stem must be folded convs and ReLUs");
      const bool relu = i + 1 < stem.size() && stem.ptr(i + 1)->as<torch::nn::ReLUImpl>();
      x = Conv(absl::StrCat("backbone.stem.", i), *conv, x, relu);
      if (relu) ++i;
    }
    return x;
  }

  // A residual block; its last convolution adds the identity and applies the ReLU (output
  // `name`).
  torch::Tensor Block(const std::string& name, torch::nn::Module& block, const torch::Tensor& x,
                      bool keep_input) {
    torch::nn::Sequential downsample{nullptr};
    std::vector<torch::nn::Conv2dImpl*> convs;
    if (auto* b = block.as<BottleneckImpl>()) {
      convs = {b->conv1.get(), b->conv2.get(), b->conv3.get()};
      downsample = b->downsample;
    } else {
      auto* basic = block.as<BasicBlockImpl>();
      TORCH_CHECK(basic != nullptr, "int8: unexpected residual block");
      convs = {basic->conv1.get(), basic->conv2.get()};
      downsample = basic->downsample;
    }
    torch::Tensor identity;
    if (downsample) {
      identity =
          Conv(name + ".downsample", *downsample->ptr(0)->as<torch::nn::Conv2dImpl>(), x, false);
    } else {
      identity = int8_ && keep_input ? x.clone() : x;
    }
    torch::Tensor out = x;
    for (size_t i = 0; i + 1 < convs.size(); ++i) {
      out = Conv(absl::StrCat(name, ".conv", i + 1), *convs[i], out, true);
    }
    return Conv(name, *convs.back(), out, /*relu=*/true, identity);
  }

  // A self-attention stage's output (`name`.attention): the projections in int8 with float32
  // outputs, the attention itself in float, its result quantized.
  torch::Tensor Attended(const std::string& name, SelfAttentionBlockImpl& block,
                         const torch::Tensor& query_feats, const torch::Tensor& key_feats) {
    const SelfAttentionOptions& o = block.options();
    const torch::Tensor key_map =
        FloatConv(*block.key_project->conv, key_feats, block.key_project->has_relu());
    const torch::Tensor query_map =
        o.share_key_query() && query_feats.is_same(key_feats)
            ? key_map
            : FloatConv(*block.query_project->conv, query_feats, block.query_project->has_relu());
    const torch::Tensor value_map = FloatConv(*block.value_project, key_feats, false);
    return Point(name + ".attention",
                 block.AttendMaps(query_map, key_map, value_map, /*channels_last=*/true));
  }

  // Attended, concatenated with `query_feats` and requantized (`name`.cat).
  torch::Tensor Joined(const std::string& name, SelfAttentionBlockImpl& block,
                       const torch::Tensor& query_feats, const torch::Tensor& key_feats) {
    const torch::Tensor attended = Attended(name, block, query_feats, key_feats);
    if (!int8_) return Point(name + ".cat", torch::cat({attended, query_feats}, 1));
    const QParams q = Params(name + ".cat");
    return QuantizedCat({attended, query_feats}, 1, q.scale, q.zero_point);
  }

  // A self-attention stage and the bottleneck fused with its output projection (a 1x1
  // convolution of Joined).
  torch::Tensor Attention(const std::string& name, SelfAttentionBlockImpl& block,
                          const torch::Tensor& query_feats, const torch::Tensor& key_feats,
                          const FusedBottleneck& fused, bool relu) {
    TORCH_CHECK(fused.prepared(), "--project_channels: int8 needs ", name,
                "'s projection fused into its bottleneck, which needs --project_channels below "
                "the block's output channels (use --precision=fp32 or exact)");
    const torch::Tensor joined = Joined(name, block, query_feats, key_feats);
    const torch::nn::detail::ConvNdOptions<2> one_by_one(joined.size(1), fused.weight().size(0), 1);
    return Conv(name + ".bottleneck", joined, fused.weight(), fused.bias(), one_by_one, relu);
  }

  // The composed convolution (ComposedBottleneck) of `inputs` (the attention, the features),
  // output `name`: one convolution per chunk, in int8 with float32 outputs summed by oneDNN, then
  // the border's bias, the ReLU and the quantization.
  torch::Tensor ComposedConv(const std::string& name, const ComposedBottleneck& composed,
                             const std::vector<torch::Tensor>& inputs) {
    const auto padding = composed.padding(), dilation = composed.dilation();
    torch::Tensor sum;
    for (const ComposedBottleneck::Chunk& chunk : composed.chunks()) {
      torch::Tensor x = inputs[chunk.input];
      if (chunk.length != x.size(1)) {
        x = x.narrow(1, chunk.start, chunk.length).contiguous(torch::MemoryFormat::ChannelsLast);
      }
      if (int8_) {
        sum = Quantized(chunk.weight, chunk.bias, {1, 1}, padding, dilation)
                  ->ForwardFloat(x, /*relu=*/false, sum);
      } else {
        torch::Tensor part = torch::conv2d(x, chunk.weight, chunk.bias, 1, {padding[0], padding[1]},
                                           {dilation[0], dilation[1]});
        sum = sum.defined() ? sum.add_(part) : part;
      }
    }
    composed.AddBorderBias(sum);
    if (composed.relu()) sum.relu_();
    return Point(name, sum);
  }

  EncoderDecoderImpl& model_;
  bool int8_;
  // The attention in bfloat16 (its softmax in float32, as in the bf16 form) where the CPU has
  // bf16 instructions: 8-10 ms less of a 200 ms R-50 forward at 512x1024 (Intel AMX), the toy
  // model's int8 val mIoU and agreement with exact unchanged (75.97, 99.67%).
  bool attention_bf16_ = int8_ && CpuHasBf16();
  Calibration* observed_;
  Int8State* state_;
};

Int8Segmentor::Int8Segmentor(EncoderDecoder model) : model_(std::move(model)) {
  model_->PrepareForInference(Precision::kInt8);
}

Int8Segmentor::~Int8Segmentor() = default;

torch::Tensor Int8Segmentor::Observe(const torch::Tensor& input) {
  torch::InferenceMode guard;
  Walker walker(*model_, &observed_, /*state=*/nullptr);
  torch::Tensor logits = walker.Forward(input);
  ++observed_.images;
  return logits;
}

void Int8Segmentor::Quantize(const Calibration& calibration, Observer observer) {
  int8_ = std::make_unique<Int8State>();
  for (const auto& [name, range] : calibration.ranges) {
    const auto [scale, zero_point] = ActivationQParams(range, observer);
    int8_->qparams[name] = {scale, zero_point};
  }
}

torch::Tensor Int8Segmentor::Predict(const torch::Tensor& input) {
  TORCH_CHECK(int8_ != nullptr, "Int8Segmentor::Predict before Quantize");
  torch::InferenceMode guard;
  Walker walker(*model_, /*observed=*/nullptr, int8_.get());
  return walker.Forward(input);
}

}  // namespace ann
