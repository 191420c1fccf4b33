#include "ann/util/cpu.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace ann {
namespace {

// Presents a CPU through ANN_CPUINFO for the scope.
class FakeCpu {
 public:
  FakeCpu(const std::string& model, const std::string& flags) {
    path_ = ::testing::TempDir() + "cpuinfo";
    std::ofstream(path_) << "processor\t: 0\nmodel name\t: " << model << "\nflags\t\t: " << flags
                         << "\n\nprocessor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n";
    setenv("ANN_CPUINFO", path_.c_str(), 1);
  }
  ~FakeCpu() { unsetenv("ANN_CPUINFO"); }

 private:
  std::string path_;
};

TEST(CpuTest, Zen3HasInt8ButNoDotProductsNorBf16) {
  FakeCpu cpu("AMD EPYC 7B13", "fpu sse avx avx2 fma bmi2 sha_ni");
  EXPECT_FALSE(CpuHasInt8Dot());
  EXPECT_FALSE(CpuHasBf16());
  EXPECT_TRUE(CheckInt8Flag("precision").ok());
  EXPECT_EQ(CheckBf16Flag("precision").message(),
            "--precision: bf16 needs a CPU with AVX512-BF16 or AMX-BF16 instructions, and this one "
            "has neither (use fp32)");
}

TEST(CpuTest, SapphireRapidsHasEverything) {
  FakeCpu cpu("Intel(R) Xeon(R) Platinum 8481C",
              "avx2 fma avx512f avx512_vnni avx_vnni avx512_bf16 amx_bf16 amx_tile amx_int8");
  EXPECT_TRUE(CpuHasInt8Dot());
  EXPECT_TRUE(CpuHasBf16());
  EXPECT_EQ(CpuDescription(2),
            "CPU: Intel(R) Xeon(R) Platinum 8481C; has avx2 fma avx512f avx512_vnni avx_vnni "
            "avx512_bf16 amx_bf16 amx_int8; 2 threads; ANN_CPUINFO=" +
                std::string(std::getenv("ANN_CPUINFO")));
}

TEST(CpuTest, DescriptionNamesWhatIsMissingAndTheOverrides) {
  FakeCpu cpu("AMD EPYC", "fpu avx2 fma avx_vnni_x");  // a longer flag is not avx_vnni
  setenv("DNNL_MAX_CPU_ISA", "AVX2", 1);
  const std::string line = CpuDescription(1);
  unsetenv("DNNL_MAX_CPU_ISA");
  EXPECT_EQ(line.substr(0, line.find("; ANN_CPUINFO")),
            "CPU: AMD EPYC; has avx2 fma; lacks avx512f avx512_vnni avx_vnni avx512_bf16 amx_bf16 "
            "amx_int8; 1 thread");
  EXPECT_NE(line.find("; DNNL_MAX_CPU_ISA=AVX2"), std::string::npos) << line;
  EXPECT_FALSE(CpuHasInt8Dot());
}

TEST(CpuTest, NoAvx2RefusesInt8NamingTheFlag) {
  FakeCpu cpu("Old", "fpu sse4_2 avx");
  EXPECT_EQ(CheckInt8Flag("precision").message(),
            "--precision: int8 needs a CPU with AVX2 (VNNI or AMX-INT8 make it faster), and this "
            "one has none (use fp32)");
  EXPECT_EQ(CpuDescription(2).substr(0, 28), "CPU: Old; has none; lacks av");
}

}  // namespace
}  // namespace ann
