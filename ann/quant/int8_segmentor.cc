#include "ann/quant/int8_segmentor.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "ann/model/self_attention.h"
#include "ann/quant/qops.h"

namespace ann {
namespace {

std::vector<int64_t> Pair(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

}  // namespace

struct Int8Segmentor::Int8State {
  std::map<std::string, std::pair<double, int64_t>> qparams;
  std::mutex mutex;  // guards `packed` (forwards may run on several threads)
  std::map<const void*, PackedConv> packed;  // per convolution weight, made on first use
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
        x = Block(absl::StrCat("backbone.", names[layer_index], ".", i), *(*layer)->ptr(i), x);
      }
      stages.push_back(x);
      ++layer_index;
    }
    ANNHeadImpl& head = *model_.decode_head;
    torch::Tensor y =
        Attention("decode_head.fusion", *head.fusion->stages[0]->as<SelfAttentionBlockImpl>(),
                  /*query=*/stages[3], /*key=*/stages[2], head.fusion->fused(),
                  /*relu=*/false);
    y = ConvModule("decode_head.bottleneck", *head.bottleneck, y);
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
    const auto [scale, zero_point] = QParams(name);
    return QuantizeUint8(x.contiguous(torch::MemoryFormat::ChannelsLast), scale, zero_point);
  }

  std::pair<double, int64_t> QParams(const std::string& name) const {
    auto it = state_->qparams.find(name);
    TORCH_CHECK(it != state_->qparams.end(), "the int8 calibration has no range for ", name,
                " (made for another model?)");
    return it->second;
  }

  // A convolution with `weight` / `bias` (BN folded) and an optional ReLU; its output `name`.
  torch::Tensor Conv(const std::string& name, const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias, const torch::nn::detail::ConvNdOptions<2>& o,
                     bool relu) {
    const auto& padding = c10::get<torch::ExpandingArray<2>>(o.padding());
    if (!int8_) {
      torch::Tensor y = torch::conv2d(x, weight, bias, *o.stride(), *padding, *o.dilation());
      if (relu) y.relu_();
      return Point(name, y);
    }
    PackedConv packed;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      PackedConv& slot = state_->packed[weight.unsafeGetTensorImpl()];
      if (!slot) slot = PackConv(weight, bias, Pair(o.stride()), Pair(padding), Pair(o.dilation()));
      packed = slot;
    }
    const auto [scale, zero_point] = QParams(name);
    return ApplyConv(packed, x, relu, scale, zero_point);
  }

  torch::Tensor Conv(const std::string& name, torch::nn::Conv2dImpl& conv, const torch::Tensor& x,
                     bool relu) {
    return Conv(name, x, conv.weight, conv.bias, conv.options, relu);
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

  torch::Tensor Block(const std::string& name, torch::nn::Module& block, const torch::Tensor& x) {
    torch::Tensor identity = x, out;
    torch::nn::Sequential downsample{nullptr};
    if (auto* b = block.as<BottleneckImpl>()) {
      out = Conv(name + ".conv1", *b->conv1, x, true);
      out = Conv(name + ".conv2", *b->conv2, out, true);
      out = Conv(name + ".conv3", *b->conv3, out, false);
      downsample = b->downsample;
    } else {
      auto* basic = block.as<BasicBlockImpl>();
      TORCH_CHECK(basic != nullptr, "int8: unexpected residual block");
      out = Conv(name + ".conv1", *basic->conv1, x, true);
      out = Conv(name + ".conv2", *basic->conv2, out, false);
      downsample = basic->downsample;
    }
    if (downsample) {
      identity =
          Conv(name + ".downsample", *downsample->ptr(0)->as<torch::nn::Conv2dImpl>(), x, false);
    }
    if (!int8_) return Point(name, out.add_(identity).relu_());
    const auto [scale, zero_point] = QParams(name);
    return QuantizedAddRelu(out, identity, scale, zero_point);
  }

  // A self-attention stage and the bottleneck fused with its output projection: the
  // projections in int8, the attention itself in float, its result quantized and concatenated
  // with `query` for the fused 1x1 convolution.
  torch::Tensor Attention(const std::string& name, SelfAttentionBlockImpl& block,
                          const torch::Tensor& query_feats, const torch::Tensor& key_feats,
                          const FusedBottleneck& fused, bool relu) {
    TORCH_CHECK(fused.prepared(), "int8 needs the fused bottleneck of the inference form");
    const SelfAttentionOptions& o = block.options();
    auto dequantized = [&](const torch::Tensor& t) { return int8_ ? Dequantize(t) : t; };
    const torch::Tensor key_map = ConvModule(name + ".key", *block.key_project, key_feats);
    const torch::Tensor query_map =
        o.share_key_query() && query_feats.is_same(key_feats)
            ? key_map
            : ConvModule(name + ".query", *block.query_project, query_feats);
    const torch::Tensor value_map = Conv(name + ".value", *block.value_project, key_feats, false);
    const torch::Tensor attended = Point(
        name + ".attention", block.AttendMaps(dequantized(query_map), dequantized(key_map),
                                              dequantized(value_map), /*channels_last=*/true));
    torch::Tensor joined;
    if (int8_) {
      const auto [scale, zero_point] = QParams(name + ".cat");
      joined = QuantizedCat({attended, query_feats}, 1, scale, zero_point);
    } else {
      joined = Point(name + ".cat", torch::cat({attended, query_feats}, 1));
    }
    const torch::nn::detail::ConvNdOptions<2> one_by_one(joined.size(1), fused.weight().size(0), 1);
    return Conv(name + ".bottleneck", joined, fused.weight(), fused.bias(), one_by_one, relu);
  }

  EncoderDecoderImpl& model_;
  bool int8_;
  Calibration* observed_;
  Int8State* state_;
};

Int8Segmentor::Int8Segmentor(EncoderDecoder model) : model_(std::move(model)) {
  model_->PrepareForInference(Precision::kFp32);
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
  UseOnednnQuantizedEngine();
  int8_ = std::make_unique<Int8State>();
  for (const auto& [name, range] : calibration.ranges) {
    int8_->qparams[name] = ActivationQParams(range, observer);
  }
}

torch::Tensor Int8Segmentor::Predict(const torch::Tensor& input) {
  TORCH_CHECK(int8_ != nullptr, "Int8Segmentor::Predict before Quantize");
  torch::InferenceMode guard;
  Walker walker(*model_, /*observed=*/nullptr, int8_.get());
  return walker.Forward(input);
}

}  // namespace ann
