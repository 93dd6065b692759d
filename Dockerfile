# green-gate container action: `python -m gate.action` reads the action's INPUT_* variables and runs
# `green-gate check`. Runtime dependencies only, installed from the lock file (docs/action.md).
# The lock is made on CPython 3.11: keep the base image's Python at the same minor version.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DEBIAN_FRONTEND=noninteractive \
    GIT_PYTHON_REFRESH=quiet \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

WORKDIR /opt/green-gate

# Dependencies first: this layer is reused until the lock file changes. In the same layer (a later
# one could not make the image smaller), what the gate never loads: the packages' own test suites
# (pandas alone ships 46 MB of them) and pycountry's translations of country names (22 MB; codecarbon
# looks countries up by ISO code only). The bytecode pip compiled stays: it saves the import time.
COPY requirements/runtime.lock requirements/build.lock requirements/
RUN pip install --no-cache-dir --requirement requirements/runtime.lock \
    && site="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
    && find "$site" -type d -name tests -prune -exec rm -rf {} + \
    && rm -rf "$site/pycountry/locales" /root/.cache

COPY pyproject.toml README.md ./
COPY gate gate/
COPY templates templates/
RUN PIP_CONSTRAINT=requirements/build.lock pip install --no-cache-dir --no-deps . \
    && green-gate --version

ENTRYPOINT ["python", "-m", "gate.action"]
