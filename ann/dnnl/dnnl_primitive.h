// What DnnlConv and the int8 forward's Int8Conv share: the oneDNN engine and a forward-inference
// convolution primitive with its weights reordered once into the layout its kernel chooses.
// Includes oneDNN's header: for those two .cc files, not for headers.
#ifndef ANN_DNNL_DNNL_PRIMITIVE_H_
#define ANN_DNNL_DNNL_PRIMITIVE_H_

#include <cstdint>
#include <string>

#include "oneapi/dnnl/dnnl.hpp"

namespace ann {

// The CPU engine every direct oneDNN call of ours uses.
dnnl::engine& DnnlEngine();

struct DnnlConvolution {
  dnnl::convolution_forward conv;
  dnnl::memory weights;  // in the kernel's layout, with any compensation `attr` needs
  std::string impl;      // the kernel oneDNN chose ("jit:avx2", "x64:gemm:jit", "ref:any", ...)
};

// A convolution of `src` to `dst` (`bias` may be empty) under `attr`, its weights [O, I, kh, kw]
// (oihw, `weight_type`, at `weights`) reordered into the kernel's layout. `dilation` as
// PyTorch counts it (1: none).
DnnlConvolution MakeDnnlConvolution(const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                                    const dnnl::memory::desc& bias,
                                    const dnnl::memory::dims& weight_dims,
                                    dnnl::memory::data_type weight_type, void* weights,
                                    const int64_t stride[2], const int64_t padding[2],
                                    const int64_t dilation[2], const dnnl::primitive_attr& attr);

}  // namespace ann

#endif  // ANN_DNNL_DNNL_PRIMITIVE_H_
