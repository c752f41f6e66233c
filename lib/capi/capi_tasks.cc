// The C API's claimed tasks: claiming them, reading a task's fields, and
// the calls that act on one task (heartbeat, complete, explain, redrive...).
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "landfall/landfall.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "lib/capi/call.h"
#include "lib/capi/handles.h"
#include "lib/capi/records_json.h"
#include "lib/core/rfc3339.h"

namespace landfall::capi {

void Fill(const ClaimedTask& claimed, landfall_task_t* task) {
  task->table = claimed.task.table;
  task->partition = claimed.task.partition;
  task->attempt = claimed.attempt;
  task->pool = std::string(claimed.pool);
  task->priority_class = std::string(claimed.priority_class);
  task->sink = std::string(claimed.sink);
  task->lease_deadline = internal::Rfc3339(claimed.lease_deadline);
  task->inputs_json = InputsJson(claimed.inputs);
  task->origins.clear();
  task->origins_complete = true;
  for (const InputVersion& in : claimed.inputs) {
    task->origins.insert(task->origins.end(), in.origins.begin(),
                         in.origins.end());
    task->origins_complete = task->origins_complete && in.origins_complete;
  }
}

namespace {

TaskKey Key(const char* table, const char* partition) {
  return TaskKey{table, partition == nullptr ? "" : partition};
}

}  // namespace
}  // namespace landfall::capi

using landfall::capi::Call;
using landfall::capi::CopyResult;
using landfall::capi::Key;

extern "C" {

const char* landfall_task_table(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->table.c_str();
}
const char* landfall_task_partition(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->partition.c_str();
}
int64_t landfall_task_attempt(const landfall_task_t* t) {
  return t == nullptr ? 0 : t->attempt;
}
const char* landfall_task_pool(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->pool.c_str();
}
const char* landfall_task_class(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->priority_class.c_str();
}
const char* landfall_task_sink(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->sink.c_str();
}
const char* landfall_task_lease_deadline(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->lease_deadline.c_str();
}
const char* landfall_task_inputs_json(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->inputs_json.c_str();
}
size_t landfall_task_origin_count(const landfall_task_t* t) {
  return t == nullptr ? 0 : t->origins.size();
}
const char* landfall_task_origin(const landfall_task_t* t, size_t i) {
  return t == nullptr || i >= t->origins.size() ? nullptr
                                                : t->origins[i].c_str();
}
int landfall_task_origins_complete(const landfall_task_t* t) {
  return t != nullptr && t->origins_complete ? 1 : 0;
}
int landfall_task_cancelled(const landfall_task_t* t) {
  return t != nullptr && t->cancelled != nullptr && t->cancelled->load() ? 1
                                                                         : 0;
}

int landfall_claim(landfall_scheduler_t* s, const char* worker, int max,
                   const char* const* pools, size_t npools,
                   const char* const* classes, size_t nclasses,
                   landfall_claims_t** out, char** errmsg) {
  return Call(
      __func__, errmsg,
      {{"s", s},
       {"worker", worker},
       {"out", out},
       {"pools", npools == 0 ? "" : static_cast<const void*>(pools)},
       {"classes", nclasses == 0 ? "" : static_cast<const void*>(classes)}},
      [&] {
        landfall::ClaimFilter filter;
        const landfall::Pipeline& pipeline = s->scheduler().pipeline();
        // A NULL name is the caller's mistake, not an unknown name.
        auto add = [](const char* list_name, const char* noun,
                      const char* const* names, size_t n, const auto& known,
                      std::vector<std::string>* out) {
          for (size_t i = 0; i < n; ++i) {
            if (names[i] == nullptr) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "landfall_claim: ", list_name, "[", i, "] is NULL"));
            }
            if (!known(names[i])) {
              return absl::NotFoundError(absl::StrCat(
                  "landfall_claim: unknown ", noun, " \"", names[i], "\""));
            }
            out->emplace_back(names[i]);
          }
          return absl::OkStatus();
        };
        if (absl::Status bad = add(
                "pools", "pool", pools, npools,
                [&](const char* name) { return pipeline.FindPool(name); },
                &filter.pools);
            !bad.ok()) {
          return bad;
        }
        if (absl::Status bad = add(
                "classes", "priority class", classes, nclasses,
                [&](const char* name) {
                  return pipeline.FindPriorityClass(name);
                },
                &filter.classes);
            !bad.ok()) {
          return bad;
        }
        absl::StatusOr<std::vector<landfall::ClaimedTask>> claimed =
            s->scheduler().Claim(worker, max, filter);
        if (!claimed.ok()) return claimed.status();
        auto claims = std::make_unique<landfall_claims_t>();
        claims->tasks.resize(claimed->size());
        for (size_t i = 0; i < claimed->size(); ++i) {
          landfall::capi::Fill((*claimed)[i], &claims->tasks[i]);
        }
        *out = claims.release();
        return absl::OkStatus();
      });
}

size_t landfall_claims_count(const landfall_claims_t* c) {
  return c == nullptr ? 0 : c->tasks.size();
}

const landfall_task_t* landfall_claims_at(const landfall_claims_t* c,
                                          size_t i) {
  return c == nullptr || i >= c->tasks.size() ? nullptr : &c->tasks[i];
}

void landfall_claims_destroy(landfall_claims_t* c) { delete c; }

int landfall_heartbeat(landfall_scheduler_t* s, const char* table,
                       const char* partition, int64_t attempt, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    return s->scheduler().Heartbeat(Key(table, partition), attempt);
  });
}

int landfall_complete(landfall_scheduler_t* s, const char* table,
                      const char* partition, int64_t attempt, int outcome,
                      const char* message, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    if (!landfall::Outcome_IsValid(outcome)) {
      return absl::InvalidArgumentError(
          absl::StrCat("landfall_complete: unknown outcome ", outcome));
    }
    return s->scheduler().Complete(Key(table, partition), attempt,
                                   static_cast<landfall::Outcome>(outcome),
                                   message == nullptr ? "" : message);
  });
}

int landfall_explain(landfall_scheduler_t* s, const char* table,
                     const char* partition, char** text, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}, {"text", text}},
              [&] {
                absl::StatusOr<landfall::Explanation> explanation =
                    s->scheduler().Explain(Key(table, partition));
                if (!explanation.ok()) return explanation.status();
                *text = CopyResult(explanation->ToString());
                return absl::OkStatus();
              });
}

int landfall_redrive(landfall_scheduler_t* s, const char* table,
                     const char* partition, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}},
              [&] { return s->scheduler().Redrive(Key(table, partition)); });
}

int landfall_mark_succeeded(landfall_scheduler_t* s, const char* table,
                            const char* partition, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    return s->scheduler().MarkSucceeded(Key(table, partition));
  });
}

int landfall_rerun(landfall_scheduler_t* s, const char* table,
                   const char* partition, int with_descendants, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    return s->scheduler().Rerun(Key(table, partition), with_descendants != 0);
  });
}

}  // extern "C"
