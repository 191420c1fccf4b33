#include "ann/inference/graph.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ann {

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kInput:
      return "input";
    case NodeKind::kConv:
      return "conv";
    case NodeKind::kBatchNorm:
      return "batch_norm";
    case NodeKind::kRelu:
      return "relu";
    case NodeKind::kAdd:
      return "add";
    case NodeKind::kMaxPool:
      return "max_pool";
    case NodeKind::kConcat:
      return "concat";
    case NodeKind::kAttention:
      return "attention";
    case NodeKind::kResize:
      return "resize";
  }
  return "?";
}

int Graph::Add(GraphNode node) {
  const int index = size();
  for (int input : node.inputs) {
    TORCH_CHECK(input >= 0 && input < index, node.name, ": input ", input, " does not exist yet");
  }
  TORCH_CHECK(node.residual < index, node.name, ": residual ", node.residual,
              " does not exist yet");
  nodes_.push_back(std::move(node));
  return index;
}

int Graph::AddInput(const std::string& name) {
  GraphNode node;
  node.kind = NodeKind::kInput;
  node.name = name;
  return Add(std::move(node));
}

std::vector<int> Graph::Consumers(int index) const {
  std::vector<int> consumers;
  for (int i = index + 1; i < size(); ++i) {
    const GraphNode& n = nodes_[i];
    if (n.residual == index ||
        std::find(n.inputs.begin(), n.inputs.end(), index) != n.inputs.end()) {
      consumers.push_back(i);
    }
  }
  return consumers;
}

void Graph::ReplaceUses(int from, int to) {
  for (GraphNode& n : nodes_) {
    for (int& input : n.inputs) {
      if (input == from) input = to;
    }
    if (n.residual == from) n.residual = to;
  }
  for (int& output : outputs_) {
    if (output == from) output = to;
  }
}

void Graph::RemoveUnused() {
  std::vector<bool> used(nodes_.size(), false);
  for (int output : outputs_) used[output] = true;
  for (int i = size() - 1; i >= 0; --i) {
    if (nodes_[i].kind == NodeKind::kInput) used[i] = true;
    if (!used[i]) continue;
    for (int input : nodes_[i].inputs) used[input] = true;
    if (nodes_[i].residual >= 0) used[nodes_[i].residual] = true;
  }
  std::vector<int> renumbered(nodes_.size(), -1);
  std::vector<GraphNode> kept;
  for (int i = 0; i < size(); ++i) {
    if (!used[i]) continue;
    renumbered[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(nodes_[i]));
  }
  for (GraphNode& n : kept) {
    for (int& input : n.inputs) input = renumbered[input];
    if (n.residual >= 0) n.residual = renumbered[n.residual];
  }
  for (int& output : outputs_) output = renumbered[output];
  nodes_ = std::move(kept);
}

namespace {

int64_t Numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Output length of a sliding window (PyTorch's pooling_output_shape for pooling).
int64_t WindowOutput(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                     bool ceil_mode) {
  const int64_t span = in + 2 * padding - dilation * (kernel - 1) - 1;
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  // The last window must start inside the input or its left padding.
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

}  // namespace

std::vector<Shape> Graph::InferShapes(const std::vector<Shape>& inputs) const {
  std::vector<Shape> shapes(nodes_.size());
  size_t next_input = 0;
  for (int i = 0; i < size(); ++i) {
    const GraphNode& n = nodes_[i];
    auto in = [&](size_t k) -> const Shape& { return shapes[n.inputs.at(k)]; };
    switch (n.kind) {
      case NodeKind::kInput:
        TORCH_CHECK(next_input < inputs.size(), n.name, ": no shape given for this input");
        shapes[i] = inputs[next_input++];
        break;
      case NodeKind::kConv: {
        int64_t channels = 0;
        for (size_t k = 0; k < n.inputs.size(); ++k) {
          TORCH_CHECK(in(k).size() == 4, n.name, ": a convolution needs [N, C, H, W] inputs");
          channels += in(k)[1];
        }
        const Shape& x = in(0);
        TORCH_CHECK(channels == n.weight.size(1), n.name, ": expected ", n.weight.size(1),
                    " input channels, got ", channels);
        shapes[i] = {
            x[0], n.weight.size(0),
            WindowOutput(x[2], n.weight.size(2), n.stride[0], n.padding[0], n.dilation[0], false),
            WindowOutput(x[3], n.weight.size(3), n.stride[1], n.padding[1], n.dilation[1], false)};
        if (n.residual >= 0) {
          TORCH_CHECK(shapes[n.residual] == shapes[i], n.name,
                      ": the residual's shape differs from the output's");
        }
        break;
      }
      case NodeKind::kBatchNorm:
      case NodeKind::kRelu:
        shapes[i] = in(0);
        break;
      case NodeKind::kAdd:
        for (size_t k = 1; k < n.inputs.size(); ++k) {
          TORCH_CHECK(in(k) == in(0), n.name, ": summands of different shapes");
        }
        shapes[i] = in(0);
        break;
      case NodeKind::kMaxPool: {
        const Shape& x = in(0);
        shapes[i] = {x[0], x[1],
                     WindowOutput(x[2], n.kernel[0], n.stride[0], n.padding[0], 1, n.ceil_mode),
                     WindowOutput(x[3], n.kernel[1], n.stride[1], n.padding[1], 1, n.ceil_mode)};
        break;
      }
      case NodeKind::kConcat: {
        Shape out = in(0);
        for (size_t k = 1; k < n.inputs.size(); ++k) {
          TORCH_CHECK(in(k)[0] == out[0] && in(k)[2] == out[2] && in(k)[3] == out[3], n.name,
                      ": concatenated maps of different sizes");
          out[1] += in(k)[1];
        }
        shapes[i] = out;
        break;
      }
      case NodeKind::kAttention: {
        const Shape& query = in(0);
        for (size_t k = 0; k < 3; ++k) {
          TORCH_CHECK(in(k).size() == 4 && in(k)[1] == n.channels, n.name, ": expected ",
                      n.channels, "-channel query, key and value maps");
        }
        TORCH_CHECK(in(1) == in(2), n.name, ": key and value maps of different shapes");
        shapes[i] = {query[0], n.channels, query[2], query[3]};
        break;
      }
      case NodeKind::kResize:
        shapes[i] = {in(0)[0], in(0)[1], in(1)[2], in(1)[3]};
        break;
    }
    TORCH_CHECK(Numel(shapes[i]) > 0, n.name, ": empty output ", absl::StrJoin(shapes[i], "x"));
  }
  return shapes;
}

std::string DescribeGraph(const Graph& graph) {
  std::string text;
  for (int i = 0; i < graph.size(); ++i) {
    const GraphNode& n = graph.node(i);
    absl::StrAppend(&text, i, " ", NodeKindName(n.kind), " ", n.name, " (",
                    absl::StrJoin(n.inputs, ","), ")");
    if (n.kind == NodeKind::kConv) {
      absl::StrAppend(&text, " ", absl::StrJoin(n.weight.sizes(), "x"), " s", n.stride[0], ",",
                      n.stride[1], " p", n.padding[0], ",", n.padding[1], " d", n.dilation[0], ",",
                      n.dilation[1], n.bias.defined() ? " bias" : "", n.border ? " border" : "",
                      n.relu ? " relu" : "");
      if (n.residual >= 0) absl::StrAppend(&text, " +", n.residual);
    } else if (n.kind == NodeKind::kAttention) {
      absl::StrAppend(&text, " c", n.channels, " scales ", absl::StrJoin(n.pool_scales, ","));
    } else if (n.kind == NodeKind::kMaxPool) {
      absl::StrAppend(&text, " k", n.kernel[0], " s", n.stride[0], " p", n.padding[0],
                      n.ceil_mode ? " ceil" : "");
    }
    text += "\n";
  }
  absl::StrAppend(&text, "outputs ", absl::StrJoin(graph.outputs(), ","), "\n");
  return text;
}

}  // namespace ann
