#include "examples/cli/alert_options.h"

#include <memory>
#include <tuple>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "examples/cli/state_file.h"
#include "landfall/notifier.h"

namespace landfall::cli {

void AddAlertOptions(CLI::App* cmd, AlertArgs* args) {
  cmd->add_option("--alert-webhook", args->webhooks,
                  "POST alerts as JSON to this URL (repeatable): a Slack "
                  "incoming webhook renders its \"text\". Alerts on dead "
                  "tasks, freshness (max_lag, deadline), queue wait and an "
                  "unreachable store; the URL is a secret and is never "
                  "printed whole");
  cmd->add_option("--alert-webhook-env", args->webhook_envs,
                  "As --alert-webhook, the URL read from this environment "
                  "variable (repeatable): kept out of the command line, "
                  "which every user of the machine can see");
  cmd->add_option("--alert-webhook-file", args->webhook_files,
                  "As --alert-webhook, the URL read from this file "
                  "(repeatable; surrounding whitespace trimmed)");
  cmd->add_option("--alert-queue-wait", args->queue_wait,
                  "Alert when a pool's oldest ready task has waited longer "
                  "than this (default: never)");
  cmd->add_option("--alert-check-interval", args->check_interval,
                  "How often the alert rules are checked (default 30s)");
  cmd->add_option("--alert-timeout", args->timeout,
                  "Time limit of one webhook request (default 10s); failed "
                  "requests are tried again with backoff, 5 times in all");
}

absl::Status ApplyAlertOptions(
    const AlertArgs& args, RunnerOptions* options,
    std::function<void(const absl::Status&)> on_error) {
  std::vector<std::string> urls = args.webhooks;
  for (const auto& [option, names, read] :
       {std::tuple{"--alert-webhook-env", &args.webhook_envs,
                   &WebhookUrlFromEnv},
        std::tuple{"--alert-webhook-file", &args.webhook_files,
                   &WebhookUrlFromFile}}) {
    for (const std::string& name : *names) {
      absl::StatusOr<std::string> url = read(name);
      if (!url.ok()) {
        return absl::Status(url.status().code(),
                            absl::StrCat(option, ": ", url.status().message()));
      }
      urls.push_back(*std::move(url));
    }
  }
  if (urls.empty()) return absl::OkStatus();
  absl::StatusOr<absl::Duration> interval =
      ParseDurationOption("--alert-check-interval", args.check_interval);
  if (!interval.ok()) return interval.status();
  absl::StatusOr<absl::Duration> timeout =
      ParseDurationOption("--alert-timeout", args.timeout);
  if (!timeout.ok()) return timeout.status();
  if (*timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--alert-timeout: must be positive");
  }
  if (*interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--alert-check-interval: must be positive");
  }
  options->alerts.check_interval = *interval;
  if (!args.queue_wait.empty()) {
    absl::StatusOr<absl::Duration> wait =
        ParseDurationOption("--alert-queue-wait", args.queue_wait);
    if (!wait.ok()) return wait.status();
    options->alerts.queue_wait = *wait;
  }
  WebhookOptions webhook;
  webhook.urls = std::move(urls);
  webhook.timeout = *timeout;
  webhook.on_error = std::move(on_error);
  absl::StatusOr<std::unique_ptr<WebhookNotifier>> notifier =
      WebhookNotifier::Create(std::move(webhook));
  if (!notifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--alert-webhook: ", notifier.status().message()));
  }
  options->notifier = std::move(*notifier);
  return absl::OkStatus();
}

}  // namespace landfall::cli
