// Helpers shared by tests: runfile paths, a per-test temporary directory, and running a command
// (Debian's /usr/bin/python3 with python3-torch is the independent reference).
#ifndef ANN_TESTS_TESTING_H_
#define ANN_TESTS_TESTING_H_

#include <string>

namespace ann::testing {

// Absolute path of a runfile given its workspace-relative path ("tests/python/x.py").
std::string RunfilePath(const std::string& relative);

// A fresh directory under TEST_TMPDIR (or /tmp), unique per call.
std::string MakeTempDir(const std::string& name);

// Runs `command` with /bin/sh; returns the exit code and stores stdout+stderr in `output`.
int RunCommand(const std::string& command, std::string* output = nullptr);

// Runs tests/python/<script> with Debian's /usr/bin/python3 and `args`.
int RunPython(const std::string& script, const std::string& args, std::string* output = nullptr);

}  // namespace ann::testing

#endif  // ANN_TESTS_TESTING_H_
