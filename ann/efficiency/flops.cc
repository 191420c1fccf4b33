#include "ann/efficiency/flops.h"

#include "ann/inference/model_graph.h"

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

std::vector<Shape> CountGraph(const Graph& graph, const std::vector<Shape>& inputs,
                              FlopCounter& counter) {
  const std::vector<Shape> shapes = graph.InferShapes(inputs);
  for (int i = 0; i < graph.size(); ++i) {
    const GraphNode& n = graph.node(i);
    const Shape& out = shapes[i];
    switch (n.kind) {
      case NodeKind::kConv:
        counter.Add(n.name, OpKind::kConv,
                    ConvFlops(out[0], n.weight.size(1), out[1], 1, n.weight.size(2),
                              n.weight.size(3), out[2], out[3]));
        break;
      case NodeKind::kBatchNorm:
        counter.Add(n.name, OpKind::kBatchNorm, BatchNormFlops(Numel(out)));
        break;
      case NodeKind::kAttention: {
        const Shape& key = shapes[n.inputs[1]];
        int64_t anchors = key[2] * key[3];
        if (!n.pool_scales.empty()) {
          for (const char* map : {".key_pool", ".value_pool"}) {
            for (size_t s = 0; s < n.pool_scales.size(); ++s) {
              counter.Add(n.name + map, OpKind::kPool, AdaptivePoolFlops(Numel(key)));
            }
          }
          anchors = 0;
          for (int64_t s : n.pool_scales) anchors += s * s;
        }
        const int64_t positions = out[2] * out[3], c = n.channels;
        counter.Add(n.name + ".matmul", OpKind::kMatmul,
                    MatmulFlops({out[0], positions, c}, anchors));  // query . key
        counter.Add(n.name + ".matmul", OpKind::kMatmul,
                    MatmulFlops({out[0], positions, anchors}, c));  // weights . value
        break;
      }
      case NodeKind::kResize: {
        const Shape& in = shapes[n.inputs[0]];
        if (in[2] != out[2] || in[3] != out[3]) {
          counter.Add(n.name, OpKind::kUpsample, BilinearFlops(Numel(out)));
        }
        break;
      }
      default:  // element-wise, max pooling, concatenation: not counted
        break;
    }
  }
  std::vector<Shape> outputs;
  for (int output : graph.outputs()) outputs.push_back(shapes[output]);
  return outputs;
}

Shape CountSegmentor(const EncoderDecoderImpl& model, const Shape& in, bool auxiliary,
                     FlopCounter& counter) {
  return CountGraph(BuildModelGraph(model, auxiliary), {in}, counter)[0];
}

}  // namespace ann
