// What this CPU can do, from /proc/cpuinfo (or the file ANN_CPUINFO names, so that tests can
// present another CPU).
#ifndef ANN_UTIL_CPU_H_
#define ANN_UTIL_CPU_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ann {

// Whether the CPU has bfloat16 arithmetic (AVX512-BF16 or AMX-BF16). Without it LibTorch
// emulates bf16, slower than float32.
bool CpuHasBf16();

// OK when the CPU has bf16 arithmetic; otherwise the flag error "--<flag>: bf16 needs ...".
absl::Status CheckBf16Flag(absl::string_view flag);

// Whether the CPU has int8 dot products (AVX512-VNNI, AVX-VNNI or AMX-INT8). Without them
// oneDNN's int8 kernels (AVX2, AVX-512) add pairs of u8 x s8 products in saturating int16, so
// int8 weights must keep to 7 bits (Int8Conv).
bool CpuHasInt8Dot();

// OK when the CPU has AVX2, the least oneDNN's int8 convolutions need; otherwise the flag error
// "--<flag>: int8 needs ...".
absl::Status CheckInt8Flag(absl::string_view flag);

// One line naming the CPU for benchmark output, so that figures from different machines are never
// mixed: its model name, the instruction sets that decide which kernels run (present and
// missing), the threads, and the overrides in effect (ANN_CPUINFO, DNNL_MAX_CPU_ISA,
// ATEN_CPU_CAPABILITY). E.g. "CPU: AMD EPYC; has avx2 fma; lacks avx512f avx512_vnni avx_vnni
// avx512_bf16 amx_bf16 amx_int8; 2 threads".
std::string CpuDescription(int threads);

}  // namespace ann

#endif  // ANN_UTIL_CPU_H_
