// SeenEvents: the event ids a scheduler remembers for deduplication, in the
// order to forget them.
//
// Each arrival's text is held once, in arrival order; the index over the ids
// holds 4-byte numbers of entries in that order, and hashes and compares
// through them, so that an id remembered costs its text and about 30 bytes.

#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "lib/core/entry.h"

namespace landfall::internal {

class SeenEvents {
 public:
  struct Seen {
    int64_t at_ns;
    std::shared_ptr<const EntryText> text;
  };

  // `first_number` numbers the first arrival added (tests start it near
  // 2^32 to check the wrap).
  explicit SeenEvents(uint32_t first_number = 0) : base_(first_number) {}
  // The index's functors point at this object.
  SeenEvents(const SeenEvents&) = delete;
  SeenEvents& operator=(const SeenEvents&) = delete;

  // The newest arrival remembered with id `id`, or null.
  const Seen* Find(absl::string_view id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &At(it->n);
  }
  // Remembers `text`'s event id as seen at `at_ns`, in place of any earlier
  // arrival with that id. Times must not decrease.
  void Add(int64_t at_ns, std::shared_ptr<const EntryText> text) {
    order_.push_back(Seen{at_ns, std::move(text)});
    const uint32_t n = base_ + static_cast<uint32_t>(order_.size() - 1);
    // One lookup: an id seen before keeps its place, with the new number.
    auto [it, added] = index_.insert(Number{n});
    if (!added) it->n = n;
  }
  // Forgets the arrivals seen before `horizon_ns`.
  void ForgetBefore(int64_t horizon_ns) {
    while (!order_.empty() && order_.front().at_ns < horizon_ns) {
      // Only if a later arrival with that id did not take its place.
      auto it = index_.find(absl::string_view(order_.front().text->event_id));
      if (it != index_.end() && it->n == base_) index_.erase(it);
      order_.pop_front();
      ++base_;
    }
  }
  // Every arrival remembered, oldest first, those a later one with the same
  // id replaced included (a snapshot keeps them all).
  const std::deque<Seen>& InOrder() const { return order_; }
  // Calls fn(id, seen) for each id remembered, in no particular order.
  template <typename Fn>
  void ForEachId(Fn fn) const {
    for (const Number& number : index_) fn(IdOf(number.n), At(number.n));
  }

 private:
  // Numbers count arrivals from the first one ever added, modulo 2^32; an
  // entry's place in order_ is its number minus base_'s.
  const Seen& At(uint32_t n) const { return order_[n - base_]; }
  absl::string_view IdOf(uint32_t n) const { return At(n).text->event_id; }

  // An entry of the index. Replacing n by the number of a later arrival
  // with the same id changes neither its hash nor its equality.
  struct Number {
    mutable uint32_t n;
  };
  struct IdOfNumber {
    using is_transparent = void;
    const SeenEvents* events;
    absl::string_view operator()(Number number) const {
      return events->IdOf(number.n);
    }
    absl::string_view operator()(absl::string_view id) const { return id; }
  };
  struct Hash : IdOfNumber {
    template <typename K>
    size_t operator()(const K& k) const {
      return absl::Hash<absl::string_view>{}(IdOfNumber::operator()(k));
    }
  };
  struct Eq : IdOfNumber {
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return IdOfNumber::operator()(a) == IdOfNumber::operator()(b);
    }
  };

  std::deque<Seen> order_;
  uint32_t base_ = 0;  // The number of order_.front().
  absl::flat_hash_set<Number, Hash, Eq> index_{0, Hash{{this}}, Eq{{this}}};
};

}  // namespace landfall::internal
