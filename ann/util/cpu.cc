#include "ann/util/cpu.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace ann {

bool CpuHasBf16() {
  const char* override_path = std::getenv("ANN_CPUINFO");
  std::ifstream cpuinfo(override_path != nullptr ? override_path : "/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    line += " ";
    return line.find(" avx512_bf16 ") != std::string::npos ||
           line.find(" amx_bf16 ") != std::string::npos;
  }
  return false;
}

absl::Status CheckBf16Flag(absl::string_view flag) {
  if (CpuHasBf16()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag,
                   ": bf16 needs a CPU with AVX512-BF16 or AMX-BF16 instructions, and this one "
                   "has neither (use fp32)"));
}

}  // namespace ann
