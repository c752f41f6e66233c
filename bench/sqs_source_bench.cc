// The SQS source: arrivals per second from the emulator into a
// SQLite-backed scheduler, beside the same server's receive + delete
// throughput with no landfall work (a plain client loop), in the same run.
//
//   bash .ci/fauxqs start && eval "$(bash .ci/fauxqs env)"
//   build/release/bench/sqs_source_bench
//
// Each benchmark fills a queue of its own with kMessages S3 notifications
// (each of another object: 20 source tables, a partition per object) while
// the timer is paused, then drains it with `threads` receivers taking up to
// 10 messages per ReceiveMessage:
// BM_BareReceiveDelete/<threads>: ReceiveMessage, then DeleteMessageBatch
// of what it got, until the queue is empty.
// BM_SqsSourceIntoSqlite/<threads>: an SqsSource with that many receivers
// delivering into Scheduler::IngestBatch on a SQLite store (synchronous
// FULL, the default: each batch is a durable commit), until every message
// is deleted.
// Counter: messages_per_s (one arrival per message).
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "landfall/scheduler.h"
#include "landfall/sqs_source.h"
#include "landfall/state_store.h"
#include "lib/sources/sqs/sqs_client.h"

namespace landfall {
namespace {

constexpr int kMessages = 2000;
constexpr int kTables = 20;

std::string Endpoint() {
  const char* v = std::getenv("LANDFALL_TEST_SQS_ENDPOINT");
  return v != nullptr ? v : "";
}

internal::SqsClient Client() {
  setenv("AWS_ACCESS_KEY_ID", "AKIDLANDFALLBENCH", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "landfall-bench-secret-key", 1);
  setenv("AWS_REGION", "us-east-1", 1);
  internal::SqsClientConfig config =
      internal::ResolveSqsConfig(Endpoint() + "/000000000000/x", Endpoint(), "")
          .value();
  config.credentials = internal::LoadAwsCredentials().value();
  return internal::SqsClient(config);
}

std::string Spec() {
  std::string spec = "pool { name: \"wh\" slots: 8 }\n";
  for (int t = 0; t < kTables; ++t) {
    absl::StrAppend(&spec, "table { name: \"src", t, "\" source: true }\n",
                    "table { name: \"dwh", t, "\" upstream: \"src", t,
                    "\" pool: \"wh\" }\n");
  }
  return spec;
}

// A new queue holding kMessages notifications; its URL.
std::string FilledQueue(internal::SqsClient& client, const std::string& name) {
  const std::string url =
      client.CreateQueue(absl::StrCat(name, "-", getpid()), {}).value();
  std::vector<std::string> batch;
  for (int i = 0; i < kMessages; ++i) {
    const std::string key =
        absl::StrCat("src", i % kTables, "/p", i, "/part-0.parquet");
    batch.push_back(absl::StrCat(
        R"({"Records":[{"eventName":"ObjectCreated:Put",)",
        R"("eventTime":"2018-11-04T01:00:00.000Z","s3":{"bucket":)",
        R"({"name":"lake"},"object":{"key":")", key, R"(","sequencer":")", i,
        R"("}}}]})"));
    if (batch.size() == 10) {
      if (!client.SendBatch(url, batch).ok()) return "";
      batch.clear();
    }
  }
  return url;
}

void Report(benchmark::State& state, int64_t messages) {
  state.counters["messages_per_s"] = benchmark::Counter(
      static_cast<double>(messages), benchmark::Counter::kIsRate);
}

void BM_BareReceiveDelete(benchmark::State& state) {
  if (Endpoint().empty()) {
    state.SkipWithError("LANDFALL_TEST_SQS_ENDPOINT is not set");
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  int64_t total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    internal::SqsClient filler = Client();
    const std::string url = FilledQueue(filler, "bench-bare");
    state.ResumeTiming();
    std::atomic<int64_t> done{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        internal::SqsClient client = Client();
        while (done.load() < kMessages) {
          auto messages = client.Receive(url, 10, 0, 30);
          if (!messages.ok() || messages->empty()) continue;
          std::vector<std::string> handles;
          for (const auto& m : *messages) handles.push_back(m.receipt_handle);
          if (client.DeleteBatch(url, handles).ok()) {
            done += static_cast<int64_t>(handles.size());
          }
        }
      });
    }
    for (std::thread& w : workers) w.join();
    total += done.load();
  }
  Report(state, total);
}

void BM_SqsSourceIntoSqlite(benchmark::State& state) {
  if (Endpoint().empty()) {
    state.SkipWithError("LANDFALL_TEST_SQS_ENDPOINT is not set");
    return;
  }
  auto pipeline =
      Pipeline::FromText(Spec(), SpecFormat::kTextProto, "bench").value();
  int64_t total = 0;
  std::atomic<int64_t> commit_ns{0}, commits{0};
  for (auto _ : state) {
    state.PauseTiming();
    internal::SqsClient filler = Client();
    const std::string url = FilledQueue(filler, "bench-source");
    const std::filesystem::path db =
        std::filesystem::temp_directory_path() /
        absl::StrCat("landfall-sqs-bench-", getpid(), ".db");
    std::filesystem::remove(db);
    auto store = OpenStateStore("sqlite:" + db.string()).value();
    std::shared_ptr<Scheduler> scheduler =
        Scheduler::Open(pipeline, store).value();
    SqsSourceOptions options;
    options.queue_url = url;
    options.endpoint = Endpoint();
    options.receivers = static_cast<int>(state.range(0));
    options.wait_time_seconds = 1;
    auto source = NewSqsSource(pipeline, options).value();
    state.ResumeTiming();
    if (!source
             ->Start([&](std::vector<Arrival> arrivals) {
               const absl::Time start = absl::Now();
               absl::Status s = scheduler->IngestBatch(arrivals).status();
               commit_ns += absl::ToInt64Nanoseconds(absl::Now() - start);
               ++commits;
               return s;
             })
             .ok()) {
      state.SkipWithError("the source did not start");
      return;
    }
    while (source->stats().deleted < kMessages) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.PauseTiming();
    total += source->stats().arrivals;
    source->Stop();
    std::filesystem::remove(db);
    std::filesystem::remove(db.string() + "-wal");
    std::filesystem::remove(db.string() + "-shm");
    state.ResumeTiming();
  }
  Report(state, total);
  state.counters["commit_ms"] =
      commits.load() == 0 ? 0.0
                          : static_cast<double>(commit_ns.load()) / 1e6 /
                                static_cast<double>(commits.load());
  state.counters["per_commit"] =
      commits.load() == 0
          ? 0.0
          : static_cast<double>(total) / static_cast<double>(commits.load());
}

BENCHMARK(BM_BareReceiveDelete)
    ->Arg(1)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_SqsSourceIntoSqlite)
    ->Arg(1)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
