#!/usr/bin/env bash
# test-cli.sh CCMM SRCDIR COMPLETION: the ccmm command as a user meets it
# (issue 14), one TAP case per behaviour:
#   the command line    --opt=value and --opt value, COMMAND --help and help
#                       COMMAND, -V/--version, -q/-v before the command,
#                       suggestions for unknown and ambiguous options
#   outputs             --json/--csv to '-', /dev/null, /dev/stdout (the
#                       data-loss bug: as root it replaced /dev/stdout), a
#                       FIFO, a read-only folder, an existing file kept on a
#                       failed run, no temporary left by a signal
#   several jobs        one run after the other, one JSON with "runs", the
#                       worst exit status; --section; check and --parse-only
#   fio syntax          ${VAR}, inline comments, LO:HI and reversed ranges,
#                       kb_base, in a job that runs
#   discoverability     ops global, costs, platform-keys, the search path
#   completion          the generated bash completion completes
#   trace agree|whatif  parsed from the trace command's table
set -u
ccmm=$(realpath "$1")
src=$(realpath "$2")
completion=$(realpath "$3")
jobs=$src/tests/jobs
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { # description, then the check's status
  n=$((n + 1))
  if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# run CMD... with stdout in $tmp/out, stderr in $tmp/err, status in $st
run() { "$@" >"$tmp/out" 2>"$tmp/err"; st=$?; }
say() { echo "# $*"; }
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }
leftovers() { ls -A "$1" | grep -c '\.tmp\.' ; } # temporaries in a folder

echo "1..31"
cd "$jobs" || exit 1
job=tdx-shared-dma.job

# ---- the command line --------------------------------------------------------
run "$ccmm" run -q "$job" --json="$tmp/eq.json"
a=$st; json_ok "$tmp/eq.json"; b=$?
run "$ccmm" run -q "$job" --json "$tmp/sp.json"
ok "--json=FILE and --json FILE both write the report" $((a || b || st || $(json_ok "$tmp/sp.json"; echo $?)))

run "$ccmm" run --help
h=$st; cp "$tmp/out" "$tmp/help1"
run "$ccmm" help run
ok "run --help and help run print the same help, exit 0" \
  $((h || st || $(cmp -s "$tmp/help1" "$tmp/out"; echo $?) || $(grep -q -- '--json=FILE' "$tmp/out"; echo $?)))

run "$ccmm" -V
v1=$(cat "$tmp/out"); a=$st
run "$ccmm" --version
ok "-V, --version and version print the version" \
  $((a || st || $([ "$v1" = "$(cat "$tmp/out")" ] && "$ccmm" version | grep -qx "$v1" && echo 0 || echo 1)))

run "$ccmm" -q run "$job"
ok "-q before the command: only the result line" $((st || $(wc -l <"$tmp/out" | grep -qx 1; echo $?)))

run "$ccmm" run --jsno x "$job"
a=$st; grep -qF "ccmm run: unknown option '--jsno'; did you mean '--json'?" "$tmp/err"; b=$?
run "$ccmm" run --se x "$job"
c=$st; grep -qF "ambiguous (--seed, --section, --set, --series)" "$tmp/err"; d=$?
run "$ccmm" run "$job" --json
ok "unknown, ambiguous and value-less options: exit 2 with the nearest name" \
  $(( (a != 2) || b || (c != 2) || d || (st != 2) || $(grep -qF "option '--json' needs a value" "$tmp/err"; echo $?) ))

run "$ccmm"
a=$st
run "$ccmm" help rnu
ok "no command (usage on stderr) and help of an unknown command: exit 2" \
  $(( (a != 2) || (st != 2) || $(grep -qF "did you mean 'run'?" "$tmp/err"; echo $?) ))

# ---- outputs -------------------------------------------------------------------
run "$ccmm" run "$job" --json -
a=$st; json_ok "$tmp/out"; b=$?
grep -q "^result:" "$tmp/err"; c=$?
ok "--json -: the report on stdout, the text on stderr" $((a || b || c))

run "$ccmm" run -q "$job" --csv -
ok "--csv -: CSV on stdout" $((st || $(head -1 "$tmp/out" | grep -qx 'job,actor,kind,figure,value'; echo $?) || \
  $(grep -q '^tdx-shared-dma.job,,,result.exit_status,0$' "$tmp/out"; echo $?)))

before=$(stat -c '%t:%T %i' /dev/null)
run "$ccmm" run -q "$job" --json /dev/null --csv /dev/null
ok "--json /dev/null: written in place, /dev/null stays the device" \
  $((st || $([ -c /dev/null ] && [ "$(stat -c '%t:%T %i' /dev/null)" = "$before" ] && echo 0 || echo 1)))

# /dev/stdout is a link to /proc/self/fd/1: as root the old code renamed a file over it
link_before=$(readlink /dev/stdout)
"$ccmm" run -q "$job" --json /dev/stdout >"$tmp/stdout.txt" 2>"$tmp/err"
st=$?
python3 - "$tmp/stdout.txt" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
json.loads(text)                       # the JSON alone: the result line went to stderr
EOF
a=$?
ok "--json /dev/stdout (running as uid $(id -u)): the JSON reaches the redirected stdout, /dev/stdout stays a link" \
  $((st || a || $([ -L /dev/stdout ] && [ "$(readlink /dev/stdout)" = "$link_before" ] && echo 0 || echo 1) || \
     $(grep -q '^result:' "$tmp/err"; echo $?)))

mkfifo "$tmp/fifo"
cat "$tmp/fifo" >"$tmp/from-fifo" &
reader=$!
run "$ccmm" run -q "$job" --json "$tmp/fifo"
wait $reader
ok "--json FIFO: written in place to the reader, the FIFO stays a FIFO" \
  $((st || $(json_ok "$tmp/from-fifo"; echo $?) || $([ -p "$tmp/fifo" ]; echo $?)))

# a read-only folder: refused before the run, the user's file there untouched
mkdir "$tmp/ro"
echo "users report" >"$tmp/ro/report.json"
chmod 666 "$tmp/ro/report.json"
chmod 555 "$tmp/ro"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  "${as_user[@]}" true 2>/dev/null || as_user=(none)
fi
if [ "${as_user[0]:-}" = none ]; then
  skip "--json in a read-only folder" "running as root without setpriv"
else
  run "${as_user[@]}" "$ccmm" run -q "$job" --json "$tmp/ro/report.json"
  ok "--json in a read-only folder: exit 2 before the run, the existing file untouched, nothing left" \
    $(( (st != 2) || $(grep -qF "cannot write the JSON report to '$tmp/ro/report.json'" "$tmp/err"; echo $?) || \
        $([ "$(cat "$tmp/ro/report.json")" = "users report" ]; echo $?) || $(leftovers "$tmp/ro" | grep -qx 0; echo $?) || \
        $(grep -q '^result:' "$tmp/out"; [ $? -ne 0 ]; echo $?) ))
fi
chmod 755 "$tmp/ro"

# a run that cannot go on (a deadlock between waits): no report, the existing one kept whole
echo "previous report" >"$tmp/kept.json"
(cd "$src/tests/bad" && "$ccmm" run -q deadlock.job --json "$tmp/kept.json" --csv "$tmp/kept.csv" >"$tmp/out" 2>"$tmp/err")
st=$?
ok "a failed run: exit 2, the existing file kept whole, no CSV, no temporary" \
  $(( (st != 2) || $([ "$(cat "$tmp/kept.json")" = "previous report" ]; echo $?) || $([ ! -e "$tmp/kept.csv" ]; echo $?) || \
      $(leftovers "$tmp" | grep -qx 0; echo $?) ))

# a signal while the report is pending removes the temporary and keeps the old file
cat >"$tmp/forever.job" <<'EOF'
[t]
actor = guest_task
loops = 100000000
op = alloc b 4k
op = free b
EOF
echo "old" >"$tmp/sig.json"
"$ccmm" run -q "$tmp/forever.job" --json "$tmp/sig.json" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(leftovers "$tmp")" -gt 0 ] && break; sleep 0.05; done
pending=$(leftovers "$tmp")
kill -TERM $pid
wait $pid
st=$?
ok "SIGTERM during a run: the pending temporary is removed, the old file kept" \
  $(( (pending != 1) || (st != 143) || $(leftovers "$tmp" | grep -qx 0; echo $?) || $([ "$(cat "$tmp/sig.json")" = old ]; echo $?) ))

# a regular file is replaced whole, through a temporary beside it, keeping its mode
echo "x" >"$tmp/mode.json"
chmod 640 "$tmp/mode.json"
ln -s mode.json "$tmp/link.json"
run "$ccmm" run -q "$job" --json "$tmp/link.json"
ok "--json through a symbolic link: the target replaced, mode kept, the link kept" \
  $((st || $(json_ok "$tmp/mode.json"; echo $?) || $([ -L "$tmp/link.json" ]; echo $?) || \
     $(stat -c %a "$tmp/mode.json" | grep -qx 640; echo $?)))

# ---- several jobs, sections, check ---------------------------------------------
run "$ccmm" run -q "$job" cache-alias.job --json "$tmp/two.json"
python3 - "$tmp/two.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["job file"] for r in d["runs"]] == ["tdx-shared-dma.job", "cache-alias.job"], d.keys()
assert d["result"]["exit_status"] == 0
EOF
a=$?
ok "two job files: run in turn, one JSON with both under \"runs\"" $((st || a || $(grep -c '^result:' "$tmp/out" | grep -qx 2; echo $?)))

# the worst status wins: a job not as expected (exit 1) beside one that is
cat >"$tmp/unexpected.job" <<'EOF'
[t]
actor = guest_task
op = alloc b 4k
op = read b verify=0x11   ; fresh pages read as zeros: -EBADMSG, an op error
EOF
run "$ccmm" run -q "$job" "$tmp/unexpected.job"
ok "two job files: the exit status is the worst run's" $(( st != 1 ))

run "$ccmm" run -q --section driver --section nic "$job" --json "$tmp/sect.json"
a=$st
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [j["jobname"] for j in d["jobs"]] == ["driver", "nic"]' "$tmp/sect.json"
b=$?
run "$ccmm" run -q --section nick "$job"
ok "--section: only the named sections run; an unknown one is exit 2 with the nearest" \
  $((a || b || (st != 2) || $(grep -qF "did you mean 'nic'?" "$tmp/err"; echo $?)))

run "$ccmm" check "$job" cache-alias.job
a=$st; grep -c ': ok: ' "$tmp/out" | grep -qx 2; b=$?
run "$ccmm" run --parse-only "$job"
c=$st; grep -q '^result:' "$tmp/out"; d=$?
run "$ccmm" check "$src/tests/bad/unknown-op.job"
ok "check and run --parse-only validate without running; a bad job is exit 2 at its line" \
  $((a || b || c || (d == 0) || (st != 2) || $(grep -q 'unknown-op.job:[0-9]*: ' "$tmp/err"; echo $?)))

# ---- fio syntax in a job that runs -------------------------------------------------
cat >"$tmp/fio.job" <<'EOF'
[global]
kb_base = 1000               # k is 1000 here, KiB 1024
seed = ${CCMM_TEST_SEED}

[t]
actor = guest_task
op = alloc a ${CCMM_TEST_SIZE}   ; from the environment
op = alloc b 8k:4k#reversed, no space before the comment
op = alloc c 4KiB
op = write c len=1k;1000 bytes
EOF
CCMM_TEST_SEED=7 CCMM_TEST_SIZE=64k "$ccmm" run -q "$tmp/fio.job" --json "$tmp/fio.json" >"$tmp/out" 2>"$tmp/err"
st=$?
python3 - "$tmp/fio.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
g = d["global options"]
assert g["kb_base"] == 1000 and g["seed"] == 7, g
ops = d["jobs"][0]["job options"]["op"]
assert ops[0] == "alloc name=a size=64k zero=no", ops
assert ops[1] == "alloc name=b size=8k:4k zero=no", ops
assert ops[3] == "write obj=c len=1k pattern=0x5a", ops
EOF
ok "fio syntax: \${VAR}, inline # and ; comments, a reversed LO:HI range, kb_base = 1000" $((st || $?))

run env -u CCMM_TEST_SEED "$ccmm" run "$tmp/fio.job"
ok "an unset \${VAR} is exit 2 naming it at its line" \
  $(( (st != 2) || $(grep -qF "fio.job:3: environment variable 'CCMM_TEST_SEED' is not set" "$tmp/err"; echo $?) ))

# ---- discoverability --------------------------------------------------------------
run "$ccmm" ops global
ok "ops global lists the engine's and every run extension's [global] keys" \
  $((st || $(for k in platform seed mode kb_base sgx_reclaim swap demotion_order skip_cache_flush cgroupfs expect; do
      grep -q "^  $k " "$tmp/out" || exit 1; done; echo $?)))

run "$ccmm" costs
costs_listed=$(awk '/^COST/{c=1; next} /^$/{c=0} c' "$tmp/out" | wc -l)
costs_json=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["platform"]["cost"]))' "$tmp/eq.json")
ok "costs lists every registered cost ($costs_listed) with default and source, as the JSON's platform has them ($costs_json)" \
  $((st || (costs_listed != costs_json) || (costs_listed < 30) || $(grep -q '^swiotlb_bounce\|^ewb_ns\|^page_fault_ns' "$tmp/out"; echo $?)))

run "$ccmm" platform-keys
ok "platform-keys lists every section and its keys" \
  $((st || $(for k in '\[platform\]' '\[node:N\]' '\[device:NAME\]' '\[iommu:NAME\]' '\[cost\]' '  swiotlb_force ' '  min_align_mask '; do
      grep -q "$k" "$tmp/out" || exit 1; done; echo $?)))

run "$ccmm" run "$job" --json "$tmp/seed.json"
ok "reports cite 'seed thread NNN' with its subject, never a bare [seed NNN]" $((st || \
  $("$ccmm" run tdx-private-dma.job 2>/dev/null | grep -q 'from: seed thread 00[0-4] ("'; echo $?) || \
  $("$ccmm" run tdx-private-dma.job 2>/dev/null | grep -q '\[seed '; [ $? -ne 0 ]; echo $?)))

# the search path: a job and a platform by name, from CCMM_PATH
mkdir -p "$tmp/path/jobs" "$tmp/path/platforms" "$tmp/elsewhere"
cp "$src/platforms/sev-guest.ini" "$tmp/path/platforms/my-sev.ini"
printf '[global]\nplatform = my-sev\n[t]\nactor = guest_task\nop = alloc b 4k\n' >"$tmp/path/jobs/by-name.job"
(cd "$tmp/elsewhere" && CCMM_PATH="/nonexistent:$tmp/path" "$ccmm" check by-name >"$tmp/out" 2>"$tmp/err")
st=$?
ok "CCMM_PATH: a job and its platform found by name (extension added)" \
  $((st || $(grep -q "by-name.job: ok: .*mode sev)" "$tmp/out"; echo $?)))
(cd "$tmp/elsewhere" && CCMM_PATH="$tmp/path" "$ccmm" platform my-sev >"$tmp/out" 2>&1)
a=$?
(cd "$tmp/elsewhere" && "$ccmm" run no-such-job >"$tmp/out" 2>"$tmp/err")
ok "platform P on the search path; a job found nowhere is exit 2 saying where it looked" \
  $((a || ($? != 2) || $(grep -qF "job file 'no-such-job' cannot be found (here, on CCMM_PATH" "$tmp/err"; echo $?)))

# ---- completion ------------------------------------------------------------------
cat >"$tmp/complete.sh" <<'EOF'
source "$1"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _ccmm; echo "${COMPREPLY[*]}"; }
[ "$(comp ccmm ru)" = "run rules" ] || { echo "# commands: $(comp ccmm ru)"; exit 1; }
[ "$(comp ccmm run --pa)" = "--parse-only" ] || { echo "# run options: $(comp ccmm run --pa)"; exit 1; }
[ "$(comp ccmm states --mode sev)" = "sev sev-snp" ] || { echo "# modes: $(comp ccmm states --mode sev)"; exit 1; }
[ "$(comp ccmm ops gl)" = "global" ] || { echo "# ops global: $(comp ccmm ops gl)"; exit 1; }
[ "$(comp ccmm ops vf)" = "vfio" ] || { echo "# kinds: $(comp ccmm ops vf)"; exit 1; }
[ "$(comp ccmm trace r)" = "reduce" ] || { echo "# sub-commands: $(comp ccmm trace r)"; exit 1; }
[ "$(comp ccmm trace w)" = "whatif" ] || { echo "# sub-commands: $(comp ccmm trace w)"; exit 1; }
[ "$(comp ccmm trace agree --de)" = "--debugfs=" ] || { echo "# trace options: $(comp ccmm trace agree --de)"; exit 1; }
EOF
bash "$tmp/complete.sh" "$completion"
ok "the generated bash completion completes commands, options, modes, kinds, sub-commands" $?

# ---- help and man cover the same commands ------------------------------------------
run "$ccmm" help
cmds=$(awk '/^commands:/{c=1; next} /^$/{c=0} c && /^  [a-z]/{print $1}' "$tmp/out")
bad=0
for c in $cmds; do "$ccmm" "$c" --help >/dev/null 2>&1 || { say "$c --help failed"; bad=1; }; done
ok "every command of 'ccmm help' answers --help with exit 0 ($(echo $cmds | wc -w) commands)" $bad

# ---- trace agree / whatif through the trace command's table -------------------------
rec=$src/tests/recordings/e1000
run "$ccmm" trace agree --json x "$rec"
a=$st; grep -qF "ccmm trace agree: --json is not one of its options" "$tmp/err"; b=$?
run "$ccmm" trace whatif "$rec" --json=-
c=$st; json_ok "$tmp/out"; d=$?
grep -q '^what-if: ' "$tmp/err"; e=$?
run "$ccmm" trace agree --platform="$rec/platform.ini" --debugfs "$rec/after" "$rec/trace.zst"
ok "trace agree/whatif: options from the table (--opt=value too), one not its own is exit 2, whatif --json - on stdout" \
  $(( (a != 2) || b || c || d || e || st || $(grep -qx 'agree: yes' "$tmp/out"; echo $?) ))

run "$ccmm" run -q -v "$job"
ok "-v and -q together: -q wins for the text (the result line)" $((st || $(wc -l <"$tmp/out" | grep -qx 1; echo $?)))

exit $((failed > 0))
