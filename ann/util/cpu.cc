#include "ann/util/cpu.h"

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>

#include "absl/strings/str_cat.h"

namespace ann {

namespace {

// Whether the first "flags" line of /proc/cpuinfo (or of ANN_CPUINFO's file) holds any of
// `flags`.
bool CpuHasAnyFlag(std::initializer_list<const char*> flags) {
  const char* override_path = std::getenv("ANN_CPUINFO");
  std::ifstream cpuinfo(override_path != nullptr ? override_path : "/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    line += " ";
    for (const char* flag : flags) {
      if (line.find(absl::StrCat(" ", flag, " ")) != std::string::npos) return true;
    }
    return false;
  }
  return false;
}

// OK, or the flag error "--<flag>: <problem>".
absl::Status RequireCpu(bool has, absl::string_view flag, absl::string_view problem) {
  if (has) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", problem));
}

}  // namespace

bool CpuHasBf16() { return CpuHasAnyFlag({"avx512_bf16", "amx_bf16"}); }

bool CpuHasInt8Dot() { return CpuHasAnyFlag({"avx512_vnni", "avx_vnni", "amx_int8"}); }

absl::Status CheckInt8Flag(absl::string_view flag) {
  return RequireCpu(CpuHasAnyFlag({"avx2"}), flag,
                    "int8 needs a CPU with AVX2 (VNNI or AMX-INT8 make it faster), and this one "
                    "has none (use fp32)");
}

absl::Status CheckBf16Flag(absl::string_view flag) {
  return RequireCpu(CpuHasBf16(), flag,
                    "bf16 needs a CPU with AVX512-BF16 or AMX-BF16 instructions, and this one has "
                    "neither (use fp32)");
}

}  // namespace ann
