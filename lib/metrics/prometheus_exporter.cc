// Prometheus: Metrics::Collect as prometheus-cpp's families, served by its
// exposer (civetweb) or written as text.
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "landfall/metrics.h"
#include "lib/metrics/host_port.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace landfall {
namespace {

prometheus::MetricType ToPrometheus(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return prometheus::MetricType::Counter;
    case MetricType::kGauge:
      return prometheus::MetricType::Gauge;
    case MetricType::kHistogram:
      return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

prometheus::ClientMetric ToPrometheus(const MetricFamily& family,
                                      const MetricSample& sample) {
  prometheus::ClientMetric m;
  for (const auto& [name, value] : sample.labels) {
    m.label.push_back({name, value});
  }
  switch (family.type) {
    case MetricType::kCounter:
      m.counter.value = sample.value;
      break;
    case MetricType::kGauge:
      m.gauge.value = sample.value;
      break;
    case MetricType::kHistogram:
      m.histogram.sample_count = sample.count;
      m.histogram.sample_sum = sample.sum;
      // The serializer adds le="+Inf" (sample_count) after the last bound.
      for (size_t i = 0; i < family.bounds.size(); ++i) {
        m.histogram.bucket.push_back({sample.buckets[i], family.bounds[i]});
      }
      break;
  }
  return m;
}

std::vector<prometheus::MetricFamily> ToPrometheus(
    const std::vector<MetricFamily>& families) {
  std::vector<prometheus::MetricFamily> out;
  for (const MetricFamily& f : families) {
    prometheus::MetricFamily p;
    p.name = f.name;
    p.help = f.help;
    p.type = ToPrometheus(f.type);
    for (const MetricSample& s : f.samples) {
      p.metric.push_back(ToPrometheus(f, s));
    }
    out.push_back(std::move(p));
  }
  return out;
}

// What the exposer asks at each scrape.
class Collector : public prometheus::Collectable {
 public:
  explicit Collector(Metrics* metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return ToPrometheus(metrics_->Collect());
  }

 private:
  Metrics* metrics_;
};

class Server : public MetricsServer {
 public:
  Server(std::unique_ptr<prometheus::Exposer> exposer,
         std::shared_ptr<Collector> collector)
      : exposer_(std::move(exposer)), collector_(std::move(collector)) {
    exposer_->RegisterCollectable(collector_);
  }
  int port() const override {
    const std::vector<int> ports = exposer_->GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
  }

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<Collector> collector_;
};

}  // namespace

std::string PrometheusText(const std::vector<MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(ToPrometheus(families));
}

MetricsServer::~MetricsServer() = default;

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    Metrics* metrics, const std::string& address) {
  if (absl::StatusOr<internal::HostPort> checked =
          internal::SplitHostPort("metrics", address, 0);
      !checked.ok()) {
    return checked.status();
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics address ", address,
                                               ": cannot listen: ", e.what()));
  }
  return std::make_unique<Server>(std::move(exposer),
                                  std::make_shared<Collector>(metrics));
}

}  // namespace landfall
