// A config is one concept, as mmseg's `Config`: its four parts each own their flags in their own
// library (ann/model/model_config, ann/data/data_config, ann/train/train_config,
// ann/eval/test_config), and every main calls LoadConfig once for the parts it uses. Only those
// parts are validated, and only their flags are linked into the binary (so a bad --lr never
// blocks inference, and --help lists what the tool reads).
//
//   ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart | kTestPart>());
//   EncoderDecoder model(config.model);
#ifndef ANN_CONFIG_CONFIG_H_
#define ANN_CONFIG_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/config/config_flags.h"
#include "ann/data/data_config.h"
#include "ann/eval/test_config.h"
#include "ann/model/model_config.h"
#include "ann/train/train_config.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"

namespace ann {

// The parts of a config; LoadConfig takes a bitwise or of them.
enum ConfigPart : unsigned {
  kModelPart = 1,
  kDataPart = 2,
  kTrainPart = 4,  // needs the model part (pipeline variant, class count): loaded with it
  kTestPart = 8,
};

// A loaded config; parts that were not asked for keep their defaults.
struct Config {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  TestConfig test;
};

// ParseCommandLine for a tool that reads a config.
inline absl::Status ParseConfigCommandLine(int argc, char** argv, ToolInfo tool) {
  tool.foreign_flags = AllConfigFlags();
  return ParseCommandLine(argc, argv, tool);
}

// RunTool for a tool that reads a config.
inline int RunConfigTool(int argc, char** argv, ToolInfo tool, absl::Status (*run)()) {
  tool.foreign_flags = AllConfigFlags();
  return RunTool(argc, argv, tool, run);
}

// Reads and validates the flags of the parts in `kParts`. Errors name the flag.
template <unsigned kParts>
absl::StatusOr<Config> LoadConfig() {
  Config config;
  if constexpr ((kParts & (kModelPart | kTrainPart)) != 0) {
    ANN_ASSIGN_OR_RETURN(config.model, ModelConfigFromFlags());
  }
  if constexpr ((kParts & kDataPart) != 0) {
    ANN_ASSIGN_OR_RETURN(const Variant variant, VariantFromFlags());
    ANN_ASSIGN_OR_RETURN(config.data, DataConfigFromFlags(variant));
  }
  if constexpr ((kParts & kTrainPart) != 0) {
    ANN_ASSIGN_OR_RETURN(config.train, TrainConfigFromFlags(config.model));
  }
  if constexpr ((kParts & kTestPart) != 0) {
    ANN_ASSIGN_OR_RETURN(config.test, TestConfigFromFlags());
  }
  if constexpr ((kParts & (kModelPart | kTrainPart)) != 0 && (kParts & kTestPart) != 0) {
    ANN_RETURN_IF_ERROR(CheckInt8Head(config.model, config.test));
    ANN_RETURN_IF_ERROR(CheckTestFootprint(config.model, config.test));
  }
  return config;
}

}  // namespace ann

#endif  // ANN_CONFIG_CONFIG_H_
