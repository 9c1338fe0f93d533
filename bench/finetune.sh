#!/usr/bin/env bash
# Runs bench/FineTuneExperiment (arguments passed on). TorchSharp-cpu 0.107.0's native library needs libstdc++ from
# GCC 13+ (GLIBCXX_3.4.32) and so glibc 2.38+; Debian 12 has GCC 12 and glibc 2.36. On such a machine this fetches
# Debian 13's libc6 and libstdc++6 into .cache/trixie-runtime and runs dotnet under that loader; the system is untouched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build -c Release bench/FineTuneExperiment -v q -nologo >/dev/null
run=(dotnet)
if ! strings "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 /{print $NF; exit}')" | grep -q GLIBCXX_3.4.32; then
  rt=.cache/trixie-runtime
  if [ ! -x "$rt/dotnet/dotnet" ]; then
    command -v patchelf >/dev/null || { apt-get update -qq && apt-get install -y -qq patchelf >/dev/null; }
    mkdir -p "$rt/debs"
    curl -sf -m 120 http://deb.debian.org/debian/dists/trixie/main/binary-amd64/Packages.xz | xz -dc \
      | awk '/^Package: (libc6|libstdc\+\+6|libgcc-s1|libicu76|libssl3t64|zlib1g)$/{p=1} p&&/^Filename:/{print $2; p=0}' > "$rt/debs/list"
    while read -r f; do curl -sf -m 300 -o "$rt/debs/$(basename "$f")" "http://deb.debian.org/debian/$f"; dpkg-deb -x "$rt/debs/$(basename "$f")" "$rt/root"; done < "$rt/debs/list"
    root=$(dirname "$(readlink -f "$(command -v dotnet)")")
    mkdir -p "$rt/dotnet"
    for d in "$root"/*; do [ "$(basename "$d")" = dotnet ] || ln -sfn "$d" "$rt/dotnet/"; done
    cp "$root/dotnet" "$rt/dotnet/dotnet"
    patchelf --set-interpreter "$PWD/$rt/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$rt/dotnet/dotnet"
  fi
  # ONNX Runtime crashes under that loader: the stage-3 activations are made (or found cached) by the system's first.
  dotnet bench/FineTuneExperiment/bin/Release/net10.0/FineTuneExperiment.dll "$@" --activations-only
  export LD_LIBRARY_PATH="$PWD/$rt/root/usr/lib/x86_64-linux-gnu"
  run=("$rt/dotnet/dotnet")
fi
exec "${run[@]}" bench/FineTuneExperiment/bin/Release/net10.0/FineTuneExperiment.dll "$@"
