/* landfall.h: the stable C boundary of liblandfall, for C hosts and for
 * bindings (Python's ctypes, ...). The C++ API (scheduler.h, runner.h) has no
 * stable ABI; this header does, within a major version.
 *
 * Conventions (leveldb's c.h and libuv's errors):
 *  - Opaque handles only, each made by a create/open function and released by
 *    its destroy/close function. No struct layouts cross this boundary.
 *  - Calls that can fail return an int status: LANDFALL_OK (0) or one of the
 *    codes below, numbered as absl::StatusCode. landfall_status_name() names
 *    a code. The codes mean what absl's do: INVALID_ARGUMENT, fix the input;
 *    NOT_FOUND, no such table/partition/class; FAILED_PRECONDITION, fix the
 *    state first (a stale attempt, redriving a task that is not dead);
 *    UNAVAILABLE, retry the call (a store locked by another process).
 *  - Every such call ends with `char** errmsg`. It may be NULL (no message
 *    wanted). Otherwise *errmsg must be NULL or a message an earlier call
 *    left there, which is freed first; on return *errmsg is NULL after
 *    success, else a malloc'd NUL-terminated message naming what and where.
 *  - Memory the library returns (messages, JSON, text) is freed with the one
 *    function landfall_free(). Strings returned as `const char*` belong to
 *    the handle they came from and live as long as it does.
 *  - Strings passed in are NUL-terminated UTF-8 unless a length is given
 *    beside them (pointer + length: need not be NUL-terminated). A required
 *    pointer that is NULL makes the call return LANDFALL_INVALID_ARGUMENT;
 *    arguments documented "or NULL" are optional.
 *  - JSON returned is UTF-8 without NUL bytes: JSON lines are one object per
 *    line, each ending in '\n'. Times are RFC 3339 in UTC, null for never.
 *  - Callbacks take a `void* state` and a `destroy(state)` function (may be
 *    NULL) called once when the library drops the callback. When the call
 *    registering a callback fails, neither the callback nor `destroy` is
 *    ever called: `state` still belongs to the caller.
 *  - Every function may be called from any thread; a handle's functions are
 *    thread-safe unless said otherwise. No C++ exception crosses this
 *    boundary (one that would is LANDFALL_INTERNAL).
 */
#ifndef LANDFALL_LANDFALL_H_
#define LANDFALL_LANDFALL_H_

#include <stddef.h>
#include <stdint.h>

#include "landfall/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes, memory, version ---- */

enum {
  LANDFALL_OK = 0,
  LANDFALL_CANCELLED = 1,
  LANDFALL_UNKNOWN = 2,
  LANDFALL_INVALID_ARGUMENT = 3,
  LANDFALL_DEADLINE_EXCEEDED = 4,
  LANDFALL_NOT_FOUND = 5,
  LANDFALL_ALREADY_EXISTS = 6,
  LANDFALL_PERMISSION_DENIED = 7,
  LANDFALL_RESOURCE_EXHAUSTED = 8,
  LANDFALL_FAILED_PRECONDITION = 9,
  LANDFALL_ABORTED = 10,
  LANDFALL_OUT_OF_RANGE = 11,
  LANDFALL_UNIMPLEMENTED = 12,
  LANDFALL_INTERNAL = 13,
  LANDFALL_UNAVAILABLE = 14,
  LANDFALL_DATA_LOSS = 15,
  LANDFALL_UNAUTHENTICATED = 16
};

/* The code's name without the prefix ("OK", "INVALID_ARGUMENT", ...), or
 * "UNRECOGNIZED" for an int that is none of them. Static: do not free. */
LANDFALL_EXPORT const char* landfall_status_name(int code);

/* Frees memory the library returned. NULL is a no-op. */
LANDFALL_EXPORT void landfall_free(void* ptr);

/* The linked library's version, "MAJOR.MINOR.PATCH". Static: do not free. */
LANDFALL_EXPORT const char* landfall_version(void);

/* How an attempt ended; the values of records.proto's Outcome. */
enum {
  LANDFALL_SUCCEEDED = 0,
  LANDFALL_RETRYABLE = 1, /* Worth another attempt after a backoff. */
  LANDFALL_FATAL = 2,     /* Straight to the dead letter. */
  LANDFALL_LEASE_EXPIRED = 3
};

/* ---- Scheduler ---- */

typedef struct landfall_scheduler_t landfall_scheduler_t;

/* Opens a scheduler whose state lives in the store at `store_uri`:
 * "memory:" (a new store private to this scheduler), "sqlite:PATH" (a
 * file, created if missing, shareable with other processes) or a
 * PostgreSQL URI ("postgresql://...?schema=NAME", the schema and its tables
 * created if missing, shareable with other hosts). It runs the
 * pipeline spec in the file at `spec_path` (text format, JSON for a
 * ".json" name, YAML for a ".yaml" or ".yml" one); with `spec_path` NULL it
 * runs the spec the store holds, and creates no store (NOT_FOUND for a missing
 * file or schema, which is not made; FAILED_PRECONDITION for a store that holds
 * no spec). A store that runs another, compatible spec gets this one deployed.
 * On success *out holds the handle, to close with landfall_scheduler_close().
 * Errors: INVALID_ARGUMENT for a bad URI or spec (every problem, one per line
 * as file:line:column: message) or a directory as `spec_path`, NOT_FOUND for a
 * missing spec file, the store's errors (FAILED_PRECONDITION, DATA_LOSS,
 * UNAVAILABLE, ...). */
LANDFALL_EXPORT int landfall_scheduler_open(const char* spec_path,
                                            const char* store_uri,
                                            landfall_scheduler_t** out,
                                            char** errmsg);

/* As landfall_scheduler_open, with the spec given as text: `spec` holds
 * `spec_len` bytes. `spec_name` (or NULL) names it in error messages and, by
 * a ".json", ".yaml", ".yml" or ".textproto" ending, gives its format; else
 * it is JSON if it starts with '{' and text format otherwise. */
LANDFALL_EXPORT int landfall_scheduler_open_text(
    const char* spec, size_t spec_len, const char* spec_name,
    const char* store_uri, landfall_scheduler_t** out, char** errmsg);

/* Opens a scheduler on the existing store at `store_uri` ("sqlite:PATH" or
 * a PostgreSQL URI, as landfall_scheduler_open takes) to read it: it runs
 * the spec the store holds and never creates, migrates or writes the store.
 * Queries (status, explain, history, ...) work; every call that would write
 * (ingest, claim, complete, ...) returns PERMISSION_DENIED, changing
 * nothing. Errors: NOT_FOUND for a store that is missing (a file, a schema
 * without a store: neither is created), FAILED_PRECONDITION for a file or
 * schema that is not a landfall store, one that holds no pipeline yet, or
 * one written by a newer landfall, DATA_LOSS for a file that is not SQLite,
 * INVALID_ARGUMENT for "memory:" (always new and empty) or a bad URI. */
LANDFALL_EXPORT int landfall_scheduler_open_read_only(
    const char* store_uri, landfall_scheduler_t** out, char** errmsg);

/* Flags of landfall_deploy. */
#define LANDFALL_DEPLOY_FORCE 1   /* Remove tables with task states. */
#define LANDFALL_DEPLOY_DRY_RUN 2 /* Plan only; write nothing. */

/* Deploys the spec in the file at `spec_path` (read as by
 * landfall_scheduler_open) onto the scheduler's state. A table with task
 * states whose upstreams or trigger change must be named in `adopt` (keep
 * what was built, take its current inputs as consumed) or `rebuild` (every
 * partition due again): `nadopt` and `nrebuild` names, NULL with a count of
 * 0. `flags`: LANDFALL_DEPLOY_FORCE, LANDFALL_DEPLOY_DRY_RUN, or 0. On
 * success *plan (free with landfall_free) holds one JSON object:
 * {"dry_run","changed","summary","changes":[...],"made_ready":[{"table",
 * "partition"}]}. Errors: INVALID_ARGUMENT for a bad spec or a name that is
 * no derived table of it, NOT_FOUND for a missing spec file,
 * FAILED_PRECONDITION naming every table that needs a choice (nothing is
 * changed), the store's errors. */
LANDFALL_EXPORT int landfall_deploy(landfall_scheduler_t* s,
                                    const char* spec_path,
                                    const char* const* adopt, size_t nadopt,
                                    const char* const* rebuild, size_t nrebuild,
                                    int flags, char** plan, char** errmsg);

/* Releases the handle. Subscriptions still registered are dropped (their
 * destroy functions run). A runner made on the scheduler keeps it alive
 * until the runner is destroyed too. NULL is a no-op. */
LANDFALL_EXPORT void landfall_scheduler_close(landfall_scheduler_t* s);

/* The name of the pipeline it runs. Owned by the handle. */
LANDFALL_EXPORT const char* landfall_pipeline_name(landfall_scheduler_t* s);

/* The warnings of the spec it was opened with: what loads but likely is
 * not meant (a retry.initial_backoff above retry.max_backoff), one per line
 * as file:line:column: warning: message, each ending in '\n'; "" when
 * none. Owned by the handle; NULL for a NULL handle. */
LANDFALL_EXPORT const char* landfall_pipeline_warnings(landfall_scheduler_t* s);

/* Records one arrival: `table`, `partition` (NULL or "" for an
 * unpartitioned table) landed. `event_id` identifies the delivery: a repeat
 * within the retention window is a duplicate, recorded and otherwise
 * ignored. `at` (or NULL for the scheduler's clock) is when it landed, RFC
 * 3339; `origin` (or NULL) is free text saying where. *duplicate (when
 * `duplicate` is not NULL) is set to 1 for a duplicate, else 0. Attributes
 * can be given through landfall_ingest_json. INVALID_ARGUMENT, changing
 * nothing, for an empty event id, an unknown table, a bad time, or a
 * partition that does not fit the table. */
LANDFALL_EXPORT int landfall_ingest(landfall_scheduler_t* s,
                                    const char* event_id, const char* table,
                                    const char* partition, const char* at,
                                    const char* origin, int* duplicate,
                                    char** errmsg);

/* Records arrivals given as JSON (`json`, `json_len` bytes): an array of
 * Arrival objects, or JSON lines (one object per non-blank line), with the
 * fields of records.proto's Arrival: {"event_id":"e1","table":"t",
 * "partition":"2018-11-03","at":"2018-11-04T01:00:00Z","origin":"...",
 * "attributes":{"k":"v"}}. All are checked before any is recorded;
 * INVALID_ARGUMENT (recording nothing) names the first bad line or element.
 * When `results` is not NULL, *results receives JSON lines, one per arrival
 * in order: {"event_id":..,"duplicate":bool,"made_ready":[{"table":..,
 * "partition":..}]}; free it with landfall_free(). On failure *results is
 * NULL. */
LANDFALL_EXPORT int landfall_ingest_json(landfall_scheduler_t* s,
                                         const char* json, size_t json_len,
                                         char** results, char** errmsg);

/* A claimed task: one attempt of a task, as landfall_claim returns it or a
 * runner hands it to its executor. Its strings are owned by it. The
 * accessors return NULL (or 0) for a NULL task. */
typedef struct landfall_task_t landfall_task_t;

LANDFALL_EXPORT const char* landfall_task_table(const landfall_task_t* t);
/* "" for an unpartitioned table. */
LANDFALL_EXPORT const char* landfall_task_partition(const landfall_task_t* t);
/* The attempt number: hand it back to heartbeat and complete. */
LANDFALL_EXPORT int64_t landfall_task_attempt(const landfall_task_t* t);
LANDFALL_EXPORT const char* landfall_task_pool(const landfall_task_t* t);
LANDFALL_EXPORT const char* landfall_task_class(const landfall_task_t* t);
/* "" when the table names no sink. */
LANDFALL_EXPORT const char* landfall_task_sink(const landfall_task_t* t);
/* When the lease ends unless heartbeated, RFC 3339. */
LANDFALL_EXPORT const char* landfall_task_lease_deadline(
    const landfall_task_t* t);
/* The upstream versions the attempt consumes, as a JSON array of
 * {"table":..,"partition":..,"version":n,"origins":[..],
 * "origins_complete":bool}: "origins" are the origins of the arrivals on
 * that input newer than what the task last consumed, oldest first, and
 * "origins_complete" is false when that list is not known to be whole
 * (InputVersion in landfall/scheduler.h states the rules). */
LANDFALL_EXPORT const char* landfall_task_inputs_json(const landfall_task_t* t);
/* Every input's origins, input by input: how many, and the i-th (owned by
 * the task; NULL when i >= count). */
LANDFALL_EXPORT size_t landfall_task_origin_count(const landfall_task_t* t);
LANDFALL_EXPORT const char* landfall_task_origin(const landfall_task_t* t,
                                                 size_t i);
/* 1 when every input's "origins_complete" is true, else 0 (and 0 for a
 * NULL task): load the inputs whose lists are not whole in full. */
LANDFALL_EXPORT int landfall_task_origins_complete(const landfall_task_t* t);
/* 1 once a runner has given up on the attempt (stopped past its grace
 * period): its executor should return soon. Else 0. */
LANDFALL_EXPORT int landfall_task_cancelled(const landfall_task_t* t);

/* Tasks claimed together, in the order claimed. */
typedef struct landfall_claims_t landfall_claims_t;

/* Claims up to `max` ready tasks for `worker`, highest priority first, under
 * the pools' limits. `pools` (`npools` names) and `classes` (`nclasses`
 * names) restrict the claim when not empty (NULL with a count of 0).
 * *out receives the claimed tasks (possibly none), to destroy with
 * landfall_claims_destroy(). NOT_FOUND for a filter naming an unknown pool
 * or class, INVALID_ARGUMENT for a NULL name in it; errors otherwise only
 * from the store. */
LANDFALL_EXPORT int landfall_claim(landfall_scheduler_t* s, const char* worker,
                                   int max, const char* const* pools,
                                   size_t npools, const char* const* classes,
                                   size_t nclasses, landfall_claims_t** out,
                                   char** errmsg);
LANDFALL_EXPORT size_t landfall_claims_count(const landfall_claims_t* c);
/* The i-th task, owned by `c`; NULL when i >= count. */
LANDFALL_EXPORT const landfall_task_t* landfall_claims_at(
    const landfall_claims_t* c, size_t i);
/* NULL is a no-op. */
LANDFALL_EXPORT void landfall_claims_destroy(landfall_claims_t* c);

/* Extends the lease of `attempt` of task (table, partition). Partition NULL
 * or "" for an unpartitioned table. FAILED_PRECONDITION (changing nothing)
 * for a stale attempt or an ended lease; NOT_FOUND for an unknown task. */
LANDFALL_EXPORT int landfall_heartbeat(landfall_scheduler_t* s,
                                       const char* table, const char* partition,
                                       int64_t attempt, char** errmsg);

/* Records how `attempt` ended: `outcome` is a LANDFALL_SUCCEEDED, ...
 * value; `message` (or NULL) goes into the history. Errors as heartbeat,
 * and INVALID_ARGUMENT for an unknown outcome. */
LANDFALL_EXPORT int landfall_complete(landfall_scheduler_t* s,
                                      const char* table, const char* partition,
                                      int64_t attempt, int outcome,
                                      const char* message, char** errmsg);

/* Why a task is or is not running, as one line of text ("table/partition
 * STATE: reason; reason"), in *text (free with landfall_free). NOT_FOUND
 * for an unknown table. */
LANDFALL_EXPORT int landfall_explain(landfall_scheduler_t* s, const char* table,
                                     const char* partition, char** text,
                                     char** errmsg);

/* The tasks so far, as JSON lines in *json (free with landfall_free), in
 * table order then partition: {"table","partition","state","attempt",
 * "run_attempts","version","deadline","last_success","worker",
 * "last_error"}. `table` (or NULL: all) and `state` (or NULL: any; a name
 * as in the "state" field: WAITING, READY, RUNNING, RETRY_WAIT, DEAD,
 * BLOCKED, PAUSED, SUCCEEDED, EXPIRED) filter them. States are as of now:
 * an attempt whose lease ended is EXPIRED until the next write fails it.
 * NOT_FOUND for an unknown table, INVALID_ARGUMENT for an unknown state. */
LANDFALL_EXPORT int landfall_status(landfall_scheduler_t* s, const char* table,
                                    const char* state, char** json,
                                    char** errmsg);

/* The history entries with seq >= from_seq still held, at most `max`, as
 * JSON lines in *json (free with landfall_free; "" when none):
 * {"seq","at","kind", then what the kind carries: "table","partition",
 * "attempt","worker","event_id","origin","attributes","outcome","detail",
 * "until" (or "landed_at" for an arrival),"class","pool","slots",
 * "ready_at" (a claim: when its task became ready),"claim_seq" (the end of
 * an attempt: the seq of its claim)}. Sequence numbers start at 1 and have
 * no gaps. */
LANDFALL_EXPORT int landfall_read_history(landfall_scheduler_t* s,
                                          int64_t from_seq, size_t max,
                                          char** json, char** errmsg);

/* The sequence number of the last history entry (0 before any); 0 for a
 * NULL handle. */
LANDFALL_EXPORT int64_t landfall_last_sequence(landfall_scheduler_t* s);

/* Called with each history entry as one JSON object (the form of
 * landfall_read_history, without the newline): `json` holds `len` bytes
 * and a NUL after them, valid during the call. Calls for one subscription
 * are serialized and in sequence order, but may come from any thread that
 * calls into the scheduler (and, with a shared store, bring entries other
 * schedulers appended). REQUIRES: it returns quickly and calls no landfall
 * function (it runs under the scheduler's lock). */
typedef void (*landfall_entry_fn)(void* state, const char* json, size_t len);

/* Subscribes `on_entry` to the history from sequence number `from_seq`:
 * first the held entries with seq >= from_seq (on this thread, before the
 * call returns), then each new entry, without gaps or repeats. Use
 * landfall_last_sequence() + 1 to follow only what comes next. *id
 * receives the subscription's id for landfall_unsubscribe. */
LANDFALL_EXPORT int landfall_subscribe(landfall_scheduler_t* s,
                                       int64_t from_seq,
                                       landfall_entry_fn on_entry, void* state,
                                       void (*destroy)(void*), uint64_t* id,
                                       char** errmsg);

/* Ends a subscription: once it returns, `on_entry` is not called again and
 * `destroy(state)` has run. NOT_FOUND for an unknown id. */
LANDFALL_EXPORT int landfall_unsubscribe(landfall_scheduler_t* s, uint64_t id,
                                         char** errmsg);

/* Operations. NOT_FOUND for unknown tables, partitions or classes;
 * FAILED_PRECONDITION when the task is not in a state the operation takes.
 * Partition NULL or "" for an unpartitioned table. */
/* Puts a dead task back to work with a fresh retry budget. */
LANDFALL_EXPORT int landfall_redrive(landfall_scheduler_t* s, const char* table,
                                     const char* partition, char** errmsg);
/* Records a dead or waiting task as built by hand. */
LANDFALL_EXPORT int landfall_mark_succeeded(landfall_scheduler_t* s,
                                            const char* table,
                                            const char* partition,
                                            char** errmsg);
/* Builds the task again even if nothing is newer; `with_descendants`
 * nonzero also reruns the descendants the new version does not trigger. */
LANDFALL_EXPORT int landfall_rerun(landfall_scheduler_t* s, const char* table,
                                   const char* partition, int with_descendants,
                                   char** errmsg);
/* A paused table's (or class's) ready tasks are not claimed; running
 * attempts go on. Pausing twice is a no-op. */
LANDFALL_EXPORT int landfall_pause_table(landfall_scheduler_t* s,
                                         const char* table, char** errmsg);
LANDFALL_EXPORT int landfall_resume_table(landfall_scheduler_t* s,
                                          const char* table, char** errmsg);
LANDFALL_EXPORT int landfall_pause_class(landfall_scheduler_t* s,
                                         const char* priority_class,
                                         char** errmsg);
LANDFALL_EXPORT int landfall_resume_class(landfall_scheduler_t* s,
                                          const char* priority_class,
                                          char** errmsg);

/* ---- Runner: worker threads calling a C executor ---- */

/* Runs one attempt on a runner's worker thread, for different attempts at
 * once (it must be thread-safe), and returns its outcome (a LANDFALL_
 * outcome; any other value is recorded as FATAL). `message` is a buffer of
 * `message_size` bytes, empty on entry, for a NUL-terminated message the
 * history keeps (the error, a log path). `task` is valid during the call;
 * when landfall_task_cancelled(task) turns 1, return soon: the result is
 * then not recorded. The callback may call landfall functions. */
typedef int (*landfall_executor_fn)(void* state, const landfall_task_t* task,
                                    char* message, size_t message_size);

typedef struct landfall_runner_options_t landfall_runner_options_t;

/* Options with their defaults; destroy with landfall_runner_options_destroy
 * (NULL is a no-op). Setters on a NULL handle do nothing. */
LANDFALL_EXPORT landfall_runner_options_t* landfall_runner_options_create(void);
LANDFALL_EXPORT void landfall_runner_options_destroy(
    landfall_runner_options_t* o);
/* Who claims, as the history names it. Default "HOST:PID". */
LANDFALL_EXPORT void landfall_runner_options_set_worker(
    landfall_runner_options_t* o, const char* worker);
/* The most workers a runner takes: each is a thread. */
#define LANDFALL_MAX_WORKERS 1024
/* At most this many attempts at once, each on its own thread. Default 64;
 * must be 1 to LANDFALL_MAX_WORKERS. */
LANDFALL_EXPORT void landfall_runner_options_set_max_workers(
    landfall_runner_options_t* o, int max_workers);
/* Longest sleep with nothing to do. Default 1000 ms; must be positive. */
LANDFALL_EXPORT void landfall_runner_options_set_idle_poll_ms(
    landfall_runner_options_t* o, int64_t ms);

/* Whether the runner builds the tables of the spec's postgres and bigquery
 * sinks itself (AddSinkExecutors in sink_executors.h). A postgres sink gets
 * a pool of libpq connections capped by the slots of the pools its tables
 * use, and runs each table's sql in one transaction with its placeholders
 * bound as text (postgres_executor.h). A bigquery sink runs each table's
 * sql as one query job over BigQuery's REST API, its placeholders bound as
 * named STRING parameters, with the token source the spec names
 * (bigquery_executor.h). The executor callback runs every other table.
 * Default 0. */
LANDFALL_EXPORT void landfall_runner_options_set_spec_sinks(
    landfall_runner_options_t* o, int enabled);
/* Replaces the conninfo the spec gives postgres sink `sink` (a host's own,
 * which may hold a password: specs may not). Checked against the spec by
 * landfall_runner_create: a name that is not a postgres sink of it is
 * INVALID_ARGUMENT there. Needs landfall_runner_options_set_spec_sinks. */
LANDFALL_EXPORT void landfall_runner_options_set_sink_conninfo(
    landfall_runner_options_t* o, const char* sink, const char* conninfo);
/* Metrics (landfall/metrics.h) of the scheduler's entries from the runner's
 * creation on: served in the Prometheus text format at
 * http://ADDRESS/metrics ("HOST:PORT"; port 0 picks a free one, see
 * landfall_runner_metrics_port). An address that cannot be bound fails
 * landfall_runner_create (UNAVAILABLE; INVALID_ARGUMENT without a port).
 * One runner per scheduler may have metrics. Default: none. */
LANDFALL_EXPORT void landfall_runner_options_set_metrics_listen(
    landfall_runner_options_t* o, const char* address);
/* As above, sent as DogStatsD over UDP to `address` ("HOST:PORT") every
 * 10 s and when the runner is destroyed, with `tags` ("key:value,...", or
 * null) on every line. Bad tags fail landfall_runner_create. */
LANDFALL_EXPORT void landfall_runner_options_set_statsd(
    landfall_runner_options_t* o, const char* address, const char* tags);

/* Alerts (alerts.h, notifier.h): the runner POSTs each alert as JSON with
 * a "text" field (a Slack incoming webhook renders it) to every URL added,
 * from a thread of its own, with retries, deduplication and a rate limit;
 * it alerts on dead tasks, freshness (max_lag, deadline), queue wait and
 * an unreachable store. A URL is a secret: messages name only its scheme
 * and host. Checked by landfall_runner_create: INVALID_ARGUMENT for one
 * that is not http:// or https://. Default: none. */
LANDFALL_EXPORT void landfall_runner_options_add_alert_webhook(
    landfall_runner_options_t* o, const char* url);
/* As above, the URL read by landfall_runner_create from the environment
 * variable `name` or the file at `path` (WebhookUrlFromEnv,
 * WebhookUrlFromFile: trimmed; a secret kept out of argv and code). An
 * unset or empty variable, a file that cannot be read or is empty, or a
 * value that is no http(s) URL fails landfall_runner_create with a message
 * naming the variable or file, never the value. */
LANDFALL_EXPORT void landfall_runner_options_add_alert_webhook_env(
    landfall_runner_options_t* o, const char* name);
LANDFALL_EXPORT void landfall_runner_options_add_alert_webhook_file(
    landfall_runner_options_t* o, const char* path);
/* With a webhook: a pool whose oldest READY task has waited longer than
 * this alerts. Default: never (0 or less). */
LANDFALL_EXPORT void landfall_runner_options_set_alert_queue_wait_ms(
    landfall_runner_options_t* o, int64_t ms);
/* With a webhook: how often the alert rules are checked. Default 30000;
 * must be positive. */
LANDFALL_EXPORT void landfall_runner_options_set_alert_check_interval_ms(
    landfall_runner_options_t* o, int64_t ms);

typedef struct landfall_runner_t landfall_runner_t;

/* A runner over `s` (kept alive until the runner is destroyed) that runs
 * every attempt with `run` (but those of spec sinks, when the options say
 * so). `options` (or NULL for the defaults) is copied.
 * Nothing runs before landfall_runner_start. `destroy(state)` runs when the
 * runner is destroyed, after the last call of `run`. INVALID_ARGUMENT for
 * a NULL `run`, max_workers outside 1 to LANDFALL_MAX_WORKERS or an idle
 * poll that is not positive: then neither `run` nor `destroy` is ever
 * called. */
LANDFALL_EXPORT int landfall_runner_create(
    landfall_scheduler_t* s, const landfall_runner_options_t* options,
    landfall_executor_fn run, void* state, void (*destroy)(void*),
    landfall_runner_t** out, char** errmsg);

/* Starts the worker threads (one group per pool used) and the heartbeats.
 * FAILED_PRECONDITION when started before. */
LANDFALL_EXPORT int landfall_runner_start(landfall_runner_t* r, char** errmsg);
/* The port the runner's metrics are served on, or 0 without
 * landfall_runner_options_set_metrics_listen. */
LANDFALL_EXPORT int landfall_runner_metrics_port(landfall_runner_t* r);

/* Adds an Amazon SQS queue (or a server speaking its JSON protocol) as a
 * source of `r`'s arrivals, as landfall/sqs_source.h describes: S3 event
 * notifications (also through SNS) and landfall arrivals as JSON; a
 * message is deleted only once its arrivals are committed; a message not
 * understood is left to the queue's redrive policy. `endpoint`, `region`
 * and `key_rule` may be NULL (or "") for their defaults: the
 * AWS_ENDPOINT_URL_SQS variable or the queue URL's host, AWS_REGION or
 * AWS_DEFAULT_REGION, and "{table}/{partition}". Credentials come from
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else from
 * the shared credentials file's profile, as landfall/sqs_source.h says.
 * INVALID_ARGUMENT for a NULL or malformed queue URL or a bad key rule,
 * FAILED_PRECONDITION without credentials or on a runner already started.
 * The queue is first asked by landfall_runner_start: NOT_FOUND when it
 * does not exist, naming it. With metrics (set_metrics_listen,
 * set_statsd), the queue's depth and the age of its oldest message are
 * read every 30 s (SqsSourceOptions::metrics). */
LANDFALL_EXPORT int landfall_runner_add_sqs_source(
    landfall_runner_t* r, const char* queue_url, const char* endpoint,
    const char* region, const char* key_rule, char** errmsg);

/* Wakes the workers now: call it after ingesting, so that the work made
 * ready starts without waiting for the idle poll. */
LANDFALL_EXPORT void landfall_runner_notify(landfall_runner_t* r);

/* Stops claiming, waits up to `grace_ms` for running attempts to end
 * (recording them), then cancels the rest and leaves them to lease expiry.
 * Returns when every worker has exited. Idempotent. */
LANDFALL_EXPORT void landfall_runner_stop(landfall_runner_t* r,
                                          int64_t grace_ms);

/* Counts so far; any pointer may be NULL. `failed` counts RETRYABLE and
 * FATAL outcomes. */
LANDFALL_EXPORT void landfall_runner_stats(landfall_runner_t* r,
                                           int64_t* claimed, int64_t* succeeded,
                                           int64_t* failed, int64_t* abandoned,
                                           int* running);

/* The states a task can be in, as landfall_status names them. */
enum {
  LANDFALL_TASK_WAITING = 0,    /* Not due. */
  LANDFALL_TASK_READY = 1,      /* Due, waiting to be claimed. */
  LANDFALL_TASK_RUNNING = 2,    /* An attempt holds a lease. */
  LANDFALL_TASK_RETRY_WAIT = 3, /* Backing off after a failure. */
  LANDFALL_TASK_DEAD = 4,       /* In the dead letter. */
  LANDFALL_TASK_BLOCKED = 5,    /* Needs a dead task's output. */
  LANDFALL_TASK_PAUSED = 6,     /* Due, but its table or class is paused. */
  LANDFALL_TASK_SUCCEEDED = 7,  /* Built, and no input is newer. */
  LANDFALL_TASK_EXPIRED = 8     /* Its lease ended; the next write fails it. */
};

/* What landfall_runner_wait_idle saw when it returned. */
typedef struct landfall_run_summary_t landfall_run_summary_t;

/* Waits until the pipeline has been idle for `quiet_ms`, or until
 * `timeout_ms` has passed (a negative `timeout_ms` waits without end).
 * Idle means no task of the scheduler READY, RUNNING, RETRY_WAIT or EXPIRED
 * (whoever runs it) and no attempt of this runner under way. Quiet time
 * counts from the last moment the runner saw work: its start, a notify, an
 * attempt claimed or finished, or a check finding the pipeline busy. A call
 * checks at once, then every idle poll and whenever an attempt finishes: a
 * `timeout_ms` of 0 checks once, and short calls in turn add up to one long
 * one. On a runner not started, or stopped, it checks once. *out receives
 * the summary, to destroy with landfall_run_summary_destroy().
 * INVALID_ARGUMENT for a negative `quiet_ms`. */
LANDFALL_EXPORT int landfall_runner_wait_idle(landfall_runner_t* r,
                                              int64_t quiet_ms,
                                              int64_t timeout_ms,
                                              landfall_run_summary_t** out,
                                              char** errmsg);
/* 1 when the pipeline had been idle for the quiet time, 0 when the wait
 * ended first (timeout, or a runner stopped). 0 for NULL. */
LANDFALL_EXPORT int landfall_run_summary_idle(const landfall_run_summary_t* s);
/* The scheduler's tasks in `state` (a LANDFALL_TASK_ value) when the wait
 * returned; 0 for another value or NULL. */
LANDFALL_EXPORT int64_t
landfall_run_summary_tasks(const landfall_run_summary_t* s, int state);
/* The runner's attempts so far that ended with `outcome`:
 * LANDFALL_SUCCEEDED; LANDFALL_RETRYABLE, any outcome but SUCCEEDED or
 * FATAL; LANDFALL_FATAL; LANDFALL_LEASE_EXPIRED, those it abandoned to
 * lease expiry. 0 for another value or NULL. */
LANDFALL_EXPORT int64_t
landfall_run_summary_attempts(const landfall_run_summary_t* s, int outcome);
/* NULL is a no-op. */
LANDFALL_EXPORT void landfall_run_summary_destroy(landfall_run_summary_t* s);

/* Stops with no grace period if still running, then releases the runner
 * and calls the executor's destroy. NULL is a no-op. */
LANDFALL_EXPORT void landfall_runner_destroy(landfall_runner_t* r);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LANDFALL_LANDFALL_H_ */
