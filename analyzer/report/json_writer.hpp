// A minimal streaming JSON writer (objects, arrays, strings, numbers, booleans, null) with correct
// string escaping; enough for the report, without a new dependency.
#pragma once

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace pgopt::analyzer::report {

class JsonWriter {
 public:
  JsonWriter& begin_object() { value_prefix(); out_ += '{'; stack_.push_back(true); return *this; }
  JsonWriter& end_object() { close('}'); return *this; }
  JsonWriter& begin_array() { value_prefix(); out_ += '['; stack_.push_back(true); return *this; }
  JsonWriter& end_array() { close(']'); return *this; }
  JsonWriter& key(const std::string& k) {
    comma();
    newline();
    escape(k);
    out_ += ": ";
    after_key_ = true;
    return *this;
  }
  JsonWriter& value(const std::string& s) { value_prefix(); escape(s); return *this; }
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(bool b) { value_prefix(); out_ += b ? "true" : "false"; return *this; }
  JsonWriter& value(double d) {
    value_prefix();
    if (!std::isfinite(d)) {
      out_ += "null";
    } else if (d == std::floor(d) && std::fabs(d) < 1e15) {
      out_ += std::to_string((long long)d);
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", d);
      out_ += buf;
    }
    return *this;
  }
  JsonWriter& value(int v) { return value(double(v)); }
  JsonWriter& value(unsigned long long v) { value_prefix(); out_ += std::to_string(v); return *this; }
  JsonWriter& value(unsigned long v) { return value((unsigned long long)v); }
  JsonWriter& null() { value_prefix(); out_ += "null"; return *this; }
  JsonWriter& value(const std::optional<std::string>& s) { return s ? value(*s) : null(); }
  JsonWriter& value(const std::vector<std::string>& v) {
    begin_array();
    for (const auto& s : v) value(s);
    return end_array();
  }
  template <class T>
  JsonWriter& field(const std::string& k, const T& v) { key(k); return value(v); }
  std::string str() const { return out_ + "\n"; }

 private:
  std::string out_;
  std::vector<bool> stack_;  // per open container: still empty
  bool after_key_ = false;

  void newline() {
    out_ += '\n';
    out_.append(stack_.size() * 2, ' ');
  }
  void comma() {
    if (!stack_.empty()) {
      if (!stack_.back()) out_ += ',';
      stack_.back() = false;
    }
  }
  void value_prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!stack_.empty()) {
      comma();
      newline();
    }
  }
  void close(char c) {
    bool empty = stack_.back();
    stack_.pop_back();
    if (!empty) newline();
    out_ += c;
  }
  void escape(const std::string& s) {
    out_ += '"';
    for (unsigned char ch : s) {
      switch (ch) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (ch < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out_ += buf;
          } else {
            out_ += char(ch);
          }
      }
    }
    out_ += '"';
  }
};

}  // namespace pgopt::analyzer::report
