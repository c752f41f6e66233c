// An Executor that builds tables in BigQuery over its REST API: each
// attempt runs its table's `sql` (Table::sql) as one query job, its
// placeholders bound as named STRING query parameters.
//
// Tested against a local server that follows BigQuery's documented REST
// protocol; not yet verified against the live service.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall {

struct BigQueryExecutorOptions {
  // The project that runs the jobs (and is billed). Required.
  std::string project;
  // Where the jobs run ("US", "asia-northeast1"); "" leaves it to
  // BigQuery (the location of the datasets the query reads). Default "".
  std::string location;
  // The REST API's base URL, without a trailing "/": a private endpoint,
  // or a test server. Default "https://bigquery.googleapis.com".
  std::string endpoint = "https://bigquery.googleapis.com";
  // Where the OAuth2 access token comes from, at most one set:
  // token_command runs with /bin/sh and prints the token (as
  // `gcloud auth print-access-token` does; taken to last an hour) or a
  // JSON object with access_token and expires_in; token_env names an
  // environment variable holding the token (taken to last an hour);
  // key_file is a service-account key (JSON) whose private_key signs an
  // RS256 JWT exchanged at its token_uri. None set: token_env
  // "GOOGLE_OAUTH_ACCESS_TOKEN". A token is used until five minutes before
  // it expires, and fetched again once when BigQuery answers 401.
  std::string token_command;
  std::string token_env;
  std::string key_file;
  // Starts every job id. Only [A-Za-z0-9_-], at most 100 characters.
  // Default "landfall".
  std::string job_id_prefix = "landfall";
  // Longest a job may run, sent as its jobTimeoutMs; past it (and a minute
  // more) the executor cancels it. A table's statement_timeout overrides
  // it. Default 6 hours.
  absl::Duration job_timeout = absl::Hours(6);
  // Waits between jobs.get polls: the first, doubled after each poll up to
  // the longest. Defaults 1 second and 15 seconds.
  absl::Duration poll_initial = absl::Seconds(1);
  absl::Duration poll_max = absl::Seconds(15);
  // Longest wait for one HTTP response. Default 60 seconds.
  absl::Duration request_timeout = absl::Seconds(60);
  // Longest a token_command may run. Past it, or when the attempt is
  // given up, the command and every process it started (its process
  // group) are killed, and the attempt fails retryable with a message
  // naming only the command's first word without an '=' (never its
  // environment, arguments or output). Default 30
  // seconds.
  absl::Duration token_timeout = absl::Seconds(30);
};

// The options a declared bigquery sink gives: project, location, endpoint,
// token source, job_timeout, and job_id_prefix (default "landfall_" and the
// pipeline's name with characters outside [A-Za-z0-9_-] as "_", cut to 100).
// InvalidArgument when `sink` is not a declared bigquery sink.
LANDFALL_EXPORT absl::StatusOr<BigQueryExecutorOptions> BigQuerySinkOptions(
    const Pipeline& pipeline, const std::string& sink);

// An executor for the tables of `pipeline` that have `sql` (it copies their
// scripts and timeouts: `pipeline` need not outlive it). The tables' sql
// must have been compiled for BigQuery (their sink a declared bigquery
// sink): one script per table, run as one query job (BigQuery runs a
// multi-statement script in one job; a failing statement fails the job).
//
// Per attempt: jobs.insert of a query job (useLegacySql false, parameter
// mode NAMED, each placeholder a STRING parameter: @partition, @table,
// @attempt, @input_NAME; cast where another type is needed), then jobs.get
// polls with backoff until its state is DONE. The job id is
// PREFIX_TABLE_PARTITION_aATTEMPT_HASH_RUN: TABLE and PARTITION with
// characters outside [A-Za-z0-9_-] as "_", HASH 16 hex digits of the exact
// table and partition (so that distinct keys never share an id), RUN 8 hex
// digits drawn when the executor is made (a fresh store numbers attempts
// from 1 again, and must not find the jobs of an earlier run); cut with
// its hash kept when longer than 1024. A jobs.insert whose response is
// lost (transport failure, 5xx, 429) is sent again with the same id, up to
// 3 times in all; a 409 then means the first one arrived, and the executor
// follows that job instead of running another.
//
// Outcomes: SUCCEEDED when the job is DONE without errorResult. RETRYABLE
// when its errorResult reason is backendError, internalError,
// rateLimitExceeded, jobBackendError, jobInternalError or
// jobRateLimitExceeded, when BigQuery or the token source cannot be
// reached or answers 5xx or 429 (after the resends above, or 5 failed polls
// in a row), or when the job outlives its timeout (it is cancelled). FATAL
// for any other reason (invalidQuery, notFound, accessDenied, ...), any
// other HTTP error, a token refused twice, a token source that is
// misconfigured, and a table without sql. Messages hold the job id, the
// reason and BigQuery's message; never a token or a key. A cancelled
// attempt sends jobs.cancel (best effort) and returns RETRYABLE.
// Thread-safe. InvalidArgument for a missing project, more than one token
// source, a bad job_id_prefix or endpoint, or a poll wait that is not
// positive.
LANDFALL_EXPORT absl::StatusOr<std::unique_ptr<Executor>> NewBigQueryExecutor(
    const Pipeline& pipeline, BigQueryExecutorOptions options);

}  // namespace landfall
