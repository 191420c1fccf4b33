#include "ann/dnnl/dnnl_primitive.h"

namespace ann {

dnnl::engine& DnnlEngine() {
  static dnnl::engine* const engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

DnnlConvolution MakeDnnlConvolution(const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                                    const dnnl::memory::desc& bias,
                                    const dnnl::memory::dims& weight_dims,
                                    dnnl::memory::data_type weight_type, void* weights,
                                    const int64_t stride[2], const int64_t padding[2],
                                    const int64_t dilation[2], const dnnl::primitive_attr& attr) {
  const dnnl::memory::desc any(weight_dims, weight_type, dnnl::memory::format_tag::any);
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, any, bias, dst,
      {stride[0], stride[1]}, {dilation[0] - 1, dilation[1] - 1}, {padding[0], padding[1]},
      {padding[0], padding[1]});
  const dnnl::convolution_forward::primitive_desc pd(desc, attr, DnnlEngine());
  DnnlConvolution c{dnnl::convolution_forward(pd), dnnl::memory(pd.weights_desc(), DnnlEngine()),
                    pd.impl_info_str()};
  dnnl::memory plain({weight_dims, weight_type, dnnl::memory::format_tag::oihw}, DnnlEngine(),
                     weights);
  dnnl::stream stream(DnnlEngine());
  dnnl::reorder(plain, c.weights).execute(stream, plain, c.weights);
  stream.wait();
  return c;
}

}  // namespace ann
