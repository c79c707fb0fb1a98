# The bounceledger service image (used by docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY adapters ./adapters
COPY projections ./projections
COPY api ./api
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8000
CMD ["bounceledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
