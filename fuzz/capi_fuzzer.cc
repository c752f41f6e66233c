// Fuzzes sequences of C API calls on a scheduler over a "memory:" store
// running the fixed fuzz pipeline: each op is a byte choosing the call and
// then its arguments (FuzzReader framing), with names picked from the
// pipeline's or fuzzed, NULL where the header allows it, and tasks from the
// last claim. Checked after every call: the code is a documented one (no
// INTERNAL or UNKNOWN: an exception would have crossed the boundary) and
// the error message is set exactly when the call failed.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_pipeline.h"
#include "landfall/landfall.h"

namespace {

using landfall::fuzz::FuzzReader;

constexpr int kMaxOps = 64;
const char* const kTables[] = {"src", "dim",    "stage",  "mart",
                               "any", "report", "either", "below"};
const char* const kPartitions[] = {"2018-11-03", "2018-11-04", "2018-11-05"};
const char* const kStates[] = {"WAITING", "READY",  "RUNNING",   "DEAD",
                               "BLOCKED", "PAUSED", "SUCCEEDED", "EXPIRED"};
const char* const kClasses[] = {"etl", "adhoc"};
const char* const kPools[] = {"wh", "default"};

// Strings a call borrows, kept alive until the op ends.
class Args {
 public:
  explicit Args(FuzzReader& in) : in_(in) {}

  // One of `known`, a fuzzed string, or (when `nullable`) NULL.
  template <size_t N>
  const char* Pick(const char* const (&known)[N], bool nullable) {
    const uint8_t choice = in_.Int<uint8_t>();
    if (choice < N) return known[choice];
    if (nullable && choice == N) return nullptr;
    return Keep(in_.Bytes());
  }
  const char* Table() { return Pick(kTables, /*nullable=*/false); }
  const char* Partition() { return Pick(kPartitions, /*nullable=*/true); }
  const char* Text(bool nullable) {
    if (nullable && in_.Int<uint8_t>() == 0) return nullptr;
    return Keep(in_.Bytes());
  }

 private:
  const char* Keep(std::string s) {
    kept_.push_back(std::move(s));
    return kept_.back().c_str();
  }

  FuzzReader& in_;
  std::deque<std::string> kept_;  // A deque: c_str() stays valid.
};

// Aborts unless `code` is a documented result and `err` agrees with it.
void Check(int code, char** err) {
  if (code < LANDFALL_OK || code > LANDFALL_UNAUTHENTICATED ||
      code == LANDFALL_UNKNOWN || code == LANDFALL_INTERNAL) {
    __builtin_trap();
  }
  if (err != nullptr && ((code == LANDFALL_OK) != (*err == nullptr))) {
    __builtin_trap();
  }
  if (landfall_status_name(code) == nullptr) __builtin_trap();
}

// Frees what a call returned, checking it is set exactly on success.
void TakeOutput(int code, char* output) {
  if ((code == LANDFALL_OK) != (output != nullptr)) __builtin_trap();
  landfall_free(output);
}

void CountEntry(void* state, const char* json, size_t len) {
  if (json[len] != '\0') __builtin_trap();
  ++*static_cast<size_t*>(state);
}

class Session {
 public:
  Session(landfall_scheduler_t* s, FuzzReader& in) : s_(s), in_(in) {}
  ~Session() {
    landfall_claims_destroy(claims_);
    landfall_free(err_);
  }

  void Op() {
    Args a(in_);
    const uint8_t op = in_.Int<uint8_t>();
    // Messages pass from call to call (the header allows that) or are
    // not wanted.
    char** err = (op & 0x80) ? nullptr : &err_;
    char* out = nullptr;
    int code = LANDFALL_OK;
    switch (op & 0x7f) {
      case 0: {
        int duplicate = -1;
        const char* id = a.Text(false);
        const char* table = a.Table();
        const char* partition = a.Partition();
        const char* at = a.Text(true);
        code = landfall_ingest(s_, id, table, partition, at, a.Text(true),
                               &duplicate, err);
        if (code == LANDFALL_OK && duplicate != 0 && duplicate != 1) {
          __builtin_trap();
        }
        break;
      }
      case 1: {
        const std::string json = in_.Bytes();
        const bool want_results = in_.Int<uint8_t>() & 1;
        code = landfall_ingest_json(s_, json.data(), json.size(),
                                    want_results ? &out : nullptr, err);
        if (want_results) TakeOutput(code, out);
        break;
      }
      case 2: {
        landfall_claims_destroy(claims_);
        claims_ = nullptr;
        const char* pool[] = {a.Pick(kPools, true)};
        const char* cls[] = {a.Pick(kClasses, true)};
        const uint8_t filters = in_.Int<uint8_t>();
        const int max = in_.Int<int8_t>();
        code = landfall_claim(s_, a.Text(false), max, pool, filters & 1, cls,
                              (filters >> 1) & 1, &claims_, err);
        if ((code == LANDFALL_OK) != (claims_ != nullptr)) __builtin_trap();
        if (claims_ != nullptr && landfall_claims_count(claims_) >
                                      static_cast<size_t>(max > 0 ? max : 0)) {
          __builtin_trap();
        }
        break;
      }
      case 3:
      case 4: {
        const landfall_task_t* task =
            landfall_claims_at(claims_, in_.Int<uint8_t>());
        const char* table = task ? landfall_task_table(task) : a.Table();
        const char* partition =
            task ? landfall_task_partition(task) : a.Partition();
        const int64_t attempt =
            task ? landfall_task_attempt(task) : in_.Int<int64_t>();
        if ((op & 0x7f) == 3) {
          code = landfall_heartbeat(s_, table, partition, attempt, err);
        } else {
          const int outcome = in_.Int<int8_t>();
          code = landfall_complete(s_, table, partition, attempt, outcome,
                                   a.Text(true), err);
        }
        break;
      }
      case 5: {
        const int64_t from = in_.Int<int64_t>();
        const uint64_t max = in_.Int<uint64_t>();
        code = landfall_read_history(s_, from, static_cast<size_t>(max), &out,
                                     err);
        TakeOutput(code, out);
        break;
      }
      case 6: {
        const char* table = a.Pick(kTables, true);
        code = landfall_status(s_, table, a.Pick(kStates, true), &out, err);
        TakeOutput(code, out);
        break;
      }
      case 7: {
        const char* table = a.Table();
        code = landfall_explain(s_, table, a.Partition(), &out, err);
        TakeOutput(code, out);
        break;
      }
      case 8: {
        const char* table = a.Table();
        code = landfall_redrive(s_, table, a.Partition(), err);
        break;
      }
      case 9: {
        const char* table = a.Table();
        code = landfall_mark_succeeded(s_, table, a.Partition(), err);
        break;
      }
      case 10: {
        const char* table = a.Table();
        const char* partition = a.Partition();
        code = landfall_rerun(s_, table, partition, in_.Int<uint8_t>(), err);
        break;
      }
      case 11:
        code = landfall_pause_table(s_, a.Table(), err);
        break;
      case 12:
        code = landfall_resume_table(s_, a.Table(), err);
        break;
      case 13:
        code = landfall_pause_class(s_, a.Pick(kClasses, false), err);
        break;
      case 14:
        code = landfall_resume_class(s_, a.Pick(kClasses, false), err);
        break;
      case 15: {
        const int64_t from = in_.Int<int64_t>();
        code = landfall_subscribe(s_, from, CountEntry, &entries_seen_, nullptr,
                                  &subscription_, err);
        break;
      }
      case 16: {
        const uint64_t id =
            (in_.Int<uint8_t>() & 1) ? subscription_ : in_.Int<uint64_t>();
        code = landfall_unsubscribe(s_, id, err);
        break;
      }
      case 17:
        NullHandleCalls(a);
        return;
      default: {
        const int64_t last = landfall_last_sequence(s_);
        if (last < 0) __builtin_trap();
        return;
      }
    }
    Check(code, err);
  }

 private:
  // Calls on a NULL scheduler: INVALID_ARGUMENT (a required pointer), and
  // the calls documented to take NULL do nothing.
  void NullHandleCalls(Args& a) {
    const char* table = a.Table();
    const char* partition = a.Partition();
    const int codes[] = {
        landfall_ingest(nullptr, "e", table, partition, nullptr, nullptr,
                        nullptr, &err_),
        landfall_heartbeat(nullptr, table, partition, 1, &err_),
        landfall_complete(nullptr, table, partition, 1, LANDFALL_SUCCEEDED,
                          nullptr, &err_),
        landfall_pause_table(nullptr, table, &err_),
        landfall_heartbeat(s_, nullptr, partition, 1, &err_),
        landfall_complete(s_, nullptr, partition, 1, LANDFALL_SUCCEEDED,
                          nullptr, &err_),
        landfall_ingest(s_, nullptr, table, partition, nullptr, nullptr,
                        nullptr, &err_),
    };
    for (int code : codes) {
      if (code != LANDFALL_INVALID_ARGUMENT) __builtin_trap();
    }
    if (landfall_last_sequence(nullptr) != 0) __builtin_trap();
    if (landfall_pipeline_warnings(nullptr) != nullptr) __builtin_trap();
    if (landfall_task_table(nullptr) != nullptr) __builtin_trap();
    if (landfall_claims_count(nullptr) != 0) __builtin_trap();
    landfall_scheduler_close(nullptr);
    landfall_claims_destroy(nullptr);
  }

  landfall_scheduler_t* s_;
  FuzzReader& in_;
  char* err_ = nullptr;
  landfall_claims_t* claims_ = nullptr;
  uint64_t subscription_ = 0;
  size_t entries_seen_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzReader in(data, size);
  const std::string spec = landfall::fuzz::kFuzzSpec;
  landfall_scheduler_t* s = nullptr;
  char* err = nullptr;
  const int code = landfall_scheduler_open_text(
      spec.data(), spec.size(), "fuzz.textproto", "memory:", &s, &err);
  if (code != LANDFALL_OK) __builtin_trap();
  {
    Session session(s, in);
    for (int i = 0; i < kMaxOps && !in.empty(); ++i) session.Op();
  }
  landfall_scheduler_close(s);
  return 0;
}
