# Sourced by the scripts that run tests, the demo and the benchmark: puts the project's
# Python virtual environment first on PATH, so that `python3`, `aws`, `awsume` and
# `starship` are the ones .ci/install put there with moto, boto3 and the rest. A
# virtual environment because Debian's own Python refuses `pip install` (PEP 668).
# AWSROLE_VENV names another one; without any, PATH is left as it is.
AWSROLE_VENV=${AWSROLE_VENV:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv"}
if [[ -x $AWSROLE_VENV/bin/python3 ]]; then
    export VIRTUAL_ENV="$AWSROLE_VENV" PATH="$AWSROLE_VENV/bin:$PATH"
fi
