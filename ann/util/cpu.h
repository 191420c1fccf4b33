// What this CPU can do, from /proc/cpuinfo (or the file ANN_CPUINFO names, so that tests can
// present another CPU).
#ifndef ANN_UTIL_CPU_H_
#define ANN_UTIL_CPU_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ann {

// Whether the CPU has bfloat16 arithmetic (AVX512-BF16 or AMX-BF16). Without it LibTorch
// emulates bf16, slower than float32.
bool CpuHasBf16();

// OK when the CPU has bf16 arithmetic; otherwise the flag error "--<flag>: bf16 needs ...".
absl::Status CheckBf16Flag(absl::string_view flag);

// Whether the CPU has int8 dot products (AVX512-VNNI, AVX-VNNI or AMX-INT8), without which
// oneDNN's int8 convolutions are slower than float32.
bool CpuHasInt8Dot();

// OK when the CPU has int8 dot products; otherwise the flag error "--<flag>: int8 needs ...".
absl::Status CheckInt8Flag(absl::string_view flag);

}  // namespace ann

#endif  // ANN_UTIL_CPU_H_
