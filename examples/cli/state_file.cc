#include "examples/cli/state_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "examples/cli/commands.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/core/plural.h"
#include "lib/core/rfc3339.h"
#include "lib/pipeline/internal/suggest.h"

namespace landfall::cli {

void AddStateOptions(CLI::App* cmd, StateArgs* args) {
  cmd->add_option("--state", args->state, kStateHelp)->required();
  cmd->add_option("--spec", args->spec,
                  args->access == StateAccess::kReadOnly
                      ? "Pipeline spec: refuse a state file that runs "
                        "another one (this command only reads)"
                      : "Pipeline spec: creates a missing state file, and "
                        "deploys a changed spec to an existing one");
  cmd->add_flag("--json", args->json, "Print JSON (one object per line)");
  AddDedupRetentionOption(cmd, &args->dedup_retention);
}

void AddDedupRetentionOption(CLI::App* cmd, std::string* value) {
  cmd->add_option("--dedup-retention", *value,
                  "How long an event id is remembered: a repeat within it is "
                  "a duplicate (absl syntax, e.g. 336h; default 168h). Use "
                  "the same in every process on the state file");
}

absl::StatusOr<absl::Duration> ParseDurationOption(const std::string& option,
                                                   const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, ": invalid duration \"", text, "\" (for example 90s, 5m)"));
  }
  return d;
}

absl::StatusOr<absl::Duration> ParseDedupRetention(const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dedup-retention: invalid duration \"", text,
                     "\" (a positive duration, for example 168h or 30m)"));
  }
  return d;
}

std::string StatePath(const std::string& state) {
  return absl::StartsWith(state, "sqlite:") ? state.substr(7) : state;
}

bool IsPostgresState(const std::string& state) {
  return absl::StartsWith(state, "postgres");
}

std::string ShownState(const std::string& state) {
  return IsPostgresState(state) ? ShownStoreUri(state) : StatePath(state);
}

std::optional<OpenState> Open(const StateArgs& args, int* exit_code) {
  SchedulerOptions scheduler_options;
  if (!args.dedup_retention.empty()) {
    absl::StatusOr<absl::Duration> retention =
        ParseDedupRetention(args.dedup_retention);
    if (!retention.ok()) {
      *exit_code = Report(retention.status());
      return std::nullopt;
    }
    scheduler_options.dedup_retention = *retention;
  }
  std::shared_ptr<const Pipeline> pipeline;
  if (!args.spec.empty()) {
    absl::StatusOr<std::shared_ptr<const Pipeline>> loaded =
        LoadSpec(args.spec);
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      *exit_code = ExitCodeForLoadError(loaded.status());
      return std::nullopt;
    }
    pipeline = *std::move(loaded);
    if (args.before_open) {
      if (absl::Status s = args.before_open(*pipeline); !s.ok()) {
        *exit_code = ReportUsage(s);
        return std::nullopt;
      }
    }
  }
  // Messages show a PostgreSQL store without its password.
  const bool postgres = IsPostgresState(args.state);
  const std::string path = ShownState(args.state);
  const bool read_only = args.access == StateAccess::kReadOnly;
  StoreOpenOptions options;
  options.create = pipeline != nullptr && !read_only;
  options.read_only = read_only;
  absl::StatusOr<std::shared_ptr<StateStore>> store = OpenStateStore(
      postgres ? args.state : "sqlite:" + StatePath(args.state), options);
  if (!store.ok()) {
    if (absl::IsNotFound(store.status())) {
      // The library's message names the schema of a PostgreSQL store.
      std::cerr << (postgres ? std::string(store.status().message())
                             : "no state store at " + path)
                << "; create one with `landfall init SPEC --state "
                << (postgres ? "URI" : ShellWord(path)) << "`\n";
    } else {
      std::cerr << store.status().message() << "\n";
    }
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  const bool forced = args.deploy && args.force;
  // Read here, not above: before_open may have set them.
  scheduler_options.observer = args.observer;
  if (args.store_metrics != nullptr) {
    *store = InstrumentStore(*std::move(store), args.store_metrics);
  }
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
      pipeline != nullptr && args.deploy && !forced
          ? Scheduler::Open(pipeline, *store, scheduler_options)
          : Scheduler::Open(*store, scheduler_options);
  if (read_only && !scheduler.ok()) {
    // A store that cannot be read as one: an empty landfall store (no
    // pipeline), an unreadable one. Not an operation refused.
    std::cerr << path << " is not a landfall state store that can be read: "
              << scheduler.status().message() << "\n";
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  if (pipeline != nullptr && (!args.deploy || forced)) {
    if (absl::IsFailedPrecondition(scheduler.status()) &&
        !IsWrittenByNewerLandfall(scheduler.status())) {
      // A new file.
      scheduler = Scheduler::Open(pipeline, *store, scheduler_options);
    } else if (scheduler.ok() && forced) {
      // Opening deploys without force: deploy here, with it.
      DeployOptions deploy;
      deploy.force = true;
      if (absl::StatusOr<DeployPlan> plan =
              (*scheduler)->Deploy(pipeline, deploy);
          !plan.ok()) {
        scheduler = plan.status();
      }
    } else if (scheduler.ok() &&
               !google::protobuf::util::MessageDifferencer::Equals(
                   (*scheduler)->pipeline().spec(), pipeline->spec())) {
      std::cerr << path << " runs another spec of pipeline \""
                << (*scheduler)->pipeline().name() << "\"; deploy " << args.spec
                << " with: " << SelfCommand() << " init "
                << ShellWord(args.spec) << " --state " << ShellWord(path)
                << "\n";
      *exit_code = kExitRefused;
      return std::nullopt;
    }
  }
  if (!scheduler.ok()) {
    if (!absl::StrContains(scheduler.status().message(), path)) {
      std::cerr << path << ": ";
    }
    *exit_code = Report(scheduler.status());
    // A deploy can settle a spec's change, never a newer landfall's state.
    if (pipeline != nullptr && absl::IsFailedPrecondition(scheduler.status()) &&
        !IsWrittenByNewerLandfall(scheduler.status())) {
      std::cerr << "choose with: landfall deploy " << args.spec << " --state "
                << path << " [--adopt TABLE] [--rebuild TABLE] [--force] "
                << "[--dry-run]\n";
    }
    return std::nullopt;
  }
  return OpenState{std::move(pipeline), *std::move(store),
                   *std::move(scheduler)};
}

void OnRun(CLI::App* cmd, int* exit_code, std::function<int()> action) {
  cmd->callback([exit_code, action] { *exit_code = action(); });
}

int Report(const absl::Status& status) {
  std::cerr << status.message() << "\n";
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return kExitRefused;
    default:
      return kExitUsage;
  }
}

int ReportUsage(const absl::Status& status) {
  std::cerr << status.message() << "\n";
  return kExitUsage;
}

absl::Status CheckTableFilter(const Pipeline& pipeline,
                              const std::string& table) {
  if (table.empty() || pipeline.FindTable(table)) return absl::OkStatus();
  std::vector<std::string> names;
  for (const Table& t : pipeline.tables()) names.push_back(t.name);
  return UnknownName("table", table, names);
}

absl::Status UnknownName(absl::string_view kind, const std::string& name,
                         const std::vector<std::string>& known) {
  return absl::NotFoundError(absl::StrCat("unknown ", kind, " \"", name, "\"",
                                          internal::DidYouMean(name, known)));
}

std::string SelfCommand() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "landfall";
  const char* path = getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty())) {
    const fs::path found = fs::path(std::string(dir)) / "landfall";
    if (access(found.c_str(), X_OK) != 0) continue;
    // The first one on PATH is the one a shell runs.
    if (fs::equivalent(found, self, ec)) return "landfall";
    break;
  }
  return ShellWord(self.string());
}

std::string ShellWord(const std::string& text) {
  const bool plain =
      !text.empty() && text.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                           "WXYZ0123456789_-+./:=@%,") == std::string::npos;
  if (plain) return text;
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

std::string TimeText(absl::Time t) {
  return t == absl::InfinitePast() ? "never" : internal::Rfc3339(t);
}

absl::StatusOr<absl::Time> ParseTime(const std::string& option,
                                     const std::string& text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, ": invalid time \"", text, "\" (expected RFC 3339): ", error));
  }
  return t;
}

absl::StatusOr<absl::Time> ParseTimeOrAgo(const std::string& option,
                                          const std::string& text) {
  absl::Duration ago;
  if (absl::ParseDuration(text, &ago) && ago >= absl::ZeroDuration() &&
      ago != absl::InfiniteDuration()) {
    return absl::Now() - ago;
  }
  if (absl::StatusOr<absl::Time> t = ParseTime(option, text); t.ok()) return t;
  return absl::InvalidArgumentError(
      absl::StrCat(option, ": invalid time \"", text,
                   "\" (expected RFC 3339, or a duration such as 5m or 2h "
                   "meaning that long ago)"));
}

std::string TaskName(const TaskKey& task) {
  return task.partition.empty() ? task.table
                                : absl::StrCat(task.table, "/", task.partition);
}

void ResolveUnpartitioned(const Pipeline& pipeline, const std::string& table,
                          std::string* partition) {
  std::optional<TableId> id = pipeline.FindTable(table);
  if (id && !pipeline.table(*id).partitioned && *partition == kUnpartitioned) {
    partition->clear();
  }
}

std::optional<OpenState> OpenForTask(const StateArgs& args, TaskKey* task,
                                     int* exit_code) {
  std::optional<OpenState> open = Open(args, exit_code);
  if (open) {
    ResolveUnpartitioned(open->scheduler->pipeline(), task->table,
                         &task->partition);
  }
  return open;
}

void OnTask(CLI::App* cmd, int* exit_code,
            std::function<int(const StateArgs& args, const TaskKey& task,
                              Scheduler& scheduler)>
                action,
            StateAccess access) {
  struct Args : StateArgs {
    TaskKey task;
  };
  auto args = std::make_shared<Args>();
  args->access = access;
  AddStateOptions(cmd, args.get());
  AddTaskArguments(cmd, &args->task);
  OnRun(cmd, exit_code, [args, exit_code, action] {
    std::optional<OpenState> open = OpenForTask(*args, &args->task, exit_code);
    if (!open) return *exit_code;
    return action(*args, args->task, *open->scheduler);
  });
}

void AddTaskArguments(CLI::App* cmd, TaskKey* task) {
  cmd->add_option("TABLE", task->table, "The table")->required();
  cmd->add_option("PARTITION", task->partition,
                  "The partition (none, or -, for an unpartitioned table)");
}

absl::StatusOr<int64_t> FirstEntryAtOrAfter(Scheduler& s, absl::Time t) {
  int64_t lo = 1, hi = s.LastSequence() + 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    // The first entry held at or after `mid` (earlier ones may be pruned).
    absl::StatusOr<std::vector<HistoryEntry>> e = s.ReadHistory(mid, 1);
    if (!e.ok()) return e.status();
    if (!e->empty() && (*e)[0].at < t) {
      lo = (*e)[0].seq + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

absl::StatusOr<std::vector<HistoryEntry>> ReadHistorySince(Scheduler& s,
                                                           absl::Time since) {
  constexpr size_t kBatch = 4096;
  absl::StatusOr<int64_t> next = since == absl::InfinitePast()
                                     ? absl::StatusOr<int64_t>(1)
                                     : FirstEntryAtOrAfter(s, since);
  if (!next.ok()) return next.status();
  std::vector<HistoryEntry> entries;
  while (true) {
    absl::StatusOr<std::vector<HistoryEntry>> batch =
        s.ReadHistory(*next, kBatch);
    if (!batch.ok()) return batch.status();
    for (HistoryEntry& h : *batch) {
      *next = h.seq + 1;
      if (h.at >= since) entries.push_back(std::move(h));
    }
    if (batch->size() < kBatch) return entries;
  }
}

absl::StatusOr<std::vector<HistoryEntry>> ReadStoreHistory(StateStore& store) {
  constexpr size_t kBatch = 4096;
  if (absl::Status s = store.Begin(StateStore::Access::kRead); !s.ok()) {
    return s;
  }
  std::vector<HistoryEntry> entries;
  std::vector<JournalEntry> batch;
  int64_t after = 0;
  do {
    batch.clear();
    absl::Status s = store.ReadEntries(after, kBatch, &batch);
    for (size_t i = 0; s.ok() && i < batch.size(); ++i) {
      absl::StatusOr<HistoryEntry> entry = FromJournal(batch[i]);
      if (entry.ok()) entries.push_back(*std::move(entry));
      s = entry.status();
      after = batch[i].seq();
    }
    if (!s.ok()) {
      store.Rollback();
      return s;
    }
  } while (batch.size() == kBatch);
  store.Rollback();  // Read only: nothing to commit.
  return entries;
}

std::string TaskCountsText(const TaskCounts& counts) {
  int total = 0;
  std::vector<std::string> parts;
  for (TaskState state : AllTaskStates()) {
    const int n = counts.Of(state);
    total += n;
    if (n > 0) parts.push_back(absl::StrCat(n, " ", TaskStateName(state)));
  }
  return absl::StrCat(internal::Counted(total, "task"),
                      parts.empty() ? "" : ": ", absl::StrJoin(parts, ", "));
}

}  // namespace landfall::cli
