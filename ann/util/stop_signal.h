// SIGINT (Ctrl-C) and SIGTERM as a request to stop: long loops (training, a video) poll it, finish
// what they hold (a checkpoint, the overlay video of the frames done) and say so in one line.
#ifndef ANN_UTIL_STOP_SIGNAL_H_
#define ANN_UTIL_STOP_SIGNAL_H_

namespace ann {

// Installs the handlers (for the rest of the process).
void InstallStopSignalHandlers();

// The stop signal received since, or 0.
int StopSignalReceived();

// "SIGINT" or "SIGTERM".
const char* StopSignalName(int signal);

}  // namespace ann

#endif  // ANN_UTIL_STOP_SIGNAL_H_
