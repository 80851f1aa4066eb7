FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY scheduler ./scheduler
COPY kits ./kits
COPY storage ./storage
COPY circlebot ./circlebot
RUN pip install --no-cache-dir ".[slack]" && useradd --create-home circlebot
USER circlebot
ENV CIRCLEBOT_DATABASE_URL=sqlite:////home/circlebot/circlebot.db
ENTRYPOINT ["circlebot"]
CMD ["console"]
