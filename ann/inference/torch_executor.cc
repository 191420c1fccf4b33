#include "ann/inference/torch_executor.h"

#include "ann/inference/node_ops.h"

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
  const std::vector<int> last_use = LastUses(graph);
  const torch::ScalarType dtype = WeightDtype(graph);
  std::vector<torch::Tensor> values(graph.size());
  size_t next_input = 0;
  for (int i = 0; i < graph.size(); ++i) {
    const GraphNode& n = graph.node(i);
    torch::Tensor y;
    switch (n.kind) {
      case NodeKind::kInput:
        TORCH_CHECK(next_input < inputs.size(), n.name, ": no tensor given for this input");
        y = inputs[next_input++].to(dtype);
        break;
      case NodeKind::kConv: {
        torch::Tensor x = values[n.inputs[0]];
        if (n.inputs.size() > 1) {
          std::vector<torch::Tensor> parts;
          for (int input : n.inputs) parts.push_back(values[input]);
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
        y = torch::batch_norm(values[n.inputs[0]], n.weight, n.bias, n.running_mean, n.running_var,
                              /*training=*/false, /*momentum=*/0.0, n.eps,
                              at::globalContext().userEnabledCuDNN());
        break;
      default:
        y = RunLibTorchNode(n, values, /*channels_last=*/false);
    }
    values[i] = std::move(y);
    ReleaseInputs(graph, i, last_use, values);
  }
  std::vector<torch::Tensor> outputs;
  for (int output : graph.outputs()) outputs.push_back(values[output]);
  return outputs;
}

}  // namespace ann
