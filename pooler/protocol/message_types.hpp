// The wire protocol's message type bytes by name, so that code reads "ReadyForQuery", not 'Z'.
// Frontend and backend reuse letters ('E' is Execute one way and ErrorResponse the other, 'C' Close
// and CommandComplete, 'S' Sync and ParameterStatus): each direction has its own namespace.
#pragma once

namespace pgopt::protocol {

namespace frontend {
inline constexpr char kQuery = 'Q';
inline constexpr char kParse = 'P';
inline constexpr char kBind = 'B';
inline constexpr char kExecute = 'E';
inline constexpr char kDescribe = 'D';
inline constexpr char kClose = 'C';
inline constexpr char kSync = 'S';
inline constexpr char kFlush = 'H';
inline constexpr char kFunctionCall = 'F';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyFail = 'f';
inline constexpr char kTerminate = 'X';
inline constexpr char kPasswordMessage = 'p';  // and the SASL messages: only during login
}  // namespace frontend

namespace backend {
inline constexpr char kReadyForQuery = 'Z';
inline constexpr char kErrorResponse = 'E';
inline constexpr char kNoticeResponse = 'N';
inline constexpr char kCommandComplete = 'C';
inline constexpr char kParameterStatus = 'S';
inline constexpr char kNotification = 'A';
inline constexpr char kCopyInResponse = 'G';
inline constexpr char kCopyOutResponse = 'H';
inline constexpr char kCopyBothResponse = 'W';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kRowDescription = 'T';
inline constexpr char kDataRow = 'D';
inline constexpr char kParseComplete = '1';
inline constexpr char kBindComplete = '2';
inline constexpr char kCloseComplete = '3';
inline constexpr char kNoData = 'n';
inline constexpr char kParameterDescription = 't';
inline constexpr char kPortalSuspended = 's';
inline constexpr char kEmptyQueryResponse = 'I';
inline constexpr char kBackendKeyData = 'K';
inline constexpr char kAuthentication = 'R';
}  // namespace backend

// ReadyForQuery's transaction status byte.
enum class TxStatus : char {
  Idle = 'I',           // not in a transaction block
  InTransaction = 'T',  // in a transaction block
  Failed = 'E',         // in a failed transaction block: statements are refused until it ends
};

}  // namespace pgopt::protocol
