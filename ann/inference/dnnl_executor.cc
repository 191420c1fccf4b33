#include "ann/inference/dnnl_executor.h"

#include <algorithm>

#include "ann/inference/border_bias.h"
#include "ann/model/segmentor.h"
#include "ann/model/self_attention.h"

namespace ann {
namespace {

constexpr int64_t kChunk = 512;  // channels per convolution of a composed node

}  // namespace

struct DnnlExecutor::Step {
  std::shared_ptr<DnnlConv> conv;  // a convolution (of its inputs' concatenation)
  struct Chunk {
    size_t input;           // which input
    int64_t start, length;  // its channels
    std::shared_ptr<DnnlConv> conv;
  };
  std::vector<Chunk> chunks;   // a composed convolution
  torch::Tensor weight, bias;  // the classifier, through LibTorch
};

DnnlExecutor::DnnlExecutor(Graph graph, torch::ScalarType dtype)
    : graph_(std::move(graph)), dtype_(dtype), steps_(graph_.size()), last_use_(graph_.size(), -1) {
  torch::NoGradGuard no_grad;
  for (int i = 0; i < graph_.size(); ++i) {
    const GraphNode& n = graph_.node(i);
    for (int input : n.inputs) last_use_[input] = i;
    if (n.residual >= 0) last_use_[n.residual] = i;
    if (n.kind != NodeKind::kConv) continue;
    Step& step = steps_[i];
    const std::vector<int> readers = graph_.Consumers(i);
    const bool classifier = readers.size() == 1 && graph_.node(readers[0]).kind == NodeKind::kResize;
    if (classifier) {
      TORCH_CHECK(n.inputs.size() == 1 && n.residual < 0 && !n.relu && !n.border, n.name,
                  ": the classifier must be a plain convolution");
      step.weight = n.weight.to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
      if (n.bias.defined()) step.bias = n.bias.to(dtype);
      continue;
    }
    if (n.border) {
      // One convolution per input and per kChunk of its channels; the first adds the interior
      // bias (in float32: it never was a module's parameter).
      int64_t offset = 0;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        // Attention maps (of known width) first, the features last.
        const GraphNode& input = graph_.node(n.inputs[k]);
        const bool last = k + 1 == n.inputs.size();
        TORCH_CHECK(last || input.kind == NodeKind::kAttention, n.name,
                    ": a composed convolution reads attention maps, then features");
        const int64_t width = last ? n.weight.size(1) - offset : input.channels;
        for (int64_t start = 0; start < width; start += kChunk) {
          const int64_t length = std::min(kChunk, width - start);
          step.chunks.push_back(
              {k, start, length,
               std::make_shared<DnnlConv>(
                   n.weight.narrow(1, offset + start, length),
                   step.chunks.empty() ? n.bias : torch::Tensor(), n.stride, n.padding, n.dilation,
                   dtype, torch::kFloat)});
        }
        offset += width;
      }
      continue;
    }
    // The bias rounded to the dtype as a module converted to it would be (DnnlConv keeps it in
    // float32).
    step.conv = std::make_shared<DnnlConv>(n.weight, n.bias.defined() ? n.bias.to(dtype) : n.bias,
                                           n.stride, n.padding, n.dilation, dtype, dtype);
  }
  for (int output : graph_.outputs()) last_use_[output] = graph_.size();
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
            torch::Tensor x = in(chunk.input);
            if (chunk.length != x.size(1)) {
              x = x.narrow(1, chunk.start, chunk.length)
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
      case NodeKind::kRelu:
        y = torch::relu(in(0));
        break;
      case NodeKind::kAdd:
        y = in(0);
        for (size_t k = 1; k < n.inputs.size(); ++k) y = y + in(k);
        break;
      case NodeKind::kMaxPool:
        y = torch::max_pool2d(in(0), n.kernel, n.stride, n.padding, /*dilation=*/{1, 1}, n.ceil_mode);
        break;
      case NodeKind::kConcat: {
        std::vector<torch::Tensor> parts;
        for (size_t k = 0; k < n.inputs.size(); ++k) parts.push_back(in(k));
        y = torch::cat(parts, 1);
        break;
      }
      case NodeKind::kAttention:
        y = PyramidAttention(in(0), in(1), in(2), n.pool_scales, /*channels_last=*/true);
        break;
      case NodeKind::kResize:
        // Resized from the contiguous layout: LibTorch's channels-last bilinear kernel is about
        // 1.5x slower on the logits (7.9 against 5.2 ms at 512x1024, Intel AMX, 2 threads).
        y = ResizeLogits(in(0).to(torch::kFloat).contiguous(), in(1).size(2), in(1).size(3),
                         n.align_corners);
        break;
      case NodeKind::kBatchNorm:
        TORCH_CHECK(false, n.name, ": the oneDNN executor runs no BatchNorm (fold it first)");
    }
    values[i] = std::move(y);
    for (int input : n.inputs) {
      if (last_use_[input] == i) values[input] = torch::Tensor();
    }
    if (n.residual >= 0 && last_use_[n.residual] == i) values[n.residual] = torch::Tensor();
  }
  return values[graph_.outputs()[0]];
}

}  // namespace ann
