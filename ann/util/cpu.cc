#include "ann/util/cpu.h"

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ann {

namespace {

// The first line of /proc/cpuinfo (or of ANN_CPUINFO's file) that starts with `key`, or "".
std::string CpuInfoLine(const char* key) {
  const char* override_path = std::getenv("ANN_CPUINFO");
  std::ifstream cpuinfo(override_path != nullptr ? override_path : "/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind(key, 0) == 0) return line;
  }
  return "";
}

bool HasFlag(const std::string& flags_line, const char* flag) {
  return absl::StrCat(flags_line, " ").find(absl::StrCat(" ", flag, " ")) != std::string::npos;
}

// Whether the first "flags" line of /proc/cpuinfo (or of ANN_CPUINFO's file) holds any of
// `flags`.
bool CpuHasAnyFlag(std::initializer_list<const char*> flags) {
  const std::string line = CpuInfoLine("flags");
  for (const char* flag : flags) {
    if (HasFlag(line, flag)) return true;
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

std::string CpuDescription(int threads) {
  std::string model = CpuInfoLine("model name");
  const size_t colon = model.find(':');
  model = colon == std::string::npos ? "unknown" : model.substr(colon + 1);
  absl::StripAsciiWhitespace(&model);
  const std::string flags = CpuInfoLine("flags");
  std::string has, lacks;
  for (const char* isa : {"avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
                          "amx_bf16", "amx_int8"}) {
    absl::StrAppend(HasFlag(flags, isa) ? &has : &lacks, " ", isa);
  }
  std::string line = absl::StrCat("CPU: ", model, "; has", has.empty() ? " none" : has);
  if (!lacks.empty()) absl::StrAppend(&line, "; lacks", lacks);
  absl::StrAppend(&line, "; ", threads, threads == 1 ? " thread" : " threads");
  for (const char* variable : {"ANN_CPUINFO", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"}) {
    if (const char* value = std::getenv(variable))
      absl::StrAppend(&line, "; ", variable, "=", value);
  }
  return line;
}

}  // namespace ann
