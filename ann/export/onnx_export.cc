#include "ann/export/onnx_export.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ann/inference/compose_bottleneck.h"
#include "ann/inference/fold_batch_norm.h"
#include "ann/inference/inference_form.h"
#include "ann/inference/model_graph.h"
#include "ann/io/checkpoint.h"
#include "ann/quant/int8_executor.h"
#include "ann/util/atomic_file.h"
#include "ann/util/json.h"
#include "ann/util/status_macros.h"
#include "ann/util/version.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

namespace ann {
namespace {

constexpr int kOpset = 13;
// The int8 weights' largest code in a QDQ file (onnx_export.h).
constexpr int64_t kQdqWeightMaxCode = 63;

// The ONNX element type of an initializer's dtype.
int ElementType(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kLong:
      return onnx::TensorProto::INT64;
    case torch::kFloat:
      return onnx::TensorProto::FLOAT;
    case torch::kInt:
      return onnx::TensorProto::INT32;
    case torch::kChar:
      return onnx::TensorProto::INT8;
    case torch::kByte:
      return onnx::TensorProto::UINT8;
    default:
      TORCH_CHECK(false, "unexpected initializer type ", dtype);
  }
}

// Builds the graph: every Add* returns the name of the value it produces.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  std::string Name(const std::string& hint) { return absl::StrCat(hint, "_", count_++); }

  // A constant tensor: float32, int64, int32, int8 or uint8.
  std::string Initializer(const std::string& hint, const torch::Tensor& value) {
    const torch::Tensor t = value.detach().cpu().contiguous();
    onnx::TensorProto* init = graph_->add_initializer();
    const std::string name = Name(hint);
    init->set_name(name);
    for (int64_t d : t.sizes()) init->add_dims(d);
    init->set_data_type(ElementType(t.scalar_type()));
    init->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.nbytes()));
    return name;
  }
  std::string Ints(const std::string& hint, const std::vector<int64_t>& values) {
    return Initializer(hint, torch::tensor(values, torch::kLong));
  }
  std::string Scalar(const std::string& hint, int64_t value) {
    return Initializer(hint, torch::tensor(value, torch::kLong));
  }
  std::string Float(const std::string& hint, float value) {
    return Initializer(hint, torch::tensor(value, torch::kFloat));
  }

  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& output) {
    onnx::NodeProto* node = graph_->add_node();
    node->set_op_type(op);
    node->set_name(absl::StrCat(op, "_", count_++));
    for (const std::string& in : inputs) node->add_input(in);
    node->add_output(output);
    return node;
  }
  std::string Op(const std::string& op, const std::vector<std::string>& inputs) {
    const std::string out = Name(op);
    Node(op, inputs, out);
    return out;
  }
  static void IntsAttr(onnx::NodeProto* node, const std::string& name,
                       const std::vector<int64_t>& values) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void IntAttr(onnx::NodeProto* node, const std::string& name, int64_t value) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void StringAttr(onnx::NodeProto* node, const std::string& name, const std::string& value) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
  }

  // A graph convolution node (BatchNorm folded) of `x`.
  std::string Conv(const std::string& x, const GraphNode& conv) {
    return ConvOf(x, Initializer("w", conv.weight.to(torch::kFloat)),
                  conv.bias.defined() ? Initializer("b", conv.bias.to(torch::kFloat)) : "", conv,
                  conv.name);
  }
  // A convolution of `x` with `conv`'s geometry and the given weight and bias values ("": none).
  std::string ConvOf(const std::string& x, const std::string& weight, const std::string& bias,
                     const GraphNode& conv, const std::string& name) {
    std::vector<std::string> inputs = {x, weight};
    if (!bias.empty()) inputs.push_back(bias);
    const std::string out = Name("conv");
    onnx::NodeProto* node = Node("Conv", inputs, out);
    node->set_name(name);
    IntsAttr(node, "kernel_shape", {conv.weight.size(2), conv.weight.size(3)});
    IntsAttr(node, "strides", {conv.stride[0], conv.stride[1]});
    IntsAttr(node, "dilations", {conv.dilation[0], conv.dilation[1]});
    IntsAttr(node, "pads", {conv.padding[0], conv.padding[1], conv.padding[0], conv.padding[1]});
    return out;
  }

  // x through QuantizeLinear and DequantizeLinear (uint8, per tensor).
  std::string QuantizeDequantize(const std::string& x, const QParams& q) {
    const std::string scale = Float("scale", static_cast<float>(q.scale));
    const std::string zero = Initializer("zero_point", torch::full({}, q.zero_point, torch::kByte));
    return Op("DequantizeLinear", {Op("QuantizeLinear", {x, scale, zero}), scale, zero});
  }

  // `codes` (int8 or int32, [O, ...]) times `scales` [O] float32 through DequantizeLinear on axis
  // 0.
  std::string DequantizePerChannel(const std::string& hint, const torch::Tensor& codes,
                                   const torch::Tensor& scales) {
    const std::string out = Name(hint);
    onnx::NodeProto* node =
        Node("DequantizeLinear",
             {Initializer(hint, codes), Initializer("scale", scales.to(torch::kFloat)),
              Initializer("zero_point", torch::zeros({codes.size(0)}, codes.scalar_type()))},
             out);
    IntAttr(node, "axis", 0);
    return out;
  }

  // An int8 convolution of `x` (a dequantized value of scale `x_scale`) with `weight` [O, I, kh,
  // kw] quantized per output channel and `bias` (may be undefined) as int32 codes of scale
  // x_scale * weight scale, as ONNX Runtime fuses them into QLinearConv.
  std::string Int8Conv(const std::string& x, double x_scale, const torch::Tensor& weight,
                       const torch::Tensor& bias, const GraphNode& conv, const std::string& name) {
    const torch::Tensor q = QuantizeWeightPerChannel(weight, kQdqWeightMaxCode);
    const torch::Tensor weight_scales = q.q_per_channel_scales().to(torch::kFloat);
    std::string bias_value;
    if (bias.defined()) {
      const torch::Tensor bias_scales = weight_scales * static_cast<float>(x_scale);
      const torch::Tensor codes = (bias.to(torch::kDouble) / bias_scales.to(torch::kDouble))
                                      .round()
                                      .clamp(-2147483648.0, 2147483647.0)
                                      .to(torch::kInt);
      bias_value = DequantizePerChannel("b", codes, bias_scales);
    }
    return ConvOf(x, DequantizePerChannel("w", q.int_repr().contiguous(), weight_scales),
                  bias_value, conv, name);
  }

  // A composed node's border-aware bias map [1, O, H, W] over `x`'s H and W (border_bias.h).
  std::string BorderBiasMap(const std::string& x, const GraphNode& conv) {
    const BorderBias& border = *conv.border;
    const std::string shape = Name("shape");
    IntAttr(Node("Concat", {Ints("one", {1, 1}), Dim(x, 2), Dim(x, 3)}, shape), "axis", 0);
    const std::string ones = Name("ones");
    onnx::AttributeProto* value = Node("ConstantOfShape", {shape}, ones)->add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    onnx::TensorProto* one = value->mutable_t();
    one->set_data_type(onnx::TensorProto::FLOAT);
    one->add_dims(1);
    one->add_float_data(1.0f);
    const std::string map = Name("border_bias");
    onnx::NodeProto* node = Node("Conv",
                                 {ones, Initializer("taps", border.taps().to(torch::kFloat)),
                                  Initializer("bias", border.bias().to(torch::kFloat))},
                                 map);
    IntsAttr(node, "kernel_shape", {border.taps().size(2), border.taps().size(3)});
    IntsAttr(node, "dilations", {border.dilation()[0], border.dilation()[1]});
    IntsAttr(node, "pads",
             {border.padding()[0], border.padding()[1], border.padding()[0], border.padding()[1]});
    return map;
  }

  // Dimension `axis` of `x`'s shape as a 1-element int64 tensor.
  std::string Dim(const std::string& x, int64_t axis) {
    const std::string shape = Op("Shape", {x});
    return Op("Slice", {shape, Ints("start", {axis}), Ints("end", {axis + 1})});
  }

  // Averaging matrix [p, L] of adaptive pooling over a length-L axis (L: 1-element int64).
  std::string AveragingMatrix(const std::string& length, int64_t p) {
    std::vector<int64_t> index(p), next(p);
    for (int64_t i = 0; i < p; ++i) index[i] = i, next[i] = i + 1;
    const std::string start = Op("Div", {Op("Mul", {Ints("i", index), length}), Scalar("p", p)});
    const std::string end = Op(
        "Div",
        {Op("Add", {Op("Mul", {Ints("i1", next), length}), Scalar("p1", p - 1)}), Scalar("p", p)});
    const std::string positions = Op(
        "Range",
        {Scalar("zero", 0), Op("Squeeze", {length, Ints("axis", {0})}), Scalar("one", 1)});  // [L]
    const std::string row = Op("Unsqueeze", {positions, Ints("axis", {0})});    // [1, L]
    const std::string start_col = Op("Unsqueeze", {start, Ints("axis", {1})});  // [p, 1]
    const std::string end_col = Op("Unsqueeze", {end, Ints("axis", {1})});
    const std::string inside =
        Op("And", {Op("Not", {Op("Less", {row, start_col})}), Op("Less", {row, end_col})});
    const std::string mask = Name("mask");
    IntAttr(Node("Cast", {inside}, mask), "to", onnx::TensorProto::FLOAT);
    const std::string count = Name("count");
    IntAttr(Node("Cast", {Op("Sub", {end_col, start_col})}, count), "to", onnx::TensorProto::FLOAT);
    return Op("Div", {mask, count});  // [p, L]
  }

  // PyramidPooling: [N, C, H, W] -> [N, C, S].
  std::string PyramidPooling(const std::string& x, const std::vector<int64_t>& scales) {
    const std::string height = Dim(x, 2), width = Dim(x, 3);
    std::vector<std::string> pooled;
    for (int64_t p : scales) {
      const std::string rows = AveragingMatrix(height, p);  // [p, H]
      const std::string cols = AveragingMatrix(width, p);   // [p, W]
      const std::string cols_t = Name("cols_t");
      IntsAttr(Node("Transpose", {cols}, cols_t), "perm", {1, 0});
      const std::string y = Op("MatMul", {Op("MatMul", {rows, x}), cols_t});  // [N, C, p, p]
      pooled.push_back(Op("Reshape", {y, Ints("shape", {0, 0, -1})}));
    }
    const std::string out = Name("pyramid");
    IntAttr(Node("Concat", pooled, out), "axis", 2);
    return out;
  }

  // The attention node (PyramidAttention) of the query, key and value maps: [N, C, h, w].
  std::string Attention(const GraphNode& node, const std::string& query_map,
                        const std::string& key_map, const std::string& value_map) {
    const std::string flat = Op("Reshape", {query_map, Ints("shape", {0, 0, -1})});  // [N,C,hw]
    const std::string query = Name("query");
    IntsAttr(Node("Transpose", {flat}, query), "perm", {0, 2, 1});  // [N, hw, C]
    const std::vector<int64_t>& scales = node.pool_scales;
    const std::string key = scales.empty() ? Op("Reshape", {key_map, Ints("shape", {0, 0, -1})})
                                           : PyramidPooling(key_map, scales);  // [N, C, S]
    const std::string value = Name("value");
    IntsAttr(Node("Transpose",
                  {scales.empty() ? Op("Reshape", {value_map, Ints("shape", {0, 0, -1})})
                                  : PyramidPooling(value_map, scales)},
                  value),
             "perm", {0, 2, 1});  // [N, S, C]
    const std::string sim = Op(
        "Mul",
        {Op("MatMul", {query, key}),
         Float("scale", static_cast<float>(std::pow(static_cast<double>(node.channels), -0.5)))});
    const std::string weights = Name("softmax");
    IntAttr(Node("Softmax", {sim}, weights), "axis", -1);
    const std::string context = Op("MatMul", {weights, value});  // [N, hw, C]
    const std::string channels_first = Name("context");
    IntsAttr(Node("Transpose", {context}, channels_first), "perm", {0, 2, 1});  // [N, C, hw]
    // Back to [N, C, h, w] with the query's h and w.
    const std::string shape = Name("shape");
    IntAttr(
        Node("Concat",
             {Dim(query_map, 0), Ints("c", {node.channels}), Dim(query_map, 2), Dim(query_map, 3)},
             shape),
        "axis", 0);
    return Op("Reshape", {channels_first, shape});
  }

  // One node of the graph, reading `in` (its inputs' values); returns its value, or why it cannot
  // be written.
  absl::StatusOr<std::string> Write(const GraphNode& node, const std::vector<std::string>& in,
                                    const std::string& residual) {
    switch (node.kind) {
      case NodeKind::kConv: {
        std::string x = in[0];
        if (in.size() > 1) {
          x = Name("cat");
          IntAttr(Node("Concat", in, x), "axis", 1);
        }
        std::string y = Conv(x, node);
        if (!residual.empty()) y = Op("Add", {y, residual});
        return node.relu ? Op("Relu", {y}) : y;
      }
      case NodeKind::kRelu:
        return Op("Relu", {in[0]});
      case NodeKind::kAdd: {
        std::string y = in[0];
        for (size_t k = 1; k < in.size(); ++k) y = Op("Add", {y, in[k]});
        return y;
      }
      case NodeKind::kMaxPool: {
        const std::string y = Name("maxpool");
        onnx::NodeProto* pool = Node("MaxPool", {in[0]}, y);
        IntsAttr(pool, "kernel_shape", {node.kernel[0], node.kernel[1]});
        IntsAttr(pool, "strides", {node.stride[0], node.stride[1]});
        IntsAttr(pool, "pads",
                 {node.padding[0], node.padding[1], node.padding[0], node.padding[1]});
        IntAttr(pool, "ceil_mode", node.ceil_mode ? 1 : 0);
        return y;
      }
      case NodeKind::kConcat: {
        const std::string y = Name("cat");
        IntAttr(Node("Concat", in, y), "axis", 1);
        return y;
      }
      case NodeKind::kAttention:
        return Attention(node, in[0], in[1], in[2]);
      case NodeKind::kResize: {
        // Resized to the input as our Predict (and mmseg's resize) does.
        const std::string sizes = Name("sizes");
        IntAttr(Node("Concat", {Dim(in[0], 0), Dim(in[0], 1), Dim(in[1], 2), Dim(in[1], 3)}, sizes),
                "axis", 0);
        const std::string y = Name("resize");
        onnx::NodeProto* resize = Node("Resize", {in[0], "", "", sizes}, y);
        StringAttr(resize, "mode", "linear");
        StringAttr(resize, "coordinate_transformation_mode",
                   node.align_corners ? "align_corners" : "pytorch_half_pixel");
        return y;
      }
      case NodeKind::kInput:
      case NodeKind::kBatchNorm:
        break;
    }
    return absl::UnimplementedError(
        absl::StrCat(node.name, ": the ONNX writer has no ", NodeKindName(node.kind), " node"));
  }

 private:
  onnx::GraphProto* graph_;
  int64_t count_ = 0;
};

// The int8 forward of `executor` (quantized) as a QDQ graph (onnx_export.h): each node's value.
absl::StatusOr<std::vector<std::string>> WriteInt8Graph(GraphBuilder& g, const Int8Executor& e) {
  using Role = Int8Executor::Role;
  const Graph& net = e.graph();
  std::vector<std::string> values(net.size());
  std::vector<QParams> quantization(net.size());  // of each quantized value
  for (int i = 0; i < net.size(); ++i) {
    const GraphNode& n = net.node(i);
    std::vector<std::string> in;
    for (int k : n.inputs) in.push_back(values[k]);
    const Role role = e.role(i);
    if (n.kind == NodeKind::kInput) {
      quantization[i] = e.input_quantization();
      values[i] = g.QuantizeDequantize("input", quantization[i]);
      continue;
    }
    if (n.kind != NodeKind::kConv || role == Role::kClassifier) {
      ANN_ASSIGN_OR_RETURN(values[i], g.Write(n, in, ""));
      if (n.kind == NodeKind::kMaxPool || n.kind == NodeKind::kAttention) {
        // Max pooling runs on uint8: its input's quantization.
        quantization[i] =
            n.kind == NodeKind::kMaxPool ? quantization[n.inputs[0]] : e.output_quantization(i);
        values[i] = g.QuantizeDequantize(values[i], quantization[i]);
      }
      continue;
    }
    std::string y;
    if (role == Role::kComposed) {
      // One int8 convolution per chunk, summed in float, then the border-aware bias.
      const std::vector<ConvChunk> chunks = ComposedChunks(net, n);
      std::vector<int> readers(n.inputs.size());
      for (const ConvChunk& c : chunks) ++readers[c.input];
      for (const ConvChunk& c : chunks) {
        std::string part = in[c.input];
        if (readers[c.input] > 1) {
          part = g.Op("Slice", {part, g.Ints("start", {c.start}),
                                g.Ints("end", {c.start + c.length}), g.Ints("axis", {1})});
        }
        const std::string conv = g.Int8Conv(part, quantization[n.inputs[c.input]].scale,
                                            n.weight.narrow(1, c.offset, c.length), torch::Tensor(),
                                            n, absl::StrCat(n.name, ".", c.offset));
        y = y.empty() ? conv : g.Op("Add", {y, conv});
      }
      y = g.Op("Add", {y, g.BorderBiasMap(in.back(), n)});
    } else if (role == Role::kJoined) {
      // The inputs' concatenation requantized, then one int8 convolution.
      const std::string cat = g.Name("cat");
      GraphBuilder::IntAttr(g.Node("Concat", in, cat), "axis", 1);
      const QParams& q = e.concat_quantization(i);
      y = g.Int8Conv(g.QuantizeDequantize(cat, q), q.scale, n.weight, n.bias, n, n.name);
    } else {  // kQuantized, kProjection
      y = g.Int8Conv(in[0], quantization[n.inputs[0]].scale, n.weight, n.bias, n, n.name);
      if (n.residual >= 0) y = g.Op("Add", {y, values[n.residual]});
    }
    if (n.relu) y = g.Op("Relu", {y});
    if (role == Role::kProjection) {  // float out, into the attention
      values[i] = y;
      continue;
    }
    quantization[i] = e.output_quantization(i);
    values[i] = g.QuantizeDequantize(y, quantization[i]);
  }
  return values;
}

void SetValueInfo(onnx::ValueInfoProto* info, const std::string& name, int element_type,
                  const std::vector<std::string>& dims, const std::vector<int64_t>& sizes) {
  info->set_name(name);
  onnx::TypeProto_Tensor* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(element_type);
  for (size_t i = 0; i < dims.size(); ++i) {
    onnx::TensorShapeProto_Dimension* d = tensor->mutable_shape()->add_dim();
    if (sizes[i] > 0) {
      d->set_dim_value(sizes[i]);
    } else {
      d->set_dim_param(dims[i]);
    }
  }
}

void AddMetadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* entry = model.add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

}  // namespace

absl::StatusOr<std::string> ExportOnnx(EncoderDecoder& model, const Config& config,
                                       const OnnxExportOptions& options, const std::string& path) {
  torch::NoGradGuard no_grad;
  model->eval();
  const ModelConfig& m = config.model;
  onnx::ModelProto proto;
  proto.set_ir_version(7);
  proto.set_producer_name("ann");
  proto.set_producer_version(kAnnVersion);
  proto.add_opset_import()->set_version(kOpset);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name(absl::StrCat("ann_", VariantName(m.variant), "_r", m.depth));
  GraphBuilder g(graph);

  const int64_t n = options.dynamic ? -1 : options.batch;
  const int64_t h = options.dynamic ? -1 : options.input.height;
  const int64_t w = options.dynamic ? -1 : options.input.width;
  SetValueInfo(graph->add_input(), "input", onnx::TensorProto::FLOAT,
               {"batch", "3", "height", "width"}, {n, 3, h, w});

  std::vector<std::string> values;
  std::string logits;
  if (options.calibration != nullptr) {
    // int8: the int8 forward's graph and quantization.
    std::unique_ptr<Int8Executor> int8;
    try {
      int8 = std::make_unique<Int8Executor>(InferenceGraph(*model));
      int8->Quantize(*options.calibration, options.observer);
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      return absl::InvalidArgumentError(what.substr(0, what.find('\n')));
    }
    ANN_ASSIGN_OR_RETURN(values, WriteInt8Graph(g, *int8));
    logits = values[int8->graph().outputs()[0]];
  } else {
    // The inference graph with BatchNorm folded (in float64, as the inference form folds it);
    // dropouts are identities in eval mode.
    Graph net = BuildModelGraph(*model);
    FoldBatchNorm(net);
    values.resize(net.size());
    for (int i = 0; i < net.size(); ++i) {
      const GraphNode& node = net.node(i);
      if (node.kind == NodeKind::kInput) {
        values[i] = "input";
        continue;
      }
      std::vector<std::string> in;
      for (int k : node.inputs) in.push_back(values[k]);
      ANN_ASSIGN_OR_RETURN(values[i],
                           g.Write(node, in, node.residual >= 0 ? values[node.residual] : ""));
    }
    logits = values[net.outputs()[0]];
  }
  // The decode head's resized logits (the last value written) are the output "logits".
  for (onnx::NodeProto& node : *graph->mutable_node()) {
    for (std::string& out : *node.mutable_output()) {
      if (out == logits) out = "logits";
    }
  }
  SetValueInfo(graph->add_output(), "logits", onnx::TensorProto::FLOAT,
               {"batch", "classes", "height", "width"}, {n, m.num_classes, h, w});
  if (options.with_argmax) {
    onnx::NodeProto* argmax = g.Node("ArgMax", {"logits"}, "labels");
    GraphBuilder::IntAttr(argmax, "axis", 1);
    GraphBuilder::IntAttr(argmax, "keepdims", 0);
    SetValueInfo(graph->add_output(), "labels", onnx::TensorProto::INT64,
                 {"batch", "height", "width"}, {n, h, w});
  }

  // What a deployment needs to feed the model and read its output.
  const DatasetInfo& info = config.data.info;
  Json classes = Json::array(), palette = Json::array();
  const bool dataset_classes = static_cast<int64_t>(info.class_names.size()) == m.num_classes;
  const std::vector<Rgb> colours = ModelPalette(info, m.num_classes);
  for (int64_t c = 0; c < m.num_classes; ++c) {
    classes.push_back(dataset_classes ? info.class_names[c] : absl::StrCat("class_", c));
    palette.push_back({colours[c][0], colours[c][1], colours[c][2]});
  }
  const NormalizeParams& normalize = config.data.normalize;
  AddMetadata(proto, "mean", JsonLine(Json(normalize.mean)));
  AddMetadata(proto, "std", JsonLine(Json(normalize.std)));
  AddMetadata(proto, "channel_order", normalize.to_rgb ? "rgb" : "bgr");
  AddMetadata(proto, "input",
              "float32 [N, 3, H, W]: (pixel - mean) / std per channel, in channel_order");
  AddMetadata(proto, "classes", JsonLine(classes));
  AddMetadata(proto, "palette", JsonLine(palette));
  const cv::Size scale = config.test.test_scale;
  AddMetadata(proto, "test_scale",
              scale.area() > 0 ? absl::StrCat(scale.width, "x", scale.height) : "none");
  AddMetadata(proto, "keep_ratio", "true");
  AddMetadata(proto, "ignore_index", "255");
  AddMetadata(proto, "align_corners", m.align_corners ? "true" : "false");
  AddMetadata(proto, "model",
              absl::StrCat("ANN ", VariantName(m.variant), " ResNetV1c-", m.depth, "-D8, ",
                           m.num_classes, " classes"));
  AddMetadata(proto, "shapes", options.dynamic ? "dynamic" : "static");
  AddMetadata(proto, "precision", options.calibration != nullptr ? "int8" : "fp32");
  if (options.calibration != nullptr) {
    AddMetadata(proto, "quantization",
                absl::StrCat("QDQ: activations uint8 per tensor (", options.calibration->images,
                             " calibration images, ",
                             options.observer == Observer::kMinMax ? "minmax" : "percentile",
                             " observer), weights int8 per output channel, symmetric, codes -",
                             kQdqWeightMaxCode, "..", kQdqWeightMaxCode, ", bias int32"));
    AddMetadata(proto, "checkpoint_sha256", options.calibration->checkpoint_sha256);
  }

  try {
    onnx::checker::check_model(proto);
    onnx::ShapeInferenceOptions strict(/*check_type=*/true, /*error_mode=*/1,
                                       /*enable_data_propagation=*/true);
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    return absl::InternalError(absl::StrCat(
        path, ": the exported graph fails the ONNX checker: ", what.substr(0, what.find('\n'))));
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    return absl::InternalError(absl::StrCat(path, ": cannot serialise the ONNX model"));
  }
  ANN_RETURN_IF_ERROR(WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    CheckedFile file(tmp);
    file.Write(bytes.data(), bytes.size());
    ANN_RETURN_IF_ERROR(file.Close(path));
    try {
      onnx::checker::check_model(tmp);  // the file as written
    } catch (const std::exception& e) {
      const std::string what = e.what();
      return absl::InternalError(absl::StrCat(
          path, ": the written file fails the ONNX checker: ", what.substr(0, what.find('\n'))));
    }
    return absl::OkStatus();
  }));
  return absl::StrCat(
      path, ": opset ", kOpset, ", ", graph->node_size(), " nodes, ", graph->initializer_size(),
      " initializers, ", bytes.size() / 1e6, " MB, ",
      options.dynamic ? "dynamic N, H, W" : absl::StrCat("static ", n, "x3x", h, "x", w),
      options.with_argmax ? ", with labels" : "",
      options.calibration != nullptr ? ", int8 (QDQ)" : "");
}

}  // namespace ann
