#include "ann/dnnl/dnnl_conv.h"

#include <unordered_map>

#include "ann/dnnl/dnnl_primitive.h"

namespace ann {
namespace {

using Tag = dnnl::memory::format_tag;

dnnl::memory::data_type DataType(torch::ScalarType dtype) {
  return dtype == torch::kBFloat16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

}  // namespace

struct DnnlConv::Primitive {
  dnnl::convolution_forward conv;
  dnnl::memory weights;  // in the kernel's layout
  dnnl::memory bias;     // empty when none
  dnnl::memory::desc src, dst;
  int64_t out_height, out_width;
};

namespace {

std::array<int64_t, 2> Padding(const torch::nn::detail::ConvNdOptions<2>& o) {
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  TORCH_CHECK(padding != nullptr, "DnnlConv: explicit padding only");
  return {(**padding)[0], (**padding)[1]};
}

std::array<int64_t, 2> Pair(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

}  // namespace

DnnlConv::DnnlConv(const torch::nn::Conv2dImpl& conv, torch::ScalarType dtype)
    : DnnlConv(conv.weight, conv.bias, Pair(conv.options.stride()), Padding(conv.options),
               Pair(conv.options.dilation()), dtype, dtype) {
  TORCH_CHECK(conv.options.groups() == 1, "DnnlConv: groups must be 1");
}

DnnlConv::DnnlConv(const torch::Tensor& weight, const torch::Tensor& bias,
                   std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                   std::array<int64_t, 2> dilation, torch::ScalarType dtype,
                   torch::ScalarType out_dtype)
    : dtype_(dtype), out_dtype_(out_dtype) {
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kBFloat16, "DnnlConv: fp32 or bf16 only");
  TORCH_CHECK(out_dtype == dtype || out_dtype == torch::kFloat,
              "DnnlConv: the output is in the input's dtype or float32");
  for (int i = 0; i < 2; ++i) {
    stride_[i] = stride[i];
    padding_[i] = padding[i];
    dilation_[i] = dilation[i];
  }
  torch::NoGradGuard no_grad;
  weight_ = weight.detach().to(dtype).contiguous();
  if (bias.defined()) bias_ = bias.detach().to(torch::kFloat).contiguous();
}

DnnlConv::~DnnlConv() = default;

std::shared_ptr<DnnlConv::Primitive> DnnlConv::Get(const Key& key) const {
  return cache_.Get(key, [&] { return Build(key); });
}

std::shared_ptr<DnnlConv::Primitive> DnnlConv::Build(const Key& key) const {
  const auto [batch, height, width, relu, sum] = key;
  const int64_t out = weight_.size(0), in = weight_.size(1);
  const int64_t kh = weight_.size(2), kw = weight_.size(3);
  auto p = std::make_shared<Primitive>();
  p->out_height = (height + 2 * padding_[0] - dilation_[0] * (kh - 1) - 1) / stride_[0] + 1;
  p->out_width = (width + 2 * padding_[1] - dilation_[1] * (kw - 1) - 1) / stride_[1] + 1;
  const auto type = DataType(dtype_);
  p->src = dnnl::memory::desc({batch, in, height, width}, type, Tag::nhwc);
  p->dst = dnnl::memory::desc({batch, out, p->out_height, p->out_width}, DataType(out_dtype_),
                              Tag::nhwc);
  const dnnl::memory::desc bias =
      bias_.defined() ? dnnl::memory::desc({out}, dnnl::memory::data_type::f32, Tag::a)
                      : dnnl::memory::desc();
  dnnl::post_ops ops;
  if (sum) ops.append_sum(1.f);
  if (relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  DnnlConvolution c = MakeDnnlConvolution(p->src, p->dst, bias, {out, in, kh, kw}, type,
                                          weight_.data_ptr(), stride_, padding_, dilation_, attr);
  p->conv = std::move(c.conv);
  p->weights = std::move(c.weights);
  if (bias_.defined()) p->bias = dnnl::memory(bias, DnnlEngine(), bias_.data_ptr());
  return p;
}

torch::Tensor DnnlConv::Forward(const torch::Tensor& x_in, bool relu,
                                const torch::Tensor& residual) const {
  TORCH_CHECK(x_in.dim() == 4 && x_in.scalar_type() == dtype_ && x_in.size(1) == weight_.size(1),
              "DnnlConv: expected [N, ", weight_.size(1), ", H, W] in ", dtype_, ", got ",
              x_in.sizes(), " in ", x_in.scalar_type());
  const torch::Tensor x = x_in.contiguous(torch::MemoryFormat::ChannelsLast);
  const std::shared_ptr<Primitive> p =
      Get(Key{x.size(0), x.size(2), x.size(3), relu, residual.defined()});
  const std::vector<int64_t> sizes = {x.size(0), weight_.size(0), p->out_height, p->out_width};
  torch::Tensor out;
  if (residual.defined()) {
    TORCH_CHECK(residual.sizes() == sizes && residual.scalar_type() == out_dtype_ &&
                    residual.is_contiguous(torch::MemoryFormat::ChannelsLast),
                "DnnlConv: the residual must be channels-last ", sizes, " in ", out_dtype_);
    out = residual;
  } else {
    out = torch::empty(
        sizes, x.options().dtype(out_dtype_).memory_format(torch::MemoryFormat::ChannelsLast));
  }
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, dnnl::memory(p->src, DnnlEngine(), x.data_ptr())},
      {DNNL_ARG_WEIGHTS, p->weights},
      {DNNL_ARG_DST, dnnl::memory(p->dst, DnnlEngine(), out.data_ptr())}};
  if (p->bias) args.insert({DNNL_ARG_BIAS, p->bias});
  dnnl::stream stream(DnnlEngine());
  p->conv.execute(stream, args);
  stream.wait();
  return out;
}

}  // namespace ann
