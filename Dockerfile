# One image per service, from the repository root:
#   docker build --build-arg SERVICE=campaigns --build-arg PORTS="8082 8090" -t switchboard-campaigns .
# SERVICE is a directory under services/; PORTS documents what it listens on (its API, its health port).
# The image holds the service's locked dependency tree only (`--no-dev`: no devkit, no embedded servers).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<a directory under services/>" && exit 1)
RUN pip install --no-cache-dir uv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/ services/
RUN uv sync --frozen --no-dev --no-editable --package "switchboard-${SERVICE}" \
 && printf '#!/bin/sh\nexec python -m %s.main "$@"\n' "switchboard_$(echo "${SERVICE}" | tr - _)" \
      > /src/.venv/bin/switchboard-service \
 && chmod 755 /src/.venv/bin/switchboard-service

FROM ${PYTHON_IMAGE}
ARG PORTS=8090
RUN useradd --uid 10001 --create-home switchboard
COPY --from=build /src/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 SWITCHBOARD_LOG_FORMAT=json
USER 10001
EXPOSE ${PORTS}
CMD ["switchboard-service"]
