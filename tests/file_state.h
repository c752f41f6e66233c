// A file's bytes and modification time: what opening a store read-only
// must leave as they were.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

namespace landfall::testing {

struct FileState {
  std::string bytes;
  int64_t mtime_ns = -1;  // -1: the file cannot be stat'ed.
  bool operator==(const FileState& o) const {
    return bytes == o.bytes && mtime_ns == o.mtime_ns;
  }
};

inline FileState StateOf(const std::string& path) {
  FileState state;
  std::ifstream in(path, std::ios::binary);
  state.bytes.assign(std::istreambuf_iterator<char>(in), {});
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    state.mtime_ns =
        st.st_mtim.tv_sec * int64_t{1000000000} + st.st_mtim.tv_nsec;
  }
  return state;
}

// Sets the file's access and modification times an hour back, so that any
// later write shows in its time, and returns its state.
inline FileState AgedState(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    const struct timespec times[2] = {{st.st_atim.tv_sec - 3600, 0},
                                      {st.st_mtim.tv_sec - 3600, 0}};
    utimensat(AT_FDCWD, path.c_str(), times, 0);
  }
  return StateOf(path);
}

}  // namespace landfall::testing
