# One image for every crm_cti process (web, worker, beat, sandbox); docker-compose.yml picks
# the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/crm_cti
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crm_cti ./crm_cti
RUN pip install --no-cache-dir . && mkdir -p /var/lib/crm_cti
COPY manage.py ./
COPY templates ./templates
COPY static ./static
EXPOSE 8000 8900
CMD ["uvicorn", "crm_cti.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
