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
  // Environment variables and files each holding one webhook URL, so that
  // the secret stays out of argv.
  std::vector<std::string> webhook_envs;
  std::vector<std::string> webhook_files;
  std::string queue_wait;
  std::string check_interval = "30s";
  std::string timeout = "10s";
};

// --alert-webhook, --alert-webhook-env, --alert-webhook-file,
// --alert-queue-wait, --alert-check-interval, --alert-timeout.
void AddAlertOptions(CLI::App* cmd, AlertArgs* args);

// Gives `options` a webhook notifier and alert thresholds when `args` name
// a webhook (on the command line, in a variable or in a file); `on_error` is
// told of delivery problems (URLs redacted). InvalidArgument naming the option
// for a bad value.
absl::Status ApplyAlertOptions(
    const AlertArgs& args, RunnerOptions* options,
    std::function<void(const absl::Status&)> on_error);

}  // namespace landfall::cli
