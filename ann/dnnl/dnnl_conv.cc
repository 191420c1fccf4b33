#include "ann/dnnl/dnnl_conv.h"

#include <optional>
#include <unordered_map>

#include "ann/dnnl/dnnl_primitive.h"

namespace ann {
namespace {

using Tag = dnnl::memory::format_tag;

dnnl::memory::data_type DataType(torch::ScalarType dtype) {
  return dtype == torch::kBFloat16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

// Whether oneDNN runs at most AVX2 here (no AVX-512: this CPU, or DNNL_MAX_CPU_ISA). Its float32
// convolutions with spatial kernels are then much faster on other layouts than on channels-last,
// the reorders in and out included (LibTorch's conv2d on NCHW against channels-last, which call
// the same kernels; 3x3 512->512 at 64x128, 2 threads, AMD EPYC Zen 3): jit:avx2 on nChw8c 382
// against 671 ms; where that has no jit kernel (dilation 4: R-50's layer 4), x64:gemm:jit on
// nchw 426 against 612 ms. 1x1 ones are faster on channels-last (146 against 259 ms for
// 2048->512).
bool AtMostAvx2() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
    case dnnl::cpu_isa::avx:
    case dnnl::cpu_isa::avx2:
    case dnnl::cpu_isa::avx2_vnni:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct DnnlConv::Primitive {
  dnnl::convolution_forward conv;
  dnnl::memory weights;         // in the kernel's layout
  dnnl::memory bias;            // empty when none
  dnnl::memory::desc src, dst;  // channels-last, as the tensors are
  int64_t out_height, out_width;
  // Reordered: the convolution's src and dst are in another layout (nChw8c or nchw), reordered
  // from and to the tensors'.
  bool reordered = false;
  dnnl::memory::desc kernel_src, kernel_dst;
  dnnl::reorder src_in, dst_in, dst_out;
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
  static const bool at_most_avx2 = AtMostAvx2();
  auto make = [&](const dnnl::memory::desc& src, const dnnl::memory::desc& dst) {
    return MakeDnnlConvolution(src, dst, bias, {out, in, kh, kw}, type, weight_.data_ptr(), stride_,
                               padding_, dilation_, attr);
  };
  std::optional<DnnlConvolution> chosen;
  if (at_most_avx2 && dtype_ == torch::kFloat && out_dtype_ == torch::kFloat &&
      (kh > 1 || kw > 1) && in % 8 == 0 && out % 8 == 0) {
    // The first layout with a kernel better than the reference one.
    for (const Tag tag : {Tag::nChw8c, Tag::nchw}) {
      const dnnl::memory::desc src({batch, in, height, width}, type, tag);
      const dnnl::memory::desc dst({batch, out, p->out_height, p->out_width}, type, tag);
      DnnlConvolution c = make(src, dst);
      if (c.impl.rfind("ref", 0) == 0) continue;
      p->reordered = true;
      p->kernel_src = src;
      p->kernel_dst = dst;
      const dnnl::engine& e = DnnlEngine();
      p->src_in = dnnl::reorder(dnnl::reorder::primitive_desc(e, p->src, e, src));
      p->dst_in = dnnl::reorder(dnnl::reorder::primitive_desc(e, p->dst, e, dst));
      p->dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(e, dst, e, p->dst));
      chosen = std::move(c);
      break;
    }
  }
  DnnlConvolution c = chosen ? *std::move(chosen) : make(p->src, p->dst);
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
  dnnl::memory src(p->src, DnnlEngine(), x.data_ptr());
  dnnl::memory dst(p->dst, DnnlEngine(), out.data_ptr());
  dnnl::stream stream(DnnlEngine());
  auto convolve = [&](const dnnl::memory& from, const dnnl::memory& to) {
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, from}, {DNNL_ARG_WEIGHTS, p->weights}, {DNNL_ARG_DST, to}};
    if (p->bias) args.insert({DNNL_ARG_BIAS, p->bias});
    p->conv.execute(stream, args);
  };
  if (p->reordered) {
    dnnl::memory kernel_src(p->kernel_src, DnnlEngine());
    dnnl::memory kernel_dst(p->kernel_dst, DnnlEngine());
    p->src_in.execute(stream, src, kernel_src);
    if (residual.defined()) p->dst_in.execute(stream, dst, kernel_dst);  // the sum starts from it
    convolve(kernel_src, kernel_dst);
    p->dst_out.execute(stream, kernel_dst, dst);
  } else {
    convolve(src, dst);
  }
  stream.wait();
  return out;
}

}  // namespace ann
