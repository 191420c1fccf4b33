// The --nproc launcher of ann_train: runs N copies of the same command on this machine as ranks
// 0..N-1 over loopback (appending --rank, --world_size, --dist_port and --nproc=1), forwards
// SIGINT / SIGTERM to them, and when one rank fails stops the others.
#ifndef ANN_TRAIN_LAUNCHER_H_
#define ANN_TRAIN_LAUNCHER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ann {

// Runs `command` (argv of this process, argv[0] first) as `nproc` ranks with the rendezvous on
// `port` (0: a free loopback port), waits for all, and returns the worst exit status.
int LaunchLocalRanks(const std::vector<std::string>& command, int nproc, int port);

// The exit code of ann_train for `status` (as ExitCode, printing its one error line), except
// that a rank other than 0 started by LaunchLocalRanks says nothing when a stop signal ended the
// run: rank 0's line ("stopped by SIGINT at iteration N; saved ...") speaks for all.
int RankExitCode(const absl::Status& status, int rank);

// torchrun's environment (WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT) for those of ann_train's
// --world_size, --rank, --dist_addr, --dist_port not given on the command line, so that the same
// command runs under torchrun-style launchers and on several machines. LOCAL_RANK is not needed
// on CPUs. A bad value is a flag error naming the variable.
absl::Status ApplyLauncherEnvironment();

}  // namespace ann

#endif  // ANN_TRAIN_LAUNCHER_H_
