#!/usr/bin/env bash
# Benchmark: what people do by hand today with the AWS CLI to find out why an S3 request is
# denied, against `s3medic plan --live`, on the same buckets of a local AWS emulator (moto
# server), side by side in one run.
#
#   bash scripts/bench-vs-cli.sh [--buckets N]      (default 20)
#
# It creates (or reuses) the repository's .venv, installs the pinned moto server and AWS CLI v1
# there when missing, builds s3medic in release mode, starts moto on a free port of 127.0.0.1 (and
# stops it at exit), and sets up N buckets, each with one object, a bucket policy and Block Public
# Access; some are broken (an explicit Deny for the reader in the bucket policy, or an SSE-KMS
# object the reader may not decrypt). Then, per bucket, it times
#   (a) the manual routine: aws sts get-caller-identity, aws s3 ls, aws s3 cp up and down,
#       aws s3api get-bucket-policy, aws s3api get-public-access-block (each with --endpoint-url);
#   (b) s3medic plan --live for the reader's GetObject of the object (--endpoint-url);
# and prints the time of each and their ratio. Nothing outside the temporary directory and .venv
# is touched; AWS credentials are dummies for the emulator and no real AWS endpoint is called.
set -euo pipefail
cd "$(dirname "$0")/.."

BUCKETS=20
usage() {
  echo "usage: bash scripts/bench-vs-cli.sh [--buckets N]" >&2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --buckets) [ $# -ge 2 ] || { usage; exit 1; }; BUCKETS="$2"; shift 2 ;;
    --buckets=*) BUCKETS="${1#--buckets=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument \`$1\`" >&2; usage; exit 1 ;;
  esac
done
case "$BUCKETS" in
  ''|*[!0-9]*|0) echo "error: --buckets needs a positive number, got \`$BUCKETS\`" >&2; exit 1 ;;
esac

MOTO_VERSION="5.2.5"
AWSCLI_VERSION="1.46.3"
VENV="$PWD/.venv"

for tool in cargo python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is required" >&2
    exit 1
  fi
done

# --- the Python venv: moto server and the AWS CLI v1, pinned ---------------------------------
if [ ! -x "$VENV/bin/pip" ]; then
  echo "bench: creating Python venv $VENV" >&2
  python3 -m venv "$VENV" || {
    echo "error: \`python3 -m venv $VENV\` failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  }
fi
installed() { "$VENV/bin/pip" show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
if [ "$(installed moto)" != "$MOTO_VERSION" ] || [ ! -x "$VENV/bin/moto_server" ]; then
  echo "bench: installing moto $MOTO_VERSION into $VENV" >&2
  "$VENV/bin/pip" install --disable-pip-version-check --quiet \
    "moto[server,s3,s3control,iam,kms,cloudfront,sts]==$MOTO_VERSION"
fi
if [ "$(installed awscli)" != "$AWSCLI_VERSION" ] || [ ! -x "$VENV/bin/aws" ]; then
  echo "bench: installing awscli $AWSCLI_VERSION into $VENV" >&2
  "$VENV/bin/pip" install --disable-pip-version-check --quiet "awscli==$AWSCLI_VERSION"
fi
AWS="$VENV/bin/aws"
PY="$VENV/bin/python"

# --- s3medic, release build --------------------------------------------------------------------
echo "bench: cargo build --release (the first build takes several minutes)" >&2
cargo build --release --bin s3medic >&2
S3MEDIC="${CARGO_TARGET_DIR:-$PWD/target}/release/s3medic"
[ -x "$S3MEDIC" ] || { echo "error: $S3MEDIC was not built" >&2; exit 1; }

# --- a private AWS configuration for the emulator ----------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/s3medic-bench.XXXXXX")"
MOTO_PID=""
cleanup() {
  if [ -n "$MOTO_PID" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/aws-config" <<'EOF'
[default]
region = us-east-1
s3 =
    addressing_style = path
EOF
: >"$WORK/aws-credentials"
export AWS_CONFIG_FILE="$WORK/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL 2>/dev/null || true

# --- moto server on a free port ------------------------------------------------------------------
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
ENDPOINT="http://127.0.0.1:$PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
"$PY" - "$ENDPOINT" <<'EOF' || { echo "error: moto server did not start (log: see above)" >&2; cat "$WORK/moto.log" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
EOF

# --- N buckets: an object, a bucket policy, Block Public Access; some broken --------------------
ACCOUNT=123456789012
READER="arn:aws:iam::$ACCOUNT:user/bench-reader"
KEY="data/report.csv"
"$PY" - "$ENDPOINT" "$BUCKETS" "$WORK/states" <<'EOF'
import json, sys
import boto3

endpoint, n, states_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
s3, iam, kms = boto3.client("s3", **kw), boto3.client("iam", **kw), boto3.client("kms", **kw)
account = "123456789012"
reader = f"arn:aws:iam::{account}:user/bench-reader"
iam.create_user(UserName="bench-reader")
# The reader may read every bench bucket (but not decrypt with KMS keys).
iam.put_user_policy(UserName="bench-reader", PolicyName="read-bench", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": ["arn:aws:s3:::bench-*", "arn:aws:s3:::bench-*/*"]}]}))
key_id = kms.create_key(Description="bench key")["KeyMetadata"]["KeyId"]
states = []
for i in range(1, n + 1):
    b = f"bench-{i:03d}"
    s3.create_bucket(Bucket=b)
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    statements = [{"Sid": "AllowReader", "Effect": "Allow", "Principal": {"AWS": reader},
                   "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]
    put = dict(Bucket=b, Key="data/report.csv", Body=b"id,value\n1,42\n")
    if i % 4 == 2:
        state = "deny"
        statements.append({"Sid": "DenyReader", "Effect": "Deny", "Principal": {"AWS": reader},
                           "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/data/*"})
    elif i % 4 == 0:
        state = "kms"
        put.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    else:
        state = "ok"
    s3.put_object(**put)
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    states.append(f"{b} {state}")
with open(states_file, "w") as f:
    f.write("\n".join(states) + "\n")
EOF

# --- timing helpers ------------------------------------------------------------------------------
# Microseconds since the epoch (bash 5's EPOCHREALTIME; python otherwise).
now_us() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t="${EPOCHREALTIME/[.,]/}"
    echo "$t"
  else
    "$PY" -c 'import time; print(int(time.time() * 1e6))'
  fi
}
secs() { "$PY" -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.2f}')" "$1"; }

echo "hello" >"$WORK/upload.txt"
# One line from a plan JSON: the causes found, the changes and the manual steps planned.
cat >"$WORK/says.py" <<'EOF'
import json, sys
plan = json.load(open(sys.argv[1]))
causes = sorted({f["cause"] for f in plan["findings"]})
print("denied: " + ", ".join(causes)
      + f"; {len(plan['changes'])} change(s), {len(plan['manual_steps'])} manual step(s)")
EOF

# The manual routine on one bucket; prints the number of calls that failed.
manual() {
  local b="$1" failed=0
  "$AWS" --endpoint-url "$ENDPOINT" sts get-caller-identity >/dev/null 2>&1 || failed=$((failed + 1))
  "$AWS" --endpoint-url "$ENDPOINT" s3 ls "s3://$b" --recursive >/dev/null 2>&1 || failed=$((failed + 1))
  "$AWS" --endpoint-url "$ENDPOINT" s3 cp "$WORK/upload.txt" "s3://$b/upload.txt" >/dev/null 2>&1 || failed=$((failed + 1))
  "$AWS" --endpoint-url "$ENDPOINT" s3 cp "s3://$b/$KEY" "$WORK/download.csv" >/dev/null 2>&1 || failed=$((failed + 1))
  "$AWS" --endpoint-url "$ENDPOINT" s3api get-bucket-policy --bucket "$b" >/dev/null 2>&1 || failed=$((failed + 1))
  "$AWS" --endpoint-url "$ENDPOINT" s3api get-public-access-block --bucket "$b" >/dev/null 2>&1 || failed=$((failed + 1))
  echo "$failed"
}

# s3medic on one bucket; prints its exit code (0 allowed, 2 changes planned, else an error).
medic() {
  local b="$1" code=0
  "$S3MEDIC" plan --live --endpoint-url "$ENDPOINT" --principal "$READER" \
    --operation GetObject --bucket "$b" --key "$KEY" --output json \
    >"$WORK/plan-$b.json" 2>"$WORK/plan-$b.err" || code=$?
  echo "$code"
}

# One warm-up of each (Python imports, page cache), not counted.
manual bench-001 >/dev/null
medic bench-001 >/dev/null

printf '%s\n' "AWS CLI $("$AWS" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2), moto $MOTO_VERSION, $("$S3MEDIC" --version), $BUCKETS buckets"
printf '%-10s %-6s %13s %8s %21s %7s  %s\n' bucket state "aws CLI (6)" failed "s3medic plan --live" ratio "s3medic says"
total_manual=0
total_medic=0
errors=0
while read -r b state; do
  t0=$(now_us)
  failed=$(manual "$b")
  t1=$(now_us)
  code=$(medic "$b")
  t2=$(now_us)
  dm=$((t1 - t0))
  ds=$((t2 - t1))
  total_manual=$((total_manual + dm))
  total_medic=$((total_medic + ds))
  case "$code" in
    0) says="allowed" ;;
    2) says="$("$PY" "$WORK/says.py" "$WORK/plan-$b.json")" ;;
    *) says="error (exit $code): $(head -c 200 "$WORK/plan-$b.err")"; errors=$((errors + 1)) ;;
  esac
  ratio=$("$PY" -c "import sys; print(f'{int(sys.argv[1]) / max(int(sys.argv[2]), 1):.1f}x')" "$dm" "$ds")
  printf '%-10s %-6s %11s s %8s %19s s %7s  %s\n' "$b" "$state" "$(secs "$dm")" "$failed/6" "$(secs "$ds")" "$ratio" "$says"
done <"$WORK/states"

mean_manual=$((total_manual / BUCKETS))
mean_medic=$((total_medic / BUCKETS))
echo
printf 'total:    aws CLI %s s, s3medic %s s\n' "$(secs "$total_manual")" "$(secs "$total_medic")"
printf 'per bucket (mean): aws CLI %s s (6 calls, %s s per call), s3medic plan --live %s s; ratio %s\n' \
  "$(secs "$mean_manual")" "$(secs $((mean_manual / 6)))" "$(secs "$mean_medic")" \
  "$("$PY" -c "import sys; print(f'{int(sys.argv[1]) / max(int(sys.argv[2]), 1):.1f}x')" "$total_manual" "$total_medic")"
if [ "$errors" -ne 0 ]; then
  echo "error: s3medic failed on $errors bucket(s)" >&2
  exit 1
fi
