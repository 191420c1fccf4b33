#include "ann/quant/int8_executor.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ann/inference/compose_bottleneck.h"
#include "ann/inference/node_ops.h"
#include "ann/quant/qops.h"
#include "ann/util/cpu.h"

namespace ann {
namespace {

std::string StripSuffix(const std::string& s, const std::string& suffix) {
  return absl::EndsWith(s, suffix) ? s.substr(0, s.size() - suffix.size()) : s;
}

}  // namespace

std::string CalibrationName(const std::string& node_name) {
  constexpr char kStem[] = "backbone.stem.";
  int index;
  if (absl::StartsWith(node_name, kStem) &&
      absl::SimpleAtoi(node_name.substr(sizeof(kStem) - 1), &index)) {
    // (conv, BN, ReLU) x 3 in the checkpoint; (conv, ReLU) x 3 once the BNs were folded away.
    return absl::StrCat(kStem, index / 3 * 2);
  }
  const size_t stages = node_name.rfind(".stages.");
  if (stages != std::string::npos) return node_name.substr(0, stages) + ".attention";
  if (absl::EndsWith(node_name, ".downsample.0")) return StripSuffix(node_name, ".0");
  return StripSuffix(node_name, ".conv");
}

Int8Executor::Int8Executor(Graph graph)
    : graph_(std::move(graph)), steps_(graph_.size()), last_use_(LastUses(graph_)) {
  torch::NoGradGuard no_grad;
  for (int i = 0; i < graph_.size(); ++i) {
    const GraphNode& n = graph_.node(i);
    Step& step = steps_[i];
    step.name = CalibrationName(n.name);
    switch (n.kind) {
      case NodeKind::kInput:
      case NodeKind::kMaxPool:
      case NodeKind::kAttention:
      case NodeKind::kResize:
        continue;
      case NodeKind::kConcat:
        TORCH_CHECK(false, "--project_channels: int8 needs ", StripSuffix(n.name, ".cat"),
                    "'s projection fused into its bottleneck, which needs --project_channels below "
                    "the block's output channels (use --precision=fp32 or exact)");
      case NodeKind::kBatchNorm:
      case NodeKind::kRelu:
      case NodeKind::kAdd:
        TORCH_CHECK(false, n.name, ": the int8 forward runs no separate ", NodeKindName(n.kind),
                    " (fuse it into the convolution before)");
      case NodeKind::kConv:
        break;
    }
    const std::vector<int> readers = graph_.Consumers(i);
    bool attention_only = !readers.empty();
    for (int r : readers) attention_only &= graph_.node(r).kind == NodeKind::kAttention;
    if (IsClassifier(graph_, i)) {
      step.role = Role::kClassifier;
    } else if (attention_only) {
      step.role = Role::kProjection;
    } else if (n.border) {
      step.role = Role::kComposed;
    } else if (n.inputs.size() > 1) {
      step.role = Role::kJoined;
      step.cat_name = StripSuffix(step.name, ".bottleneck") + ".cat";
    } else {
      step.role = Role::kQuantized;
    }
    if (step.role != Role::kComposed) {
      step.weight = n.weight.to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast);
      if (n.bias.defined()) step.bias = n.bias.to(torch::kFloat);
      continue;
    }
    // Summed in float32; the first adds the interior bias.
    for (const ConvChunk& part : ComposedChunks(graph_, n)) {
      Chunk c{part,
              n.weight.narrow(1, part.offset, part.length).to(torch::kFloat).contiguous(),
              {},
              nullptr};
      if (step.chunks.empty()) c.bias = n.bias.to(torch::kFloat);
      step.chunks.push_back(std::move(c));
    }
  }
}

Int8Executor::~Int8Executor() = default;

// One forward, in float (recording ranges into `observed`) or in int8.
class Int8Executor::Walk {
 public:
  Walk(const Int8Executor& executor, Calibration* observed)
      : e_(executor), int8_(observed == nullptr), observed_(observed) {}

  torch::Tensor Forward(const torch::Tensor& images) {
    const Graph& graph = e_.graph_;
    std::vector<torch::Tensor> values(graph.size());
    for (int i = 0; i < graph.size(); ++i) {
      const GraphNode& n = graph.node(i);
      const Step& step = e_.steps_[i];
      torch::Tensor y;
      switch (n.kind) {
        case NodeKind::kInput:
          y = Point("input", e_.input_,
                    images.to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast));
          break;
        case NodeKind::kAttention:  // in float, its result quantized
          y = Point(step.name, step.out, RunLibTorchNode(n, values, /*channels_last=*/true));
          break;
        case NodeKind::kConv:
          y = Conv(n, step, values, i);
          break;
        default:  // max pooling (on uint8), resize
          y = RunLibTorchNode(n, values, /*channels_last=*/true);
      }
      values[i] = std::move(y);
      ReleaseInputs(graph, i, e_.last_use_, values);
    }
    return values[graph.outputs()[0]];
  }

 private:
  // Records (float) or quantizes (int8, a float input) a tensor under `name`.
  torch::Tensor Point(const std::string& name, const QParams& q, const torch::Tensor& x) {
    if (!int8_) {
      ann::Observe(x, observed_->ranges[name]);
      return x;
    }
    return QuantizeUint8(x.contiguous(torch::MemoryFormat::ChannelsLast), q.scale, q.zero_point);
  }

  torch::Tensor FloatConv(const GraphNode& n, const Step& step, const torch::Tensor& x) {
    torch::Tensor y = torch::conv2d(x, step.weight, step.bias, n.stride, n.padding, n.dilation);
    return n.relu ? y.relu_() : y;
  }

  torch::Tensor Conv(const GraphNode& n, const Step& step, std::vector<torch::Tensor>& values,
                     int index) {
    const torch::Tensor& x = values[n.inputs[0]];
    switch (step.role) {
      case Role::kClassifier:
        return torch::conv2d(int8_ ? Dequantize(x) : x, step.weight, step.bias, n.stride, n.padding,
                             n.dilation);
      case Role::kProjection:
        // The attention's projections: int8 in, float out.
        if (!int8_) return FloatConv(n, step, x);
        return step.conv->ForwardFloat(x, n.relu, torch::Tensor(),
                                       attention_bf16_ ? torch::kBFloat16 : torch::kFloat);
      case Role::kComposed: {
        torch::Tensor sum;
        for (const Chunk& chunk : step.chunks) {
          torch::Tensor part = values[n.inputs[chunk.part.input]];
          if (chunk.part.length != part.size(1)) {
            part = part.narrow(1, chunk.part.start, chunk.part.length)
                       .contiguous(torch::MemoryFormat::ChannelsLast);
          }
          if (int8_) {
            sum = chunk.conv->ForwardFloat(part, /*relu=*/false, sum);
          } else {
            torch::Tensor y =
                torch::conv2d(part, chunk.weight, chunk.bias, n.stride, n.padding, n.dilation);
            sum = sum.defined() ? sum.add_(y) : y;
          }
        }
        n.border->AddTo(sum);
        if (n.relu) sum.relu_();
        return Point(step.name, step.out, sum);
      }
      case Role::kJoined: {
        std::vector<torch::Tensor> parts;
        for (int input : n.inputs) parts.push_back(values[input]);
        const torch::Tensor joined =
            int8_ ? QuantizedCat(parts, 1, step.cat.scale, step.cat.zero_point)
                  : Point(step.cat_name, step.cat, torch::cat(parts, 1));
        if (!int8_) return Point(step.name, step.out, FloatConv(n, step, joined));
        return step.conv->Forward(joined, n.relu, step.out);
      }
      case Role::kQuantized: {
        torch::Tensor residual;
        if (n.residual >= 0) residual = values[n.residual];
        if (!int8_) {
          torch::Tensor y =
              torch::conv2d(x, step.weight, step.bias, n.stride, n.padding, n.dilation);
          if (residual.defined()) y.add_(residual);
          if (n.relu) y.relu_();
          return Point(step.name, step.out, y);
        }
        // The sum is written into the residual's memory: a copy if it is read later.
        if (residual.defined() && e_.last_use_[n.residual] > index) residual = residual.clone();
        return step.conv->Forward(x, n.relu, step.out, residual);
      }
      case Role::kOther:
        break;
    }
    TORCH_CHECK(false, n.name, ": not an int8 convolution");
  }

  const Int8Executor& e_;
  bool int8_;
  Calibration* observed_;
  // The attention in bfloat16 (its softmax in float32, as in the bf16 form) where the CPU has
  // bf16 instructions: 8-10 ms less of a 200 ms R-50 forward at 512x1024 (Intel AMX), the toy
  // model's int8 val mIoU and agreement with exact unchanged (75.97, 99.67%).
  bool attention_bf16_ = int8_ && CpuHasBf16();
};

torch::Tensor Int8Executor::Observe(const torch::Tensor& input) {
  torch::InferenceMode guard;
  std::lock_guard<std::mutex> lock(observe_mutex_);
  torch::Tensor logits = Walk(*this, &observed_).Forward(input);
  ++observed_.images;
  return logits;
}

void Int8Executor::Quantize(const Calibration& calibration, Observer observer) {
  auto params = [&](const std::string& name) {
    auto it = calibration.ranges.find(name);
    TORCH_CHECK(it != calibration.ranges.end(), "the int8 calibration has no range for ", name,
                " (made for another model?)");
    const auto [scale, zero_point] = ActivationQParams(it->second, observer);
    return QParams{scale, zero_point};
  };
  torch::NoGradGuard no_grad;
  input_ = params("input");
  for (int i = 0; i < graph_.size(); ++i) {
    const GraphNode& n = graph_.node(i);
    Step& step = steps_[i];
    if (n.kind == NodeKind::kAttention) step.out = params(step.name);
    if (n.kind != NodeKind::kConv || step.role == Role::kClassifier) continue;
    if (step.role == Role::kComposed) {
      for (Chunk& chunk : step.chunks) {
        chunk.conv =
            std::make_shared<Int8Conv>(chunk.weight, chunk.bias, n.stride, n.padding, n.dilation);
      }
    } else {
      step.conv =
          std::make_shared<Int8Conv>(step.weight, step.bias, n.stride, n.padding, n.dilation);
    }
    if (step.role != Role::kProjection) step.out = params(step.name);
    if (step.role == Role::kJoined) step.cat = params(step.cat_name);
  }
  quantized_ = true;
}

torch::Tensor Int8Executor::Predict(const torch::Tensor& input) const {
  TORCH_CHECK(quantized_, "Int8Executor::Predict before Quantize");
  torch::InferenceMode guard;
  return Walk(*this, /*observed=*/nullptr).Forward(input);
}

}  // namespace ann
