// `landfall serve --state URI [--listen HOST:PORT]`: the read-only status
// page of a state store, following what other processes write to it.
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>

#include "examples/cli/commands.h"
#include "examples/cli/serve/status_server.h"
#include "examples/cli/state_file.h"

namespace landfall::cli {

void AddServeCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve a read-only status page of a state store until SIGINT or "
      "SIGTERM: pools, classes, tasks by state, the dead letter with errors "
      "and explanations, per table its latest partition and freshness, the "
      "graph coloured by state, and the history as it happens. Only GET "
      "and HEAD are served; nothing changes the state");
  struct Args : StateArgs {
    std::string listen;
  };
  auto args = std::make_shared<Args>();
  args->access = StateAccess::kReadOnly;
  cmd->add_option("--state", args->state, kStateHelp)->required();
  cmd->add_option("--listen", args->listen,
                  "Listen at HOST:PORT (default 127.0.0.1:8080, loopback "
                  "only; any other address exposes the page, which has no "
                  "login, to that network; port 0 takes a free one)");
  OnRun(cmd, exit_code, [args, exit_code] {
    // Blocked before the server's threads start, so that they inherit it.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    absl::StatusOr<std::unique_ptr<StatusServer>> server =
        StartStatusServer("--listen", args->listen, std::move(open->scheduler));
    if (!server.ok()) return ReportUsage(server.status());
    std::cout << "serving the status of " << ShownState(args->state) << " at "
              << (*server)->url() << " (read-only; Ctrl-C stops)" << std::endl;
    int signal = 0;
    sigwait(&stop_signals, &signal);
    return kExitOk;
  });
}

}  // namespace landfall::cli
