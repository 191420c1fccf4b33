// Prints what our dataset reader makes of a tree, for tests that compare it with an independent
// Python reading of mmseg's rules: one line per sample of the split, in order,
//   <id> TAB <image path relative to the data root> TAB <W>x<H> TAB <CRC-32 of the label bytes>
// where the label is what training and evaluation see (LoadLabel: palette indices,
// reduce_zero_label applied, 255 = ignore), row-major uint8.
//
//   dataset_dump --config=configs/toy.flags --data_root=DIR --split=val
#include <cstdio>
#include <filesystem>
#include <string>

#include "ann/config/config.h"
#include "ann/data/dataset.h"
#include "ann/util/crc32.h"
#include "ann/util/flags.h"
#include "gflags/gflags.h"

DEFINE_string(split, "train", "Split to list.");

namespace ann {
namespace {

const ToolInfo kTool = {"dataset_dump", "prints the samples and label checksums of a split",
                        "--dataset=NAME --data_root=DIR --split=S", ""};

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kDataPart>());
  const DatasetInfo& info = config.data.info;
  ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                       ListSamples(info, config.data.data_root, FLAGS_split));
  for (const Sample& s : samples) {
    ANN_ASSIGN_OR_RETURN(cv::Mat label, LoadLabel(s.label, info));
    const cv::Mat bytes = label.isContinuous() ? label : label.clone();
    std::printf("%s\t%s\t%dx%d\t%08x\n", s.id.c_str(),
                std::filesystem::path(s.image).lexically_relative(config.data.data_root).c_str(),
                label.cols, label.rows, Crc32(0, bytes.data, bytes.total()));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
