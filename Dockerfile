FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost DJANGO_SETTINGS_MODULE=bizops.settings.production \
    python manage.py collectstatic --noinput -v0 && useradd --system --uid 1000 bizops && mkdir -p /app/var && chown bizops /app/var
USER bizops
EXPOSE 8000
# Workers and threads: gunicorn.conf.py (WEB_CONCURRENCY sets the number of processes). No gunicorn
# access log: bizops.middleware.RequestIdMiddleware writes one line a request, with its id.
CMD ["gunicorn", "bizops.wsgi", "--bind", "0.0.0.0:8000"]
