// DogStatsD: Metrics sent to a Datadog agent over UDP, batched into
// datagrams on an interval, from a thread of its own.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "landfall/metrics.h"
#include "lib/metrics/host_port.h"

namespace landfall {
namespace {

// landfall_queue_wait_seconds is landfall.queue_wait_seconds; a counter
// loses its _total.
std::string StatsdName(const std::string& name, MetricType type) {
  std::string out = name;
  if (type == MetricType::kCounter) {
    out = std::string(absl::StripSuffix(out, "_total"));
  }
  if (absl::StartsWith(out, "landfall_")) out[8] = '.';
  return out;
}

// DogStatsD reserves '|', ',' and '#' (and ':' in names): replaced by '_'.
std::string TagText(std::string text) {
  for (char& c : text) {
    if (c == '|' || c == ',' || c == '#' || c == '\n') c = '_';
  }
  return text;
}

std::string Tags(const MetricLabels& labels,
                 const std::vector<std::string>& tags) {
  std::vector<std::string> all = tags;
  for (const auto& [k, v] : labels) {
    all.push_back(absl::StrCat(TagText(k), ":", TagText(v)));
  }
  return all.empty() ? "" : absl::StrCat("|#", absl::StrJoin(all, ","));
}

std::string Number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrCat(v);
}

// The series' key for a counter's last value.
std::string SeriesKey(const std::string& name, const MetricLabels& labels) {
  std::string key = name;
  for (const auto& [k, v] : labels) absl::StrAppend(&key, "\n", k, "=", v);
  return key;
}

class Exporter : public StatsdExporter {
 public:
  Exporter(Metrics* metrics, StatsdOptions options, int fd, sockaddr_storage to,
           socklen_t to_len)
      : metrics_(metrics),
        options_(std::move(options)),
        fd_(fd),
        to_(to),
        to_len_(to_len) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Exporter() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
    Flush();
    close(fd_);
  }

  void Flush() override {
    absl::MutexLock lock(&send_mu_);
    const std::vector<std::string> lines =
        StatsdLines(metrics_->Collect(), metrics_->TakeObservations(),
                    options_.tags, &previous_);
    std::string datagram;
    for (const std::string& line : lines) {
      if (!datagram.empty() &&
          datagram.size() + 1 + line.size() > options_.max_datagram) {
        Send(datagram);
        datagram.clear();
      }
      if (!datagram.empty()) datagram += '\n';
      datagram += line;
    }
    if (!datagram.empty()) Send(datagram);
  }

 private:
  void Loop() {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                               options_.interval)) {
        break;
      }
      mu_.Unlock();
      Flush();
      mu_.Lock();
    }
  }

  // Never waits: a full socket buffer drops the datagram.
  void Send(const std::string& datagram) {
    (void)sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&to_), to_len_);
  }

  Metrics* const metrics_;
  const StatsdOptions options_;
  const int fd_;
  const sockaddr_storage to_;
  const socklen_t to_len_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex send_mu_;  // One send at a time: previous_ is its state.
  std::vector<std::pair<std::string, double>> previous_
      ABSL_GUARDED_BY(send_mu_);
  std::thread thread_;
};

}  // namespace

std::vector<std::string> StatsdLines(
    const std::vector<MetricFamily>& families,
    const std::vector<MetricObservation>& observations,
    const std::vector<std::string>& tags,
    std::vector<std::pair<std::string, double>>* previous) {
  std::map<std::string, double> last(previous->begin(), previous->end());
  std::vector<std::string> lines;
  for (const MetricFamily& f : families) {
    if (f.type == MetricType::kHistogram) continue;  // Sent as observations.
    const std::string name = StatsdName(f.name, f.type);
    for (const MetricSample& s : f.samples) {
      if (f.type == MetricType::kGauge) {
        lines.push_back(absl::StrCat(name, ":", Number(s.value), "|g",
                                     Tags(s.labels, tags)));
        continue;
      }
      double& before = last[SeriesKey(f.name, s.labels)];
      const double delta = s.value - before;
      before = s.value;
      if (delta > 0) {
        lines.push_back(
            absl::StrCat(name, ":", Number(delta), "|c", Tags(s.labels, tags)));
      }
    }
  }
  for (const MetricObservation& o : observations) {
    lines.push_back(absl::StrCat(StatsdName(o.name, MetricType::kHistogram),
                                 ":", Number(o.value), "|h",
                                 Tags(o.labels, tags)));
  }
  previous->assign(last.begin(), last.end());
  return lines;
}

StatsdExporter::~StatsdExporter() = default;

absl::StatusOr<std::unique_ptr<StatsdExporter>> StatsdExporter::Start(
    Metrics* metrics, StatsdOptions options) {
  const std::string& address = options.address;
  absl::StatusOr<internal::HostPort> host_port =
      internal::SplitHostPort("statsd", address, 1);
  if (!host_port.ok()) return host_port.status();
  for (const std::string& tag : options.tags) {
    if (tag.empty() || tag.front() == ':' ||
        tag.find_first_of("|,#\n") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("statsd tag \"", tag, "\": expected key:value"));
    }
  }
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("statsd interval must be positive");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host_port->host.c_str(), host_port->port.c_str(),
                           &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("statsd address \"", address, "\": ", gai_strerror(rc)));
  }
  sockaddr_storage to{};
  std::memcpy(&to, found->ai_addr, found->ai_addrlen);
  const socklen_t to_len = found->ai_addrlen;
  const int family = found->ai_family;
  freeaddrinfo(found);
  const int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "statsd address ", address, ": socket: ", std::strerror(errno)));
  }
  return std::make_unique<Exporter>(metrics, std::move(options), fd, to,
                                    to_len);
}

}  // namespace landfall
