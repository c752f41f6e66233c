// `landfall demo`: a day of loads of the recruit pipeline in a few seconds,
// in a temporary directory: files land (two services late, one delivered
// twice), shell-script loaders run them into "warehouses" (one fails
// retryably once), and a freshness table and a DOT graph of the final state
// close it. With --postgres the warehouse loads run their `sql` on that
// server instead, and the row counts of the tables they loaded close it.
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "examples/cli/commands.h"
#include "examples/cli/demo_postgres.h"
#include "examples/cli/run_command.h"
#include "examples/cli/serve/state_graph.h"
#include "examples/cli/state_file.h"

namespace landfall::cli {

extern const char kDemoSpec[];  // examples/recruit/pipeline.textproto

namespace {

namespace fs = std::filesystem;

constexpr char kPartition[] = "2018-11-03";
// The lake's days in the --postgres warehouse: the demo's and the one before.
constexpr char kDayBefore[] = "2018-11-02";

// A stand-in loader: takes a moment, as a COPY into a warehouse would; the
// first load of dwh.jalan_reservations meets a warehouse in maintenance.
constexpr char kLoader[] = R"(#!/bin/sh
# load.sh TABLE PARTITION ATTEMPT INPUTS
echo "loading $1 partition $2 (attempt $3) from $4"
if [ "$1" = dwh.jalan_reservations ] && [ "$3" = 1 ]; then
  echo "warehouse in maintenance, try again later" >&2
  exit 75
fi
sleep 0.2
echo "loaded $1"
)";

// When each source's file lands, in seconds after the start: services one
// after another, suumo and carsensor late.
double LandingDelay(const std::string& table) {
  if (table.rfind("suumo.", 0) == 0) return 3.0;
  if (table.rfind("carsensor.", 0) == 0) return 4.0;
  if (table.rfind("master.", 0) == 0) return 0.0;
  if (table.rfind("jalan.", 0) == 0) return 0.2;
  if (table.rfind("hotpepper.", 0) == 0) return 0.8;
  return 1.4;
}

void Land(const fs::path& landing, const Table& table) {
  fs::path dir = landing / table.name;
  if (table.partitioned) dir /= kPartition;
  fs::create_directories(dir);
  // Written aside, then renamed into place, as object stores deliver.
  std::ofstream(dir / ".part-0.tmp")
      << table.name << " rows of " << kPartition << "\n";
  fs::rename(dir / ".part-0.tmp", dir / "part-0.csv");
}

// The arrivals of the day, on their schedule, plus one duplicate delivery.
void LandTheDay(std::shared_ptr<const Pipeline> pipeline, fs::path landing,
                std::atomic<bool>* done) {
  std::multimap<double, const Table*> schedule;
  for (const Table& t : pipeline->tables()) {
    if (t.source) schedule.emplace(LandingDelay(t.name), &t);
  }
  const absl::Time start = absl::Now();
  auto wait_until = [&](double seconds) {
    absl::SleepFor(start + absl::Seconds(seconds) - absl::Now());
  };
  for (const auto& [delay, table] : schedule) {
    wait_until(delay);
    Land(landing, *table);
  }
  wait_until(4.5);  // jalan.reservations delivered a second time.
  Land(landing, pipeline->table(*pipeline->FindTable("jalan.reservations")));
  *done = true;
}

void PrintFreshness(const Pipeline& pipeline, Scheduler& scheduler) {
  std::map<std::string, int64_t> attempts;
  for (const TaskStatus& t : scheduler.List().tasks) {
    attempts[t.task.table] = t.attempt;
  }
  std::cout << absl::StrFormat("\n%-38s %-12s %-24s %s\n", "TABLE", "PARTITION",
                               "LOADED AT", "ATTEMPTS");
  for (const Table& t : pipeline.tables()) {
    absl::StatusOr<Freshness> f = scheduler.GetFreshness(t.name);
    if (!f.ok()) continue;
    std::cout << absl::StrFormat(
        "%-38s %-12s %-24s %s\n", t.name,
        t.partitioned ? f->latest_partition : kUnpartitioned,
        TimeText(absl::FromUnixSeconds(absl::ToUnixSeconds(f->last_update))),
        t.source ? "landed" : absl::StrCat(attempts[t.name]));
  }
}

}  // namespace

void AddDemoCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "A day of loads of the demo pipeline (examples/recruit) in a few "
      "seconds, in a temporary directory: files land in a landing directory, "
      "shell-script loaders load them, and a freshness table and a DOT graph "
      "of the final state close it");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("--dir", *dir,
                  "Work in this directory (default: a new one under /tmp)");
  auto postgres = std::make_shared<std::string>();
  auto schema = std::make_shared<std::string>(kDemoSchema);
  cmd->add_option("--postgres", *postgres,
                  "Run the warehouse loads' sql on this PostgreSQL server "
                  "(libpq URI or conninfo, without a password: PGPASSWORD or "
                  "PGPASSFILE give it), after loading its lake tables");
  cmd->add_option("--postgres-schema", *schema,
                  "The schema --postgres replaces the demo's tables in")
      ->capture_default_str();
  OnRun(cmd, exit_code, [dir, postgres, schema] {
    std::optional<DemoWarehouse> warehouse;
    if (!postgres->empty()) {
      absl::StatusOr<DemoWarehouse> w = NewDemoWarehouse(*postgres, *schema);
      if (!w.ok()) return ReportUsage(w.status());
      warehouse = *std::move(w);
    }
    std::string root = *dir;
    if (root.empty()) {
      char name[] = "/tmp/landfall-demo-XXXXXX";
      if (mkdtemp(name) == nullptr) {
        std::cerr << "cannot create a directory under /tmp\n";
        return kExitUsage;
      }
      root = name;
    }
    const fs::path base = fs::absolute(root);  // Hints work from anywhere.
    std::error_code ec;
    fs::create_directories(base / "landing", ec);
    PipelineSpec spec;
    absl::StatusOr<std::shared_ptr<const Pipeline>> recruit =
        Pipeline::FromText(kDemoSpec, SpecFormat::kTextProto,
                           "examples/recruit/pipeline.textproto");
    if (!recruit.ok()) return Report(recruit.status());
    // A day in seconds: retries back off by seconds, not minutes.
    spec = (*recruit)->spec();
    spec.mutable_defaults()->mutable_retry()->set_initial_backoff("2s");
    absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
        Pipeline::FromSpec(spec);
    if (!pipeline.ok()) return Report(pipeline.status());
    std::ofstream(base / "load.sh") << kLoader;

    std::cout << "landfall demo in " << base.string() << "\n"
              << "  landing directory  " << (base / "landing").string() << "\n"
              << "  state file         " << (base / "state.db").string()
              << "\n  attempt logs       " << (base / "logs").string() << "\n";
    if (warehouse) {
      std::cout << "  warehouse          " << warehouse->label << ", schema "
                << warehouse->schema << "\n";
      absl::Status created =
          CreateDemoTables(*warehouse, **pipeline, {kDayBefore, kPartition});
      if (!created.ok()) return Report(created);
    }
    std::cout << "\n";
    absl::StatusOr<std::shared_ptr<StateStore>> store =
        OpenStateStore("sqlite:" + (base / "state.db").string());
    if (!store.ok()) return Report(store.status());
    absl::StatusOr<std::unique_ptr<Scheduler>> opened =
        Scheduler::Open(*pipeline, *store);
    if (!opened.ok()) return Report(opened.status());
    std::shared_ptr<Scheduler> scheduler = *std::move(opened);

    std::atomic<bool> landed{false};
    RunArgs args;
    args.state = (base / "state.db").string();
    args.landing = (base / "landing").string();
    args.logs = (base / "logs").string();
    args.exec = absl::StrCat("/bin/sh ", (base / "load.sh").string(),
                             " {table} {partition} {attempt} {inputs}");
    args.exit_when_idle = "1s";
    args.grace = "10s";
    args.may_exit = [&landed] { return landed.load(); };
    absl::StatusOr<RunnerOptions> options = ExecutorOptions(args, **pipeline);
    if (!options.ok()) return ReportUsage(options.status());
    if (warehouse) {
      absl::Status bound =
          AddDemoWarehouseExecutors(*warehouse, **pipeline, &*options);
      if (!bound.ok()) return Report(bound);
    }
    std::thread landing(LandTheDay, *pipeline, base / "landing", &landed);
    const int code = Run(args, *std::move(options), *pipeline, scheduler);
    landing.join();
    if (code != kExitOk && code != kExitAlert) return code;

    PrintFreshness(**pipeline, *scheduler);
    if (warehouse) {
      if (absl::Status s = PrintRowCounts(*warehouse, **pipeline); !s.ok()) {
        return Report(s);
      }
    }
    const fs::path dot = base / "final-state.dot";
    absl::StatusOr<StateGraph> graph =
        StateGraphDot(*scheduler, StateGraphOptions());
    if (!graph.ok()) return Report(graph.status());
    std::ofstream(dot) << graph->dot;
    // Hints a user can paste as printed.
    std::cout << "\nThe final state as a graph: " << dot.string()
              << "\n  (render it with: dot -Tsvg " << ShellWord(dot.string())
              << " -o " << ShellWord((base / "final-state.svg").string())
              << ")\nLook around: " << SelfCommand() << " status --state "
              << ShellWord((base / "state.db").string()) << "\n";
    return code;
  });
}

}  // namespace landfall::cli
