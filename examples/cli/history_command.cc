// `landfall history`: the journal, read back or followed, and pruned.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "lib/capi/records_json.h"
#include "lib/core/plural.h"
#include "lib/runtime/json_object.h"

namespace landfall::cli {
namespace {

using capi::EntryJson;
using internal::JsonObject;

struct HistoryArgs : StateArgs {
  std::string table, since, before;
  bool follow = false;
};

// Prints the entries from `*next_seq` on that pass the filters, advancing
// `*next_seq` past what it read; the error when the history cannot be read.
absl::Status PrintEntries(const HistoryArgs& args, absl::Time since,
                          Scheduler& s, int64_t* next_seq) {
  constexpr size_t kBatch = 4096;
  while (true) {
    absl::StatusOr<std::vector<HistoryEntry>> batch =
        s.ReadHistory(*next_seq, kBatch);
    if (!batch.ok()) {
      std::cout.flush();
      return batch.status();
    }
    for (const HistoryEntry& h : *batch) {
      *next_seq = h.seq + 1;
      if (h.at < since || (!args.table.empty() && h.table != args.table)) {
        continue;
      }
      std::cout << (args.json ? EntryJson(h) : h.ToString()) << "\n";
    }
    if (batch->size() < kBatch) break;
  }
  std::cout.flush();
  return absl::OkStatus();
}

int Prune(const HistoryArgs& args, int* exit_code) {
  absl::StatusOr<absl::Time> before = ParseTimeOrAgo("--before", args.before);
  if (!before.ok()) return ReportUsage(before.status());
  std::optional<OpenState> open = Open(args, exit_code);
  if (!open) return *exit_code;
  // A snapshot of the state now lets every older entry go.
  if (absl::Status s = open->scheduler->Checkpoint(); !s.ok()) return Report(s);
  absl::StatusOr<int64_t> first_kept =
      FirstEntryAtOrAfter(*open->scheduler, *before);
  if (!first_kept.ok()) return Report(first_kept.status());
  StateStore& store = *open->store;
  absl::Status status = store.Begin(StateStore::Access::kWrite);
  absl::StatusOr<int64_t> dropped = 0;
  if (status.ok()) {
    dropped = store.PruneHistory(*first_kept);
    status = dropped.ok() ? store.Commit() : dropped.status();
  }
  if (!status.ok()) {
    store.Rollback();
    return Report(status);
  }
  if (args.json) {
    std::cout << JsonObject().Int("pruned", *dropped).str() << "\n";
  } else {
    std::cout << "pruned " << internal::Counted(*dropped, "entry", "entries")
              << " before " << TimeText(*before) << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddHistoryCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "history",
      "Print the history, oldest first (one line per entry, or JSON with "
      "--json); `history prune --before TIME` drops older entries");
  cmd->fallthrough();
  auto args = std::make_shared<HistoryArgs>();
  AddStateOptions(cmd, args.get());
  cmd->add_option("--table", args->table, "Only this table's entries");
  cmd->add_option("--since", args->since,
                  "Only entries at or after TIME: RFC 3339, or a duration "
                  "such as 5m or 2h meaning that long before now");
  cmd->add_flag("--follow", args->follow,
                "Keep printing new entries as they are committed");
  CLI::App* prune = cmd->add_subcommand(
      "prune",
      "Drop entries older than TIME, but none the latest snapshot still "
      "needs");
  prune
      ->add_option("--before", args->before,
                   "RFC 3339 time, or a duration such as 720h meaning that "
                   "long before now")
      ->required();
  OnRun(prune, exit_code,
        [args, exit_code] { return Prune(*args, exit_code); });
  OnRun(cmd, exit_code, [cmd, args, exit_code] {
    if (cmd->got_subcommand("prune")) return *exit_code;
    absl::Time since = absl::InfinitePast();
    if (!args->since.empty()) {
      absl::StatusOr<absl::Time> t = ParseTimeOrAgo("--since", args->since);
      if (!t.ok()) return ReportUsage(t.status());
      since = *t;
    }
    args->access = StateAccess::kReadOnly;  // Not prune's.
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    if (absl::Status s =
            CheckTableFilter(open->scheduler->pipeline(), args->table);
        !s.ok()) {
      return Report(s);
    }
    absl::StatusOr<int64_t> next_seq =
        args->since.empty() ? 1 : FirstEntryAtOrAfter(*open->scheduler, since);
    if (!next_seq.ok()) return Report(next_seq.status());
    do {
      if (absl::Status s =
              PrintEntries(*args, since, *open->scheduler, &*next_seq);
          !s.ok()) {
        return Report(s);
      }
      if (args->follow) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    } while (args->follow);
    return kExitOk;
  });
}

}  // namespace landfall::cli
