// The read-only status page over HTTP (`landfall serve`, `landfall run
// --status-listen`). It serves only GET and HEAD: any other method is 405,
// and nothing it serves changes the state.
//
//   /                   the page (?table=NAME&q=FILTER&depth=N)
//   /part/live          the page's summary and table in view, refreshed by it
//   /part/tables        the page's list of tables, likewise
//   /part/history       history rows after ?since=SEQ (&table=NAME)
//   /api/summary        pools, classes, tasks by state, dead letter (JSON)
//   /api/tables         tables (?q=FILTER), at most PageOptions' rows
//   /api/table?name=    one table: partitions, last arrival, explain
//   /api/history        ?since=SEQ&table=NAME&max=N
//   /graph.svg, /graph.dot   the state graph (?table=NAME&depth=N)
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "examples/cli/serve/status_page.h"
#include "landfall/scheduler.h"

namespace landfall::cli {

struct StatusServerOptions {
  // Where to listen. Default: loopback only. Port 0 takes a free one.
  std::string host = "127.0.0.1";
  int port = 8080;
  // Requests served at once; more wait for a thread. Default 4.
  int threads = 4;
  // Graphviz's dot, for /graph.svg. Default: "dot" on PATH.
  std::string dot_command = "dot";
  // A graph that dot has not drawn by then is an error. Default 10s.
  absl::Duration dot_timeout = absl::Seconds(10);
  PageOptions page;
};

// HOST:PORT (IPv6 as [ADDR]:PORT) into its parts; InvalidArgument naming
// `option` otherwise.
absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(
    absl::string_view option, absl::string_view text);

class StatusServer;

// StatusServer::Start at `listen` (HOST:PORT; empty for the default),
// as the CLI's options give it: InvalidArgument naming `option` for a
// bad address.
absl::StatusOr<std::unique_ptr<StatusServer>> StartStatusServer(
    absl::string_view option, const std::string& listen,
    std::shared_ptr<Scheduler> scheduler);

class StatusServer {
 public:
  // Listens and serves `scheduler` from a thread of its own until
  // destroyed. Every request reads the scheduler through its queries (one
  // opened read-only catches up on the store first), so a slow client holds
  // a server thread, never the scheduler. Unavailable when it cannot
  // listen at the address.
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(
      std::shared_ptr<Scheduler> scheduler, StatusServerOptions options);

  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;
  // Stops listening and waits for requests in flight.
  ~StatusServer();

  // The port it listens on (the one taken, for port 0).
  int port() const;
  // http://HOST:PORT/
  std::string url() const;

 private:
  class Impl;
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace landfall::cli
