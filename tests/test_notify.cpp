// SPDX-License-Identifier: MIT
// Notify types: the default classes of the notify table, overrides, names, and the guard using them.
#include "support.hpp"

#include <cstdint>
#include <string>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

struct Row {
  std::uint16_t type;
  NotifyClass cls;
};

std::string class_name(NotifyClass cls) { return std::string(to_string(cls)); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// default_notify_class: IKEv2

TEST_CASE("every IKEv2 row of the notify table has its documented default class") {
  static constexpr Row rows[] = {
      {1, NotifyClass::configuration},   // UNSUPPORTED_CRITICAL_PAYLOAD
      {4, NotifyClass::ignored},         // INVALID_IKE_SPI
      {5, NotifyClass::retry_now},       // INVALID_MAJOR_VERSION
      {7, NotifyClass::configuration},   // INVALID_SYNTAX
      {9, NotifyClass::ignored},         // INVALID_MESSAGE_ID
      {11, NotifyClass::ignored},        // INVALID_SPI
      {14, NotifyClass::configuration},  // NO_PROPOSAL_CHOSEN
      {17, NotifyClass::retry_now},      // INVALID_KE_PAYLOAD
      {24, NotifyClass::configuration},  // AUTHENTICATION_FAILED
      {34, NotifyClass::configuration},  // SINGLE_PAIR_REQUIRED
      {35, NotifyClass::retry_later},    // NO_ADDITIONAL_SAS
      {36, NotifyClass::retry_later},    // INTERNAL_ADDRESS_FAILURE
      {37, NotifyClass::configuration},  // FAILED_CP_REQUIRED
      {38, NotifyClass::configuration},  // TS_UNACCEPTABLE
      {39, NotifyClass::configuration},  // INVALID_SELECTORS
      {40, NotifyClass::ignored},        // UNACCEPTABLE_ADDRESSES
      {41, NotifyClass::ignored},        // UNEXPECTED_NAT_DETECTED
      {43, NotifyClass::retry_later},    // TEMPORARY_FAILURE
      {44, NotifyClass::retry_later},    // CHILD_SA_NOT_FOUND
      {47, NotifyClass::retry_later},    // STATE_NOT_FOUND
      {48, NotifyClass::retry_later},    // TS_MAX_QUEUE
      {16390, NotifyClass::retry_now},   // COOKIE
      {16407, NotifyClass::retry_now},   // REDIRECT
  };
  for (const Row& row : rows) {
    INFO("IKEv2 type " << row.type);
    CHECK(class_name(default_notify_class(IkeVersion::v2, row.type)) == class_name(row.cls));
  }
}

TEST_CASE("the named IKEv2 constants carry the codes of the notify table") {
  CHECK(notify_v2::unsupported_critical_payload == 1);
  CHECK(notify_v2::invalid_ike_spi == 4);
  CHECK(notify_v2::invalid_major_version == 5);
  CHECK(notify_v2::invalid_syntax == 7);
  CHECK(notify_v2::invalid_message_id == 9);
  CHECK(notify_v2::invalid_spi == 11);
  CHECK(notify_v2::no_proposal_chosen == 14);
  CHECK(notify_v2::invalid_ke_payload == 17);
  CHECK(notify_v2::authentication_failed == 24);
  CHECK(notify_v2::single_pair_required == 34);
  CHECK(notify_v2::no_additional_sas == 35);
  CHECK(notify_v2::internal_address_failure == 36);
  CHECK(notify_v2::failed_cp_required == 37);
  CHECK(notify_v2::ts_unacceptable == 38);
  CHECK(notify_v2::invalid_selectors == 39);
  CHECK(notify_v2::unacceptable_addresses == 40);
  CHECK(notify_v2::unexpected_nat_detected == 41);
  CHECK(notify_v2::temporary_failure == 43);
  CHECK(notify_v2::child_sa_not_found == 44);
  CHECK(notify_v2::state_not_found == 47);
  CHECK(notify_v2::ts_max_queue == 48);
  CHECK(notify_v2::first_status == 16384);
  CHECK(notify_v2::cookie == 16390);
  CHECK(notify_v2::redirect == 16407);
}

TEST_CASE("unknown IKEv2 error types below 16384 are configuration errors") {
  static constexpr std::uint16_t unknown[] = {2, 3, 6, 8, 10, 12, 13, 15, 16, 18, 23, 25,
                                              33, 42, 45, 46, 49, 100, 8191, 16383};
  for (const std::uint16_t type : unknown) {
    INFO("IKEv2 type " << type);
    CHECK(class_name(default_notify_class(IkeVersion::v2, type)) == "configuration");
  }
}

TEST_CASE("IKEv2 status types from 16384 up other than COOKIE and REDIRECT are ignored") {
  static constexpr std::uint16_t status[] = {16384, 16385, 16388, 16389, 16391, 16393,
                                             16406, 16408, 16430, 16431, 40959, 65535};
  for (const std::uint16_t type : status) {
    INFO("IKEv2 type " << type);
    CHECK(class_name(default_notify_class(IkeVersion::v2, type)) == "ignored");
  }
}

// ---------------------------------------------------------------------------------------------
// default_notify_class: IKEv1

TEST_CASE("every IKEv1 error row of the notify table is a configuration error") {
  static constexpr std::uint16_t configuration[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                    11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                                    21, 22, 23, 24, 25, 29, 30};
  for (const std::uint16_t type : configuration) {
    INFO("IKEv1 type " << type);
    CHECK(class_name(default_notify_class(IkeVersion::v1, type)) == "configuration");
  }
}

TEST_CASE("IKEv1 ADDRESS-NOTIFICATION, NOTIFY-SA-LIFETIME and CERTIFICATE-UNAVAILABLE are ignored") {
  CHECK(class_name(default_notify_class(IkeVersion::v1, 26)) == "ignored");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 27)) == "ignored");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 28)) == "ignored");
  CHECK(notify_v1::address_notification == 26);
  CHECK(notify_v1::notify_sa_lifetime == 27);
  CHECK(notify_v1::certificate_unavailable == 28);
}

TEST_CASE("IKEv1 status types from 16384 up are ignored") {
  static constexpr std::uint16_t status[] = {16384, 16385, 24576, 24577, 24578, 40000, 65535};
  for (const std::uint16_t type : status) {
    INFO("IKEv1 type " << type);
    CHECK(class_name(default_notify_class(IkeVersion::v1, type)) == "ignored");
  }
}

TEST_CASE("unknown IKEv1 error types below 16384 are configuration errors") {
  static constexpr std::uint16_t unknown[] = {31, 100, 8191, 16383};
  for (const std::uint16_t type : unknown) {
    INFO("IKEv1 type " << type);
    CHECK(class_name(default_notify_class(IkeVersion::v1, type)) == "configuration");
  }
}

TEST_CASE("the IKEv2-only classes do not apply to the same IKEv1 codes") {
  // Same numbers, other meanings in IKEv1: INVALID-MAJOR-VERSION (5) and INVALID-KEY-INFORMATION
  // (17) have no corrective action there; 4, 9, 11 and 43 are no hints.
  CHECK(class_name(default_notify_class(IkeVersion::v1, 5)) == "configuration");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 17)) == "configuration");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 4)) == "configuration");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 11)) == "configuration");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 43)) == "configuration");
  CHECK(class_name(default_notify_class(IkeVersion::v1, 16390)) == "ignored");
}

TEST_CASE("the default classes are usable at compile time") {
  static_assert(default_notify_class(IkeVersion::v2, notify_v2::no_proposal_chosen) ==
                NotifyClass::configuration);
  static_assert(default_notify_class(IkeVersion::v2, notify_v2::cookie) == NotifyClass::retry_now);
  constexpr NotifyTable table{};
  static_assert(table.classify(IkeVersion::v2, notify_v2::temporary_failure) ==
                NotifyClass::retry_later);
  CHECK(table.override_count() == 0);
}

// ---------------------------------------------------------------------------------------------
// NotifyTable

TEST_CASE("an empty NotifyTable classifies every type by its default") {
  const NotifyTable table;
  CHECK(table.override_count() == 0);
  for (std::uint32_t type = 0; type <= 0xFFFFu; type += 7) {
    const auto t = static_cast<std::uint16_t>(type);
    INFO("type " << t);
    CHECK(table.classify(IkeVersion::v2, t) == default_notify_class(IkeVersion::v2, t));
    CHECK(table.classify(IkeVersion::v1, t) == default_notify_class(IkeVersion::v1, t));
  }
}

TEST_CASE("NotifyTable::set overrides one type of one version only") {
  NotifyTable table;
  CHECK(table.set(IkeVersion::v2, notify_v2::temporary_failure, NotifyClass::configuration));
  CHECK(table.override_count() == 1);
  CHECK(class_name(table.classify(IkeVersion::v2, notify_v2::temporary_failure)) ==
        "configuration");
  // Neighbours and the other version keep their defaults.
  CHECK(class_name(table.classify(IkeVersion::v1, notify_v2::temporary_failure)) ==
        "configuration");
  CHECK(class_name(table.classify(IkeVersion::v2, notify_v2::child_sa_not_found)) ==
        "retry_later");

  CHECK(table.set(IkeVersion::v1, notify_v1::no_proposal_chosen, NotifyClass::ignored));
  CHECK(class_name(table.classify(IkeVersion::v1, notify_v1::no_proposal_chosen)) == "ignored");
  CHECK(class_name(table.classify(IkeVersion::v2, notify_v2::no_proposal_chosen)) ==
        "configuration");
  CHECK(table.override_count() == 2);
}

TEST_CASE("NotifyTable::set on an overridden type replaces its class without a new entry") {
  NotifyTable table;
  REQUIRE(table.set(IkeVersion::v2, notify_v2::no_proposal_chosen, NotifyClass::ignored));
  CHECK(table.set(IkeVersion::v2, notify_v2::no_proposal_chosen, NotifyClass::retry_later));
  CHECK(table.override_count() == 1);
  CHECK(class_name(table.classify(IkeVersion::v2, notify_v2::no_proposal_chosen)) ==
        "retry_later");
}

TEST_CASE("NotifyTable::reset returns a type to its default and keeps the other overrides") {
  NotifyTable table;
  REQUIRE(table.set(IkeVersion::v2, 14, NotifyClass::ignored));
  REQUIRE(table.set(IkeVersion::v2, 43, NotifyClass::configuration));
  REQUIRE(table.set(IkeVersion::v1, 26, NotifyClass::configuration));
  REQUIRE(table.override_count() == 3);

  table.reset(IkeVersion::v2, 14);  // the first entry
  CHECK(table.override_count() == 2);
  CHECK(class_name(table.classify(IkeVersion::v2, 14)) == "configuration");
  CHECK(class_name(table.classify(IkeVersion::v2, 43)) == "configuration");
  CHECK(class_name(table.classify(IkeVersion::v1, 26)) == "configuration");

  table.reset(IkeVersion::v1, 26);
  CHECK(table.override_count() == 1);
  CHECK(class_name(table.classify(IkeVersion::v1, 26)) == "ignored");
  CHECK(class_name(table.classify(IkeVersion::v2, 43)) == "configuration");
}

TEST_CASE("NotifyTable::reset of a type without an override changes nothing") {
  NotifyTable table;
  REQUIRE(table.set(IkeVersion::v2, 43, NotifyClass::configuration));
  table.reset(IkeVersion::v2, 14);
  table.reset(IkeVersion::v1, 43);  // same code, other version
  CHECK(table.override_count() == 1);
  CHECK(class_name(table.classify(IkeVersion::v2, 43)) == "configuration");
  CHECK(class_name(table.classify(IkeVersion::v2, 14)) == "configuration");
}

TEST_CASE("a full NotifyTable refuses a new override and changes nothing") {
  NotifyTable table;
  CHECK(NotifyTable::max_overrides == 32);
  for (std::uint16_t type = 1000; type < 1000 + NotifyTable::max_overrides; ++type) {
    REQUIRE(table.set(IkeVersion::v2, type, NotifyClass::ignored));
  }
  REQUIRE(table.override_count() == NotifyTable::max_overrides);

  CHECK_FALSE(table.set(IkeVersion::v2, notify_v2::temporary_failure, NotifyClass::configuration));
  CHECK(table.override_count() == NotifyTable::max_overrides);
  CHECK(class_name(table.classify(IkeVersion::v2, notify_v2::temporary_failure)) == "retry_later");
  for (std::uint16_t type = 1000; type < 1000 + NotifyTable::max_overrides; ++type) {
    INFO("type " << type);
    CHECK(class_name(table.classify(IkeVersion::v2, type)) == "ignored");
  }

  // Replacing an existing override still works when full.
  CHECK(table.set(IkeVersion::v2, 1000, NotifyClass::retry_now));
  CHECK(class_name(table.classify(IkeVersion::v2, 1000)) == "retry_now");
  CHECK(table.override_count() == NotifyTable::max_overrides);

  // After a reset there is room again.
  table.reset(IkeVersion::v2, 1031);
  CHECK(table.set(IkeVersion::v2, notify_v2::temporary_failure, NotifyClass::configuration));
  CHECK(class_name(table.classify(IkeVersion::v2, notify_v2::temporary_failure)) ==
        "configuration");
  CHECK(class_name(table.classify(IkeVersion::v2, 1031)) == "configuration");
}

// ---------------------------------------------------------------------------------------------
// notify_name

TEST_CASE("notify_name gives the IKEv2 names with underscores") {
  CHECK(std::string(notify_name(IkeVersion::v2, 14)) == "NO_PROPOSAL_CHOSEN");
  CHECK(std::string(notify_name(IkeVersion::v2, 17)) == "INVALID_KE_PAYLOAD");
  CHECK(std::string(notify_name(IkeVersion::v2, 43)) == "TEMPORARY_FAILURE");
  CHECK(std::string(notify_name(IkeVersion::v2, 47)) == "STATE_NOT_FOUND");
  CHECK(std::string(notify_name(IkeVersion::v2, 48)) == "TS_MAX_QUEUE");
  CHECK(std::string(notify_name(IkeVersion::v2, 16384)) == "INITIAL_CONTACT");
  CHECK(std::string(notify_name(IkeVersion::v2, 16390)) == "COOKIE");
  CHECK(std::string(notify_name(IkeVersion::v2, 16407)) == "REDIRECT");
}

TEST_CASE("notify_name gives the IKEv1 names with hyphens") {
  CHECK(std::string(notify_name(IkeVersion::v1, 14)) == "NO-PROPOSAL-CHOSEN");
  CHECK(std::string(notify_name(IkeVersion::v1, 1)) == "INVALID-PAYLOAD-TYPE");
  CHECK(std::string(notify_name(IkeVersion::v1, 24)) == "AUTHENTICATION-FAILED");
  CHECK(std::string(notify_name(IkeVersion::v1, 30)) == "UNEQUAL-PAYLOAD-LENGTHS");
  CHECK(std::string(notify_name(IkeVersion::v1, 16384)) == "CONNECTED");
  CHECK(std::string(notify_name(IkeVersion::v1, 24578)) == "INITIAL-CONTACT");
}

TEST_CASE("notify_name gives nullptr for a type it does not know") {
  CHECK(notify_name(IkeVersion::v2, 0) == nullptr);
  CHECK(notify_name(IkeVersion::v2, 12345) == nullptr);
  CHECK(notify_name(IkeVersion::v2, 65535) == nullptr);
  CHECK(notify_name(IkeVersion::v1, 31) == nullptr);
  CHECK(notify_name(IkeVersion::v1, 16390) == nullptr);  // COOKIE is IKEv2 only
}

// ---------------------------------------------------------------------------------------------
// The guard honours the policy's table

TEST_CASE("by default an authenticated TEMPORARY_FAILURE answers retry_later after retry_delay") {
  Fixture f;
  const ErrorOutcome outcome = f.guard.on_inbound_error(
      peer("192.0.2.1"), notice(notify_v2::temporary_failure), Origin::authenticated);
  CHECK(outcome.action == ErrorAction::retry_later);
  CHECK(outcome.until == at(2s));
  CHECK(outcome.strikes == 0);
}

TEST_CASE("a TEMPORARY_FAILURE overridden to configuration opens the sender window for T2") {
  Policy policy = exact_policy();
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, notify_v2::temporary_failure,
                                    NotifyClass::configuration));
  Fixture f(policy);
  const PeerKey responder = peer("192.0.2.1");
  const ErrorOutcome outcome = f.guard.on_inbound_error(
      responder, notice(notify_v2::temporary_failure), Origin::authenticated);
  CHECK(outcome.action == ErrorAction::hold);
  CHECK(outcome.until == at(60s));
  CHECK(outcome.strikes == 1);
  CHECK(f.guard.stats().errors_honoured == 1);
  CHECK(f.guard.stats().retried_later == 0);

  f.clock.set(at(60s) - 1ns);
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::hold);
  f.clock.set(at(60s));
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("a NO_PROPOSAL_CHOSEN overridden to ignored is ignored and opens nothing") {
  Policy policy = exact_policy();
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, notify_v2::no_proposal_chosen,
                                    NotifyClass::ignored));
  Fixture f(policy);
  f.clock.set(at(5s));
  const PeerKey responder = peer("192.0.2.1");
  const ErrorOutcome outcome = f.guard.on_inbound_error(
      responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(outcome.action == ErrorAction::ignored);
  CHECK(outcome.until == TimePoint{});  // nothing to wait for
  CHECK(outcome.strikes == 0);
  CHECK(f.guard.stats().ignored == 1);
  CHECK(f.guard.stats().errors_honoured == 0);
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("an IKEv2 override leaves the IKEv1 notify with the same code at its default") {
  Policy policy = exact_policy();
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, notify_v2::no_proposal_chosen,
                                    NotifyClass::ignored));
  Fixture f(policy);
  const ErrorOutcome outcome = f.guard.on_inbound_error(
      peer("192.0.2.1"), notice(notify_v1::no_proposal_chosen, IkeVersion::v1),
      Origin::authenticated);
  CHECK(outcome.action == ErrorAction::hold);
  CHECK(outcome.until == at(60s));
  CHECK(outcome.strikes == 1);
}

TEST_CASE("an INVALID_KE_PAYLOAD overridden to retry_later holds for retry_delay") {
  Policy policy = exact_policy();
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, notify_v2::invalid_ke_payload,
                                    NotifyClass::retry_later));
  Fixture f(policy);
  const ErrorOutcome outcome = f.guard.on_inbound_error(
      peer("192.0.2.1"), notice(notify_v2::invalid_ke_payload), Origin::authenticated);
  CHECK(outcome.action == ErrorAction::retry_later);
  CHECK(outcome.until == at(2s));
  CHECK(outcome.strikes == 0);
}

TEST_CASE("the guard keeps the policy's overrides") {
  Policy policy = exact_policy();
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, notify_v2::cookie, NotifyClass::ignored));
  Fixture f(policy);
  CHECK(f.guard.policy().notify_classes.override_count() == 1);
  CHECK(class_name(f.guard.policy().notify_classes.classify(IkeVersion::v2, notify_v2::cookie)) ==
        "ignored");
}
