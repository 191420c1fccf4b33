#include "ann/export/onnx_export.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ann/io/checkpoint.h"
#include "ann/util/atomic_file.h"
#include "ann/util/json.h"
#include "ann/util/status_macros.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

namespace ann {
namespace {

constexpr int kOpset = 13;

// Builds the graph: every Add* returns the name of the value it produces.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  std::string Name(const std::string& hint) { return absl::StrCat(hint, "_", count_++); }

  // A float32 (or int64) constant tensor.
  std::string Initializer(const std::string& hint, const torch::Tensor& value) {
    const torch::Tensor t = value.detach().cpu().contiguous();
    onnx::TensorProto* init = graph_->add_initializer();
    const std::string name = Name(hint);
    init->set_name(name);
    for (int64_t d : t.sizes()) init->add_dims(d);
    if (t.scalar_type() == torch::kLong) {
      init->set_data_type(onnx::TensorProto::INT64);
    } else {
      TORCH_CHECK(t.scalar_type() == torch::kFloat, "unexpected initializer type");
      init->set_data_type(onnx::TensorProto::FLOAT);
    }
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

  // A convolution with `weight` [O, I, k, k] and `bias` (may be undefined).
  std::string Conv(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias,
                   const torch::nn::detail::ConvNdOptions<2>& o) {
    std::vector<std::string> inputs = {x, Initializer("w", weight.to(torch::kFloat))};
    if (bias.defined()) inputs.push_back(Initializer("b", bias.to(torch::kFloat)));
    const std::string out = Name("conv");
    onnx::NodeProto* node = Node("Conv", inputs, out);
    const auto& k = *o.kernel_size();
    const auto& s = *o.stride();
    const auto& d = *o.dilation();
    const auto& p = *c10::get<torch::ExpandingArray<2>>(o.padding());
    IntsAttr(node, "kernel_shape", {k[0], k[1]});
    IntsAttr(node, "strides", {s[0], s[1]});
    IntsAttr(node, "dilations", {d[0], d[1]});
    IntsAttr(node, "pads", {p[0], p[1], p[0], p[1]});
    return out;
  }

  // The conv followed by its BatchNorm (folded in float64, as the inference form folds it).
  std::string ConvBn(const std::string& x, torch::nn::Conv2dImpl& conv,
                     const SyncBatchNormImpl* bn) {
    if (bn == nullptr) return Conv(x, conv.weight, conv.bias, conv.options);
    const torch::Tensor scale = bn->weight.to(torch::kDouble) /
                                torch::sqrt(bn->running_var.to(torch::kDouble) + bn->options.eps());
    const torch::Tensor old_bias =
        conv.bias.defined() ? conv.bias.to(torch::kDouble) : torch::zeros_like(scale);
    const torch::Tensor bias =
        bn->bias.to(torch::kDouble) + (old_bias - bn->running_mean.to(torch::kDouble)) * scale;
    return Conv(x, conv.weight.to(torch::kDouble) * scale.view({-1, 1, 1, 1}), bias, conv.options);
  }

  std::string ConvModule(const std::string& x, ConvModuleImpl& m, bool relu) {
    const std::string y = ConvBn(x, *m.conv, m.bn ? m.bn.get() : nullptr);
    return relu ? Op("Relu", {y}) : y;
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

  // SelfAttentionBlock::forward; `same` when query and key are one tensor (APNB).
  std::string SelfAttention(SelfAttentionBlockImpl& block, const std::string& query_feats,
                            const std::string& key_feats, bool same) {
    const SelfAttentionOptions& o = block.options();
    const std::string key_map = ConvModule(key_feats, *block.key_project, true);
    const std::string query_map =
        o.share_key_query() && same ? key_map : ConvModule(query_feats, *block.query_project, true);
    const std::string flat = Op("Reshape", {query_map, Ints("shape", {0, 0, -1})});  // [N,C,hw]
    const std::string query = Name("query");
    IntsAttr(Node("Transpose", {flat}, query), "perm", {0, 2, 1});     // [N, hw, C]
    const std::string key = PyramidPooling(key_map, o.pool_scales());  // [N, C, S]
    const std::string value_map = Conv(key_feats, block.value_project->weight,
                                       block.value_project->bias, block.value_project->options);
    const std::string value = Name("value");
    IntsAttr(Node("Transpose", {PyramidPooling(value_map, o.pool_scales())}, value), "perm",
             {0, 2, 1});  // [N, S, C]
    const std::string sim =
        Op("Mul",
           {Op("MatMul", {query, key}),
            Float("scale", static_cast<float>(std::pow(static_cast<double>(o.channels()), -0.5)))});
    const std::string weights = Name("softmax");
    IntAttr(Node("Softmax", {sim}, weights), "axis", -1);
    const std::string context = Op("MatMul", {weights, value});  // [N, hw, C]
    const std::string channels_first = Name("context");
    IntsAttr(Node("Transpose", {context}, channels_first), "perm", {0, 2, 1});  // [N, C, hw]
    // Back to [N, C, h, w] with the query's h and w.
    const std::string shape = Name("shape");
    IntAttr(Node("Concat",
                 {Dim(query_feats, 0), Ints("c", {o.channels()}), Dim(query_feats, 2),
                  Dim(query_feats, 3)},
                 shape),
            "axis", 0);
    const std::string attention = Op("Reshape", {channels_first, shape});
    return Conv(attention, block.out_project->weight, block.out_project->bias,
                block.out_project->options);
  }

  // Sum of the stages, cat with `feats`, the bottleneck ConvModule (AFNB / APNB literally).
  std::string Block(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck, bool relu,
                    const std::string& query, const std::string& key, bool same,
                    const std::string& feats) {
    std::string context;
    for (const auto& stage : *stages) {
      const std::string prior =
          SelfAttention(*stage->as<SelfAttentionBlockImpl>(), query, key, same);
      context = context.empty() ? prior : Op("Add", {context, prior});
    }
    const std::string joined = Name("cat");
    IntAttr(Node("Concat", {context, feats}, joined), "axis", 1);
    return ConvModule(joined, bottleneck, relu);
  }

  std::string ResidualBlock(const std::string& x, torch::nn::Module& block) {
    std::string out, identity = x;
    if (auto* b = block.as<BottleneckImpl>()) {
      if (b->downsample) identity = Downsample(x, *b->downsample);
      out = Op("Relu", {ConvBn(x, *b->conv1, b->bn1.get())});
      out = Op("Relu", {ConvBn(out, *b->conv2, b->bn2.get())});
      out = ConvBn(out, *b->conv3, b->bn3.get());
    } else {
      auto* basic = block.as<BasicBlockImpl>();
      TORCH_CHECK(basic != nullptr, "unexpected residual block");
      if (basic->downsample) identity = Downsample(x, *basic->downsample);
      out = Op("Relu", {ConvBn(x, *basic->conv1, basic->bn1.get())});
      out = ConvBn(out, *basic->conv2, basic->bn2.get());
    }
    return Op("Relu", {Op("Add", {out, identity})});
  }

  std::string Downsample(const std::string& x, torch::nn::SequentialImpl& downsample) {
    auto* conv = downsample.ptr(0)->as<torch::nn::Conv2dImpl>();
    const SyncBatchNormImpl* bn =
        downsample.size() > 1 ? downsample.ptr(1)->as<SyncBatchNormImpl>() : nullptr;
    return ConvBn(x, *conv, bn);
  }

  // The stem: (conv, BN, ReLU) x 3, as a Sequential (BN folded into the conv before it).
  std::string Stem(const std::string& x, torch::nn::SequentialImpl& stem) {
    std::string y = x;
    for (size_t i = 0; i < stem.size(); ++i) {
      if (auto* conv = stem.ptr(i)->as<torch::nn::Conv2dImpl>()) {
        const SyncBatchNormImpl* bn =
            i + 1 < stem.size() ? stem.ptr(i + 1)->as<SyncBatchNormImpl>() : nullptr;
        y = ConvBn(y, *conv, bn);
        if (bn) ++i;
      } else if (stem.ptr(i)->as<torch::nn::ReLUImpl>()) {
        y = Op("Relu", {y});
      } else {
        TORCH_CHECK(false, "unexpected stem module");
      }
    }
    return y;
  }

 private:
  onnx::GraphProto* graph_;
  int64_t count_ = 0;
};

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
  proto.set_producer_version("0.1.0");
  proto.add_opset_import()->set_version(kOpset);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name(absl::StrCat("ann_", VariantName(m.variant), "_r", m.depth));
  GraphBuilder g(graph);

  const int64_t n = options.dynamic ? -1 : options.batch;
  const int64_t h = options.dynamic ? -1 : options.input.height;
  const int64_t w = options.dynamic ? -1 : options.input.width;
  SetValueInfo(graph->add_input(), "input", onnx::TensorProto::FLOAT,
               {"batch", "3", "height", "width"}, {n, 3, h, w});

  ResNetV1cImpl& backbone = *model->backbone;
  std::string x = g.Stem("input", *backbone.stem);
  const std::string pooled = g.Name("maxpool");
  onnx::NodeProto* pool = g.Node("MaxPool", {x}, pooled);
  GraphBuilder::IntsAttr(pool, "kernel_shape", {3, 3});
  GraphBuilder::IntsAttr(pool, "strides", {2, 2});
  GraphBuilder::IntsAttr(pool, "pads", {1, 1, 1, 1});
  GraphBuilder::IntAttr(pool, "ceil_mode", backbone.stem_ceil_mode() ? 1 : 0);
  x = pooled;
  std::vector<std::string> stages;
  for (torch::nn::Sequential* layer :
       {&backbone.layer1, &backbone.layer2, &backbone.layer3, &backbone.layer4}) {
    for (size_t i = 0; i < (*layer)->size(); ++i) x = g.ResidualBlock(x, *(*layer)->ptr(i));
    stages.push_back(x);
  }
  // The ANN head (dropouts are identities in eval mode).
  ANNHeadImpl& head = *model->decode_head;
  std::string y = g.Block(head.fusion->stages, *head.fusion->bottleneck, /*relu=*/false,
                          /*query=*/stages[3], /*key=*/stages[2], /*same=*/false, stages[3]);
  y = g.ConvModule(y, *head.bottleneck, true);
  y = g.Block(head.context->stages, *head.context->bottleneck, /*relu=*/true, y, y,
              /*same=*/true, y);
  const std::string small =
      g.Conv(y, head.conv_seg->weight, head.conv_seg->bias, head.conv_seg->options);
  // Resized to the input as our Predict (and mmseg's resize) does.
  const std::string sizes = g.Name("sizes");
  GraphBuilder::IntAttr(
      g.Node("Concat", {g.Dim(small, 0), g.Dim(small, 1), g.Dim("input", 2), g.Dim("input", 3)},
             sizes),
      "axis", 0);
  onnx::NodeProto* resize = g.Node("Resize", {small, "", "", sizes}, "logits");
  GraphBuilder::StringAttr(resize, "mode", "linear");
  GraphBuilder::StringAttr(resize, "coordinate_transformation_mode",
                           m.align_corners ? "align_corners" : "pytorch_half_pixel");
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
  AddMetadata(proto, "mean", JsonLine(Json(m.mean)));
  AddMetadata(proto, "std", JsonLine(Json(m.std)));
  AddMetadata(proto, "channel_order", m.to_rgb ? "rgb" : "bgr");
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
      options.with_argmax ? ", with labels" : "");
}

}  // namespace ann
