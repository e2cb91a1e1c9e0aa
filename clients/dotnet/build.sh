#!/bin/sh
# Generate the .NET stub from the served WSDL (wsdl.exe) and compile TotpClient.cs with it (mcs).
#
#   clients/dotnet/build.sh URL OUT_DIR [--soap12]
#   e.g. clients/dotnet/build.sh http://127.0.0.1:8000/gsp2ws/TOTP.asmx build/dotnet
#        mono build/dotnet/TotpClient.exe http://127.0.0.1:8000/gsp2ws/TOTP.asmx APP0000001 demo 123456
#
# URL is the endpoint (its ?WSDL is read) or a WSDL file. --soap12 generates the stub for the
# SOAP 1.2 binding (wsdl /protocol:SOAP12). Debian: apt-get install mono-devel (wsdl, mcs, mono);
# on Windows the same two steps are wsdl.exe and csc.exe.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 URL OUT_DIR [--soap12]" >&2; exit 2; }
case "$1" in *://*) wsdl_source="$1?WSDL" ;; *) wsdl_source="$1" ;; esac
out="$2"
protocol=SOAP
[ "${3:-}" = "--soap12" ] && protocol=SOAP12
mkdir -p "$out"
wsdl -nologo "/protocol:$protocol" /language:CS /namespace:Gsp "/out:$out/TOTP.cs" "$wsdl_source" >&2
mcs -nologo -r:System.Web.Services -r:System.Xml "-out:$out/TotpClient.exe" \
    "$out/TOTP.cs" "$(dirname "$0")/TotpClient.cs" >&2
