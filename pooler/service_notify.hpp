// Tells systemd (Type=notify) where the process is in its life: ready, reloading, stopping.
#pragma once

#include <string_view>

namespace pgopt::pooler::service {

// Each is a no-op unless NOTIFY_SOCKET is set (systemd sets it for Type=notify units); a failure to
// send is ignored, as systemd would only time out the start or reload.
void ready(std::string_view status);  // READY=1: the listeners (clients, metrics) accept connections
void reloading();                     // RELOADING=1 at SIGHUP, before the files are read again
void reloaded(std::string_view status);  // READY=1 once the reload was applied or refused
void stopping();                      // STOPPING=1 when the drain starts

}  // namespace pgopt::pooler::service
