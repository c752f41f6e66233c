// `landfall run`'s alert options: webhooks and thresholds.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "landfall/runner.h"

namespace landfall::cli {

struct AlertArgs {
  std::vector<std::string> webhooks;
  std::string queue_wait;
  std::string check_interval = "30s";
  std::string timeout = "10s";
};

// --alert-webhook, --alert-queue-wait, --alert-check-interval,
// --alert-timeout.
void AddAlertOptions(CLI::App* cmd, AlertArgs* args);

// Gives `options` a webhook notifier and alert thresholds when `args` name
// a webhook; `on_error` is told of delivery problems (URLs redacted).
// InvalidArgument naming the option for a bad value.
absl::Status ApplyAlertOptions(
    const AlertArgs& args, RunnerOptions* options,
    std::function<void(const absl::Status&)> on_error);

}  // namespace landfall::cli
