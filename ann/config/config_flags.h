// The names of every config flag (model, data, train, test parts), in a library of its own so
// that a tool which reads none of the parts (ann_preprocess) can still take a whole config and
// skip the flags it does not read.
#ifndef ANN_CONFIG_CONFIG_FLAGS_H_
#define ANN_CONFIG_CONFIG_FLAGS_H_

#include <string>
#include <vector>

namespace ann {

// Names of every flag of every config part: a config (flagfile) sets them all, and a tool that
// does not link a part skips that part's flags (ToolInfo::foreign_flags). config_test checks
// the list against the flags the four libraries define.
const std::vector<std::string>& AllConfigFlags();

}  // namespace ann

#endif  // ANN_CONFIG_CONFIG_FLAGS_H_
