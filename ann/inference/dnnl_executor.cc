#include "ann/inference/dnnl_executor.h"

#include "ann/dnnl/dnnl_conv.h"
#include "ann/inference/border_bias.h"
#include "ann/inference/compose_bottleneck.h"
#include "ann/inference/node_ops.h"

namespace ann {

struct DnnlExecutor::Step {
  std::shared_ptr<DnnlConv> conv;  // a convolution (of its inputs' concatenation)
  struct Chunk {
    ConvChunk part;
    std::shared_ptr<DnnlConv> conv;
  };
  std::vector<Chunk> chunks;   // a composed convolution (ComposedChunks)
  torch::Tensor weight, bias;  // the classifier, through LibTorch
};

DnnlExecutor::DnnlExecutor(Graph graph, Precision precision)
    : graph_(std::move(graph)),
      dtype_(precision == Precision::kBf16 ? torch::kBFloat16 : torch::kFloat),
      steps_(graph_.size()),
      last_use_(LastUses(graph_)) {
  TORCH_CHECK(precision == Precision::kFp32 || precision == Precision::kBf16,
              "DnnlExecutor: runs fp32 or bf16, not ", PrecisionName(precision));
  const torch::ScalarType dtype = dtype_;
  torch::NoGradGuard no_grad;
  for (int i = 0; i < graph_.size(); ++i) {
    const GraphNode& n = graph_.node(i);
    if (n.kind != NodeKind::kConv) continue;
    Step& step = steps_[i];
    if (IsClassifier(graph_, i)) {
      TORCH_CHECK(n.inputs.size() == 1 && n.residual < 0 && !n.relu && !n.border, n.name,
                  ": the classifier must be a plain convolution");
      step.weight = n.weight.to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
      if (n.bias.defined()) step.bias = n.bias.to(dtype);
      continue;
    }
    if (n.border) {
      // The first adds the interior bias (in float32: it never was a module's parameter).
      for (const ConvChunk& c : ComposedChunks(graph_, n)) {
        step.chunks.push_back(
            {c, std::make_shared<DnnlConv>(n.weight.narrow(1, c.offset, c.length),
                                           step.chunks.empty() ? n.bias : torch::Tensor(), n.stride,
                                           n.padding, n.dilation, dtype, torch::kFloat)});
      }
      continue;
    }
    // The bias rounded to the dtype as a module converted to it would be (DnnlConv keeps it in
    // float32).
    step.conv = std::make_shared<DnnlConv>(n.weight, n.bias.defined() ? n.bias.to(dtype) : n.bias,
                                           n.stride, n.padding, n.dilation, dtype, dtype);
  }
}

DnnlExecutor::~DnnlExecutor() = default;

torch::Tensor DnnlExecutor::Predict(const torch::Tensor& images) const {
  torch::NoGradGuard no_grad;
  const int size = graph_.size();
  std::vector<torch::Tensor> values(size);
  for (int i = 0; i < size; ++i) {
    const GraphNode& n = graph_.node(i);
    const Step& step = steps_[i];
    auto in = [&](size_t k) -> const torch::Tensor& { return values[n.inputs.at(k)]; };
    torch::Tensor y;
    switch (n.kind) {
      case NodeKind::kInput:
        y = images.to(dtype_).contiguous(torch::MemoryFormat::ChannelsLast);
        break;
      case NodeKind::kConv:
        if (step.weight.defined()) {
          y = torch::conv2d(in(0), step.weight, step.bias, n.stride, n.padding, n.dilation);
        } else if (!step.chunks.empty()) {
          torch::Tensor sum;
          for (const Step::Chunk& chunk : step.chunks) {
            torch::Tensor x = in(chunk.part.input);
            if (chunk.part.length != x.size(1)) {
              x = x.narrow(1, chunk.part.start, chunk.part.length)
                      .contiguous(torch::MemoryFormat::ChannelsLast);
            }
            sum = chunk.conv->Forward(x, /*relu=*/false, sum);  // the first starts the sum
          }
          n.border->AddTo(sum);
          y = sum.to(dtype_);
          if (n.relu) y.relu_();
        } else {
          torch::Tensor x = in(0);
          if (n.inputs.size() > 1) {
            std::vector<torch::Tensor> parts;
            for (size_t k = 0; k < n.inputs.size(); ++k) parts.push_back(in(k));
            x = torch::cat(parts, 1);
          }
          torch::Tensor residual;
          if (n.residual >= 0) {
            // The sum is written into the residual's memory: a copy if it is read later.
            residual = values[n.residual];
            if (last_use_[n.residual] > i) residual = residual.clone();
          }
          y = step.conv->Forward(x, n.relu, residual);
        }
        break;
      case NodeKind::kBatchNorm:
        TORCH_CHECK(false, n.name, ": the oneDNN executor runs no BatchNorm (fold it first)");
      default:
        y = RunLibTorchNode(n, values, /*channels_last=*/true);
    }
    values[i] = std::move(y);
    ReleaseInputs(graph_, i, last_use_, values);
  }
  return values[graph_.outputs()[0]];
}

}  // namespace ann
