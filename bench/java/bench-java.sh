#!/usr/bin/env bash
# Where a synced Java edit's time goes, per step, with the JDK and Maven on
# the PATH (the e2e stand-ins ship the host's): Maven's rebuild, javac of
# one file and of all sources, a warm in-process compiler, and the JVM's
# start to the first HTTP answer under the flags a dev loop may use.
#   bench/java/bench-java.sh APP_DIR M2_REPOSITORY [RUNS]
# APP_DIR: a copy of examples/java or examples/java-spring-boot already
# built once with `mvn package` (so target/ and the repository are filled).
set -euo pipefail
app=$(cd "$1" && pwd); repo=$(cd "$2" && pwd); runs=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
cd "$app"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
jar=$(ls target/*.jar | grep -v original | head -1)
# Classpath: Spring Boot's BOOT-INF/lib from the exploded JAR, else none.
rm -rf /tmp/bench-java-exploded && mkdir -p /tmp/bench-java-exploded
(cd /tmp/bench-java-exploded && jar xf "$app/$jar")
libs=$(ls /tmp/bench-java-exploded/BOOT-INF/lib/*.jar 2>/dev/null | tr '\n' ':' || true)
cp="target/classes:${libs}"
srcs=$(find src/main/java -name '*.java')
one=$(echo "$srcs" | head -1)
step() { # NAME COMMAND...
  local name=$1; shift
  for _ in $(seq "$runs"); do t=$(date +%s%N); "$@" >/dev/null 2>>/tmp/bench-java.err; ms "$t"; done |
    median | xargs printf '%-48s %6s ms\n' "$name"
}
step "mvn -o -q clean package -DskipTests" mvn -o -q -Dmaven.repo.local="$repo" clean package -DskipTests
step "javac one file" javac -proc:none --release 17 -cp "$cp" -d target/classes "$one"
step "javac all sources" javac -proc:none --release 17 -cp "$cp" -d target/classes $srcs
step "javac all, -J-XX:TieredStopAtLevel=1" javac -J-XX:TieredStopAtLevel=1 -proc:none --release 17 -cp "$cp" -d target/classes $srcs
step "javac all, +TieredStop=1 +SerialGC" javac -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -proc:none --release 17 -cp "$cp" -d target/classes $srcs
java "$here/WarmCompile.java" 20 "$cp" target/classes 17 $srcs > /tmp/bench-java-warm.txt
grep '^run' /tmp/bench-java-warm.txt | awk -F'ms=' 'NR > 10 {print $2}' | median |
  xargs printf '%-48s %6s ms\n' "warm javax.tools, new file manager (11-20)"
grep '^shared' /tmp/bench-java-warm.txt | awk -F'ms=' 'NR > 10 {print $2}' | median |
  xargs printf '%-48s %6s ms\n' "warm javax.tools, kept file manager (11-20)"
# JVM start to the first HTTP answer.
if [ -d /tmp/bench-java-exploded/BOOT-INF ]; then
  main=org.springframework.boot.loader.launch.JarLauncher; runcp=/tmp/bench-java-exploded; wd=/tmp/bench-java-exploded
else
  main=example.App; runcp=target/classes; wd=$app
fi
port=18089
start() { # NAME FLAGS...
  local name=$1; shift
  for _ in $(seq "$runs"); do
    t=$(date +%s%N)
    (cd "$wd" && PORT=$port exec java "$@" -cp "$runcp" $main >/dev/null 2>&1) & pid=$!
    until curl -fs -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.01; done
    ms "$t"; kill "$pid"; wait "$pid" 2>/dev/null || true
  done | median | xargs printf '%-48s %6s ms\n' "start: $name"
}
start "default"
start "-XX:TieredStopAtLevel=1" -XX:TieredStopAtLevel=1
start "-XX:+UseSerialGC" -XX:+UseSerialGC
start "-Xshare:off" -Xshare:off
start "TieredStop=1 SerialGC" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
# AppCDS, static (JDK 17: -XX:ArchiveClassesAtExit dumps at a normal exit
# only, never on the SIGTERM a restart sends; -XX:+AutoCreateSharedArchive
# is JDK 19+): the class list of one run, then -Xshare:dump.
cls=/tmp/bench-java-app.classlist; jsa=/tmp/bench-java-app.jsa; rm -f "$cls" "$jsa"
(cd "$wd" && PORT=$port exec java -XX:DumpLoadedClassList=$cls -cp "$runcp" $main >/dev/null 2>&1) & pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.01; done
kill "$pid"; wait "$pid" 2>/dev/null || true
if (cd "$wd" && java -Xshare:dump -XX:SharedClassListFile=$cls -XX:SharedArchiveFile=$jsa -cp "$runcp" >>/tmp/bench-java.err 2>&1); then
  start "AppCDS (static, class list)" -XX:SharedArchiveFile=$jsa
  start "AppCDS TieredStop=1 SerialGC" -XX:SharedArchiveFile=$jsa -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
else
  echo "AppCDS: -Xshare:dump refused the class path (see /tmp/bench-java.err)"
fi
java -version 2>&1 | head -1
