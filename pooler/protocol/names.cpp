// Human-readable message names for logs and error messages, per direction.
#include "pooler/protocol/codec.hpp"

namespace pgopt::protocol {

std::string_view message_name(char type, bool backend) {
  if (backend) {
    switch (type) {
      case 'R':
        return "Authentication";
      case 'K':
        return "BackendKeyData";
      case '2':
        return "BindComplete";
      case '3':
        return "CloseComplete";
      case 'C':
        return "CommandComplete";
      case 'd':
        return "CopyData";
      case 'c':
        return "CopyDone";
      case 'G':
        return "CopyInResponse";
      case 'H':
        return "CopyOutResponse";
      case 'W':
        return "CopyBothResponse";
      case 'D':
        return "DataRow";
      case 'I':
        return "EmptyQueryResponse";
      case 'E':
        return "ErrorResponse";
      case 'V':
        return "FunctionCallResponse";
      case 'v':
        return "NegotiateProtocolVersion";
      case 'n':
        return "NoData";
      case 'N':
        return "NoticeResponse";
      case 'A':
        return "NotificationResponse";
      case 't':
        return "ParameterDescription";
      case 'S':
        return "ParameterStatus";
      case '1':
        return "ParseComplete";
      case 's':
        return "PortalSuspended";
      case 'Z':
        return "ReadyForQuery";
      case 'T':
        return "RowDescription";
      default:
        return "unknown";
    }
  }
  switch (type) {
    case 'B':
      return "Bind";
    case 'C':
      return "Close";
    case 'd':
      return "CopyData";
    case 'c':
      return "CopyDone";
    case 'f':
      return "CopyFail";
    case 'D':
      return "Describe";
    case 'E':
      return "Execute";
    case 'H':
      return "Flush";
    case 'F':
      return "FunctionCall";
    // Also SASLInitialResponse, SASLResponse and GSSResponse: the type byte cannot tell them apart.
    case 'p':
      return "PasswordMessage";
    case 'P':
      return "Parse";
    case 'Q':
      return "Query";
    case 'S':
      return "Sync";
    case 'X':
      return "Terminate";
    default:
      return "unknown";
  }
}

}  // namespace pgopt::protocol
