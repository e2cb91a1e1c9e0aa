#!/bin/sh
# Generate the Axis 1.4 stub from the served WSDL (WSDL2Java) and compile TotpClient.java with it.
#
#   clients/java/build.sh URL OUT_DIR
#   e.g. clients/java/build.sh http://127.0.0.1:8000/gsp2ws/TOTP.asmx build/java
#        java -cp "build/java:$(clients/java/build.sh --classpath)" TotpClient \
#             http://127.0.0.1:8000/gsp2ws/TOTP.asmx APP0000001 demo 123456
#   clients/java/build.sh --classpath       prints the Axis class path (to run TotpClient)
#
# URL is the endpoint (its ?WSDL is read) or a WSDL file. The stub classes go to the package
# tw.gov.cp.gsp2. Axis 1.4 and what it needs come from Debian's libaxis-java (axis, jaxrpc, saaj,
# commons-discovery, commons-logging, wsdl4j, javax.activation, javax.mail in /usr/share/java);
# elsewhere set AXIS_CLASSPATH, e.g. AXIS_CLASSPATH="axis-1.4/lib/*" from Apache's axis-bin-1_4.
set -eu
jars=/usr/share/java
classpath="${AXIS_CLASSPATH:-$jars/axis.jar:$jars/jaxrpc.jar:$jars/saaj.jar:$jars/commons-discovery.jar:$jars/commons-logging.jar:$jars/wsdl4j.jar:$jars/javax.activation.jar:$jars/javax.mail.jar}"
if [ "${1:-}" = "--classpath" ]; then echo "$classpath"; exit 0; fi
[ $# -eq 2 ] || { echo "usage: $0 URL OUT_DIR | $0 --classpath" >&2; exit 2; }
case "$1" in *://*) wsdl_source="$1?WSDL" ;; *) wsdl_source="$1" ;; esac
out="$2"
mkdir -p "$out/src"
java -cp "$classpath" org.apache.axis.wsdl.WSDL2Java -o "$out/src" -p tw.gov.cp.gsp2 "$wsdl_source" >&2
javac -nowarn -encoding UTF-8 -cp "$classpath" -d "$out" "$(dirname "$0")/TotpClient.java" \
    "$out"/src/tw/gov/cp/gsp2/*.java >&2
