#include "ann/inference/torch_executor.h"

#include "ann/model/segmentor.h"
#include "ann/model/self_attention.h"

namespace ann {
namespace {

torch::ScalarType WeightDtype(const Graph& graph) {
  for (const GraphNode& n : graph.nodes()) {
    if (n.kind == NodeKind::kConv) return n.weight.scalar_type();
  }
  return torch::kFloat;
}

}  // namespace

std::vector<torch::Tensor> RunGraph(const Graph& graph, const std::vector<torch::Tensor>& inputs) {
  const int size = graph.size();
  // The last node reading each value; outputs are kept.
  std::vector<int> last_use(size, -1);
  for (int i = 0; i < size; ++i) {
    for (int input : graph.node(i).inputs) last_use[input] = i;
    if (graph.node(i).residual >= 0) last_use[graph.node(i).residual] = i;
  }
  for (int output : graph.outputs()) last_use[output] = size;
  const torch::ScalarType dtype = WeightDtype(graph);
  std::vector<torch::Tensor> values(size);
  size_t next_input = 0;
  for (int i = 0; i < size; ++i) {
    const GraphNode& n = graph.node(i);
    auto in = [&](size_t k) -> const torch::Tensor& { return values[n.inputs.at(k)]; };
    torch::Tensor y;
    switch (n.kind) {
      case NodeKind::kInput:
        TORCH_CHECK(next_input < inputs.size(), n.name, ": no tensor given for this input");
        y = inputs[next_input++].to(dtype);
        break;
      case NodeKind::kConv: {
        torch::Tensor x = in(0);
        if (n.inputs.size() > 1) {
          std::vector<torch::Tensor> parts;
          for (size_t k = 0; k < n.inputs.size(); ++k) parts.push_back(in(k));
          x = torch::cat(parts, 1);
        }
        // Rewritten nodes hold float64 weights: in the input's dtype, as every backend runs them.
        y = torch::conv2d(x, n.weight.to(x.scalar_type()),
                          n.bias.defined() ? n.bias.to(x.scalar_type()) : n.bias, n.stride,
                          n.padding, n.dilation);
        if (n.border) {
          torch::Tensor sum = y.to(torch::kFloat);
          n.border->AddTo(sum);
          y = sum.to(x.scalar_type());
        }
        if (n.residual >= 0) y.add_(values[n.residual]);
        if (n.relu) y.relu_();
        break;
      }
      case NodeKind::kBatchNorm:
        y = torch::batch_norm(in(0), n.weight, n.bias, n.running_mean, n.running_var,
                              /*training=*/false, /*momentum=*/0.0, n.eps,
                              at::globalContext().userEnabledCuDNN());
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
        y = PyramidAttention(in(0), in(1), in(2), n.pool_scales, /*channels_last=*/false);
        break;
      case NodeKind::kResize:
        y = ResizeLogits(in(0).to(torch::kFloat).contiguous(), in(1).size(2), in(1).size(3),
                         n.align_corners);
        break;
    }
    values[i] = std::move(y);
    for (int input : n.inputs) {
      if (last_use[input] == i) values[input] = torch::Tensor();
    }
    if (n.residual >= 0 && last_use[n.residual] == i) values[n.residual] = torch::Tensor();
  }
  std::vector<torch::Tensor> outputs;
  for (int output : graph.outputs()) outputs.push_back(values[output]);
  return outputs;
}

}  // namespace ann
