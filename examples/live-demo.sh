#!/usr/bin/env bash
# The main job against a local AWS emulator: plan -> apply -> rollback, end to end.
#
# Starts a private moto server on a free 127.0.0.1 port, sets up a broken case through boto3
# (bucket `demo-reports` with `q1.csv`; user `bob` allowed only s3:ListBucket), then runs:
#   explain --live (denied) -> plan --live -o plan.json -> apply --yes -> explain --live (allowed)
#   -> plan --live (nothing to do) -> rollback --yes -> explain --live (denied again)
# and checks every exit code. Needs the emulator that `bash scripts/test.sh` installs into .venv
# (or S3MEDIC_MOTO_SERVER / S3MEDIC_PYTHON pointing at a moto 5.2.5 install). No AWS account needed.
#
# Usage: bash examples/live-demo.sh            (builds and runs s3medic with cargo)
#        S3MEDIC=path/to/s3medic bash examples/live-demo.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
moto="${S3MEDIC_MOTO_SERVER:-$here/.venv/bin/moto_server}"
python="${S3MEDIC_PYTHON:-$(dirname "$moto")/python}"
if [[ ! -x "$moto" || ! -x "$python" ]]; then
  echo "live-demo: the emulator is missing: run \`bash scripts/test.sh\` once (it installs moto into .venv)" >&2
  exit 1
fi
if [[ -n "${S3MEDIC:-}" ]]; then
  s3medic=("$S3MEDIC")
else
  cargo build -q --manifest-path "$here/Cargo.toml"
  s3medic=("$here/target/debug/s3medic")
fi

work="$(mktemp -d)"
port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if "$python" -c "import urllib.request,sys; urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

echo "== setting up the broken case on $endpoint"
ENDPOINT="$endpoint" "$python" - <<'PY'
import json, os
import boto3
ep = os.environ["ENDPOINT"]
s3 = boto3.client("s3", endpoint_url=ep)
iam = boto3.client("iam", endpoint_url=ep)
s3.create_bucket(Bucket="demo-reports")
s3.put_object(Bucket="demo-reports", Key="q1.csv", Body=b"region,total\neu,42\n")
iam.create_user(UserName="bob")
iam.put_user_policy(UserName="bob", PolicyName="list-only", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                   "Resource": "arn:aws:s3:::demo-reports"}]}))
PY

conn=(--endpoint-url "$endpoint")
req=(--principal arn:aws:iam::123456789012:user/bob --operation GetObject --bucket demo-reports --key q1.csv)

# Runs s3medic, prints its output, and checks its exit code.
expect() {
  local want=$1; shift
  echo
  echo "\$ s3medic $*"
  set +e
  "${s3medic[@]}" "$@"
  local got=$?
  set -e
  if [[ $got -ne $want ]]; then
    echo "live-demo: expected exit $want, got $got" >&2
    exit 1
  fi
}

expect 2 explain --live "${conn[@]}" "${req[@]}"
expect 2 plan --live "${conn[@]}" "${req[@]}" -o "$work/plan.json"
expect 0 apply "$work/plan.json" --yes --snapshot-dir "$work/snapshots" "${conn[@]}"
expect 0 explain --live "${conn[@]}" "${req[@]}"
expect 0 plan --live "${conn[@]}" "${req[@]}"
snapshot="$(ls "$work"/snapshots/*.json)"
expect 0 rollback "$snapshot" --yes "${conn[@]}"
expect 2 explain --live "${conn[@]}" "${req[@]}"
echo
echo "live-demo: plan -> apply -> rollback worked against the emulator"
