#!/usr/bin/env bash
# Installs the Debian packages the test suite starts for real:
# - chromium (browser sign-in tests, driven by playwright-core; never a downloaded browser) and
#   libnss3-tools (to make that Chromium trust the emulator's generated CA);
# - redis-server (the Redis refresh-token store and the fleet cache; its --sentinel mode runs the
#   Sentinel tests' sentinels) and redis-tools (redis-cli, which makes the test Redis Cluster);
# - gnome-keyring, dbus (dbus-run-session) and libsecret-tools (a real Secret Service for the
#   OS-keyring tests);
# - faketime (moves the client's clock for the 90-day refresh-token window; its libfaketime
#   gives the rotation-under-load test one clock shared with the emulator);
# - python3-msal, python3-azure (azure-identity) and azure-cli (Microsoft's Python clients,
#   unmodified, against the emulator and through the sidecar);
# - util-linux (unshare) and iproute2 (ip), for the tests that need Microsoft's host names in a
#   private network and mount namespace;
# - zsh and fish (the completion scripts, driven in the real shells).
# - then PowerShell 7.6 (a .NET global tool) and Pester 5 (NuGet): scripts/install-powershell.sh.
# Does nothing when they are already there.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || need+=(chromium)
have certutil || need+=(libnss3-tools)
have redis-server || need+=(redis-server)
have redis-cli || need+=(redis-tools)
have gnome-keyring-daemon || need+=(gnome-keyring)
have dbus-run-session || need+=(dbus-daemon dbus)
have secret-tool || need+=(libsecret-tools)
have faketime || need+=(faketime)
have az || need+=(azure-cli)
have unshare || need+=(util-linux)
have ip || need+=(iproute2)
have zsh || need+=(zsh)
have fish || need+=(fish)
/usr/bin/python3 -c 'import msal' >/dev/null 2>&1 || need+=(python3-msal)
/usr/bin/python3 -c 'import azure.identity' >/dev/null 2>&1 || need+=(python3-azure)
if [ ${#need[@]} -gt 0 ]; then
  if ! have apt-get; then
    echo "install-system-deps: please install ${need[*]} with your package manager" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "install-system-deps: installed ${need[*]}" >&2
fi
# PowerShell 7.6 and Pester 5 (test/powershell), through the .NET SDK and NuGet. The .NET
# packages of test/interop-dotnet are restored by that test itself (dotnet build).
bash "$(dirname "$0")/install-powershell.sh"
