#include "examples/cli/serve/status_server.h"

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "examples/cli/serve/state_graph.h"
#include "examples/cli/serve/status_history.h"
#include "examples/cli/serve/status_json.h"
#include "examples/cli/serve/status_page.h"
#include "examples/cli/serve/status_view.h"
#include "examples/cli/serve/svg_render.h"

namespace landfall::cli {
namespace {

constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr char kJson[] = "application/json";
constexpr char kText[] = "text/plain; charset=utf-8";

// An integer query parameter, `fallback` when absent or not one.
int IntParam(const httplib::Request& req, const char* name, int fallback) {
  int value = fallback;
  if (req.has_param(name) &&
      !absl::SimpleAtoi(req.get_param_value(name), &value)) {
    return fallback;
  }
  return value;
}

int64_t Int64Param(const httplib::Request& req, const char* name) {
  int64_t value = 0;
  if (req.has_param(name)) {
    (void)absl::SimpleAtoi(req.get_param_value(name), &value);
  }
  return value;
}

PageQuery QueryOf(const httplib::Request& req) {
  PageQuery q;
  q.table = req.get_param_value("table");
  q.filter = req.get_param_value("q");
  q.depth = std::clamp(IntParam(req, "depth", 2), 0, 10);
  return q;
}

void Fail(httplib::Response& res, const absl::Status& status) {
  res.status = absl::IsNotFound(status)          ? 404
               : absl::IsInvalidArgument(status) ? 400
                                                 : 503;
  res.set_content(absl::StrCat(status.message(), "\n"), kText);
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(
    absl::string_view option, absl::string_view text) {
  const size_t colon = text.rfind(':');
  int port = -1;
  if (colon != absl::string_view::npos) {
    absl::string_view host = text.substr(0, colon);
    if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
      host = "";
    }
    if (!host.empty() && absl::SimpleAtoi(text.substr(colon + 1), &port) &&
        port >= 0 && port <= 65535) {
      return std::pair<std::string, int>(std::string(host), port);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(option,
                   ": expected HOST:PORT (for example 127.0.0.1:8080 "
                   "or [::1]:8080), got \"",
                   text, "\""));
}

absl::StatusOr<std::unique_ptr<StatusServer>> StartStatusServer(
    absl::string_view option, const std::string& listen,
    std::shared_ptr<Scheduler> scheduler) {
  StatusServerOptions options;
  if (!listen.empty()) {
    absl::StatusOr<std::pair<std::string, int>> address =
        ParseListenAddress(option, listen);
    if (!address.ok()) return address.status();
    options.host = address->first;
    options.port = address->second;
  }
  return StatusServer::Start(std::move(scheduler), std::move(options));
}

class StatusServer::Impl {
 public:
  Impl(std::shared_ptr<Scheduler> scheduler, StatusServerOptions options)
      : scheduler_(std::move(scheduler)), options_(std::move(options)) {}

  ~Impl() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  absl::Status Start() {
    const int threads = std::max(options_.threads, 1);
    server_.new_task_queue = [threads] {
      return new httplib::ThreadPool(threads);
    };
    // A client that stalls is dropped instead of holding a thread.
    server_.set_read_timeout(5);
    server_.set_write_timeout(5);
    server_.set_keep_alive_timeout(5);
    server_.set_payload_max_length(64 * 1024);
    // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second
    // server share a port in use instead of refusing it.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    Routes();
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host);
    } else if (server_.bind_to_port(options_.host, options_.port)) {
      port_ = options_.port;
    }
    if (port_ <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.host, ":", options_.port,
                       " (in use, or not an address of this host)"));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Stopping before the loop runs would miss it: wait until it does.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return absl::OkStatus();
  }

  int port() const { return port_; }
  const std::string& host() const { return options_.host; }

 private:
  void Routes() {
    Scheduler& s = *scheduler_;
    const PageOptions& page = options_.page;
    server_.Get(
        "/", [&s, &page](const httplib::Request& req, httplib::Response& res) {
          res.set_content(RenderPage(s, QueryOf(req), page), kHtml);
        });
    server_.Get("/part/live", [&s, &page](const httplib::Request& req,
                                          httplib::Response& res) {
      res.set_content(RenderLive(s, QueryOf(req), page), kHtml);
    });
    server_.Get("/part/tables", [&s, &page](const httplib::Request& req,
                                            httplib::Response& res) {
      res.set_content(RenderTables(s, QueryOf(req), page), kHtml);
    });
    server_.Get("/part/history",
                [&s](const httplib::Request& req, httplib::Response& res) {
                  absl::StatusOr<HistoryPage> h = ReadHistorySince(
                      s, Int64Param(req, "since"), req.get_param_value("table"),
                      kHistoryRowsShown);
                  if (!h.ok()) return Fail(res, h.status());
                  res.set_header("X-Next-Since", absl::StrCat(h->next_seq));
                  res.set_content(RenderHistoryRows(h->entries), kHtml);
                });
    server_.Get(
        "/api/summary", [&s](const httplib::Request&, httplib::Response& res) {
          res.set_content(SummaryJson(Summarize(s, absl::Now())), kJson);
        });
    server_.Get("/api/tables", [&s, &page](const httplib::Request& req,
                                           httplib::Response& res) {
      res.set_content(TablesJson(ListTables(s, req.get_param_value("q"),
                                            page.max_table_rows),
                                 s.pipeline()),
                      kJson);
    });
    server_.Get("/api/table",
                [&s](const httplib::Request& req, httplib::Response& res) {
                  absl::StatusOr<TableDetail> d =
                      DescribeTable(s, req.get_param_value("name"));
                  if (!d.ok()) return Fail(res, d.status());
                  res.set_content(TableDetailJson(*d, s.pipeline()), kJson);
                });
    server_.Get("/api/history", [&s](const httplib::Request& req,
                                     httplib::Response& res) {
      absl::StatusOr<HistoryPage> h = ReadHistorySince(
          s, Int64Param(req, "since"), req.get_param_value("table"),
          std::clamp(IntParam(req, "max", 1000), 1, kHistoryReadLimit));
      if (!h.ok()) return Fail(res, h.status());
      res.set_content(HistoryJson(*h), kJson);
    });
    for (const char* path : {"/graph.svg", "/graph.dot"}) {
      const bool svg = path[7] == 's';
      server_.Get(path, [this, &s, svg](const httplib::Request& req,
                                        httplib::Response& res) {
        const PageQuery q = QueryOf(req);
        StateGraphOptions graph;
        graph.focus = q.table;
        graph.depth = q.depth;
        graph.max_nodes = options_.page.max_graph_nodes;
        graph.link_prefix = "/?table=";
        absl::StatusOr<StateGraph> dot = StateGraphDot(s, graph);
        if (!dot.ok()) return Fail(res, dot.status());
        if (!svg) return res.set_content(dot->dot, "text/vnd.graphviz");
        absl::StatusOr<std::string> drawn =
            DotToSvg(options_.dot_command, dot->dot, options_.dot_timeout);
        if (!drawn.ok()) return Fail(res, drawn.status());
        res.set_content(*drawn, "image/svg+xml");
      });
    }
    // Read-only: every other method is refused before any body is read.
    server_.set_pre_routing_handler(
        [](const httplib::Request& req, httplib::Response& res) {
          if (req.method == "GET" || req.method == "HEAD") {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          res.status = 405;
          res.set_header("Allow", "GET, HEAD");
          res.set_content("read-only: only GET and HEAD\n", kText);
          return httplib::Server::HandlerResponse::Handled;
        });
    // Nothing of another origin runs in the page, nor embeds it (the page
    // embeds its own graph).
    server_.set_post_routing_handler([](const httplib::Request&,
                                        httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                     "style-src 'self' 'unsafe-inline'; frame-ancestors "
                     "'self'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Cache-Control", "no-store");
    });
  }

  std::shared_ptr<Scheduler> scheduler_;
  StatusServerOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(
    std::shared_ptr<Scheduler> scheduler, StatusServerOptions options) {
  if (scheduler == nullptr) {
    return absl::InvalidArgumentError("status server: no scheduler");
  }
  auto impl = std::make_unique<Impl>(std::move(scheduler), std::move(options));
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

StatusServer::StatusServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

StatusServer::~StatusServer() = default;

int StatusServer::port() const { return impl_->port(); }

std::string StatusServer::url() const {
  const std::string& host = impl_->host();
  const bool v6 = host.find(':') != std::string::npos;
  return absl::StrCat("http://", v6 ? "[" : "", host, v6 ? "]" : "", ":",
                      impl_->port(), "/");
}

}  // namespace landfall::cli
