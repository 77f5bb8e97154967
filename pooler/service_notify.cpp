// Tells systemd (Type=notify) where the process is in its life: ready, reloading, stopping.
#include "pooler/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace pgopt::pooler::service {
namespace {
void notify(const std::string& state) { (void)sd_notify(0, state.c_str()); }
}  // namespace

void ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void reloading() {
  // MONOTONIC_USEC makes the message what Type=notify-reload (systemd 253+) expects, so the unit
  // can move to it later; systemd 252 (Debian 12) ignores the field.
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  auto usec = uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
  notify("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void reloaded(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void stopping() { notify("STOPPING=1\nSTATUS=draining: no new connections"); }

}  // namespace pgopt::pooler::service
