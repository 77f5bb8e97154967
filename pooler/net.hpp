// Asio names used across the pooler, and the "errors as values" completion token.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace pgopt::pooler {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <class T = void>
using awaitable = asio::awaitable<T>;
using error_code = boost::system::error_code;

// Expected failures (peer closed, timeout, reset) come back as values, never as exceptions.
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace pgopt::pooler
