// Judging what a server sends before it answers (see early_replies.hpp for the rules).
#include "pooler/session/early_replies.hpp"

#include "pooler/protocol/codec.hpp"

namespace pgopt::pooler::session {

namespace be = protocol::backend;

Early judge_early(char type, std::span<const uint8_t> body, const TxTracker& tx) {
  switch (type) {
    case be::kNotification:
      return Early::Nobodys;
    case be::kNoticeResponse: {
      const std::string_view code = protocol::error_sqlstate(body);
      return code.size() == 5 && code.substr(0, 2) == "57" ? Early::DyingWords : Early::ClientsOwn;
    }
    case be::kParameterStatus: {
      auto ps = protocol::parse_parameter_status(body);
      if (!ps) return Early::ClientsOwn;  // the relay's usual path says what is wrong with it
      return tx.defers_setting(ps->name) ? Early::ClientsOwn : Early::ServerSetting;
    }
    case be::kErrorResponse: {
      auto fields = protocol::parse_error_fields(body);
      const std::string_view severity = fields ? protocol::error_field(*fields, 'V') : std::string_view{};
      return severity == "FATAL" || severity == "PANIC" ? Early::ServerLeaving : Early::Reply;
    }
    default:
      return Early::Reply;
  }
}

}  // namespace pgopt::pooler::session
