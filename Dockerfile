# Circlebot: `circlebot run` in a slim image, as a user without privileges.
# The build stage installs exactly as .ci/run does (a venv, pip upgraded, the project with pip);
# the runtime stage copies only that venv, so no build tool or source tree ships.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY scheduler ./scheduler
COPY kits ./kits
COPY storage ./storage
COPY circlebot ./circlebot
# hadolint ignore=DL3013
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --quiet --no-cache-dir --upgrade pip \
 && /opt/venv/bin/python -m pip install --quiet --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin circlebot
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    CIRCLEBOT_LOG_FORMAT=json \
    CIRCLEBOT_DATABASE_URL=sqlite:////home/circlebot/circlebot.db
USER 10001
WORKDIR /home/circlebot
EXPOSE 3000
# 200 from /healthz: the database answers, the scheduler runs (or stands by), the adapters are connected.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]
ENTRYPOINT ["circlebot"]
CMD ["run"]
