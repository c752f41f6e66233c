// `landfall run SPEC --state FILE --landing DIR [--exec CMD] ...`: runs a
// pipeline until stopped: arrivals from a landing directory, attempts as
// child processes.
#include "examples/cli/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "examples/cli/commands.h"
#include "examples/cli/serve/status_server.h"
#include "examples/cli/state_file.h"
#include "landfall/landing_source.h"
#include "landfall/sink_executors.h"
#include "landfall/sqs_source.h"
#include "landfall/subprocess_executor.h"
#include "lib/core/plural.h"

namespace landfall::cli {
namespace {

// Why `command` cannot be an attempt's command, or "" when it can.
std::string CommandProblem(const std::string& command) {
  return absl::StripAsciiWhitespace(command).empty() ? "the command is empty"
                                                     : "";
}

// A NAME=COMMAND option's parts; InvalidArgument when either is missing.
absl::StatusOr<std::pair<std::string, std::string>> NamedCommand(
    const std::string& text) {
  std::pair<std::string, std::string> kv =
      absl::StrSplit(text, absl::MaxSplits('=', 1));
  if (kv.first.empty() || !CommandProblem(kv.second).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected NAME=COMMAND with a command, got \"", text, "\""));
  }
  return kv;
}

absl::StatusOr<std::shared_ptr<Executor>> CommandExecutor(
    const RunArgs& args, const std::string& command) {
  SubprocessOptions options;
  if (args.shell) {
    options.command = {command};
  } else {
    options.command = absl::StrSplit(command, ' ', absl::SkipWhitespace());
  }
  options.shell = args.shell;
  // Absolute: the history names each attempt's log by this path.
  options.log_dir = std::filesystem::absolute(args.logs).string();
  absl::StatusOr<absl::Duration> timeout =
      ParseDurationOption("--timeout", args.timeout);
  if (!timeout.ok()) return timeout.status();
  options.timeout = *timeout;
  absl::StatusOr<std::unique_ptr<Executor>> executor =
      NewSubprocessExecutor(std::move(options));
  if (!executor.ok()) return executor.status();
  return std::shared_ptr<Executor>(*std::move(executor));
}

// NAME=COMMAND options into `out`.
absl::Status AddNamedExecutors(
    const RunArgs& args, const std::vector<std::string>& specs,
    const std::string& option,
    std::map<std::string, std::shared_ptr<Executor>>* out) {
  for (const std::string& spec : specs) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = NamedCommand(spec);
    if (!kv.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, ": ", kv.status().message()));
    }
    absl::StatusOr<std::shared_ptr<Executor>> e =
        CommandExecutor(args, kv->second);
    if (!e.ok()) return e.status();
    (*out)[kv->first] = *std::move(e);
  }
  return absl::OkStatus();
}

// The live status line: attempts done, tasks by state, and each pool's
// running attempts out of its slots.
std::string ProgressLine(Scheduler& scheduler, const RunnerStats& stats,
                         absl::Duration elapsed) {
  TaskList list = scheduler.List();
  const TaskCounts tasks = TaskCounts::From(list);
  std::string line = absl::StrFormat(
      "[%4ds] done %d  running %d  ready %d  retrying %d  dead %d |",
      absl::ToInt64Seconds(elapsed), stats.succeeded, tasks.running,
      tasks.ready, tasks.retry_wait, tasks.dead);
  for (const Pool& pool : scheduler.pipeline().pools()) {
    const int running =
        list.by_pool[pool.name][TaskStateName(TaskState::kRunning)];
    absl::StrAppend(&line, " ", pool.name, " ", running, "/",
                    pool.slots == kUnlimitedSlots ? std::string("-")
                                                  : std::to_string(pool.slots));
  }
  return line;
}

std::string EventLine(const RunnerEvent& e) {
  const std::string when = TimeText(absl::Now());
  switch (e.kind) {
    case RunnerEvent::Kind::kClaimed:
      return absl::StrCat(when, " started ", TaskName(e.task), " attempt ",
                          e.attempt);
    case RunnerEvent::Kind::kFinished:
      return absl::StrCat(when, " finished ", TaskName(e.task), " attempt ",
                          e.attempt, ": ", Outcome_Name(e.result.outcome), " (",
                          e.result.message, ")");
    case RunnerEvent::Kind::kAbandoned:
      return absl::StrCat(when, " abandoned ", TaskName(e.task), " attempt ",
                          e.attempt, " to lease expiry");
    case RunnerEvent::Kind::kError:
      return absl::StrCat(when, " error: ", e.message);
  }
  return "";
}

// The run's end: attempts by outcome, then tasks by state.
void PrintSummary(const RunSummary& end) {
  const RunnerStats& a = end.attempts;
  std::cout << "ran " << internal::Counted(a.claimed, "attempt") << ": "
            << a.succeeded << " succeeded, " << a.retryable << " retryable, "
            << a.fatal << " fatal, " << a.abandoned << " left to lease expiry\n"
            << TaskCountsText(end.tasks) << std::endl;
}

// The landing directory as a source of `runner`; an exit code.
int AddLandingSource(const RunArgs& args,
                     std::shared_ptr<const Pipeline> pipeline,
                     std::shared_ptr<Scheduler> scheduler, Runner& runner,
                     bool tty, absl::Mutex& out_mu) {
  LandingSourceOptions landing;
  landing.root = args.landing;
  // A restart skips what it ingested before, however long ago.
  landing.ingested = [scheduler](absl::Span<const Arrival> arrivals) {
    return scheduler->Ingested(arrivals);
  };
  landing.on_error = [&out_mu, tty](const absl::Status& s) {
    absl::MutexLock lock(&out_mu);
    std::cout << (tty ? "\r\033[K" : "") << TimeText(absl::Now())
              << " landing: " << s.message() << std::endl;
  };
  absl::StatusOr<std::unique_ptr<Source>> source =
      NewLandingSource(std::move(pipeline), landing);
  if (!source.ok()) return Report(source.status());
  runner.AddSource(*std::move(source));
  return kExitOk;
}

}  // namespace

absl::StatusOr<RunnerOptions> ExecutorOptions(const RunArgs& args,
                                              const Pipeline& pipeline) {
  RunnerOptions options;
  if (!args.exec.empty()) {
    absl::StatusOr<std::shared_ptr<Executor>> e =
        CommandExecutor(args, args.exec);
    if (!e.ok()) return e.status();
    options.executor = *std::move(e);
  }
  for (absl::Status s :
       {AddNamedExecutors(args, args.exec_table, "--exec-table",
                          &options.executor_by_table),
        AddNamedExecutors(args, args.exec_sink, "--exec-sink",
                          &options.executor_by_sink)}) {
    if (!s.ok()) return s;
  }
  // --exec runs every table the other options leave out, the spec's sinks'
  // too; without it the sinks declared with a kind run theirs.
  if (args.exec.empty()) {
    if (absl::Status s = AddSinkExecutors(pipeline, &options); !s.ok()) {
      return s;
    }
  }
  ExecutorOptionNames names;
  names.executor = "--exec";
  names.executor_by_table = "--exec-table";
  names.executor_by_sink = "--exec-sink";
  if (absl::Status s = CheckExecutors(pipeline, options, names); !s.ok()) {
    return s;
  }
  return options;
}

int Run(const RunArgs& args, RunnerOptions options,
        std::shared_ptr<const Pipeline> pipeline,
        std::shared_ptr<Scheduler> scheduler, RunMetrics* metrics) {
  absl::StatusOr<absl::Duration> grace =
      ParseDurationOption("--grace", args.grace);
  if (!grace.ok()) return Report(grace.status());
  absl::Duration exit_when_idle = absl::InfiniteDuration();
  if (!args.exit_when_idle.empty()) {
    absl::StatusOr<absl::Duration> d =
        ParseDurationOption("--exit-when-idle", args.exit_when_idle);
    if (!d.ok()) return Report(d.status());
    exit_when_idle = *d;
  }
  options.max_workers = args.workers;
  options.worker = absl::StrCat("run:", getpid());
  const bool tty = isatty(STDOUT_FILENO) != 0;
  absl::Mutex out_mu;
  options.on_event = [&](const RunnerEvent& e) {
    if (tty && e.kind != RunnerEvent::Kind::kError) return;
    absl::MutexLock lock(&out_mu);
    std::cout << (tty ? "\r\033[K" : "") << EventLine(e) << std::endl;
  };
  // The exporters read the scheduler: stopped before it goes (locals go
  // before parameters).
  struct StopMetrics {
    RunMetrics* metrics;
    ~StopMetrics() {
      if (metrics != nullptr) metrics->Stop();
    }
  } stop_metrics{metrics};
  if (metrics != nullptr) {
    if (absl::Status s = metrics->Start(scheduler.get()); !s.ok()) {
      return ReportUsage(s);
    }
  }
  absl::StatusOr<std::unique_ptr<Runner>> runner =
      Runner::Create(scheduler, std::move(options));
  if (!runner.ok()) return Report(runner.status());
  // Problems of the queue (a poison message) print as the runner's errors.
  SqsSource* sqs = nullptr;
  if (!args.sqs.empty()) {
    SqsSourceOptions queue;
    queue.queue_url = args.sqs;
    queue.endpoint = args.sqs_endpoint;
    queue.region = args.sqs_region;
    if (!args.sqs_key_rule.empty()) queue.key_rule = args.sqs_key_rule;
    if (metrics != nullptr) {
      absl::StatusOr<absl::Duration> every =
          ParseDurationOption("--sqs-stats-interval", args.sqs_stats_interval);
      if (!every.ok()) return ReportUsage(every.status());
      if (*every < absl::Seconds(1)) {
        return ReportUsage(absl::InvalidArgumentError(
            "--sqs-stats-interval: must be at least 1s"));
      }
      queue.metrics = metrics->metrics();
      queue.stats_interval = *every;
    }
    absl::StatusOr<std::unique_ptr<SqsSource>> source =
        NewSqsSource(pipeline, std::move(queue));
    if (!source.ok()) return Report(source.status());
    sqs = source->get();
    (*runner)->AddSource(*std::move(source));
  }
  if (!args.landing.empty()) {
    if (int code =
            AddLandingSource(args, pipeline, scheduler, **runner, tty, out_mu);
        code != kExitOk) {
      return code;
    }
  }

  // SIGINT and SIGTERM are taken here, not by a handler: blocked before
  // the runner's threads start, so that they all inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (absl::Status s = (*runner)->Start(); !s.ok()) {
    std::cerr << s.message() << "\n";
    return kExitUsage;
  }
  // The page reads the runner's own scheduler; stopped before the runner.
  std::unique_ptr<StatusServer> status_page;
  if (!args.status_listen.empty()) {
    absl::StatusOr<std::unique_ptr<StatusServer>> started =
        StartStatusServer("--status-listen", args.status_listen, scheduler);
    if (!started.ok()) {
      std::cerr << "run: " << started.status().message() << "\n";
      (*runner)->Stop(absl::ZeroDuration());
      return kExitUsage;
    }
    status_page = *std::move(started);
    absl::MutexLock lock(&out_mu);
    std::cout << "status page at " << status_page->url() << std::endl;
  }
  // With a queue, idle also means its messages are all committed.
  std::function<bool()> may_exit = args.may_exit;
  if (sqs != nullptr) {
    may_exit = [sqs, outer = args.may_exit] {
      return sqs->Drained() && (!outer || outer());
    };
  }
  const absl::Time start = absl::Now();
  absl::Time held_at = start;  // When args.may_exit last said no.
  bool stopped = false;        // By a signal; else idle.
  while (true) {
    const timespec tick{0, 200 * 1000 * 1000};
    stopped = sigtimedwait(&stop_signals, nullptr, &tick) > 0;
    if (stopped) break;
    if (sqs != nullptr && !sqs->status().ok()) break;
    if (tty) {
      absl::MutexLock lock(&out_mu);
      std::cout << "\r\033[K"
                << ProgressLine(*scheduler, (*runner)->stats(),
                                absl::Now() - start)
                << std::flush;
    }
    if (exit_when_idle != absl::InfiniteDuration()) {
      if (may_exit && !may_exit()) held_at = absl::Now();
      // Checks once: quiet time adds up over the ticks.
      if ((*runner)->WaitUntilIdle(exit_when_idle, absl::ZeroDuration()).idle &&
          absl::Now() - held_at >= exit_when_idle) {
        break;
      }
    }
  }
  const RunnerStats stats = (*runner)->stats();
  {
    absl::MutexLock lock(&out_mu);
    std::cout << (tty ? "\n" : "") << (stopped ? "stopping: " : "idle: ")
              << internal::Counted(stats.running, "attempt")
              << " running, waiting up to " << absl::FormatDuration(*grace)
              << std::endl;
  }
  (*runner)->Stop(*grace);
  // A stopped runner only counts.
  const RunSummary end =
      (*runner)->WaitUntilIdle(absl::ZeroDuration(), absl::ZeroDuration());
  PrintSummary(end);
  if (sqs != nullptr && !sqs->status().ok()) {
    std::cerr << "run: " << sqs->status().message() << std::endl;
    return kExitRefused;
  }
  if (!stopped && end.tasks.dead + end.tasks.blocked > 0) {
    std::cerr << end.tasks.dead << " dead and " << end.tasks.blocked
              << " blocked tasks: see landfall dlq --state "
              << ShownState(args.state) << " list" << std::endl;
    return kExitAlert;
  }
  return kExitOk;
}

void AddRunCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a pipeline until stopped (SIGINT or SIGTERM: stop claiming, let "
      "running attempts finish within --grace, leave the rest to lease "
      "expiry), or with --exit-when-idle until idle. Files landing under "
      "DIR/<table>/<partition>/ are arrivals; attempts run as child "
      "processes: exit 0 succeeds, 75 is retried, anything else is fatal. "
      "Ends with attempts by outcome and tasks by state. Exits 3 when "
      "--exit-when-idle ends it with tasks dead or blocked.");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("SPEC", args->spec, "Pipeline spec file")->required();
  cmd->add_option("--state", args->state, "State file (created if missing)")
      ->required();
  AddRunOptions(cmd, args.get());
  AddMetricsOptions(cmd, &args->metrics);
  OnRun(cmd, exit_code, [args, exit_code] {
    // Checked before the state file is made.
    if (args->landing.empty() && args->sqs.empty()) {
      std::cerr << "run: give --landing DIR, --sqs QUEUE_URL, or both\n";
      return kExitUsage;
    }
    RunArgs run = *args;
    if (run.logs.empty()) {
      run.logs = IsPostgresState(run.state) ? "landfall.logs"
                                            : StatePath(run.state) + ".logs";
    }
    StateArgs state;
    state.state = args->state;
    state.spec = args->spec;
    state.deploy = true;
    state.dedup_retention = args->dedup_retention;
    // Executors that leave a table out are refused before the state is
    // touched.
    RunnerOptions options;
    std::unique_ptr<RunMetrics> metrics;
    state.before_open = [&](const Pipeline& pipeline) {
      absl::StatusOr<RunnerOptions> checked = ExecutorOptions(run, pipeline);
      if (!checked.ok()) return checked.status();
      options = *std::move(checked);
      absl::StatusOr<std::unique_ptr<RunMetrics>> made =
          RunMetrics::Create(run.metrics, pipeline);
      if (!made.ok()) return made.status();
      metrics = *std::move(made);
      if (metrics != nullptr) {
        state.observer = metrics->metrics();
        state.store_metrics = metrics->metrics();
      }
      // Alerts: delivery problems print as they happen.
      return ApplyAlertOptions(run.alerts, &options, [](const absl::Status& s) {
        std::cerr << TimeText(absl::Now()) << " alert: " << s.message()
                  << std::endl;
      });
    };
    std::optional<OpenState> open = Open(state, exit_code);
    if (!open) return *exit_code;
    return Run(run, std::move(options), open->pipeline,
               std::move(open->scheduler), metrics.get());
  });
}

void AddRunOptions(CLI::App* cmd, RunArgs* args) {
  cmd->add_option("--landing", args->landing,
                  "Landing directory: ROOT/<table>/<partition>/<files> "
                  "(needed unless --sqs is given)");
  cmd->add_option("--sqs", args->sqs,
                  "SQS queue URL: S3 event notifications (or landfall "
                  "arrivals as JSON) are arrivals; credentials from "
                  "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                  "AWS_SESSION_TOKEN");
  cmd->add_option("--sqs-endpoint", args->sqs_endpoint,
                  "SQS endpoint (default: AWS_ENDPOINT_URL_SQS, else the "
                  "queue URL's host)");
  cmd->add_option("--sqs-region", args->sqs_region,
                  "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, "
                  "else the queue URL's)");
  cmd->add_option("--sqs-key-rule", args->sqs_key_rule,
                  "How an S3 key maps to a table and partition (default "
                  "\"{table}/{partition}\": orders/2018-11-03/part-0 is "
                  "orders, 2018-11-03)");
  cmd->add_option("--sqs-stats-interval", args->sqs_stats_interval,
                  "With --metrics-listen or --statsd: read the queue's "
                  "depth (GetQueueAttributes) this often, at least 1s "
                  "(default 30s)");
  const CLI::Validator command(
      [](std::string& text) { return CommandProblem(text); }, "COMMAND");
  cmd->add_option("--exec", args->exec,
                  "Command for every table, split at spaces; {table}, "
                  "{partition}, {attempt}, {pool}, {sink}, {inputs} are "
                  "replaced, and {origins} by the objects landed since the "
                  "task last ran (also one a line in the file "
                  "$LANDFALL_ORIGINS_FILE). Every table that runs needs a "
                  "command: from --exec, --exec-table or --exec-sink")
      ->check(command);
  const CLI::Validator named_command(
      [](std::string& text) {
        absl::StatusOr<std::pair<std::string, std::string>> kv =
            NamedCommand(text);
        return kv.ok() ? std::string() : std::string(kv.status().message());
      },
      "NAME=COMMAND");
  cmd->add_option("--exec-table", args->exec_table,
                  "TABLE=COMMAND for one table (repeatable)")
      ->check(named_command);
  cmd->add_option("--exec-sink", args->exec_sink,
                  "SINK=COMMAND for the tables of one sink (repeatable)")
      ->check(named_command);
  cmd->add_flag("--shell", args->shell, "Run commands with /bin/sh -c");
  cmd->add_option("--timeout", args->timeout,
                  "Stop an attempt after this long and retry it (default 1h)");
  cmd->add_option("--logs", args->logs,
                  "Per-attempt logs go under this directory (default: "
                  "STATE.logs)");
  cmd->add_option("--workers", args->workers,
                  "At most N attempts at once (default 64)")
      ->check(WholeNumber(1));
  cmd->add_option("--grace", args->grace,
                  "On stop, wait this long for running attempts (default "
                  "30s)");
  cmd->add_option("--exit-when-idle", args->exit_when_idle,
                  "Exit once no task has been ready, running, retrying or "
                  "expired for this long (exit 3 if tasks are then dead or "
                  "blocked)");
  AddDedupRetentionOption(cmd, &args->dedup_retention);
  AddAlertOptions(cmd, &args->alerts);
  cmd->add_option("--status-listen", args->status_listen,
                  "Serve the read-only status page (as `landfall serve`) at "
                  "HOST:PORT while running, e.g. 127.0.0.1:8080; an address "
                  "other than loopback exposes it, with no login, to that "
                  "network");
}

}  // namespace landfall::cli
