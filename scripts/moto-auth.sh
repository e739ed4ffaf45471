#!/usr/bin/env bash
# Starts a moto S3 server that verifies SigV4 signatures (IAM auth after five setup calls: the readiness probe and four IAM calls), creates a user
# with an access key allowed s3:*, and prints `export` lines for the tests. Usage: eval "$(moto-auth.sh PORT)"
set -euo pipefail
port=${1:-5995}
log=${ACP_LOG_DIR:-/tmp}/moto-auth.log
INITIAL_NO_AUTH_ACTION_COUNT=5 python3 -m moto.server -H 127.0.0.1 -p "$port" > "$log" 2>&1 &
echo "export ACP_TEST_S3_AUTH_PID=$!"
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
kill -0 "$!" 2>/dev/null || { echo "moto did not start on 127.0.0.1:$port" >&2; exit 1; }
e="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup AWS_DEFAULT_REGION=us-east-1
aws --endpoint-url "$e" iam create-user --user-name acp-drill-test >/dev/null
read -r ak sk < <(aws --endpoint-url "$e" iam create-access-key --user-name acp-drill-test --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
arn=$(aws --endpoint-url "$e" iam create-policy --policy-name acp-drill-s3 --query Policy.Arn --output text \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}')
aws --endpoint-url "$e" iam attach-user-policy --user-name acp-drill-test --policy-arn "$arn"
echo "export ACP_TEST_S3_AUTH_ENDPOINT=$e ACP_TEST_S3_AUTH_KEY=$ak ACP_TEST_S3_AUTH_SECRET=$sk"
