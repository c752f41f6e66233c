#include "landfall/landing_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "lib/core/stable_hash.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHashedBytes = 64 * 1024;
constexpr uint32_t kWatchMask =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF;

// The file's size and a hash of its first and last kHashedBytes: its
// identity, without reading a large file whole.
absl::StatusOr<std::string> Identity(const fs::path& path, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  std::string buffer(std::min<uint64_t>(size, kHashedBytes), '\0');
  in.read(buffer.data(), buffer.size());
  uint64_t hash = internal::Fnv1a64(
      std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  if (size > kHashedBytes) {
    in.seekg(static_cast<std::streamoff>(
        size - std::min<uint64_t>(size - kHashedBytes, kHashedBytes)));
    in.read(buffer.data(), buffer.size());
    hash = internal::Fnv1a64(
        std::string_view(buffer.data(), static_cast<size_t>(in.gcount())),
        hash);
  }
  return absl::StrFormat("%d:%016x", size, hash);
}

bool Skipped(const std::string& name) {
  return name.empty() || name[0] == '.' || absl::EndsWith(name, ".tmp");
}

class LandingSource : public Source {
 public:
  LandingSource(std::shared_ptr<const Pipeline> pipeline,
                LandingSourceOptions options)
      : pipeline_(std::move(pipeline)), options_(std::move(options)) {}
  ~LandingSource() override { Stop(); }

  absl::Status Start(Deliver deliver) override {
    std::error_code ec;
    if (!fs::is_directory(options_.root, ec)) {
      return absl::NotFoundError(
          absl::StrCat("landing directory ", options_.root, " does not exist"));
    }
    root_ = fs::canonical(options_.root, ec);
    deliver_ = std::move(deliver);
    inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    stop_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (inotify_ < 0 || stop_ < 0) {
      return absl::InternalError(absl::StrCat("cannot watch ", options_.root,
                                              ": ", std::strerror(errno)));
    }
    // Watch first, then scan: a file landing in between is seen twice at
    // worst, and the second is a duplicate.
    std::vector<Arrival> arrivals;
    Scan(&arrivals);
    DeliverAll(arrivals);
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  void Stop() override {
    if (thread_.joinable()) {
      const uint64_t one = 1;
      (void)!write(stop_, &one, sizeof(one));
      thread_.join();
    }
    if (inotify_ >= 0) close(inotify_);
    if (stop_ >= 0) close(stop_);
    inotify_ = stop_ = -1;
  }

 private:
  void Error(const absl::Status& status) {
    if (options_.on_error) options_.on_error(status);
  }

  // Watches ROOT and every directory under it, adding the files in place
  // that were not ingested already to `arrivals`.
  void Scan(std::vector<Arrival>* arrivals) {
    const size_t first = arrivals->size();
    WatchTree(root_, arrivals);
    if (!options_.ingested || arrivals->size() == first) return;
    const std::vector<bool> ingested =
        options_.ingested(absl::MakeConstSpan(*arrivals).subspan(first));
    size_t kept = first;
    for (size_t i = first; i < arrivals->size(); ++i) {
      const size_t n = i - first;
      if (n < ingested.size() && ingested[n]) continue;
      if (kept != i) (*arrivals)[kept] = std::move((*arrivals)[i]);
      ++kept;
    }
    arrivals->resize(kept);
  }

  // Watches `dir` and every directory under it, adding the files already
  // there to `arrivals` in path order.
  void WatchTree(const fs::path& dir, std::vector<Arrival>* arrivals) {
    const int wd = inotify_add_watch(inotify_, dir.c_str(), kWatchMask);
    if (wd < 0) {
      Error(absl::ResourceExhaustedError(absl::StrCat(
          "cannot watch ", dir.string(), ": ", std::strerror(errno))));
      return;
    }
    watched_[wd] = dir;
    std::error_code ec;
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      entries.push_back(entry.path());
    }
    std::sort(entries.begin(), entries.end());
    for (const fs::path& path : entries) {
      if (Skipped(path.filename().string())) continue;
      if (fs::is_directory(path, ec)) {
        WatchTree(path, arrivals);
      } else {
        AddArrival(path, arrivals);
      }
    }
  }

  void AddArrival(const fs::path& path, std::vector<Arrival>* arrivals) {
    const std::string relative = fs::relative(path, root_).string();
    std::vector<std::string> parts = absl::StrSplit(relative, '/');
    const auto table = pipeline_->FindTable(parts[0]);
    if (!table) {
      return Error(absl::InvalidArgumentError(absl::StrCat(
          path.string(), ": no table \"", parts[0], "\" in the pipeline")));
    }
    const bool partitioned = pipeline_->table(*table).partitioned;
    if (parts.size() < (partitioned ? 3u : 2u)) {
      return Error(absl::InvalidArgumentError(absl::StrCat(
          path.string(), ": table \"", parts[0], "\" is ",
          partitioned ? "partitioned: files go under <table>/<partition>/"
                      : "unpartitioned: files go under <table>/")));
    }
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return;  // Gone again.
    absl::StatusOr<std::string> identity = Identity(path, st.st_size);
    if (!identity.ok()) return Error(identity.status());
    Arrival& a = arrivals->emplace_back();
    a.set_event_id(absl::StrCat(relative, "#", *identity));
    a.set_table(parts[0]);
    if (partitioned) a.set_partition(parts[1]);
    a.set_origin(absl::StrCat("file://", path.string()));
    a.mutable_at()->set_seconds(st.st_mtim.tv_sec);
    a.mutable_at()->set_nanos(static_cast<int32_t>(st.st_mtim.tv_nsec));
  }

  // A batch is all-or-nothing: when one fails, each goes alone so that the
  // others still land.
  void DeliverAll(const std::vector<Arrival>& arrivals) {
    if (arrivals.empty() || deliver_(arrivals).ok()) return;
    for (const Arrival& a : arrivals) {
      if (absl::Status s = deliver_({a}); !s.ok()) Error(s);
    }
  }

  void Loop() {
    alignas(inotify_event) char buffer[64 * 1024];
    while (true) {
      pollfd fds[2] = {{inotify_, POLLIN, 0}, {stop_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return Error(absl::InternalError(absl::StrCat(
            "watching ", options_.root, ": ", std::strerror(errno))));
      }
      if (fds[1].revents != 0) return;
      std::vector<Arrival> arrivals;
      ssize_t n;
      while ((n = read(inotify_, buffer, sizeof(buffer))) > 0) {
        for (char* p = buffer; p < buffer + n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(p);
          p += sizeof(inotify_event) + event->len;
          Handle(*event, &arrivals);
        }
      }
      DeliverAll(arrivals);
    }
  }

  void Handle(const inotify_event& event, std::vector<Arrival>* arrivals) {
    if (event.mask & IN_Q_OVERFLOW) {
      // Events were lost: scan everything again.
      watched_.clear();
      return Scan(arrivals);
    }
    auto dir = watched_.find(event.wd);
    if (dir == watched_.end() || event.len == 0) {
      if (event.mask & IN_IGNORED) watched_.erase(event.wd);
      return;
    }
    const std::string name = event.name;
    if (Skipped(name)) return;
    const fs::path path = dir->second / name;
    if (event.mask & IN_ISDIR) {
      if (event.mask & (IN_CREATE | IN_MOVED_TO)) WatchTree(path, arrivals);
      return;
    }
    if (event.mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) AddArrival(path, arrivals);
  }

  std::shared_ptr<const Pipeline> pipeline_;
  LandingSourceOptions options_;
  fs::path root_;
  Deliver deliver_;
  int inotify_ = -1;
  int stop_ = -1;
  absl::flat_hash_map<int, fs::path> watched_;  // Only the thread's.
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Source>> NewLandingSource(
    std::shared_ptr<const Pipeline> pipeline, LandingSourceOptions options) {
  if (pipeline == nullptr) {
    return absl::InvalidArgumentError("landing source: no pipeline");
  }
  if (options.root.empty()) {
    return absl::InvalidArgumentError("landing source: no root directory");
  }
  return std::unique_ptr<Source>(
      std::make_unique<LandingSource>(std::move(pipeline), std::move(options)));
}

}  // namespace landfall
