#include "ann/quant/int8_conv.h"

#include <unordered_map>
#include <vector>

#include "ATen/quantized/Quantizer.h"
#include "ann/dnnl/dnnl_primitive.h"
#include "ann/quant/calibration.h"
#include "ann/util/cpu.h"

namespace ann {
namespace {

using Tag = dnnl::memory::format_tag;
using Type = dnnl::memory::data_type;

void CheckQuint8(const torch::Tensor& t, const char* what) {
  TORCH_CHECK(t.is_quantized() && t.scalar_type() == torch::kQUInt8 &&
                  t.qscheme() == torch::kPerTensorAffine,
              "Int8Conv: ", what, " must be a per-tensor quint8 tensor");
}

}  // namespace

struct Int8Conv::Primitive {
  dnnl::convolution_forward conv;
  dnnl::memory weights;     // in the kernel's layout (with its zero-point compensation)
  dnnl::memory bias;        // empty when none
  torch::Tensor bias_data;  // the bias in the accumulator's units
  dnnl::memory::desc src, dst;
};

bool Int8Conv::Key::operator<(const Key& o) const { return Tie() < o.Tie(); }

Int8Conv::Int8Conv(const torch::Tensor& weight, const torch::Tensor& bias,
                   std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                   std::array<int64_t, 2> dilation) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(weight.dim() == 4, "Int8Conv: the weight must be [O, I, kh, kw]");
  const torch::Tensor q = QuantizeWeightPerChannel(weight, WeightMaxCode());
  weight_ = q.int_repr().contiguous();
  scales_ = q.q_per_channel_scales().to(torch::kDouble).contiguous();
  if (bias.defined()) bias_ = bias.detach().to(torch::kFloat).contiguous();
  for (int i = 0; i < 2; ++i) {
    stride_[i] = stride[i];
    padding_[i] = padding[i];
    dilation_[i] = dilation[i];
  }
}

Int8Conv::~Int8Conv() = default;

int64_t Int8Conv::WeightMaxCode() {
  // Without VNNI, oneDNN multiplies u8 x s8 with vpmaddubsw, which adds each pair of products in
  // saturating int16: 255 * 127 * 2 overflows, 255 * 64 * 2 = 32640 does not. oneDNN leaves this
  // to the user for u8 sources (its own 0.5 weight adjustment is for s8 sources only).
  static const int64_t max_code = CpuHasInt8Dot() ? 127 : 63;
  return max_code;
}

std::shared_ptr<Int8Conv::Primitive> Int8Conv::Get(const Key& key) const {
  return cache_.Get(key, [&] { return Build(key); });
}

std::shared_ptr<Int8Conv::Primitive> Int8Conv::Build(const Key& key) const {
  const int64_t out = weight_.size(0), in = weight_.size(1);
  const int64_t kh = weight_.size(2), kw = weight_.size(3);
  auto p = std::make_shared<Primitive>();
  p->src = dnnl::memory::desc({key.batch, in, key.height, key.width}, Type::u8, Tag::nhwc);
  p->dst = dnnl::memory::desc(OutSizes(key),
                              key.bf16_out    ? Type::bf16
                              : key.float_out ? Type::f32
                                              : Type::u8,
                              Tag::nhwc);
  // oneDNN: dst = oscale * (sum(src * wei) + bias) [+ sum_scale * (dst - sum_zp)] [relu] + dst_zp,
  // in codes: the bias and the output scales per channel in the accumulator's units.
  const torch::Tensor accumulator = scales_ * key.x_scale;  // one code of the sum, per channel
  const torch::Tensor oscales =
      (key.float_out ? accumulator : accumulator / key.out_scale).to(torch::kFloat).contiguous();
  const std::vector<float> scales(oscales.data_ptr<float>(), oscales.data_ptr<float>() + out);
  dnnl::primitive_attr attr;
  attr.set_output_scales(/*mask=*/1 << 1, scales);
  if (key.x_zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  if (!key.float_out && key.out_zero_point != 0) {
    attr.set_zero_points(DNNL_ARG_DST, 0, {static_cast<int32_t>(key.out_zero_point)});
  }
  dnnl::post_ops ops;
  if (key.sum) {
    ops.append_sum(static_cast<float>(key.residual_scale / key.out_scale),
                   static_cast<int32_t>(key.residual_zero_point));
  }
  if (key.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  attr.set_post_ops(ops);
  const dnnl::memory::desc bias =
      bias_.defined() ? dnnl::memory::desc({out}, Type::f32, Tag::a) : dnnl::memory::desc();
  // The weights reordered once into the kernel's layout; oneDNN adds the compensation for the
  // source's zero point that this layout carries.
  DnnlConvolution c = MakeDnnlConvolution(p->src, p->dst, bias, {out, in, kh, kw}, Type::s8,
                                          weight_.data_ptr(), stride_, padding_, dilation_, attr);
  p->conv = std::move(c.conv);
  p->weights = std::move(c.weights);
  if (bias_.defined()) {
    p->bias_data = (bias_.to(torch::kDouble) / accumulator).to(torch::kFloat).contiguous();
    p->bias = dnnl::memory(bias, DnnlEngine(), p->bias_data.data_ptr());
  }
  return p;
}

std::vector<int64_t> Int8Conv::OutSizes(const Key& key) const {
  const int64_t kh = weight_.size(2), kw = weight_.size(3);
  return {key.batch, weight_.size(0),
          (key.height + 2 * padding_[0] - dilation_[0] * (kh - 1) - 1) / stride_[0] + 1,
          (key.width + 2 * padding_[1] - dilation_[1] * (kw - 1) - 1) / stride_[1] + 1};
}

Int8Conv::Key Int8Conv::MakeKey(const torch::Tensor& x, bool relu) const {
  CheckQuint8(x, "the input");
  TORCH_CHECK(x.dim() == 4 && x.size(1) == weight_.size(1), "Int8Conv: expected [N, ",
              weight_.size(1), ", H, W], got ", x.sizes());
  Key key{};
  key.batch = x.size(0);
  key.height = x.size(2);
  key.width = x.size(3);
  key.relu = relu;
  key.x_scale = x.q_scale();
  key.x_zero_point = x.q_zero_point();
  return key;
}

torch::Tensor Int8Conv::Run(const torch::Tensor& x, const Key& key,
                            const torch::Tensor& out) const {
  const std::shared_ptr<Primitive> p = Get(key);
  int32_t zero_point = static_cast<int32_t>(key.x_zero_point);
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, dnnl::memory(p->src, DnnlEngine(), x.data_ptr())},
      {DNNL_ARG_WEIGHTS, p->weights},
      {DNNL_ARG_DST, dnnl::memory(p->dst, DnnlEngine(), out.data_ptr())}};
  if (p->bias) args.insert({DNNL_ARG_BIAS, p->bias});
  if (zero_point != 0) {
    args.insert({DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC,
                 dnnl::memory({{1}, Type::s32, Tag::x}, DnnlEngine(), &zero_point)});
  }
  dnnl::stream stream(DnnlEngine());
  p->conv.execute(stream, args);
  stream.wait();
  return out;
}

torch::Tensor Int8Conv::Forward(const torch::Tensor& x_in, bool relu, QParams out,
                                const torch::Tensor& residual) const {
  const torch::Tensor x = x_in.contiguous(torch::MemoryFormat::ChannelsLast);
  Key key = MakeKey(x, relu);
  key.out_scale = out.scale;
  key.out_zero_point = out.zero_point;
  const std::vector<int64_t> sizes = OutSizes(key);
  if (!residual.defined()) {
    torch::Tensor y =
        at::_empty_affine_quantized(sizes, x.options().dtype(torch::kQUInt8), out.scale,
                                    out.zero_point, torch::MemoryFormat::ChannelsLast);
    return Run(x, key, y);
  }
  CheckQuint8(residual, "the residual");
  TORCH_CHECK(
      residual.sizes() == sizes && residual.is_contiguous(torch::MemoryFormat::ChannelsLast),
      "Int8Conv: the residual must be channels-last ", sizes);
  key.sum = true;
  key.residual_scale = residual.q_scale();
  key.residual_zero_point = residual.q_zero_point();
  Run(x, key, residual);
  at::set_quantizer_(
      residual, at::make_per_tensor_affine_quantizer(out.scale, out.zero_point, torch::kQUInt8));
  return residual;
}

torch::Tensor Int8Conv::ForwardFloat(const torch::Tensor& x_in, bool relu,
                                     const torch::Tensor& residual, torch::ScalarType dtype) const {
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kBFloat16,
              "Int8Conv: float32 or bfloat16 outputs only");
  const torch::Tensor x = x_in.contiguous(torch::MemoryFormat::ChannelsLast);
  Key key = MakeKey(x, relu);
  key.float_out = true;
  key.bf16_out = dtype == torch::kBFloat16;
  const std::vector<int64_t> sizes = OutSizes(key);
  if (!residual.defined()) {
    return Run(x, key,
               torch::empty(sizes, torch::TensorOptions().dtype(dtype).memory_format(
                                       torch::MemoryFormat::ChannelsLast)));
  }
  TORCH_CHECK(residual.sizes() == sizes && residual.scalar_type() == dtype &&
                  residual.is_contiguous(torch::MemoryFormat::ChannelsLast),
              "Int8Conv: the residual must be channels-last ", sizes, " in ", dtype);
  key.sum = true;
  key.out_scale = 1;  // sum scale 1: the residual is in the output's units
  key.residual_scale = 1;
  return Run(x, key, residual);
}

}  // namespace ann
