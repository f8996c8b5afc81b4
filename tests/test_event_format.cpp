// SPDX-License-Identifier: MIT
// An Event as one log line (format.hpp): the line of every kind, durations as people write them.
#include "support.hpp"

#include <ikeguard/format.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

// An event about 198.51.100.7:500 at t=100s, with nothing else set.
Event event(EventKind kind, Direction direction = Direction::none) {
  Event e;
  e.kind = kind;
  e.direction = direction;
  e.peer = peer("198.51.100.7");
  e.at = at(100s);
  e.until = e.at;
  return e;
}

// The same, carrying an IKEv2 notify of `type`.
Event with_notice(Event e, std::uint16_t type, IkeVersion version = IkeVersion::v2) {
  e.has_notice = true;
  e.version = version;
  e.notify_type = type;
  e.notify_class = NotifyTable{}.classify(version, type);
  return e;
}

// A window that ends `length` after the event.
Event open_for(Event e, Duration length) {
  e.until = e.at + length;
  e.remaining = length;
  return e;
}

std::string line(const Event& e) { return fmt::format("{}", e); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Durations

TEST_CASE("durations format the way people write them") {
  using std::chrono::hours;
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  using std::chrono::nanoseconds;
  CHECK(fmt::format("{}", human(Duration::zero())) == "0s");
  CHECK(fmt::format("{}", human(nanoseconds(40))) == "40ns");
  CHECK(fmt::format("{}", human(microseconds(250))) == "250us");
  CHECK(fmt::format("{}", human(milliseconds(850))) == "850ms");
  CHECK(fmt::format("{}", human(milliseconds(1500))) == "1.5s");
  CHECK(fmt::format("{}", human(milliseconds(1250))) == "1.25s");
  CHECK(fmt::format("{}", human(milliseconds(1005))) == "1.005s");
  CHECK(fmt::format("{}", human(std::chrono::seconds(30))) == "30s");
  CHECK(fmt::format("{}", human(std::chrono::seconds(60))) == "1m");
  CHECK(fmt::format("{}", human(std::chrono::seconds(150))) == "2m30s");
  CHECK(fmt::format("{}", human(milliseconds(65432))) == "1m5.432s");
  CHECK(fmt::format("{}", human(minutes(65))) == "1h5m");
  CHECK(fmt::format("{}", human(hours(48) + std::chrono::seconds(1))) == "48h1s");
  CHECK(fmt::format("{}", human(std::chrono::seconds(-2))) == "-2s");
}

TEST_CASE("durations under one second are cut to the unit shown, not rounded") {
  CHECK(fmt::format("{}", human(std::chrono::microseconds(999999))) == "999ms");
  CHECK(fmt::format("{}", human(std::chrono::microseconds(1999999))) == "1.999s");
}

TEST_CASE("the most negative duration formats without overflow") {
  CHECK(fmt::format("{}", human(Duration::min())) == "-2562047h47m16.854s");
}

TEST_CASE("EventKind and Direction format as their names") {
  CHECK(fmt::format("{}", EventKind::receiver_window_opened) == "receiver_window_opened");
  CHECK(fmt::format("{}", EventKind::snapshot_restored) == "snapshot_restored");
  CHECK(fmt::format("{:>10}", Direction::sender) == "    sender");
  CHECK(fmt::format("{}", Direction::receiver) == "receiver");
  CHECK(fmt::format("{}", Direction::none) == "none");
}

// ---------------------------------------------------------------------------------------------
// The line of every kind

TEST_CASE("a receiver window opened formats with its length, strikes and notify") {
  Event e = open_for(with_notice(event(EventKind::receiver_window_opened, Direction::receiver),
                                 notify_v2::no_proposal_chosen),
                     30s);
  e.strikes = 1;
  CHECK(line(e) ==
        "ikeguard: 198.51.100.7:500 receiver window opened for 30s (strikes 1, NO_PROPOSAL_CHOSEN)");
}

TEST_CASE("an escalated window says escalated") {
  Event e = open_for(with_notice(event(EventKind::receiver_window_opened, Direction::receiver),
                                 notify_v2::ts_unacceptable),
                     60s);
  e.strikes = 2;
  CHECK(line(e) ==
        "ikeguard: 198.51.100.7:500 receiver window escalated to 1m (strikes 2, TS_UNACCEPTABLE)");
}

TEST_CASE("a sender window opened formats with an IKEv1 notify's name") {
  Event e = open_for(with_notice(event(EventKind::sender_window_opened, Direction::sender),
                                 notify_v1::invalid_id_information, IkeVersion::v1),
                     std::chrono::milliseconds(65432));
  e.strikes = 1;
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 sender window opened for 1m5.432s "
                   "(strikes 1, INVALID-ID-INFORMATION)");
}

TEST_CASE("a window opened without a notify names none") {
  Event e = open_for(event(EventKind::sender_window_opened, Direction::sender), 150s);
  e.strikes = 1;
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 sender window opened for 2m30s (strikes 1)");
}

TEST_CASE("a notify the library has no name for formats as its number") {
  Event e = open_for(with_notice(event(EventKind::sender_window_opened, Direction::sender), 8300),
                     60s);
  e.strikes = 1;
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 sender window opened for 1m (strikes 1, notify 8300)");
}

TEST_CASE("retry_later set says whether it awaits confirmation or is transient") {
  Event waiting = open_for(with_notice(event(EventKind::retry_later_set, Direction::sender),
                                       notify_v2::no_proposal_chosen),
                           2s);
  waiting.awaiting_confirmation = true;
  CHECK(line(waiting) == "ikeguard: 198.51.100.7:500 retry_later set for 2s "
                         "(awaiting confirmation, NO_PROPOSAL_CHOSEN)");
  const Event transient = open_for(with_notice(event(EventKind::retry_later_set, Direction::sender),
                                               notify_v2::temporary_failure),
                                   std::chrono::milliseconds(1500));
  CHECK(line(transient) ==
        "ikeguard: 198.51.100.7:500 retry_later set for 1.5s (transient, TEMPORARY_FAILURE)");
}

TEST_CASE("a lifted window names the fingerprint that lifted it") {
  Event e = event(EventKind::window_lifted, Direction::receiver);
  e.fingerprint = 0x00c0ffee;
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 receiver window lifted by fingerprint 0x00c0ffee");
}

TEST_CASE("a lapsed window says when it was noticed and how long ago it ended") {
  Event e = event(EventKind::window_lapsed, Direction::sender);
  e.until = e.at - std::chrono::milliseconds(850);
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 sender window lapsed "
                   "(noticed at t=100.000s, ended 850ms ago)");
}

TEST_CASE("forgiven strikes say when they were noticed and how long ago they were due") {
  Event e = event(EventKind::strikes_forgiven, Direction::receiver);
  e.until = e.at - 5s;
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 receiver strikes forgiven "
                   "(noticed at t=100.000s, due 5s ago)");
}

TEST_CASE("cleared windows name the success that cleared them") {
  CHECK(line(event(EventKind::windows_cleared)) ==
        "ikeguard: 198.51.100.7:500 windows cleared (negotiation established)");
}

TEST_CASE("a notice sent names its notify") {
  const Event e = with_notice(event(EventKind::notice_sent, Direction::receiver),
                              notify_v2::authentication_failed);
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 notice sent AUTHENTICATION_FAILED");
}

TEST_CASE("a suppressed notice says until when the window holds") {
  const Event e = open_for(with_notice(event(EventKind::notice_suppressed, Direction::receiver),
                                       notify_v2::no_proposal_chosen),
                           25s);
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 notice suppressed NO_PROPOSAL_CHOSEN "
                   "(first in window, until t=125.000s)");
}

TEST_CASE("ignored unsolicited errors are counted, one in the singular") {
  Event many = with_notice(event(EventKind::unsolicited_ignored, Direction::sender),
                           notify_v2::no_proposal_chosen);
  many.count = 3;
  CHECK(line(many) ==
        "ikeguard: 198.51.100.7:500 3 unsolicited errors ignored (latest NO_PROPOSAL_CHOSEN)");
  Event one = many;
  one.count = 1;
  CHECK(line(one) == "ikeguard: 198.51.100.7:500 1 unsolicited error ignored (NO_PROPOSAL_CHOSEN)");
}

TEST_CASE("an evicted entry names the window and strikes it took with it") {
  Event with_window = open_for(event(EventKind::entry_evicted, Direction::receiver), 25s);
  with_window.strikes = 2;
  CHECK(line(with_window) ==
        "ikeguard: 198.51.100.7:500 entry evicted (receiver window 25s left, strikes 2)");
  Event strikes_only = event(EventKind::entry_evicted);
  strikes_only.strikes = 1;
  CHECK(line(strikes_only) == "ikeguard: 198.51.100.7:500 entry evicted (strikes 1)");
}

TEST_CASE("a restored snapshot counts its entries and names no peer") {
  Event e = event(EventKind::snapshot_restored);
  e.peer = PeerKey{};
  e.count = 3;
  CHECK(line(e) == "ikeguard: snapshot restored (3 entries)");
  e.count = 1;
  CHECK(line(e) == "ikeguard: snapshot restored (1 entry)");
}

TEST_CASE("a change a cluster record made names the node it came from") {
  Event e = open_for(event(EventKind::sender_window_opened, Direction::sender), 60s);
  e.strikes = 1;
  e.node = 7;
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 sender window opened for 1m (strikes 1) from node 7");
  Event cleared = event(EventKind::windows_cleared);
  cleared.node = 7;
  CHECK(line(cleared) ==
        "ikeguard: 198.51.100.7:500 windows cleared (negotiation established) from node 7");
}

TEST_CASE("a peer the table has no address for prints as unknown peer") {
  Event e = open_for(event(EventKind::entry_evicted, Direction::sender), 10s);
  e.peer = PeerKey{};
  e.strikes = 4;
  CHECK(line(e) == "ikeguard: unknown peer entry evicted (sender window 10s left, strikes 4)");
}

TEST_CASE("IPv6 peers and scopes print in their canonical form") {
  Event e = with_notice(event(EventKind::notice_sent, Direction::receiver),
                        notify_v2::no_proposal_chosen);
  e.peer = peer("[2001:db8::7]:4500#12");
  CHECK(line(e) == "ikeguard: [2001:db8::7]:4500#12 notice sent NO_PROPOSAL_CHOSEN");
}

TEST_CASE("a kind this release does not know formats as its number") {
  Event e = event(static_cast<EventKind>(200));
  CHECK(line(e) == "ikeguard: 198.51.100.7:500 event 200");
}
